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
# name: 7_1_fc_to_conv
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
# # Assignment 7.1: From fully connected layers to convolutions
#
# Companion section: *7.1 From Fully Connected Layers to Convolutions*. You will put
# numbers on the two assumptions behind a convolution: count what a dense layer and a
# convolution cost in parameters, shift an image and watch the edge map shift with it,
# and work out exactly which input pixels one output of a stack of correlations reads.
# Then you predict where equivariance breaks down at the border, and explain what a
# kernel of size zero computes.
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
from torch import nn

from cnnlib import setup

seed = setup(0)

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 3
# kind: compute
# forbids: [torch.nn.Linear, torch.nn.LazyLinear, torch.nn.Conv2d, torch.nn.LazyConv2d,
#   cnnlib.explain.equivariance.layer_counts]
# exercises: [1]

# %% [markdown]
# ### q1 · parameters of a dense layer and of a convolution (≈15 min)
#
# Section 7.1 counted a billion weights for a dense layer on a one-megapixel greyscale
# photo, and ten for a 3 × 3 convolution. Write
# `param_counts(height, width, in_channels, hidden_units, out_channels, kernel_size)`,
# which returns the pair `(dense, conv)` of parameter counts, biases included, of
#
# * `nn.Linear(height * width * in_channels, hidden_units)`: a dense layer on the
#   flattened image, and
# * `nn.Conv2d(in_channels, out_channels, kernel_size)`: a convolution on the image.
#
# `kernel_size` is an int `k` (a $k \times k$ kernel) or a pair `(kh, kw)`, as for
# `nn.Conv2d`. Return plain Python ints, and compute them from the formulas: do not
# build the layers (a billion weights take gigabytes of memory).
#
# Try it on exercise 1 of the section: a one-megapixel colour photo, 1000 hidden units,
# and a 5 × 5 convolution from 3 to 64 channels. Which count depends on the image size?

# %% [raw]
# # BEGIN SOLUTION

# %%
def param_counts(height, width, in_channels, hidden_units, out_channels, kernel_size):
    """Parameter counts (dense, conv) of the dense layer and the convolution, biases included."""
    # BEGIN SOLUTION
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    dense = height * width * in_channels * hidden_units + hidden_units
    conv = out_channels * in_channels * kh * kw + out_channels
    return dense, conv
    # END SOLUTION


# %%
print(param_counts(1000, 1000, 3, 1000, 64, 5))
# A check outside your function (param_counts itself must not build layers):
print(sum(p.numel() for p in nn.Conv2d(3, 64, 5).parameters()))  # the convolution's count

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q1_section_examples(param_counts):
    from cnnlib.classroom.checks import check_callable, check_equal

    check_callable(param_counts, "param_counts")
    # The section's count: 1 megapixel greyscale -> 1000 units, and one 3x3 kernel.
    check_equal(param_counts(1000, 1000, 1, 1000, 1, 3), (1_000_001_000, 10),
                "param_counts(1000, 1000, 1, 1000, 1, 3)")
    # Exercise 1: a colour photo, and nn.Conv2d(3, 64, 5).
    check_equal(param_counts(1000, 1000, 3, 1000, 64, 5), (3_000_001_000, 4864),
                "param_counts(1000, 1000, 3, 1000, 64, 5)")

test_q1_section_examples(param_counts)

# %%
# HIDDEN
def test_q1_random_against_layers(param_counts):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_equal, fresh_generator

    def count(module):
        return sum(p.numel() for p in module.parameters())

    gen = fresh_generator()

    def draw(low, high):
        return int(torch.randint(low, high, (1,), generator=gen))

    # Every kind of kernel_size in every grading: an int (1 x 1 included), a square pair,
    # and pairs taller and wider than they are wide, with one and several input channels.
    for shape, channels in (("int", "one"), ("int", "many"), ("one", "many"),
                            ("square pair", "one"), ("taller", "one"), ("taller", "many"),
                            ("wider", "one"), ("wider", "many")):
        c_in = 1 if channels == "one" else draw(2, 9)
        h, w, hidden = draw(5, 300), draw(5, 300), draw(1, 500)
        c_out, k = draw(1, 65), draw(2, 8)
        kernel_size = {"int": k, "one": 1, "square pair": (k, k), "taller": (k + draw(1, 4), k),
                       "wider": (k, k + draw(1, 4))}[shape]
        dense = nn.Linear(h * w * c_in, hidden, device="meta")
        conv = nn.Conv2d(c_in, c_out, kernel_size, device="meta")
        check_equal(param_counts(h, w, c_in, hidden, c_out, kernel_size),
                    (count(dense), count(conv)),
                    f"param_counts({h}, {w}, {c_in}, {hidden}, {c_out}, {kernel_size}) "
                    f"(random sizes, seed {gen.initial_seed()})")

