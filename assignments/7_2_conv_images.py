# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
# name: 7_2_conv_images
# init_cell: true
# check_all_cell: true
# export_cell:
#   pdf: false
#   instructions: >-
#     Run this cell to save your work as a zip file, then hand in that zip
#     (or this notebook) as your instructor asked.
# tests:
#   ok_format: false
# show_question_points: true

# %% [markdown]
# # Assignment 7.2: Convolutions for images
#
# Companion section: *7.2 Convolutions for Images*. You will write the cross-correlation
# with padding and stride yourself, turn it into a true convolution, let gradient
# descent find a kernel from examples, and predict what the section's edge kernel makes
# of a diagonal edge.
#
# **How this works.** Write your answer where a cell says `...`, run the cell, then run
# the `grader.check(...)` cell below it. The checks you see are public: they test the
# examples in the text. When your notebook is graded, hidden tests try your code on
# fresh random inputs and compare it with PyTorch, so make it work in general, not just
# for the examples. The questions that ask you to predict or explain take a value (a
# dict, or a number and a letter): their public check tests only its form, and the
# hidden tests grade each part on its own. Run the notebook top to bottom (*Run All*)
# before you hand it in.

# %%
# Colab only: install cnnlib from the repository (elsewhere this does nothing).
# Colab's own torch, torchvision, numpy and matplotlib stay: cnnlib comes without its
# dependencies, and pip may add what is missing but never another version of those four.
import sys

if "google.colab" in sys.modules:
    import subprocess
    import tempfile
    from importlib.metadata import version

    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--no-deps",
                    "cnnlib @ git+https://github.com/cnn-companion/cnn-companion"], check=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as keep:
        keep.writelines(f"{name}=={version(name)}\n"
                        for name in ("torch", "torchvision", "numpy", "matplotlib"))
    packages = ["tqdm", "ipywidgets", "anywidget", "otter-grader==7.0.0"]
    subprocess.run([*pip, "-c", keep.name, *packages], check=True)

# %%
import torch
import torch.nn.functional as F

from cnnlib import setup
from cnnlib.ops import corr2d

seed = setup(0)

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 4
# kind: compute
# forbids: [torch.nn.functional.conv2d, torch.conv2d, torch.nn.Conv2d,
#   torch.nn.functional.unfold, torch.nn.Unfold]

# %% [markdown]
# ### q1 · corr2d with padding and stride (≈20 min)
#
# `corr2d(X, K)` from the section slides the kernel one step at a time over an input
# without a border. Write `corr2d_ps(X, K, padding=0, stride=1)`, which first surrounds
# the 2-D input `X` with `padding` rows of zeros above and below and `padding` columns
# left and right, then slides `K` by `stride` positions at a time, in both directions.
# `padding` and `stride` are ints. An input of $n_h \times n_w$ and a kernel of
# $k_h \times k_w$ then give
# $\lfloor (n_h + 2p - k_h)/s \rfloor + 1$ rows and
# $\lfloor (n_w + 2p - k_w)/s \rfloor + 1$ columns.
#
# *Hint:* `F.pad(X, (p, p, p, p))` pads the last two axes; `corr2d` can still do the
# sliding if you pick out every `stride`-th row and column of its result.

# %% [raw]
# # BEGIN SOLUTION

# %%
def corr2d_ps(X, K, padding=0, stride=1):
    """Cross-correlate 2-D X with 2-D K, zero-padding both sides by `padding`."""
    # BEGIN SOLUTION
    X = F.pad(X, (padding, padding, padding, padding))
    kh, kw = K.shape
    rows = (X.shape[0] - kh) // stride + 1
    cols = (X.shape[1] - kw) // stride + 1
    Y = torch.zeros((rows, cols), dtype=torch.result_type(X, K))
    for i in range(rows):
        for j in range(cols):
            window = X[i * stride : i * stride + kh, j * stride : j * stride + kw]
            Y[i, j] = (window * K).sum()
    return Y
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q1_notes_example(corr2d_ps):
    import torch

    from cnnlib.classroom.checks import check_callable, check_tensor

    check_callable(corr2d_ps, "corr2d_ps")
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.arange(4.0).reshape(2, 2)
    check_tensor(corr2d_ps(X, K), torch.tensor([[19.0, 25.0], [37.0, 43.0]]), "corr2d_ps(X, K)")

test_q1_notes_example(corr2d_ps)

# %%
def test_q1_padding_stride_shapes(corr2d_ps):
    import torch

    from cnnlib.classroom.checks import check_shape

    X = torch.ones(8, 8)
    check_shape(corr2d_ps(X, torch.ones(3, 3), padding=1), (8, 8), "corr2d_ps(8x8, 3x3, padding=1)")
    check_shape(corr2d_ps(X, torch.ones(3, 3), padding=1, stride=2), (4, 4),
                "corr2d_ps(8x8, 3x3, padding=1, stride=2)")

