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
# name: 7_3_padding_stride
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
# # Assignment 7.3: Padding and stride
#
# Companion section: *7.3 Padding and Stride*. You will turn the output-size formula,
# dilation included, into code, extend it to separate height and width settings, find
# the padding that keeps the size unchanged, and count the input rows that a strided
# kernel never reads. Then you predict what a stride saves and what PyTorch's padding
# options do.
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
# forbids: [cnnlib.ops]

# %% [markdown]
# ### q1 · the output size, with dilation (≈15 min)
#
# Along one direction, a convolution (or pooling) layer takes an input of `n` cells, adds
# `p` zeros on each side, and slides a kernel of `k` taps by `s` cells at a time. With
# dilation `d` the taps sit `d` cells apart, so the kernel spans $d(k - 1) + 1$ cells.
# Write `conv_output_size(n, k, p=0, s=1, d=1)`, which returns the number of outputs in
# that direction as an int, exactly as `nn.Conv2d` computes it. You may assume that the
# kernel fits into the padded input.
#
# *Hint:* count how many windows fit, as section 7.3 did: the first window takes its whole
# span, every further one needs `s` more cells.

# %% [raw]
# # BEGIN SOLUTION

# %%
def conv_output_size(n, k, p=0, s=1, d=1):
    """Outputs along one direction: n inputs, kernel k, padding p, stride s, dilation d."""
    span = d * (k - 1) + 1  # SOLUTION
    return (n + 2 * p - span) // s + 1  # SOLUTION


# %%
conv_output_size(8, 3, p=1, s=2, d=2)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q1_section_layers(conv_output_size):
    from cnnlib.classroom.checks import check_callable, check_equal

    check_callable(conv_output_size, "conv_output_size")
    # Section 7.3's layers on an 8 x 8 input, one direction at a time.
    for k, p, s, expected in ((3, 1, 1, 8), (5, 2, 1, 8), (3, 1, 2, 4), (3, 0, 3, 2), (5, 1, 4, 2)):
        check_equal(conv_output_size(8, k, p, s), expected, f"conv_output_size(8, {k}, {p}, {s})")
    # The explorer's stride-2 layer with dilation 2.
    check_equal(conv_output_size(8, 3, p=1, s=2, d=2), 3, "conv_output_size(8, 3, p=1, s=2, d=2)")

test_q1_section_layers(conv_output_size)

# %%
# HIDDEN
def test_q1_every_setting_against_conv2d(conv_output_size):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_equal, fresh_generator

    gen = fresh_generator()

    def outputs(n, k, p, s, d):
        X, K = torch.zeros(1, 1, n, 1), torch.zeros(1, 1, k, 1)
        return F.conv2d(X, K, padding=(p, 0), stride=(s, 1), dilation=(d, 1)).shape[2]

    # In every grading: strides that leave cells over, with dilation; even kernels with
    # dilation; windows exactly as large as the padded input, a kernel larger than the input
    # that fits thanks to the padding, a 1-tap kernel.
    for n, k, p, s, d in ((10, 3, 0, 3, 2), (10, 3, 0, 2, 3), (7, 2, 0, 1, 2), (9, 4, 1, 2, 3),
                          (11, 4, 2, 3, 2), (5, 3, 0, 1, 2), (3, 5, 1, 1, 1), (1, 3, 1, 2, 1),
                          (12, 1, 2, 3, 1), (8, 2, 1, 2, 4)):
        check_equal(conv_output_size(n, k, p, s, d), outputs(n, k, p, s, d),
                    f"conv_output_size({n}, {k}, p={p}, s={s}, d={d})")
    # Every dilation, stride and padding together, each dilation with kernels of 1 to 4 taps;
    # every third input exactly as large as the (padded) window, the others larger.
    case = 0
    for d in (1, 2, 3):
        for s in (1, 2, 3):
            for p in (0, 1, 2):
                k = 1 + case % 4
                tight = d * (k - 1) + 1 - 2 * p
                if case % 3 == 0 and tight >= 1:
                    n = tight
                else:
                    n = max(1, tight) + int(torch.randint(0, 9, (1,), generator=gen))
                case += 1
                check_equal(conv_output_size(n, k, p, s, d), outputs(n, k, p, s, d),
                            f"conv_output_size({n}, {k}, p={p}, s={s}, d={d}) "
                            f"(random sizes, seed {gen.initial_seed()})")

