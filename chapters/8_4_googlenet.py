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
# # 8.4 Multi-Branch Networks (GoogLeNet)
#
# Companion to D2L section 8.4,
# [Multi-Branch Networks (GoogLeNet)](https://d2l.ai/chapter_convolutional-modern/googlenet.html).
#
# AlexNet, VGG and NiN each pick one kernel size per layer. GoogLeNet
# ([Szegedy et al., 2015](https://arxiv.org/abs/1409.4842)) stops choosing: its
# *Inception block* runs a 1 × 1, a 3 × 3 and a 5 × 5
# convolution and a max-pool side by side on the same input and stacks their outputs
# along the channel axis. Below we write the block ourselves, check it against
# `cnnlib`, confirm that its output channels are the sum of its branches' channels, and
# measure where its parameters and arithmetic go, branch by branch. That measurement
# shows why the cheap 1 × 1 convolutions placed in front of the wide kernels are the
# real trick. Then we assemble the whole network, split it into the stem, body and
# head that D2L uses to describe modern CNNs, follow a 96 × 96 image through its five
# stages, and train it on Fashion-MNIST under the quick budget.

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
import re

import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from torch import nn
from torch.nn import functional as F

from cnnlib import setup
from cnnlib.models import get_model
from cnnlib.models import googlenet as lib
from cnnlib.models.cost import count_flops, count_parameters, layer_costs
from cnnlib.runs import get_budget
from cnnlib.viz.architecture import show_architecture
from cnnlib.viz.common import new_figure
from cnnlib.viz.training import plot_history

seed = setup(0)

# %% [markdown]
# ## The idea: let the network choose the kernel size
#
# Which window should a layer look through? A 1 × 1 kernel only mixes channels, a
# 3 × 3 kernel sees local texture, a 5 × 5 kernel sees larger parts, and a max-pool
# keeps the strongest nearby response. Rather than settle the question by trial and
# error, an Inception block computes all four in parallel branches, each padded so
# that height and width do not change, and concatenates the results. Training then
# decides how much each branch matters, by how large it makes that branch's weights.
#
# Doing this naively would be expensive: a 5 × 5 kernel over hundreds of input
# channels costs 25 times a 1 × 1 kernel per output value. So every wide branch
# first squeezes the channels with a 1 × 1 convolution (section 7.4's cheap
# channel mixer, which NiN in section 8.3 used as a per-pixel dense layer), and the
# pooling branch adjusts its channel count afterwards with another one.

# %% [markdown]
# ## The Inception block
#
# The four branches, with their channel counts as the book names them: `c1` for the
# 1 × 1 branch, `c2 = (reduce, out)` for the 1 × 1 then 3 × 3 branch, `c3` likewise for
# the 5 × 5 branch and `c4` for the pooling branch. D2L builds the layers lazily; we
# state the input channels, so the block has its weights (and a parameter count) as
# soon as it is built.


# %%
class Inception(nn.Module):
    """Four branches on one input, concatenated: (N, C, H, W) -> (N, c1+c2[1]+c3[1]+c4, H, W)."""

    def __init__(self, in_channels, c1, c2, c3, c4):
        super().__init__()
        # Branch 1: a single 1x1 convolution.
        self.b1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        # Branch 2: 1x1 convolution to shrink the channels, then a 3x3 convolution.
        self.b2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.b2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        # Branch 3: 1x1 convolution to shrink the channels, then a 5x5 convolution.
        self.b3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.b3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        # Branch 4: 3x3 max-pool (stride 1 keeps the size), then a 1x1 convolution.
        self.b4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.b4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)

    def forward(self, x):
        b1 = F.relu(self.b1_1(x))
        b2 = F.relu(self.b2_2(F.relu(self.b2_1(x))))
        b3 = F.relu(self.b3_2(F.relu(self.b3_1(x))))
        b4 = F.relu(self.b4_2(self.b4_1(x)))
        return torch.cat((b1, b2, b3, b4), dim=1)  # stack the branches' channels


# %% [markdown]
# GoogLeNet's first Inception block receives 192 channels and uses `c1 = 64`,
# `c2 = (96, 128)`, `c3 = (16, 32)` and `c4 = 32`. Every branch keeps the 12 × 12
# resolution it gets at 96-pixel input, so the outputs can be stacked, and the
# channel counts add up: 64 + 128 + 32 + 32 = 256.

