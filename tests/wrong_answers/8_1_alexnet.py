"""Plausible wrong answers for assignment 8.1. Each passes the public tests and is caught by a
hidden one, or by calling a function its question forbids."""

WRONG = {
    "q1": [
        # Forgets conv1's padding of 1: at 224 and 67 pixels (n = 0 or 3 mod 4) the floor hides
        # it, for inputs with n = 1 or 2 mod 4 conv1's output is one pixel short.
        '''
def alexnet_sides(input_size):
    sides = [(input_size - 11) // 4 + 1]
    sides.append((sides[-1] - 3) // 2 + 1)
    sides.append(sides[-1])
    sides.append((sides[-1] - 3) // 2 + 1)
    sides += [sides[-1]] * 3
    sides.append((sides[-1] - 3) // 2 + 1)
    return sides
''',
        # Adds conv1's padding once (n + p) instead of on both sides (n + 2p): the same as the
        # right formula unless n = 1 mod 4, which neither 224 nor 67 is.
        '''
def alexnet_sides(input_size):
    sides = [(input_size + 1 - 11) // 4 + 1]  # conv1, padding 1
    sides.append((sides[-1] - 3) // 2 + 1)  # pool1
    sides.append(sides[-1])  # conv2 keeps the size
    sides.append((sides[-1] - 3) // 2 + 1)  # pool2
    sides += [sides[-1]] * 3  # conv3, conv4, conv5 keep it too
    sides.append((sides[-1] - 3) // 2 + 1)  # pool3
    return sides
''',
        # Hard-codes the two sizes of the text and guesses the rest by dividing by the strides:
        # exactly what the public check asks, rarely right elsewhere.
        '''
def alexnet_sides(input_size):
    known = {224: [54, 26, 26, 12, 12, 12, 12, 5], 67: [15, 7, 7, 3, 3, 3, 3, 1]}
    if input_size in known:
        return known[input_size]
    side = input_size // 4 - 2
    return [side, side // 2, side // 2, side // 4, side // 4, side // 4, side // 4, side // 8]
''',
    ],
    "q2": [
        # Counts conv1 as reading one channel, as for the section's greyscale images, whatever
        # in_channels says: right for both public models, wrong for colour inputs.
        '''
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
        # Sizes the output layer for Fashion-MNIST's 10 classes whatever num_classes says: both
        # public models have 10 classes.
        '''
def alexnet_param_counts(input_size=224, conv_channels=(96, 256, 384, 384, 256),
                         hidden_size=4096, num_classes=10, in_channels=1):
    kernels = (11, 5, 3, 3, 3)
    conv, c_in = 0, in_channels
    for c_out, k in zip(conv_channels, kernels):
        conv += c_out * c_in * k * k + c_out
        c_in = c_out
    side = alexnet_sides(input_size)[-1]
    sizes = (c_in * side * side, hidden_size, hidden_size, 10)
    dense = sum(n * m + n for m, n in zip(sizes[:-1], sizes[1:]))
    return conv, dense
''',
        # Builds cnnlib's AlexNet and counts its parameters instead of using the formulas:
        # every number is right, but the question forbids building the network.
        '''
def alexnet_param_counts(input_size=224, conv_channels=(96, 256, 384, 384, 256),
                         hidden_size=4096, num_classes=10, in_channels=1):
    from cnnlib.models.alexnet import AlexNet

    with torch.device("meta"):
        model = AlexNet(num_classes, in_channels, input_size, conv_channels, hidden_size)
    conv = sum(p.numel() for m in model.modules() if isinstance(m, torch.nn.Conv2d)
               for p in m.parameters())
    dense = sum(p.numel() for m in model.modules() if isinstance(m, torch.nn.Linear)
                for p in m.parameters())
    return conv, dense
''',
    ],
    "q3": [
        # Zeroes elements with probability p but forgets to divide the survivors by 1 - p, so
        # the expected output shrinks in training mode (and no longer matches evaluation mode).
        '''
def dropout(X, p, training):
    if not training:
        return X
    mask = (torch.rand(X.shape) > p).to(X.dtype)
    return mask * X
''',
        # Keeps an element when its draw is below p, so it drops with probability 1 - p: the
        # same at the public test's p = 0.5 (and p = 0 and 1 are special cases), not at 0.1.
        '''
def dropout(X, p, training):
    if not training or p == 0:
        return X
    if p == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape) < p).to(X.dtype)
    return mask * X / (1 - p)
''',
        # Seeds the generator inside dropout "for reproducible results": every call draws the
        # same mask, which no single call can show.
        '''
def dropout(X, p, training):
    if not training or p == 0:
        return X
    if p == 1:
        return torch.zeros_like(X)
    torch.manual_seed(0)
    mask = (torch.rand(X.shape) > p).to(X.dtype)
    return mask * X / (1 - p)
''',
        # Calls PyTorch's dropout instead of writing it: right in every mode, but the question
        # asks for dropout from scratch and forbids torch.nn.functional.dropout.
        '''
from torch.nn import functional as F


def dropout(X, p, training):
    return F.dropout(X, p, training=training)
''',
    ],
}
