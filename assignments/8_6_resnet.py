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
# name: 8_6_resnet
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
# # Assignment 8.6: Residual networks (ResNet) and ResNeXt
#
# Companion section: *8.6 Residual Networks (ResNet) and ResNeXt*. You will write the
# residual block with its 1 × 1 shortcut convolution, the ResNeXt block with a real
# number of groups, and count the parameters of a whole ResNet from the formulas.
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
import torch  # noqa: F401  (for your answers)
from torch import nn
from torch.nn import functional as F

from cnnlib import setup

seed = setup(0)

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 4
# kind: compute
# forbids: [cnnlib.models.resnet, torch.nn.LazyConv2d, torch.nn.LazyBatchNorm2d]

# %% [markdown]
# ### q1 · the residual block and its 1 × 1 shortcut (≈20 min)
#
# Write the residual block of section 8.6 with its input channels stated, as
# `cnnlib.models.resnet.Residual` has them: `Residual(num_channels, use_1x1conv=False,
# strides=1, in_channels=None)`, where `in_channels=None` means "as many as
# `num_channels`". Its layers, with these attribute names:
#
# * `conv1`: 3 × 3 convolution from `in_channels` to `num_channels`, padding 1, stride
#   `strides`; `bn1`: batch norm;
# * `conv2`: 3 × 3 convolution from `num_channels` to `num_channels`, padding 1;
#   `bn2`: batch norm;
# * `conv3`: when `use_1x1conv` is true, a 1 × 1 convolution from `in_channels` to
#   `num_channels` with stride `strides`, applied to the shortcut; otherwise `None`, and
#   the shortcut is `X` itself.
#
# The forward pass computes $Y = \mathrm{bn2}(\mathrm{conv2}(\mathrm{ReLU}(\mathrm{bn1}(
# \mathrm{conv1}(X)))))$ and returns $\mathrm{ReLU}(Y + \text{shortcut})$. Note that
# `use_1x1conv=True` means "project the shortcut" even when the shapes would allow `X`
# itself. The hidden tests load cnnlib's weights into your block, in training and in
# evaluation mode.

# %% [raw]
# # BEGIN SOLUTION

# %%
class Residual(nn.Module):
    """ReLU(g(X) + shortcut(X)), g = 3x3 conv, BN, ReLU, 3x3 conv, BN."""

    def __init__(self, num_channels, use_1x1conv=False, strides=1, in_channels=None):
        super().__init__()
        in_channels = num_channels if in_channels is None else in_channels
        # BEGIN SOLUTION
        self.conv1 = nn.Conv2d(in_channels, num_channels, kernel_size=3, padding=1,
                               stride=strides)
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(num_channels)
        self.conv3 = (nn.Conv2d(in_channels, num_channels, kernel_size=1, stride=strides)
                      if use_1x1conv else None)
        # END SOLUTION

    def forward(self, X):
        # BEGIN SOLUTION
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3 is not None:
            X = self.conv3(X)
        return F.relu(Y + X)
        # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q1_shapes_in_the_text(Residual):
    import torch

    from cnnlib.classroom.checks import check_callable, check_shape

    check_callable(Residual, "Residual")
    X = torch.randn(4, 3, 6, 6)
    check_shape(Residual(3)(X), (4, 3, 6, 6), "Residual(3) on a (4, 3, 6, 6) input")
    check_shape(Residual(6, use_1x1conv=True, strides=2, in_channels=3)(X), (4, 6, 3, 3),
                "Residual(6, use_1x1conv=True, strides=2, in_channels=3) on a (4, 3, 6, 6) input")

test_q1_shapes_in_the_text(Residual)

# %%
def test_q1_same_shape_block_matches_cnnlib(Residual):
    import torch

    from cnnlib.classroom.checks import check_tensor
    from cnnlib.models import resnet as lib

    ref = lib.Residual(3)
    block = Residual(3)
    try:
        block.load_state_dict(ref.state_dict())
    except Exception as error:
        raise AssertionError(
            f"Residual(3): cannot load cnnlib's Residual(3) weights: {error}") from None
    X = torch.randn(4, 3, 6, 6)
    check_tensor(block(X), ref(X), "Residual(3) with cnnlib's weights, in training mode")

test_q1_same_shape_block_matches_cnnlib(Residual)

