"""Plausible wrong answers for assignment 7.4. Each passes the public tests, fails a hidden one."""

WRONG = {
    # Written for the section's two input channels: adds exactly two correlations, so one
    # input channel is an error and a third one is ignored.
    "q1": '''
def conv_multi(X, K, b=None):
    Y = torch.stack([corr2d(X[0], k[0]) + corr2d(X[1], k[1]) for k in K])
    if b is not None:
        Y = Y + b[:, None, None]
    return Y
''',
    # Flattens X to (c_i, n * h * w) as if the channel axis came first: the memory order
    # is (n, c_i, ...), so only a batch of one comes out right.
    "q2": '''
def conv1x1_batch(X, K):
    n, c_i, h, w = X.shape
    c_o = K.shape[0]
    Y = K.reshape(c_o, c_i) @ X.reshape(c_i, n * h * w)
    return Y.reshape(n, c_o, h, w)
''',
    # Counts the multiply-adds over the input's cells instead of the output's: the same
    # for the section's 1x1 kernel, too many for larger kernels.
    "q3": '''
def conv_cost(c_in, c_out, kernel_size, height, width):
    kh, kw = kernel_size
    weights = c_out * c_in * kh * kw
    return weights + c_out, weights * height * width
''',
    # Keeps only the second layer's bias, forgetting that the first bias passes through K2:
    # right when b1 is zero, as in the public test.
    "q4": '''
def merge_1x1(K1, b1, K2, b2):
    W1, W2 = K1[:, :, 0, 0], K2[:, :, 0, 0]
    return (W2 @ W1)[:, :, None, None], b2
''',
}
