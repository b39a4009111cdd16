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
# # 8.6 Residual Networks (ResNet) and ResNeXt
#
# Companion to D2L section 8.6,
# [Residual Networks (ResNet) and ResNeXt](https://d2l.ai/chapter_convolutional-modern/resnet.html).
#
# Batch norm (section 8.5) helped deep networks train; it did not make them *better*
# just for being deeper. [He et al. (2016)](https://arxiv.org/abs/1512.03385) found that
# a 56-layer plain network, with batch norm, ended with a *higher training* error than a
# 20-layer one (their Figure 1). ResNet fixed that with one addition to a VGG-style
# block: a shortcut that adds the block's input to its output. This page explains why
# that helps, in terms of which functions a network can represent, writes the residual
# block out and checks it against `cnnlib`, reproduces the notes' shapes, and assembles
# ResNet-18. Two later refinements follow: the bottleneck block of the deeper ResNets and
# the pre-activation block. ResNeXt then splits the block's middle convolution into
# groups; we verify its parameter count for several group counts. We train a narrower
# ResNet-18 under the quick budget and, beyond the book, ask the trained network *where*
# it looked, with Grad-CAM heat maps of right and wrong predictions.

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
import torch
from matplotlib.patches import Circle, Ellipse, FancyBboxPatch
from torch import nn
from torch.nn import functional as F

from cnnlib import setup
from cnnlib.data import LABELS
from cnnlib.explain import default_target_layer, grad_cam
from cnnlib.explain.grad_flow import gradient_flow, twin_networks
from cnnlib.models import get_model
from cnnlib.models import resnet as lib
from cnnlib.models.cost import count_flops, count_parameters, layer_costs
from cnnlib.models.pretrained import pretrained
from cnnlib.runs import get_budget
from cnnlib.training import predict
from cnnlib.viz.architecture import show_architecture
from cnnlib.viz.common import new_figure
from cnnlib.viz.explain import show_grad_cam
from cnnlib.viz.training import plot_history
from cnnlib.widgets.grad_cam import GradCamExplorer
from cnnlib.widgets.grad_flow import GradientFlowExplorer

seed = setup(0)

# %% [markdown]
# ## Function classes: when does a bigger network help?
#
# Fix an architecture and let its weights range over all possible values: the functions
# it can compute form a set $\mathcal{F}$, its *function class*. Training looks for the
# member $f^*_\mathcal{F}$ of that set closest to the truth $f^*$ we want. Designing a
# bigger architecture replaces $\mathcal{F}$ by a larger set $\mathcal{F}'$, hoping that
# $f^*_{\mathcal{F}'}$ lands nearer to $f^*$.
#
# That hope is only guaranteed when the classes are *nested*,
# $\mathcal{F} \subseteq \mathcal{F}'$: then everything the small network could do, the
# big one can do too, and the best it finds can be no worse. If the classes are not
# nested, the bigger class may simply cover a *different* region, possibly further from
# $f^*$ (left panel below). More data helps in both cases, by pinning $f^*_\mathcal{F}$
# down better, but only nesting makes "more layers" a safe bet.

# %% tags=["hide-input"] jupyter={"source_hidden": true}
def show_function_classes():
    """Growing function classes F1 ⊂ F2 ⊂ ... (right) versus classes that merely move (left)."""
    fig = new_figure(6.5, 3.2)
    for ax, nested in zip(fig.subplots(1, 2), (False, True), strict=True):
        # Non-nested classes grow but drift (the biggest is not the closest to f*);
        # nested ones grow from a common corner towards f*.
        drift = [(0.0, 0.0), (1.1, 0.5), (0.4, -0.9), (-0.6, 0.3)]
        for k in range(4):
            size = 1.2 + 0.7 * k
            centre = drift[k] if not nested else (size / 2 - 0.6, 0.15 * k)
            ax.add_patch(Ellipse(centre, size, size * 0.75, fill=False, lw=1.5, color=f"C{k}"))
            below = not nested and k == 2  # its top edge runs through F1
            y = centre[1] - size * 0.375 - 0.3 if below else centre[1] + size * 0.375 + 0.08
            ax.text(centre[0], y, f"$\\mathcal{{F}}_{k + 1}$", ha="center", fontsize=11,
                    color=f"C{k}")
        ax.plot([2.9], [0.1], marker="*", ms=14, color="black")
        ax.text(2.9, -0.35, "$f^*$", ha="center", fontsize=11)
        ax.set_xlim(-2.4, 3.6)
        ax.set_ylim(-2.3, 2.3)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title("nested classes" if nested else "non-nested classes")
    return fig


show_function_classes()

