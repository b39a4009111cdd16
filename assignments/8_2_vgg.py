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
# name: 8_2_vgg
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
# # Assignment 8.2: VGG
#
# Companion section: *8.2 Networks Using Blocks (VGG)*. You will write the VGG block, count
# the parameters of any VGG configuration from the formulas (and meet the paper's famous
# 138 million), and compute how far a stack of small windows sees, which is the reason
# VGG uses 3 × 3 convolutions only.
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

from cnnlib import setup

seed = setup(0)

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 3
# kind: compute
# forbids: [cnnlib.models.vgg]

# %% [markdown]
# ### q1 · the VGG block, with batch norm as an option (≈20 min)
#
# Write `vgg_block(num_convs, in_channels, out_channels, batch_norm=False)`: an
# `nn.Sequential` of `num_convs` pairs "3 × 3 convolution with padding 1, then
# `nn.ReLU()`", followed by one `nn.MaxPool2d(kernel_size=2, stride=2)`. The first
# convolution reads `in_channels` channels; every convolution writes `out_channels`. Put
# the layers directly in the `nn.Sequential`, in order (no nested blocks), so a block of
# two convolutions has five layers. The convolutions keep height and width; only the
# pooling halves them.
#
# The section's block is the case `batch_norm=False`. With `batch_norm=True`, put an
# `nn.BatchNorm2d` over the convolution's output channels between each convolution and
# its ReLU, as the VGG variants with batch norm do (torchvision's `vgg11_bn`, for one;
# batch norm is section 8.5's subject), so a block of two convolutions has seven layers.
#
# VGG-11 starts with `vgg_block(1, 1, 64)` and `vgg_block(1, 64, 128)`: a 32 × 32 image
# comes out of them as 128 maps of 8 × 8.

# %% [raw]
# # BEGIN SOLUTION

# %%
def vgg_block(num_convs, in_channels, out_channels, batch_norm=False):
    """num_convs 3x3 convolutions (each with batch norm if asked) with ReLU, then a 2x2
    max-pool with stride 2."""
    # BEGIN SOLUTION
    layers = []
    for _ in range(num_convs):
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(nn.ReLU())
        in_channels = out_channels  # later convolutions read the block's own output
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)
    # END SOLUTION


# %%
vgg_block(2, 64, 128), vgg_block(2, 64, 128, batch_norm=True)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q1_vgg11_first_blocks(vgg_block):
    import torch

    from cnnlib.classroom.checks import check_callable, check_equal, check_shape, module_structure

    def layer_types(block):  # the direct entries of the Sequential, e.g. "Conv2d"
        return [row["type"].rsplit(".", 1)[-1] for row in module_structure(block)
                if row["name"] and "." not in row["name"]]

    check_callable(vgg_block, "vgg_block")
    first, second = vgg_block(1, 1, 64), vgg_block(1, 64, 128)
    check_equal(layer_types(first), ["Conv2d", "ReLU", "MaxPool2d"],
                "the layers of vgg_block(1, 1, 64)")
    with torch.no_grad():
        Y = first(torch.randn(2, 1, 32, 32))
        check_shape(Y, (2, 64, 16, 16), "vgg_block(1, 1, 64) on (2, 1, 32, 32)")
        check_shape(second(Y), (2, 128, 8, 8), "vgg_block(1, 64, 128) on its output")
    check_equal(layer_types(vgg_block(3, 8, 8)), ["Conv2d", "ReLU"] * 3 + ["MaxPool2d"],
                "the layers of vgg_block(3, 8, 8)")
    check_equal(layer_types(vgg_block(1, 3, 8, batch_norm=True)),
                ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"],
                "the layers of vgg_block(1, 3, 8, batch_norm=True)")

test_q1_vgg11_first_blocks(vgg_block)