# %%
c1, c2, c3, c4 = lib.B3[0]
block = Inception(192, c1, c2, c3, c4)
X = torch.randn(2, 192, 12, 12)
Y = block(X)
print("input: ", tuple(X.shape))
print("output:", tuple(Y.shape))
print(f"c1 + c2[1] + c3[1] + c4 = {c1} + {c2[1]} + {c3[1]} + {c4} = {c1 + c2[1] + c3[1] + c4}")
assert Y.shape[1] == c1 + c2[1] + c3[1] + c4

# %% [markdown]
# The concatenation is the whole trick of "multi-branch": the first 64 output channels
# *are* branch 1's output, the next 128 are branch 2's, and so on. We check that by
# running branch 1 alone, and we check our block against `cnnlib.models.googlenet.Inception`
# by loading the same weights into both (the layer names match, so the state dicts do).

# %%
assert torch.equal(Y[:, :c1], F.relu(block.b1_1(X)))
ours = lib.Inception(192, c1, c2, c3, c4)
ours.load_state_dict(block.state_dict())
assert torch.equal(ours(X), Y)
print(ours)

# %% [markdown]
# ## Where a block's parameters and arithmetic go
#
# `cnnlib.models.cost.layer_costs` runs a model once and records, for every convolution,
# how many parameters it holds and how many multiply-accumulates (MACs) it performs;
# FLOPs are twice the MACs. Summing its rows by branch (the layer names start with
# `b1` to `b4`) gives each branch's share of the block.


# %%
def branch_costs(model, input_shape):
    """{branch: (parameters, FLOPs)} summed over the Inception layers of `model`."""
    totals = {f"b{k}": [0, 0] for k in range(1, 5)}
    for cost in layer_costs(model, input_shape):
        found = re.search(r"(?:^|\.)(b[1-4])_\d$", cost.name)  # e.g. net.2.0.b3_2 -> b3
        if found:
            totals[found.group(1)][0] += cost.params
            totals[found.group(1)][1] += 2 * cost.macs
    return {name: tuple(values) for name, values in totals.items()}


BRANCH_NAMES = {"b1": "1×1", "b2": "1×1 → 3×3", "b3": "1×1 → 5×5", "b4": "pool → 1×1"}


def print_shares(costs):
    params = sum(p for p, _ in costs.values())
    flops = sum(f for _, f in costs.values())
    print(f"{'branch':<16}{'parameters':>12}{'share':>8}{'FLOPs':>15}{'share':>8}")
    for name, (p, f) in costs.items():
        label = f"{name} {BRANCH_NAMES[name]}"
        print(f"{label:<16}{p:>12,}{p / params:>8.1%}{f:>15,}{f / flops:>8.1%}")
    print(f"{'total':<16}{params:>12,}{'':>8}{flops:>15,}")


block_costs = branch_costs(ours, (1, 192, 12, 12))
print_shares(block_costs)
assert sum(p for p, _ in block_costs.values()) == count_parameters(ours)
assert sum(f for _, f in block_costs.values()) == count_flops(ours, (1, 192, 12, 12))

# %% [markdown]
# The 3 × 3 branch dominates with about four fifths of the block: it has the most
# output channels (128 of 256) and each of its outputs sums over 9 × 96 inputs. The
# 5 × 5 branch, despite the widest window, costs a tenth, because its 1 × 1
# convolution first shrinks 192 channels to 16. Inside one block the two shares
# coincide: every convolution runs on the same 12 × 12 grid, so its FLOPs are its
# weights times 2 × 144 (only the biases, which cost no multiplications, differ). The
# picture puts the same numbers on the block's diagram.


