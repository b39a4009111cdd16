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
# # 7.1 From Fully Connected Layers to Convolutions
#
# Companion to D2L section 7.1,
# [From Fully Connected Layers to Convolutions](https://d2l.ai/chapter_convolutional-neural-networks/why-conv.html).
#
# Why do image models not simply flatten the picture and feed it to a dense layer?
# In this notebook we put numbers on that question. We count the parameters a dense
# layer would need for a photo and watch two assumptions (*locality* and *the same
# detector everywhere*) shrink that count from a trillion to a handful. Then we check
# both assumptions on real Fashion-MNIST clothing images: one small edge kernel
# finds the same edges after the image is shifted, just shifted too, and each of its
# outputs looks at only nine pixels.

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
# %matplotlib inline
import math

import torch
import torch.nn.functional as F
from torch import nn

from cnnlib import setup
from cnnlib.data import load_split, text_labels
from cnnlib.explain.equivariance import conv_as_dense
from cnnlib.ops import corr2d_vectorized
from cnnlib.viz.images import show_feature_maps, show_images
from cnnlib.viz.kernels import KERNEL_PRESETS
from cnnlib.widgets.dense_vs_conv import ParameterCountExplorer, ShiftExplorer

seed = setup(0)

# %% [markdown]
# ## Counting parameters
#
# Take a one-megapixel greyscale photo: 1000 × 1000 = 1,000,000 input numbers.
# A single dense layer to a modest hidden layer of 1000 units needs one weight per
# (pixel, unit) pair. We do not have to imagine the count: PyTorch can build that
# layer on the `meta` device, which records shapes without allocating any memory,
# and we count its parameters like any other module's.

# %%
def num_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


dense = nn.Linear(1000 * 1000, 1000, device="meta")  # shapes only, no 4 GB allocation
conv = nn.Conv2d(1, 1, kernel_size=3, device="meta")
print(f"dense layer, 1 megapixel -> 1000 units: {num_params(dense):>15,} parameters")
print(f"3x3 convolution, 1 channel in and out:  {num_params(conv):>15,} parameters")
print(f"float32 memory for the dense weights:   {num_params(dense) * 4 / 1e9:>15.1f} GB")

# %% [markdown]
# A billion parameters for one layer, four gigabytes of weights, and every
# one of them must be learned from data. The convolution needs ten numbers: nine
# kernel weights and a bias. Notice that its count does not mention the image size
# at all; the same ten numbers serve a 28 × 28 thumbnail and a 4K photo.
#
# ## From a dense layer to a convolution, step by step
#
# D2L gets from one layer to the other with two assumptions, written as formulas
# (section 7.1.2 of
# [From Fully Connected Layers to Convolutions](https://d2l.ai/chapter_convolutional-neural-networks/why-conv.html#constraining-the-mlp)).
# Here is the argument in our words, with the parameter count after each step.
#
# Let the hidden layer be an image too: $[\mathbf{X}]_{k,l}$ is the pixel in row $k$ and
# column $l$, and $[\mathbf{H}]_{i,j}$ the hidden value at position $(i, j)$. A fully
# connected layer gives every hidden value its own weight for every pixel, plus its own
# bias. The weights then need four indices (two for the hidden value, two for the pixel):
#
# $$
# [\mathbf{H}]_{i,j} = [\mathbf{U}]_{i,j} +
# \sum_k \sum_l [\mathsf{W}]_{i,j,k,l}\,[\mathbf{X}]_{k,l}.
# $$
#
# Nothing changes if we name each pixel by its *offset* from the hidden position,
# $a = k - i$ and $b = l - j$, and file the same weights under
# $[\mathsf{V}]_{i,j,a,b} = [\mathsf{W}]_{i,j,i+a,j+b}$:
#
# $$
# [\mathbf{H}]_{i,j} = [\mathbf{U}]_{i,j} +
# \sum_a \sum_b [\mathsf{V}]_{i,j,a,b}\,[\mathbf{X}]_{i+a,j+b}.
# $$
#
# This is still the same layer, only indexed differently. Now the two assumptions:
#
# * **Translation invariance.** A pattern should get the same response wherever it is,
#   so shifting the input should just shift $\mathbf{H}$. That holds when the weights
#   depend on the offset $(a, b)$ alone and not on the position $(i, j)$, and the bias is
#   one number: $[\mathsf{V}]_{i,j,a,b} = [\mathbf{V}]_{a,b}$ and $[\mathbf{U}]_{i,j} = u$.
#   Then $[\mathbf{H}]_{i,j} = u + \sum_a \sum_b [\mathbf{V}]_{a,b}\,[\mathbf{X}]_{i+a,j+b}$.
# * **Locality.** Only nearby pixels should matter, so $[\mathbf{V}]_{a,b} = 0$ whenever
#   $|a| > \Delta$ or $|b| > \Delta$:
#
# $$
# [\mathbf{H}]_{i,j} = u +
# \sum_{a=-\Delta}^{\Delta} \sum_{b=-\Delta}^{\Delta} [\mathbf{V}]_{a,b}\,[\mathbf{X}]_{i+a,j+b}.
# $$
#
# That is a convolutional layer: a kernel $\mathbf{V}$ of $(2\Delta + 1) \times
# (2\Delta + 1)$ weights and one bias $u$. (Strictly it is a cross-correlation; 7.2
# explains the difference.) For a 1000 × 1000 image, an offset runs from $-999$ to $999$
# in each direction, which gives the second count below:

# %%
side = 1000  # a 1000 x 1000 image and a hidden "image" of the same size
offsets = 2 * side - 1  # a = k - i runs from -(side - 1) to side - 1
steps = {  # step: (weights, biases)
    "fully connected: W[i,j,k,l], U[i,j]": (side**2 * side**2, side**2),
    "translation invariance: V[a,b], u": (offsets**2, 1),
    "... and locality, delta = 5": ((2 * 5 + 1) ** 2, 1),
    "... and locality, delta = 1": ((2 * 1 + 1) ** 2, 1),
}
print(f"{'':<38}{'weights':>20}{'biases':>12}")
for name, (weights, biases) in steps.items():
    print(f"{name:<38}{weights:>20,}{biases:>12,}")

# %% [markdown]
# The first and the last rows are layers PyTorch knows: `nn.Linear` from the 10⁶ pixels
# to the 10⁶ hidden values, and `nn.Conv2d` with a 3 × 3 kernel. Their counts agree:

# %%
fully_connected = nn.Linear(side**2, side**2, device="meta")  # shapes only, no memory
assert num_params(fully_connected) == sum(steps["fully connected: W[i,j,k,l], U[i,j]"])
assert num_params(conv) == sum(steps["... and locality, delta = 1"])
print(f"nn.Linear: {num_params(fully_connected):,} | nn.Conv2d 3x3: {num_params(conv)}")

# %% [markdown]
# And the last formula is what a convolutional layer computes. We write it out as a sum
# over the offsets $(a, b)$ for $\Delta = 1$ on a small image (pixels outside the image
# count as 0) and compare with `F.conv2d`, which needs `padding=1` to keep those
# outside pixels in the sum:

# %%
delta, u = 1, 0.5
X_small = torch.rand(6, 6)
V = torch.randn(2 * delta + 1, 2 * delta + 1)  # V[a + delta, b + delta] is [V]_{a,b}
X_padded = F.pad(X_small, (delta, delta, delta, delta))  # (8, 8): zeros around the image
H = torch.full((6, 6), u)
for a in range(-delta, delta + 1):
    for b in range(-delta, delta + 1):
        # all positions (i, j) at once: X_padded[delta + i + a, delta + j + b]
        H += V[a + delta, b + delta] * X_padded[delta + a:delta + a + 6, delta + b:delta + b + 6]
same = torch.allclose(H, F.conv2d(X_small[None, None], V[None, None], padding=delta)[0, 0] + u)
print("sum over offsets equals F.conv2d plus the bias:", same)
assert same

# %% [markdown]
# ### Try other sizes
#
# The counter below counts both layers' parameters for the settings you choose: in a
# running notebook it builds them with PyTorch, the same way as above; on the website your
# browser computes the same counts from the formulas below. The dense layer maps a
# `channels × side × side` image to a hidden image with as many positions; the convolution
# does the same with one small kernel per pair of channels. Move the image side: only one
# of the two bars moves.

