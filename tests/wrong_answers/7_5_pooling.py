"""Plausible wrong answers for assignment 7.5. Each passes the public tests, fails a hidden one."""

WRONG = {
    # Pads max pooling with zeros as well: invisible on the section's inputs, which are
    # never negative, but a padding zero wins every window of negative numbers.
    "q1": '''
def pool2d(X, pool_size, mode="max", padding=0, stride=None):
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    (ph, pw), (pad_h, pad_w) = pair(pool_size), pair(padding)
    sh, sw = pair(pool_size if stride is None else stride)
    X = F.pad(X, (pad_w, pad_w, pad_h, pad_h))
    Y = torch.zeros(((X.shape[0] - ph) // sh + 1, (X.shape[1] - pw) // sw + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i * sh : i * sh + ph, j * sw : j * sw + pw]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
''',
    # Takes the jump into a layer to be the previous layer's stride, not the product of all
    # strides so far: right for the section's stack, which has a single strided layer.
    "q2": '''
def receptive_field(layers):
    size, jump, previous = 1, 1, 1
    for k, s in layers:
        size += (k - 1) * previous
        jump *= s
        previous = s
    return size, jump
''',
    # Fills every (output, input) channel pair with 1 / (kh * kw), so the convolution also
    # adds up the channels: right for one channel, wrong for several.
    "q3": '''
def avg_pool_weight(channels, pool_size):
    kh, kw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    return torch.full((channels, channels, kh, kw), 1.0 / (kh * kw))
''',
}