# %%
# HIDDEN
def test_q1_random_blocks_against_cnnlib(Residual):
    import torch

    from cnnlib.classroom.checks import check_tensor, fresh_generator
    from cnnlib.models import resnet as lib

    gen = fresh_generator()
    # (in_channels, num_channels, use_1x1conv, strides, (H, W)), in_channels None meaning
    # "left out". First the identity shortcut (X itself) on square and non-square maps with
    # odd and even sides; then the 1x1 projection at the same shape (in_channels given and
    # left out), to more channels, with stride 1, 2 and 3 on sides they do not divide.
    # Every block in training and in evaluation mode.
    cases = ((None, 3, False, 1, (5, 8)), (3, 3, False, 1, (8, 5)), (None, 5, False, 1, (7, 7)),
             (None, 4, True, 1, (6, 7)), (4, 4, True, 1, (4, 4)), (2, 5, True, 1, (7, 4)),
             (4, 4, True, 2, (9, 6)), (3, 6, True, 2, (5, 5)), (2, 3, True, 3, (8, 7)))
    for c_in, c, use_1x1conv, s, (h, w) in cases:
        ref = lib.Residual(c, use_1x1conv=use_1x1conv, strides=s, in_channels=c_in)
        with torch.no_grad():
            for param in ref.parameters():
                param.copy_(torch.randn(param.shape, generator=gen) * 0.5)
        what = f"Residual({c}, use_1x1conv={use_1x1conv}, strides={s}"
        if c_in is None:
            what += ")"
            block = Residual(c, use_1x1conv=use_1x1conv, strides=s)
        else:
            what += f", in_channels={c_in})"
            block = Residual(c, use_1x1conv=use_1x1conv, strides=s, in_channels=c_in)
        try:
            block.load_state_dict(ref.state_dict())
        except Exception as error:
            raise AssertionError(
                f"{what}: cannot load cnnlib's Residual weights: {error}") from None
        if not use_1x1conv and block.conv3 is not None:
            raise AssertionError(f"{what}.conv3 should be None without the projection")
        c_in = c if c_in is None else c_in
        for mode in ("training", "evaluation"):
            block.train(mode == "training")
            ref.train(mode == "training")
            X = torch.randn(3, c_in, h, w, generator=gen)
            check_tensor(block(X), ref(X), f"{what} on a (3, {c_in}, {h}, {w}) input, {mode} "
                         "mode", gen=gen)

test_q1_random_blocks_against_cnnlib(Residual)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 3
# kind: compute
# forbids: [cnnlib.models.resnet, torch.nn.LazyConv2d, torch.nn.LazyBatchNorm2d]

# %% [markdown]
# ### q2 · the ResNeXt block with a real number of groups (≈20 min)
#
# Write `ResNeXtBlock(in_channels, num_channels, groups, bot_mul, use_1x1conv=False,
# strides=1)` as in section 8.6, where `groups` is the **number of groups**, the meaning
# `nn.Conv2d(groups=...)` gives it (not D2L's channels per group). With
# `bot_channels = int(round(num_channels * bot_mul))`, its layers are:
#
# * `conv1`: 1 × 1 convolution from `in_channels` to `bot_channels`; `bn1`;
# * `conv2`: 3 × 3 convolution from `bot_channels` to `bot_channels` in `groups` groups,
#   padding 1, stride `strides`; `bn2`;
# * `conv3`: 1 × 1 convolution from `bot_channels` to `num_channels`; `bn3`;
# * when `use_1x1conv` is true, `conv4`: 1 × 1 convolution from `in_channels` to
#   `num_channels` with stride `strides`, and `bn4`, on the shortcut; otherwise set both to
#   `None`.
#
# Each `bn` is a batch norm over its convolution's output channels. The forward pass is
# conv1, bn1, ReLU, conv2, bn2, ReLU, conv3, bn3, then adds the shortcut (`X`, or
# `bn4(conv4(X))`) and applies a final ReLU. The hidden tests compare your block with
# `cnnlib.models.resnet.ResNeXtBlock` for several group counts.

# %% [raw]
# # BEGIN SOLUTION