# %%
# HIDDEN
def test_q1_random_blocks_against_cnnlib(vgg_block):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_equal, check_tensor, fresh_generator, module_structure
    from cnnlib.models.vgg import vgg_block as reference_block

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
                         pair(padding), row.get("ceil_mode", False), row.get("bias")))
        return rows

    def with_batch_norm(block):  # cnnlib's block, a batch norm after every convolution
        layers = []
        for layer in block:
            layers.append(layer)
            if isinstance(layer, nn.Conv2d):
                layers.append(nn.BatchNorm2d(layer.out_channels))
        return nn.Sequential(*layers)

    gen = fresh_generator()
    # One to four convolutions, in != out (so the later convolutions' inputs matter) and
    # in == out; non-square inputs with odd and even sides (the pooling floors odd ones);
    # without batch norm (the section's block), then with it.
    cases = ((1, 2, 5, (7, 10), False), (2, 3, 11, (9, 6), False), (3, 6, 6, (8, 5), False),
             (4, 1, 4, (5, 5), False), (2, 3, 5, (6, 7), True), (3, 4, 4, (7, 6), True))
    for num_convs, c_in, c_out, (h, w), bn in cases:
        shift = int(torch.randint(0, 3, (1,), generator=gen))
        c_in, c_out = c_in + shift, c_out + shift  # in == out stays so, the others apart
        what = f"vgg_block({num_convs}, {c_in}, {c_out}, batch_norm={bn})"
        reference = reference_block(num_convs, c_in, c_out)
        if bn:
            reference = with_batch_norm(reference)
        block = vgg_block(num_convs, c_in, c_out, batch_norm=bn)
        ours, theirs = layers(block), layers(reference)
        check_equal(len(ours), len(theirs), f"the number of layers of {what}")
        for i, (got, expected) in enumerate(zip(ours, theirs, strict=False)):
            check_equal(got, expected, f"layer {i} of {what} (type, in, out, kernel, stride, "
                                       "padding, ceil_mode, bias)")
        with torch.no_grad():
            for param in reference.parameters():
                param.copy_(torch.randn(param.shape, generator=gen) * 0.3)
        block.load_state_dict(reference.state_dict())  # same weights: the outputs must agree
        X = torch.randn(2, c_in, h, w, generator=gen)
        with torch.no_grad():
            check_tensor(block(X), reference(X), f"{what} on a (2, {c_in}, {h}, {w}) input",
                         gen=gen)

test_q1_random_blocks_against_cnnlib(vgg_block)

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
# ### q2 · parameters of any VGG, from the formulas (≈20 min)
#
# A VGG network is its list of blocks, `arch`, with one `(num_convs, out_channels)` pair per
# block, followed by `Flatten` and the dense head: two hidden layers of `hidden_size` units
# and the output layer of `num_classes`. Each block halves the side length, rounding down,
# so after $b$ blocks a square image of side $n$ is $\lfloor n / 2^b \rfloor$ pixels wide.
#
# Write `vgg_param_count(arch, in_channels=1, num_classes=10, input_size=224,
# hidden_size=4096)`: the number of parameters of `cnnlib.models.vgg.VGG` built with
# those arguments, computed from the formulas (do not build the network). A 3 × 3
# convolution from $c_i$ to $c_o$ channels has $9 c_i c_o + c_o$ parameters; a dense
# layer from $m$ to $n$ units, $mn + n$.
#
# The section's VGG-11 on 224 × 224 greyscale images with 10 classes has 128,806,154
# parameters. The paper's VGG-16, `((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))`, on
# colour images (`in_channels=3`) with 1,000 classes has 138,357,544.

# %% [raw]
# # BEGIN SOLUTION