test_q1_every_setting_against_conv2d(conv_output_size)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 2
# kind: compute
# forbids: [cnnlib.ops]
# exercises: [1]

# %% [markdown]
# ### q2 · height and width settings (≈10 min)
#
# `nn.Conv2d` takes every size as an int (the same in both directions) or as a pair
# `(height, width)`. Write
# `conv2d_output_shape(input_size, kernel_size, padding=0, stride=1, dilation=1)`, where
# each argument is an int or a pair, and return the output's `(height, width)` as a tuple
# of ints. Use your `conv_output_size` from q1 in each direction.
#
# Check yourself on exercise 1 of the section: the notes' last layer,
# `kernel_size=(3, 5), padding=(0, 1), stride=(3, 4)` on an 8 × 8 input.

# %% [raw]
# # BEGIN SOLUTION

# %%
def conv2d_output_shape(input_size, kernel_size, padding=0, stride=1, dilation=1):
    """The (height, width) of a 2-D convolution's output; every argument is an int or a pair."""
    # BEGIN SOLUTION
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    settings = [pair(v) for v in (input_size, kernel_size, padding, stride, dilation)]
    return tuple(conv_output_size(*(v[dim] for v in settings)) for dim in (0, 1))
    # END SOLUTION


# %%
print(conv2d_output_shape(8, (3, 5), padding=(0, 1), stride=(3, 4)))
layer = nn.Conv2d(1, 1, kernel_size=(3, 5), padding=(0, 1), stride=(3, 4))
print(layer(torch.zeros(1, 1, 8, 8)).shape)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q2_section_layers(conv2d_output_shape):
    from cnnlib.classroom.checks import check_callable, check_equal

    check_callable(conv2d_output_shape, "conv2d_output_shape")
    settings = [
        ({"kernel_size": 3, "padding": 1}, (8, 8)),
        ({"kernel_size": (5, 3), "padding": (2, 1)}, (8, 8)),
        ({"kernel_size": 3, "padding": 1, "stride": 2}, (4, 4)),
        ({"kernel_size": (3, 5), "padding": (0, 1), "stride": (3, 4)}, (2, 2)),
    ]
    for setting, expected in settings:
        check_equal(conv2d_output_shape((8, 8), **setting), expected,
                    f"conv2d_output_shape((8, 8), {setting})")
    check_equal(conv2d_output_shape(8, 3, padding=1, stride=2, dilation=2), (3, 3),
                "conv2d_output_shape(8, 3, padding=1, stride=2, dilation=2)")

test_q2_section_layers(conv2d_output_shape)

# %%
# HIDDEN
def test_q2_random_pairs_against_conv2d(conv2d_output_shape):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_equal, fresh_generator

    gen = fresh_generator()

    def draw(low, high):
        return int(torch.randint(low, high, (1,), generator=gen))

    # Every argument as an int in some calls and as a pair with two different entries in
    # others, on its own among ints and all together; each pair's second entry changes the
    # width, so a pair cut to its first entry, or read as (width, height), is caught.
    for case in range(9):
        n, k, extra = draw(12, 20), draw(2, 4), draw(2, 4)
        size, kernel, padding, stride, dilation = [
            (n, 3, 1, 2, 2),                                              # all ints
            (n, (k, k + extra), 0, 1, 1),                                 # kernel pair
            ((n, n + extra + 2), 3, 1, 1, 1),                             # input pair
            (n, 3, (0, extra), 1, 1),                                     # padding pair
            (n, 3, 0, (1, extra + 1), 1),                                 # stride pair
            (n, 3, 0, 1, (1, extra)),                                     # dilation pair
            (n, k, 1, 1, (extra, 1)),                                     # dilation, first larger
            ((n, n + extra + 2), (3, 2), (1, 0), (2, 1), (1, extra)),     # all pairs
            ((n + extra + 2, n), (2, k + 2), (0, 2), (1, extra), (3, 1)),
        ][case]
        hw = (size, size) if isinstance(size, int) else size
        X = torch.zeros((1, 1) + hw)
        K = torch.zeros((1, 1) + ((kernel, kernel) if isinstance(kernel, int) else kernel))
        Y = F.conv2d(X, K, padding=padding, stride=stride, dilation=dilation)
        expected = tuple(Y.shape[2:])
        check_equal(conv2d_output_shape(size, kernel, padding, stride, dilation), expected,
                    f"conv2d_output_shape({size}, {kernel}, {padding}, {stride}, {dilation}) "
                    f"(random sizes, seed {gen.initial_seed()})")

