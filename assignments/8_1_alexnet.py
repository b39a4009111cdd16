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
# name: 8_1_alexnet
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
# # Assignment 8.1: AlexNet
#
# Companion section: *8.1 Deep Convolutional Neural Networks (AlexNet)*. You will do
# AlexNet's bookkeeping by hand: follow an image's side length through its first layers
# with the output-size formula, count where its parameters sit (convolutions or dense
# layers) for any input size and width, and write the dropout its dense layers rely on,
# which behaves differently in training and in evaluation mode.
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

from cnnlib import setup

seed = setup(0)

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 3
# kind: compute
# forbids: [torch.nn.Conv2d, torch.nn.MaxPool2d, torch.nn.functional.conv2d, torch.conv2d,
#   torch.nn.functional.max_pool2d, torch.max_pool2d, cnnlib.models,
#   cnnlib.ops.conv_output_shape, cnnlib.ops.layer_output_sizes]

# %% [markdown]
# ### q1 · an image's side length through AlexNet (≈15 min)
#
# The section followed a 224 × 224 image through AlexNet with `layer_summary`. Do it with
# the output-size formula of section 7.3, $\lfloor (n + 2p - k)/s \rfloor + 1$, instead.
# AlexNet's spatial layers are, in order:
#
# | layer | window | stride | padding |
# |---|---|---|---|
# | conv1 | 11 × 11 | 4 | 1 |
# | pool1 (max) | 3 × 3 | 2 | 0 |
# | conv2 | 5 × 5 | 1 | 2 |
# | pool2 (max) | 3 × 3 | 2 | 0 |
# | conv3, conv4, conv5 | 3 × 3 | 1 | 1 |
# | pool3 (max) | 3 × 3 | 2 | 0 |
#
# Write `alexnet_sides(input_size)`, which returns the list of the 8 side lengths after
# conv1, pool1, conv2, pool2, conv3, conv4, conv5 and pool3 for a square
# `input_size` × `input_size` image (`input_size` is at least 65, the smallest that
# leaves pool3 a 1 × 1 map). The section's 224 pixels give
# `[54, 26, 26, 12, 12, 12, 12, 5]`. Do not run any layers.

# %% [raw]
# # BEGIN SOLUTION

# %%
def alexnet_sides(input_size):
    """Side lengths after conv1, pool1, conv2, pool2, conv3, conv4, conv5, pool3."""
    # BEGIN SOLUTION
    def out(n, k, s=1, p=0):
        return (n + 2 * p - k) // s + 1

    sides = [out(input_size, 11, s=4, p=1)]
    sides.append(out(sides[-1], 3, s=2))  # pool1
    sides.append(out(sides[-1], 5, p=2))  # conv2 keeps the size
    sides.append(out(sides[-1], 3, s=2))  # pool2
    for _ in range(3):  # conv3, conv4, conv5 keep the size
        sides.append(out(sides[-1], 3, p=1))
    sides.append(out(sides[-1], 3, s=2))  # pool3
    return sides
    # END SOLUTION


# %%
alexnet_sides(224)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q1_section_sizes(alexnet_sides):
    from cnnlib.classroom.checks import check_callable, check_equal

    check_callable(alexnet_sides, "alexnet_sides")
    check_equal(list(alexnet_sides(224)), [54, 26, 26, 12, 12, 12, 12, 5],
                "alexnet_sides(224): the book's AlexNet")
    check_equal(list(alexnet_sides(67)), [15, 7, 7, 3, 3, 3, 3, 1],
                "alexnet_sides(67): the quick budget's AlexNet")

test_q1_section_sizes(alexnet_sides)