# %%
def vgg_param_count(arch, in_channels=1, num_classes=10, input_size=224, hidden_size=4096):
    """Parameters of VGG(arch, in_channels, num_classes, input_size, hidden_size)."""
    # BEGIN SOLUTION
    total, c_in = 0, in_channels
    for num_convs, c_out in arch:
        for _ in range(num_convs):
            total += 9 * c_in * c_out + c_out
            c_in = c_out
    side = input_size // 2 ** len(arch)
    sizes = (c_in * side * side, hidden_size, hidden_size, num_classes)
    for m, n in zip(sizes[:-1], sizes[1:], strict=True):
        total += m * n + n
    return total
    # END SOLUTION


# %%
VGG11 = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
VGG16 = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))
vgg_param_count(VGG11), vgg_param_count(VGG16, in_channels=3, num_classes=1000)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q2_vgg11_and_vgg16(vgg_param_count):
    from cnnlib.classroom.checks import check_callable, check_equal

    check_callable(vgg_param_count, "vgg_param_count")
    vgg11 = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
    vgg16 = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))
    check_equal(vgg_param_count(vgg11), 128_806_154, "vgg_param_count(VGG-11)")
    check_equal(vgg_param_count(vgg16, in_channels=3, num_classes=1000), 138_357_544,
                "vgg_param_count(VGG-16, in_channels=3, num_classes=1000)")
    vgg11_narrow = ((1, 16), (1, 32), (2, 64), (2, 128), (2, 128))
    check_equal(vgg_param_count(vgg11_narrow, input_size=32, hidden_size=1024), 1_768_778,
                "vgg_param_count(VGG-11 / 4, input_size=32, hidden_size=1024): the quick budget")

test_q2_vgg11_and_vgg16(vgg_param_count)

# %%
# HIDDEN
def test_q2_random_configurations_against_modules(vgg_param_count):
    import torch

    from cnnlib.classroom.checks import check_equal, fresh_generator
    from cnnlib.models.vgg import VGG

    gen = fresh_generator()

    def randint(low, high):
        return int(torch.randint(low, high, (1,), generator=gen))

    # One to six blocks, each network with a block of several convolutions whose input and
    # output channels differ; one and several input channels; for each, an input size that
    # is a multiple of 2 ** blocks and one that is not (the largest remainder).
    for num_blocks in range(1, 7):
        convs = [randint(1, 4) for _ in range(num_blocks)]
        convs[randint(0, num_blocks)] = randint(2, 4)
        channels = [randint(1, 17) for _ in range(num_blocks)]
        arch = tuple(zip(convs, channels, strict=True))
        in_channels = 1 if num_blocks % 2 else randint(2, 4)
        classes, hidden = randint(2, 20), randint(4, 48)
        for input_size in (2 ** num_blocks * randint(1, 4), 2 ** num_blocks * randint(1, 4)
                           + 2 ** num_blocks - 1):
            with torch.device("meta"):  # counts the parameters without allocating them
                model = VGG(arch, in_channels, classes, input_size, hidden)
            expected = sum(p.numel() for p in model.parameters())
            check_equal(vgg_param_count(arch, in_channels, classes, input_size, hidden),
                        expected, f"vgg_param_count({arch}, in_channels={in_channels}, "
                        f"num_classes={classes}, input_size={input_size}, hidden_size={hidden})")

test_q2_random_configurations_against_modules(vgg_param_count)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 3
# kind: compute
# forbids: [cnnlib.ops.receptive_field, cnnlib.ops.input_region, cnnlib.viz.receptive]

# %% [markdown]
# ### q3 · how far a stack of small windows sees (≈20 min)
#
# The *receptive field* of a unit is the patch of the input it depends on. Stacking two
# 3 × 3 convolutions (stride 1) lets a unit see 5 × 5 input pixels, as one 5 × 5
# convolution would; $n$ of them see $(2n + 1) \times (2n + 1)$, with $9nC^2$ weights
# instead of $(2n+1)^2C^2$ for $C$ channels in and out. After a layer with stride $s$,
# neighbouring units sit $s$ times further apart in the input, so every later window
# widens the field by more: a layer with window $k$ adds $(k - 1) \cdot j$, where $j$, the
# *jump*, is the product of the strides of all the layers *before* it.
#
# Write `receptive_field_size(layers)`, where `layers` is a list of `(kernel_size, stride)`
# pairs (square windows, first layer first, padding does not matter), returning the side
# of the input patch that one unit after the last layer sees. For example, one VGG block
# of two convolutions, `[(3, 1), (3, 1), (2, 2)]`, gives 6, and two such blocks give 16
# (the picture in section 8.2).