test_q2_random_pairs_against_conv2d(conv2d_output_shape)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 2
# kind: compute
# forbids: []
# exercises: [2]

# %% [markdown]
# ### q3 · padding that keeps the size (≈10 min)
#
# Section 7.3 chose $p = (k - 1)/2$ to keep an input's size with stride 1 and an odd
# kernel. Write `same_padding(k, d=1)`: the padding `p` (an int) for which a stride-1
# convolution with a kernel of `k` taps and dilation `d` gives exactly as many outputs as
# it has inputs, for every input size. You may assume the dilated kernel spans an odd
# number of cells. This answers exercise 2: the padding for a 3 × 3 kernel with
# dilation 2.

# %% [raw]
# # BEGIN SOLUTION

# %%
def same_padding(k, d=1):
    """Padding that keeps the size for stride 1, a kernel of k taps and dilation d."""
    return d * (k - 1) // 2  # SOLUTION


# %%
same_padding(3, d=2)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q3_section_kernels(same_padding):
    from cnnlib.classroom.checks import check_callable, check_equal

    check_callable(same_padding, "same_padding")
    check_equal(type(same_padding(3)), int, "type(same_padding(3))")
    for k, expected in ((3, 1), (5, 2), (7, 3)):
        check_equal(same_padding(k), expected, f"same_padding({k})")
    check_equal(same_padding(3, d=2), 2, "same_padding(3, d=2)")

test_q3_section_kernels(same_padding)

# %%
# HIDDEN
def test_q3_size_kept_by_conv2d(same_padding):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_equal, fresh_generator

    gen = fresh_generator()
    # Every kernel of 1 to 7 taps with every dilation of 1 to 4 whose window spans an odd
    # number of cells: odd kernels with any dilation, even kernels with even dilations.
    for k in range(1, 8):
        for d in (1, 2, 3, 4):
            if d * (k - 1) % 2:
                continue
            n = int(torch.randint(1, 30, (1,), generator=gen))
            p = same_padding(k, d)
            check_equal(type(p), int, f"type(same_padding({k}, d={d}))")
            Y = F.conv2d(torch.zeros(1, 1, n, 1), torch.zeros(1, 1, k, 1), padding=(p, 0),
                         dilation=(d, 1))
            check_equal(Y.shape[2], n, f"outputs of a conv with n={n}, k={k}, d={d} and "
                                       f"padding same_padding({k}, d={d}) = {p}")

test_q3_size_kept_by_conv2d(same_padding)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 3
# kind: compute
# forbids: [cnnlib.ops]
# exercises: [3]

# %% [markdown]
# ### q4 · rows the kernel never reads (≈20 min)
#
# In the section's gallery, red rows are never covered by any window: with
# `kernel_size=3, stride=3` and no padding, the last two rows of an 8 × 8 input are
# skipped. Write `unread_rows(n, k, p, s)`: the number of *input* rows (not padding rows)
# of an `n`-row input that no window of a kernel of `k` rows, with padding `p` and stride
# `s`, covers. You may assume at least one window fits.
#
# Think about every case: rows can be skipped at the end, but also *between* windows
# when the stride is larger than the kernel. Exercise 3 asks for which `n` a 3 × 3 kernel
# with padding 1 and stride 2 reads every row: try a few.

