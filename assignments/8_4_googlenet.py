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
# name: 8_4_googlenet
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
# # Assignment 8.4: Multi-branch networks (GoogLeNet)
#
# Companion section: *8.4 Multi-Branch Networks (GoogLeNet)*. You will write the
# Inception block from the description of its four branches, work out each branch's
# parameters and FLOPs from the formulas, and follow an image's height and width through
# GoogLeNet's stages.
#
# **How this works.** Write your answer where a cell says `...`, run the cell, then run
# the `grader.check(...)` cell below it. The checks you see are public: they test the
# examples in the text. When your notebook is graded, hidden tests try your code on
# fresh random inputs and compare it with PyTorch, so make it work in general, not just
# for the examples. Run the notebook top to bottom (*Run All*) before you hand it in.

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
from torch.nn import functional as F

from cnnlib import setup

seed = setup(0)

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 4
# kind: compute
# forbids: [cnnlib.models.googlenet, torch.nn.LazyConv2d]

# %% [markdown]
# ### q1 · the Inception block, with a factorised 5 × 5 branch (≈25 min)
#
# Write the Inception block of section 8.4 from this description, with the input
# channels stated (no lazy layers). `Inception(in_channels, c1, c2, c3, c4,
# factorize=False)` has four branches, each working on the same input `x` of shape
# $(N, C_\text{in}, H, W)$:
#
# | branch | layers (each convolution followed by a ReLU) | attributes |
# |---|---|---|
# | 1 | 1 × 1 convolution to `c1` channels | `b1_1` |
# | 2 | 1 × 1 convolution to `c2[0]`, then 3 × 3 convolution to `c2[1]` | `b2_1`, `b2_2` |
# | 3 | 1 × 1 convolution to `c3[0]`, then 5 × 5 convolution to `c3[1]` | `b3_1`, `b3_2` |
# | 4 | 3 × 3 max-pool, then 1 × 1 convolution to `c4` | `b4_1`, `b4_2` |
#
# Choose stride and padding so that every branch keeps $H$ and $W$, and concatenate the
# four results along the channel axis in the order 1, 2, 3, 4: the output has
# `c1 + c2[1] + c3[1] + c4` channels. Use exactly the attribute names of the table
# (the hidden tests load the weights of `cnnlib.models.googlenet.Inception` into your
# block) and keep PyTorch's default biases. Without `factorize`, set `self.b3_3 = None`.
#
# With `factorize=True`, branch 3 replaces its 5 × 5 convolution by two 3 × 3
# convolutions, `b3_2` from `c3[0]` to `c3[1]` channels and `b3_3` from `c3[1]` to
# `c3[1]`, each followed by a ReLU. Two 3 × 3 windows see as far as one 5 × 5 window
# (q3 of assignment 8.2) with fewer weights; this is the first factorisation of
# [Szegedy et al. (2016), section 3.1](https://arxiv.org/abs/1512.00567), one of the
# later Inception versions that D2L exercise 1 asks you to try.

# %% [raw]
# # BEGIN SOLUTION

# %%
class Inception(nn.Module):
    """Four branches on one input, concatenated: (N, C, H, W) -> (N, c1+c2[1]+c3[1]+c4, H, W)."""

    def __init__(self, in_channels, c1, c2, c3, c4, factorize=False):
        super().__init__()
        # BEGIN SOLUTION
        self.b1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.b2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.b2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.b3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        if factorize:  # two 3x3 windows see as far as one 5x5 window
            self.b3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=3, padding=1)
            self.b3_3 = nn.Conv2d(c3[1], c3[1], kernel_size=3, padding=1)
        else:
            self.b3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
            self.b3_3 = None
        self.b4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.b4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        b1 = F.relu(self.b1_1(x))
        b2 = F.relu(self.b2_2(F.relu(self.b2_1(x))))
        b3 = F.relu(self.b3_2(F.relu(self.b3_1(x))))
        if self.b3_3 is not None:
            b3 = F.relu(self.b3_3(b3))
        b4 = F.relu(self.b4_2(self.b4_1(x)))
        return torch.cat((b1, b2, b3, b4), dim=1)
        # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q1_first_block_shapes(Inception):
    import torch

    from cnnlib.classroom.checks import check_callable, check_shape

    check_callable(Inception, "Inception")
    block = Inception(192, 64, (96, 128), (16, 32), 32)
    check_shape(block(torch.randn(2, 192, 12, 12)), (2, 256, 12, 12),
                "Inception(192, 64, (96, 128), (16, 32), 32) on a (2, 192, 12, 12) input")
    check_shape(block(torch.randn(1, 192, 7, 5)), (1, 256, 7, 5),
                "Inception(192, 64, (96, 128), (16, 32), 32) on a (1, 192, 7, 5) input")
    factorized = Inception(192, 64, (96, 128), (16, 32), 32, factorize=True)
    check_shape(factorized(torch.randn(2, 192, 12, 12)), (2, 256, 12, 12),
                "Inception(192, 64, (96, 128), (16, 32), 32, factorize=True) on a "
                "(2, 192, 12, 12) input")

