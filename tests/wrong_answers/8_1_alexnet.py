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
    "q4": [
        # "Parameters grow with the image everywhere": larger images would mean larger
        # convolutions too (b), though a convolution's weights depend only on its window and
        # channels.
        '''
q4_answer = {"a": False, "b": True, "c": True, "d": True, "e": True}
''',
        # "The dense layers grow in proportion to the channels": twice the channels, twice
        # the dense parameters (a); only the first dense layer reads the channels.
        '''
q4_answer = {"a": True, "b": False, "c": True, "d": True, "e": True}
''',
        # "Only the first dense layer depends on the image, so 4 times the pixels cannot
        # triple the dense layers" (c), and "halving two layers out of eight removes less
        # than half" (d): both forget how large the first dense layer is.
        '''
q4_answer = {"a": False, "b": False, "c": False, "d": False, "e": True}
''',
        # "A 67-pixel image leaves a 1 x 1 map, so the first dense layer is small and the
        # convolutions must hold a real share" (e): 4,096 x 4,096 weights in the second
        # dense layer alone dwarf every convolution of the quick model.
        '''
q4_answer = {"a": False, "b": False, "c": True, "d": True, "e": False}
''',
    ],
    "q5": [
        # Inverts the ratio: evaluation inputs are 1 / (1 - p) times the training ones, but
        # the question asks for training over evaluation.
        '''
q5_answer = {"ratio": 1.25, "reason": "A"}
''',
        # Takes the fraction dropped for the fraction kept.
        '''
q5_answer = {"ratio": 0.2, "reason": "A"}
''',
        # The right ratio, but believes evaluation mode must drop elements too.
        '''
q5_answer = {"ratio": 0.8, "reason": "D"}
''',
        # The right ratio, but takes the division for a fix of the gradients alone.
        '''
q5_answer = {"ratio": 0.8, "reason": "C"}
''',
    ],
}
