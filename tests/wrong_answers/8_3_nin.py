"""Plausible wrong answers for assignment 8.3. Each passes the public tests, fails a hidden one."""

WRONG = {
    # Passes `padding` to the 1x1 convolutions too: harmless for the public block (padding 0),
    # but with padding p every 1x1 convolution grows the map by 2p.
    "q1": '''
def nin_block(in_channels, out_channels, kernel_size, strides, padding):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride=strides, padding=padding),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1, padding=padding), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1, padding=padding), nn.ReLU(),
    )
''',
    # Forgets the input channels in the first convolution's weights: right only for the
    # one-channel image of the public example.
    "q2": '''
def nin_block_params(in_channels, out_channels, kernel_size):
    first = out_channels * kernel_size * kernel_size + out_channels
    return first + 2 * (out_channels * out_channels + out_channels)
''',
    # Transposes the weight matrix before reshaping it: the same numbers when one side has
    # a single channel (the public example), the wrong mixing of channels otherwise.
    "q3": '''
def dense_to_conv1x1(dense):
    conv = nn.Conv2d(dense.in_features, dense.out_features, kernel_size=1)
    with torch.no_grad():
        conv.weight.copy_(dense.weight.T.reshape(dense.out_features, dense.in_features, 1, 1))
        conv.bias.copy_(dense.bias)
    return conv
''',
    # Writes each max-pool as "halve, then lose one": side // 2 - 1. That equals
    # (side - 3) // 2 + 1 for even sides, which is all the text's sizes meet, not for odd ones.
    "q4": '''
def class_map_side(n):
    side = (n - 11) // 4 + 1
    for _ in range(3):
        side = side // 2 - 1
    return side
''',
}