test_q1_first_block_shapes(Inception)

# %%
def test_q1_branch_1_comes_first(Inception):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_equal, check_tensor
    from cnnlib.models import googlenet as lib
    from cnnlib.models.cost import count_parameters

    block = Inception(192, 64, (96, 128), (16, 32), 32)
    check_equal(count_parameters(block), count_parameters(lib.Inception(192, 64, (96, 128),
                                                                        (16, 32), 32)),
                "the parameters of Inception(192, 64, (96, 128), (16, 32), 32)")
    X = torch.randn(2, 192, 12, 12)
    check_tensor(block(X)[:, :64], F.relu(block.b1_1(X)),
                 "the first 64 output channels (branch 1, relu(b1_1(x)))")

test_q1_branch_1_comes_first(Inception)

# %%
# HIDDEN
def test_q1_random_blocks_against_cnnlib(Inception):
    import torch

    from cnnlib.classroom.checks import check_tensor, fresh_generator
    from cnnlib.models import googlenet as lib

    gen = fresh_generator()
    # Reductions narrower and wider than their branch's output, one input channel and
    # several; tall, wide, square and one-pixel-high maps with odd and even sides.
    for (c_in, c1, c2, c3, c4), (h, w) in (
            ((3, 2, (3, 4), (2, 3), 2), (5, 8)), ((5, 1, (2, 2), (4, 5), 3), (9, 4)),
            ((2, 4, (1, 3), (1, 2), 1), (1, 6)), ((6, 3, (4, 2), (3, 4), 5), (7, 7)),
            ((1, 2, (2, 3), (3, 1), 2), (6, 3))):
        ref = lib.Inception(c_in, c1, c2, c3, c4)
        with torch.no_grad():
            for param in ref.parameters():
                param.copy_(torch.randn(param.shape, generator=gen) * 0.5)
        what = f"Inception({c_in}, {c1}, {c2}, {c3}, {c4})"
        block = Inception(c_in, c1, c2, c3, c4)
        try:
            block.load_state_dict(ref.state_dict())
        except Exception as error:
            raise AssertionError(
                f"{what}: cannot load cnnlib's Inception weights: {error}") from None
        X = torch.randn(2, c_in, h, w, generator=gen)
        check_tensor(block(X), ref(X), f"{what} on a (2, {c_in}, {h}, {w}) input", gen=gen)

test_q1_random_blocks_against_cnnlib(Inception)

# %%
# HIDDEN
def test_q1_random_factorized_blocks(Inception):
    import torch
    from torch import nn
    from torch.nn import functional as F

    from cnnlib.classroom.checks import check_tensor, fresh_generator
    from cnnlib.models import googlenet as lib

    gen = fresh_generator()
    # cnnlib's block with branch 3 factorised; the expected output written out layer by
    # layer. Reductions narrower and wider than the branch's output, odd and even sides.
    for (c_in, c1, c2, c3, c4), (h, w) in (
            ((3, 2, (3, 4), (2, 3), 2), (5, 8)), ((5, 1, (2, 2), (4, 5), 3), (9, 4)),
            ((2, 4, (1, 3), (3, 2), 1), (6, 6))):
        ref = lib.Inception(c_in, c1, c2, c3, c4)
        ref.b3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=3, padding=1)
        ref.b3_3 = nn.Conv2d(c3[1], c3[1], kernel_size=3, padding=1)
        with torch.no_grad():
            for param in ref.parameters():
                param.copy_(torch.randn(param.shape, generator=gen) * 0.5)
        what = f"Inception({c_in}, {c1}, {c2}, {c3}, {c4}, factorize=True)"
        block = Inception(c_in, c1, c2, c3, c4, factorize=True)
        try:
            block.load_state_dict(ref.state_dict())
        except Exception as error:
            raise AssertionError(
                f"{what}: cannot load the weights of the factorised block: {error}") from None
        X = torch.randn(2, c_in, h, w, generator=gen)
        with torch.no_grad():
            b3 = F.relu(ref.b3_3(F.relu(ref.b3_2(F.relu(ref.b3_1(X))))))
            expected = torch.cat((F.relu(ref.b1_1(X)), F.relu(ref.b2_2(F.relu(ref.b2_1(X)))), b3,
                                  F.relu(ref.b4_2(ref.b4_1(X)))), dim=1)
        check_tensor(block(X), expected, f"{what} on a (2, {c_in}, {h}, {w}) input", gen=gen)