test_q1_random_against_layers(param_counts)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 3
# kind: compute
# forbids: [cnnlib.explain.equivariance]

# %% [markdown]
# ### q2 · shifting an image, and the edge map with it (≈15 min)
#
# The section moved a trouser 3 pixels down and 4 to the right, filled the uncovered
# border with black, and found that the edge map moved by the same amount. Write
# `shift_image(X, dy, dx)` for a 2-D image `X`: the result has `X`'s shape, pixel
# `(i, j)` of the result is pixel `(i - dy, j - dx)` of `X` where that pixel exists, and
# 0 elsewhere. Positive `dy` moves the content down, negative `dy` up; positive `dx`
# moves it right, negative `dx` left. You may assume `abs(dy) < X.shape[0]` and
# `abs(dx) < X.shape[1]`.
#
# Pixels pushed over the edge are lost; they must *not* come back on the other side, as
# they would with `torch.roll` (exercise 2 of the section shows what that wrapping does
# to the edge map).
#
# *Hint:* start from `torch.zeros_like(X)` and copy one rectangle of `X` into it; work out
# which rows of the result are filled when `dy >= 0` and when `dy < 0`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def shift_image(X, dy, dx):
    """X moved dy rows down and dx columns right (negative: up/left), zero-filled, same shape."""
    # BEGIN SOLUTION
    h, w = X.shape
    Y = torch.zeros_like(X)
    Y[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = \
        X[max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)]
    return Y
    # END SOLUTION


# %%
X = torch.zeros(5, 6)
X[1:3, 1:4] = torch.arange(1.0, 7.0).reshape(2, 3)
print(shift_image(X, 1, 2))
print(shift_image(X, -1, -1))

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q2_small_block(shift_image):
    import torch

    from cnnlib.classroom.checks import check_callable, check_tensor

    check_callable(shift_image, "shift_image")
    X = torch.zeros(5, 6)
    X[1:3, 1:4] = torch.arange(1.0, 7.0).reshape(2, 3)  # a 2x3 block on a black background
    down_right = torch.zeros(5, 6)
    down_right[2:4, 3:6] = X[1:3, 1:4]
    check_tensor(shift_image(X, 1, 2), down_right, "shift_image(X, 1, 2)")
    up_left = torch.zeros(5, 6)
    up_left[0:2, 0:3] = X[1:3, 1:4]
    check_tensor(shift_image(X, -1, -1), up_left, "shift_image(X, -1, -1)")
    check_tensor(shift_image(X, 0, 0), X, "shift_image(X, 0, 0)")

test_q2_small_block(shift_image)

# %%
def test_q2_edge_map_moves_along(shift_image):
    import torch

    from cnnlib.classroom.checks import check_tensor
    from cnnlib.ops import corr2d_vectorized

    # A bright rectangle inside a black frame, as in the section's trouser example.
    X = torch.zeros(12, 12)
    X[2:7, 3:7] = 1.0
    K = torch.tensor([[1.0, 0.0, -1.0]] * 3)  # vertical edges
    dy, dx = 3, 4
    Y = corr2d_vectorized(X, K)
    Y_shifted = corr2d_vectorized(shift_image(X, dy, dx), K)
    check_tensor(Y_shifted[dy:, dx:], Y[:-dy, :-dx],
                 "the edge map of shift_image(X, 3, 4), against the original's moved by (3, 4)")

test_q2_edge_map_moves_along(shift_image)

