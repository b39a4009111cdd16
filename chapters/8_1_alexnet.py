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
# # 8.1 Deep Convolutional Neural Networks (AlexNet)
#
# Companion to D2L section 8.1,
# [Deep Convolutional Neural Networks (AlexNet)](https://d2l.ai/chapter_convolutional-modern/alexnet.html).
#
# LeNet showed in the 1990s that a convolutional network can read digits, and then for
# almost twenty years hand-designed features beat learned ones on real photographs. AlexNet
# ended that in 2012. Its layout is LeNet's (convolutions and pooling, then dense layers),
# but everything is bigger, and a few new parts made the bigger network trainable. In this
# notebook we list what changed, see why ReLU matters with a small gradient experiment,
# build the book's AlexNet and follow a 224 × 224 image through it, and put numbers on
# "bigger": LeNet's and AlexNet's parameters and arithmetic side by side, layer by layer.
# Then we train a reduced AlexNet on Fashion-MNIST on a CPU (the page prints exactly what
# is reduced, and the training cell how long it took) and look at the kernels its first
# layer learned.

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
import numpy as np
import torch
from torch import nn

from cnnlib import setup
from cnnlib.models.alexnet import AlexNet
from cnnlib.models.cost import count_flops, count_parameters, layer_costs
from cnnlib.models.lenet import lenet
from cnnlib.models.registry import get_model
from cnnlib.runs import get_budget
from cnnlib.viz.architecture import show_architecture
from cnnlib.viz.common import new_figure
from cnnlib.viz.feature_maps import tile
from cnnlib.viz.images import DIVERGING_CMAP, hide_axes
from cnnlib.viz.training import plot_history

seed = setup(0)

# %% [markdown]
# ## From LeNet to AlexNet
#
# Alex Krizhevsky, Ilya Sutskever and Geoffrey Hinton entered AlexNet in the 2012 ImageNet
# challenge (about 1.2 million training photographs in 1,000 classes) and won it with a
# top-5 test error of 15.3%, against 26.2% for the second-best entry ([the AlexNet
# paper](https://papers.nips.cc/paper/2012/hash/c399862d3b9d6b76c8436e924a68c45b-Abstract.html),
# abstract). Two things outside the network made that possible: a data set large enough to
# feed 60 million parameters without memorising it, and graphics cards fast enough to train
# them: two NVIDIA GTX 580 cards with 3 GB of memory each, for five to six days (section 5
# of the paper). Inside the network, compared with LeNet:
#
# * **Deeper and wider.** Five convolutional layers instead of two, with 96 to 384
#   channels instead of 6 and 16, and two hidden dense layers of 4,096 units.
# * **Bigger inputs, bigger first window.** 224 × 224 images; the first convolution uses an
#   11 × 11 window with stride 4 to shrink them quickly.
# * **ReLU instead of sigmoid** as the activation (next section).
# * **Max pooling instead of average pooling**, with overlapping 3 × 3 windows, stride 2.
# * **Dropout** in the two hidden dense layers: during training each of their units is
#   zeroed with probability 0.5, so no unit can rely on a particular partner; the paper
#   reports substantial overfitting without it, in the layers that hold most of the
#   parameters.
# * **Data augmentation** (random crops, flips, colour changes) to stretch the data
#   further. We do not use it here; D2L covers it in its computer vision chapter,
#   [Image Augmentation](https://d2l.ai/chapter_computer-vision/image-augmentation.html).
#
# The book's version, which we follow, is the paper's network on a single device (the
# paper split its channels across two GPUs), without the paper's "local response
# normalisation", with one input channel because Fashion-MNIST is greyscale, and with 10
# outputs instead of 1,000.

# %% [markdown]
# ## Why ReLU
#
# Backpropagation multiplies, layer by layer, the derivatives of the activations along the
# way. The sigmoid's derivative is never larger than 0.25 and is almost zero for large
# inputs of either sign, so a deep stack of sigmoids shrinks the gradient at every layer.
# ReLU's derivative is exactly 1 wherever the unit is active. We let autograd compute both
# derivatives on a grid of inputs.

# %%
x = torch.linspace(-6, 6, 241, requires_grad=True)
sigmoid_grad, = torch.autograd.grad(torch.sigmoid(x).sum(), x)
relu_grad, = torch.autograd.grad(torch.relu(x).sum(), x)
print(f"largest sigmoid derivative: {sigmoid_grad.max():.4f} (at x = 0)")
print(f"sigmoid derivative at x = 5: {sigmoid_grad[(x.detach() - 5).abs().argmin()]:.4f}")
print(f"ReLU derivative for x > 0:  {relu_grad[x.detach() > 0].unique().tolist()}")