# %%
# HIDDEN
def test_q1_random_sizes_against_layers(alexnet_sides):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_equal, fresh_generator

    gen = fresh_generator()
    stack = nn.Sequential(  # AlexNet's geometry with one channel: only the sizes matter
        nn.Conv2d(1, 1, kernel_size=11, stride=4, padding=1), nn.MaxPool2d(3, stride=2),
        nn.Conv2d(1, 1, kernel_size=5, padding=2), nn.MaxPool2d(3, stride=2),
        nn.Conv2d(1, 1, kernel_size=3, padding=1), nn.Conv2d(1, 1, kernel_size=3, padding=1),
        nn.Conv2d(1, 1, kernel_size=3, padding=1), nn.MaxPool2d(3, stride=2))
    # The strides multiply to 4 * 2 * 2 * 2 = 32, so the floors repeat with period 32: every
    # size of two full periods from the smallest allowed (65, where pool3 leaves 1 x 1),
    # then a few larger random ones.
    sizes = list(range(65, 129)) + [int(v) for v in torch.randint(129, 400, (4,), generator=gen)]
    for n in sizes:
        X, expected = torch.zeros(1, 1, n, n), []
        with torch.no_grad():
            for layer in stack:
                X = layer(X)
                expected.append(X.shape[-1])
        check_equal(list(alexnet_sides(n)), expected, f"alexnet_sides({n})")

test_q1_random_sizes_against_layers(alexnet_sides)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 3
# kind: compute
# forbids: [torch.nn.Conv2d, torch.nn.Linear, torch.nn.LazyConv2d, torch.nn.LazyLinear,
#   cnnlib.models]

# %% [markdown]
# ### q2 · where the parameters sit (≈20 min)
#
# The section found that AlexNet's five convolutions do almost all the arithmetic while
# its three dense layers hold almost all the parameters. Count them yourself, from the
# formulas:
#
# * a convolution from $c_i$ to $c_o$ channels with a $k \times k$ window has
#   $c_o \cdot c_i \cdot k^2$ weights and $c_o$ biases;
# * a dense layer from $m$ to $n$ units has $n \cdot m$ weights and $n$ biases.
#
# Write `alexnet_param_counts(input_size=224, conv_channels=(96, 256, 384, 384, 256),
# hidden_size=4096, num_classes=10, in_channels=1)`, which returns the pair
# `(conv_params, dense_params)` for `cnnlib.models.alexnet.AlexNet` built with those
# arguments: the window sizes of the table in q1, `conv_channels` as the five
# convolutions' output channels, `in_channels` input channels, two hidden dense layers of
# `hidden_size` units and an output layer of `num_classes`. The first dense layer reads
# the flattened output of pool3, so it depends on `input_size` (q1 helps). Dropout, ReLU
# and pooling have no parameters.

# %% [raw]
# # BEGIN SOLUTION

# %%
def alexnet_param_counts(input_size=224, conv_channels=(96, 256, 384, 384, 256),
                         hidden_size=4096, num_classes=10, in_channels=1):
    """(parameters of the five convolutions, parameters of the three dense layers)."""
    # BEGIN SOLUTION
    kernels = (11, 5, 3, 3, 3)
    conv, c_in = 0, in_channels
    for c_out, k in zip(conv_channels, kernels, strict=True):
        conv += c_out * c_in * k * k + c_out
        c_in = c_out
    side = alexnet_sides(input_size)[-1]
    sizes = (c_in * side * side, hidden_size, hidden_size, num_classes)
    dense = sum(n * m + n for m, n in zip(sizes[:-1], sizes[1:], strict=True))
    return conv, dense
    # END SOLUTION


# %%
alexnet_param_counts()  # (convolutional, dense)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q2_section_models(alexnet_param_counts):
    from cnnlib.classroom.checks import check_callable, check_equal

    check_callable(alexnet_param_counts, "alexnet_param_counts")
    check_equal(tuple(alexnet_param_counts()), (3_723_968, 43_040_778),
                "alexnet_param_counts(): the book's AlexNet at 224x224")
    check_equal(tuple(alexnet_param_counts(67, (24, 64, 96, 96, 64), hidden_size=1024)),
                (235_184, 1_126_410),
                "alexnet_param_counts(67, (24, 64, 96, 96, 64), hidden_size=1024): "
                "the quick budget's AlexNet")

test_q2_section_models(alexnet_param_counts)