# %% tags=["nbval-ignore-output"]
counter = ParameterCountExplorer(side=224, kernel=3, c_in=3, c_out=64)
counter

# %% [markdown]
# The convolution's count is $c_\text{out} \cdot c_\text{in} \cdot k^2 + c_\text{out}$
# and holds no image size; the dense layer's grows with the *fourth* power of the side.
# The counter's numbers are PyTorch's, and the formula agrees with them:

# %%
n = counter.counts
assert n.conv == n.c_out * n.c_in * n.kernel**2 + n.c_out
assert n.dense == (n.c_in * n.side**2) * (n.c_out * n.side**2) + n.c_out * n.side**2
print(f"{n.c_in}x{n.side}x{n.side} image, {n.kernel}x{n.kernel} kernel, {n.c_out} channels: "
      f"dense {n.dense:,} vs conv {n.conv:,} parameters")
print(f"the dense layer has {n.ratio:.2g} times as many, "
      f"{math.log10(n.ratio):.1f} orders of magnitude")

# %% [markdown]
# For the counter's starting settings, a 224 × 224 colour image and 64 channels, the
# cell prints a ratio of more than eight orders of magnitude, and the gap widens with
# the fourth power of the image side. The price is that the layer can no longer
# express everything a dense layer can; whether that is a loss depends on whether
# the assumptions hold for images. The rest of the notebook tests them on real data.

# %% [markdown]
# ## Real images
#
# We use the Fashion-MNIST test split: 10,000 greyscale 28 × 28 images of clothing
# with their labels (see `cnnlib.data` for where the files come from).

# %%
images, labels = load_split(train=False)  # (10000, 28, 28) uint8, (10000,) int64
print(images.shape, images.dtype, labels.shape)
show_images(images[:8], titles=text_labels(labels[:8]), ncols=8)

# %% [markdown]
# ## The same detector everywhere
#
# We take one image, scale it to [0, 1] and correlate it with a 3 × 3 vertical-edge
# kernel: positive where brightness falls from left to right, negative where it rises.
# Then we shift the image 3 pixels down and 4 pixels right (padding with black, the
# background colour) and apply *the same kernel* to the shifted copy.

# %%
X = images[2].float() / 255  # (28, 28), a trouser: strong vertical edges
K = KERNEL_PRESETS["vertical edge 3x3"]
print(K)

dy, dx = 3, 4
X_shifted = F.pad(X, (dx, 0, dy, 0))[: X.shape[0], : X.shape[1]]  # (28, 28), moved down-right
show_images(torch.stack([X, X_shifted]), titles=["original", f"shifted by ({dy}, {dx})"],
            scale=2.2)

# %%
Y = corr2d_vectorized(X, K)  # (26, 26)
Y_shifted = corr2d_vectorized(X_shifted, K)  # (26, 26)
show_feature_maps(torch.stack([Y, Y_shifted]), titles=["edges of original", "edges of shifted"],
                  scale=2.2)

# %% [markdown]
# The two edge maps look alike, only displaced. Let us check that exactly: the
# strongest response should move by (3, 4), and wherever the shifted image still
# contains the original content, the two maps should agree value for value.

# %%
def strongest(Y: torch.Tensor) -> tuple[int, int]:
    index = int(Y.abs().argmax())
    return divmod(index, Y.shape[1])


print("strongest response, original:", strongest(Y))
print("strongest response, shifted: ", strongest(Y_shifted))
same = torch.allclose(Y_shifted[dy:, dx:], Y[:-dy, :-dx])
print("shifted map equals the original map moved by (3, 4):", same)
assert same
assert strongest(Y_shifted) == (strongest(Y)[0] + dy, strongest(Y)[1] + dx)

# %% [markdown]
# Shifting the input shifts the output by the same amount. This property is called
# translation *equivariance*, and it comes for free from applying one kernel at every
# position: the kernel has no idea where it is, so it reacts to a trouser edge the
# same way wherever the edge appears. A dense layer has a separate weight for every
# position and would have to learn that edge once per place.

