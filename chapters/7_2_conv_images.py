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
# # 7.2 Convolutions for Images
#
# Companion to D2L section 7.2,
# [Convolutions for Images](https://d2l.ai/chapter_convolutional-neural-networks/conv-layer.html).
#
# Here the convolution stops being an idea and becomes a few lines of code. We write the
# two-dimensional cross-correlation as a double loop, check it against PyTorch, wrap it
# in a layer, and use it to find the edges of a tiny black-and-white image. Then we turn
# the question around and let gradient descent *discover* the edge kernel from examples.
# At the end, a kernel explorer lets you try hand-made kernels (or your own numbers) on
# the same tiny image, on real Fashion-MNIST clothes and on a picture of your own.

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
from torch import nn

from cnnlib import layers, ops, setup
from cnnlib.data import load_split, text_labels
from cnnlib.viz.kernels import preset_gallery, show_corr2d, show_kernels
from cnnlib.widgets.kernel_explorer import KernelExplorer

seed = setup(0)

# %% [markdown]
# ## The cross-correlation operation
#
# A kernel is a small grid of weights. We lay it over the top-left corner of the
# input, multiply the overlapping numbers pairwise and add the products up: that sum
# is the first output. Then we slide the kernel one step right and repeat, row by
# row, as long as the kernel fits completely inside the input. An input of height
# $n_h$ and width $n_w$ and a kernel of $k_h \times k_w$ therefore give an output of
# $(n_h - k_h + 1) \times (n_w - k_w + 1)$.
#
# Deep learning calls this operation a *convolution*, although mathematically it is a
# cross-correlation (more on that below). Written out as in the notes:

# %%
def corr2d(X, K):
    """Compute 2D cross-correlation."""
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


# %%
X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
corr2d(X, K)

# %% [markdown]
# The first output comes from the top-left 2 × 2 window: 0·0 + 1·1 + 3·2 + 4·3 = 19.
# The picture shows all three tensors with their numbers; check another output by hand.

# %%
show_corr2d(X, K)

# %% [markdown]
# Before building on our loop we check it three ways: against the library's loop,
# against the library's vectorised version (which uses `unfold` instead of Python
# loops), and against PyTorch's own `F.conv2d`, which expects a batch axis and a
# channel axis, hence the `[None, None]`.

# %%
reference = F.conv2d(X[None, None], K[None, None])[0, 0]  # (1, 1, 3, 3) -> (2, 2)
assert torch.equal(corr2d(X, K), ops.corr2d(X, K))
assert torch.equal(corr2d(X, K), ops.corr2d_vectorized(X, K))
assert torch.equal(corr2d(X, K), reference)

X_big, K_big = torch.randn(20, 30), torch.randn(4, 5)
torch.testing.assert_close(corr2d(X_big, K_big),
                           F.conv2d(X_big[None, None], K_big[None, None])[0, 0])
print("our corr2d agrees with cnnlib.ops and F.conv2d")

# %% [markdown]
# ## Convolutional layers
#
# A convolutional layer cross-correlates its input with a kernel and adds a scalar
# bias. Both are parameters, learned like the weights of a dense layer. As in the
# notes, the kernel starts as uniform random numbers and the bias at zero.

# %%
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return corr2d(x, self.weight) + self.bias


# %% [markdown]
# `cnnlib.layers.Conv2D` is the same layer. Both store their parameters under the names
# `weight` and `bias`, so we can copy one layer's state into the other and check that
# they compute the same thing.

# %%
ours = Conv2D(kernel_size=(2, 2))
library = layers.Conv2D(kernel_size=(2, 2))
library.load_state_dict(ours.state_dict())
X_test = torch.randn(5, 6)
torch.testing.assert_close(ours(X_test), library(X_test))
print(library)
print("same output shape:", tuple(ours(X_test).shape))

# %% [markdown]
# ## Object edge detection in images
#
# A 6 × 8 image: white (1) on the left and right, a black (0) band in the middle.

# %%
X = torch.ones((6, 8))
X[:, 2:6] = 0
X

# %% [markdown]
# The kernel `[[1, -1]]` subtracts each pixel's right neighbour from it. Where the two
# are equal (inside a uniform region) the output is 0; at a white-to-black step it is
# 1 and at a black-to-white step it is −1.

