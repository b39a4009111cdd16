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
# name: 7_4_channels
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
# # Assignment 7.4: Multiple input and multiple output channels
#
# Companion section: *7.4 Multiple Input and Multiple Output Channels*. You will write a
# convolution with many input and output channels and a bias, compute a 1 × 1
# convolution on a whole batch with one matrix product, count what a layer costs, and
# merge two 1 × 1 layers into one. Then you explain why two ways of computing a 1 × 1
# convolution do not agree to the last bit.
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
from torch import nn

from cnnlib import setup
from cnnlib.ops import corr2d

seed = setup(0)

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 3
# kind: compute
# forbids: [torch.nn.functional.conv2d, torch.conv2d, torch.nn.Conv2d,
#   torch.nn.functional.unfold, torch.nn.Unfold, cnnlib.ops.corr2d_multi_in,
#   cnnlib.ops.corr2d_multi_in_out, cnnlib.ops.corr2d_multi_in_out_1x1]

# %% [markdown]
# ### q1 · many input and output channels, with a bias (≈15 min)
#
# Write `conv_multi(X, K, b=None)` for an input `X` of shape `(c_i, h, w)`, a kernel `K`
# of shape `(c_o, c_i, kh, kw)` (the layout of `nn.Conv2d.weight`) and an optional bias
# `b` of shape `(c_o,)`. Output channel `o` is the sum over the input channels `c` of
# `corr2d(X[c], K[o, c])`, plus `b[o]` in every cell when a bias is given. Return a
# tensor of shape `(c_o, h - kh + 1, w - kw + 1)`. Any number of input and output
# channels must work, one of each included.
#
# *Hint:* section 7.4 built this from two small functions, `corr2d_multi_in` and
# `corr2d_multi_in_out`; `b[:, None, None]` broadcasts a bias over the cells.

# %% [raw]
# # BEGIN SOLUTION

# %%
def conv_multi(X, K, b=None):
    """Cross-correlate X (c_i, h, w) with K (c_o, c_i, kh, kw), then add the bias b (c_o,)."""
    # BEGIN SOLUTION
    Y = torch.stack([sum(corr2d(x, k) for x, k in zip(X, K_o, strict=True)) for K_o in K])
    if b is not None:
        Y = Y + b[:, None, None]
    return Y
    # END SOLUTION


# %%
X = torch.tensor([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
                  [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]])
K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
K = torch.stack((K, K + 1, K + 2))  # (3, 2, 2, 2), as in the section
conv_multi(X, K, torch.tensor([0.0, 2.0, 0.0]))

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q1_section_example(conv_multi):
    import torch

    from cnnlib.classroom.checks import check_callable, check_tensor

    check_callable(conv_multi, "conv_multi")
    X = torch.tensor([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
                      [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]])
    K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
    K = torch.stack((K, K + 1, K + 2))
    expected = torch.tensor([[[56.0, 72.0], [104.0, 120.0]],
                             [[76.0, 100.0], [148.0, 172.0]],
                             [[96.0, 128.0], [192.0, 224.0]]])
    check_tensor(conv_multi(X, K), expected, "conv_multi(X, K) for the section's X and K")
    # The explorer's bias: 2 for output channel 1, nothing for the others.
    bias = torch.tensor([0.0, 2.0, 0.0])
    check_tensor(conv_multi(X, K, bias), expected + bias[:, None, None],
                 "conv_multi(X, K, b=[0, 2, 0])")

test_q1_section_example(conv_multi)

# %%
# HIDDEN
def test_q1_random_channels_against_conv2d(conv_multi):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_tensor, fresh_generator

    gen = fresh_generator()

    def draw(low, high):
        return int(torch.randint(low, high, (1,), generator=gen))

    # One and several input and output channels, with and without a bias; kernels square,
    # taller, wider and 1 x 1 on inputs a little larger; and kernels as large as the input
    # (one output cell per channel).
    for c_in, c_out, with_bias, (kh, kw), fit in (
            (1, 1, False, (2, 2), False), (3, 2, True, (3, 2), False),
            (1, 4, True, (2, 3), False), (4, 1, False, (1, 3), False),
            (2, 3, True, (1, 1), False), (5, 5, False, (3, 3), False),
            (1, 1, True, (3, 1), False), (3, 1, True, (2, 3), True),
            (2, 4, False, (3, 2), True)):
        h, w = (kh, kw) if fit else (kh + draw(1, 5), kw + draw(1, 5))
        X = torch.randn(c_in, h, w, generator=gen)
        K = torch.randn(c_out, c_in, kh, kw, generator=gen)
        b = torch.randn(c_out, generator=gen) if with_bias else None
        expected = F.conv2d(X[None], K, b)[0]
        got = conv_multi(X, K, b) if with_bias else conv_multi(X, K)
        check_tensor(got, expected,
                     f"conv_multi(X {tuple(X.shape)}, K {tuple(K.shape)}"
                     + (", b)" if with_bias else ")"), gen=gen)

