"""Plausible wrong answers for assignment 8.3. Each passes the public tests and is caught by a
hidden one, or by calling a function its question forbids."""

WRONG = {
    "q1": [
        # Passes `padding` to the 1x1 convolutions too: harmless for the public block (padding
        # 0), but with padding p every 1x1 convolution grows the map by 2p.
        '''
def nin_block(in_channels, out_channels, kernel_size, strides, padding, num_1x1=2):
    layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride=strides,
                        padding=padding), nn.ReLU()]
    for _ in range(num_1x1):
        layers += [nn.Conv2d(out_channels, out_channels, kernel_size=1, padding=padding),
                   nn.ReLU()]
    return nn.Sequential(*layers)
''',
        # Forgets to pass `padding` to the first convolution: the public block has padding 0,
        # every padded block comes out 2p pixels too small.
        '''
def nin_block(in_channels, out_channels, kernel_size, strides, padding, num_1x1=2):
    layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride=strides), nn.ReLU()]
    for _ in range(num_1x1):
        layers += [nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU()]
    return nn.Sequential(*layers)
''',
        # Returns cnnlib's own nin_block: the right layers, but the question asks for the
        # block built from torch.nn layers and forbids cnnlib.models.nin.
        '''
def nin_block(in_channels, out_channels, kernel_size, strides, padding, num_1x1=2):
    from cnnlib.models import nin as lib

    block = lib.nin_block(in_channels, out_channels, kernel_size, stride=strides,
                          padding=padding)
    ones = [layer for _ in range(num_1x1)
            for layer in (nn.Conv2d(out_channels, out_channels, 1), nn.ReLU())]
    return nn.Sequential(*list(block)[:2], *ones)
''',
        # Counts the first convolution among the num_1x1 (one too few 1 x 1 convolutions
        # whenever num_1x1 is given), keeping the section's block for the default: the
        # public checks build the default block and only call the other.
        '''
def nin_block(in_channels, out_channels, kernel_size, strides, padding, num_1x1=None):
    count = 2 if num_1x1 is None else num_1x1 - 1
    layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride=strides,
                        padding=padding), nn.ReLU()]
    for _ in range(max(count, 0)):
        layers += [nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU()]
    return nn.Sequential(*layers)
''',
        # Accepts num_1x1 but always builds the section's two 1 x 1 convolutions.
        '''
def nin_block(in_channels, out_channels, kernel_size, strides, padding, num_1x1=2):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride=strides, padding=padding),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
    )
''',
    ],
    "q2": [
        # Forgets the input channels in the first convolution's weights: right only for the
        # one-channel image of the public example.
        '''
def nin_block_params(in_channels, out_channels, kernel_size):
    first = out_channels * kernel_size * kernel_size + out_channels
    return first + 2 * (out_channels * out_channels + out_channels)
''',
        # Squares the input channels with the kernel, (c_i k)^2 instead of c_i k^2: a
        # misplaced parenthesis that one input channel cannot show.
        '''
def nin_block_params(in_channels, out_channels, kernel_size):
    first = (in_channels * kernel_size) ** 2 * out_channels + out_channels
    return first + 2 * (out_channels * out_channels + out_channels)
''',
        # Builds the three convolutions and counts their parameters: right, but the question
        # says to use the formula without building the block (torch.nn.Conv2d is forbidden).
        '''
def nin_block_params(in_channels, out_channels, kernel_size):
    convs = [nn.Conv2d(in_channels, out_channels, kernel_size),
             nn.Conv2d(out_channels, out_channels, 1), nn.Conv2d(out_channels, out_channels, 1)]
    return sum(p.numel() for conv in convs for p in conv.parameters())
''',
    ],
    "q3": [
        # Transposes the weight matrix before reshaping it: the same numbers when one side has
        # a single channel (the public example), the wrong mixing of channels otherwise.
        '''
def dense_to_conv1x1(dense):
    conv = nn.Conv2d(dense.in_features, dense.out_features, kernel_size=1)
    with torch.no_grad():
        conv.weight.copy_(dense.weight.T.reshape(dense.out_features, dense.in_features, 1, 1))
        conv.bias.copy_(dense.bias)
    return conv
''',
        # Builds the convolution without a bias and copies only the weights: the public dense
        # layer's bias is 0, any other bias is lost.
        '''
def dense_to_conv1x1(dense):
    conv = nn.Conv2d(dense.in_features, dense.out_features, kernel_size=1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(dense.weight.reshape(dense.out_features, dense.in_features, 1, 1))
    return conv
''',
    ],
    "q4": [
        # Writes each max-pool as "halve, then lose one": side // 2 - 1. That equals
        # (side - 3) // 2 + 1 for even sides, which is all the text's sizes meet, not for odd
        # ones.
        '''
def class_map_side(n):
    side = (n - 11) // 4 + 1
    for _ in range(3):
        side = side // 2 - 1
    return side
''',
        # Replaces the four layers by their total stride, 4 * 2 * 2 * 2 = 32, "losing two
        # windows' worth": n // 32 - 2 gives 5 at 224 and 1 at 96, and is wrong elsewhere.
        '''
def class_map_side(n):
    return n // 32 - 2
''',
        # Runs a blank image through cnnlib's NiN and reads the size: right, but the question
        # asks for the formula (cnnlib.models is forbidden).
        '''
def class_map_side(n):
    from cnnlib.models import nin as lib

    features = lib.NiN(num_classes=1, block_channels=(1, 1, 1)).net[:7].eval()
    with torch.no_grad():
        return features(torch.zeros(1, 1, n, n)).shape[-1]
''',
    ],
    "q5": [
        # "Two layers are deeper, so they compute more" (a): without a nonlinearity between
        # them two linear maps are one linear map.
        '''
q5_answer = {"a": False, "b": False, "c": True, "d": False}
''',
        # "A convolution always mixes neighbours" (b), and "a dense head on a small map is
        # cheap" (d): a 1 x 1 window holds one pixel, and 250 inputs to 10 outputs are
        # 2,510 parameters.
        '''
q5_answer = {"a": True, "b": True, "c": True, "d": True}
''',
        # "The 5 x 5 convolution dominates the block" (c): two 3 x 3 layers of 256 channels
        # hold about twice its weights.
        '''
q5_answer = {"a": True, "b": False, "c": False, "d": False}
''',
    ],
}
