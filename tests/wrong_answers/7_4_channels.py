"""Plausible wrong answers for assignment 7.4, several per question.

Each passes the public tests and is caught by grading: it fails a hidden test, or it calls
something its question forbids (the `forbids:` list of the question's YAML).
"""

WRONG = {
    "q1": [
        # Written for the section's two input channels: adds exactly two correlations, so one
        # input channel is an error and a third one is ignored.
        '''
def conv_multi(X, K, b=None):
    Y = torch.stack([corr2d(X[0], k[0]) + corr2d(X[1], k[1]) for k in K])
    if b is not None:
        Y = Y + b[:, None, None]
    return Y
''',
        # Squeezes the result "to tidy it up": harmless for the public 3 output channels of
        # 2 x 2, but a single output channel, or a kernel as large as the input, loses its axis.
        '''
def conv_multi(X, K, b=None):
    Y = torch.stack([sum(corr2d(x, k) for x, k in zip(X, K_o)) for K_o in K]).squeeze()
    if b is not None:
        Y = Y + b.reshape(-1, *([1] * (Y.dim() - 1)))
    return Y
''',
        # Lets F.conv2d do the work: right everywhere, but q1 forbids it.
        '''
def conv_multi(X, K, b=None):
    return F.conv2d(X[None], K, b)[0]
''',
    ],
    "q2": [
        # Flattens X to (c_i, n * h * w) as if the channel axis came first: the memory order
        # is (n, c_i, ...), so only a batch of one comes out right.
        '''
def conv1x1_batch(X, K):
    n, c_i, h, w = X.shape
    c_o = K.shape[0]
    Y = K.reshape(c_o, c_i) @ X.reshape(c_i, n * h * w)
    return Y.reshape(n, c_o, h, w)
''',
        # Turns K into a matrix with squeeze(): with one input channel the matrix becomes a
        # vector and the product fails. The public example has 3 input channels.
        '''
def conv1x1_batch(X, K):
    n, c_i, h, w = X.shape
    Y = K.squeeze() @ X.reshape(n, c_i, h * w)
    return Y.reshape(n, -1, h, w)
''',
        # The 1x1 convolution by F.conv2d, which the prompt (and q2's forbids) rule out.
        '''
def conv1x1_batch(X, K):
    return F.conv2d(X, K)
''',
    ],
    "q3": [
        # Counts the multiply-adds over the input's cells instead of the output's: the same
        # for the section's 1x1 kernel, too many for larger kernels.
        '''
def conv_cost(c_in, c_out, kernel_size, height, width):
    kh, kw = kernel_size
    weights = c_out * c_in * kh * kw
    return weights + c_out, weights * height * width
''',
        # Takes the kernel's width off the height and its height off the width: the same for
        # the public square kernels, wrong for a non-square kernel on a non-square image.
        '''
def conv_cost(c_in, c_out, kernel_size, height, width):
    kh, kw = kernel_size
    weights = c_out * c_in * kh * kw
    return weights + c_out, weights * (height - kw + 1) * (width - kh + 1)
''',
        # Builds the layer and asks cnnlib's cost counter: right, but q3 forbids cnnlib.models.cost.
        '''
from cnnlib.models.cost import count_macs


def conv_cost(c_in, c_out, kernel_size, height, width):
    layer = nn.Conv2d(c_in, c_out, kernel_size)
    return sum(p.numel() for p in layer.parameters()), count_macs(layer, (1, c_in, height, width))
''',
    ],
    "q4": [
        # Keeps only the second layer's bias, forgetting that the first bias passes through K2:
        # right when b1 is zero, as in the public test.
        '''
def merge_1x1(K1, b1, K2, b2):
    W1, W2 = K1[:, :, 0, 0], K2[:, :, 0, 0]
    return (W2 @ W1)[:, :, None, None], b2
''',
        # Passes the first bias through K2 but drops the second bias: also right when the
        # biases are zero.
        '''
def merge_1x1(K1, b1, K2, b2):
    W1, W2 = K1[:, :, 0, 0], K2[:, :, 0, 0]
    return (W2 @ W1)[:, :, None, None], W2 @ b1
''',
    ],
    "q5": [
        # "The same mathematics gives the same numbers": forgets rounding.
        '''
q5_answer = {"identical": True, "close": True, "reason": "A"}
''',
        # "If they are not identical, one of them must be wrong": sees a difference and
        # blames a missing bias.
        '''
q5_answer = {"identical": False, "close": False, "reason": "C"}
''',
        # The right observations, the wrong cause: half precision would give differences
        # far beyond allclose's tolerance.
        '''
q5_answer = {"identical": False, "close": True, "reason": "D"}
''',
    ],
}