test_q1_random_channels_against_conv2d(conv_multi)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 3
# kind: compute
# forbids: [torch.nn.functional.conv2d, torch.conv2d, torch.nn.Conv2d, cnnlib.ops]

# %% [markdown]
# ### q2 · a batch through a 1 × 1 convolution, as one matrix product (≈15 min)
#
# Section 7.4 wrote a 1 × 1 convolution of one image `(c_i, h, w)` as a matrix product:
# the kernel becomes a `(c_o, c_i)` matrix and every pixel a column. Networks run whole
# batches. Write `conv1x1_batch(X, K)` for `X` of shape `(n, c_i, h, w)` and `K` of shape
# `(c_o, c_i, 1, 1)` that returns the `(n, c_o, h, w)` result of the 1 × 1 convolution,
# computed with matrix products (`@`, `torch.matmul` or `torch.einsum`): no Python loop
# over examples or pixels, and no `F.conv2d`.
#
# *Hint:* `torch.matmul` multiplies a `(c_o, c_i)` matrix with each matrix of a stack of
# shape `(n, c_i, m)`. Be careful which axes `reshape` may merge: it keeps the order of
# the elements in memory.

# %% [raw]
# # BEGIN SOLUTION

# %%
def conv1x1_batch(X, K):
    """1x1 convolution of a batch X (n, c_i, h, w) with K (c_o, c_i, 1, 1), as a matmul."""
    # BEGIN SOLUTION
    n, c_i, h, w = X.shape
    c_o = K.shape[0]
    Y = K.reshape(c_o, c_i) @ X.reshape(n, c_i, h * w)  # (n, c_o, h * w)
    return Y.reshape(n, c_o, h, w)
    # END SOLUTION


# %%
X = torch.randn(4, 3, 5, 6)
K = torch.randn(2, 3, 1, 1)
reference = F.conv2d(X, K)  # (4, 2, 5, 6): compare your result with it
conv1x1_batch(X, K)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q2_section_example(conv1x1_batch):
    import torch

    from cnnlib.classroom.checks import check_callable, check_tensor
    from cnnlib.ops import corr2d_multi_in_out_1x1

    check_callable(conv1x1_batch, "conv1x1_batch")
    # The section's example, as a batch of one image (torch.manual_seed(0)'s numbers).
    gen = torch.Generator().manual_seed(0)
    X = torch.normal(0, 1, (3, 3, 3), generator=gen)
    K = torch.normal(0, 1, (2, 3, 1, 1), generator=gen)
    check_tensor(conv1x1_batch(X[None], K), corr2d_multi_in_out_1x1(X, K)[None],
                 "conv1x1_batch(X[None], K) for the section's X (3, 3, 3) and K (2, 3, 1, 1)")

test_q2_section_example(conv1x1_batch)

# %%
# HIDDEN
def test_q2_random_batches_against_conv2d(conv1x1_batch):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_tensor, fresh_generator

    gen = fresh_generator()
    # Batches of one and several images; one and several input and output channels, more
    # of either; square images, wider and taller ones, a single row and a single column.
    for n, c_in, c_out, h, w in ((2, 3, 2, 3, 3), (3, 1, 4, 2, 5), (5, 4, 4, 6, 1),
                                 (4, 2, 3, 4, 7), (1, 3, 1, 5, 2), (3, 2, 5, 1, 4),
                                 (2, 1, 1, 3, 3)):
        X = torch.randn(n, c_in, h, w, generator=gen)
        K = torch.randn(c_out, c_in, 1, 1, generator=gen)
        check_tensor(conv1x1_batch(X, K), F.conv2d(X, K),
                     f"conv1x1_batch(X {tuple(X.shape)}, K {tuple(K.shape)})", gen=gen)

