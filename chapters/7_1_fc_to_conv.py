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
# detector everywhere*) shrink that count from billions to a handful. Then we check
# both assumptions on real Fashion-MNIST clothing images: one small edge kernel
# finds the same edges after the image is shifted, just shifted too, and each of its
# outputs looks at only nine pixels.

# %% tags=["remove-cell"]
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
    subprocess.run([*pip, "-c", keep.name, "tqdm", "ipywidgets"], check=True)

# %%
# %matplotlib inline
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
# D2L reaches that ten in steps. Suppose the hidden layer is itself an image, one
# hidden value per pixel. A fully general layer lets every hidden value depend on
# every pixel with its own weight. Then two assumptions cut the count down:
#
# * **translation invariance**: the weights may depend only on the *offset* (a, b)
#   between a hidden position and a pixel, not on where in the image we are;
# * **locality**: only small offsets matter, |a|, |b| ≤ Δ.

# %%
side = 1000  # a 1000 x 1000 image and a hidden "image" of the same size
steps = {
    "every hidden value sees every pixel": side**2 * side**2,
    "translation invariance (offsets only)": (2 * side - 1) ** 2,
    "... and locality, delta = 5": (2 * 5 + 1) ** 2,
    "... and locality, delta = 1": (2 * 1 + 1) ** 2,
}
for name, count in steps.items():
    print(f"{name:<40}{count:>20,}")

# %% [markdown]
# ### Try other sizes
#
# The counter below builds both layers for the settings you choose and counts their
# parameters, the same way as above. The dense layer maps a `channels × side × side` image
# to a hidden image with as many positions; the convolution does the same with one small
# kernel per pair of channels. Move the image side: only one of the two bars moves.

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

# %% [markdown]
# Twelve orders of magnitude disappear. The price is that the layer can no longer
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
# Then choose the *tied* dense layer. Its 676 × 784 matrix holds the convolution's nine
# weights repeated along its diagonals and zeros everywhere else, and now the dense layer
# shifts too. A convolution *is* a dense layer, one whose weights are tied this way.

# %% tags=["nbval-ignore-output"]
shifter = ShiftExplorer()
shifter

# %% [markdown]
# The tied matrix reproduces the convolution exactly, on the explorer's image:

# %%
W_tied = conv_as_dense(KERNEL_PRESETS["vertical edge 3x3"], (28, 28))  # (676, 784)
image = shifter.images[shifter.example.value]  # (28, 28)
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
# Here four hand-made 3 × 3 kernels stand in for four learned channels; together
# they cost 4 × 9 = 36 weights and already pull apart vertical edges, horizontal edges,
# a blurred silhouette and sharpened detail. All four maps share one colour scale, so a
# pale map really is weak: a trouser has hardly any horizontal edges, and that channel
# says so.

# %%
names = ["vertical edge 3x3", "horizontal edge 3x3", "box blur 3x3", "sharpen 3x3"]
weight = torch.stack([KERNEL_PRESETS[name] for name in names])[:, None]  # (4, 1, 3, 3)
maps = F.conv2d(X[None, None], weight)[0]  # (1, 1, 28, 28) -> (4, 26, 26)
print("weights:", weight.numel(), "| feature maps:", tuple(maps.shape))
show_feature_maps(maps, titles=names, scale=2)

# %% [markdown]
# ## Takeaways
#
# 1. The aim is a layer with far fewer parameters than a dense one, without giving
#    up what matters for images. Sharing one small kernel across all positions
#    (translation invariance) and letting it look only at a neighbourhood (locality)
#    take a megapixel layer from 10¹² weights to about ten, and the count no longer
#    grows with the image.
# 2. Those two assumptions make each kernel simple; using many kernels at once,
#    one per channel, restores the variety of patterns a layer can respond to.
#
# ## Exercises
#
# 1. Redo the first count for a one-megapixel **colour** image (3 input values per
#    pixel) and a 1000-unit hidden layer. Then count a convolution with a 5 × 5
#    kernel, 3 input channels and 64 output channels (`nn.Conv2d(3, 64, 5)`). Which
#    of the two counts depends on the image size?
# 2. Replace the zero-padded shift by `torch.roll(X, shifts=(3, 4), dims=(0, 1))`,
#    which wraps pixels around the border. Where do `Y_shifted[3:, 4:]` and
#    `Y[:-3, :-4]` still agree, and why can they differ near the edges?
# 3. Equivariance is not invariance. Compute `Y.abs().max()` and
#    `Y_shifted.abs().max()`: which quantity stays *unchanged* under the shift? How
#    could a network turn an equivariant map into an invariant answer such as a label?
# 4. Repeat the window experiment with two 3 × 3 correlations applied one after the
#    other. How many input pixels does one output of the second layer depend on?
# 5. Think of an image task where translation invariance is the wrong assumption
#    (hint: in aligned passport photos, the eyes are always in the same place).
#
# **Graded assignment.** In this section's assignment you count both layers' parameters
# for any kernel, shift an image with zero fill, and find the input window of a stack of
# correlations; exercises 1, 2 and 4 are among its questions. Public checks tell you what
# is wrong while you work, and hidden tests on fresh random inputs grade your answers.
# <a href="../assignments/7_1_fc_to_conv.ipynb" download>Download the student notebook</a>;
# instructors build and grade it as the [Instructors' guide](../book/instructors.md)
# explains.
