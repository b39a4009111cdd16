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
# name: 8_3_nin
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
# # Assignment 8.3: Network in Network (NiN)
#
# Companion section: *8.3 Network in Network (NiN)*. You will build the NiN block, count
# its parameters from the formula, turn a dense layer into the 1 × 1 convolution that
# applies it at every pixel, and work out how large the map is that NiN's global average
# pooling reduces to one score per class.
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

from cnnlib import setup

seed = setup(0)

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 3
# kind: compute
# forbids: [cnnlib.models.nin, torch.nn.LazyConv2d]

# %% [markdown]
# ### q1 · the NiN block, with any number of 1 × 1 convolutions (≈15 min)
#
# D2L exercise 1 asks why a NiN block has two 1 × 1 convolutions, and what changes with
# three or with one. Write a block that can have any number:
# `nin_block(in_channels, out_channels, kernel_size, strides, padding, num_1x1=2)`, with
# the input channels stated (no lazy layers). It returns an `nn.Sequential` of, in this
# order:
#
# 1. a convolution from `in_channels` to `out_channels` channels with the given
#    `kernel_size`, `strides` and `padding`, then a ReLU;
# 2. `num_1x1` times: a 1 × 1 convolution from `out_channels` to `out_channels`
#    channels, then a ReLU.
#
# The default, `num_1x1=2`, is section 8.3's block of six layers. Only the first
# convolution looks at a window of pixels; the 1 × 1 convolutions keep height and width
# and mix channels at each pixel. Keep PyTorch's default biases. The hidden tests load
# the weights of `cnnlib.models.nin.nin_block` (and of the same block with more or fewer
# 1 × 1 convolutions) into your block, so the layers must be the direct entries of the
# `nn.Sequential`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def nin_block(in_channels, out_channels, kernel_size, strides, padding, num_1x1=2):
    """A convolution and num_1x1 1x1 convolutions, each followed by ReLU."""
    # BEGIN SOLUTION
    layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride=strides,
                        padding=padding), nn.ReLU()]
    for _ in range(num_1x1):
        layers += [nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU()]
    return nn.Sequential(*layers)
    # END SOLUTION


# %%
nin_block(1, 96, kernel_size=11, strides=4, padding=0), nin_block(1, 8, 3, 1, 1, num_1x1=3)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q1_layers(nin_block):
    from torch import nn

    from cnnlib.classroom.checks import check_callable, check_equal, is_instance, module_structure

    check_callable(nin_block, "nin_block")
    block = nin_block(1, 96, kernel_size=11, strides=4, padding=0)
    if not is_instance(block, nn.Sequential):
        raise AssertionError("nin_block(1, 96, 11, 4, 0) should return an nn.Sequential")
    layers = [row for row in module_structure(block) if row["name"] and "." not in row["name"]]
    check_equal([row["type"] for row in layers], ["torch.nn.Conv2d", "torch.nn.ReLU"] * 3,
                "the layers of nin_block(1, 96, 11, 4, 0)")
    convs = layers[::2]
    check_equal([(c["in_channels"], c["out_channels"]) for c in convs],
                [(1, 96), (96, 96), (96, 96)],
                "(in_channels, out_channels) of the three convolutions")
    check_equal([tuple(c["kernel_size"]) for c in convs], [(11, 11), (1, 1), (1, 1)],
                "kernel sizes of the three convolutions")
    check_equal((tuple(convs[0]["stride"]), tuple(convs[0]["padding"])), ((4, 4), (0, 0)),
                "(stride, padding) of the first convolution")
    if not is_instance(nin_block(1, 8, 3, 1, 1, num_1x1=3), nn.Sequential):
        raise AssertionError("nin_block(1, 8, 3, 1, 1, num_1x1=3) should return an "
                             "nn.Sequential")

test_q1_layers(nin_block)

# %%
def test_q1_first_block_shape(nin_block):
    import torch

    from cnnlib.classroom.checks import check_shape

    block = nin_block(1, 96, kernel_size=11, strides=4, padding=0)
    check_shape(block(torch.rand(1, 1, 224, 224)), (1, 96, 54, 54),
                "nin_block(1, 96, 11, 4, 0) on a (1, 1, 224, 224) image")

test_q1_first_block_shape(nin_block)