# %%
# HIDDEN
def test_q2_random_images(shift_image):
    import torch

    from cnnlib.classroom.checks import check_tensor, fresh_generator

    gen = fresh_generator()

    def draw(low, high):
        return int(torch.randint(low, high, (1,), generator=gen))

    # Every sign of each shift, no shift, and shifts as large as allowed ("max" and "-max":
    # one pixel short of the image), on images wider than tall and taller than wide.
    shifts = [(0, 0), (3, 4), (-2, 1), (1, -3), (-1, -4), (0, 2), (-3, 0), (5, 5),
              ("max", 0), (0, "-max"), ("-max", "max"), ("max", -1)]
    for case, (dy, dx) in enumerate(shifts):
        h = 8 + draw(0, 4)
        w = h + 1 + draw(0, 3) if case % 2 == 0 else h - 1 - draw(0, 2)
        dy = {"max": h - 1, "-max": 1 - h}.get(dy, dy)
        dx = {"max": w - 1, "-max": 1 - w}.get(dx, dx)
        X = torch.randn(h, w, generator=gen) + 2.0  # no zeros: every lost pixel shows
        expected = torch.zeros(h, w)
        for i in range(h):
            for j in range(w):
                if 0 <= i - dy < h and 0 <= j - dx < w:
                    expected[i, j] = X[i - dy, j - dx]
        check_tensor(shift_image(X, dy, dx), expected, f"shift_image(X {h}x{w}, {dy}, {dx})",
                     gen=gen)

test_q2_random_images(shift_image)

# %%
# HIDDEN
def test_q2_equivariance_on_random_images(shift_image):
    import torch

    from cnnlib.classroom.checks import check_tensor, fresh_generator
    from cnnlib.ops import corr2d_vectorized

    gen = fresh_generator()
    for dy, dx in ((2, 3), (-2, 1), (1, -2), (-3, -3)):
        X, K = torch.randn(10, 11, generator=gen), torch.randn(3, 3, generator=gen)
        Y = corr2d_vectorized(X, K)
        Y_shifted = corr2d_vectorized(shift_image(X, dy, dx), K)
        # Where the shifted image still holds the original content, the maps agree.
        rows = slice(max(dy, 0), Y.shape[0] + min(dy, 0))
        cols = slice(max(dx, 0), Y.shape[1] + min(dx, 0))
        check_tensor(Y_shifted[rows, cols], shift_image(Y, dy, dx)[rows, cols],
                     f"corr2d of shift_image(X, {dy}, {dx}) inside the shifted region", gen=gen)

test_q2_equivariance_on_random_images(shift_image)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 3
# kind: compute
# forbids: [cnnlib.ops, cnnlib.viz.receptive]
# exercises: [4]

# %% [markdown]
# ### q3 · the window one output of a stack reads (≈20 min)
#
# In section 7.1 autograd showed that output `(10, 12)` of a 3 × 3 correlation depends
# on the 3 × 3 window of pixels whose top-left corner is `(10, 12)`. Now apply several
# correlations one after the other, each without padding and with stride 1 (like
# `corr2d`), with kernel shapes `kernel_sizes = [(kh1, kw1), (kh2, kw2), ...]`, first
# layer first. Write `input_window(kernel_sizes, i, j)`, which returns the rows and columns
# of the input that output `(i, j)` of the *last* layer depends on, as
# `((row_start, row_stop), (col_start, col_stop))` with exclusive stops, so that
# `X[row_start:row_stop, col_start:col_stop]` is exactly that window.
#
# Exercise 4 of the section asks this for two 3 × 3 layers: how many pixels is that?
#
# *Hint:* follow one layer back at a time. If an output of a layer reads rows `a` to `b`
# of that layer's input, which rows of the input before it do those depend on?

# %% [raw]
# # BEGIN SOLUTION

# %%
def input_window(kernel_sizes, i, j):
    """Input rows and columns ((r0, r1), (c0, c1)) that output (i, j) of the stack reads."""
    # BEGIN SOLUTION
    extra_rows = sum(kh - 1 for kh, _ in kernel_sizes)
    extra_cols = sum(kw - 1 for _, kw in kernel_sizes)
    return (i, i + extra_rows + 1), (j, j + extra_cols + 1)
    # END SOLUTION