# %% [markdown]
# How do we make a deeper network's class contain the shallower one's? It is enough that
# the added layers can compute the **identity**: then the deep network can imitate the
# shallow one exactly, by passing its result through unchanged. He et al. read the
# higher training error of their deeper plain networks as a sign that a stack of
# nonlinear layers has a hard time *learning* the identity, even where it could
# represent something close to it.
#
# ResNet makes the identity the *easy* option. Call $f(\mathbf{x})$ the mapping we want
# a block to compute. The block's weight layers compute some $g(\mathbf{x})$ and the
# shortcut adds the input back, $f(\mathbf{x}) = g(\mathbf{x}) + \mathbf{x}$, so the layers
# only have to learn the *residual* $g(\mathbf{x}) = f(\mathbf{x}) - \mathbf{x}$, the
# correction to "change nothing". If the weight layers output 0, the sum is exactly
# the identity ([He et al., 2016](https://arxiv.org/abs/1512.03385), Section 3.1;
# [D2L 8.6.2](https://d2l.ai/chapter_convolutional-modern/resnet.html)). Three details
# make this precise for the block below:
#
# * Like the paper's, D2L's block applies a ReLU *after* the addition, so it computes
#   $\mathrm{ReLU}(g(\mathbf{x}) + \mathbf{x})$. With $g = 0$ that is $\mathrm{ReLU}(\mathbf{x})$:
#   the identity only for non-negative inputs. Inside a ResNet that is the case that
#   matters, since every block's input comes out of a ReLU (the stem's or the previous
#   block's).
# * The last layer of $g$ is a batch norm, so $g = 0$ means that batch norm's scale
#   $\gamma$ and shift $\beta$ are 0; zero convolution weights alone would leave
#   $\beta$.
# * A block with a 1 × 1 convolution on the shortcut computes
#   $\mathrm{ReLU}(g(\mathbf{x}) + W\mathbf{x})$. It changes the number of channels or
#   the resolution, so it cannot be the identity; only the blocks that keep the shape
#   can fall back to passing their input through.
#
# The shortcut has a second benefit: in the backward pass, the gradient that reaches
# $g(\mathbf{x}) + \mathbf{x}$ flows to $\mathbf{x}$ along the shortcut unchanged, in
# addition to the path through $g$'s weights, so even very deep stacks keep useful
# gradients. (With the ReLU after the addition it passes only where the block's output
# is positive; the pre-activation block further down removes that restriction.)

# %% [markdown]
# ## The residual block
#
# The block follows VGG: two 3 × 3 convolutions with the same number of output channels,
# each followed by batch norm, with a ReLU between them and after the addition. The
# addition needs $g(\mathbf{x})$ and $\mathbf{x}$ to have the same shape. When a block
# changes the number of channels or halves the resolution (stride 2), a 1 × 1
# convolution with the same stride reshapes $\mathbf{x}$ on the shortcut.
#
# Written out as in the notes, the first convolution and the 1 × 1 shortcut are *lazy*:
# they learn how many input channels they have from the first batch they see. (The
# layers after them know their input channels already, so they are ordinary layers.)


# %%
class Residual(nn.Module):
    """ReLU(g(X) + X) with g = 3x3 conv, BN, ReLU, 3x3 conv, BN. (N, C, H, W) -> (N, c, H', W')."""

    def __init__(self, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1, stride=strides)
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(num_channels)
        # The shortcut: X itself, or a strided 1x1 convolution when the shape changes.
        self.conv3 = (nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)
                      if use_1x1conv else None)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3 is not None:
            X = self.conv3(X)
        return F.relu(Y + X)


# %% [markdown]
# A block that keeps the shape: input and output are both $4 \times 3 \times 6 \times 6$.

# %%
blk = Residual(3)
X = torch.randn(4, 3, 6, 6)
blk(X).shape

# %% [markdown]
# A block that doubles the channels and halves height and width, as the first block of
# each later ResNet stage does; the 1 × 1 convolution on the shortcut makes the addition
# possible.

# %%
blk = Residual(6, use_1x1conv=True, strides=2)
blk(X).shape

# %% [markdown]
# ### The library's block: explicit input channels
#
# `cnnlib.models.resnet.Residual` is the same block, with one deliberate difference: it
# is built with its input channels known (`in_channels`, which defaults to
# `num_channels`). Lazy layers are convenient in a listing, but until the first batch
# passes, their weights do not exist: the model cannot count its parameters, be
# initialised, be handed to an optimiser or load saved weights. (The book works around
# this with an extra `apply_init` call that pushes a dummy batch through the model.)
# Explicit channels also turn a wiring mistake into an error where the block is
# *built*, not wherever the first batch happens to arrive. So the first call works as in
# the notes, while the second needs `in_channels=3`:

# %%
lib.Residual(3)(X).shape

# %%
lib.Residual(6, use_1x1conv=True, strides=2, in_channels=3)(X).shape

# %% [markdown]
# Forgetting `in_channels` gives an error that says what to do:

# %%
try:
    lib.Residual(6, use_1x1conv=True, strides=2)(X)
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# Both blocks use the same attribute names, so once our lazy block has seen a batch its
# weights load into the library's block, and the two must then compute the same outputs,
# in training mode (batch statistics) and in evaluation mode (moving averages):

# %%
ours = Residual(6, use_1x1conv=True, strides=2)
theirs = lib.Residual(6, use_1x1conv=True, strides=2, in_channels=3)
ours(X)  # the first batch decides the lazy layers' input channels
theirs.load_state_dict(ours.state_dict())
for mode in ("train", "eval"):
    ours.train(mode == "train")
    theirs.train(mode == "train")
    X_new = torch.randn(4, 3, 6, 6)
    assert torch.allclose(ours(X_new), theirs(X_new), atol=1e-6), mode
print("our block and cnnlib's agree in training and evaluation mode")
print(f"parameters: {count_parameters(ours):,} and {count_parameters(theirs):,}")

# %% [markdown]
# ### The identity is one step away
#
# Here is the function-class argument in code. Set the last batch-norm layer's scale and
# shift to zero, so that $g(\mathbf{x}) = 0$. The residual block then passes a
# non-negative input (as after a ReLU) through unchanged, while the same layers
# *without* the shortcut wipe it out. An input with negative entries comes out as
# $\mathrm{ReLU}(\mathbf{x})$, not $\mathbf{x}$: that is the ReLU after the addition.
# Torchvision's `zero_init_residual=True` sets the last batch norm's $\gamma$ of every
# block to zero ($\beta$ starts at zero anyway), so that in a freshly built ResNet
# every block that keeps the shape passes its input through.