# %%
# HIDDEN
def test_q1_random_blocks_against_cnnlib(nin_block):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_equal, check_tensor, fresh_generator, module_structure
    from cnnlib.models import nin as lib

    def pair(v):
        return list(v) if isinstance(v, (tuple, list)) else [v, v]

    def layers(block):  # each direct entry: its type and the settings that shape the output
        rows = []
        for row in module_structure(block):
            if not row["name"] or "." in row["name"]:
                continue
            kernel = pair(row.get("kernel_size", 1))
            padding = row.get("padding", 0)
            if padding == "same":
                padding = [(k - 1) // 2 for k in kernel]
            rows.append((row["type"].rsplit(".", 1)[-1], row.get("in_channels"),
                         row.get("out_channels"), kernel, pair(row.get("stride", 1)),
                         pair(padding), row.get("bias")))
        return rows

    gen = fresh_generator()
    # (in_channels, out_channels, kernel_size, strides, padding, num_1x1): strides 1, 2 and
    # 3, paddings 0, 1 and 2, odd and even kernels, one and several input channels, more and
    # fewer output channels than input ones; the section's two 1 x 1 convolutions (the
    # default, left out), none, one and three.
    for c_in, c_out, k, s, p, n in ((3, 4, 3, 1, 1, None), (2, 5, 5, 2, 2, None),
                                    (4, 3, 1, 1, 0, 1), (1, 6, 3, 3, 1, 3), (5, 2, 4, 2, 1, 2),
                                    (2, 3, 3, 1, 0, 0)):
        ref = lib.nin_block(c_in, c_out, k, stride=s, padding=p)
        if n is not None and n != 2:  # cnnlib's first convolution, then n 1 x 1 ones
            ones = [layer for _ in range(n) for layer in (nn.Conv2d(c_out, c_out, 1), nn.ReLU())]
            ref = nn.Sequential(*list(ref)[:2], *ones)
        with torch.no_grad():
            for param in ref.parameters():
                param.copy_(torch.randn(param.shape, generator=gen) * 0.5)
        what = f"nin_block({c_in}, {c_out}, {k}, strides={s}, padding={p}"
        if n is None:
            what += ")"
            block = nin_block(c_in, c_out, k, s, p)
        else:
            what += f", num_1x1={n})"
            block = nin_block(c_in, c_out, k, s, p, num_1x1=n)
        ours, theirs = layers(block), layers(ref)
        check_equal(len(ours), len(theirs), f"the number of layers of {what}")
        for i, (got, expected) in enumerate(zip(ours, theirs, strict=False)):
            check_equal(got, expected, f"layer {i} of {what} (type, in, out, kernel, stride, "
                                       "padding, bias)")
        try:
            block.load_state_dict(ref.state_dict())
        except Exception as error:
            raise AssertionError(
                f"{what}: cannot load cnnlib's nin_block weights: {error}") from None
        # Non-square, one side odd and the other even.
        h = k + 1 + int(torch.randint(0, 8, (1,), generator=gen))
        w = h + 1 + 2 * int(torch.randint(0, 3, (1,), generator=gen))
        X = torch.randn(2, c_in, h, w, generator=gen)
        check_tensor(block(X), ref(X), f"{what} on a (2, {c_in}, {h}, {w}) input", gen=gen)

test_q1_random_blocks_against_cnnlib(nin_block)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 2
# kind: compute
# forbids: [torch.nn.Conv2d, torch.nn.LazyConv2d, cnnlib.models]
# exercises: [2]

# %% [markdown]
# ### q2 · parameters of a NiN block (≈10 min)
#
# Section 8.3 listed NiN's weights layer by layer. Write
# `nin_block_params(in_channels, out_channels, kernel_size)`, the number of parameters
# (weights and biases) of a NiN block, computed from the formula for a convolution's
# parameters, without building the block. Stride and padding do not matter here: why?
# For the first block of NiN (1 input channel, 96 output channels, 11 × 11 kernel) the
# answer is 30,336 (exercise 2 of the section).

# %% [raw]
# # BEGIN SOLUTION

# %%
def nin_block_params(in_channels, out_channels, kernel_size):
    """Weights and biases of nin_block(in_channels, out_channels, kernel_size, ...)."""
    # BEGIN SOLUTION
    first = in_channels * out_channels * kernel_size * kernel_size + out_channels
    one_by_one = out_channels * out_channels + out_channels
    return first + 2 * one_by_one
    # END SOLUTION


# %%
nin_block_params(1, 96, 11)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q2_first_block(nin_block_params):
    from cnnlib.classroom.checks import check_callable, check_equal

    check_callable(nin_block_params, "nin_block_params")
    check_equal(nin_block_params(1, 96, 11), 30336, "nin_block_params(1, 96, 11)")

test_q2_first_block(nin_block_params)

# %%
# HIDDEN
def test_q2_random_blocks(nin_block_params):
    import torch

    from cnnlib.classroom.checks import check_equal, fresh_generator
    from cnnlib.models import nin as lib
    from cnnlib.models.cost import count_parameters

    gen = fresh_generator()
    # 1 x 1, odd and even kernels; one input channel (the public case) and many.
    for k, one_channel in ((1, False), (3, False), (4, False), (5, True), (11, False)):
        c_in, c_out = (int(v) for v in torch.randint(2, 400, (2,), generator=gen))
        c_in = 1 if one_channel else c_in
        expected = count_parameters(lib.nin_block(c_in, c_out, k, stride=1, padding=0))
        check_equal(nin_block_params(c_in, c_out, k), expected,
                    f"nin_block_params({c_in}, {c_out}, {k}) (seed {gen.initial_seed()})")

test_q2_random_blocks(nin_block_params)

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

# %% [markdown]
# ### q3 · a dense layer as a 1 × 1 convolution (≈10 min)
#
# Section 8.3 checked that a 1 × 1 convolution is a dense layer applied to every pixel's
# channel vector. Go the other way: write `dense_to_conv1x1(dense)`, which takes an
# `nn.Linear(c_i, c_o)` and returns an `nn.Conv2d(c_i, c_o, kernel_size=1)` holding the
# same weights and bias, so that on any input `X` of shape $(N, c_i, H, W)$ the
# convolution gives, at each pixel, what `dense` gives for that pixel's channel vector.
#
# *Hint:* `dense.weight` has shape $(c_o, c_i)$ and `conv.weight` has shape
# $(c_o, c_i, 1, 1)$. Copy into the convolution's parameters inside `with torch.no_grad():`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def dense_to_conv1x1(dense):
    """An nn.Conv2d with a 1x1 kernel that applies `dense` at every pixel."""
    # BEGIN SOLUTION
    conv = nn.Conv2d(dense.in_features, dense.out_features, kernel_size=1)
    with torch.no_grad():
        conv.weight.copy_(dense.weight.reshape(dense.out_features, dense.in_features, 1, 1))
        conv.bias.copy_(dense.bias)
    return conv
    # END SOLUTION


# %%
dense_to_conv1x1(nn.Linear(3, 2))

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q3_channel_sum(dense_to_conv1x1):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_callable, check_equal, check_tensor, is_instance

    check_callable(dense_to_conv1x1, "dense_to_conv1x1")
    dense = nn.Linear(3, 1)  # adds up the three channels
    with torch.no_grad():
        dense.weight.fill_(1.0)
        dense.bias.zero_()
    conv = dense_to_conv1x1(dense)
    if not is_instance(conv, nn.Conv2d):
        raise AssertionError("dense_to_conv1x1(nn.Linear(3, 1)) should return an nn.Conv2d")
    check_equal(tuple(conv.kernel_size), (1, 1), "the kernel size of the convolution")
    X = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    check_tensor(conv(X), X.sum(dim=1, keepdim=True),
                 "the convolution made from a dense layer that sums 3 channels, on X")

test_q3_channel_sum(dense_to_conv1x1)

# %%
def test_q3_weight_shape(dense_to_conv1x1):
    from torch import nn

    from cnnlib.classroom.checks import check_shape

    conv = dense_to_conv1x1(nn.Linear(3, 2))
    check_shape(conv.weight, (2, 3, 1, 1), "dense_to_conv1x1(nn.Linear(3, 2)).weight")

test_q3_weight_shape(dense_to_conv1x1)

# %%
# HIDDEN
def test_q3_random_dense_layers(dense_to_conv1x1):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_equal, check_tensor, fresh_generator, is_instance

    gen = fresh_generator()
    # More, fewer and as many outputs as inputs, one input or output channel; non-square
    # maps, a single pixel, random weights and biases.
    for (c_in, c_out), (h, w) in (((3, 2), (3, 4)), ((2, 3), (5, 2)), ((4, 4), (1, 1)),
                                  ((1, 5), (4, 3)), ((5, 1), (2, 7))):
        dense = nn.Linear(c_in, c_out)
        with torch.no_grad():
            dense.weight.copy_(torch.randn(c_out, c_in, generator=gen))
            dense.bias.copy_(torch.randn(c_out, generator=gen))
        what = f"dense_to_conv1x1(nn.Linear({c_in}, {c_out}))"
        conv = dense_to_conv1x1(dense)
        if not is_instance(conv, nn.Conv2d):
            raise AssertionError(f"{what} should return an nn.Conv2d")
        check_equal(tuple(conv.kernel_size), (1, 1), f"the kernel size of {what}")
        X = torch.randn(2, c_in, h, w, generator=gen)
        with torch.no_grad():
            expected = dense(X.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
            check_tensor(conv(X), expected, f"{what} on a (2, {c_in}, {h}, {w}) input",
                         gen=gen)

test_q3_random_dense_layers(dense_to_conv1x1)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 2
# kind: compute
# forbids: [torch.nn.Conv2d, torch.nn.MaxPool2d, torch.nn.functional.conv2d, torch.conv2d,
#   torch.nn.functional.max_pool2d, torch.max_pool2d, cnnlib.models,
#   cnnlib.ops.conv_output_shape, cnnlib.ops.layer_output_sizes]
# exercises: [3]

# %% [markdown]
# ### q4 · how large a map does global average pooling average? (≈10 min)
#
# NiN's last block outputs one channel per class, and `nn.AdaptiveAvgPool2d((1, 1))`
# averages each channel over all its positions. Write `class_map_side(n)`: the height
# (and width) of the maps the class block outputs for an $n \times n$ input to
# `cnnlib.models.nin.nin()`, for any $n \ge 67$. Follow the layers that change the size:
# the 11 × 11 convolution with stride 4 and no padding, and the three 3 × 3 max-pools
# with stride 2 and no padding. The other convolutions are padded so that they keep the
# size. Use the output-size formula of section 7.3, with its floor, at every layer.
#
# At 224 pixels the class block outputs 5 × 5 maps. Once you have the function, try it
# on a few sizes: for which inputs is there only one position left to average
# (exercise 3 of the section)?

# %% [raw]
# # BEGIN SOLUTION

# %%
def class_map_side(n):
    """Height and width of NiN's class maps for an n x n input (n >= 67)."""
    # BEGIN SOLUTION
    side = (n - 11) // 4 + 1  # 11x11 convolution, stride 4
    for _ in range(3):  # three 3x3 max-pools, stride 2
        side = (side - 3) // 2 + 1
    return side
    # END SOLUTION


# %%
{n: class_map_side(n) for n in (67, 96, 98, 99, 112, 224)}

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q4_sizes_in_the_text(class_map_side):
    from cnnlib.classroom.checks import check_callable, check_equal

    check_callable(class_map_side, "class_map_side")
    # The book's size, and the size GoogLeNet and ResNet are trained at in the book.
    for n, side in ((224, 5), (96, 1)):
        check_equal(class_map_side(n), side, f"class_map_side({n})")

test_q4_sizes_in_the_text(class_map_side)

# %%
# HIDDEN
def test_q4_every_size_against_the_network(class_map_side):
    import torch

    from cnnlib.classroom.checks import check_equal, fresh_generator
    from cnnlib.models import nin as lib

    gen = fresh_generator()
    # NiN's layers with one channel each, up to the class block (which keeps the size).
    features = lib.NiN(num_classes=1, block_channels=(1, 1, 1)).net[:7].eval()
    sizes = list(range(67, 200)) + [int(v) for v in torch.randint(200, 400, (5,), generator=gen)]
    with torch.no_grad():
        for n in sizes:
            side = features(torch.zeros(1, 1, n, n)).shape[-1]
            check_equal(class_map_side(n), side, f"class_map_side({n})")

test_q4_every_size_against_the_network(class_map_side)

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
# exercises: [1]

# %% [markdown]
# ### q5 · what 1 × 1 convolutions can and cannot do (≈12 min)
#
# Decide, **before you run anything**, whether each statement is true. Statement a is
# exercise 1 of the section; c and d are versions of D2L exercises 2 and 3 (1 × 1
# convolutions replaced by 3 × 3 ones, global average pooling replaced by a dense layer).
#
# * **a.** Remove the ReLU between the two 1 × 1 convolutions of a NiN block (both from
#   $C$ to $C$ channels): the pair then computes nothing that a single 1 × 1 convolution
#   from $C$ to $C$ channels could not.
# * **b.** The output of a 1 × 1 convolution at one pixel changes when the input at a
#   neighbouring pixel changes.
# * **c.** Replacing the two 1 × 1 convolutions of `nin_block(96, 256, 5, 1, 2)` by 3 × 3
#   convolutions with padding 1 (same channels) more than doubles the block's
#   parameters.
# * **d.** For 224 × 224 inputs the class block outputs 10 maps of 5 × 5. Replacing
#   global average pooling by a dense layer from those 250 values to the 10 scores adds
#   fewer than 1,000 parameters.
#
# Set `q5_answer` to a dict with keys `"a"`, `"b"`, `"c"`, `"d"` and the values `True`
# or `False`. Afterwards, check a with q3's idea (a 1 × 1 convolution is a dense layer at
# every pixel: what is a product of two matrices?) and c with `nin_block_params`.

# %% [raw]
# # BEGIN SOLUTION

# %%
# Replace each ... by True or False.
q5_answer = {"a": ..., "b": ..., "c": ..., "d": ...}
# BEGIN SOLUTION
q5_answer = {"a": True, "b": False, "c": True, "d": False}
# END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q5_form(q5_answer):
    from cnnlib.classroom.checks import check_form

    check_form(q5_answer, dict.fromkeys("abcd", bool), "q5_answer")

test_q5_form(q5_answer)

# %%
# HIDDEN
def test_q5_a_two_linear_maps_are_one(q5_answer):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_judged, fresh_generator

    gen = fresh_generator()
    C = 6
    first, second, merged = nn.Conv2d(C, C, 1), nn.Conv2d(C, C, 1), nn.Conv2d(C, C, 1)
    with torch.no_grad():
        for conv in (first, second):
            conv.weight.copy_(torch.randn(C, C, 1, 1, generator=gen))
            conv.bias.copy_(torch.randn(C, generator=gen))
        W1, W2 = first.weight[:, :, 0, 0], second.weight[:, :, 0, 0]
        merged.weight.copy_((W2 @ W1).reshape(C, C, 1, 1))  # one 1 x 1 convolution
        merged.bias.copy_(W2 @ first.bias + second.bias)
        X = torch.randn(2, C, 5, 4, generator=gen)
        truth = torch.allclose(second(first(X)), merged(X), atol=1e-4)
    check_judged(q5_answer["a"], truth, "statement a (two 1 x 1 convolutions without a ReLU)")

test_q5_a_two_linear_maps_are_one(q5_answer)

# %%
# HIDDEN
def test_q5_b_neighbours(q5_answer):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_judged, fresh_generator

    gen = fresh_generator()
    conv = nn.Conv2d(3, 4, 1)
    X = torch.randn(1, 3, 5, 5, generator=gen)
    changed = X.clone()
    changed[0, :, 2, 3] += 10  # the right-hand neighbour of pixel (2, 2)
    with torch.no_grad():
        truth = not torch.allclose(conv(X)[0, :, 2, 2], conv(changed)[0, :, 2, 2])
    check_judged(q5_answer["b"], truth, "statement b (a neighbouring pixel)")

test_q5_b_neighbours(q5_answer)

# %%
# HIDDEN
def test_q5_c_three_by_three_instead(q5_answer):
    from torch import nn

    from cnnlib.classroom.checks import check_judged

    def params(*layers):
        return sum(p.numel() for layer in layers for p in layer.parameters())

    first = nn.Conv2d(96, 256, 5, padding=2)
    ones = params(first, nn.Conv2d(256, 256, 1), nn.Conv2d(256, 256, 1))
    threes = params(first, nn.Conv2d(256, 256, 3, padding=1), nn.Conv2d(256, 256, 3, padding=1))
    truth = threes > 2 * ones
    check_judged(q5_answer["c"], truth, "statement c (3 x 3 instead of 1 x 1)")

test_q5_c_three_by_three_instead(q5_answer)

# %%
# HIDDEN
def test_q5_d_a_dense_head(q5_answer):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_judged
    from cnnlib.models import nin as lib

    net = lib.NiN(block_channels=(1, 1, 1)).eval()  # NiN's geometry, 10 classes
    with torch.no_grad():
        maps = net.net[:8](torch.zeros(1, 1, 224, 224))  # up to the class block
    dense = nn.Linear(maps[0].numel(), 10)
    truth = sum(p.numel() for p in dense.parameters()) < 1000
    check_judged(q5_answer["d"], truth, "statement d (a dense layer instead of the averaging)")

test_q5_d_a_dense_head(q5_answer)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Hand in
#
# Run *Kernel → Restart & Run All*, check that every `grader.check` above passes, then run
# the cell below. It saves a zip with your notebook; hand in that zip or this `.ipynb`.