# %%
# HIDDEN
def test_q2_random_alexnets_against_modules(alexnet_param_counts):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_equal, fresh_generator
    from cnnlib.models.alexnet import AlexNet

    gen = fresh_generator()

    def randint(low, high):
        return int(torch.randint(low, high, (1,), generator=gen))

    # One, two and three input channels, each with the smallest image (65: pool3 leaves
    # 1 x 1), a small and a large one; narrow random widths; never 10 classes (the
    # section's), and fewer classes than hidden units, so neither can be taken for the other.
    for in_channels in (1, 2, 3):
        for input_size in (65, randint(66, 130), randint(130, 260)):
            channels = tuple(randint(2, 24) for _ in range(5))
            hidden, classes = randint(31, 64), randint(2, 29)
            classes += classes >= 10  # 2..9 or 11..29
            model = AlexNet(classes, in_channels, input_size, channels, hidden)
            expected = tuple(
                sum(p.numel() for m in model.modules() if isinstance(m, kind)
                    for p in m.parameters())
                for kind in (nn.Conv2d, nn.Linear))
            what = (f"alexnet_param_counts({input_size}, {channels}, {hidden}, {classes}, "
                    f"in_channels={in_channels})")
            if in_channels == 3:  # the same call by keyword
                got = alexnet_param_counts(input_size=input_size, conv_channels=channels,
                                           hidden_size=hidden, num_classes=classes,
                                           in_channels=in_channels)
            else:
                got = alexnet_param_counts(input_size, channels, hidden, classes, in_channels)
            check_equal(tuple(got), expected, what)

test_q2_random_alexnets_against_modules(alexnet_param_counts)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 3
# kind: compute
# forbids: [torch.nn.functional.dropout, torch.dropout, torch.nn.Dropout,
#   torch.nn.functional.dropout1d, torch.nn.functional.dropout2d,
#   torch.nn.functional.dropout3d, torch.nn.Dropout1d, torch.nn.Dropout2d, torch.nn.Dropout3d,
#   torch.native_dropout]

# %% [markdown]
# ### q3 · dropout in training and in evaluation mode (≈15 min)
#
# AlexNet's dense layers use dropout with probability 0.5. Write it from scratch:
# `dropout(X, p, training)` returns a tensor shaped like `X`.
#
# * In training mode (`training=True`) each element is zeroed independently with
#   probability `p`, and every element that survives is divided by `1 - p`, so that each
#   element's expected value stays what it was. Two calls must draw different masks.
#   With `p = 1` everything is dropped: return zeros (and do not divide by zero).
# * In evaluation mode (`training=False`) nothing is dropped: return `X` unchanged. That
#   is why `model.eval()` makes a network with dropout deterministic.
#
# *Hint:* `torch.rand(X.shape) > p` is a mask that keeps each element with probability
# $1 - p$.

# %% [raw]
# # BEGIN SOLUTION

# %%
def dropout(X, p, training):
    """Inverted dropout: zero each element with probability p in training, scale survivors."""
    # BEGIN SOLUTION
    if not training or p == 0:
        return X
    if p == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape, device=X.device) > p).to(X.dtype)
    return mask * X / (1 - p)
    # END SOLUTION


# %%
X = torch.arange(16.0).reshape(2, 8)
print(dropout(X, 0.5, training=True))
print(dropout(X, 0.5, training=False))

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q3_modes(dropout):
    import torch

    from cnnlib.classroom.checks import check_callable, check_shape, check_tensor

    check_callable(dropout, "dropout")
    X = torch.arange(1.0, 17.0).reshape(2, 8)
    check_tensor(dropout(X, 0.5, training=False), X, "dropout(X, 0.5, training=False)")
    check_tensor(dropout(X, 0.0, training=True), X, "dropout(X, 0.0, training=True)")
    check_tensor(dropout(X, 1.0, training=True), torch.zeros(2, 8),
                 "dropout(X, 1.0, training=True)")
    Y = dropout(torch.ones(100, 100), 0.5, training=True)
    check_shape(Y, (100, 100), "dropout(ones(100, 100), 0.5, training=True)")
    dropped = (Y == 0).float().mean().item()
    if not 0.4 < dropped < 0.6:
        raise AssertionError(f"dropout(ones(100, 100), 0.5, training=True) zeroed {dropped:.1%} "
                             "of the elements; about 50% expected")