test_q1_random_factorized_blocks(Inception)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 3
# kind: compute
# forbids: [torch.nn.Conv2d, torch.nn.LazyConv2d, cnnlib.models]
# exercises: [1, 2]

# %% [markdown]
# ### q2 · each branch's parameters and FLOPs (≈20 min)
#
# Section 8.4 measured the cost of each branch with `layer_costs`. Compute it from the
# formulas instead: write
# `inception_costs(in_channels, c1, c2, c3, c4, height, width)`, which returns a dict
# `{"b1": (params, flops), "b2": ..., "b3": ..., "b4": ...}` for one image of
# `height` × `width` pixels, with the conventions of `cnnlib.models.cost`:
#
# * a convolution from $c_i$ to $c_o$ channels with a $k \times k$ kernel holds
#   $c_o c_i k^2$ weights and $c_o$ biases;
# * each of its $c_o \times H \times W$ output values costs $c_i k^2$ multiply-accumulates,
#   and one multiply-accumulate counts as 2 FLOPs; biases, ReLU and pooling count 0 FLOPs;
# * every branch keeps the input's height and width.
#
# For the first block of GoogLeNet at 12 × 12 (section 8.4's table), branch 3 holds
# 15,920 parameters (exercise 1 of the section). Try your function on that block with
# `c3[0]` raised from 16 to 64 (exercise 2): how do the branches' shares change?

# %% [raw]
# # BEGIN SOLUTION

# %%
def inception_costs(in_channels, c1, c2, c3, c4, height, width):
    """{branch: (parameters, FLOPs)} of an Inception block on one height x width image."""
    # BEGIN SOLUTION
    def conv(c_i, c_o, k):
        params = c_o * c_i * k * k + c_o
        flops = 2 * c_o * height * width * c_i * k * k
        return params, flops

    def chain(*convs):
        costs = [conv(*c) for c in convs]
        return sum(p for p, _ in costs), sum(f for _, f in costs)

    return {
        "b1": chain((in_channels, c1, 1)),
        "b2": chain((in_channels, c2[0], 1), (c2[0], c2[1], 3)),
        "b3": chain((in_channels, c3[0], 1), (c3[0], c3[1], 5)),
        "b4": chain((in_channels, c4, 1)),
    }
    # END SOLUTION


# %%
inception_costs(192, 64, (96, 128), (16, 32), 32, 12, 12)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q2_first_block(inception_costs):
    from cnnlib.classroom.checks import check_callable, check_equal
    from cnnlib.models import googlenet as lib
    from cnnlib.models.cost import layer_costs

    check_callable(inception_costs, "inception_costs")
    got = inception_costs(192, 64, (96, 128), (16, 32), 32, 12, 12)
    what = "inception_costs(192, 64, (96, 128), (16, 32), 32, 12, 12)"
    check_equal(sorted(got) if isinstance(got, dict) else got, ["b1", "b2", "b3", "b4"],
                f"the keys of {what}")
    measured = {name: (0, 0) for name in ("b1", "b2", "b3", "b4")}
    for cost in layer_costs(lib.Inception(192, 64, (96, 128), (16, 32), 32), (1, 192, 12, 12)):
        branch = cost.name[:2]  # "b3_2" -> "b3"
        params, flops = measured[branch]
        measured[branch] = (params + cost.params, flops + 2 * cost.macs)
    for branch in ("b1", "b2", "b3", "b4"):
        check_equal(tuple(got[branch]), measured[branch], f"{what}[{branch!r}] (params, FLOPs)")

test_q2_first_block(inception_costs)

# %%
# HIDDEN
def test_q2_random_blocks_against_layer_costs(inception_costs):
    import torch

    from cnnlib.classroom.checks import check_equal, fresh_generator
    from cnnlib.models import googlenet as lib
    from cnnlib.models.cost import layer_costs

    gen = fresh_generator()
    for h, w in ((5, 9), (8, 3), (6, 6), (1, 7)):  # tall, wide, square, one pixel high
        c_in, c1, c2a, c2b, c3a, c3b, c4 = (
            int(v) for v in torch.randint(1, 40, (7,), generator=gen))
        args = (c_in, c1, (c2a, c2b), (c3a, c3b), c4)
        what = f"inception_costs{args + (h, w)} (seed {gen.initial_seed()})"
        got = inception_costs(*args, h, w)
        measured = {name: (0, 0) for name in ("b1", "b2", "b3", "b4")}
        for cost in layer_costs(lib.Inception(*args), (1, c_in, h, w)):
            params, flops = measured[cost.name[:2]]
            measured[cost.name[:2]] = (params + cost.params, flops + 2 * cost.macs)
        for branch in ("b1", "b2", "b3", "b4"):
            check_equal(tuple(got[branch]), measured[branch], f"{what}[{branch!r}]")