# %% [raw]
# # BEGIN SOLUTION

# %%
def receptive_field_size(layers):
    """Receptive field side after a stack of (kernel_size, stride) layers."""
    # BEGIN SOLUTION
    size, jump = 1, 1
    for kernel_size, stride in layers:
        size += (kernel_size - 1) * jump
        jump *= stride
    return size
    # END SOLUTION


# %%
block = [(3, 1), (3, 1), (2, 2)]
print([receptive_field_size([(3, 1)] * n) for n in range(1, 5)])
print(receptive_field_size(block), receptive_field_size(block + block))

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q3_stacks_of_3x3(receptive_field_size):
    from cnnlib.classroom.checks import check_callable, check_equal

    check_callable(receptive_field_size, "receptive_field_size")
    for n in range(1, 6):
        check_equal(receptive_field_size([(3, 1)] * n), 2 * n + 1,
                    f"receptive_field_size of {n} 3x3 convolutions")
    check_equal(receptive_field_size([(7, 1)]), 7, "receptive_field_size([(7, 1)])")
    check_equal(receptive_field_size([(5, 1), (3, 1)]), 7,
                "receptive_field_size([(5, 1), (3, 1)])")
    check_equal(receptive_field_size([(3, 1), (3, 1), (2, 2)]), 6,
                "receptive_field_size of one VGG block [(3, 1), (3, 1), (2, 2)]")

test_q3_stacks_of_3x3(receptive_field_size)

# %%
# HIDDEN
def test_q3_random_stacks_against_cnnlib(receptive_field_size):
    import torch

    from cnnlib.classroom.checks import check_equal, fresh_generator
    from cnnlib.ops import LayerSpec, receptive_field

    gen = fresh_generator()

    def randint(low, high):
        return int(torch.randint(low, high, (1,), generator=gen))

    two_blocks = [(3, 1), (3, 1), (2, 2)] * 2
    check_equal(receptive_field_size(two_blocks), 16, "receptive_field_size of two VGG blocks")
    stacks = [
        [(randint(2, 12), randint(1, 5))],  # one layer: its stride does not matter
        [(1, 2), (randint(2, 6), 1)],  # a 1 x 1 window with stride: only the jump changes
        [(2, 3), (3, 1), (1, 1), (randint(2, 6), 2)],  # stride above the window, 1 x 1 inside
    ]
    # Stacks of 2 to 7 pairs of layers; the first of each pair has stride 2 or 3 and the
    # second a window wider than 1, so the jump always matters, and grows past what one
    # layer's stride gives.
    for depth in range(2, 8):
        layers = []
        for _ in range(depth):
            layers += [(randint(2, 8), randint(2, 4)), (randint(2, 6), randint(1, 3))]
        stacks.append(layers)
    for layers in stacks:
        specs = [LayerSpec(f"layer{i}", k, s) for i, (k, s) in enumerate(layers)]
        expected = receptive_field(specs)[-1].size[0]
        check_equal(receptive_field_size(layers), expected, f"receptive_field_size({layers})")

test_q3_random_stacks_against_cnnlib(receptive_field_size)

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
# exercises: [2, 4]