test_q2_random_batches_against_conv2d(conv1x1_batch)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 2
# kind: compute
# forbids: [cnnlib.models.cost, torch.utils.flop_counter]
# exercises: [1, 2]

# %% [markdown]
# ### q3 · what a convolutional layer costs (≈10 min)
#
# Exercises 1 and 2 of the section ask for the weights and the work of a layer. Write
# `conv_cost(c_in, c_out, kernel_size, height, width)` for `nn.Conv2d(c_in, c_out,
# kernel_size)` (stride 1, no padding, with a bias) applied to one `height` × `width`
# image; `kernel_size` is a pair `(kh, kw)`. Return the pair `(params, mult_adds)` of
# ints: the number of weights and biases, and the number of multiply-adds the layer
# computes. Each output cell of each output channel takes one multiply-add per weight of
# that channel's `c_in` × `kh` × `kw` kernel; adding the bias does not count.
#
# Then try exercise 2: what happens to the two numbers when you double `c_in`, and when
# you halve `height` and `width`?

# %% [raw]
# # BEGIN SOLUTION

# %%
def conv_cost(c_in, c_out, kernel_size, height, width):
    """(params, mult_adds) of nn.Conv2d(c_in, c_out, kernel_size) on a height x width input."""
    # BEGIN SOLUTION
    kh, kw = kernel_size
    weights = c_out * c_in * kh * kw
    out_cells = (height - kh + 1) * (width - kw + 1)
    return weights + c_out, weights * out_cells
    # END SOLUTION


# %%
print(conv_cost(3, 8, (5, 5), 32, 32))
print(sum(p.numel() for p in nn.Conv2d(3, 8, 5).parameters()))

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q3_section_layers(conv_cost):
    from cnnlib.classroom.checks import check_callable, check_equal

    check_callable(conv_cost, "conv_cost")
    result = conv_cost(3, 8, (5, 5), 32, 32)
    check_equal(type(result), tuple, "type(conv_cost(3, 8, (5, 5), 32, 32))")
    # Exercise 1: sum(p.numel() for p in nn.Conv2d(3, 8, 5).parameters()).
    check_equal(result[0], 608, "the params of conv_cost(3, 8, (5, 5), 32, 32)")
    # The section's 1x1 example: 2 x 3 weights and 2 biases; each of the 2 x 9 output
    # cells takes 3 multiply-adds.
    check_equal(conv_cost(3, 2, (1, 1), 3, 3), (8, 54), "conv_cost(3, 2, (1, 1), 3, 3)")

test_q3_section_layers(conv_cost)

# %%
# HIDDEN
def test_q3_random_layers_against_pytorch(conv_cost):
    import torch
    import torch.nn.functional as F
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    from cnnlib.classroom.checks import check_equal, fresh_generator

    gen = fresh_generator()

    def draw(low, high):
        return int(torch.randint(low, high, (1,), generator=gen))

    # Kernels square, taller, wider and 1 x 1, with one and several input channels, on
    # images taller and wider than they are wide, and a kernel as large as the image.
    for (kh, kw), channels, shape in (
            ((3, 3), "many", "tall"), ((5, 2), "one", "wide"), ((1, 4), "many", "tall"),
            ((2, 1), "many", "wide"), ((1, 1), "one", "tall"), ((3, 2), "many", "fit"),
            ((2, 5), "one", "wide")):
        c_in = 1 if channels == "one" else draw(2, 9)
        c_out = draw(1, 9)
        small = max(kh, kw) + draw(0, 6)
        big = small + draw(1, 7)
        h, w = {"tall": (big, small), "wide": (small, big), "fit": (kh, kw)}[shape]
        layer = nn.Conv2d(c_in, c_out, (kh, kw), device="meta")  # no weights drawn
        params = sum(p.numel() for p in layer.parameters())
        with FlopCounterMode(display=False) as counter:  # counts 2 flops per multiply-add
            F.conv2d(torch.zeros(1, c_in, h, w), torch.zeros(c_out, c_in, kh, kw))
        mult_adds = counter.get_total_flops() // 2
        check_equal(conv_cost(c_in, c_out, (kh, kw), h, w), (params, mult_adds),
                    f"conv_cost({c_in}, {c_out}, {(kh, kw)}, {h}, {w}) "
                    f"(random sizes, seed {gen.initial_seed()})")

