"""Plausible wrong answers for assignment 7.2, several per question.

Each passes the public tests and is caught by grading: it fails a hidden test, or it calls
something its question forbids (the `forbids:` list of the question's YAML).
"""

WRONG = {
    "q1": [
        # Pads only the bottom and right: the shapes match the formula, the values do not.
        '''
def corr2d_ps(X, K, padding=0, stride=1):
    X = F.pad(X, (0, 2 * padding, 0, 2 * padding))
    return corr2d(X, K)[::stride, ::stride]
''',
        # Takes the kernel to be square (k = K.shape[0]): the public kernels are 2 x 2 and
        # 3 x 3; a kernel taller or wider than it is wide breaks it.
        '''
def corr2d_ps(X, K, padding=0, stride=1):
    X = F.pad(X, (padding, padding, padding, padding))
    k = K.shape[0]
    n = (X.shape[0] - k) // stride + 1
    m = (X.shape[1] - k) // stride + 1
    Y = torch.zeros((n, m))
    for i in range(n):
        for j in range(m):
            Y[i, j] = (X[i * stride : i * stride + k, j * stride : j * stride + k] * K).sum()
    return Y
''',
        # Takes the input to be square: sizes the output's columns from the padded input's
        # height. The public inputs are 3 x 3 and 8 x 8; a non-square input breaks it.
        '''
def corr2d_ps(X, K, padding=0, stride=1):
    X = F.pad(X, (padding, padding, padding, padding))
    kh, kw = K.shape
    n = X.shape[0]
    Y = torch.zeros(((n - kh) // stride + 1, (n - kw) // stride + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i * stride : i * stride + kh, j * stride : j * stride + kw] * K).sum()
    return Y
''',
        # Lets F.conv2d do the padding and the striding: right everywhere, but q1 forbids it.
        '''
def corr2d_ps(X, K, padding=0, stride=1):
    return F.conv2d(X[None, None], K[None, None], padding=padding, stride=stride)[0, 0]
''',
    ],
    "q2": [
        # Flips left-right only: right for the public test's one-row kernel, wrong for 2-D ones.
        '''
def true_conv2d(X, K):
    return corr2d(X, torch.flip(K, dims=(1,)))
''',
        # Right values, from F.conv2d with the flipped kernel instead of corr2d: forbidden.
        '''
def true_conv2d(X, K):
    return F.conv2d(X[None, None], torch.flip(K, dims=(0, 1))[None, None])[0, 0]
''',
    ],
    "q3": [
        # Returns the kernel of the section's example whatever the data say.
        '''
def learn_kernel(X, Y, kernel_size, steps=200, lr=0.03):
    return torch.tensor([[1.0, -1.0]])
''',
        # Steps with the section's learning rate 0.03 whatever lr it is given: fine on the
        # public example, divergent on the hidden inputs, whose loss is much steeper.
        '''
def learn_kernel(X, Y, kernel_size, steps=200, lr=0.03):
    K = torch.randn(kernel_size, requires_grad=True)
    for _ in range(steps):
        loss = ((corr2d(X, K) - Y) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            K -= 0.03 * K.grad
        K.grad.zero_()
    return K.detach()
''',
    ],
    "q4": [
        # "[[1, -1]] only sees vertical edges": expects nothing from the transposed image or
        # kernel, although the diagonal step is there in both directions.
        '''
q4_answer = {"X, K": (5, 1.0), "X.t(), K": (0, 0.0), "X, K.t()": (0, 0.0),
             "X.t(), K.t()": (5, 1.0)}
''',
        # Ignores the sign: a step from 0 up to 1 gives -1, not 1.
        '''
q4_answer = {"X, K": (5, 1.0), "X.t(), K": (5, 1.0), "X, K.t()": (5, 1.0),
             "X.t(), K.t()": (5, 1.0)}
''',
        # Counts one edge cell per row of the image (6), forgetting that the output has one
        # column (or row) fewer than the input and that the last step falls outside it.
        '''
q4_answer = {"X, K": (6, 1.0), "X.t(), K": (6, -1.0), "X, K.t()": (6, -1.0),
             "X.t(), K.t()": (6, 1.0)}
''',
    ],
}