# %%
X_pos = torch.rand(4, 3, 6, 6)  # >= 0, like the output of the previous block's ReLU
blk = Residual(3)
blk(X_pos)  # materialise the lazy layers
with torch.no_grad():
    blk.bn2.weight.zero_()
    blk.bn2.bias.zero_()
plain = nn.Sequential(blk.conv1, blk.bn1, nn.ReLU(), blk.conv2, blk.bn2, nn.ReLU())
print("residual block returns its input:", torch.equal(blk(X_pos), X_pos))
print("same layers without the shortcut return zeros:", bool((plain(X_pos) == 0).all()))
X_any = torch.randn(4, 3, 6, 6)  # negative entries too
print("with negative entries, the block returns its input:", torch.equal(blk(X_any), X_any))
print("... it returns ReLU(input):", torch.equal(blk(X_any), F.relu(X_any)))

# %% [markdown]
# The two kinds of block, drawn:

# %% tags=["hide-input"] jupyter={"source_hidden": true}
def draw_block(ax, shortcut=None, title=""):
    """One residual block, input at the bottom; ``shortcut`` labels a layer on the shortcut."""
    steps = ["3×3 conv", "batch norm", "ReLU", "3×3 conv", "batch norm", "+", "ReLU"]
    colours = {"3×3 conv": "#cfe2f3", "batch norm": "#e6d9f0", "ReLU": "#fbe5cd"}
    for y, step in enumerate(steps, start=1):
        if step == "+":
            ax.add_patch(Circle((0, y), 0.22, facecolor="white", edgecolor="#555555"))
            ax.text(0, y, "+", ha="center", va="center", fontsize=13)
        else:
            ax.add_patch(FancyBboxPatch((-0.8, y - 0.25), 1.6, 0.5, boxstyle="round,pad=0.02",
                                        facecolor=colours[step], edgecolor="#555555"))
            ax.text(0, y, step, ha="center", va="center")
    for y in range(0, len(steps) + 1):  # arrows between consecutive steps, X to output
        low = 0.15 if y == 0 else y + (0.22 if steps[y - 1] == "+" else 0.25)
        high = y + 1 - (0.22 if y < len(steps) and steps[y] == "+" else 0.25)
        ax.annotate("", (0, high), (0, low), arrowprops=dict(arrowstyle="->", color="#555555"))
    ax.text(0, 0, "X", ha="center", va="center", fontsize=11)
    ax.text(0, len(steps) + 1.05, "output", ha="center", va="bottom")
    # The shortcut: out to the right, up, and into the addition.
    plus = steps.index("+") + 1
    ax.plot([0.12, 1.5, 1.5], [0.0, 0.0, plus], color="C3", lw=1.5)
    ax.annotate("", (0.22, plus), (1.5, plus), arrowprops=dict(arrowstyle="->", color="C3"))
    if shortcut:
        ax.add_patch(FancyBboxPatch((0.9, plus / 2 - 0.4), 1.2, 0.8, boxstyle="round,pad=0.02",
                                    facecolor="#cfe2f3", edgecolor="C3"))
        ax.text(1.5, plus / 2, shortcut, ha="center", va="center")
    ax.set_xlim(-1.2, 2.4)
    ax.set_ylim(-0.5, len(steps) + 1.6)
    ax.axis("off")
    ax.set_title(title)


fig = new_figure(6.5, 4.6)
ax_same, ax_down = fig.subplots(1, 2)
draw_block(ax_same, title="Residual(c): same shape")
draw_block(ax_down, "1×1 conv,\nstride 2", title="Residual(c, use_1x1conv=True, strides=2)")
fig

# %% [markdown]
# ### Beyond the book: does the gradient reach the first block?
#
# The second benefit claimed above, gradients flowing back along the shortcuts, can be
# measured. We build a toy network twice: a stem, then `depth` blocks of one 3 × 3
# convolution (optionally with batch norm) and a ReLU, all with 8 channels, then global
# average pooling and a dense layer. The *plain* twin passes each block's output on; the
# *residual* twin adds each block's input to it, $\mathbf{h}_l = \mathbf{h}_{l-1} +
# f_l(\mathbf{h}_{l-1})$. Same seed, same weights: the shortcut is the only difference.
# For one fixed batch of 64 training images (averaged down to 14 × 14 pixels to keep 56
# blocks cheap), the explorer computes the cross-entropy loss at
# initialisation and, for every block, the size of its gradient with respect to the
# block's weights (left) and its output (right), on a log scale.
#
# On the website your browser cannot compute these numbers: they come from
# backpropagating through networks that PyTorch's random number generator initialised,
# which a browser cannot reproduce. So the page reads them from a table PyTorch recorded
# for every setting of the controls (five depths, batch norm on and off, both
# initialisations, seeds 0 to 9; `python scripts/record_grad_flow.py` remakes it) and
# computes the ratios and the status line itself. In JupyterLab the explorer computes every
# setting with PyTorch.
#
# Things to try: at depth 56, switch batch norm off and the initialisation to PyTorch's
# default. The plain network's gradient shrinks by many orders of magnitude on its way
# down and the first blocks get *exactly zero*: they would never learn. Now switch batch
# norm on: the plain network's gradient no longer vanishes, it *grows* towards the input,
# many times larger at the first block than at the last (the cell after the explorer
# prints the ratio, with batch norm and He initialisation). In both settings the residual
# twin keeps its weight gradients within a much narrower band. Without batch norm, though,
# look at the residual twin's loss in the status line: each block *adds* to the
# signal, so its activations grow with depth, one reason ResNet puts batch norm inside
# every block. This is a toy at its first step, not a trained ResNet; it shows how the
# signal travels, not how well either network would end up.

