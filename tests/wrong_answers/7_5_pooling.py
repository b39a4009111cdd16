"""Plausible wrong answers for assignment 7.5, several per question.

Each passes the public tests and is caught by grading: it fails a hidden test, or it calls
something its question forbids (the `forbids:` list of the question's YAML).
"""

WRONG = {
    "q1": [
        # Pads max pooling with zeros as well: invisible on the section's inputs, which are
        # never negative, but a padding zero wins every window of negative numbers.
        '''
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
        # With stride=None, strides by the window's height in both directions: right for
        # square windows (the public stride=None one is 3 x 3), wrong for a non-square window.
        '''
def pool2d(X, pool_size, mode="max", padding=0, stride=None):
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    (ph, pw), (pad_h, pad_w) = pair(pool_size), pair(padding)
    sh, sw = pair(ph if stride is None else stride)
    fill = float("-inf") if mode == "max" else 0.0
    X = F.pad(X, (pad_w, pad_w, pad_h, pad_h), value=fill)
    Y = torch.zeros(((X.shape[0] - ph) // sh + 1, (X.shape[1] - pw) // sw + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i * sh : i * sh + ph, j * sw : j * sw + pw]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
''',
        # Hands the work to PyTorch's pooling functions: right everywhere, but forbidden.
        '''
def pool2d(X, pool_size, mode="max", padding=0, stride=None):
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    return pool(X[None, None], pool_size, stride=stride, padding=padding)[0, 0]
''',
    ],
    "q2": [
        # Takes the jump into a layer to be the previous layer's stride, not the product of all
        # strides so far: right for the section's stack, which has a single strided layer.
        '''
def receptive_field(layers):
    size, jump, previous = 1, 1, 1
    for k, s in layers:
        size += (k - 1) * previous
        jump *= s
        previous = s
    return size, jump
''',
        # Starts from the first layer's field, (k, s), instead of the input's (1, 1): the same
        # for every stack of one layer or more, an error for the empty stack.
        '''
def receptive_field(layers):
    size, jump = layers[0]
    for k, s in layers[1:]:
        size += (k - 1) * jump
        jump *= s
    return size, jump
''',
        # Asks cnnlib.ops.receptive_field: right, but q2 forbids cnnlib.ops.
        '''
from cnnlib.ops import LayerSpec
from cnnlib.ops import receptive_field as _rf


def receptive_field(layers):
    if not layers:
        return 1, 1
    info = _rf([LayerSpec(f"layer{n}", k, stride=s) for n, (k, s) in enumerate(layers)])[-1]
    return info.size[0], info.jump[0]
''',
    ],
    "q3": [
        # Fills every (output, input) channel pair with 1 / (kh * kw), so the convolution also
        # adds up the channels: right for one channel, wrong for several.
        '''
def avg_pool_weight(channels, pool_size):
    kh, kw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    return torch.full((channels, channels, kh, kw), 1.0 / (kh * kw))
''',
        # Divides by the window's height squared, as if every window were square: the public
        # test only checks the shape of a non-square one.
        '''
def avg_pool_weight(channels, pool_size):
    kh, kw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    W = torch.zeros(channels, channels, kh, kw)
    for c in range(channels):
        W[c, c] = 1.0 / kh ** 2
    return W
''',
    ],
    "q4": [
        # "The maximum of -X is minus the maximum of X": confuses it with the minimum.
        '''
q4_answer = {"scale": True, "negate": True, "add": False, "offset": True, "reason": "A"}
''',
        # "Any scaling passes through, but not an offset": treats max pooling like a
        # convolution without bias, for which conv(X + 1) = conv(X) + the sum of the weights.
        '''
q4_answer = {"scale": True, "negate": False, "add": False, "offset": False, "reason": "A"}
''',
        # The right properties, but the proof that "a fixed operation cannot be a layer".
        '''
q4_answer = {"scale": True, "negate": False, "add": False, "offset": True, "reason": "D"}
''',
    ],
    "q5": [
        # "Max pooling is invariant to one-pixel shifts": forgives every move.
        '''
q5_answer = {"down": True, "right": True, "up": True, "left": True, "down-right": True,
             "down from (3, 3)": True}
''',
        # Gets the moves from (2, 2) right, then assumes a move down is always forgiven.
        '''
q5_answer = {"down": True, "right": True, "up": False, "left": False, "down-right": True,
             "down from (3, 3)": True}
''',
        # Forgives moves along one axis, not the diagonal one.
        '''
q5_answer = {"down": True, "right": True, "up": False, "left": False, "down-right": False,
             "down from (3, 3)": False}
''',
    ],
}
