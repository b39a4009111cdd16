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
# name: 7_5_pooling
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
# # Assignment 7.5: Pooling
#
# Companion section: *7.5 Pooling*. You will write max and average pooling with padding
# and stride as PyTorch defines them, follow the receptive field through a stack of
# convolution and pooling layers, and build average pooling out of a convolution. Then you
# explain why max pooling cannot be built that way, and predict which shifts max pooling
# forgives.
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

seed = setup(0)

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 4
# kind: compute
# forbids: [torch.nn.functional.max_pool2d, torch.max_pool2d,
#   torch.nn.functional.max_pool2d_with_indices, torch.nn.functional.avg_pool2d,
#   torch.nn.MaxPool2d, torch.nn.AvgPool2d, torch.nn.functional.unfold, torch.nn.Unfold,
#   cnnlib.ops, cnnlib.viz.pooling]

# %% [markdown]
# ### q1 · pooling with padding and stride (≈20 min)
#
# The section's `pool2d(X, pool_size, mode)` moves its window one cell at a time and
# never pads. Write `pool2d(X, pool_size, mode="max", padding=0, stride=None)` for a 2-D
# `X` that behaves like `nn.MaxPool2d` and `nn.AvgPool2d`:
#
# * `pool_size`, `padding` and `stride` are each an int or a pair `(height, width)`;
#   `stride=None` means a stride equal to the window, PyTorch's default;
# * `padding` adds that many cells on each side. Max pooling must never pick a padding
#   cell, so it pads with $-\infty$. Average pooling pads with zeros and *counts* them:
#   every window is divided by its full size (PyTorch's default,
#   `count_include_pad=True`).
#
# Return a tensor of shape given by the output-size formula of section 7.3. You may
# assume the padding is at most half the window, as PyTorch requires.
#
# *Hint:* `F.pad(X, (left, right, top, bottom), value=...)` pads a 2-D tensor.

# %% [raw]
# # BEGIN SOLUTION