# %% [raw]
# # BEGIN SOLUTION

# %%
def unread_rows(n, k, p, s):
    """How many of the n input rows no window covers (kernel k, padding p, stride s)."""
    # BEGIN SOLUTION
    outputs = (n + 2 * p - k) // s + 1
    read = set()
    for o in range(outputs):
        start = o * s - p  # first row of window o, in input coordinates
        read.update(r for r in range(start, start + k) if 0 <= r < n)
    return n - len(read)
    # END SOLUTION


# %%
[unread_rows(n, 3, 1, 2) for n in range(3, 12)]

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q4_section_layers(unread_rows):
    from cnnlib.classroom.checks import check_callable, check_equal

    check_callable(unread_rows, "unread_rows")
    # The gallery's last layer: kernel (3, 5), padding (0, 1), stride (3, 4) on 8 x 8.
    check_equal(unread_rows(8, 3, 0, 3), 2, "unread_rows(8, 3, 0, 3) (the rows)")
    check_equal(unread_rows(8, 5, 1, 4), 0, "unread_rows(8, 5, 1, 4) (the columns)")
    # Only padding is skipped by the stride-2 layer, and nothing by the stride-1 ones.
    check_equal(unread_rows(8, 3, 1, 2), 0, "unread_rows(8, 3, 1, 2)")
    check_equal(unread_rows(8, 5, 2, 1), 0, "unread_rows(8, 5, 2, 1)")

test_q4_section_layers(unread_rows)

# %%
# HIDDEN
def test_q4_every_stride_by_autograd(unread_rows):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_equal, fresh_generator

    gen = fresh_generator()

    def unread(n, k, p, s):
        X = torch.ones(1, 1, n, 1, requires_grad=True)
        F.conv2d(X, torch.ones(1, 1, k, 1), padding=(p, 0), stride=(s, 1)).sum().backward()
        return int((X.grad[0, 0, :, 0] == 0).sum())  # rows no window touched

    # In every grading: the last row read only by a window that reaches into the bottom
    # padding; strides larger than the kernel with padding; padding wider than the kernel
    # (windows made of padding only, gaps partly in the padding); a kernel as large as the
    # input, and one larger that fits thanks to the padding.
    for n, k, p, s in ((5, 3, 1, 2), (9, 3, 1, 4), (6, 1, 2, 3), (7, 2, 3, 2), (10, 2, 1, 5),
                       (4, 4, 0, 1), (4, 5, 1, 2), (3, 1, 0, 2), (11, 3, 2, 4)):
        check_equal(unread_rows(n, k, p, s), unread(n, k, p, s), f"unread_rows({n}, {k}, {p}, {s})")
    # Strides smaller than, equal to and larger than the kernel, with and without padding.
    for k, s in ((3, 1), (3, 2), (2, 2), (3, 3), (1, 2), (2, 3), (3, 5), (4, 3)):
        for p in (0, 1, 2):
            n = 4 + int(torch.randint(0, 12, (1,), generator=gen))
            check_equal(unread_rows(n, k, p, s), unread(n, k, p, s),
                        f"unread_rows({n}, {k}, {p}, {s}) (random n, seed {gen.initial_seed()})")

test_q4_every_stride_by_autograd(unread_rows)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q5
# points: 2
# kind: predict
# forbids: []

# %% [markdown]
# ### q5 · predict what a stride of 2 saves (≈10 min)
#
# This is D2L exercise 4: what does a stride larger than 1 save? Take
# `nn.Conv2d(16, 32, kernel_size=3, padding=1)` on a batch of one 16 × 64 × 64 input, and
# the same layer with `stride=2`. Predict, without running them, by what factor the
# stride-1 layer's count exceeds the stride-2 layer's count (stride-1 count divided by
# stride-2 count) for
#
# * `"outputs"`: the number of values in the output,
# * `"mult_adds"`: the multiply-adds of the forward pass (as in assignment 7.4: one per
#   weight of the kernel, for each output value),
# * `"params"`: the number of weights and biases.
#
# Set `q5_answer` to a dict with these three keys, each mapped to a number. Then think
# about what a stride does *not* save: which of the three does it leave alone, and why?