# %%
input_window([(3, 3), (3, 3)], 10, 12)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q3_section_windows(input_window):
    from cnnlib.classroom.checks import check_callable, check_equal

    check_callable(input_window, "input_window")
    # The section's single 3x3 correlation: output (10, 12) reads rows 10-12, columns 12-14.
    check_equal(input_window([(3, 3)], 10, 12), ((10, 13), (12, 15)),
                "input_window([(3, 3)], 10, 12)")
    # Exercise 4: two 3x3 correlations in a row.
    check_equal(input_window([(3, 3), (3, 3)], 10, 12), ((10, 15), (12, 17)),
                "input_window([(3, 3), (3, 3)], 10, 12)")
    check_equal(input_window([(3, 3), (3, 3)], 0, 0), ((0, 5), (0, 5)),
                "input_window([(3, 3), (3, 3)], 0, 0)")

test_q3_section_windows(input_window)

# %%
# HIDDEN
def test_q3_random_stacks_by_autograd(input_window):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_equal, fresh_generator

    gen = fresh_generator()

    def draw(low, high):
        return int(torch.randint(low, high, (1,), generator=gen))

    # Stacks of one to four layers. The first kernel (1 x 1 included) is smaller than the
    # others, so a window that assumes every layer repeats the first kernel is caught; every
    # stack grows the window by different amounts down and across, and i != j, so rows and
    # columns mixed up are caught.
    for depth, first in ((1, (1, 2)), (2, (2, 1)), (3, (1, 1)), (4, (2, 2)), (2, (1, 2))):
        sizes = [first] + [(draw(3, 6), draw(3, 6)) for _ in range(depth - 1)]
        if sum(kh for kh, _ in sizes) == sum(kw for _, kw in sizes):
            sizes[-1] = (sizes[-1][0], sizes[-1][1] + 1)
        i = draw(0, 6)
        j = i + 1 + draw(0, 4) if depth % 2 or i == 0 else draw(0, i)  # j != i
        h = i + sum(kh - 1 for kh, _ in sizes) + 1 + draw(0, 4)
        w = j + sum(kw - 1 for _, kw in sizes) + 1 + draw(0, 4)
        X = torch.rand(1, 1, h, w, generator=gen, requires_grad=True)
        Y = X
        for kh, kw in sizes:  # positive weights: no gradient vanishes by accident
            Y = F.conv2d(Y, torch.rand(1, 1, kh, kw, generator=gen) + 0.1)
        Y[0, 0, i, j].backward()
        rows, cols = (X.grad[0, 0] != 0).nonzero(as_tuple=True)
        expected = ((int(rows.min()), int(rows.max()) + 1), (int(cols.min()), int(cols.max()) + 1))
        check_equal(input_window(sizes, i, j), expected,
                    f"input_window({sizes}, {i}, {j}) (random stack, seed {gen.initial_seed()})")

test_q3_random_stacks_by_autograd(input_window)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 3
# kind: predict
# forbids: []
# exercises: [2, 3]

# %% [markdown]
# ### q4 · predict what a shift does at the border (≈15 min)
#
# A convolution is translation equivariant in the interior of an image; D2L exercise 5
# asks what happens when an object reaches the boundary. Decide each statement below
# *before* you run anything, then check yourself in a scratch cell if you like. Take a
# random 12 × 12 image `X`, a random 3 × 3 kernel `K`, and
#
# * `conv(X) = F.conv2d(X[None, None], K[None, None], padding=1)[0, 0]`: zero padding,
#   a 12 × 12 output;
# * `conv_c(X)`: the same with *circular* padding, the image wrapped round like a
#   torus: `F.conv2d(F.pad(X[None, None], (1, 1, 1, 1), mode="circular"), K[None, None])[0, 0]`;
# * `roll(Y) = torch.roll(Y, shifts=1, dims=1)`: every column one to the right, the
#   last column coming back in at the left;
# * `shift(Y) = shift_image(Y, 0, 1)` from q2: one column to the right, zero-filled.
#
# "Equals" means equal in every cell (up to float rounding), for every `X` and `K`.
#
# * **a** `conv_c(roll(X))` equals `roll(conv_c(X))`.
# * **b** `conv(roll(X))` equals `roll(conv(X))`.
# * **c** If every nonzero pixel of `X` lies at least 2 pixels from each border,
#   `conv(shift(X))` equals `shift(conv(X))`.
# * **d** `conv_c(roll(X)).max()` equals `conv_c(X).max()`: the strongest response
#   over the whole map does not move when the image does.
# * **e** A dense layer `dense = nn.Linear(144, 144)` with random weights satisfies
#   `dense(roll(X).flatten())` equals `roll(dense(X.flatten()).reshape(12, 12)).flatten()`.
#
# Set `q4_answer` to a dict that maps each letter to `True` or `False`. Ask yourself in
# each case which output cells read a padding cell or a wrapped pixel. Statement **d**
# is the step from an equivariant map to an invariant answer (exercise 3 of the section).