# %%
class ResNeXtBlock(nn.Module):
    """1x1 conv, grouped 3x3 conv, 1x1 conv, each with batch norm, plus a shortcut."""

    def __init__(self, in_channels, num_channels, groups, bot_mul, use_1x1conv=False,
                 strides=1):
        super().__init__()
        bot_channels = int(round(num_channels * bot_mul))
        # BEGIN SOLUTION
        self.conv1 = nn.Conv2d(in_channels, bot_channels, kernel_size=1)
        self.bn1 = nn.BatchNorm2d(bot_channels)
        self.conv2 = nn.Conv2d(bot_channels, bot_channels, kernel_size=3, padding=1,
                               stride=strides, groups=groups)
        self.bn2 = nn.BatchNorm2d(bot_channels)
        self.conv3 = nn.Conv2d(bot_channels, num_channels, kernel_size=1)
        self.bn3 = nn.BatchNorm2d(num_channels)
        if use_1x1conv:
            self.conv4 = nn.Conv2d(in_channels, num_channels, kernel_size=1, stride=strides)
            self.bn4 = nn.BatchNorm2d(num_channels)
        else:
            self.conv4 = self.bn4 = None
        # END SOLUTION

    def forward(self, X):
        # BEGIN SOLUTION
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = F.relu(self.bn2(self.conv2(Y)))
        Y = self.bn3(self.conv3(Y))
        if self.conv4 is not None:
            X = self.bn4(self.conv4(X))
        return F.relu(Y + X)
        # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q2_shapes_in_the_text(ResNeXtBlock):
    import torch

    from cnnlib.classroom.checks import check_callable, check_shape

    check_callable(ResNeXtBlock, "ResNeXtBlock")
    X = torch.randn(4, 32, 16, 16)
    check_shape(ResNeXtBlock(32, 32, groups=2, bot_mul=1)(X), (4, 32, 16, 16),
                "ResNeXtBlock(32, 32, groups=2, bot_mul=1) on a (4, 32, 16, 16) input")
    check_shape(ResNeXtBlock(32, 64, groups=4, bot_mul=0.5, use_1x1conv=True, strides=2)(X),
                (4, 64, 8, 8), "ResNeXtBlock(32, 64, groups=4, bot_mul=0.5, use_1x1conv=True, "
                "strides=2) on a (4, 32, 16, 16) input")

test_q2_shapes_in_the_text(ResNeXtBlock)

# %%
def test_q2_one_group_matches_cnnlib(ResNeXtBlock):
    import torch

    from cnnlib.classroom.checks import check_tensor
    from cnnlib.models import resnet as lib

    ref = lib.ResNeXtBlock(8, 16, groups=1, bot_mul=0.5, use_1x1conv=True)
    block = ResNeXtBlock(8, 16, groups=1, bot_mul=0.5, use_1x1conv=True)
    what = "ResNeXtBlock(8, 16, groups=1, bot_mul=0.5, use_1x1conv=True)"
    try:
        block.load_state_dict(ref.state_dict())
    except Exception as error:
        raise AssertionError(f"{what}: cannot load cnnlib's weights: {error}") from None
    X = torch.randn(4, 8, 6, 6)
    check_tensor(block(X), ref(X), f"{what} with cnnlib's weights, in training mode")

test_q2_one_group_matches_cnnlib(ResNeXtBlock)

