"""Plausible wrong answers for assignment 7.1, several per question.

Each passes the public tests and is caught by grading: it fails a hidden test, or it calls
something its question forbids (the `forbids:` list of the question's YAML).
"""

WRONG = {
    "q1": [
        # Assumes a square kernel: reads only the height of a (kh, kw) pair. Right for the
        # public tests' int kernels, wrong for rectangular ones.
        '''
def param_counts(height, width, in_channels, hidden_units, out_channels, kernel_size):
    k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
    dense = height * width * in_channels * hidden_units + hidden_units
    conv = out_channels * in_channels * k * k + out_channels
    return dense, conv
''',
        # The same mistake from the other side: squares the width of a (kh, kw) pair. Only
        # the hidden kernels taller than wide show it.
        '''
def param_counts(height, width, in_channels, hidden_units, out_channels, kernel_size):
    k = kernel_size if isinstance(kernel_size, int) else kernel_size[-1]
    dense = height * width * in_channels * hidden_units + hidden_units
    conv = out_channels * in_channels * k ** 2 + out_channels
    return dense, conv
''',
        # Builds both layers (cheaply, on the meta device) and counts their parameters:
        # every count is right, but the prompt asks for the formulas, and q1 forbids
        # constructing nn.Linear and nn.Conv2d.
        '''
def param_counts(height, width, in_channels, hidden_units, out_channels, kernel_size):
    dense = nn.Linear(height * width * in_channels, hidden_units, device="meta")
    conv = nn.Conv2d(in_channels, out_channels, kernel_size, device="meta")
    return (sum(p.numel() for p in dense.parameters()),
            sum(p.numel() for p in conv.parameters()))
''',
    ],
    "q2": [
        # Uses torch.roll, which wraps pixels round the border instead of filling with zeros:
        # invisible on the public tests' black borders, wrong on real content at the edges.
        '''
def shift_image(X, dy, dx):
    return torch.roll(X, shifts=(dy, dx), dims=(0, 1))
''',
        # Handles the two directions of the public examples, down-right and up-left, and
        # treats every other shift as up-left: wrong as soon as dy and dx have different
        # signs (down-left, up-right), which only the hidden shifts try.
        '''
def shift_image(X, dy, dx):
    h, w = X.shape
    Y = torch.zeros_like(X)
    if dy >= 0 and dx >= 0:
        Y[dy:, dx:] = X[:h - dy, :w - dx]
    else:
        Y[:h + dy, :w + dx] = X[-dy:, -dx:]
    return Y
''',
        # Calls the library's shift_image (cnnlib.explain.equivariance), which q2 forbids:
        # right on every test, but not written by the student.
        '''
from cnnlib.explain.equivariance import shift_image as _library_shift


def shift_image(X, dy, dx):
    return _library_shift(X, dy, dx)
''',
    ],
    "q3": [
        # Assumes every layer has the first layer's kernel: right for stacks of equal
        # kernels (the public 3x3 ones), wrong for mixed stacks.
        '''
def input_window(kernel_sizes, i, j):
    kh, kw = kernel_sizes[0]
    n = len(kernel_sizes)
    return (i, i + n * (kh - 1) + 1), (j, j + n * (kw - 1) + 1)
''',
        # Reads each kernel as (width, height): the public kernels are square, so only the
        # hidden stacks, which grow the window more one way than the other, show it.
        '''
def input_window(kernel_sizes, i, j):
    extra_rows = sum(kw - 1 for kh, kw in kernel_sizes)
    extra_cols = sum(kh - 1 for kh, kw in kernel_sizes)
    return (i, i + extra_rows + 1), (j, j + extra_cols + 1)
''',
        # Asks cnnlib.ops.input_region, on an input just large enough: the right windows,
        # but q3 forbids cnnlib.ops.
        '''
from cnnlib.ops import LayerSpec, input_region


def input_window(kernel_sizes, i, j):
    layers = [LayerSpec(f"layer{n}", k) for n, k in enumerate(kernel_sizes)]
    size = (i + sum(kh for kh, _ in kernel_sizes) + 1, j + sum(kw for _, kw in kernel_sizes) + 1)
    return input_region(layers, (i, j), size)
''',
    ],
    "q4": [
        # "A convolution is translation equivariant, full stop": forgets that zero padding
        # treats the wrapped-in column differently from the rest (b).
        '''
q4_answer = {"a": True, "b": True, "c": True, "d": True, "e": False}
''',
        # "The zero border spoils every shift": also rejects c, where no window of the
        # shifted image reaches a padding cell or a lost pixel.
        '''
q4_answer = {"a": True, "b": False, "c": False, "d": True, "e": False}
''',
        # "Every layer of a network is equivariant": takes the dense layer to commute with
        # the shift too (e), as if it shared its weights across positions.
        '''
q4_answer = {"a": True, "b": False, "c": True, "d": True, "e": True}
''',
        # "Equivariant, so the maximum moves too": mixes up an equivariant map with an
        # invariant summary of it (d).
        '''
q4_answer = {"a": True, "b": False, "c": True, "d": False, "e": False}
''',
    ],
    "q5": [
        # Forgets the 64 biases.
        '''
q5_answer = (3 * 64, "A")
''',
        # "A 1 x 1 kernel is one weight per channel": the count is right, the picture of
        # what the layer does (no mixing of channels) is not.
        '''
q5_answer = (3 * 64 + 64, "B")
''',
        # Gives every pixel its own weights: the count grows with the image.
        '''
q5_answer = (224 * 224 * (3 * 64 + 64), "D")
''',
    ],
}