test_q3_modes(dropout)

# %%
# HIDDEN
def test_q3_evaluation_mode_and_edge_probabilities(dropout):
    import torch

    from cnnlib.classroom.checks import check_tensor, fresh_generator

    gen = fresh_generator()
    # Inputs of rank 1 to 4 (dropout acts element by element, whatever the shape).
    for shape in ((7,), (3, 5), (2, 3, 4), (2, 3, 4, 5)):
        X = torch.randn(shape, generator=gen)
        for p in (0.0, 0.3, 0.5, 1.0):
            check_tensor(dropout(X, p, training=False), X,
                         f"dropout(X {shape}, {p}, training=False)", gen=gen)
        check_tensor(dropout(X, 0.0, training=True), X, f"dropout(X {shape}, 0.0, training=True)",
                     gen=gen)
        check_tensor(dropout(X, 1.0, training=True), torch.zeros(shape),
                     f"dropout(X {shape}, 1.0, training=True)", gen=gen)

test_q3_evaluation_mode_and_edge_probabilities(dropout)

# %%
# HIDDEN
def test_q3_statistics_and_scaling(dropout):
    import torch

    from cnnlib.classroom.checks import check_shape, check_tensor, fresh_generator

    gen = fresh_generator()
    # p on both sides of 0.5, on inputs of rank 1 to 4.
    for p, shape in ((0.1, (200, 1000)), (0.25, (50, 4, 1000)), (0.5, (20, 10, 25, 40)),
                     (0.8, (200_000,))):
        X = torch.rand(shape, generator=gen) + 0.5  # no zeros of its own
        Y = dropout(X, p, training=True)
        check_shape(Y, shape, f"dropout(X {shape}, {p}, training=True)")
        kept = Y != 0
        # Each survivor is scaled by 1 / (1 - p); the rest are exactly 0.
        check_tensor(Y[kept], X[kept] / (1 - p),
                     f"the kept elements of dropout(X {shape}, {p}, True)", gen=gen)
        # 200,000 draws: the dropped fraction is within 0.01 of p (at least 7 standard
        # deviations) unless the mask is wrong.
        dropped = 1 - kept.float().mean().item()
        if abs(dropped - p) > 0.01:
            raise AssertionError(f"dropout(X {shape}, {p}, training=True) zeroed {dropped:.3f} of "
                                 f"200,000 elements; about {p} expected")

test_q3_statistics_and_scaling(dropout)

# %%
# HIDDEN
def test_q3_a_new_mask_on_every_call(dropout):
    import torch

    from cnnlib.classroom.checks import fresh_generator

    gen = fresh_generator()
    for p, shape in ((0.2, (100, 100)), (0.5, (10, 20, 50)), (0.7, (4, 5, 10, 50))):
        X = torch.rand(shape, generator=gen) + 0.5
        masks = [dropout(X, p, training=True) != 0 for _ in range(3)]
        if torch.equal(masks[0], masks[1]) or torch.equal(masks[1], masks[2]):
            raise AssertionError(f"two calls of dropout(X {shape}, {p}, training=True) dropped "
                                 "the same elements: draw a new mask on every call")

test_q3_a_new_mask_on_every_call(dropout)

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
# exercises: [2]