# %% [markdown]
# Even in the sigmoid's best case, eight sigmoid layers contribute a factor of at most
# $0.25^8 \approx 0.000015$ to the gradient (the weights contribute factors of their
# own). With ReLU the factor from the activations is 1 along every active path, so the
# early layers of a deep network still receive a usable signal.

# %%
fig = new_figure(6.5, 2.8)
ax_f, ax_g = fig.subplots(1, 2)
xs = x.detach().numpy()
ax_f.plot(xs, torch.sigmoid(x).detach().numpy(), label="sigmoid")
ax_f.plot(xs, torch.relu(x).detach().numpy(), label="ReLU")
ax_f.set_ylim(-0.2, 2.5)
ax_f.set_title("activation")
ax_g.plot(xs, sigmoid_grad.numpy(), label="sigmoid")
ax_g.plot(xs, relu_grad.numpy(), label="ReLU")
ax_g.set_title("its derivative (from autograd)")
for ax in (ax_f, ax_g):
    ax.set_xlabel("x")
    ax.grid(alpha=0.3)
    ax.legend()
fig

# %% [markdown]
# ## The network
#
# Here is the book's AlexNet written out layer by layer. As in the previous sections we
# state each layer's input channels instead of using D2L's lazy layers; the first dense
# layer's input, 6,400, is the last feature map's size, 256 channels of 5 × 5, which we
# will check below.

# %%
net = nn.Sequential(
    nn.Conv2d(1, 96, kernel_size=11, stride=4, padding=1), nn.ReLU(),
    nn.MaxPool2d(kernel_size=3, stride=2),
    nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(),
    nn.MaxPool2d(kernel_size=3, stride=2),
    nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
    nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
    nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
    nn.MaxPool2d(kernel_size=3, stride=2),
    nn.Flatten(),
    nn.Linear(256 * 5 * 5, 4096), nn.ReLU(), nn.Dropout(p=0.5),
    nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(p=0.5),
    nn.Linear(4096, 10))

# %% [markdown]
# `cnnlib.models.alexnet.AlexNet` holds the same layers (plus D2L's Xavier initialisation).
# The check compares layer types and every parameter's shape.

# %%
model = AlexNet()
assert [type(layer) for layer in net] == [type(layer) for layer in model.net]
assert [p.shape for p in net.parameters()] == [p.shape for p in model.net.parameters()]
print(f"AlexNet has {model.num_parameters():,} parameters")

# %% [markdown]
# Following one 224 × 224 image through the layers: the 11 × 11 stride-4 convolution takes
# it to 54 × 54 at once, each of the three max-pools roughly halves the side, and the
# three 3 × 3 convolutions in the middle (padding 1) keep it at 12 × 12 while the channels
# grow. Dropout changes no shape.

# %%
model.layer_summary((1, 1, 224, 224))

# %% [markdown]
# The same stages as a diagram (the ReLUs are folded into the box before them):

# %%
show_architecture(model, (1, 1, 224, 224), title="AlexNet (D2L's version) on a 224×224 image")

# %% [markdown]
# ## What "bigger" costs: LeNet and AlexNet side by side
#
# Two numbers describe a network's size: its **parameters** (what must be learned and
# stored) and its **FLOPs** (floating-point operations for one image's forward pass,
# counting a multiply and an add separately). `cnnlib.models.cost` counts both from a real
# forward pass, over the convolutional and dense layers.

# %%
pairs = {
    "LeNet (28×28)": (lenet(), (1, 1, 28, 28)),
    "AlexNet (224×224)": (model, (1, 1, 224, 224)),
}
costs = {name: (count_parameters(m), count_flops(m, shape)) for name, (m, shape) in pairs.items()}
print(f"{'':<18} {'parameters':>12} {'FLOPs per image':>16}")
for name, (params, flops) in costs.items():
    print(f"{name:<18} {params:>12,} {flops:>16,}")
(lenet_params, lenet_flops), (alex_params, alex_flops) = costs.values()
print(f"{'AlexNet / LeNet':<18} {alex_params / lenet_params:>11,.0f}x "
      f"{alex_flops / lenet_flops:>15,.0f}x")

