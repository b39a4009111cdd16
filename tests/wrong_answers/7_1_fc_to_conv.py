"""Plausible wrong answers for assignment 7.1. Each passes the public tests, fails a hidden one."""

WRONG = {
    # Assumes a square kernel: reads only the height of a (kh, kw) pair. Right for the
    # public tests' int kernels, wrong for rectangular ones.
    "q1": '''
def param_counts(height, width, in_channels, hidden_units, out_channels, kernel_size):
    k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
    dense = height * width * in_channels * hidden_units + hidden_units
    conv = out_channels * in_channels * k * k + out_channels
    return dense, conv
''',
    # Uses torch.roll, which wraps pixels round the border instead of filling with zeros:
    # invisible on the public tests' black borders, wrong on real content at the edges.
    "q2": '''
def shift_image(X, dy, dx):
    return torch.roll(X, shifts=(dy, dx), dims=(0, 1))
''',
    # Assumes every layer has the first layer's kernel: right for stacks of equal kernels
    # (the public 3x3 ones), wrong for mixed stacks.
    "q3": '''
def input_window(kernel_sizes, i, j):
    kh, kw = kernel_sizes[0]
    n = len(kernel_sizes)
    return (i, i + n * (kh - 1) + 1), (j, j + n * (kw - 1) + 1)
''',
}