# %% [raw]
# # BEGIN SOLUTION

# %%
q4_answer = {"a": ..., "b": ..., "c": ..., "d": ..., "e": ...}  # True or False each
# BEGIN SOLUTION
q4_answer = {"a": True, "b": False, "c": True, "d": True, "e": False}
# END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q4_form(q4_answer):
    from cnnlib.classroom.checks import check_form

    check_form(q4_answer, dict.fromkeys("abcde", bool), "q4_answer")

test_q4_form(q4_answer)

# %%
# HIDDEN
def test_q4_a_circular_padding(q4_answer):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_judged, fresh_generator

    gen = fresh_generator()
    holds = True
    for _ in range(3):
        X, K = torch.randn(12, 12, generator=gen), torch.randn(3, 3, generator=gen)

        def conv_c(Y, K=K):
            return F.conv2d(F.pad(Y[None, None], (1, 1, 1, 1), mode="circular"),
                            K[None, None])[0, 0]

        def roll(Y):
            return torch.roll(Y, shifts=1, dims=1)

        holds &= torch.allclose(conv_c(roll(X)), roll(conv_c(X)), atol=1e-5)
    check_judged(q4_answer["a"], holds, "statement a (which cells read a wrapped pixel?)")

test_q4_a_circular_padding(q4_answer)

# %%
# HIDDEN
def test_q4_b_zero_padding_and_roll(q4_answer):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_judged, fresh_generator

    gen = fresh_generator()
    holds = True
    for _ in range(3):
        X, K = torch.randn(12, 12, generator=gen), torch.randn(3, 3, generator=gen)

        def conv(Y, K=K):
            return F.conv2d(Y[None, None], K[None, None], padding=1)[0, 0]

        def roll(Y):
            return torch.roll(Y, shifts=1, dims=1)

        holds &= torch.allclose(conv(roll(X)), roll(conv(X)), atol=1e-5)
    check_judged(q4_answer["b"], holds, "statement b (look at the first and last columns)")

test_q4_b_zero_padding_and_roll(q4_answer)

# %%
# HIDDEN
def test_q4_c_content_away_from_the_border(q4_answer):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_judged, fresh_generator

    gen = fresh_generator()

    def shift(Y):  # one column to the right, zero-filled
        return F.pad(Y, (1, 0))[:, :-1]

    holds = True
    for _ in range(3):
        X = torch.zeros(12, 12)
        X[2:10, 2:10] = torch.randn(8, 8, generator=gen)  # 2 pixels from every border
        K = torch.randn(3, 3, generator=gen)

        def conv(Y, K=K):
            return F.conv2d(Y[None, None], K[None, None], padding=1)[0, 0]

        holds &= torch.allclose(conv(shift(X)), shift(conv(X)), atol=1e-5)
    check_judged(q4_answer["c"], holds, "statement c (does any window reach the border?)")

test_q4_c_content_away_from_the_border(q4_answer)

# %%
# HIDDEN
def test_q4_d_global_maximum(q4_answer):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_judged, fresh_generator

    gen = fresh_generator()
    holds = True
    for _ in range(3):
        X, K = torch.randn(12, 12, generator=gen), torch.randn(3, 3, generator=gen)

        def conv_c(Y, K=K):
            return F.conv2d(F.pad(Y[None, None], (1, 1, 1, 1), mode="circular"),
                            K[None, None])[0, 0]

        shifted = conv_c(torch.roll(X, shifts=1, dims=1)).max()
        holds &= torch.allclose(shifted, conv_c(X).max(), atol=1e-5)
    check_judged(q4_answer["d"], holds, "statement d")