# %% [markdown]
# About 760 times the parameters and over 2,000 times the arithmetic per image, and
# ImageNet has twenty times as many training images as Fashion-MNIST. That is why AlexNet
# had to wait for GPUs.
#
# Where do the parameters and the FLOPs sit? The two are in very different places:

# %%
alex_costs = layer_costs(model, (1, 1, 224, 224))
layer_names = [f"conv{k}" for k in range(1, 6)] + [f"fc{k}" for k in range(1, 4)]
for name, cost in zip(layer_names, alex_costs, strict=True):
    print(f"{name:<6} {cost.kind:<7} {cost.params:>11,} parameters {2 * cost.macs:>14,} FLOPs")
conv_params = sum(c.params for c in alex_costs if c.kind == "Conv2d")
conv_flops = sum(2 * c.macs for c in alex_costs if c.kind == "Conv2d")
print(f"convolutions: {conv_params / alex_params:.1%} of the parameters, "
      f"{conv_flops / alex_flops:.1%} of the FLOPs")

# %% [markdown]
# A convolution's kernel is reused at every position of its input, so it holds few
# numbers but does a lot of arithmetic with them; a dense layer uses each weight exactly
# once per image. So the five convolutions do almost all the work, and the three dense
# layers hold almost all the parameters (the first alone, 6,400 × 4,096 weights, holds
# more than half). The dense layers are where dropout was needed, and where later
# networks (section 8.3 onwards) cut hardest.

# %%
fig = new_figure(6.5, 3.4)
ax_p, ax_f = fig.subplots(1, 2, sharey=True)
positions = np.arange(len(layer_names))
ax_p.barh(positions, [c.params / 1e6 for c in alex_costs],
          color=["C0"] * 5 + ["C2"] * 3)
ax_f.barh(positions, [2 * c.macs / 1e6 for c in alex_costs],
          color=["C0"] * 5 + ["C2"] * 3)
ax_p.set_yticks(positions, layer_names)
ax_p.invert_yaxis()
ax_p.set_xlabel("parameters (millions)")
ax_f.set_xlabel("FLOPs per 224×224 image (millions)")
for ax in (ax_p, ax_f):
    ax.grid(axis="x", alpha=0.3)
fig.suptitle("AlexNet: convolutions (blue) do the arithmetic,\ndense layers (green) hold "
             "the parameters")
fig

# %% [markdown]
# ## Training under a budget
#
# D2L trains this network for 10 epochs on all 60,000 images resized to 224 × 224, in
# batches of 128, with plain SGD at learning rate 0.01; its page shows the run as a training
# plot. At almost 2 GFLOPs per image for the forward pass alone (counted above), ten passes
# over 60,000 images are work for a GPU. With `CNNLIB_BUDGET=full` the next cells train with
# exactly those settings. The default `quick` budget trains a reduced AlexNet that a CPU can
# manage; it keeps all five convolutions, all three max-pools, both dropout layers and the
# three dense layers, and prints every change:

# %%
budget = get_budget("alexnet")
print(budget.describe())

# %% [markdown]
# Two changes are model arguments rather than training settings; the budget passes them
# to the builder, and we print them too:

# %%
print(budget.model_kwargs())

# %% [markdown]
# * **67 × 67 images.** The stride-4 convolution and three stride-2 pools need at least
#   65 pixels (`cnnlib.models.alexnet.feature_size` rejects anything smaller). Fashion-MNIST
#   images are 28 × 28 to begin with, so upsampling them to 224 adds pixels but no detail.
# * **A quarter of the channels** (`width_divisor=4`): 24, 64, 96, 96, 64.
# * **Dense layers 1,024 wide** (`hidden_size=1024`) instead of 4,096: behind a 1 × 1
#   map of 64 channels, 4,096-wide layers would hold nearly all the parameters and
#   several times the arithmetic of the convolutions (exercise 2 counts them).
# * **Adam with a cosine decay.** With the book's plain SGD at learning rate 0.01 this
#   small network learns slowly at first (in our test it was barely past guessing after
#   its first epoch); Adam adapts each weight's step size and gets going at once, and the
#   decaying rate settles the last epoch.
# * **bfloat16 arithmetic** (autocast) on CPUs that support it, to save time.
#
# Here is the quick model, following a 67 × 67 image: the last feature map is 1 × 1, so
# the dense layers see 64 numbers per image.

