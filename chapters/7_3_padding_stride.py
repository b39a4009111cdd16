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
# # 7.3 Padding and Stride
#
# Companion to D2L section 7.3,
# [Padding and Stride](https://d2l.ai/chapter_convolutional-neural-networks/padding-and-strides.html).
#
# Every convolution in 7.2 made its input smaller: a 3 × 3 kernel trims a pixel from each
# border. This section gives us two knobs over the output size. *Padding* adds a frame of
# zeros around the input, so the border pixels take part in more windows and the size can
# stay put. *Stride* moves the kernel more than one cell at a time, which shrinks the
# output on purpose. We reproduce the four shapes from the notes, derive the formula
# that predicts them, and then watch the kernel move: a gallery and an explorer for the
# geometry, and a step-by-step animation of a padded, strided convolution with every
# product written out.

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
from IPython.display import HTML
from torch import nn

from cnnlib import setup
from cnnlib.ops import conv_output_shape, size_formula
from cnnlib.viz.conv_steps import conv_step_animation, to_page_html
from cnnlib.viz.padding_stride import NOTES_SETTINGS, padding_stride_gallery
from cnnlib.widgets.conv_steps import ConvStepExplorer
from cnnlib.widgets.padding_stride import PaddingStrideExplorer

seed = setup(0)

# %% [markdown]
# ## Padding
#
# With an $n_h \times n_w$ input and a $k_h \times k_w$ kernel the output of 7.2 is
# $(n_h - k_h + 1) \times (n_w - k_w + 1)$. Stack ten 3 × 3 layers on a 28 × 28 image and
# only 8 × 8 is left. Worse, the border pixels take part in fewer windows than the rest.
# We can count the windows that contain each pixel: cut the input into all its windows
# (`F.unfold`) and add every window back onto the pixels it came from (`F.fold`). On an
# input of ones, each pixel then holds the number of windows it is in:

# %%
def windows_per_pixel(n, k, padding):
    """How many k x k windows (stride 1, `padding` zeros per side) contain each pixel."""
    ones = torch.ones(1, 1, n, n)
    windows = F.unfold(ones, k, padding=padding)  # (1, k*k, number of windows)
    return F.fold(windows, (n, n), k, padding=padding)[0, 0]  # (n, n), padding dropped


print("no padding:\n", windows_per_pixel(6, 3, padding=0))
print("one pixel of padding on every side:\n", windows_per_pixel(6, 3, padding=1))

# %% [markdown]
# Without padding a corner pixel of a 6 × 6 input is in a single 3 × 3 window and a
# central one in nine. Padding adds a frame of zeros around the input, so that windows
# can also be centred on the border pixels. With one pixel of padding the corner is in
# four windows and the output keeps its size: padding evens out how often the pixels are
# used, though not completely.
#
# **How much padding.** D2L counts padding in total: $p_h$ rows of zeros in all, about
# half at the top and half at the bottom, and $p_w$ columns in all, about half on each
# side. Every extra row gives the window one more position, so the output becomes
#
# $$(n_h - k_h + p_h + 1) \times (n_w - k_w + p_w + 1).$$
#
# With $p_h = k_h - 1$ and $p_w = k_w - 1$ the output has the input's size. For an odd
# $k_h$ the total $p_h$ is even and splits evenly, $p_h/2$ rows on each side; for an even
# $k_h$ one side gets a row more (D2L suggests $\lceil p_h/2 \rceil$ at the top and
# $\lfloor p_h/2 \rfloor$ at the bottom). Even splits are one benefit D2L names for the
# odd kernel sizes, such as 1, 3, 5 or 7, that CNNs commonly use (section 7.3.1 of
# [Padding and Stride](https://d2l.ai/chapter_convolutional-neural-networks/padding-and-strides.html#padding)).
#
# PyTorch counts per side instead: `nn.Conv2d(..., padding=p)` adds $p$ rows at the top
# *and* $p$ at the bottom, and $p$ columns on each side
# ([`nn.Conv2d`](https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html)). So
# PyTorch's `padding=p` is D2L's $p_h = 2p$, and the rest of this notebook writes $p$ for
# the per-side number, as PyTorch does.
#
# The notes measure output shapes with a small helper that adds and removes the batch and
# channel axes a PyTorch layer expects:

# %%
def comp_conv2d(conv2d, X):
    # (1, 1) indicates that batch size and the number of channels are both 1
    X = X.reshape((1, 1) + X.shape)
    Y = conv2d(X)
    # Strip the first two dimensions: examples and channels
    return Y.reshape(Y.shape[2:])


# %% [markdown]
# The notes built their layers with `nn.LazyConv2d`, which waits for the first input to
# find out how many channels it has. We write `nn.Conv2d(1, 1, ...)` instead: one input
# channel and one output channel, stated where the layer is made. The layer then has its
# weights from the start (we can print their shape before any data arrives), and PyTorch
# prints no warning about lazy modules in the output.
#
# A 3 × 3 kernel with one pixel of padding on every side keeps an 8 × 8 input at 8 × 8.
# In D2L's totals that is $p_h = p_w = 2$, and $8 - 3 + 2 + 1 = 8$:

# %%
conv2d = nn.Conv2d(1, 1, kernel_size=3, padding=1)
X = torch.rand(size=(8, 8))
print("weight shape before any input:", tuple(conv2d.weight.shape))
comp_conv2d(conv2d, X).shape

# %% [markdown]
# Height and width can get different kernels and padding. A 5 × 3 kernel needs two rows
# of padding at the top and two at the bottom ($p_h = 4$ in all) and one column at each
# side ($p_w = 2$):

# %%
conv2d = nn.Conv2d(1, 1, kernel_size=(5, 3), padding=(2, 1))
comp_conv2d(conv2d, X).shape

# %% [markdown]
# The same rule for every kernel size from 1 to 6: pad $k - 1$ rows and columns in all,
# split as D2L suggests, and the 8 × 8 input stays 8 × 8. `F.pad` takes the zeros for
# each side separately, in the order (left, right, top, bottom). An integer `padding` in
# PyTorch puts the same number on both sides, so it can only express the odd kernels'
# even totals (`padding="same"` also keeps the size for an even kernel, by padding the
# bottom and right one row or column more than the top and left):

# %%
print(" k   p_h = k - 1   top, bottom   output   PyTorch's padding")
for k in range(1, 7):
    p_total = k - 1  # D2L: rows of padding in all
    top, bottom = (p_total + 1) // 2, p_total // 2  # ceil at the top, floor at the bottom
    Y = F.conv2d(F.pad(X[None, None], (top, bottom, top, bottom)), torch.rand(1, 1, k, k))
    assert Y.shape[2] == 8 - k + p_total + 1 == 8
    if top == bottom:
        assert comp_conv2d(nn.Conv2d(1, 1, kernel_size=k, padding=top), X).shape == (8, 8)
    pytorch = f"padding={top}" if top == bottom else "no integer works"
    print(f"{k:2}   {p_total:11}   {top:3}, {bottom:<6}   {tuple(Y.shape[2:])}   {pytorch}")

# %% [markdown]
# ## Stride
#
# So far the kernel moved one cell at a time. With stride $s$ it jumps $s$ cells, right
# and then down, so only every $s$-th position is computed. That is cheaper and shrinks
# the output, and it is how many networks halve their feature maps. Stride 2 on our
# padded 8 × 8 input gives 4 × 4:

# %%
conv2d = nn.Conv2d(1, 1, kernel_size=3, padding=1, stride=2)
comp_conv2d(conv2d, X).shape

# %% [markdown]
# Each direction can have its own stride. The notes' last example mixes everything: a
# 3 × 5 kernel, no padding in height but one column on each side in width, and strides 3
# and 4:

# %%
conv2d = nn.Conv2d(1, 1, kernel_size=(3, 5), padding=(0, 1), stride=(3, 4))
comp_conv2d(conv2d, X).shape