# %% [raw]
# # BEGIN SOLUTION

# %%
q5_answer = {"outputs": ..., "mult_adds": ..., "params": ...}
# BEGIN SOLUTION
q5_answer = {"outputs": 4, "mult_adds": 4, "params": 1}
# END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q5_form(q5_answer):
    from cnnlib.classroom.checks import check_form

    check_form(q5_answer, dict.fromkeys(("outputs", "mult_adds", "params"), float), "q5_answer")
    for key, value in q5_answer.items():
        if value <= 0:
            raise AssertionError(f"q5_answer[{key!r}] should be a positive number, "
                                 f"got {value!r}")

test_q5_form(q5_answer)

# %%
# HIDDEN
def test_q5_outputs(q5_answer):
    import torch
    import torch.nn.functional as F

    def outputs(stride):
        return F.conv2d(torch.zeros(1, 16, 64, 64), torch.zeros(32, 16, 3, 3), padding=1,
                        stride=stride).numel()

    if abs(q5_answer["outputs"] - outputs(1) / outputs(2)) > 1e-9:
        raise AssertionError('q5_answer["outputs"] is wrong: a stride acts in both directions')

test_q5_outputs(q5_answer)

# %%
# HIDDEN
def test_q5_mult_adds(q5_answer):
    import torch
    import torch.nn.functional as F
    from torch.utils.flop_counter import FlopCounterMode

    def mult_adds(stride):
        with FlopCounterMode(display=False) as counter:  # 2 flops per multiply-add
            F.conv2d(torch.zeros(1, 16, 64, 64), torch.zeros(32, 16, 3, 3), padding=1,
                     stride=stride)
        return counter.get_total_flops() // 2

    if abs(q5_answer["mult_adds"] - mult_adds(1) / mult_adds(2)) > 1e-9:
        raise AssertionError('q5_answer["mult_adds"] is wrong: what does one output cost?')

test_q5_mult_adds(q5_answer)

# %%
# HIDDEN
def test_q5_params(q5_answer):
    from torch import nn

    def params(stride):
        layer = nn.Conv2d(16, 32, kernel_size=3, padding=1, stride=stride, device="meta")
        return sum(p.numel() for p in layer.parameters())

    if abs(q5_answer["params"] - params(1) / params(2)) > 1e-9:
        raise AssertionError('q5_answer["params"] is wrong')

test_q5_params(q5_answer)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q6
# points: 3
# kind: predict
# forbids: []

# %% [markdown]
# ### q6 · predict what padding modes do (≈15 min)
#
# PyTorch offers more than zero padding: `padding="same"` works the padding out for you,
# and `padding_mode="reflect"` fills the border with a mirror image of the pixels next to
# it (D2L exercise 3 asks you to implement such mirror padding). Decide each statement
# before you try it in a scratch cell:
#
# * **a** `nn.Conv2d(1, 1, kernel_size=4, padding="same")` turns a 9 × 9 input into a
#   9 × 9 output, although no whole number $p$ solves $9 + 2p - 4 + 1 = 9$.
# * **b** `nn.Conv2d(1, 1, kernel_size=3, padding="same", stride=2)` turns a 9 × 9 input
#   into a 9 × 9 output.
# * **c** Take a 3 × 3 kernel whose nine weights add up to 1, no bias, padding 1 and
#   `padding_mode="reflect"`. A constant image (every pixel 2.0) comes out as the same
#   constant in every cell, border cells included.
# * **d** The same with zero padding (`padding_mode="zeros"`, the default).
# * **e** With padding 1, stride 1 and a 3 × 3 kernel, every pixel of an 8 × 8 input is
#   read by exactly 9 windows.
#
# Set `q6_answer` to a dict that maps each letter to `True` or `False`. For **e**, count
# the windows that cover a corner pixel.

# %% [raw]
# # BEGIN SOLUTION