# %%
K = torch.tensor([[1.0, -1.0]])
Y = corr2d(X, K)
Y

# %%
show_corr2d(X, K, Y)

# %% [markdown]
# This kernel only compares horizontal neighbours, so it is blind to edges that run
# left to right. Transposing the image turns our vertical stripes into horizontal
# ones, and the kernel finds nothing at all:

# %%
corr2d(X.t(), K)

# %% [markdown]
# ## Learning a kernel
#
# For `[[1, -1]]` we knew what to write. For a deep network nobody does, so the kernels
# are learned. We can rehearse that on our toy problem: given the input `X` and the
# edge map `Y` we want, start from a random kernel and let gradient descent on the
# squared error find it.
#
# The notes used `nn.LazyConv2d`, which works out its number of input channels on the
# first call. That convenience printed a `UserWarning` in the notes' output, and it hides
# the layer's shape until data has flowed through it. Here we say everything up front:
# one input channel, one output channel, a 1 × 2 kernel and no bias.

# %%
conv2d = nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False)

# The layer wants (batch size, channels, height, width)
X = X.reshape((1, 1, 6, 8))
Y = Y.reshape((1, 1, 6, 7))
lr = 3e-2  # learning rate

# %% tags=["nbval-ignore-output"]
for i in range(10):
    Y_hat = conv2d(X)
    l = (Y_hat - Y) ** 2
    conv2d.zero_grad()
    l.sum().backward()
    # Update the kernel
    conv2d.weight.data[:] -= lr * conv2d.weight.grad
    if (i + 1) % 2 == 0:
        print(f'epoch {i + 1}, loss {l.sum():.3f}')

# %% [markdown]
# The loss falls steadily. The exact numbers depend on the random starting kernel (and
# can differ between PyTorch versions), so the tests that re-run this notebook do not
# compare the cell above; this one checks the result instead: after ten steps the kernel
# should be within 0.15 of `[1, -1]` in each entry.

# %%
learned = conv2d.weight.data.reshape((1, 2))  # (1, 1, 1, 2) -> (1, 2)
print(f"learned kernel: [{learned[0, 0]:.4f}, {learned[0, 1]:.4f}]")
assert torch.allclose(learned, torch.tensor([[1.0, -1.0]]), atol=0.15)

# %%
show_kernels(conv2d.weight)

# %% [markdown]
# ## Cross-correlation versus convolution
#
# The convolution of mathematics flips the kernel left-right and top-bottom before
# sliding it. Flipping our edge kernel turns `[[1, -1]]` into `[[-1, 1]]`, and every
# edge changes sign:

# %%
X, K = X.reshape((6, 8)), torch.tensor([[1.0, -1.0]])
Y = corr2d(X, K)
K_flipped = torch.flip(K, dims=(0, 1))
print("flipped kernel:", K_flipped)
corr2d(X, K_flipped)

# %% [markdown]
# For a layer this makes no difference: whichever of the two operations it uses,
# training simply finds the kernel that produces the wanted output. A layer that
# computed a true convolution would learn the flipped kernel, and its output would be
# exactly the cross-correlation's:

# %%
def conv2d_strict(X, K):
    """The textbook convolution: cross-correlation with the kernel flipped both ways."""
    return corr2d(X, torch.flip(K, dims=(0, 1)))


assert torch.equal(conv2d_strict(X, K_flipped), Y)
print("convolution with the flipped kernel == cross-correlation with K")

# %% [markdown]
# ## Feature maps and receptive fields
#
# The output of a convolutional layer is called a **feature map**: a picture of where
# in the input the layer's feature (here: a vertical edge) occurs. The **receptive
# field** of one output element is the set of input elements that can change it. For a
# single 2 × 2 layer it is a 2 × 2 window; stack a second 2 × 2 layer on top and one of
# its outputs already sees a 3 × 3 region. Autograd confirms it:

# %%
X_input = torch.rand(3, 3, requires_grad=True)
K1, K2 = torch.rand(2, 2) + 0.1, torch.rand(2, 2) + 0.1  # no zero weights
Z = corr2d(corr2d(X_input, K1), K2)  # (3, 3) -> (2, 2) -> (1, 1)
Z.sum().backward()
print("input elements that affect the single output:\n", (X_input.grad != 0).int())
assert bool((X_input.grad != 0).all())