test_q2_random_blocks_against_layer_costs(inception_costs)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 2
# kind: compute
# forbids: [torch.nn.Conv2d, torch.nn.MaxPool2d, torch.nn.functional.conv2d, torch.conv2d,
#   torch.nn.functional.max_pool2d, torch.max_pool2d, cnnlib.models,
#   cnnlib.ops.conv_output_shape, cnnlib.ops.layer_output_sizes]
# exercises: [4]

# %% [markdown]
# ### q3 · height and width through GoogLeNet's stages (≈10 min)
#
# Write `stage_sides(n)`: for an $n \times n$ image fed to
# `cnnlib.models.googlenet.googlenet()`, the side of the square maps that leave the
# stages `b1`, `b2`, `b3` and `b4`, as a tuple of four ints. Only five layers change the
# size, each with stride 2: in `b1` a 7 × 7 convolution with padding 3 and a 3 × 3
# max-pool with padding 1, and at the end of `b2`, `b3` and `b4` one 3 × 3 max-pool with
# padding 1 each. Everything else (the Inception blocks, `b2`'s convolutions) keeps the
# size, which is also why the max-pool *inside* an Inception block uses stride 1 and
# padding 1. Apply the output-size formula of section 7.3, with its floor, at each of
# these layers.
#
# At the book's 96 pixels the four stages output 24, 12, 6 and 3 pixels a side. At
# which input sizes does `b5` work on 1 × 1 maps (exercise 4 of the section)?

# %% [raw]
# # BEGIN SOLUTION

# %%
def stage_sides(n):
    """Sides of the maps after GoogLeNet's stages b1, b2, b3, b4 for an n x n input."""
    # BEGIN SOLUTION
    def out(side, k, p):
        return (side + 2 * p - k) // 2 + 1

    side = out(out(n, 7, 3), 3, 1)  # b1: convolution, then max-pool
    sides = [side]
    for _ in range(3):  # b2, b3, b4 each end in a max-pool
        side = out(side, 3, 1)
        sides.append(side)
    return tuple(sides)
    # END SOLUTION


# %%
{n: stage_sides(n) for n in (64, 96, 224)}

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q3_sizes_in_the_text(stage_sides):
    from cnnlib.classroom.checks import check_callable, check_equal

    check_callable(stage_sides, "stage_sides")
    # The book's 96 pixels, and the 64 pixels of the quick budget.
    check_equal(tuple(stage_sides(96)), (24, 12, 6, 3), "stage_sides(96)")
    check_equal(tuple(stage_sides(64)), (16, 8, 4, 2), "stage_sides(64)")

test_q3_sizes_in_the_text(stage_sides)

# %%
# HIDDEN
def test_q3_every_size_against_the_network(stage_sides):
    import torch

    from cnnlib.classroom.checks import check_equal, fresh_generator
    from cnnlib.models import googlenet as lib

    gen = fresh_generator()
    net = lib.googlenet(width_divisor=8).eval()
    # Every size up to three full periods of 32 (every remainder of n / 32, the smallest
    # images included), and a few larger sizes.
    sizes = list(range(1, 97)) + [int(v) for v in torch.randint(97, 200, (3,), generator=gen)]
    with torch.no_grad():
        for n in sizes:
            X, sides = torch.zeros(1, 1, n, n), []
            for stage in net.net[:4]:
                X = stage(X)
                sides.append(X.shape[-1])
            check_equal(tuple(stage_sides(n)), tuple(sides), f"stage_sides({n})")

test_q3_every_size_against_the_network(stage_sides)

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
# exercises: [3, 4]