# %%
q6_answer = {"a": ..., "b": ..., "c": ..., "d": ..., "e": ...}  # True or False each
# BEGIN SOLUTION
q6_answer = {"a": True, "b": False, "c": True, "d": False, "e": False}
# END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q6_form(q6_answer):
    from cnnlib.classroom.checks import check_form

    check_form(q6_answer, dict.fromkeys("abcde", bool), "q6_answer")

test_q6_form(q6_answer)

# %%
# HIDDEN
def test_q6_a_same_with_an_even_kernel(q6_answer):
    import warnings

    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_judged

    def keeps_size(**settings):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # 'same' with an even kernel warns of a copy
                layer = nn.Conv2d(1, 1, **settings)
                return tuple(layer(torch.zeros(1, 1, 9, 9)).shape[2:]) == (9, 9)
        except ValueError:  # PyTorch refuses the setting
            return False

    check_judged(q6_answer["a"], keeps_size(kernel_size=4, padding="same"),
                 "statement a (must the padding be the same on both sides?)")

test_q6_a_same_with_an_even_kernel(q6_answer)

# %%
# HIDDEN
def test_q6_b_same_with_a_stride(q6_answer):
    import warnings

    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_judged

    def keeps_size(**settings):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # 'same' with an even kernel warns of a copy
                layer = nn.Conv2d(1, 1, **settings)
                return tuple(layer(torch.zeros(1, 1, 9, 9)).shape[2:]) == (9, 9)
        except ValueError:  # PyTorch refuses the setting
            return False

    check_judged(q6_answer["b"], keeps_size(kernel_size=3, padding="same", stride=2),
                 "statement b (how many windows can a stride of 2 fit?)")

test_q6_b_same_with_a_stride(q6_answer)

# %%
# HIDDEN
def test_q6_c_reflect_padding(q6_answer):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_judged, fresh_generator

    def constant_kept(mode):
        gen = fresh_generator()
        kept = True
        for _ in range(3):
            layer = nn.Conv2d(1, 1, 3, padding=1, padding_mode=mode, bias=False)
            weight = torch.rand(1, 1, 3, 3, generator=gen) + 0.1
            with torch.no_grad():
                layer.weight.copy_(weight / weight.sum())  # nine weights adding up to 1
                Y = layer(torch.full((1, 1, 6, 7), 2.0))
            kept &= torch.allclose(Y, torch.full_like(Y, 2.0), atol=1e-5)
        return kept

    check_judged(q6_answer["c"], constant_kept("reflect"),
                 "statement c (what does a border window see?)")

test_q6_c_reflect_padding(q6_answer)

# %%
# HIDDEN
def test_q6_d_zero_padding(q6_answer):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_judged, fresh_generator

    def constant_kept(mode):
        gen = fresh_generator()
        kept = True
        for _ in range(3):
            layer = nn.Conv2d(1, 1, 3, padding=1, padding_mode=mode, bias=False)
            weight = torch.rand(1, 1, 3, 3, generator=gen) + 0.1
            with torch.no_grad():
                layer.weight.copy_(weight / weight.sum())  # nine weights adding up to 1
                Y = layer(torch.full((1, 1, 6, 7), 2.0))
            kept &= torch.allclose(Y, torch.full_like(Y, 2.0), atol=1e-5)
        return kept

    check_judged(q6_answer["d"], constant_kept("zeros"),
                 "statement d (what does a border window see?)")

test_q6_d_zero_padding(q6_answer)

# %%
# HIDDEN
def test_q6_e_windows_per_pixel(q6_answer):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_judged

    X = torch.ones(1, 1, 8, 8, requires_grad=True)
    F.conv2d(X, torch.ones(1, 1, 3, 3), padding=1).sum().backward()
    every_pixel_nine = bool((X.grad == 9).all())  # X.grad counts the windows per pixel
    check_judged(q6_answer["e"], every_pixel_nine, "statement e (count the windows of a corner)")

test_q6_e_windows_per_pixel(q6_answer)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Hand in
#
# Run *Kernel → Restart & Run All*, check that every `grader.check` above passes, then run
# the cell below. It saves a zip with your notebook; hand in that zip or this `.ipynb`.