# %% [markdown]
# ### q4 · predict what a change does to AlexNet's size (≈12 min)
#
# This extends D2L exercise 1 (which of the convolutions and the dense layers dominates
# the memory footprint) from one network to four changes of it, and to the quick model of
# the section's exercise 2. Start from the section's AlexNet: 224 × 224 greyscale
# images, convolutions of `(96, 256, 384, 384, 256)` channels, two hidden dense layers of
# 4,096 units and 10 classes. Decide, **before you run anything**, whether each statement
# is true:
#
# * **a.** Doubling the output channels of all five convolutions at least doubles the
#   number of parameters of the three dense layers.
# * **b.** Feeding 448 × 448 images instead of 224 × 224 ones changes the number of
#   parameters of the five convolutions.
# * **c.** Feeding 448 × 448 images instead of 224 × 224 ones more than triples the
#   number of parameters of the three dense layers.
# * **d.** Halving the hidden dense layers from 4,096 to 2,048 units removes more than
#   half of all of AlexNet's parameters.
# * **e.** (Exercise 2 of the section.) In `alexnet(width_divisor=4, input_size=67)`,
#   whose convolutions have a quarter of the channels and whose dense layers are back at
#   4,096 units, the three dense layers hold more than 95 % of the parameters.
#
# Set `q4_answer` to a dict with keys `"a"` to `"e"` and the values `True` or `False`.
# Then check your predictions with `alexnet_param_counts` from q2 and explain to
# yourself each one you got wrong: which layer's size depends on what?

# %% [raw]
# # BEGIN SOLUTION

# %%
# Replace each ... by True or False.
q4_answer = {"a": ..., "b": ..., "c": ..., "d": ..., "e": ...}
# BEGIN SOLUTION
q4_answer = {"a": False, "b": False, "c": True, "d": True, "e": True}
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
def test_q4_a_wider_convolutions(q4_answer):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_judged
    from cnnlib.models.alexnet import AlexNet

    def dense_params(**kwargs):
        with torch.device("meta"):  # counts the parameters without allocating them
            model = AlexNet(**kwargs)
        return sum(p.numel() for m in model.modules() if isinstance(m, nn.Linear)
                   for p in m.parameters())

    truth = dense_params(conv_channels=(192, 512, 768, 768, 512)) >= 2 * dense_params()
    check_judged(q4_answer["a"], truth, "statement a (twice the convolution channels)")

test_q4_a_wider_convolutions(q4_answer)

# %%
# HIDDEN
def test_q4_b_larger_images_and_the_convolutions(q4_answer):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_judged
    from cnnlib.models.alexnet import AlexNet

    def conv_params(input_size):
        with torch.device("meta"):
            model = AlexNet(input_size=input_size)
        return sum(p.numel() for m in model.modules() if isinstance(m, nn.Conv2d)
                   for p in m.parameters())

    truth = conv_params(448) != conv_params(224)
    check_judged(q4_answer["b"], truth, "statement b (448-pixel images, the convolutions)")

test_q4_b_larger_images_and_the_convolutions(q4_answer)

# %%
# HIDDEN
def test_q4_c_larger_images_and_the_dense_layers(q4_answer):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_judged
    from cnnlib.models.alexnet import AlexNet

    def dense_params(input_size):
        with torch.device("meta"):
            model = AlexNet(input_size=input_size)
        return sum(p.numel() for m in model.modules() if isinstance(m, nn.Linear)
                   for p in m.parameters())

    truth = dense_params(448) > 3 * dense_params(224)
    check_judged(q4_answer["c"], truth, "statement c (448-pixel images, the dense layers)")

test_q4_c_larger_images_and_the_dense_layers(q4_answer)

# %%
# HIDDEN
def test_q4_d_narrower_hidden_layers(q4_answer):
    import torch

    from cnnlib.classroom.checks import check_judged
    from cnnlib.models.alexnet import AlexNet

    def params(hidden_size):
        with torch.device("meta"):
            model = AlexNet(hidden_size=hidden_size)
        return sum(p.numel() for p in model.parameters())

    truth = params(2048) < params(4096) / 2
    check_judged(q4_answer["d"], truth, "statement d (2,048 hidden units)")

test_q4_d_narrower_hidden_layers(q4_answer)