# %% [markdown]
# ## The output-size formula
#
# Put together: the padded input has $n + 2p$ cells in one direction, the first window
# covers $k$ of them, and each further output needs $s$ more. Counting how many windows
# fit gives
#
# $$\left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1 .$$
#
# The floor matters: when $s$ does not divide $n + 2p - k$, the last few rows or columns
# are never reached by any window. PyTorch's layers also take a `dilation` $d$, which
# spreads the kernel's taps $d$ cells apart so that a kernel of size $k$ spans
# $d(k - 1) + 1$ cells; the formula then reads
# $\lfloor (n + 2p - d(k - 1) - 1)/s \rfloor + 1$ and for $d = 1$ is the one above
# (the shape formula in the
# [`nn.Conv2d` documentation](https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html)
# is the same).
#
# D2L writes the count with its total padding $p_h = 2p$ and puts the $+1$ inside the
# floor: $\lfloor (n_h - k_h + p_h + s_h)/s_h \rfloor$ rows, and likewise for the columns
# (section 7.3.2 of
# [Padding and Stride](https://d2l.ai/chapter_convolutional-neural-networks/padding-and-strides.html#stride)).
# Adding $s$ inside the floor is the same as adding 1 outside it, so both formulas agree.
# A quick check over many settings, against real layers:

# %%
def d2l_size(n, k, p_total, s):
    """D2L 7.3's output size, with p_total rows of padding in all."""
    return (n - k + p_total + s) // s


checked = 0
for n in range(4, 11):
    for k in (1, 2, 3, 5):
        for p in (0, 1, 2):  # PyTorch's padding, per side
            for s in (1, 2, 3):
                if k > n + 2 * p:
                    continue  # the kernel does not fit
                layer = nn.Conv2d(1, 1, k, padding=p, stride=s)
                height = comp_conv2d(layer, torch.rand(n, n)).shape[0]
                assert height == d2l_size(n, k, 2 * p, s) == (n + 2 * p - k) // s + 1
                checked += 1
print(f"both formulas give the layer's output size in all {checked} settings")

# %% [markdown]
#
# Here is the formula with the numbers of each of the notes' four layers filled in,
# checked against `cnnlib.ops.conv_output_shape` and against the real layer:

# %%
for setting in NOTES_SETTINGS:
    conv2d = nn.Conv2d(1, 1, **setting)
    shape = comp_conv2d(conv2d, X).shape
    kh, kw = conv2d.kernel_size
    (ph, pw), (sh, sw) = conv2d.padding, conv2d.stride
    height = size_formula(8, kh, ph, sh)
    width = size_formula(8, kw, pw, sw)
    assert conv_output_shape((8, 8), (kh, kw), (ph, pw), (sh, sw)) == tuple(shape)
    assert int(height.split("= ")[-1]) == shape[0] and int(width.split("= ")[-1]) == shape[1]
    print(f"{str(setting):55} height {height:26} width {width:26} -> {shape}")

# %% [markdown]
# The same four layers as pictures. Grey cells are padding, blue cells the input; a dot
# marks the top-left corner of every window the kernel visits, and the orange block is
# the first window, which computes the orange output cell. Red rows and columns are
# never covered by any window: in the third layer only padding is lost, but in the last
# one two real rows at the bottom are skipped, because $(8 - 3) / 3$ does not come out
# even.

# %%
padding_stride_gallery()

# %% [markdown]
# ## Explore padding, stride and dilation
#
# Drag the sliders to change the input size $n$, kernel size $k$, padding $p$, stride
# $s$ and dilation $d$ (square inputs and kernels, to keep one formula), and pick an
# output cell to see the window that produces it. The line under the picture gives the
# formula with your numbers and warns when the stride leaves rows and columns unread.
# Settings with no valid output, such as a kernel larger than the padded input, are
# explained there instead of drawn. You can also click an output cell to pick it. On the
# website this explorer computes in your browser, so every setting works there too.

# %% tags=["nbval-ignore-output"]
explorer = PaddingStrideExplorer(input_size=8, kernel_size=3, padding=1, stride=2)
explorer

# %% [markdown]
# The explorer keeps the numbers behind its picture. It starts on the notes' stride-2
# layer, and its output shape agrees with the layer's; moving a slider from code updates
# it just like dragging does.