test_q3_random_layers_against_pytorch(conv_cost)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 3
# kind: compute
# forbids: []
# exercises: [4]

# %% [markdown]
# ### q4 · two 1 × 1 layers make one (≈15 min)
#
# Exercise 4 of the section: two 1 × 1 convolutions in a row, with no nonlinearity
# between them, compute what a single 1 × 1 convolution computes. The first has kernel
# `K1` of shape `(c_m, c_i, 1, 1)` and bias `b1` of shape `(c_m,)`, the second `K2` of
# shape `(c_o, c_m, 1, 1)` and `b2` of shape `(c_o,)`. Write `merge_1x1(K1, b1, K2, b2)`,
# which returns the pair `(K, b)` of shapes `(c_o, c_i, 1, 1)` and `(c_o,)` such that
# `F.conv2d(X, K, b)` equals `F.conv2d(F.conv2d(X, K1, b1), K2, b2)` for every input `X`.
#
# *Hint:* at one pixel, the first layer maps the channel vector $x$ to $W_1 x + b_1$ and
# the second maps $z$ to $W_2 z + b_2$. Substitute, and keep *both* biases.

# %% [raw]
# # BEGIN SOLUTION

# %%
def merge_1x1(K1, b1, K2, b2):
    """The kernel and bias (K, b) of one 1x1 layer equal to layer (K1, b1) then (K2, b2)."""
    # BEGIN SOLUTION
    W1, W2 = K1[:, :, 0, 0], K2[:, :, 0, 0]  # (c_m, c_i), (c_o, c_m)
    return (W2 @ W1)[:, :, None, None], W2 @ b1 + b2
    # END SOLUTION


# %%
K1, K2 = torch.randn(4, 3, 1, 1), torch.randn(2, 4, 1, 1)
b1, b2 = torch.randn(4), torch.randn(2)
X = torch.randn(1, 3, 5, 5)
two_layers = F.conv2d(F.conv2d(X, K1, b1), K2, b2)
merged = merge_1x1(K1, b1, K2, b2)  # F.conv2d(X, *merged) should equal two_layers
merged

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q4_layers_without_bias(merge_1x1):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_callable, check_shape, check_tensor

    check_callable(merge_1x1, "merge_1x1")
    # Like the section's 1x1 kernels, with no bias (zeros).
    gen = torch.Generator().manual_seed(0)
    K1 = torch.normal(0, 1, (4, 3, 1, 1), generator=gen)
    K2 = torch.normal(0, 1, (2, 4, 1, 1), generator=gen)
    b1, b2 = torch.zeros(4), torch.zeros(2)
    result = merge_1x1(K1, b1, K2, b2)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise AssertionError(f"merge_1x1 should return a pair (K, b), got {result!r}")
    K, b = result
    check_shape(K, (2, 3, 1, 1), "K of merge_1x1")
    check_shape(b, (2,), "b of merge_1x1")
    X = torch.normal(0, 1, (1, 3, 3, 3), generator=gen)
    check_tensor(F.conv2d(X, K, b), F.conv2d(F.conv2d(X, K1, b1), K2, b2),
                 "F.conv2d(X, K, b) with (K, b) = merge_1x1(K1, 0, K2, 0)")

test_q4_layers_without_bias(merge_1x1)

# %%
# HIDDEN
def test_q4_random_layers_with_biases(merge_1x1):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_tensor, fresh_generator

    gen = fresh_generator()
    # One and several channels in each of the three places, in every order of sizes.
    for c_in, c_mid, c_out in ((3, 4, 2), (1, 2, 5), (4, 1, 3), (3, 3, 3), (2, 3, 1),
                               (1, 1, 1)):
        K1 = torch.randn(c_mid, c_in, 1, 1, generator=gen)
        K2 = torch.randn(c_out, c_mid, 1, 1, generator=gen)
        b1, b2 = torch.randn(c_mid, generator=gen), torch.randn(c_out, generator=gen)
        X = torch.randn(2, c_in, 4, 5, generator=gen)
        result = merge_1x1(K1, b1, K2, b2)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise AssertionError(f"merge_1x1 should return a pair (K, b), got {result!r}")
        K, b = result
        check_tensor(F.conv2d(X, K, b), F.conv2d(F.conv2d(X, K1, b1), K2, b2),
                     f"F.conv2d(X, K, b), (K, b) = merge_1x1 of layers {c_in}->{c_mid}->{c_out}",
                     gen=gen)

