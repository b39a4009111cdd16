# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 8.2 Networks Using Blocks (VGG)
#
# Companion to D2L section 8.2,
# [Networks Using Blocks (VGG)](https://d2l.ai/chapter_convolutional-modern/vgg.html).
#
# AlexNet was designed one layer at a time: each convolution has its own window size,
# stride and width. VGG, from Oxford's Visual Geometry Group in 2014, replaced that with a
# single unit repeated: a few 3 × 3 convolutions followed by a 2 × 2 max-pool. A whole
# network is then a short list saying how many convolutions each block has and how many
# channels. In this notebook we see why small stacked windows are a good trade, write the
# VGG block and check it against the library, reproduce the notes' layer summary of
# VGG-11, compare the cost of the VGG family computed from its block lists, and train the
# book's narrow VGG-11 on Fashion-MNIST under a CPU budget that prints what it reduces.

# %% tags=["remove-cell"] jupyter={"source_hidden": true}
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
    packages = ["tqdm", "ipywidgets", "anywidget"]
    subprocess.run([*pip, "-c", keep.name, *packages], check=True)

# %%
from dataclasses import replace

import torch
from torch import nn

from cnnlib import setup
from cnnlib.models import vgg as cnnlib_vgg
from cnnlib.models.alexnet import AlexNet
from cnnlib.models.cost import count_flops, count_parameters, layer_costs
from cnnlib.models.registry import get_model
from cnnlib.models.vgg import VGG, VGG11_ARCH
from cnnlib.ops import layer_specs, receptive_field
from cnnlib.runs import get_budget
from cnnlib.viz.architecture import show_architecture
from cnnlib.viz.receptive import receptive_field_gallery
from cnnlib.viz.training import plot_history

seed = setup(0)

# %% [markdown]
# ## From layers to blocks
#
# A convolutional network has to shrink its feature maps as it goes, and pooling is what
# shrinks them. If every convolution is followed by a halving pool, as in LeNet, a 224 × 224
# image is down to a single pixel after seven layers (224, 112, 56, 28, 14, 7, 3, 1,
# rounding down): resolution runs out long before depth does. VGG's answer is to put
# *several* convolutions between two poolings, with padding 1 so that the convolutions keep
# height and width, and to let only the pooling halve them. That group, some 3 × 3
# convolutions with ReLU and one 2 × 2 max-pool, is the VGG block.
#
# Thinking in blocks stayed: every network in the rest of this chapter (NiN, GoogLeNet,
# ResNet) is described as a sequence of repeated blocks.

# %% [markdown]
# ## Why 3 × 3: deep and narrow
#
# Two stacked 3 × 3 convolutions let each output depend on a 5 × 5 patch of the input,
# the same as one 5 × 5 convolution; three see 7 × 7. With $C$ channels in and out, the
# stack needs $n \cdot 9C^2$ weights where the single large window needs $(2n+1)^2C^2$,
# and the stack puts a ReLU after every layer. We compute the receptive fields with
# `cnnlib.ops.receptive_field` and count the weights of real layers with $C = 64$.