# %%
print(explorer.formula)
print(explorer.warning)
assert explorer.output_shape == tuple(
    comp_conv2d(nn.Conv2d(1, 1, kernel_size=3, padding=1, stride=2), X).shape)
explorer.dilation = 2
print(explorer.formula)
assert explorer.output_shape == tuple(
    comp_conv2d(nn.Conv2d(1, 1, kernel_size=3, padding=1, stride=2, dilation=2), X).shape)
explorer.dilation = 1

# %% [markdown]
# ## Step through a padded, strided convolution
#
# The pictures above show where the windows land; this one shows the arithmetic. We
# take the notes' 3 × 3 input and 2 × 2 kernel from 7.2, pad by one and use stride 2.
# Each step multiplies the window with the kernel cell by cell and adds up the products
# into one output cell; the line under the pictures keeps the running sum of the products.
# Press ▶ Play to walk through the steps (at the last step it starts again from the
# first), step with Back and Next, or drag the step slider, which has one position per
# output cell; padding and stride can be changed too. On the website your browser computes
# every step, for any padding and stride the sliders offer; in a running notebook Python
# computes them with PyTorch.

# %% tags=["nbval-ignore-output"]
X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
stepper = ConvStepExplorer(X, K, padding=1, stride=2)
stepper

# %% [markdown]
# Every step's sum is the corresponding output of `F.conv2d`:

# %%
Y = F.conv2d(X[None, None], K[None, None], padding=1, stride=2)[0, 0]
for step in range(Y.numel()):
    stepper.step = step
    assert stepper.total == Y[stepper.position].item()
print(Y)

# %% [markdown]
# The same four steps as an animation, with matplotlib's own player (use the buttons
# under it):

# %% tags=["nbval-ignore-output"]
animation_html = to_page_html(conv_step_animation(X, K, padding=1, stride=2))
HTML(animation_html)

# %% tags=["remove-cell"] jupyter={"source_hidden": true}
# Bookkeeping for the tests: the animation has one frame per output cell.
num_frames = animation_html.count('"data:image/png;base64,')
print("frames:", num_frames)
assert num_frames == Y.numel()

# %% [markdown]
# Look at the first output: with padding 1 the window for `Y[0, 0]` holds three padding
# zeros and the single input value 0, so that output is 0 even though the kernel is not.
#
# ## Exercises
#
# 1. For the notes' last layer (`kernel_size=(3, 5), padding=(0, 1), stride=(3, 4)`),
#    compute the output shape by hand with the formula and check it with the explorer
#    (set $n = 8$, and try the height and width settings one at a time).
# 2. Which padding keeps an $n \times n$ input at $n \times n$ for a 3 × 3 kernel with
#    dilation 2? Find it with the explorer, then derive it from the formula.
# 3. With stride 2, for which input sizes $n$ does a 3 × 3 kernel with padding 1 read every
#    row of the padded input? Watch the warning in the explorer, and explain the pattern.
#    Does it ever skip a row of the input itself?
# 4. A layer with a 2 × 2 kernel, stride 2 and no padding splits the input into disjoint
#    blocks. Step through it on a 4 × 4 input with
#    `ConvStepExplorer(torch.arange(16.).reshape(4, 4), torch.ones(2, 2), stride=2)`:
#    what does each output add up?
# 5. An audio signal is a one-dimensional sequence. What do padding and stride mean for
#    `nn.Conv1d`, and what is its output-size formula?
#
# **Graded assignment.** In this section's assignment you write the output-size formula
# with dilation, for pairs of settings, the padding that keeps the size, and the rows a
# strided kernel never reads, then predict what a stride of 2 saves and what padding modes
# do; exercises 1, 2 and 3 are among its questions. Public checks tell you what is wrong
# while you work, and hidden tests, on inputs you have not seen, grade your answers.
# <a href="../assignments/7_3_padding_stride.ipynb" download>Download the student notebook</a>;
# instructors build and grade it as the [Instructors' guide](../book/instructors.md)
# explains.