# %% tags=["hide-input"] jupyter={"source_hidden": true}
def draw_inception(config, in_channels, costs, resolution):
    """The block's four branches as boxes, each labelled with its share of params and FLOPs."""
    c1, (c2a, c2b), (c3a, c3b), c4 = config
    branches = {
        "b1": [f"1×1 conv, {c1}"],
        "b2": [f"1×1 conv, {c2a}", f"3×3 conv, {c2b}"],
        "b3": [f"1×1 conv, {c3a}", f"5×5 conv, {c3b}"],
        "b4": ["3×3 max-pool", f"1×1 conv, {c4}"],
    }
    params = sum(p for p, _ in costs.values())
    flops = sum(f for _, f in costs.values())
    fig = new_figure(6.5, 4.4)
    ax = fig.add_subplot()
    ax.set_xlim(0, 8.4)
    ax.set_ylim(0, 5.2)
    ax.axis("off")

    def box(x, y, text, colour, w=1.7, h=0.5):
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, facecolor=colour,
                                    boxstyle="round,pad=0.02,rounding_size=0.06",
                                    edgecolor="#555555", linewidth=0.8))
        ax.text(x, y, text, ha="center", va="center")

    def arrow(x0, y0, x1, y1):
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>",
                                     mutation_scale=9, color="#777777", linewidth=0.8))

    side = f"{resolution}×{resolution}"
    box(4.2, 4.85, f"input: {in_channels} channels, {side}", "#eeeeee", w=3.0)
    out = c1 + c2b + c3b + c4
    box(4.2, 0.35, f"concatenate on channels: {c1} + {c2b} + {c3b} + {c4} = {out}, {side}",
        "#eeeeee", w=6.8)
    for k, (name, layers) in enumerate(branches.items()):
        x = 1.05 + 2.1 * k
        ys = [3.95, 2.95] if len(layers) == 2 else [3.95]  # first stages side by side
        arrow(4.2, 4.6, x, ys[0] + 0.25)
        for y, text in zip(ys, layers, strict=True):
            box(x, y, text, "#fce5cd" if "pool" in text else "#cfe2f3")
        if len(layers) == 2:
            arrow(x, ys[0] - 0.25, x, ys[1] + 0.25)
        p, f = costs[name]
        ax.text(x, 2.05, f"{p / params:.0%} of params\n{f / flops:.0%} of FLOPs", ha="center",
                va="center", color="#990000")
        arrow(x, 1.7, x if k in (1, 2) else 4.2 + (x - 4.2) * 0.6, 0.6)
    ax.set_title(f"Inception block ({params:,} parameters, {flops / 1e6:.1f} MFLOPs "
                 f"on a {side} input)")
    return fig


draw_inception(lib.B3[0], 192, block_costs, 12)

# %% [markdown]
# ### What the 1 × 1 reductions save
#
# Suppose the wide branches went straight from the 192 input channels to their 128
# and 32 outputs. We build those two convolutions and count them the same way:

# %%
direct = {"b2": nn.Conv2d(192, c2[1], kernel_size=3, padding=1),
          "b3": nn.Conv2d(192, c3[1], kernel_size=5, padding=2)}
print(f"{'branch':<12}{'with 1x1 first':>16}{'directly':>12}{'FLOPs with':>14}{'directly':>14}")
for name, conv in direct.items():
    p, f = block_costs[name]
    p_direct, f_direct = count_parameters(conv), count_flops(conv, (1, 192, 12, 12))
    print(f"{name} {BRANCH_NAMES[name]:<9}{p:>16,}{p_direct:>12,}{f:>14,}{f_direct:>14,}")

# %% [markdown]
# The reduction makes the 5 × 5 branch almost ten times cheaper and saves about 40% of
# the 3 × 3 branch. The price is a bottleneck: the 5 × 5 kernels see only 16 mixtures
# of the 192 input channels, which the network has to learn to make useful.
#
# ### Across the whole network
#
# GoogLeNet has nine Inception blocks. Summed over all of them, the 3 × 3 branches
# still hold most of the parameters and FLOPs (the table below); the later blocks give
# relatively more channels to the 1 × 1 and 5 × 5 branches than the first one does.
# Here the parameter and FLOP shares differ a little, because the blocks of stages
# `b3`, `b4` and `b5` run at 12 × 12, 6 × 6 and 3 × 3.

# %%
net = lib.googlenet()
network_costs = branch_costs(net, (1, 1, 96, 96))
print_shares(network_costs)

# %% [markdown]
# ## GoogLeNet
#
# The full model stacks five stages, `b1` to `b5`, followed by one dense layer:
#
# * `b1`: a 7 × 7 convolution with 64 channels and a 3 × 3 max-pool, each with stride 2;
# * `b2`: a 1 × 1 convolution (64 channels) and a 3 × 3 convolution (192), then a max-pool;
# * `b3`: two Inception blocks (256 and 480 output channels), then a max-pool;
# * `b4`: five Inception blocks (512, 512, 512, 528, 832), then a max-pool;
# * `b5`: two Inception blocks (832, 1024), then global average pooling, as in NiN.
#
# Every stride-2 step halves the side, so a 96 × 96 image (the book's resolution,
# chosen to keep training affordable) reaches `b5` as a 3 × 3 map; averaging turns
# that into 1024 numbers per image, and the dense layer maps them to 10 class scores.
# The book's channel counts come from the paper's Table 1 (`lib.B3`, `lib.B4`, `lib.B5`
# hold them); there is no simple rule behind them.
#
# ### Stem, body and head
#
# D2L uses GoogLeNet to introduce a split that almost every later CNN follows
# ([D2L 8.4](https://d2l.ai/chapter_convolutional-modern/googlenet.html), introduction):
#
# * the **stem** takes in the image: a few ordinary convolutions that find low-level
#   features and shrink the resolution quickly. Here that is `b1` and `b2`, three
#   convolutions that take 96 × 96 pixels down to 12 × 12 maps;
# * the **body** does the main work with a stack of repeated blocks: the nine
#   Inception blocks of `b3`, `b4` and `b5`, with the max-pools between the stages;
# * the **head** turns the features into the answer for the task at hand, here
#   global average pooling and one dense layer for the 10 classes. A detector or a
#   segmenter would keep the stem and body and change only the head.
#
# In `cnnlib`'s model the stages are the six entries of `net.net`, and the pooling that
# belongs to the head sits at the end of `b5` (as in the book's code), so we cut `b5`
# before its last two layers:

# %%
b1, b2, b3, b4, b5, dense = net.net
stem = nn.Sequential(b1, b2)
body = nn.Sequential(b3, b4, *b5[:-2])  # nine Inception blocks and the pools between stages
head = nn.Sequential(*b5[-2:], dense)  # global average pooling, flatten, dense layer
X = torch.randn(1, 1, 96, 96)
with torch.no_grad():
    H = X
    for name, part in (("stem", stem), ("body", body), ("head", head)):
        H = part(H)
        print(f"{name:<5} output {tuple(H.shape)!s:<18} {count_parameters(part):>10,} parameters")
    assert torch.equal(H, net(X))  # stem, body and head together are the whole network

# %%
show_architecture(net, (1, 1, 96, 96), title="GoogLeNet on 96×96 Fashion-MNIST")

# %% [markdown]
# The book's layer summary at 96 × 96: one line per stage.

# %%
net.layer_summary((1, 1, 96, 96))

# %% [markdown]
# Parameters and arithmetic, in total and per stage. The last two stages hold almost
# 90% of the parameters, but the arithmetic is spread much more evenly, because the
# early stages work on larger maps: `b2`'s two convolutions do a quarter of all FLOPs
# with 2% of the parameters.

# %%
total_params, total_flops = count_parameters(net), count_flops(net, (1, 1, 96, 96))
print(f"GoogLeNet: {total_params:,} parameters, {total_flops:,} FLOPs per 96×96 image")
stage_costs = {}
for cost in layer_costs(net, (1, 1, 96, 96)):
    stage = cost.name.split(".")[1]  # net.<stage>.<layer...>
    p, f = stage_costs.get(stage, (0, 0))
    stage_costs[stage] = (p + cost.params, f + 2 * cost.macs)
names = ["b1", "b2", "b3", "b4", "b5", "dense"]
for index, (p, f) in stage_costs.items():
    print(f"  {names[int(index)]:<6}{p:>11,} parameters {p / total_params:>6.1%}"
          f"{f:>15,} FLOPs {f / total_flops:>6.1%}")

# %% [markdown]
# Six million parameters is about a seventh of the 43 million in AlexNet's dense layers
# alone (section 8.1), for a network with 22 weight layers along its deepest path
# (1 + 2 in the stem, 2 along each of the nine Inception blocks, 1 in the head; the
# paper counts the same 22).
#
# ## Training under the quick budget
#
# D2L trains GoogLeNet for 10 epochs at 96 × 96 with plain SGD at learning rate 0.01;
# its page shows the run as a training plot. That is the 552 million FLOPs per image
# counted above, in every forward pass, and a 2-core CPU cannot do that much arithmetic
# in the few minutes a section should take (the cell after the next compares the two
# budgets' arithmetic). The quick budget keeps every stage and all
# nine Inception blocks, with the same branch structure, but divides every channel count
# (the ratios between branches stay) and lowers the resolution to 64 × 64, which still
# leaves the last stage 2 × 2 maps. Like AlexNet and VGG in sections 8.1 and 8.2, it
# trains with Adam and a learning rate that decays along a cosine, instead of the
# book's plain SGD at a fixed rate:

# %%
budget = get_budget("googlenet")
print(budget.describe())

# %%
model = get_model("googlenet", **budget.model_kwargs())
side = budget.side
model.layer_summary((1, 1, side, side))
quick_flops = count_flops(model, (1, 1, side, side))
print(f"{count_parameters(model):,} parameters, {quick_flops:,} FLOPs per {side}×{side} image")
full_budget = get_budget("googlenet", "full")
ratio = (full_budget.epochs * total_flops) / (budget.epochs * quick_flops)
print(f"forward-pass FLOPs of a whole training run, full budget / quick budget: {ratio:.0f}×")