# %% tags=["nbval-ignore-output"]
flow = GradientFlowExplorer()
flow

# %% [markdown]
# The same measurement without the explorer, on its batch: the twins have identical
# weights, and at depth 56 the shortcuts change how the gradient is spread over the blocks
# by orders of magnitude.

# %%
X_flow, y_flow = flow.X, flow.y
plain, residual = twin_networks(56, batch_norm=True, init="kaiming", seed=0)
assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(),
                                             residual.state_dict().values(), strict=True))
g_plain, g_residual = gradient_flow(plain, X_flow, y_flow), gradient_flow(residual, X_flow, y_flow)
assert g_residual.ratio() * 100 < g_plain.ratio()  # first/last block weight-gradient norm
print(f"with batch norm, first/last block weight-gradient norm: plain {g_plain.ratio():,.0f}, "
      f"residual {g_residual.ratio():.2f}")
plain, residual = twin_networks(56, batch_norm=False, init="default", seed=0)
g_plain, g_residual = gradient_flow(plain, X_flow, y_flow), gradient_flow(residual, X_flow, y_flow)
assert g_plain.weight_norms[0] == 0 and (g_residual.weight_norms > 0).all()
print("with batch norm: the plain net's first/last gradient ratio is over 100 times the "
      "residual net's")
print("without batch norm (default init): the plain net's first block gets exactly zero "
      "gradient; every residual block gets some")

# %% [markdown]
# ## ResNet-18
#
# ResNet starts like GoogLeNet: a 7 × 7 convolution with 64 channels and stride 2, then a
# 3 × 3 max-pool with stride 2 (plus batch norm). Four *stages* of two residual blocks
# each follow, with 64, 128, 256 and 512 channels. The first stage keeps the resolution
# (the max-pool has just halved it); every later stage starts with a stride-2 block with
# a 1 × 1 shortcut that halves height and width and doubles the channels. Global average
# pooling and one dense layer produce the 10 scores. Counting the layers with weights:
# 1 stem convolution + 4 stages × 2 blocks × 2 convolutions + 1 dense layer = 18.
#
# `cnnlib`'s `resnet18` keeps each stage as one entry of its `net`, so the layer summary
# prints one `Sequential` line per stage, exactly as in the notes:

# %%
net = lib.resnet18()
net.layer_summary((1, 1, 96, 96))

# %%
show_architecture(net, (1, 1, 96, 96), title="ResNet-18 on 96×96 Fashion-MNIST")

# %% [markdown]
# About 11 million parameters, less than a tenth of full-width VGG-11's 129 million
# (section 8.2): there are no huge dense layers, the head has just
# $512 \times 10 + 10$ weights. Most parameters sit in the last stage, with its 512
# channels, while the arithmetic is spread more evenly: the early stages have few
# channels but large feature maps.

# %%
print(f"ResNet-18: {count_parameters(net):,} parameters, "
      f"{count_flops(net, (1, 1, 96, 96)):,} FLOPs per 96×96 image")
costs = layer_costs(net, (1, 1, 96, 96))  # one entry per conv/linear layer, e.g. net.b2.0.conv1
for name, stage in net.net.named_children():
    flops = sum(2 * c.macs for c in costs if c.name.split(".")[1] == name)
    print(f"  {name:<5} {count_parameters(stage):>10,} parameters {flops:>12,} FLOPs")

# %% [markdown]
# ## Deeper ResNets: the bottleneck block
#
# ResNet-18 and ResNet-34 use the block above. For ResNet-50, 101 and 152, He et al.
# ([2016](https://arxiv.org/abs/1512.03385), Section 4.1 and Figure 5) replace it by a
# *bottleneck block* of three convolutions: a 1 × 1 convolution that reduces the
# channels (256 to 64 in the first stage), a 3 × 3 convolution on the reduced channels,
# and a 1 × 1 convolution that expands them back (64 to 256), each followed by batch
# norm, with the shortcut around all three. It is the trick of GoogLeNet's 1 × 1
# reductions (section 8.4): the expensive 3 × 3 kernels work on few channels. D2L 8.6
# leaves the bottleneck to its exercises. Counting
# the weights (biases left out, since batch norm follows every convolution) for a block
# whose input and output have 256 channels, at the 56 × 56 resolution of ResNet-50's
# first stage on 224-pixel images:

# %%
def convs_cost(convs, in_channels, side=56):
    """Weights and FLOPs of a chain of convolutions on a (1, in_channels, side, side) input."""
    weights = sum(conv.weight.numel() for conv in convs)
    return weights, count_flops(nn.Sequential(*convs), (1, in_channels, side, side))


bottleneck_convs = [nn.Conv2d(256, 64, kernel_size=1, bias=False),
                    nn.Conv2d(64, 64, kernel_size=3, padding=1, bias=False),
                    nn.Conv2d(64, 256, kernel_size=1, bias=False)]
