"""Plausible wrong answers for assignment 8.1. Each passes the public tests, fails a hidden one."""

WRONG = {
    # Forgets conv1's padding of 1: at 224 and 67 pixels (n = 0 or 3 mod 4) the floor hides
    # it, for inputs with n = 1 or 2 mod 4 conv1's output is one pixel short.
    "q1": '''
def alexnet_sides(input_size):
    sides = [(input_size - 11) // 4 + 1]
    sides.append((sides[-1] - 3) // 2 + 1)
    sides.append(sides[-1])
    sides.append((sides[-1] - 3) // 2 + 1)
    sides += [sides[-1]] * 3
    sides.append((sides[-1] - 3) // 2 + 1)
    return sides
''',
    # Counts conv1 as reading one channel, as for the section's greyscale images, whatever
    # in_channels says: right for both public models, wrong for colour inputs.
    "q2": '''
def alexnet_param_counts(input_size=224, conv_channels=(96, 256, 384, 384, 256),
                         hidden_size=4096, num_classes=10, in_channels=1):
    kernels = (11, 5, 3, 3, 3)
    conv, c_in = 0, 1
    for c_out, k in zip(conv_channels, kernels):
        conv += c_out * c_in * k * k + c_out
        c_in = c_out
    side = alexnet_sides(input_size)[-1]
    sizes = (c_in * side * side, hidden_size, hidden_size, num_classes)
    dense = sum(n * m + n for m, n in zip(sizes[:-1], sizes[1:]))
    return conv, dense
''',
    # Zeroes elements with probability p but forgets to divide the survivors by 1 - p, so
    # the expected output shrinks in training mode (and no longer matches evaluation mode).
    "q3": '''
def dropout(X, p, training):
    if not training:
        return X
    mask = (torch.rand(X.shape) > p).to(X.dtype)
    return mask * X
''',
}