# %%
# HIDDEN
def test_q4_e_the_quick_model_with_wide_dense_layers(q4_answer):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_judged
    from cnnlib.models.alexnet import alexnet

    with torch.device("meta"):
        model = alexnet(width_divisor=4, input_size=67)
    dense = sum(p.numel() for m in model.modules() if isinstance(m, nn.Linear)
                for p in m.parameters())
    truth = dense > 0.95 * sum(p.numel() for p in model.parameters())
    check_judged(q4_answer["e"], truth, "statement e (the quick model with 4,096 hidden units)")

test_q4_e_the_quick_model_with_wide_dense_layers(q4_answer)

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
# ### q5 · why dropout divides by 1 − p (≈10 min)
#
# A first attempt at q3 often zeroes each element with probability $p$ and stops there,
# without dividing the survivors by $1 - p$. Suppose a network is trained with that
# dropout, with $p = 0.2$ before a dense layer, and then evaluated with `net.eval()`,
# where dropout lets everything through.
#
# * **ratio:** on average over the random masks, the dense layer's input in training is
#   what fraction of its input for the same example in evaluation mode? (A number, e.g.
#   `0.5`.)
# * **reason:** which statement explains why the division by $1 - p$ matters?
#   * **A.** Without it, evaluation feeds the dense layer inputs that are on average
#     $1/(1-p)$ times larger than those its weights were trained on, so its outputs are
#     off; dividing in training keeps the expected input the same in both modes.
#   * **B.** Without it, evaluation would have to drop the same elements as the last
#     training step did, or the predictions would change from one call to the next.
#   * **C.** The division only rescales the gradients so that they do not vanish; the
#     forward pass of the trained network is the same with or without it.
#   * **D.** Without it, evaluation mode would also have to zero a fraction $p$ of the
#     elements, which makes the predictions random.
#
# Set `q5_answer = {"ratio": ..., "reason": ...}`, the reason as one letter.

# %% [raw]
# # BEGIN SOLUTION

# %%
q5_answer = {"ratio": ..., "reason": ...}
# BEGIN SOLUTION
q5_answer = {"ratio": 0.8, "reason": "A"}
# END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q5_form(q5_answer):
    from cnnlib.classroom.checks import check_form

    check_form(q5_answer, {"ratio": float, "reason": ("A", "B", "C", "D")}, "q5_answer")
    if not 0 < q5_answer["ratio"] < 10:
        raise AssertionError("q5_answer['ratio'] should be a positive number, got "
                             f"{q5_answer['ratio']!r}")

test_q5_form(q5_answer)

# %%
# HIDDEN
def test_q5_ratio(q5_answer):
    import torch

    from cnnlib.classroom.checks import fresh_generator

    gen = fresh_generator()
    p = 0.2
    X = torch.rand(1000, generator=gen) + 0.5  # one example's inputs to the dense layer
    masks = (torch.rand(2000, 1000, generator=gen) > p).float()  # 2,000 training passes
    measured = (masks * X).mean(dim=0) / X  # average training input / evaluation input
    truth = 1 - p
    if (measured - truth).abs().max() > 0.05:  # at least 5 standard deviations
        raise AssertionError("the reference measurement of the ratio is off")
    if abs(q5_answer["ratio"] - truth) > 0.005:
        raise AssertionError("the ratio of the average training input to the evaluation "
                             "input is not right")

test_q5_ratio(q5_answer)

# %%
# HIDDEN
def test_q5_reason(q5_answer):
    import torch

    from cnnlib.classroom.checks import check_judged, fresh_generator

    gen = fresh_generator()
    # A's claim, measured: a dense layer fed without the division sees, in evaluation mode,
    # inputs 1 / (1 - p) times the average of those it saw in training; with the division
    # the averages agree. Dropout in evaluation mode draws nothing, so B and D do not hold.
    p, X = 0.2, torch.rand(1000, generator=gen) + 0.5
    masks = (torch.rand(4000, 1000, generator=gen) > p).float()
    plain, inverted = (masks * X).mean(), (masks * X / (1 - p)).mean()
    assert abs(X.mean() / plain - 1 / (1 - p)) < 0.01 and abs(inverted / X.mean() - 1) < 0.01
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