test_q4_random_layers_with_biases(merge_1x1)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q5
# points: 3
# kind: explain
# forbids: []

# %% [markdown]
# ### q5 · are Y1 and Y2 the same? (≈10 min)
#
# This is D2L exercise 4. At the end of section 7.4, `Y1 = corr2d_multi_in_out_1x1(X, K)`
# (one matrix product) and `Y2 = corr2d_multi_in_out(X, K)` (a correlation per channel,
# then a sum) are checked with `float(torch.abs(Y1 - Y2).sum()) < 1e-6`, not with
# `torch.equal`. Both functions are in `cnnlib.ops`; try them on `X` of shape
# `(64, 5, 5)` and `K` of shape `(8, 64, 1, 1)`, drawn with `torch.randn` in float32.
#
# * `"identical"`: is `torch.equal(Y1, Y2)` true for every such `X` and `K`?
# * `"close"`: is `torch.allclose(Y1, Y2, atol=1e-5)` true for every such `X` and `K`?
#   (Its other tolerance stays at the default `rtol=1e-05`.)
# * `"reason"`: which sentence explains what you see?
#   * **A** Both add up the same products, but in a different order, and float32 rounds
#     every partial sum, so the last bits of the results can differ.
#   * **B** The matrix product skips the products that are zero, so it adds fewer terms.
#   * **C** `corr2d_multi_in_out` adds a bias and the matrix product does not.
#   * **D** On a CPU, `torch.matmul` computes in half precision.
#
# Set `q5_answer` to a dict with these three keys: two `True`/`False` values and a letter.

# %% [raw]
# # BEGIN SOLUTION

# %%
q5_answer = {"identical": ..., "close": ..., "reason": ...}
# BEGIN SOLUTION
q5_answer = {"identical": False, "close": True, "reason": "A"}
# END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q5_form(q5_answer):
    from cnnlib.classroom.checks import check_form

    form = {"identical": bool, "close": bool, "reason": ("A", "B", "C", "D")}
    check_form(q5_answer, form, "q5_answer")

test_q5_form(q5_answer)

# %%
# HIDDEN
def test_q5_identical(q5_answer):
    import torch

    from cnnlib.classroom.checks import check_judged, fresh_generator
    from cnnlib.ops import corr2d_multi_in_out, corr2d_multi_in_out_1x1

    gen = fresh_generator()
    always = True
    for _ in range(5):
        X = torch.randn(64, 5, 5, generator=gen)
        K = torch.randn(8, 64, 1, 1, generator=gen)
        always &= torch.equal(corr2d_multi_in_out_1x1(X, K), corr2d_multi_in_out(X, K))
    check_judged(q5_answer["identical"], always,
                 'q5_answer["identical"] (compare them with torch.equal)')

test_q5_identical(q5_answer)

# %%
# HIDDEN
def test_q5_close(q5_answer):
    import torch

    from cnnlib.classroom.checks import check_judged, fresh_generator
    from cnnlib.ops import corr2d_multi_in_out, corr2d_multi_in_out_1x1

    gen = fresh_generator()
    always = True
    for _ in range(5):
        X = torch.randn(64, 5, 5, generator=gen)
        K = torch.randn(8, 64, 1, 1, generator=gen)
        always &= torch.allclose(corr2d_multi_in_out_1x1(X, K), corr2d_multi_in_out(X, K),
                                 atol=1e-5)
    check_judged(q5_answer["close"], always, 'q5_answer["close"]')

test_q5_close(q5_answer)

# %%
# HIDDEN
def test_q5_reason(q5_answer):
    from cnnlib.classroom.checks import check_judged

    # A: the same sum in another order rounds differently in float32. B is false (zeros
    # are multiplied like any number), C is false (neither function has a bias), D is
    # false (float32 inputs give a float32 product).
    check_judged(q5_answer["reason"], "A", "the sentence you chose")

test_q5_reason(q5_answer)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Hand in
#
# Run *Kernel → Restart & Run All*, check that every `grader.check` above passes, then run
# the cell below. It saves a zip with your notebook; hand in that zip or this `.ipynb`.