# %%
quick_model = get_model("alexnet", **budget.model_kwargs())
initial_kernels = quick_model.net[0].weight.detach().clone()  # (24, 1, 11, 11), for later
side = budget.resize
quick_model.layer_summary((1, 1, side, side), costs=True)

# %% [markdown]
# `budget.train` loads the data, trains with the budget's settings (the `Trainer` shows a
# progress bar and a live loss/accuracy plot) and checks the run against the budget's
# *floor*, the validation accuracy the quick run must reach; its last line prints the
# final accuracy, the floor and how long training took. The run recorded on the
# [results page](../book/results.md) shows what the same quick budget reached when the
# notebooks were last built.

# %% tags=["nbval-ignore-output"]
history = budget.train(quick_model).history

# %% tags=["nbval-ignore-output"]
history

# %% [markdown]
# ## Learning curves
#
# Training accuracy (solid) is measured with dropout switched on and averaged over an epoch
# in which the network was still improving, so it trails the validation accuracy (dashed)
# in the first epoch. In the run shown here the two are close from the second epoch on; in
# the last one the training accuracy keeps rising while the validation accuracy levels off,
# the first sign of overfitting.

# %%
plot_history(history)

# %% [markdown]
# ## What the first layer learned
#
# Figure 3 of [the AlexNet
# paper](https://papers.nips.cc/paper/2012/hash/c399862d3b9d6b76c8436e924a68c45b-Abstract.html)
# shows AlexNet's 96 first-layer kernels: edge detectors at many orientations and colour
# blobs, learned from ImageNet without being asked for. Our quick model has 24 first-layer
# kernels of 11 × 11, trained for a few epochs on small greyscale clothes. The top row of
# the picture shows them after training, the bottom row what training *changed* (trained
# minus initial weights). Each kernel is drawn on its own colour scale (red positive, blue
# negative), since only its pattern matters here.

# %%
trained = quick_model.net[0].weight.detach().float().cpu()[:, 0]  # (24, 11, 11)
change = trained - initial_kernels.float()[:, 0]  # (24, 11, 11)
fig = new_figure(6.5, 3.2)
axes = fig.subplots(2, 1)
for ax, maps, title in ((axes[0], trained, "after training"),
                        (axes[1], change, "change during training")):
    maps = maps / maps.abs().amax(dim=(1, 2), keepdim=True)  # each kernel to [-1, 1]
    ax.imshow(tile(maps.numpy(), ncols=12), cmap=DIVERGING_CMAP, vmin=-1, vmax=1,
              interpolation="nearest")
    hide_axes(ax)
    ax.set_title(f"the quick AlexNet's 24 first-layer kernels (11×11): {title}")
fig

# %% [markdown]
# After training, many kernels still look like the random noise they started from, and only
# some show structure. The changes tell a different story: they are smooth, and many are
# light-dark transitions (edge detectors at some orientation) or blobs. The reason is our
# input: an image upsampled from 28 to 67 pixels contains no detail finer than a few pixels,
# so the pixel-to-pixel noise of a kernel averages out over such smooth patches, hardly
# affects the loss, and is hardly corrected. The paper's kernels had sharp, colourful
# photos, about 90 passes over them, and weight decay, which slowly shrinks exactly such
# unused weights (section 5 of [the AlexNet
# paper](https://papers.nips.cc/paper/2012/hash/c399862d3b9d6b76c8436e924a68c45b-Abstract.html));
# our quick run has none of the three.
#
# ## The same image through LeNet and AlexNet
#
# Kernels are only half the story: what matters is what they make of an image. The explorer
# below feeds one test image to two trained networks, LeNet from section 7.6 at 28 × 28
# pixels and the quick AlexNet at 67 × 67. Both come with `cnnlib` as trained weights, so
# the picture does not depend on the run above. The AlexNet weights were made by
# `scripts/train_checkpoint.py alexnet`, which trains with the same quick budget as the
# cell above. The LeNet weights were made by `scripts/train_lenet_checkpoint.py`, with
# its own settings rather than section 7.6's quick budget: the notes' LeNet (sigmoid,
# average pooling), 10 epochs over all 60,000 images at 28 × 28, batches of 128, Adam at
# learning rate 0.01 with a cosine decay, seed 0. Both are stored in `cnnlib/weights/`
# with a record of how they were made.
#
# The stage menu starts with the first-layer kernels of both, then walks through the
# stages, lined up by name: `conv 1` is a convolution with its activation, `pool 1` the
# pooling after it, and so on. Each column says what the stage computes and the shape of
# its output, and the line under the picture gives the channel counts and each network's
# prediction.
#
# Things to look for: LeNet's 6 first-layer maps keep the full 28 × 28 grid, while
# AlexNet's stride-4 convolution turns the image into 24 maps of 15 × 15 straight away.
# After `pool 2` LeNet is done with convolutions; AlexNet runs three more on a 3 × 3 grid,
# where each map is hardly a picture any more but a short list of numbers per position.
#
# On the website your browser runs the two shipped networks itself, on the same pixels
# Python resized for each: they load when the explorer comes into view, and until then the
# picture is the one Python drew. Only what does not depend on the image comes from
# Python: the stages' names, the first-layer kernels and the colours.