# %% [markdown]
# `bf16` runs the convolutions in bfloat16 on CPUs that support it; `channels_last`
# stores the images as height × width × channels, the layout those convolutions are
# fastest in, so the budget switches it on together with `bf16`.
#
# `budget.train` checks the run against the budget's floor, the validation accuracy it
# must reach (printed on its last line). Our floors are set a few points below what our
# own runs reached; the full budget has no floor until someone records a full run,
# because D2L's page gives a plot, not a number to hold it to. The accuracies of the
# recorded runs are on the [results page](../book/results.md).

# %% tags=["nbval-ignore-output"]
history = budget.train(model).history

# %% [markdown]
# ## Learning curves

# %%
plot_history(history)

# %% [markdown]
# ## Inside a trained network: the branches of each block
#
# The section on parameters and arithmetic counted what each branch costs. The explorer
# below shows what each branch *computes*, in the GoogLeNet shipped with `cnnlib`
# (trained once with the quick budget above and saved, so that the website shows what
# this notebook computes). Pick one of the ten example images and one of the nine
# Inception blocks, named as in the paper: stage 3 holds `3a` and `3b`, stage 4 `4a` to
# `4e`, stage 5 `5a` and `5b`. Each column is one branch, labelled with its kernels and
# output channels, showing four of its output maps; at 64 pixels those maps are 8 × 8
# in stage 3, 4 × 4 in stage 4 and 2 × 2 in stage 5; a third menu draws either the four
# channels with the largest mean for this image or the first four. The bars compare each
# branch's share of the block's output channels with its share of the FLOPs, as counted by
# `cnnlib.models.cost`: the 3 × 3 branch always costs more than its share of channels,
# the 1 × 1 and pooling branches less. On the website your browser runs the shipped
# GoogLeNet itself: the four branches, concatenated, are the block's output, so each
# branch's maps are its slice of the channels; only the FLOP counts, which depend on the
# block's shape and not on the image, come from Python.

# %% tags=["nbval-ignore-output"]
from cnnlib.models.pretrained import pretrained
from cnnlib.widgets.inception import InceptionExplorer

inception_explorer = InceptionExplorer(model=pretrained("googlenet"))
inception_explorer

# %% [markdown]
# The four branch outputs, stacked along the channel axis, are the block's output:

# %%
r = inception_explorer.result
block = inception_explorer.model.get_submodule(f"net.{r.name}")
with torch.no_grad():
    torch.testing.assert_close(torch.cat(r.branches), block(r.input[None])[0])
assert sum(r.flops) == count_flops(block, (1, *r.input.shape))
for b in range(4):
    print(f"b{b + 1} {r.kernels[b]:<15}{r.channels[b]:>4} channels {r.channel_shares[b]:>5.0%}"
          f"   FLOPs {r.flop_shares[b]:>5.0%}")

# %% [markdown]
# ## Summary
#
# * An Inception block runs 1 × 1, 3 × 3 and 5 × 5 convolutions and a 3 × 3 max-pool
#   in parallel, keeps height and width in every branch, and concatenates the results:
#   its output has `c1 + c2[1] + c3[1] + c4` channels.
# * The 1 × 1 convolutions in front of the wide kernels make them affordable: the
#   5 × 5 branch of the first block costs about a tenth of what it would cost directly.
# * GoogLeNet stacks nine such blocks in five stages and, like NiN, ends with global
#   average pooling, so a single small dense layer suffices.
#
# ## Exercises
#
# 1. Compute by hand the parameters of branch 3 of the first block (192 inputs,
#    `c3 = (16, 32)`), including biases, and compare with the table above.
# 2. Change the first block's reduction `c3[0]` from 16 to 64 and recompute its
#    parameter and FLOP shares with `branch_costs`. Which branch's share grows, and by
#    how much?
# 3. Why must the max-pool in branch 4 use stride 1 and padding 1? What happens to the
#    concatenation if it used the default stride?
# 4. The stages end in 3 × 3 maps at 96 pixels. At what input size would `b5` see
#    1 × 1 maps? Try `net.layer_summary` with it; does the network still work, and
#    what is left for the 5 × 5 kernels to do?
# 5. Train the quick budget once more with `width_divisor` doubled (set it through
#    `dataclasses.replace(budget, width_divisor=...)`). How do accuracy and time change?
#
# **Graded assignment.** In this section's assignment you write the Inception block with a
# factorised 5 × 5 branch, count each branch's parameters and FLOPs, follow the map size
# through the stages, and explain why the block is built the way it is; exercises 1 to 4
# are among its questions. Public checks tell you what is wrong while you work, and hidden
# tests, on inputs you have not seen, grade your answers.
# <a href="../assignments/8_4_googlenet.ipynb" download>Download the student notebook</a>;
# instructors build and grade it as the [Instructors' guide](../book/instructors.md)
# explains.