# %% [markdown]
# ### q4 · why the Inception block is built the way it is (≈12 min)
#
# Decide, **before you run anything**, whether each statement is true. Statement a is
# exercise 3 of the section and statement d follows up its exercise 4.
#
# * **a.** If branch 4's max-pool were `nn.MaxPool2d(kernel_size=3, padding=1)`, with
#   PyTorch's default stride (the window size, 3), the block would fail on a 12 × 12
#   input, because branch 4's maps would no longer have the other branches' height and
#   width.
# * **b.** In GoogLeNet's first block (192 input channels, `c2 = (96, 128)`), branch 2,
#   a 1 × 1 convolution to 96 channels and then a 3 × 3 convolution to 128, holds *more*
#   parameters than a single 3 × 3 convolution from 192 straight to 128 channels.
# * **c.** The number of channels an Inception block outputs depends on the reductions
#   `c2[0]` and `c3[0]`.
# * **d.** At the book's 96 pixels the stage `b5` works on 3 × 3 maps. At *every* output
#   position of a 5 × 5 convolution there (padding 2), more than half of the 25 positions
#   of the window fall on padding, not on the map.
#
# Set `q4_answer` to a dict with keys `"a"`, `"b"`, `"c"`, `"d"` and the values `True`
# or `False`. Then check them: build the blocks, count with `inception_costs`, draw the
# 3 × 3 map with its padding on paper.

# %% [raw]
# # BEGIN SOLUTION

# %%
# Replace each ... by True or False.
q4_answer = {"a": ..., "b": ..., "c": ..., "d": ...}
# BEGIN SOLUTION
q4_answer = {"a": True, "b": False, "c": False, "d": True}
# END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q4_form(q4_answer):
    from cnnlib.classroom.checks import check_form

    check_form(q4_answer, dict.fromkeys("abcd", bool), "q4_answer")

test_q4_form(q4_answer)

# %%
# HIDDEN
def test_q4_a_a_pool_with_the_default_stride(q4_answer):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_judged
    from cnnlib.models import googlenet as lib

    block = lib.Inception(8, 2, (2, 3), (2, 3), 2)
    block.b4_1 = nn.MaxPool2d(kernel_size=3, padding=1)
    try:
        with torch.no_grad():
            block(torch.zeros(1, 8, 12, 12))
        truth = False
    except RuntimeError:  # torch.cat: the branches' sizes differ
        truth = True
    check_judged(q4_answer["a"], truth, "statement a (the default stride in branch 4)")

test_q4_a_a_pool_with_the_default_stride(q4_answer)

# %%
# HIDDEN
def test_q4_b_the_reduction_pays(q4_answer):
    from torch import nn

    from cnnlib.classroom.checks import check_judged

    def params(*layers):
        return sum(p.numel() for layer in layers for p in layer.parameters())

    branch = params(nn.Conv2d(192, 96, 1), nn.Conv2d(96, 128, 3, padding=1))
    direct = params(nn.Conv2d(192, 128, 3, padding=1))
    truth = branch > direct
    check_judged(q4_answer["b"], truth, "statement b (branch 2 against one 3 x 3 convolution)")

test_q4_b_the_reduction_pays(q4_answer)

# %%
# HIDDEN
def test_q4_c_what_fixes_the_output_channels(q4_answer):
    import torch

    from cnnlib.classroom.checks import check_judged
    from cnnlib.models import googlenet as lib

    with torch.no_grad():
        X = torch.zeros(1, 8, 6, 6)
        narrow = lib.Inception(8, 2, (1, 3), (1, 4), 2)(X).shape[1]
        wide = lib.Inception(8, 2, (7, 3), (9, 4), 2)(X).shape[1]
    truth = narrow != wide
    check_judged(q4_answer["c"], truth, "statement c (the reductions and the output channels)")

test_q4_c_what_fixes_the_output_channels(q4_answer)

# %%
# HIDDEN
def test_q4_d_a_five_by_five_window_on_a_three_by_three_map(q4_answer):
    import torch
    from torch.nn import functional as F

    from cnnlib.classroom.checks import check_judged
    from cnnlib.models import googlenet as lib

    net = lib.googlenet(width_divisor=8).eval()
    with torch.no_grad():
        side = net.net[:4](torch.zeros(1, 1, 96, 96)).shape[-1]  # what b5 receives
        # How many of each window's 25 positions lie on the map, at every output position.
        on_map = F.conv2d(torch.ones(1, 1, side, side), torch.ones(1, 1, 5, 5), padding=2)
    truth = side == 3 and bool((on_map < 25 / 2).all())
    check_judged(q4_answer["d"], truth, "statement d (5 x 5 windows on 3 x 3 maps)")

test_q4_d_a_five_by_five_window_on_a_three_by_three_map(q4_answer)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Hand in
#
# Run *Kernel → Restart & Run All*, check that every `grader.check` above passes, then run
# the cell below. It saves a zip with your notebook; hand in that zip or this `.ipynb`.