# %%
# HIDDEN
def test_q2_grouped_blocks_against_cnnlib(ResNeXtBlock):
    import torch

    from cnnlib.classroom.checks import check_shape, check_tensor, fresh_generator
    from cnnlib.models import resnet as lib

    gen = fresh_generator()
    # (in_channels, num_channels, groups, bot_mul, use_1x1conv, strides, (H, W)): 2 groups
    # up to depthwise (one channel per group), with and without the projection, stride 1
    # and 2 (on odd and even sides), non-square maps.
    for c_in, c, g, bot_mul, use_1x1conv, s, (h, w) in (
            (8, 8, 2, 1, False, 1, (5, 7)), (8, 16, 4, 0.5, True, 2, (7, 6)),
            (6, 12, 3, 1, True, 1, (4, 6)), (4, 8, 8, 1, True, 2, (8, 5)),
            (12, 12, 6, 0.5, False, 1, (6, 6)), (6, 6, 3, 1, True, 1, (5, 4))):
        ref = lib.ResNeXtBlock(c_in, c, g, bot_mul, use_1x1conv=use_1x1conv, strides=s)
        with torch.no_grad():
            for param in ref.parameters():
                param.copy_(torch.randn(param.shape, generator=gen) * 0.5)
        what = (f"ResNeXtBlock({c_in}, {c}, groups={g}, bot_mul={bot_mul}, "
                f"use_1x1conv={use_1x1conv}, strides={s})")
        block = ResNeXtBlock(c_in, c, g, bot_mul, use_1x1conv=use_1x1conv, strides=s)
        b = ref.bot_channels
        check_shape(block.conv2.weight, (b, b // g, 3, 3),
                    f"{what}.conv2.weight ({b} channels in {g} groups of {b // g})")
        try:
            block.load_state_dict(ref.state_dict())
        except Exception as error:
            raise AssertionError(f"{what}: cannot load cnnlib's weights: {error}") from None
        if not use_1x1conv and (block.conv4 is not None or block.bn4 is not None):
            raise AssertionError(f"{what}: conv4 and bn4 should be None without the projection")
        for mode in ("training", "evaluation"):
            block.train(mode == "training")
            ref.train(mode == "training")
            X = torch.randn(3, c_in, h, w, generator=gen)
            check_tensor(block(X), ref(X), f"{what} on a (3, {c_in}, {h}, {w}) input, {mode} "
                         "mode", gen=gen)

test_q2_grouped_blocks_against_cnnlib(ResNeXtBlock)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 3
# kind: compute
# forbids: [torch.nn.Conv2d, torch.nn.BatchNorm2d, torch.nn.Linear, torch.nn.LazyConv2d,
#   torch.nn.LazyBatchNorm2d, torch.nn.LazyLinear, cnnlib.models]
# exercises: [2]

# %% [markdown]
# ### q3 · the parameters of a ResNet, from the formulas (≈20 min)
#
# Write `resnet_params(arch, in_channels=1, num_classes=10, stem_channels=64)`: the number
# of parameters of `cnnlib.models.resnet.ResNet(arch, in_channels, num_classes,
# stem_channels)`, computed from the formulas without building the network. `arch` lists
# `(num_residuals, num_channels)` per stage, e.g. ResNet-18's
# `((2, 64), (2, 128), (2, 256), (2, 512))`. The network is:
#
# * the stem: a 7 × 7 convolution from `in_channels` to `stem_channels`, batch norm, ReLU
#   and a max-pool;
# * one stage per entry of `arch`. The first stage keeps the stem's channels (its
#   `num_channels` equals `stem_channels`): all its blocks are `Residual(c)`. Every
#   later stage starts with `Residual(c, use_1x1conv=True, strides=2, in_channels=c_prev)`,
#   where `c_prev` is the previous stage's channel count, followed by `Residual(c)` blocks;
# * global average pooling, and a dense layer to `num_classes` outputs.
#
# Every convolution and the dense layer have biases; each batch norm learns a scale and
# a shift per channel; pooling learns nothing. ResNet-18 has 11,178,378 parameters.
# Then use your function for exercise 2 of the section: how many parameters does
# ResNet-34, `((3, 64), (4, 128), (6, 256), (3, 512))`, have?

# %% [raw]
# # BEGIN SOLUTION

# %%
def resnet_params(arch, in_channels=1, num_classes=10, stem_channels=64):
    """Parameters of cnnlib's ResNet(arch, in_channels, num_classes, stem_channels)."""
    # BEGIN SOLUTION
    def conv(c_i, c_o, k):
        return c_o * c_i * k * k + c_o

    def block(c_i, c, projection):
        total = conv(c_i, c, 3) + 2 * c + conv(c, c, 3) + 2 * c
        return total + (conv(c_i, c, 1) if projection else 0)

    total = conv(in_channels, stem_channels, 7) + 2 * stem_channels
    c_prev = stem_channels
    for i, (num_residuals, c) in enumerate(arch):
        total += block(c_prev, c, projection=i > 0)
        total += (num_residuals - 1) * block(c, c, projection=False)
        c_prev = c
    return total + c_prev * num_classes + num_classes
    # END SOLUTION


# %%
resnet_params(((3, 64), (4, 128), (6, 256), (3, 512)))

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q3_resnet18(resnet_params):
    from cnnlib.classroom.checks import check_callable, check_equal

    check_callable(resnet_params, "resnet_params")
    arch = ((2, 64), (2, 128), (2, 256), (2, 512))
    check_equal(resnet_params(arch), 11178378, f"resnet_params({arch}) (ResNet-18)")

test_q3_resnet18(resnet_params)

# %%
# HIDDEN
def test_q3_random_resnets(resnet_params):
    import torch

    from cnnlib.classroom.checks import check_equal, fresh_generator
    from cnnlib.models import resnet as lib
    from cnnlib.models.cost import count_parameters

    gen = fresh_generator()

    def random_int(low, high):
        return int(torch.randint(low, high, (1,), generator=gen))

    resnet34 = ((3, 64), (4, 128), (6, 256), (3, 512))
    cases = [(resnet34, 1, 10, 64)]
    # One to four stages, with one and several blocks in the first and in later stages;
    # channel counts that never double from one stage to the next; one and several input
    # channels; never the section's 10 classes.
    for residuals, c_in in (((2,), 3), ((1, 3), 1), ((3, 1, 2), 2), ((1, 2, 1, 3), 1)):
        channels = [random_int(4, 40)]
        for _ in residuals[1:]:
            c = random_int(4, 40)
            channels.append(c + 1 if c == 2 * channels[-1] else c)
        arch = tuple(zip(residuals, channels, strict=True))
        classes = random_int(2, 20)
        classes += classes >= 10  # 2..9 or 11..20
        cases.append((arch, c_in, classes, channels[0]))
    for arch, c_in, classes, stem in cases:
        with torch.device("meta"):  # counts the parameters without allocating them
            expected = count_parameters(lib.ResNet(arch, c_in, classes, stem_channels=stem))
        check_equal(resnet_params(arch, c_in, classes, stem), expected,
                    f"resnet_params({arch}, in_channels={c_in}, num_classes={classes}, "
                    f"stem_channels={stem}) (seed {gen.initial_seed()})")

test_q3_random_resnets(resnet_params)

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
# exercises: [3]

# %% [markdown]
# ### q4 · what a residual block can and cannot do (≈12 min)
#
# Decide, **before you run anything**, whether each statement is true. Statement d is
# the reasoning behind exercise 3 of the section.
#
# * **a.** If `bn2`'s γ and β are all 0, a `Residual(c)` block (no projection) outputs
#   $\mathrm{ReLU}(X)$, in training and in evaluation mode: on inputs that are already
#   non-negative, such as the output of a previous block, it is the identity.
# * **b.** A block whose first convolution has stride 2, but without the 1 × 1 projection
#   (the shortcut is `X` itself), runs and halves the height and width of its input.
# * **c.** The number of parameters of `cnnlib.models.resnet.ResNet` (ResNet-18 or any
#   other) depends on the size of the images it is fed.
# * **d.** Splitting the 3 × 3 convolution of a ResNeXt block into $g$ groups divides the
#   number of its weights by $g$ (for a $g$ that divides its channels).
#
# Set `q4_answer` to a dict with keys `"a"`, `"b"`, `"c"`, `"d"` and the values `True`
# or `False`. Then check them with your `Residual`, `ResNeXtBlock` and `resnet_params`.

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
def test_q4_a_a_block_that_adds_nothing(q4_answer):
    import torch

    from cnnlib.classroom.checks import check_judged, fresh_generator
    from cnnlib.models import resnet as lib

    gen = fresh_generator()
    block = lib.Residual(4)
    with torch.no_grad():
        for param in block.parameters():
            param.copy_(torch.randn(param.shape, generator=gen))
        block.bn2.weight.zero_()
        block.bn2.bias.zero_()
        X = torch.randn(3, 4, 5, 5, generator=gen)
        truth = True
        for mode in (True, False):
            block.train(mode)
            truth = truth and torch.allclose(block(X), torch.relu(X))
            truth = truth and torch.allclose(block(torch.relu(X)), torch.relu(X))
    check_judged(q4_answer["a"], truth, "statement a (bn2 with gamma = beta = 0)")

test_q4_a_a_block_that_adds_nothing(q4_answer)

# %%
# HIDDEN
def test_q4_b_a_stride_without_the_projection(q4_answer):
    import torch
    from torch import nn
    from torch.nn import functional as F

    from cnnlib.classroom.checks import check_judged

    conv1 = nn.Conv2d(4, 4, 3, padding=1, stride=2)
    conv2 = nn.Conv2d(4, 4, 3, padding=1)
    X = torch.randn(2, 4, 8, 8)
    try:
        with torch.no_grad():
            Y = F.relu(conv2(F.relu(conv1(X))) + X)  # the shortcut is X itself
        truth = tuple(Y.shape[-2:]) == (4, 4)
    except RuntimeError:  # (2, 4, 4, 4) + (2, 4, 8, 8)
        truth = False
    check_judged(q4_answer["b"], truth, "statement b (stride 2 without the projection)")

test_q4_b_a_stride_without_the_projection(q4_answer)

# %%
# HIDDEN
def test_q4_c_image_size_and_parameters(q4_answer):
    import torch

    from cnnlib.classroom.checks import check_judged
    from cnnlib.models import resnet as lib

    net = lib.ResNet(((1, 4), (1, 8)), num_classes=3, stem_channels=4).eval()
    before = sum(p.numel() for p in net.parameters())
    with torch.no_grad():  # one network, fed two image sizes: global average pooling
        shapes = {tuple(net(torch.zeros(1, 1, n, n)).shape) for n in (32, 96)}
    truth = shapes != {(1, 3)} or sum(p.numel() for p in net.parameters()) != before
    check_judged(q4_answer["c"], truth, "statement c (the image size and the parameters)")

test_q4_c_image_size_and_parameters(q4_answer)

# %%
# HIDDEN
def test_q4_d_groups(q4_answer):
    from torch import nn

    from cnnlib.classroom.checks import check_judged

    truth = all(nn.Conv2d(24, 24, 3, groups=g).weight.numel() * g
                == nn.Conv2d(24, 24, 3).weight.numel() for g in (2, 3, 4, 6, 8, 12, 24))
    check_judged(q4_answer["d"], truth, "statement d (the weights of a grouped convolution)")

test_q4_d_groups(q4_answer)

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
# ### q5 · why the bottleneck block is cheaper (≈12 min)
#
# This is D2L exercise 3: for deeper networks, ResNet uses a *bottleneck* block. Compare
# two blocks that both map 256 channels to 256 channels at stride 1 with the identity
# shortcut:
#
# * the basic block `Residual(256)` of q1: two 3 × 3 convolutions of 256 channels, each
#   with batch norm;
# * the bottleneck `ResNeXtBlock(256, 256, groups=1, bot_mul=0.25)` of q2: a 1 × 1
#   convolution to 64 channels, a 3 × 3 convolution at 64 channels and a 1 × 1
#   convolution back to 256, each with batch norm.
#
# Answer without building them:
#
# * **ratio:** how many times as many parameters (weights, biases, and batch norm's γ
#   and β) does the basic block hold as the bottleneck? Give it to one decimal place.
# * **reason:** which statement explains most of the difference?
#   * **A.** The 3 × 3 convolution, the only layer whose weights come 9 to a pair of
#     channels, works on 64 channels instead of 256, which makes it 16 times smaller;
#     the 1 × 1 convolutions hold one weight per pair of channels.
#   * **B.** The bottleneck block has fewer convolutions than the basic block.
#   * **C.** The bottleneck's 1 × 1 convolutions have no biases and no batch norm.
#   * **D.** The bottleneck shrinks the height and width before its 3 × 3 convolution.
#
# Set `q5_answer = {"ratio": ..., "reason": ...}`, the reason as one letter.

# %% [raw]
# # BEGIN SOLUTION

# %%
q5_answer = {"ratio": ..., "reason": ...}
# BEGIN SOLUTION
q5_answer = {"ratio": 16.7, "reason": "A"}
# END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q5_form(q5_answer):
    from cnnlib.classroom.checks import check_form

    check_form(q5_answer, {"ratio": float, "reason": ("A", "B", "C", "D")}, "q5_answer")
    if not q5_answer["ratio"] > 0:
        raise AssertionError("q5_answer['ratio'] should be a positive number, got "
                             f"{q5_answer['ratio']!r}")

test_q5_form(q5_answer)

# %%
# HIDDEN
def test_q5_ratio(q5_answer):
    import torch

    from cnnlib.models import resnet as lib

    with torch.device("meta"):  # counts the parameters without allocating them
        basic = sum(p.numel() for p in lib.Residual(256).parameters())
        bottleneck = sum(p.numel() for p in lib.ResNeXtBlock(256, 256, 1, 0.25).parameters())
    if abs(q5_answer["ratio"] - basic / bottleneck) > 0.05:
        raise AssertionError("the ratio of the two blocks' parameters is not right")

test_q5_ratio(q5_answer)

# %%
# HIDDEN
def test_q5_reason(q5_answer):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_judged
    from cnnlib.models import resnet as lib

    # A's claim, measured; B, C and D do not hold for these blocks.
    wide, narrow = nn.Conv2d(256, 256, 3).weight.numel(), nn.Conv2d(64, 64, 3).weight.numel()
    assert wide == 16 * narrow
    block = lib.ResNeXtBlock(256, 256, 1, 0.25).eval()
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 3 and all(conv.bias is not None for conv in convs)  # B, C
    with torch.no_grad():
        assert block(torch.zeros(1, 256, 6, 6)).shape == (1, 256, 6, 6)
        assert block.conv2.stride == (1, 1)  # D
    check_judged(q5_answer["reason"], "A", "the reason you chose")

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