# %%
def pool2d(X, pool_size, mode="max", padding=0, stride=None):
    """Max or average pooling of 2-D X, with padding and stride as in nn.MaxPool2d/AvgPool2d."""
    # BEGIN SOLUTION
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    (ph, pw), (pad_h, pad_w) = pair(pool_size), pair(padding)
    sh, sw = pair(pool_size if stride is None else stride)
    fill = float("-inf") if mode == "max" else 0.0
    X = F.pad(X, (pad_w, pad_w, pad_h, pad_h), value=fill)
    Y = torch.zeros(((X.shape[0] - ph) // sh + 1, (X.shape[1] - pw) // sw + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i * sh : i * sh + ph, j * sw : j * sw + pw]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
    # END SOLUTION


# %%
X = torch.arange(16, dtype=torch.float32).reshape(4, 4)
pool2d(X, 3, padding=1, stride=2)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q1_section_examples(pool2d):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_callable, check_tensor

    check_callable(pool2d, "pool2d")
    # The section's first loop: a 3 x 3 grid, 2 x 2 windows moved one cell at a time.
    X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    check_tensor(pool2d(X, (2, 2), stride=1), torch.tensor([[4.0, 5.0], [7.0, 8.0]]),
                 "pool2d(X, (2, 2), stride=1)")
    check_tensor(pool2d(X, (2, 2), "avg", stride=1), torch.tensor([[2.0, 3.0], [5.0, 6.0]]),
                 "pool2d(X, (2, 2), 'avg', stride=1)")
    # The section's 4 x 4 input with nn.MaxPool2d and nn.AvgPool2d.
    X = torch.arange(16, dtype=torch.float32).reshape(4, 4)
    settings = [
        {"kernel_size": 3},
        {"kernel_size": 3, "padding": 1, "stride": 2},
        {"kernel_size": (2, 3), "padding": (0, 1), "stride": (2, 3)},
    ]
    for setting in settings:
        for mode, layer in (("max", nn.MaxPool2d(**setting)), ("avg", nn.AvgPool2d(**setting))):
            size, padding = setting["kernel_size"], setting.get("padding", 0)
            stride = setting.get("stride")
            check_tensor(pool2d(X, size, mode, padding, stride), layer(X[None, None])[0, 0],
                         f"pool2d(X, {size}, {mode!r}, padding={padding}, stride={stride})")

test_q1_section_examples(pool2d)

# %%
# HIDDEN
def test_q1_random_inputs_against_pytorch(pool2d):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_tensor, fresh_generator

    gen = fresh_generator()

    def draw(low, high):
        return int(torch.randint(low, high, (1,), generator=gen))

    # (pool_size, padding, stride): every argument as an int and as a pair with different
    # entries; stride=None with square and non-square windows; strides below, at and above
    # the window; padding of half the window; on inputs taller and wider than they are wide.
    settings = [(2, 0, None), (3, 1, 2), (3, 1, 1), ((2, 3), (1, 1), (1, 2)),
                ((3, 2), (1, 0), (2, 1)), (4, 2, 3), ((2, 3), 0, None), ((3, 2), (1, 1), None),
                (2, 1, 3), ((2, 4), (0, 2), 2), (3, (0, 1), (3, 1))]
    for case, (size, padding, stride) in enumerate(settings):
        small = 5 + draw(0, 3)
        big = small + 2 + draw(0, 3)
        h, w = (big, small) if case % 2 else (small, big)
        # Mixed signs, then all negative: a padding cell must never win a maximum.
        for X in (torch.randn(h, w, generator=gen), -torch.rand(h, w, generator=gen) - 0.5):
            for mode, reference in (("max", F.max_pool2d), ("avg", F.avg_pool2d)):
                expected = reference(X[None, None], size, stride=stride, padding=padding)[0, 0]
                check_tensor(pool2d(X, size, mode, padding, stride), expected,
                             f"pool2d(X {h}x{w}, {size}, {mode!r}, padding={padding}, "
                             f"stride={stride})", gen=gen)

test_q1_random_inputs_against_pytorch(pool2d)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 3
# kind: compute
# forbids: [cnnlib.ops, cnnlib.viz.receptive]
# exercises: [5]

# %% [markdown]
# ### q2 · the receptive field of a conv/pool stack (≈15 min)
#
# At the end of section 7.5 the field of one unit grew from 3 to 5 to 6 to 10 input
# cells through conv3 → conv3 → maxpool2 → conv3. Two numbers describe a layer's output
# along one direction: the *size* of its receptive field and the *jump*, the distance in
# input cells between two neighbouring units of that output. The input itself has size 1
# and jump 1. A layer with kernel `k` and stride `s` widens the field by `k - 1` steps of
# the jump *coming into it*, and multiplies the jump by `s`.
#
# Write `receptive_field(layers)`, where `layers` is a list of `(kernel, stride)` pairs of
# ints, first layer first, and return the pair `(size, jump)` after the last layer.
# (Padding shifts where a field lies, not how large it is, so it plays no part here.)
#
# Exercise 5 of the section: how many 3 × 3 convolutions without pooling reach the same
# field as the stack above?

# %% [raw]
# # BEGIN SOLUTION

# %%
def receptive_field(layers):
    """(size, jump) of the last layer's output, for layers given as (kernel, stride) pairs."""
    # BEGIN SOLUTION
    size, jump = 1, 1
    for k, s in layers:
        size += (k - 1) * jump
        jump *= s
    return size, jump
    # END SOLUTION


# %%
receptive_field([(3, 1), (3, 1), (2, 2), (3, 1)])

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q2_section_stack(receptive_field):
    from cnnlib.classroom.checks import check_callable, check_equal

    check_callable(receptive_field, "receptive_field")
    stack = [(3, 1), (3, 1), (2, 2), (3, 1)]  # conv3, conv3, maxpool2, conv3
    for depth, expected in ((1, (3, 1)), (2, (5, 1)), (3, (6, 2)), (4, (10, 2))):
        check_equal(receptive_field(stack[:depth]), expected,
                    f"receptive_field({stack[:depth]})")
    check_equal(receptive_field([(3, 1)] * 3), (7, 1), "receptive_field([(3, 1)] * 3)")

test_q2_section_stack(receptive_field)

# %%
# HIDDEN
def test_q2_random_stacks_against_cnnlib(receptive_field):
    import torch

    from cnnlib.classroom.checks import check_equal, fresh_generator
    from cnnlib.ops import LayerSpec
    from cnnlib.ops import receptive_field as reference

    gen = fresh_generator()

    def draw(low, high):
        return int(torch.randint(low, high, (1,), generator=gen))

    # No layer at all: the input's own field (1, 1).
    check_equal(receptive_field([]), (1, 1), "receptive_field([])")
    # "s" is a strided layer, "c" a stride-1 one with kernel >= 2, "1" a 1 x 1 layer. All
    # stacks but the last (a single layer) have two strided layers before a widening one, so
    # strides must multiply; the first starts with a stride larger than its kernel.
    for pattern in ("ssc", "cscsc", "sssc", "cssc", "scscsc", "1s1sc", "c"):
        stack = [(draw(1, 4), draw(2, 4)) if kind == "s" else (1, 1) if kind == "1"
                 else (draw(2, 6), 1) for kind in pattern]
        if pattern == "ssc":
            stack[0] = (2, 3)  # a stride larger than the kernel
        info = reference([LayerSpec(f"layer{n}", k, stride=s) for n, (k, s) in enumerate(stack)])
        expected = (info[-1].size[0], info[-1].jump[0])
        check_equal(receptive_field(stack), expected,
                    f"receptive_field({stack}) (random stack, seed {gen.initial_seed()})")

test_q2_random_stacks_against_cnnlib(receptive_field)

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
# exercises: [1]

# %% [markdown]
# ### q3 · average pooling as a convolution (≈15 min)
#
# Exercise 1 of the section: average pooling is a convolution with a fixed kernel. Write
# `avg_pool_weight(channels, pool_size)`, which returns the weight `W` of shape
# `(channels, channels, kh, kw)` such that, for any input `X` of shape
# `(n, channels, h, w)`, any padding `p` and stride `s`,
#
# ```python
# F.conv2d(X, W, padding=p, stride=s) == F.avg_pool2d(X, pool_size, stride=s, padding=p)
# ```
#
# `pool_size` is an int or a pair `(kh, kw)`. Remember from the section that pooling
# treats every channel on its own, while a convolution adds up over its input channels.
# Why does zero padding in `F.conv2d` give exactly the `count_include_pad=True` average?

# %% [raw]
# # BEGIN SOLUTION

# %%
def avg_pool_weight(channels, pool_size):
    """Conv weight (channels, channels, kh, kw) that computes average pooling."""
    # BEGIN SOLUTION
    kh, kw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    W = torch.zeros(channels, channels, kh, kw)
    for c in range(channels):
        W[c, c] = 1.0 / (kh * kw)
    return W
    # END SOLUTION


# %%
X = torch.arange(16, dtype=torch.float32).reshape(1, 1, 4, 4)
print(nn.AvgPool2d(3, padding=1, stride=2)(X))
avg_pool_weight(1, 3)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q3_section_layer(avg_pool_weight):
    import torch
    import torch.nn.functional as F
    from torch import nn

    from cnnlib.classroom.checks import check_callable, check_shape, check_tensor

    check_callable(avg_pool_weight, "avg_pool_weight")
    W = avg_pool_weight(1, 3)
    check_shape(W, (1, 1, 3, 3), "avg_pool_weight(1, 3)")
    # nn.AvgPool2d(3, padding=1, stride=2) on the section's 4 x 4 input.
    X = torch.arange(16, dtype=torch.float32).reshape(1, 1, 4, 4)
    check_tensor(F.conv2d(X, W, padding=1, stride=2), nn.AvgPool2d(3, padding=1, stride=2)(X),
                 "F.conv2d(X, avg_pool_weight(1, 3), padding=1, stride=2)")
    check_shape(avg_pool_weight(1, (2, 3)), (1, 1, 2, 3), "avg_pool_weight(1, (2, 3))")

test_q3_section_layer(avg_pool_weight)

# %%
# HIDDEN
def test_q3_random_channels_against_avg_pool(avg_pool_weight):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_tensor, fresh_generator

    gen = fresh_generator()
    for channels, size, padding, stride in ((2, 2, 0, 2), (3, 3, 1, 2), (1, (2, 3), (1, 1), 1),
                                            (4, (3, 2), (1, 0), (2, 1))):
        X = torch.randn(2, channels, 7, 8, generator=gen)
        W = avg_pool_weight(channels, size)
        check_tensor(F.conv2d(X, W, padding=padding, stride=stride),
                     F.avg_pool2d(X, size, stride=stride, padding=padding),
                     f"F.conv2d(X with {channels} channels, avg_pool_weight({channels}, {size}), "
                     f"padding={padding}, stride={stride})", gen=gen)

test_q3_random_channels_against_avg_pool(avg_pool_weight)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 3
# kind: explain
# forbids: []
# exercises: [2]

# %% [markdown]
# ### q4 · why max pooling is not a convolution (≈15 min)
#
# q3 built average pooling out of a convolution. This is D2L exercise 2 (exercise 2 of
# the section too): show that max pooling cannot be built that way. Write
# `mp(X) = F.max_pool2d(X, 2)` for an input `X` of shape `(1, 1, 6, 6)`, and decide for
# each property whether it holds for *every* pair of inputs `X`, `Z` of that shape:
#
# * `"scale"`: `mp(3 * X)` equals `3 * mp(X)`.
# * `"negate"`: `mp(-X)` equals `-mp(X)`.
# * `"add"`: `mp(X + Z)` equals `mp(X) + mp(Z)`.
# * `"offset"`: `mp(X + 1)` equals `mp(X) + 1`.
# * `"reason"`: which sentence is the proof?
#   * **A** A convolution is linear once its bias is taken off: `f(X) = conv(X) - conv(0)`
#     maps `a * X + b * Z` to `a * f(X) + b * f(Z)` for all numbers `a`, `b`. Max pooling
#     has `mp(0) = 0`, so it would have to be linear itself, and it is not: no choice of
#     weights and bias can compute it.
#   * **B** A convolution cannot have a stride as large as its kernel, and max pooling
#     needs one.
#   * **C** A convolution always adds up over its input channels, so it cannot treat each
#     channel on its own.
#   * **D** Max pooling has nothing to learn, and a convolution's weights must be
#     learned.
#
# Set `q4_answer` to a dict with these five keys: `True` or `False` for the four
# properties, and a letter. One counterexample is enough to make a property false: try
# small inputs by hand.

# %% [raw]
# # BEGIN SOLUTION

# %%
q4_answer = {"scale": ..., "negate": ..., "add": ..., "offset": ..., "reason": ...}
# BEGIN SOLUTION
q4_answer = {"scale": True, "negate": False, "add": False, "offset": True, "reason": "A"}
# END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q4_form(q4_answer):
    from cnnlib.classroom.checks import check_form

    form = {"scale": bool, "negate": bool, "add": bool, "offset": bool,
            "reason": ("A", "B", "C", "D")}
    check_form(q4_answer, form, "q4_answer")

test_q4_form(q4_answer)

# %%
# HIDDEN
def test_q4_scale(q4_answer):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_judged, fresh_generator

    gen = fresh_generator()
    holds = True
    for _ in range(5):
        X = torch.randn(1, 1, 6, 6, generator=gen)
        holds &= torch.allclose(F.max_pool2d(3 * X, 2), 3 * F.max_pool2d(X, 2), atol=1e-6)
    check_judged(q4_answer["scale"], holds, 'q4_answer["scale"]')

test_q4_scale(q4_answer)

# %%
# HIDDEN
def test_q4_negate(q4_answer):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_judged, fresh_generator

    gen = fresh_generator()
    holds = True
    for _ in range(5):
        X = torch.randn(1, 1, 6, 6, generator=gen)
        holds &= torch.allclose(F.max_pool2d(-X, 2), -F.max_pool2d(X, 2), atol=1e-6)
    check_judged(q4_answer["negate"], holds, 'q4_answer["negate"] (what is the maximum of -X?)')

test_q4_negate(q4_answer)

# %%
# HIDDEN
def test_q4_add(q4_answer):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_judged, fresh_generator

    gen = fresh_generator()
    holds = True
    for _ in range(5):
        X, Z = torch.randn(1, 1, 6, 6, generator=gen), torch.randn(1, 1, 6, 6, generator=gen)
        holds &= torch.allclose(F.max_pool2d(X + Z, 2),
                                F.max_pool2d(X, 2) + F.max_pool2d(Z, 2), atol=1e-6)
    check_judged(q4_answer["add"], holds,
                 'q4_answer["add"] (what if X and Z peak at different cells of a window?)')

test_q4_add(q4_answer)

# %%
# HIDDEN
def test_q4_offset(q4_answer):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_judged, fresh_generator

    gen = fresh_generator()
    holds = True
    for _ in range(5):
        X = torch.randn(1, 1, 6, 6, generator=gen)
        holds &= torch.allclose(F.max_pool2d(X + 1, 2), F.max_pool2d(X, 2) + 1, atol=1e-6)
    check_judged(q4_answer["offset"], holds, 'q4_answer["offset"]')

test_q4_offset(q4_answer)

# %%
# HIDDEN
def test_q4_reason(q4_answer):
    from cnnlib.classroom.checks import check_judged

    # A: linearity, which "negate" and "add" break. B is false (a convolution's stride may
    # equal its kernel), C is false (groups=channels gives one kernel per channel, as q3
    # could have used), D is false (weights can be fixed, as in q3).
    check_judged(q4_answer["reason"], "A", "the sentence you chose")

test_q4_reason(q4_answer)

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
# ### q5 · predict how far max pooling forgives a shift (≈10 min)
#
# Pooling is said to make a network less sensitive to where a feature sits. Test how far
# that goes. An 8 × 8 image is black except for one white pixel, and
# `nn.MaxPool2d(2)` (2 × 2 windows, stride 2) pools it. Move the white pixel by one cell
# and ask: is the pooled 4 × 4 output exactly what it was before the move? Predict it for
# a white pixel at row 2, column 2 (counting from 0) moved one cell
#
# * `"down"`, `"right"`, `"up"`, `"left"`, and `"down-right"` (one row down and one column
#   right),
#
# and for a white pixel at row 3, column 3 moved
#
# * `"down from (3, 3)"`.
#
# Set `q5_answer` to a dict that maps each of these six keys to `True` (the output is
# unchanged) or `False`. Draw the 2 × 2 windows on a grid first. Then think about what
# fraction of one-cell moves a 2 × 2 window forgives in general.

# %% [raw]
# # BEGIN SOLUTION

# %%
q5_answer = {"down": ..., "right": ..., "up": ..., "left": ..., "down-right": ...,
             "down from (3, 3)": ...}
# BEGIN SOLUTION
q5_answer = {"down": True, "right": True, "up": False, "left": False, "down-right": True,
             "down from (3, 3)": False}
# END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q5_form(q5_answer):
    from cnnlib.classroom.checks import check_form

    keys = ["down", "right", "up", "left", "down-right", "down from (3, 3)"]
    check_form(q5_answer, dict.fromkeys(keys, bool), "q5_answer")

test_q5_form(q5_answer)

# %%
# HIDDEN
def test_q5_moves_from_2_2(q5_answer):
    import torch
    import torch.nn.functional as F

    def pooled(i, j):
        X = torch.zeros(1, 1, 8, 8)
        X[0, 0, i, j] = 1.0
        return F.max_pool2d(X, 2)

    moves = {"down": (1, 0), "right": (0, 1), "up": (-1, 0), "left": (0, -1),
             "down-right": (1, 1)}
    wrong = [key for key, (di, dj) in moves.items()
             if q5_answer[key] is not torch.equal(pooled(2 + di, 2 + dj), pooled(2, 2))]
    if wrong:
        raise AssertionError(f"{len(wrong)} of the five moves from (2, 2) are judged wrongly")

test_q5_moves_from_2_2(q5_answer)

# %%
# HIDDEN
def test_q5_move_from_3_3(q5_answer):
    import torch
    import torch.nn.functional as F

    from cnnlib.classroom.checks import check_judged

    def pooled(i, j):
        X = torch.zeros(1, 1, 8, 8)
        X[0, 0, i, j] = 1.0
        return F.max_pool2d(X, 2)

    check_judged(q5_answer["down from (3, 3)"], torch.equal(pooled(4, 3), pooled(3, 3)),
                 'q5_answer["down from (3, 3)"] (which window holds row 4?)')

test_q5_move_from_3_3(q5_answer)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Hand in
#
# Run *Kernel → Restart & Run All*, check that every `grader.check` above passes, then run
# the cell below. It saves a zip with your notebook; hand in that zip or this `.ipynb`.