# %% [markdown]
# ### q4 · predict before you build: VGG-11's size and sight (≈10 min)
#
# Four statements about the section's VGG-11, `((1, 64), (1, 128), (2, 256), (2, 512),
# (2, 512))` on 224 × 224 greyscale images with two hidden dense layers of 4,096 units.
# Decide, **before you run anything**, whether each is true. Statement d is exercise 2
# of the section and statement a a short form of its exercise 4. Afterwards, q2's
# formula for the side length and your functions from q2 and q3 can check b, c and d.
#
# * **a.** With $C$ channels in and out, two stacked 3 × 3 convolutions hold fewer
#   weights than one 5 × 5 convolution, yet a unit after them sees the same 5 × 5 patch
#   of the input.
# * **b.** A 225 × 225 image, one pixel wider than the section's, leaves the last block
#   with 8 × 8 maps instead of 7 × 7.
# * **c.** Dropping the last block (keeping the first four, with the same dense head)
#   makes the network smaller.
# * **d.** A unit after the last block's pooling layer sees a patch smaller than the
#   224 × 224 image.
#
# Set `q4_answer` to a dict with keys `"a"`, `"b"`, `"c"`, `"d"` and the values `True`
# or `False`.

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
def test_q4_a_two_small_windows(q4_answer):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_judged, fresh_generator
    from cnnlib.ops import LayerSpec, receptive_field

    gen = fresh_generator()
    C = int(torch.randint(1, 64, (1,), generator=gen))
    two = 2 * nn.Conv2d(C, C, 3, bias=False).weight.numel()
    one = nn.Conv2d(C, C, 5, bias=False).weight.numel()
    field = receptive_field([LayerSpec("a", 3, padding=1), LayerSpec("b", 3, padding=1)])
    truth = two < one and field[-1].size == (5, 5)
    check_judged(q4_answer["a"], truth, "statement a (two 3 x 3 windows against one 5 x 5)")

test_q4_a_two_small_windows(q4_answer)

# %%
# HIDDEN
def test_q4_b_one_pixel_wider(q4_answer):
    import torch
    from torch import nn

    from cnnlib.classroom.checks import check_judged
    from cnnlib.models.vgg import vgg_block

    blocks, c_in = [], 1
    for num_convs, _ in ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)):
        blocks.append(vgg_block(num_convs, c_in, 1))  # one channel: only the sizes matter
        c_in = 1
    with torch.no_grad():
        side = nn.Sequential(*blocks)(torch.zeros(1, 1, 225, 225)).shape[-1]
    truth = side == 8
    check_judged(q4_answer["b"], truth, "statement b (a 225-pixel image)")

test_q4_b_one_pixel_wider(q4_answer)

# %%
# HIDDEN
def test_q4_c_four_blocks(q4_answer):
    import torch

    from cnnlib.classroom.checks import check_judged
    from cnnlib.models.vgg import VGG

    vgg11 = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
    with torch.device("meta"):  # counts the parameters without allocating them
        five, four = VGG(vgg11), VGG(vgg11[:4])
    truth = (sum(p.numel() for p in four.parameters())
             < sum(p.numel() for p in five.parameters()))
    check_judged(q4_answer["c"], truth, "statement c (four blocks instead of five)")

test_q4_c_four_blocks(q4_answer)

# %%
# HIDDEN
def test_q4_d_what_the_last_unit_sees(q4_answer):
    from cnnlib.classroom.checks import check_judged
    from cnnlib.models.vgg import VGG
    from cnnlib.ops import layer_specs, receptive_field

    narrow = VGG(((1, 1), (1, 1), (2, 1), (2, 1), (2, 1)), hidden_size=4)  # VGG-11's geometry
    size = receptive_field(layer_specs(narrow.net))[-1].size
    truth = size[0] < 224
    check_judged(q4_answer["d"], truth, "statement d (what a unit after the last block sees)")

test_q4_d_what_the_last_unit_sees(q4_answer)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Hand in
#
# Run *Kernel → Restart & Run All*, check that every `grader.check` above passes, then run
# the cell below. It saves a zip with your notebook; hand in that zip or this `.ipynb`.
