"""Plausible wrong answers for assignment 7.2. Each passes the public tests, fails a hidden one."""

WRONG = {
    # Pads only the bottom and right: the shapes match the formula, the values do not.
    "q1": '''
def corr2d_ps(X, K, padding=0, stride=1):
    X = F.pad(X, (0, 2 * padding, 0, 2 * padding))
    return corr2d(X, K)[::stride, ::stride]
''',
    # Flips left-right only: right for the public test's one-row kernel, wrong for 2-D ones.
    "q2": '''
def true_conv2d(X, K):
    return corr2d(X, torch.flip(K, dims=(1,)))
''',
    # Returns the kernel of the section's example whatever the data say.
    "q3": '''
def learn_kernel(X, Y, kernel_size, steps=200, lr=0.03):
    return torch.tensor([[1.0, -1.0]])
''',
}