designs = {
    "bottleneck: 1x1 256->64, 3x3 64, 1x1 64->256": (bottleneck_convs, 256),
    "two 3x3 convolutions at 256 channels": (
        [nn.Conv2d(256, 256, kernel_size=3, padding=1, bias=False) for _ in range(2)], 256),
    "two 3x3 convolutions at 64 channels": (
        [nn.Conv2d(64, 64, kernel_size=3, padding=1, bias=False) for _ in range(2)], 64),
}
design_costs = {name: convs_cost(convs, c_in) for name, (convs, c_in) in designs.items()}
for name, (weights, flops) in design_costs.items():
    print(f"{name:<46}{weights:>11,} weights{flops:>15,} FLOPs")
bottleneck, wide, _ = design_costs.values()
print(f"two 3x3 at 256 channels hold {wide[0] / bottleneck[0]:.1f}× the bottleneck's weights")

# %% [markdown]
# By hand: $256 \cdot 64 + 9 \cdot 64 \cdot 64 + 64 \cdot 256 = 69{,}632$ weights against
# $2 \cdot 9 \cdot 256^2 = 1{,}179{,}648$ for two 3 × 3 convolutions at full width. The
# bottleneck block carries 256 channels from block to block for about the cost of a
# basic block that carries only 64, the comparison the paper makes. The shortcut should
# stay a plain identity here: a 1 × 1 convolution on a 256-channel shortcut would add
# $256^2 = 65{,}536$ weights, about as many as the whole block.
#
# `cnnlib`'s `ResNeXtBlock` (two sections down) with a single group is this block:

# %%
blk = lib.ResNeXtBlock(256, 256, groups=1, bot_mul=0.25)
print([tuple(conv.weight.shape) for conv in (blk.conv1, blk.conv2, blk.conv3)])
assert [conv.weight.shape for conv in (blk.conv1, blk.conv2, blk.conv3)] == [
    conv.weight.shape for conv in bottleneck_convs]

# %% [markdown]
# ## Pre-activation: nothing after the addition
#
# In a follow-up paper, [He et al. (2016b), "Identity mappings in deep residual
# networks"](https://arxiv.org/abs/1603.05027), moved batch norm and ReLU *before* each
# convolution and left nothing after the addition (D2L 8.6 leaves this block to its
# exercises, as it does the bottleneck). Such a *pre-activation* block
# computes $\mathbf{x} + g(\mathbf{x})$ with $g$ = batch norm, ReLU, 3 × 3 conv, batch
# norm, ReLU, 3 × 3 conv. Stacked, block $l$ passes on
# $\mathbf{x}_{l+1} = \mathbf{x}_l + g_l(\mathbf{x}_l)$, so any later block $L$ sees
#
# $$\mathbf{x}_L = \mathbf{x}_l + \sum_{i=l}^{L-1} g_i(\mathbf{x}_i), \qquad
#   \frac{\partial \ell}{\partial \mathbf{x}_l} = \frac{\partial \ell}{\partial \mathbf{x}_L}
#   \Bigl(I + \frac{\partial}{\partial \mathbf{x}_l} \sum_{i=l}^{L-1} g_i(\mathbf{x}_i)\Bigr):$$
#
# the input of every block reaches every later block, and the loss's gradient reaches
# every earlier block, through additions alone (the paper's equations 4 and 5). With
# such blocks the paper trained a 1001-layer ResNet on CIFAR-10. A network built from
# them needs one extra batch norm and ReLU after its last block, before the pooling. In
# code, with its last convolution zeroed, the block is the identity for *any* input,
# where the block above gave $\mathrm{ReLU}(\mathbf{x})$, and it passes the gradient
# back unchanged:

# %%
class PreActResidual(nn.Module):
    """X + g(X) with g = BN, ReLU, 3x3 conv, BN, ReLU, 3x3 conv; nothing after the addition."""

    def __init__(self, channels):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)

    def forward(self, X):
        Y = self.conv1(F.relu(self.bn1(X)))
        Y = self.conv2(F.relu(self.bn2(Y)))
        return X + Y  # no ReLU after the addition


pre = PreActResidual(3)
with torch.no_grad():
    pre.conv2.weight.zero_()
    pre.conv2.bias.zero_()
X_any = torch.randn(4, 3, 6, 6, requires_grad=True)  # negative entries too
Y_pre = pre(X_any)
print("pre-activation block with g = 0 returns its input:", torch.equal(Y_pre, X_any))
Y_pre.sum().backward()
print("and passes the gradient back unchanged:", torch.equal(X_any.grad, torch.ones_like(X_any)))

# %% [markdown]
# ## ResNeXt: grouped convolutions in the block
#
# ResNeXt ([Xie et al., 2017](https://arxiv.org/abs/1611.05431)) keeps the residual
# structure and changes the block's inside:
# a 1 × 1 convolution to $b$ "bottleneck" channels, a 3 × 3 convolution split into $g$
# *groups*, and a 1 × 1 convolution back out, each with batch norm. A grouped
# convolution divides its input and output channels into $g$ slices and convolves each
# slice on its own, as if $g$ thin convolutions ran side by side. We check exactly that
# against `nn.Conv2d(groups=g)`:

# %%
b, g = 16, 4  # 16 channels in 4 groups of 4
conv = nn.Conv2d(b, b, kernel_size=3, padding=1, groups=g)
X = torch.randn(2, b, 8, 8)
size = b // g  # channels per group
slices = [
    F.conv2d(X[:, i * size:(i + 1) * size], conv.weight[i * size:(i + 1) * size],
             conv.bias[i * size:(i + 1) * size], padding=1)
    for i in range(g)
]
assert torch.allclose(torch.cat(slices, dim=1), conv(X), atol=1e-6)
print("grouped convolution = one convolution per slice of", size, "channels, concatenated")
print("weight shape:", tuple(conv.weight.shape), "= (out channels, in channels per group, 3, 3)")