test_q4_d_global_maximum(q4_answer)

# %%
# HIDDEN
def test_q4_e_dense_layer(q4_answer):
    import torch

    from cnnlib.classroom.checks import check_judged, fresh_generator

    gen = fresh_generator()
    holds = True
    for _ in range(3):
        X = torch.randn(12, 12, generator=gen)
        W, b = torch.randn(144, 144, generator=gen) / 12, torch.randn(144, generator=gen)

        def dense(v, W=W, b=b):
            return W @ v + b

        left = dense(torch.roll(X, shifts=1, dims=1).flatten())
        right = torch.roll(dense(X.flatten()).reshape(12, 12), shifts=1, dims=1).flatten()
        holds &= torch.allclose(left, right, atol=1e-5)
    check_judged(q4_answer["e"], holds, "statement e (does a dense layer share weights?)")

test_q4_e_dense_layer(q4_answer)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q5
# points: 2
# kind: explain
# forbids: []

# %% [markdown]
# ### q5 · a kernel of size zero (≈10 min)
#
# This is D2L exercise 1, made concrete. In D2L's formula for a convolutional layer with
# channels (the last formula of
# [D2L section 7.1](https://d2l.ai/chapter_convolutional-neural-networks/why-conv.html)),
# the window runs from $-\Delta$ to $\Delta$ in each direction. Set $\Delta = 0$: the
# kernel is 1 × 1. Take such a layer from 3 input channels (a colour image) to 64 output
# channels, with a bias (`nn.Conv2d(3, 64, kernel_size=1)`).
#
# 1. How many parameters (weights and biases) does it have on a 224 × 224 image?
# 2. Which sentence describes what it computes?
#    * **A** At every pixel it applies one and the same dense layer to that pixel's
#      vector of channel values, and it never looks at a neighbouring pixel.
#    * **B** Each output channel is one input channel times a single weight, so the
#      channels are never mixed.
#    * **C** Each output pixel is a weighted sum of the pixels around it, one weight per
#      neighbour.
#    * **D** Each pixel has a dense layer of its own, so the weights depend on where the
#      pixel is.
#
# Set `q5_answer = (count, letter)`: an int and one of `"A"`, `"B"`, `"C"`, `"D"`. (The
# answer to 2 is the idea behind the Network in Network architecture of section 8.3, as
# the exercise points out.)

# %% [raw]
# # BEGIN SOLUTION

# %%
q5_answer = (..., ...)  # (parameter count, letter)
# BEGIN SOLUTION
q5_answer = (3 * 64 + 64, "A")
# END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q5_form(q5_answer):
    from cnnlib.classroom.checks import check_form

    check_form(q5_answer, [int, ("A", "B", "C", "D")], "q5_answer")

test_q5_form(q5_answer)

# %%
# HIDDEN
def test_q5_count_against_conv2d(q5_answer):
    from torch import nn

    layer = nn.Conv2d(3, 64, kernel_size=1, device="meta")  # Delta = 0: a 1 x 1 kernel
    expected = sum(p.numel() for p in layer.parameters())
    if q5_answer[0] != expected:
        raise AssertionError("the parameter count is wrong: does it depend on the image size, "
                             "and did you count the biases?")

test_q5_count_against_conv2d(q5_answer)

# %%
# HIDDEN
def test_q5_what_it_computes(q5_answer):
    from cnnlib.classroom.checks import check_judged

    # A: a 1 x 1 convolution mixes the channels of each pixel with shared weights (a dense
    # layer per pixel, D2L exercise 1); B forgets the mixing, C describes a larger kernel,
    # D gives up weight sharing.
    check_judged(q5_answer[1], "A", "the sentence you chose")

test_q5_what_it_computes(q5_answer)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Hand in
#
# Run *Kernel → Restart & Run All*, check that every `grader.check` above passes, then run
# the cell below. It saves a zip with your notebook; hand in that zip or this `.ipynb`.