# %%
C = 64
print(f"{'3×3 layers':>10} {'sees':>6} {'weights':>9}   {'one conv':>9} {'weights':>9}")
for n in range(1, 5):
    stack = nn.Sequential(*[nn.Conv2d(C, C, kernel_size=3, padding=1, bias=False)
                            for _ in range(n)])
    size = receptive_field(layer_specs(stack))[-1].size[0]
    big = nn.Conv2d(C, C, kernel_size=size, padding=size // 2, bias=False)
    assert receptive_field(layer_specs(big))[-1].size[0] == size
    print(f"{n:>10} {size:>3}×{size:<2} {count_parameters(stack):>9,}   "
          f"{size:>6}×{size:<2} {count_parameters(big):>9,}")

# %% [markdown]
# From two layers on the stack needs fewer weights: 28% fewer for two layers, and the gap
# widens with depth. Simonyan and Zisserman also found that small windows stacked deep
# beat large windows: replacing each pair of 3 × 3 layers in one of their networks by a
# single 5 × 5 layer made it less accurate (section 4.1 of
# [the VGG paper](https://arxiv.org/abs/1409.1556)). The picture shows the receptive field of the
# centre unit growing through two VGG blocks on a 16 × 16 input: each 3 × 3 convolution
# adds one pixel on every side, and each pool doubles the step, so the convolutions of the
# second block add two pixels per side.

# %%
two_blocks = nn.Sequential(cnnlib_vgg.vgg_block(2, 1, 8), cnnlib_vgg.vgg_block(2, 8, 8))
names = ["b1 conv1", "b1 conv2", "b1 pool", "b2 conv1", "b2 conv2", "b2 pool"]
specs = [replace(spec, name=name)
         for spec, name in zip(layer_specs(two_blocks), names, strict=True)]
receptive_field_gallery(specs, input_size=16)

# %% [markdown]
# ## A VGG block
#
# The notes define `vgg_block(num_convs, out_channels)` with `nn.LazyConv2d`, which learns
# each convolution's input channels from the first batch it sees. Ours takes the input
# channels as an argument instead:

# %%
def vgg_block(num_convs, in_channels, out_channels):
    layers = []
    for _ in range(num_convs):
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        layers.append(nn.ReLU())
        in_channels = out_channels  # later convolutions read the block's own output
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


# %% [markdown]
# Why pass `in_channels`? A lazy layer has no weights until data has gone through it, so
# until then nothing about its size can be asked:

# %%
lazy_block = nn.Sequential(nn.LazyConv2d(128, kernel_size=3, padding=1), nn.ReLU())
try:
    count_parameters(lazy_block)
except ValueError as err:
    print("ValueError:", str(err).split(" in <")[0])

# %% [markdown]
# With explicit channels, a block's parameters exist, and can be counted, initialised and
# saved, as soon as it is built. The price is a line of bookkeeping: the network must pass
# each block's `out_channels` on as the next block's `in_channels`. PyTorch does not check
# that when the blocks are put together; a mismatch surfaces at the first forward pass,
# as an error that names the channels it expected and the ones it got. `VGG` below does
# the bookkeeping itself, so its blocks always fit. Here two blocks that do not fit (the
# first outputs 16 channels, the second expects 32) are built without complaint:

# %%
mismatched = nn.Sequential(vgg_block(1, 1, 16), vgg_block(1, 32, 32))
print(f"built, with {count_parameters(mismatched):,} parameters")
try:
    mismatched(torch.randn(1, 1, 32, 32))
except RuntimeError as err:
    print("first forward pass: RuntimeError:", err)

# %% [markdown]
# Our block must agree with `cnnlib.models.vgg.vgg_block`: same layers, same parameter
# shapes, and with the same weights the same output. A block of two convolutions from 64
# to 128 channels halves a 56 × 56 map:

# %%
blk = vgg_block(2, 64, 128)
reference = cnnlib_vgg.vgg_block(2, 64, 128)
assert [type(layer) for layer in blk] == [type(layer) for layer in reference]
reference.load_state_dict(blk.state_dict())  # fails unless every parameter shape matches
X = torch.randn(1, 64, 56, 56)
Y = blk(X)
torch.testing.assert_close(Y, reference(X))
print("input:", X.shape, "-> output:", Y.shape)
print(f"this block has {count_parameters(blk):,} parameters")

# %% [markdown]
# ## The VGG network
#
# `cnnlib.models.vgg.VGG` chains one block per `(num_convs, out_channels)` pair and adds
# AlexNet's dense head: two 4,096-unit layers with ReLU and dropout, then the output. The
# notes' configuration has 1 + 1 + 2 + 2 + 2 = 8 convolutions and 3 dense layers: VGG-11.
# Five blocks halve 224 five times, to 7.

# %%
VGG(arch=((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))).layer_summary((1, 1, 224, 224))

# %% [markdown]
# The same network as a diagram, one box per block:

# %%
vgg11 = VGG(arch=VGG11_ARCH)
show_architecture(vgg11, (1, 1, 224, 224), title="VGG-11 on a 224×224 image")

# %% [markdown]
# VGG-11 against AlexNet, both on a 224 × 224 greyscale image with 10 classes:

# %%
print(f"{'':<8} {'parameters':>12} {'FLOPs per image':>16}")
for name, net in (("AlexNet", AlexNet()), ("VGG-11", vgg11)):
    print(f"{name:<8} {count_parameters(net):>12,} {count_flops(net, (1, 1, 224, 224)):>16,}")

# %% [markdown]
# VGG-11 needs eight times AlexNet's arithmetic. The reason is where its convolutions
# work: AlexNet's stride-4 first layer leaves a 54 × 54 map at once, while VGG's first
# blocks run at 224 and 112 pixels. Per block (the dense head listed as one stage):

# %%
stage_params, stage_flops = {}, {}
for cost in layer_costs(vgg11, (1, 1, 224, 224)):
    index = int(cost.name.split(".")[1])  # 'net.3.2' -> 3
    stage = f"block {index + 1}" if index < len(VGG11_ARCH) else "dense head"
    stage_params[stage] = stage_params.get(stage, 0) + cost.params
    stage_flops[stage] = stage_flops.get(stage, 0) + 2 * cost.macs
total_flops = sum(stage_flops.values())
for stage, flops in stage_flops.items():
    print(f"{stage:<10} {stage_params[stage]:>11,} parameters {flops:>15,} FLOPs "
          f"({flops / total_flops:.1%})")

# %% [markdown]
# A convolution's arithmetic is positions × input channels × output channels × 9. Halving
# the side divides the positions by four, and doubling both channel counts multiplies the
# rest by four, so each convolution that opens a block here (64 → 128, 128 → 256,
# 256 → 512) costs the same 1.85 GFLOPs, and a second convolution in a block, whose input
# already has the doubled channels, costs twice that. Blocks 3 and 4 have one of each and
# do three quarters of all the work.
# Block 1 is nearly free because its input has one channel, and block 5 is cheaper because
# it halves the side without doubling the channels. The dense head is cheap to compute
# but holds 119.6 of the 128.8 million parameters.
#
# ## The VGG family
#
# Because a VGG network is just its list of blocks, the paper's deeper variants differ only
# in that list. With three colour channels and 1,000 classes, as in the paper, the
# parameter counts below reproduce its table 2 (133, 133, 138 and 144 million for its
# configurations A, B, D and E; [the VGG paper](https://arxiv.org/abs/1409.1556)).

# %%
family = {
    "VGG-11": ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)),
    "VGG-13": ((2, 64), (2, 128), (2, 256), (2, 512), (2, 512)),
    "VGG-16": ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)),
    "VGG-19": ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512)),
}
print(f"{'':<7} {'conv layers':>11} {'parameters':>12} {'GFLOPs per image':>17}")
for name, arch in family.items():
    net = VGG(arch, in_channels=3, num_classes=1000)
    convs = sum(num_convs for num_convs, _ in arch)
    assert int(name.split("-")[1]) == convs + 3  # the name counts weight layers
    gflops = count_flops(net, (1, 3, 224, 224)) / 1e9
    print(f"{name:<7} {convs:>11} {count_parameters(net):>12,} {gflops:>17.1f}")
