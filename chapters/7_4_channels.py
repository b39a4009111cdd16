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
# # 7.4 Multiple Input and Multiple Output Channels
#
# Companion to D2L section 7.4,
# [Multiple Input and Multiple Output Channels](https://d2l.ai/chapter_convolutional-neural-networks/channels.html).
#
# Real images are not single grids of numbers: a colour photo has a red, a green and a
# blue grid, and every layer inside a network produces many feature maps at once. These
# stacked grids are called *channels*. Here we extend the cross-correlation of 7.2 to
# several input channels (one kernel slice per channel, results added up) and to several
# output channels (one such kernel per output), reproduce the notes' numbers, and take a
# multi-channel output apart channel by channel in an explorer. The section ends with the
# 1 × 1 convolution, which turns out to be a fully connected layer applied at every pixel.

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
import torch
import torch.nn.functional as F

from cnnlib import ops, setup
from cnnlib.viz.channels import (
    channel_breakdown,
    channel_breakdown_figure,
    channels_overview_figure,
)
from cnnlib.widgets.channels import ChannelsExplorer

seed = setup(0)

# %% [markdown]
# ## Multiple input channels
#
# With $c_i$ input channels the kernel needs one $k_h \times k_w$ slice per channel, so
# it becomes a $c_i \times k_h \times k_w$ tensor. Each input channel is cross-correlated
# with its own slice, and the $c_i$ results are added into a single output grid. The
# notes write this as a one-liner over 7.2's `corr2d` (we take it from `cnnlib.ops`):

# %%
def corr2d_multi_in(X, K):
    # Iterate through the 0th dimension (channel) of K first, then add them up
    return sum(ops.corr2d(x, k) for x, k in zip(X, K, strict=True))


# %% [markdown]
# The example has two input channels of 3 × 3 and a 2 × 2 kernel slice for each. (The
# notes wrap both tensors in one more pair of brackets than D2L does; we use D2L's shapes,
# `(2, 3, 3)` and `(2, 2, 2)`, so that stacking kernels below gives the shape the notes
# print.)

# %%
X = torch.tensor([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
                  [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]])
K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])

corr2d_multi_in(X, K)

# %% [markdown]
# The top-left output adds two windows: $(0·0 + 1·1 + 3·2 + 4·3) + (1·1 + 2·2 + 4·3 +
# 5·4) = 19 + 37 = 56$. The same numbers from the library and from PyTorch, whose
# `F.conv2d` wants a batch axis on the input and an output-channel axis on the kernel:

# %%
reference = F.conv2d(X[None], K[None])[0, 0]  # (1, 2, 3, 3) and (1, 2, 2, 2) -> (2, 2)
assert torch.equal(corr2d_multi_in(X, K), ops.corr2d_multi_in(X, K))
assert torch.equal(corr2d_multi_in(X, K), reference)
print("corr2d_multi_in agrees with cnnlib.ops and F.conv2d")

# %% [markdown]
# Drawn out: each input channel with its kernel slice and their cross-correlation, then
# the sum.

# %%
channel_breakdown_figure(channel_breakdown(X, K[None], out_channel=0))

# %% [markdown]
# ## Multiple output channels
#
# One multi-input kernel yields one output grid. To get $c_o$ output channels we give each
# its own $c_i \times k_h \times k_w$ kernel, which makes the full kernel a
# $c_o \times c_i \times k_h \times k_w$ tensor, the layout of `nn.Conv2d.weight`. Each
# output channel is computed as above and the results are stacked:

# %%
def corr2d_multi_in_out(X, K):
    # Iterate through the 0th dimension of K, and each time, perform
    # cross-correlation operations with input X. All of the results are
    # stacked together
    return torch.stack([corr2d_multi_in(X, k) for k in K], 0)


# %% [markdown]
# As in the notes, three output channels from the kernel and two shifted copies of it:

# %%
K = torch.stack((K, K + 1, K + 2), 0)
K.shape

# %%
corr2d_multi_in_out(X, K)

# %% [markdown]
# The first output channel is the 56, 72, 104, 120 from before, since its kernel is the
# original `K`. Checked against the library and PyTorch:

# %%
Y = corr2d_multi_in_out(X, K)
assert torch.equal(Y, ops.corr2d_multi_in_out(X, K))
assert torch.equal(Y, F.conv2d(X[None], K)[0])
print("output shape:", tuple(Y.shape), "= (output channels, height, width)")

# %% [markdown]
# Each output channel, one per row, written as the sum of its input channels'
# contributions. Read down a column: the next row's kernel has 1 added to every weight,
# which adds to each output the sum of the input values in its window (four per input
# channel, eight in all). That is why, from one row to the next, the four outputs grow by
# 20, 28, 44 and 52.

# %%
channels_overview_figure(X, K)

