"""Plausible wrong answers for assignment 8.2. Each passes the public tests and is caught by a
hidden one, or by calling a function its question forbids."""

WRONG = {
    "q1": [
        # Every convolution reads in_channels, including the second and later ones of a block:
        # invisible in blocks of one convolution (VGG-11's first blocks) or with in == out.
        '''
def vgg_block(num_convs, in_channels, out_channels, batch_norm=False):
    layers = []
    for _ in range(num_convs):
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(nn.ReLU())
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)
''',
        # Writes the first convolution apart and forgets the padding on the later ones: each
        # of them shrinks the map by 2, which no public check runs (their blocks that are run
        # have one convolution).
        '''
def vgg_block(num_convs, in_channels, out_channels, batch_norm=False):
    norm = [nn.BatchNorm2d(out_channels)] if batch_norm else []
    layers = [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1), *norm, nn.ReLU()]
    for _ in range(num_convs - 1):
        norm = [nn.BatchNorm2d(out_channels)] if batch_norm else []
        layers += [nn.Conv2d(out_channels, out_channels, kernel_size=3), *norm, nn.ReLU()]
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)
''',
        # Pools with ceil_mode=True "so that no pixel is lost": the same on the public test's
        # even sides, one row and column more on odd ones.
        '''
def vgg_block(num_convs, in_channels, out_channels, batch_norm=False):
    layers = []
    for _ in range(num_convs):
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(nn.ReLU())
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True))
    return nn.Sequential(*layers)
''',
        # Sizes each batch norm by the block's input channels, as if it normalised what the
        # convolution reads: the public block with batch norm is only inspected, never run.
        '''
def vgg_block(num_convs, in_channels, out_channels, batch_norm=False):
    layers, c_in = [], in_channels
    for _ in range(num_convs):
        layers.append(nn.Conv2d(c_in, out_channels, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(in_channels))
        layers.append(nn.ReLU())
        c_in = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)
''',
        # Normalises once, after the block's first convolution only ("one batch norm per
        # block"): right for the public block of one convolution.
        '''
def vgg_block(num_convs, in_channels, out_channels, batch_norm=False):
    layers = []
    for i in range(num_convs):
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        if batch_norm and i == 0:
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(nn.ReLU())
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)
''',
    ],
    "q2": [
        # Assumes the paper's five blocks, dividing the side by 32 whatever len(arch) is: right
        # for VGG-11 and VGG-16, wrong for networks with fewer or more blocks.
        '''
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
        # Rounds the halved side up, as if the pooling kept a partial window: the public sizes
        # (224 and 32 with five blocks) are multiples of 32, where floor and ceiling agree.
        '''
import math


def vgg_param_count(arch, in_channels=1, num_classes=10, input_size=224, hidden_size=4096):
    total, c_in = 0, in_channels
    for num_convs, c_out in arch:
        for _ in range(num_convs):
            total += 9 * c_in * c_out + c_out
            c_in = c_out
    side = math.ceil(input_size / 2 ** len(arch))
    sizes = (c_in * side * side, hidden_size, hidden_size, num_classes)
    for m, n in zip(sizes[:-1], sizes[1:]):
        total += m * n + n
    return total
''',
        # Builds cnnlib's VGG (on the meta device, so it costs nothing) and counts: every number
        # is right, but the question says not to build the network.
        '''
def vgg_param_count(arch, in_channels=1, num_classes=10, input_size=224, hidden_size=4096):
    from cnnlib.models.vgg import VGG

    with torch.device("meta"):
        model = VGG(arch, in_channels, num_classes, input_size, hidden_size)
    return sum(p.numel() for p in model.parameters())
''',
    ],
    "q3": [
        # Adds k - 1 per layer and ignores the strides (the jump): right for stride-1 stacks and
        # for a pooling layer at the very end, wrong once a window follows a strided layer.
        '''
def receptive_field_size(layers):
    return 1 + sum(kernel_size - 1 for kernel_size, _ in layers)
''',
        # Takes the jump to be the stride of the layer just before, not the product of all the
        # strides before: the same while at most one strided layer precedes a window, as in
        # every public stack.
        '''
def receptive_field_size(layers):
    size, jump = 1, 1
    for kernel_size, stride in layers:
        size += (kernel_size - 1) * jump
        jump = stride
    return size
''',
    ],
    "q4": [
        # "A bigger window is cheaper than two layers": counts layers, not weights (9 + 9
        # against 25 per pair of channels).
        '''
q4_answer = {"a": False, "b": False, "c": False, "d": True}
''',
        # "One more pixel, one more pixel at the end" (b), and "the field after five blocks
        # covers the whole image" (d): forgets the floors of the pooling, and that the field
        # grows by the jump, not by the image.
        '''
q4_answer = {"a": True, "b": True, "c": False, "d": False}
''',
        # "Fewer layers, fewer parameters" (c): forgets that the first dense layer reads
        # 4 times as many values when one pooling less has halved the side.
        '''
q4_answer = {"a": True, "b": False, "c": True, "d": True}
''',
    ],
}