del net

# %% [markdown]
# Depth is cheap in parameters (each extra 3 × 3 layer at 512 channels adds 2.4 million
# to the dense head's 124 million) but not in arithmetic: VGG-19 needs about two and a half
# times VGG-11's FLOPs. In the paper, the error stopped improving at 19 layers on
# ImageNet, its deepest configuration (section 4.1 of [the VGG paper](https://arxiv.org/abs/1409.1556)).
#
# ## Training under a budget
#
# VGG-11 at full width needs about 15 GFLOPs per image. D2L finds it too demanding for its
# training run and divides every channel count by 4; the notes train the same narrow
# network. It is our `vgg11(width_divisor=4)`:

# %%
notes_model = VGG(arch=((1, 16), (1, 32), (2, 64), (2, 128), (2, 128)))
book_model = get_model("vgg11", width_divisor=4)
assert [p.shape for p in notes_model.parameters()] == [p.shape for p in book_model.parameters()]
print(f"VGG-11 with channels / 4: {count_parameters(book_model):,} parameters, "
      f"{count_flops(book_model, (1, 1, 224, 224)):,} FLOPs per 224×224 image")

# %% [markdown]
# D2L trains it for 10 epochs on 224 × 224 images, in batches of 128, with plain SGD at
# learning rate 0.01, and shows the run as a training plot; `CNNLIB_BUDGET=full` trains
# with exactly those settings (a GPU's work). The default `quick` budget keeps the book's
# narrow VGG-11 (all eight convolutions in five blocks, dropout and three dense layers)
# and reduces the rest, printing every change:

# %%
budget = get_budget("vgg11")
print(budget.describe())

# %% [markdown]
# The arguments the budget passes to the model builder:

# %%
print(budget.model_kwargs())

# %% [markdown]
# * **32 × 32 images** instead of 224: five halvings need at least 32 pixels, and
#   Fashion-MNIST's images are 28 × 28, so 224 only spreads the same detail over more
#   pixels. Every convolution does 49 times less work.
# * **Dense layers 1,024 wide** (`hidden_size=1024`) instead of 4,096. At 32 pixels the last
#   block leaves a 1 × 1 map of 128 channels, and 4,096-unit layers behind it would hold
#   17.4 of the model's 17.9 million parameters and make each step slower (exercise 3
#   measures by how much).
# * **Adam with a cosine decay** instead of constant-rate SGD, and **three epochs**.
# * **bfloat16 arithmetic** (autocast) on CPUs that support it, to save time.
#
# The quick model on a 32 × 32 image:

# %%
quick_model = get_model("vgg11", **budget.model_kwargs())
side = budget.resize
quick_model.layer_summary((1, 1, side, side), costs=True)

# %% [markdown]
# As in section 8.1, `budget.train` loads the data, trains, and checks the run against the
# budget's floor, the validation accuracy the quick run must reach; its last line prints
# the final accuracy, the floor and how long training took. The
# [results page](../book/results.md) records what the quick budget reached when the
# notebooks were last built.

# %% tags=["nbval-ignore-output"]
history = budget.train(quick_model).history

# %% tags=["nbval-ignore-output"]
history

# %% [markdown]
# ## Learning curves

# %%
plot_history(history)

# %% [markdown]
# The first epoch's training accuracy is low because it averages over a network that
# started from random weights (and runs with dropout on); validation accuracy, measured at
# the end of each epoch, is higher. In the run shown here the training accuracy catches
# up in the last epoch and ends a little above the validation accuracy: only a small gap,
# so little overfitting so far.
#
# ## Block by block: how far one unit sees
#
# Every block halves the grid, so one unit of a later block stands for a larger patch of
# the image. The explorer below shows it on the trained quick VGG-11 (the shipped weights,
# made by the same quick budget as the cell above, 32 × 32 inputs). Pick a test image, a
# block and a unit of that block's output. On the left, the dashed box is the unit's whole
# receptive field and the solid box the input pixels it actually reads; whatever part of
# the field lies outside the image (grey) is zero padding. On the right are the block's
# first eight feature maps with the chosen unit marked.
#
# A block-1 unit reads a 4 × 4 patch, and a block-3 unit already 30 × 30, nearly the
# whole image. From block 4 on the field is larger than the image itself: the unit reads
# every pixel, and most of its field is padding. At 32 pixels, the last blocks of VGG
# mix information from everywhere; at the book's 224 pixels, the same field (150 × 150)
# would still cover only part of the image.
#
# On the website your browser runs the shipped VGG-11 itself, on the pixels Python
# resized, and does the receptive-field arithmetic of section 7.5 in JavaScript; the
# network loads when the explorer comes into view, and until then the picture is the one
# Python drew.