test_q1_padding_stride_shapes(corr2d_ps)

# %%
# HIDDEN
def test_q1_random_against_conv2d(corr2d_ps):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_tensor, fresh_generator

    gen = fresh_generator()

    def draw(low, high):
        return int(torch.randint(low, high, (1,), generator=gen))

    # Kernels square and not (taller, wider, even sizes, 1 x 1), padding 0 to 2, strides
    # below, at and above the kernel, on inputs taller than wide and wider than tall (by at
    # least the stride, so the two output sizes differ), and the edges: a kernel exactly as
    # large as the input ("fit"), and one larger than the input that fits only thanks to the
    # padding ("padded fit").
    cases = [(3, 2, 0, 1, "tall"), (2, 3, 1, 1, "wide"), (1, 4, 2, 1, "tall"),
             (3, 3, 1, 2, "wide"), (2, 1, 0, 3, "tall"), (4, 3, 2, 2, "wide"),
             (1, 1, 1, 2, "tall"), (3, 2, 1, 3, "wide"), (2, 4, 0, 1, "fit"),
             (4, 3, 1, 2, "padded fit")]
    for kh, kw, padding, stride, shape in cases:
        small = max(kh, kw) + draw(0, 3)
        big = small + stride + draw(0, 3)
        h, w = {"tall": (big, small), "wide": (small, big), "fit": (kh, kw),
                "padded fit": (kh - 2 * padding, kw - 2 * padding + 1)}[shape]
        X, K = torch.randn(h, w, generator=gen), torch.randn(kh, kw, generator=gen)
        expected = F.conv2d(X[None, None], K[None, None], padding=padding, stride=stride)[0, 0]
        check_tensor(corr2d_ps(X, K, padding=padding, stride=stride), expected,
                     f"corr2d_ps(X {h}x{w}, K {kh}x{kw}, padding={padding}, stride={stride})",
                     gen=gen)

test_q1_random_against_conv2d(corr2d_ps)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 2
# kind: compute
# forbids: [torch.nn.functional.conv2d, torch.conv2d, torch.nn.Conv2d]

# %% [markdown]
# ### q2 · convolution is cross-correlation with a flipped kernel (≈10 min)
#
# What deep learning calls a convolution is, mathematically, a cross-correlation. The
# textbook convolution flips the kernel first: upside down *and* left to right. Write
# `true_conv2d(X, K)` for 2-D `X` and `K`, using `corr2d`.
#
# *Hint:* `torch.flip(K, dims=...)` reverses the axes you name.

# %% [raw]
# # BEGIN SOLUTION

# %%
def true_conv2d(X, K):
    """The mathematical convolution of 2-D X with 2-D K (no padding, stride 1)."""
    return corr2d(X, torch.flip(K, dims=(0, 1)))  # SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q2_edge_kernel(true_conv2d):
    import torch

    from cnnlib.classroom.checks import check_callable, check_tensor

    check_callable(true_conv2d, "true_conv2d")
    X = torch.tensor([[0.0, 1.0, 3.0, 6.0]])
    # Flipping [1, -1] gives [-1, 1]: each output is the right neighbour minus the left.
    check_tensor(true_conv2d(X, torch.tensor([[1.0, -1.0]])), torch.tensor([[1.0, 2.0, 3.0]]),
                 "true_conv2d(X, [[1, -1]])")

test_q2_edge_kernel(true_conv2d)

# %%
# HIDDEN
def test_q2_random_kernels(true_conv2d):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_tensor, fresh_generator

    gen = fresh_generator()
    # Square kernels, kernels taller and wider than they are wide (one row and one column
    # included), on a 6 x 7 input, and a kernel exactly as large as the input.
    for (kh, kw), (h, w) in (((2, 2), (6, 7)), ((3, 2), (6, 7)), ((2, 3), (6, 7)),
                             ((1, 3), (6, 7)), ((3, 1), (6, 7)), ((3, 3), (6, 7)),
                             ((3, 4), (3, 4))):
        X, K = torch.randn(h, w, generator=gen), torch.randn(kh, kw, generator=gen)
        flipped = K.flip(0).flip(1)
        expected = F.conv2d(X[None, None], flipped[None, None])[0, 0]
        check_tensor(true_conv2d(X, K), expected, f"true_conv2d(X, K {kh}x{kw})", gen=gen)

test_q2_random_kernels(true_conv2d)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 3
# kind: compute
# forbids: []
# exercises: [2]