# %% tags=["nbval-ignore-output"]
from cnnlib.models.pretrained import pretrained
from cnnlib.widgets.compare_stages import StageComparisonExplorer

comparison = StageComparisonExplorer(lenet=pretrained("lenet"), alexnet=pretrained("alexnet"))
comparison

# %% [markdown]
# The explorer's maps are nothing but the networks' own layers applied in turn. AlexNet's
# `conv 1` stage, for instance, is its first convolution followed by ReLU, and its side
# follows the output-size formula of section 7.3: (67 + 2 · 1 − 11) // 4 + 1 = 15.

# %%
from cnnlib.ops import conv_output_shape

comparison.stage = "conv 1"
alex = comparison.models["AlexNet"]
X = comparison.X["AlexNet"][comparison.example][None]  # (1, 1, 67, 67)
with torch.no_grad():
    expected = torch.relu(alex.net[0](X))[0]  # (24, 15, 15)
# What the explorer draws for AlexNet: its maps, as values.
shown = torch.tensor(comparison.columns[1]["values"]).reshape(comparison.shapes["AlexNet"])
assert torch.allclose(shown, expected, atol=1e-6)
assert comparison.shapes["AlexNet"][1:] == (conv_output_shape(67, 11, padding=1, stride=4),) * 2
print(comparison.shapes)

# %% [markdown]
# ## Summary
#
# * AlexNet kept LeNet's recipe (convolutions and pooling, then dense layers) and scaled it
#   up: five convolutions, hundreds of channels, 4,096-unit dense layers, 224-pixel inputs.
# * ReLU kept gradients alive through the deeper stack, dropout held back overfitting in
#   the dense layers, and max pooling replaced averaging.
# * It has about 760 times LeNet's parameters and needs over 2,000 times its arithmetic per
#   image; the convolutions do nearly all the arithmetic, the dense layers hold nearly all
#   the parameters.
# * Large labelled data sets and GPUs were as much a part of the result as the network.
#
# ## Exercises
#
# 1. Run the notebook with `CNNLIB_BUDGET=full` on a GPU. How close does plain SGD at
#    learning rate 0.01 come to the quick run after the same number of epochs?
# 2. Build `get_model("alexnet", width_divisor=4, input_size=67)` (dense layers back at
#    4,096) and count its parameters and FLOPs. What fraction of each do the dense layers
#    take now? Train it for one epoch and compare the time per epoch.
# 3. Replace every `nn.ReLU` in `quick_model.net` by `nn.Sigmoid` (keep the rest) and train
#    for one epoch with the quick settings. What happens to the loss in the first hundred
#    steps, and why?
# 4. Set both dropout probabilities to 0 (`layer.p = 0.0` for the `nn.Dropout` layers) and
#    train again. Compare the gap between training and validation accuracy.
# 5. At 224 × 224, how many FLOPs does the first convolution cost compared with the second?
#    Use `layer_costs` and explain the difference from the kernel sizes, channels and
#    output sizes.
#
# **Graded assignment.** In this section's assignment you follow the map sizes through
# AlexNet's layers, count its convolutional and dense parameters, write dropout, predict
# what a change does to AlexNet's size, and explain why dropout divides by 1 − p; exercise
# 2 is among its questions. Public checks tell you what is wrong while you work, and
# hidden tests, on inputs you have not seen, grade your answers.
# <a href="../assignments/8_1_alexnet.ipynb" download>Download the student notebook</a>;
# instructors build and grade it as the [Instructors' guide](../book/instructors.md)
# explains.