# %% tags=["nbval-ignore-output"]
from cnnlib.models.pretrained import pretrained
from cnnlib.widgets.vgg_blocks import VGGBlockExplorer

blocks = VGGBlockExplorer(model=pretrained("vgg11"))
blocks

# %% [markdown]
# The receptive field the explorer draws is the arithmetic of section 7.5 applied to the
# conv and pool layers of the first blocks. For the last block we can recompute it by hand:
# each 3 × 3 convolution adds 2 steps of the current jump, each 2 × 2 pool adds 1 step and
# doubles the jump.

# %%
blocks.block = 5
size, jump = 1, 1
for num_convs, _ in VGG11_ARCH:
    size += num_convs * 2 * jump  # the block's 3x3 convolutions
    size += jump  # its 2x2 pool
    jump *= 2
print(f"block 5 unit: field {blocks.field.size}, by hand {size}; jump {jump}")
assert blocks.field.size == (size, size)
assert blocks.region == ((0, 32), (0, 32))  # it reads the whole 32 x 32 image

# %% [markdown]
# ## Summary
#
# * A VGG block is a few 3 × 3 convolutions with padding 1, which keep the resolution, and
#   one 2 × 2 max-pool with stride 2, which halves it. A network is a list of
#   `(num_convs, out_channels)` pairs plus a dense head.
# * Stacks of small windows see as far as one large window with fewer parameters and more
#   nonlinearities; in the paper, deeper stacks of small windows were also more accurate.
# * Passing `in_channels` explicitly makes every block's size known when it is built, so
#   its parameters can be counted at once; the network must chain the channels itself.
# * VGG's cost is in its early, high-resolution blocks (arithmetic) and its dense head
#   (parameters); the book trains VGG-11 with a quarter of the channels, and our quick
#   budget also lowers the resolution to 32 and the dense layers to 1,024 units.
#
# ## Exercises
#
# 1. Print `layer_summary` of the VGG-16 configuration at 224 × 224. Which blocks changed
#    compared with VGG-11, and which shapes did not?
# 2. The receptive field after VGG-11's last pool: use `receptive_field(layer_specs(
#    vgg11.net))` and compare it with the 224-pixel input.
# 3. Train the quick model with `hidden_size=4096` (`get_model("vgg11", width_divisor=4,
#    input_size=32)`) for one epoch. How much slower is each step, and does accuracy
#    change?
# 4. Build a "VGG-11" whose blocks each use one 5 × 5 convolution per pair of 3 × 3 ones
#    (write your own block). Compare parameters and FLOPs with `count_parameters` and
#    `count_flops`.
# 5. With `CNNLIB_BUDGET=full` on a GPU, how long does an epoch take, and how does the
#    accuracy after 3 epochs compare with the quick run?
#
# **Graded assignment.** In this section's assignment you write the VGG block with batch
# norm as an option, count any VGG's parameters, compare the receptive field of stacked 3
# × 3 kernels with that of one large kernel, and predict VGG-11's size and sight before
# you build it; exercises 2 and 4 are among its questions. Public checks tell you what is
# wrong while you work, and hidden tests, on inputs you have not seen, grade your answers.
# <a href="../assignments/8_2_vgg.ipynb" download>Download the student notebook</a>;
# instructors build and grade it as the [Instructors' guide](../book/instructors.md)
# explains.