# %% [markdown]
# ## Explore the channels
#
# Choose an output channel to see how its input channels add up, and give it a bias: a
# convolutional layer adds one learned number per output channel to every cell of that
# channel. Type that channel's kernel slices and the input channels too, and change the
# numbers of input and output channels and the kernel size (a channel or weight beyond
# the notes' starts at 0). Each output channel keeps its own kernels and bias when you
# switch between them. A kernel size of 1 gives the 1 × 1 convolution at the end of this
# section. On the website this explorer computes in your browser, for any setting of its
# controls.

# %% tags=["nbval-ignore-output"]
explorer = ChannelsExplorer(X, K)
explorer

# %% [markdown]
# Whatever the sliders say, the explorer's output is what `F.conv2d` computes with the same
# weights and biases:

# %%
explorer.out_channel = 1
explorer.bias_value = 2.0  # output channel 1's bias; the others keep theirs
bias = explorer.bias
print("biases:", bias)
print(explorer.output)
assert torch.equal(explorer.output, F.conv2d(X[None], K, bias)[0, 1])
explorer.bias_value = 0.0

# %% [markdown]
# ## 1 × 1 convolutional layer
#
# A 1 × 1 kernel looks at one pixel at a time, so it cannot see patterns in space. What
# it can do is mix channels: every output pixel is a weighted sum of the $c_i$ input
# values at the same position, with the same $c_o \times c_i$ weights everywhere. That is
# a fully connected layer applied to each pixel, so it can be written as one matrix
# product by laying the pixels out as columns:

# %%
def corr2d_multi_in_out_1x1(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    X = X.reshape((c_i, h * w))  # (c_i, h * w): one column per pixel
    K = K.reshape((c_o, c_i))
    # Matrix multiplication in the fully connected layer
    Y = torch.matmul(K, X)
    return Y.reshape((c_o, h, w))


# %% [markdown]
# The notes check it against the general function on random data; we add the library
# version and PyTorch:

# %%
X = torch.normal(0, 1, (3, 3, 3))
K = torch.normal(0, 1, (2, 3, 1, 1))
Y1 = corr2d_multi_in_out_1x1(X, K)
Y2 = corr2d_multi_in_out(X, K)
assert float(torch.abs(Y1 - Y2).sum()) < 1e-6
torch.testing.assert_close(Y1, ops.corr2d_multi_in_out_1x1(X, K))
torch.testing.assert_close(Y1, F.conv2d(X[None], K)[0])
print("1x1 convolution == matrix product: shapes", tuple(X.shape), "->", tuple(Y1.shape))

# %% [markdown]
# In the breakdown, a 1 × 1 kernel slice is a single number, so each input channel's
# contribution is that channel scaled by one weight (the explorer above shows the same with
# its kernel size set to 1):

# %%
channel_breakdown_figure(channel_breakdown(X.round(decimals=1), K.round(decimals=1), 0))

# %% [markdown]
# Networks use 1 × 1 layers to change the number of channels cheaply. GoogLeNet's
# Inception blocks (section 8.4) shrink the channels this way before their 3 × 3 and
# 5 × 5 paths, and the "bottleneck" block of the deeper ResNets shrinks 256 channels to 64
# before its 3 × 3 layer and widens them back to 256 after it
# ([He et al., 2016](https://arxiv.org/abs/1512.03385), Fig. 5). Followed by a
# nonlinearity, 1 × 1 layers also add depth without touching the spatial layout, the idea
# of NiN (section 8.3).
#
# ## Exercises
#
# 1. A layer has $c_i$ input and $c_o$ output channels and a $k_h \times k_w$ kernel.
#    How many weights and biases does it have? Check your formula with
#    `sum(p.numel() for p in nn.Conv2d(3, 8, 5).parameters())`.
# 2. For an $h \times w$ output, how many multiply-adds does that layer compute? How
#    does the count change when you double the number of input channels, and when you
#    halve the height and width of the input?
# 3. In the explorer, give output channel 0 a bias of −56. Which output cell becomes 0,
#    and why can a bias never change the *differences* between cells of one channel?
# 4. Two 1 × 1 layers in a row, without a nonlinearity between them, compute the same
#    thing as one 1 × 1 layer. Show it with matrices, then check it in code.
# 5. Explain, with the channel breakdown, why a 3 × 3 layer with 64 input and 64 output
#    channels has 64 · 64 · 9 weights, and what each of the 64 · 64 slices does.
#
# **Graded assignment.** In this section's assignment you write the multi-channel
# correlation with a bias, a batch through a 1 × 1 convolution as one matrix product, a
# layer's cost, and two 1 × 1 layers merged into one, and explain why two ways of
# computing a 1 × 1 layer can disagree in the last digits; exercises 1, 2 and 4 are among
# its questions. Public checks tell you what is wrong while you work, and hidden tests, on
# inputs you have not seen, grade your answers.
# <a href="../assignments/7_4_channels.ipynb" download>Download the student notebook</a>;
# instructors build and grade it as the [Instructors' guide](../book/instructors.md)
# explains.