# %% [markdown]
# Deeper layers therefore react to larger and larger parts of the image, even though
# every single kernel is tiny.
#
# ## The kernel explorer
#
# Pick a kernel from the kernel menu, or type your own numbers in the box below it (rows
# on separate lines or separated by `;`, numbers by spaces or commas, fractions such as
# `1/9`, up to 7 × 7); typing switches the menu to "custom", and text that is not a kernel
# is explained in the status line and stays in the box for you to fix. Choose the input
# from the input menu: the 6 × 8 image, its transpose, or a real Fashion-MNIST test image.
# Or upload a picture of your own: it is made a 28 × 28 grayscale image the way
# Fashion-MNIST's are (transparent pixels white, padded to a square, resized, and inverted
# when its background is light) and joins the input menu. Small inputs show every number;
# for the 28 × 28 images the input and output are drawn as pictures: an output with
# negative values in red for positive and blue for negative responses, one that never
# goes negative (a blur) in grey. On the website this explorer computes in your browser,
# for any kernel you type and any picture you upload.

# %% tags=["nbval-ignore-output"]
explorer = KernelExplorer()
explorer

# %% [markdown]
# The explorer keeps the tensors behind its picture, so we can check it against
# PyTorch. It starts on the notes' example, so its output is the edge map `Y` from above.

# %%
print("kernel:", explorer.kernel)
print("input shape:", tuple(explorer.input.shape), "output shape:", tuple(explorer.output.shape))
assert torch.equal(explorer.input, X)
assert torch.equal(explorer.output, F.conv2d(X[None, None], explorer.kernel[None, None])[0, 0])
assert torch.equal(explorer.output, Y)

# %% [markdown]
# ### Every preset at once
#
# The explorer shows one kernel at a time; this figure shows them all at once, each
# preset kernel applied to the same Fashion-MNIST image. Outputs with negative
# values are drawn red for positive and blue for negative responses (white is 0); the
# blur and identity outputs never go negative and are drawn grey like the input.

# %%
images, labels = load_split(train=False)  # (10000, 28, 28) uint8, (10000,) int64
index = 0
preset_gallery(images[index], title=f"input: {text_labels([labels[index]])[0]}")

# %% [markdown]
# The vertical-edge kernels light up the back of the boot and its sloping front, the
# horizontal ones the sole and the upper edge. The 1 × 2 and 2 × 1 kernels give thinner,
# noisier lines than their 3 × 3 versions, which average over three rows or columns.
# Sharpening adds the centre-minus-neighbours difference back to each pixel, so it
# overshoots on both sides of every edge.
#
# ## Exercises
#
# 1. In the explorer, type a kernel that responds to diagonal edges (try `1 0; 0 -1`).
#    What does it do to the 6 × 8 image, and to its transpose?
# 2. Rerun the learning section with the transposed image `X.t()` and a `(2, 1)` kernel.
#    Which kernel does gradient descent find?
# 3. Change the learning rate to `3e-3` and to `3e-1`. How many steps does the smaller
#    one need to get within 0.15 of `[1, -1]`, and what happens with the larger one?
# 4. The kernel `[[1, -2, 1]]` takes a second difference. Which pixels of the 6 × 8
#    image does it light up? What is the smallest kernel that can compute a difference
#    of order *d*?
# 5. `cnnlib.ops.corr2d_vectorized` avoids the Python loops with `Tensor.unfold`. Time it
#    against `corr2d` on a 256 × 256 input and explain the difference.
#
# **Graded assignment.** In this section's assignment you write `corr2d` with padding and
# stride, turn it into a true convolution, learn any kernel from examples, and predict the
# edges a kernel finds in a diagonal image; exercise 2 is among its questions. Public
# checks tell you what is wrong while you work, and hidden tests, on inputs you have not
# seen, grade your answers.
# <a href="../assignments/7_2_conv_images.ipynb" download>Download the student notebook</a>;
# instructors build and grade it as the [Instructors' guide](../book/instructors.md)
# explains.