# %% [markdown]
# ### Try it: shift, and compare with a dense layer
#
# The explorer repeats the experiment for any shift, any of ten test images (one of each
# class) and a few 3 × 3 kernels, and adds a dense layer with the same output shape: 784
# pixels in, 26 × 26 values out. Each row shows a layer's output for the original and
# the shifted image, and, on the right, the shifted output minus the original output
# *moved by the same shift* (grey where the two do not see the same pixels). For the
# convolution that difference is white everywhere: its map moved with the image. For a
# dense layer with PyTorch's random initial weights it is noise: a shifted input gives an
# unrelated output.
#
# Then choose the *tied* dense layer. Each row of its 676 × 784 matrix holds the
# convolution's nine kernel weights at the columns of that output's 3 × 3 window, and
# zeros everywhere else: every row has the same nine weights, only moved. Now the dense
# layer shifts too. A convolution *is* a dense layer, one whose weights are tied this way.

# %% tags=["nbval-ignore-output"]
shifter = ShiftExplorer()
shifter

# %% [markdown]
# The tied matrix reproduces the convolution on the explorer's image, up to
# floating-point rounding (the check allows a difference of `1e-6`). The vertical-edge
# kernel's middle column is zero, so each row keeps six nonzero weights of two values,
# 1 and −1:

# %%
W_tied = conv_as_dense(KERNEL_PRESETS["vertical edge 3x3"], (28, 28))  # (676, 784)
image = shifter.images[shifter.example]  # (28, 28)
same = torch.allclose((W_tied @ image.flatten()).reshape(26, 26),
                      corr2d_vectorized(image, KERNEL_PRESETS["vertical edge 3x3"]), atol=1e-6)
print(f"tied matrix {tuple(W_tied.shape)}: {int((W_tied != 0).sum()):,} nonzero weights, "
      f"{torch.unique(W_tied[W_tied != 0]).numel()} distinct values; equals the convolution: "
      f"{same}")
assert same

# %% [markdown]
# ## Each output sees only a small window
#
# Locality says a hidden value depends on a few nearby pixels. Autograd can show us
# exactly which pixels an output depends on: differentiate one output with respect
# to the whole input and see where the gradient is nonzero. We compare one output of
# a 3 × 3 correlation with one unit of a dense layer on the same image.

# %%
X_input = X.clone().requires_grad_(True)
K_random = torch.rand(3, 3) + 0.1  # no zero weights, so every pixel in the window counts
corr2d_vectorized(X_input, K_random)[10, 12].backward()
grad_conv = X_input.grad.clone()  # (28, 28)

X_input.grad = None
dense_small = nn.Linear(28 * 28, 100)
dense_small(X_input.reshape(-1))[0].backward()  # flatten (28, 28) -> (784,)
grad_dense = X_input.grad.clone()  # (28, 28)

rows, cols = grad_conv.nonzero(as_tuple=True)
print(f"conv output (10, 12) depends on {len(rows)} of 784 pixels:",
      f"rows {rows.min().item()}-{rows.max().item()}, cols {cols.min().item()}-{cols.max().item()}")
print(f"dense unit 0 depends on {int((grad_dense != 0).sum())} of 784 pixels")
assert len(rows) == 9 and (rows.min().item(), cols.min().item()) == (10, 12)

# %%
masks = torch.stack([grad_conv != 0, grad_dense != 0]).float()  # (2, 28, 28)
show_feature_maps(masks, titles=["conv output (10, 12)", "dense unit 0"],
                  colorbar=False, scale=2.2)

# %% [markdown]
# The convolution's output at (10, 12) reads the 3 × 3 window whose top-left corner
# is pixel (10, 12), and nothing else. The dense unit reads all 784 pixels. Stacking
# such layers lets later outputs see wider regions (the receptive field grows with
# depth, see section 7.2), but each single step stays local.