# %% [markdown]
# ### q3 · learn a kernel from examples (≈20 min)
#
# The section recovered the edge kernel `[[1, -1]]` from an image and its edges by
# gradient descent. Write `learn_kernel(X, Y, kernel_size, steps=200, lr=0.03)` that does
# the same for any 2-D input `X`, target `Y` and kernel shape `kernel_size` (a pair): start
# from a random kernel, repeat `steps` times "compute `corr2d(X, kernel)`, take the sum
# of squared errors against `Y`, step the kernel against its gradient", and return the
# learned kernel as a tensor of shape `kernel_size` (detached from the graph).
#
# *Hint:* `torch.randn(kernel_size, requires_grad=True)`, `loss.backward()`, and update
# inside `with torch.no_grad():`, zeroing the gradient after each step.
#
# Then use it for exercise 2 of the section: the transposed image `X.t()`, its edges
# `corr2d(X.t(), K.t())` and a `(2, 1)` kernel. Which kernel does gradient descent find,
# and why? The hidden tests ask your function for it too.

# %% [raw]
# # BEGIN SOLUTION

# %%
def learn_kernel(X, Y, kernel_size, steps=200, lr=0.03):
    """Fit a kernel K so that corr2d(X, K) matches Y, by gradient descent."""
    # BEGIN SOLUTION
    K = torch.randn(kernel_size, requires_grad=True)
    for _ in range(steps):
        loss = ((corr2d(X, K) - Y) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            K -= lr * K.grad
        K.grad.zero_()
    return K.detach()
    # END SOLUTION


# %%
X = torch.ones((6, 8))
X[:, 2:6] = 0
Y = corr2d(X, torch.tensor([[1.0, -1.0]]))
learn_kernel(X, Y, (1, 2))

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q3_edge_kernel(learn_kernel):
    import torch

    from cnnlib.classroom.checks import check_callable, check_tensor
    from cnnlib.ops import corr2d

    check_callable(learn_kernel, "learn_kernel")
    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    Y = corr2d(X, torch.tensor([[1.0, -1.0]]))
    check_tensor(learn_kernel(X, Y, (1, 2)), torch.tensor([[1.0, -1.0]]),
                 "learn_kernel(X, Y, (1, 2)) on the section's edge example", atol=0.05, rtol=0)

test_q3_edge_kernel(learn_kernel)

# %%
# HIDDEN
def test_q3_random_kernel(learn_kernel):
    import math

    import torch

    from cnnlib.classroom.checks import check_tensor, fresh_generator
    from cnnlib.ops import corr2d

    gen = fresh_generator()
    # Square, wider and taller kernels. The inputs are large (3 x randn), so the section's
    # lr 0.03 diverges: the test passes each run the step size that suits its data, lr =
    # 1 / (largest curvature of the loss), and enough steps for the slowest direction.
    for kh, kw in ((2, 2), (1, 3), (3, 2)):
        X = 3 * torch.randn(6, 7, generator=gen)
        K_true = torch.randn(kh, kw, generator=gen)
        windows = X.unfold(0, kh, 1).unfold(1, kw, 1).reshape(-1, kh * kw)
        curvatures = torch.linalg.eigvalsh(2 * windows.T @ windows)  # the loss's Hessian
        lr = 1 / curvatures[-1].item()
        slowest = (curvatures[0] / curvatures[-1]).item()  # error shrinks by 1 - this a step
        steps = 30 + (math.ceil(math.log(1e-5) / math.log1p(-slowest)) if slowest < 1 else 0)
        steps = min(steps, 1000)
        K = learn_kernel(X, corr2d(X, K_true), (kh, kw), steps=steps, lr=lr)
        check_tensor(K, K_true, f"learn_kernel on a random {kh}x{kw} kernel (steps={steps}, "
                     f"lr={lr:.3g})", atol=0.05, rtol=0, gen=gen)

test_q3_random_kernel(learn_kernel)

# %%
# HIDDEN
def test_q3_exercise_2_transposed_image(learn_kernel):
    import torch

    from cnnlib.classroom.checks import check_tensor
    from cnnlib.ops import corr2d

    # Exercise 2 of the section: the section's image and kernel, both transposed. The
    # problem is the section's one turned by 90 degrees, so its step size and steps fit.
    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    K = torch.tensor([[1.0, -1.0]])
    check_tensor(learn_kernel(X.t(), corr2d(X.t(), K.t()), (2, 1)), K.t(),
                 "learn_kernel(X.t(), corr2d(X.t(), K.t()), (2, 1)) (exercise 2)",
                 atol=0.05, rtol=0)

test_q3_exercise_2_transposed_image(learn_kernel)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 2
# kind: predict
# forbids: []

# %% [markdown]
# ### q4 · predict the edges of a diagonal image (≈10 min)
#
# This is D2L exercise 1. The section's kernel `K = torch.tensor([[1.0, -1.0]])` finds
# vertical edges. Here is an image with a diagonal edge, ones on and below the diagonal:
#
# ```python
# X = torch.tril(torch.ones(6, 6))
# ```
#
# Predict, for each of the four pairs below, how many cells of the output are nonzero and
# which value they take (in each of the four outputs, all nonzero cells take the same
# value): `corr2d(X, K)`, `corr2d(X.t(), K)` (the image transposed), `corr2d(X, K.t())`
# (the kernel transposed) and `corr2d(X.t(), K.t())` (both). Work it out from
# $Y_{i,j} = \sum_{a,b} K_{a,b} X_{i+a,j+b}$ before you run anything: what does
# transposing `X` do to the direction of the step from 1 to 0? Why can a transposed
# kernel see an edge that is neither vertical nor horizontal?
#
# Set `q4_answer` to a dict with the keys `"X, K"`, `"X.t(), K"`, `"X, K.t()"` and
# `"X.t(), K.t()"`, each mapped to a pair `(count, value)`, e.g. `(3, 2.0)`; use
# `(0, 0.0)` for an output that is zero everywhere.

# %% [raw]
# # BEGIN SOLUTION

# %%
q4_answer = {"X, K": ..., "X.t(), K": ..., "X, K.t()": ..., "X.t(), K.t()": ...}
# BEGIN SOLUTION
q4_answer = {"X, K": (5, 1.0), "X.t(), K": (5, -1.0), "X, K.t()": (5, -1.0),
             "X.t(), K.t()": (5, 1.0)}
# END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q4_form(q4_answer):
    from cnnlib.classroom.checks import check_form

    keys = ["X, K", "X.t(), K", "X, K.t()", "X.t(), K.t()"]
    check_form(q4_answer, dict.fromkeys(keys, [int, float]), "q4_answer")
    for key in keys:
        count = q4_answer[key][0]
        if not 0 <= count <= 36:
            raise AssertionError(f"the count of q4_answer[{key!r}] should be an int from 0 "
                                 f"to 36, got {count!r}")

test_q4_form(q4_answer)

# %%
# HIDDEN
def test_q4_image_and_kernel(q4_answer):
    import torch

    from cnnlib.ops import corr2d

    Y = corr2d(torch.tril(torch.ones(6, 6)), torch.tensor([[1.0, -1.0]]))
    nonzero = Y[Y != 0]
    expected = (nonzero.numel(), nonzero[0].item() if nonzero.numel() else 0.0)
    count, value = q4_answer["X, K"]
    if (count, float(value)) != expected:
        raise AssertionError('q4_answer["X, K"] is wrong')

test_q4_image_and_kernel(q4_answer)

# %%
# HIDDEN
def test_q4_image_transposed(q4_answer):
    import torch

    from cnnlib.ops import corr2d

    Y = corr2d(torch.tril(torch.ones(6, 6)).t(), torch.tensor([[1.0, -1.0]]))
    nonzero = Y[Y != 0]
    expected = (nonzero.numel(), nonzero[0].item() if nonzero.numel() else 0.0)
    count, value = q4_answer["X.t(), K"]
    if (count, float(value)) != expected:
        raise AssertionError('q4_answer["X.t(), K"] is wrong')

test_q4_image_transposed(q4_answer)

# %%
# HIDDEN
def test_q4_kernel_transposed(q4_answer):
    import torch

    from cnnlib.ops import corr2d

    Y = corr2d(torch.tril(torch.ones(6, 6)), torch.tensor([[1.0, -1.0]]).t())
    nonzero = Y[Y != 0]
    expected = (nonzero.numel(), nonzero[0].item() if nonzero.numel() else 0.0)
    count, value = q4_answer["X, K.t()"]
    if (count, float(value)) != expected:
        raise AssertionError('q4_answer["X, K.t()"] is wrong')

test_q4_kernel_transposed(q4_answer)

# %%
# HIDDEN
def test_q4_both_transposed(q4_answer):
    import torch

    from cnnlib.ops import corr2d

    Y = corr2d(torch.tril(torch.ones(6, 6)).t(), torch.tensor([[1.0, -1.0]]).t())
    nonzero = Y[Y != 0]
    expected = (nonzero.numel(), nonzero[0].item() if nonzero.numel() else 0.0)
    count, value = q4_answer["X.t(), K.t()"]
    if (count, float(value)) != expected:
        raise AssertionError('q4_answer["X.t(), K.t()"] is wrong')

test_q4_both_transposed(q4_answer)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Hand in
#
# Run *Kernel → Restart & Run All*, check that every `grader.check` above passes, then run
# the cell below. It saves a zip with your notebook; hand in that zip or this `.ipynb`.