# %% [markdown]
# Each output channel now sees only $b/g$ input channels instead of $b$, so the 3 × 3
# convolution's weights and arithmetic shrink by the factor $g$: from $9b^2$ to
# $9b^2/g$ weights. The 1 × 1 convolutions around it mix information between the groups
# again.
#
# **A naming trap.** In `cnnlib.models.resnet.ResNeXtBlock`, `groups` is the *number of
# groups*, the meaning it has in `nn.Conv2d`. D2L's own `ResNeXtBlock(num_channels,
# groups, bot_mul)` passes the *channels per group* under that name and builds
# `nn.Conv2d(..., groups=bot_channels // groups)`. The book's example
# `ResNeXtBlock(32, 16, 1)` (32 channels, groups of 16, so 2 groups) is therefore
# `ResNeXtBlock(32, 32, groups=2, bot_mul=1)` here, with the input channels first:

# %%
blk = lib.ResNeXtBlock(32, 32, groups=2, bot_mul=1)
X = torch.randn(4, 32, 96, 96)
print(blk.conv2)
blk(X).shape

# %% [markdown]
# The block's parameter count as a formula, for $c_\text{in}$ input channels, $c$ output
# channels, $b$ bottleneck channels and $g$ groups (weights plus biases of the three
# convolutions, plus a $\gamma$ and $\beta$ per channel of each batch norm; no
# shortcut convolution when the shape is unchanged):
#
# $$(c_\text{in} b + b) + 2b + (9 b^2 / g + b) + 2b + (b c + c) + 2c.$$
#
# We compare it with the parameters the block really holds, for every group count
# that divides $b = 32$:

# %%
def resnext_params(c_in, c, b, g):
    """The formula above: 1x1 conv, BN, grouped 3x3 conv, BN, 1x1 conv, BN."""
    return (c_in * b + b) + 2 * b + (9 * b * b // g + b) + 2 * b + (b * c + c) + 2 * c


print(f"{'groups':>6} {'channels/group':>14} {'3x3 weights':>11} {'block params':>12} "
      f"{'formula':>8} {'FLOPs at 96x96':>15}")
for g in (1, 2, 4, 8, 16, 32):
    blk = lib.ResNeXtBlock(32, 32, groups=g, bot_mul=1)
    params = count_parameters(blk)
    assert params == resnext_params(32, 32, 32, g), (g, params)
    print(f"{g:>6} {32 // g:>14} {blk.conv2.weight.numel():>11,} {params:>12,} "
          f"{resnext_params(32, 32, 32, g):>8,} {count_flops(blk, (1, 32, 96, 96)):>15,}")

# %% [markdown]
# With one group the block is an ordinary bottleneck block; with 32 groups of one channel
# the middle convolution is *depthwise* (each channel filtered on its own), the extreme
# that MobileNet builds on. ResNeXt's point is that, for the same budget of parameters
# and FLOPs, many groups with a wider bottleneck beat one group with a narrow one.

# %% [markdown]
# ## Training ResNet-18 under the quick budget
#
# The book trains ResNet-18 for 10 epochs on 96 × 96 images with SGD at learning rate
# 0.01; its page shows the run as a training plot. That is far more arithmetic than a
# 2-core CPU does in the few minutes a section should take (the second cell below
# compares the two budgets). The quick budget keeps every stage and block and reduces the
# width and the resolution instead:

# %%
budget = get_budget("resnet18")
print(budget.describe())

# %% [markdown]
# The network is still ResNet-18, four stages of two residual blocks, just thinner; at
# 64 pixels the last stage works on 2 × 2 maps instead of 3 × 3:

# %%
model = get_model("resnet18", **budget.model_kwargs())
model.layer_summary((1, 1, budget.side, budget.side))
quick_flops = count_flops(model, (1, 1, budget.side, budget.side))
print(f"{count_parameters(model):,} parameters, {quick_flops:,} FLOPs per image")
full_budget = get_budget("resnet18", "full")
ratio = (full_budget.epochs * count_flops(net, (1, 1, 96, 96))) / (budget.epochs * quick_flops)
print(f"forward-pass FLOPs of a whole training run, full budget / quick budget: {ratio:.0f}×")

# %% [markdown]
# `bf16` runs the convolutions in bfloat16 on CPUs that support it; `channels_last`
# stores images as height × width × channels, the layout the CPU's bfloat16
# convolutions are fastest in, so the budget switches it on with `bf16`. `budget.train`
# checks the run against the budget's floor, the validation accuracy it must reach; its
# last line prints both. The [results page](../book/results.md) lists what our recorded
# runs reached.

# %% tags=["nbval-ignore-output"]
run = budget.train(model)  # fails if the run ends below the budget's accuracy floor
history, data = run.history, run.data

# %% [markdown]
# A quarter of the channels, two thirds of the resolution and three epochs: the last
# line above shows where that gets. By the last epoch the training accuracy is ahead of
# the validation accuracy (the plot below shows both), a first hint that this network
# has capacity to spare for memorising its training images.

# %%
plot_history(history)

# %% tags=["nbval-ignore-output"]
final = history.final()
print(f"val acc {final['val_acc']:.4f} after {len(history)} epochs, "
      f"{sum(history.seconds):.0f} s, {final['images_per_s']:,.0f} images/s")

# %% [markdown]
# ## Beyond the book: where did the network look?
#
# Accuracy says how often the network is right, not *why*. Grad-CAM
# ([Selvaraju et al., 2017](https://arxiv.org/abs/1610.02391)) gives a rough answer for
# one image and one class. Take the feature maps of a
# late convolutional stage, which still know *where* things are; ask, through the
# gradient, how much the class score would rise if each channel's map grew; weight the
# maps by that, add them up and keep the positive part. The result is a heat map at the
# stage's resolution, stretched over the image: bright where the features that argued
# *for* the class were active.
#
# `cnnlib.explain.grad_cam` does this in evaluation mode, so batch norm uses its moving
# averages and each image's map depends on that image alone (section 8.5 showed why this
# matters). By default it explains the predicted class at the last stage that still has
# a spatial grid:

# %%
print("default target layer:", default_target_layer(model, (1, 1, 64, 64)))

# %% [markdown]
# We pick a few validation images: the first correctly classified example of four
# classes, the first misclassified shirt (the class this network gets wrong most often,
# as the cell prints) and the first mistake on any other class.

# %%
probs, y_val = predict(model, data.val_batches())
y_hat = probs.argmax(dim=1)
classes = [LABELS.index(name) for name in ("trouser", "dress", "sneaker", "bag")]
right = [int(torch.nonzero((y_val == c) & (y_hat == c))[0]) for c in classes]
mistakes = torch.nonzero(y_hat != y_val).flatten()
is_shirt = y_val[mistakes] == LABELS.index("shirt")
wrong = [int(mistakes[is_shirt][0]), int(mistakes[~is_shirt][0])]
picks = right + wrong
per_class = torch.stack([(y_hat[y_val == c] == c).float().mean() for c in range(len(LABELS))])
print("class with the lowest validation accuracy:", LABELS[int(per_class.argmin())])
X = data.val_images[picks].unsqueeze(1).float() / 255  # uint8 (k, H, W) -> (k, 1, H, W)
cam = grad_cam(model, X)
print("explained layer:", cam.target_layer, "with output", cam.activations_shape[1:],
      "-> maps of", tuple(cam.cam.shape[1:]))

# %% tags=["remove-cell"] jupyter={"source_hidden": true}
assert len(wrong) == 2 and all(y_hat[i] != y_val[i] for i in wrong)
assert cam.cam.shape == (len(picks), 64, 64) and 0 <= cam.cam.min() and cam.cam.max() <= 1
assert torch.equal(cam.class_idx, y_hat[picks])  # it explains the predicted classes

# %%
show_grad_cam(data.val_images[picks], cam.cam, labels=y_val[picks],
              probabilities=cam.probabilities)

# %% [markdown]
# At 64 pixels the last stage is a 2 × 2 grid, so its map can only rank the four
# quarters of the image; stretched over the picture it becomes a broad glow that, for
# confident predictions, says little more than "the evidence was on the garment". One
# stage earlier the grid is 4 × 4. The same images, explained at `net.b4`:

# %%
cam_b4 = grad_cam(model, X, target_layer="net.b4")
show_grad_cam(data.val_images[picks], cam_b4.cam, labels=y_val[picks],
              probabilities=cam_b4.probabilities)

# %% [markdown]
# Finer, but harder to trust: for some images the map may now be *all zero* (the
# figure says so). Grad-CAM weights each channel by its *average* gradient, a linear
# approximation of everything the network still does after the chosen stage; one stage
# before the end, the weighted sum can be negative everywhere, and the ReLU leaves
# nothing. The deeper the chosen stage, the more class-specific but coarser the map;
# the earlier, the finer but the less faithful.
#
# A sanity check worth doing with any explanation method: the same maps for the same
# architecture *before training*, with random weights:

# %%
torch.manual_seed(0)
untrained = get_model("resnet18", **budget.model_kwargs())
cam_untrained = grad_cam(untrained, X, target_layer="net.b4")
show_grad_cam(data.val_images[picks], cam_untrained.cam, labels=y_val[picks],
              probabilities=cam_untrained.probabilities)

# %% [markdown]
# The untrained network predicts nearly uniform probabilities, yet its maps can look
# just as plausible, glowing over the garment: bright pixels produce large activations
# whether or not the weights mean anything. A heat map "on the object" is therefore no
# evidence that the network learned anything; only differences from such a baseline
# are ([Adebayo et al., 2018](https://arxiv.org/abs/1810.03292), turned this into a test
# that several saliency methods fail).

# %% [markdown]
# ### Explore: any class, any stage
#
# The maps above explain each image's *predicted* class. The explorer below asks about any
# of the network's three best guesses, or the true class, and at any of the last three
# stages. It uses the ResNet-18 shipped with `cnnlib` (trained under the same quick budget
# as ours, so its maps resemble, but need not equal, the ones above) on ten test images,
# the first of each class, followed by the first few test images it gets wrong. Beside
# the smooth overlay it draws the map at the stage's own resolution: the 2 × 2, 4 × 4 or
# 8 × 8 numbers that the overlay only stretches.
#
# On the website your browser runs this ResNet-18 itself. At `net.b5` it needs no
# gradient for Grad-CAM's channel weights: the network ends in global average pooling and
# one dense layer, so the gradient of a class score with respect to any position of a
# last-stage map is that class's dense-layer weight for the channel divided by the number
# of positions (2 × 2 = 4), and the page computes the weights from the dense layer. At
# `net.b4` and `net.b3` the gradient runs back through residual blocks, which a network
# run only forward cannot differentiate: there the page takes the channel weights that
# PyTorch computed when the page was built, and computes the feature maps, the map and the
# probabilities itself.
#
# Things to try: for a confident prediction, compare the top-1 map with the top-2 and
# top-3 maps: where, if anywhere, does the image argue for an unlikely class? For a
# mistake, compare the map of the predicted class with that of the true one.

# %% tags=["nbval-ignore-output"]
cams = GradCamExplorer(model=pretrained("resnet18"))
cams

# %% [markdown]
# The explorer's numbers are `grad_cam`'s and the model's: its first picture is the top-1
# class of the first image at `net.b5`, and each stage halves the resolution of the one
# before it.

# %%
top3 = torch.topk(cams.probabilities[0], 3).indices
assert cams.class_idx == int(top3[0])
direct = grad_cam(cams.model, cams.X[:1], "net.b5", class_idx=int(top3[0]))
assert torch.equal(cams.result.cam, direct.cam)
for layer in ("net.b3", "net.b4", "net.b5"):
    result = grad_cam(cams.model, cams.X[:1], layer, class_idx=int(top3[0]))
    print(f"{layer}: a {tuple(result.raw_cam.shape[1:])} map from "
          f"{result.activations_shape[1]} channels")

# %% [markdown]
# What the maps can and cannot tell us:
#
# * They show **where** the evidence for one class was, at the resolution of the chosen
#   stage and no finer; the smooth look comes from upsampling a 2 × 2 or 4 × 4 grid.
# * They show only evidence **for** the explained class (the ReLU drops the rest) and
#   only what the gradient sees: a first-order, local view of a very non-linear network.
# * On Fashion-MNIST every garment is centred on a black background, so "it looked at
#   the garment" is nearly always true and says little. The mistakes are more telling:
#   compare which part of a shirt the network used when it called it a T-shirt or a
#   coat. And a map on a wrong prediction explains the wrong class, not what the
#   network missed; pass `class_idx` to ask about the true class instead.
# * A heat map is a summary, not a proof: it does not show that the network *needed*
#   that region. Blanking the region and watching the score (an occlusion test) is a
#   stronger check.

# %% [markdown]
# ## Summary
#
# * A bigger architecture is only guaranteed to do no worse when its function class
#   contains the smaller one's; residual blocks make the identity the easy default:
#   $g(\mathbf{x}) + \mathbf{x}$ with $g = 0$ is $\mathbf{x}$, and D2L's
#   $\mathrm{ReLU}(g(\mathbf{x}) + \mathbf{x})$ is $\mathbf{x}$ for the non-negative
#   inputs a block receives inside a ResNet.
# * A residual block is two 3 × 3 convolutions with batch norm plus a shortcut; a strided
#   1 × 1 convolution on the shortcut handles blocks that change the shape. Our block
#   reproduces the notes' shapes and matches `cnnlib`'s block, which takes its input
#   channels explicitly.
# * ResNet-18 is a GoogLeNet-like stem, four stages of two residual blocks and global
#   average pooling; a thinner copy trains in 3 epochs at 64 pixels.
# * Deeper ResNets use the bottleneck block (1 × 1 reduce, 3 × 3, 1 × 1 expand): 256
#   channels wide for about the cost of a 64-channel basic block. The pre-activation
#   block puts batch norm and ReLU before the convolutions and nothing after the
#   addition, so with $g = 0$ it is the identity for any input.
# * ResNeXt splits the middle convolution into $g$ groups, dividing its weights and
#   FLOPs by $g$; `cnnlib`'s `groups` counts groups, D2L's counts channels per group.
# * Grad-CAM shows coarsely where the evidence for a class was; read it with its limits
#   in mind.
#
# ## Exercises
#
# 1. Remove the shortcut from every block (return `F.relu(Y)`) and train the quick
#    ResNet-18 again. How much accuracy does the shortcut buy at this depth? Then try a
#    deeper network, e.g. `lib.ResNet(((4, 16), (4, 32), (4, 64), (4, 128)),
#    stem_channels=16)`, with and without shortcuts.
# 2. Build ResNet-34 (`arch = ((3, 64), (4, 128), (6, 256), (3, 512))`) and compare its
#    parameters and FLOPs with ResNet-18's at 96 × 96.
# 3. Replace ResNet-18's residual blocks by `ResNeXtBlock`s with the same output channels,
#    `bot_mul=0.5` and 4 or 8 groups. What happens to the parameter count?
# 4. Compute Grad-CAM for a misclassified image with `class_idx` set to its *true*
#    class. Does the network find evidence for the right answer, and where?
# 5. With `saliency` from `cnnlib.explain`, compute the vanilla-gradient map of the same
#    images. How does it differ from Grad-CAM's, and why is it so much noisier?
#
# **Graded assignment.** In this section's assignment you write the residual block with
# its 1 × 1 projection and a ResNeXt block with a real number of groups, count any
# ResNet's parameters from the formulas, predict what a residual block can and cannot do,
# and explain why the bottleneck block is cheaper; exercises 2 and 3 are among its
# questions. Public checks tell you what is wrong while you work, and hidden tests, on
# inputs you have not seen, grade your answers.
# <a href="../assignments/8_6_resnet.ipynb" download>Download the student notebook</a>;
# instructors build and grade it as the [Instructors' guide](../book/instructors.md)
# explains.