# %% [markdown]
# ## Channels give back what the assumptions took
#
# One small kernel can only detect one kind of pattern. Convolutional layers recover
# expressiveness by learning *many* kernels side by side, one per output channel.
# D2L finishes its derivation this way (section 7.1.4,
# [Channels](https://d2l.ai/chapter_convolutional-neural-networks/why-conv.html#channels)):
# a colour image has a third index $c$ for its input channel, and the hidden layer a
# third index $d$ for its output channel, so the kernel gets two more:
#
# $$
# [\mathsf{H}]_{i,j,d} =
# \sum_{a=-\Delta}^{\Delta} \sum_{b=-\Delta}^{\Delta} \sum_c
# [\mathsf{V}]_{a,b,c,d}\,[\mathsf{X}]_{i+a,j+b,c}
# $$
#
# (plus one bias per output channel, which D2L leaves out here). That is
# $(2\Delta + 1)^2 \cdot c_\text{in} \cdot c_\text{out}$ weights, the count the
# parameter counter used above; PyTorch stores them as a tensor of shape
# `(c_out, c_in, kh, kw)`.
#
# Here four hand-made 3 × 3 kernels on the one grey input channel stand in for four
# learned output channels; together they cost 4 × 9 = 36 weights and already pull apart
# vertical edges, horizontal edges, a blurred silhouette and sharpened detail. All four
# maps share one colour scale, so a pale map really is weak: a trouser has few
# horizontal edges, and that channel says so.

# %%
names = ["vertical edge 3x3", "horizontal edge 3x3", "box blur 3x3", "sharpen 3x3"]
weight = torch.stack([KERNEL_PRESETS[name] for name in names])[:, None]  # (4, 1, 3, 3)
maps = F.conv2d(X[None, None], weight)[0]  # (1, 1, 28, 28) -> (4, 26, 26)
print("weight shape (c_out, c_in, kh, kw):", tuple(weight.shape),
      "| weights:", weight.numel(), "| feature maps:", tuple(maps.shape))
show_feature_maps(maps, titles=names, scale=2)

# %% [markdown]
# ## Takeaways
#
# 1. The aim is a layer with far fewer parameters than a dense one, without giving
#    up what matters for images. Sharing one small kernel across all positions
#    (translation invariance) and letting it look only at a neighbourhood (locality)
#    take a megapixel layer from $10^{12}$ weights to nine (ten with the bias), and the
#    count no longer grows with the image.
# 2. Those two assumptions make each kernel simple; using many kernels at once,
#    one per channel, restores the variety of patterns a layer can respond to.
#
# ## Exercises
#
# 1. Redo the first count for a one-megapixel **colour** image (3 input values per
#    pixel) and a 1000-unit hidden layer. Then count a convolution with a 5 × 5
#    kernel, 3 input channels and 64 output channels (`nn.Conv2d(3, 64, 5)`). Which
#    of the two counts depends on the image size?
# 2. Replace the zero-filled shift by `torch.roll(X, shifts=(3, 4), dims=(0, 1))`,
#    which wraps the pixels pushed over the border around to the other side. Do
#    `Y_shifted[3:, 4:]` and `Y[:-3, :-4]` still agree? Which rows and columns of
#    `Y_shifted` read wrapped pixels, and which of them mix pixels from opposite borders
#    of the original image?
# 3. Equivariance is not invariance. Compute `Y.abs().max()` and
#    `Y_shifted.abs().max()`: which quantity stays *unchanged* under the shift? How
#    could a network turn an equivariant map into an invariant answer such as a label?
# 4. Repeat the window experiment with two 3 × 3 correlations applied one after the
#    other. How many input pixels does one output of the second layer depend on?
# 5. Think of an image task where translation invariance is the wrong assumption
#    (hint: in aligned passport photos, the eyes are always in the same place).
#
# **Graded assignment.** In this section's assignment you count both layers' parameters
# for any kernel, shift an image with zero fill, find the input window of a stack of
# correlations, predict what a shift does at the border, and explain what a 1 × 1 kernel
# is; exercises 1, 2, 3 and 4 are among its questions. Public checks tell you what is
# wrong while you work, and hidden tests, on inputs you have not seen, grade your answers.
# <a href="../assignments/7_1_fc_to_conv.ipynb" download>Download the student notebook</a>;
# instructors build and grade it as the [Instructors' guide](../book/instructors.md)
# explains.
