"""Plausible wrong answers for assignment 8.2. Each passes the public tests, fails a hidden one."""

WRONG = {
    # Every convolution reads in_channels, including the second and later ones of a block:
    # invisible in blocks of one convolution (VGG-11's first blocks) or with in == out.
    "q1": '''
def vgg_block(num_convs, in_channels, out_channels):
    layers = []
    for _ in range(num_convs):
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        layers.append(nn.ReLU())
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)
''',
    # Assumes the paper's five blocks, dividing the side by 32 whatever len(arch) is: right
    # for VGG-11 and VGG-16, wrong for networks with fewer or more blocks.
    "q2": '''
def vgg_param_count(arch, in_channels=1, num_classes=10, input_size=224, hidden_size=4096):
    total, c_in = 0, in_channels
    for num_convs, c_out in arch:
        for _ in range(num_convs):
            total += 9 * c_in * c_out + c_out
            c_in = c_out
    side = input_size // 32
    sizes = (c_in * side * side, hidden_size, hidden_size, num_classes)
    for m, n in zip(sizes[:-1], sizes[1:]):
        total += m * n + n
    return total
''',
    # Adds k - 1 per layer and ignores the strides (the jump): right for stride-1 stacks and
    # for a pooling layer at the very end, wrong once a window follows a strided layer.
    "q3": '''
def receptive_field_size(layers):
    return 1 + sum(kernel_size - 1 for kernel_size, _ in layers)
''',
}
