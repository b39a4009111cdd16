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
# # 7.5 Pooling
#
# Companion to D2L section 7.5,
# [Pooling](https://d2l.ai/chapter_convolutional-neural-networks/pooling.html).
#
# A pooling layer slides a window over its input like a convolution, but it has no
# weights: each window is summarised by its largest value (max pooling) or its mean
# (average pooling). That makes a network less sensitive to exactly where a feature
# appears, and with a stride it shrinks the feature maps so later layers see more of the
# image at once. We write pooling as a loop, reproduce the notes' outputs with padding,
# stride and several channels, see which input cell every output takes in a gallery and
# an explorer, and finish by following one unit of a small conv/pool stack back to the
# patch of input it depends on.

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

from cnnlib import ops, setup
from cnnlib.viz.pooling import pooling_gallery
from cnnlib.viz.receptive import SMALL_STACK, receptive_field_gallery
from cnnlib.widgets.pooling import ARANGE, PoolingExplorer
from cnnlib.widgets.receptive_field import ReceptiveFieldExplorer

seed = setup(0)

# %% [markdown]
# ## Maximum pooling and average pooling
#
# The pooling window visits the same positions as a kernel of its size would. Max pooling
# keeps the largest number in each window, average pooling their mean. Written out as in
# the notes, with the window moving one cell at a time:

# %%
def pool2d(X, pool_size, mode='max'):
    p_h, p_w = pool_size
    Y = torch.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            if mode == 'max':
                Y[i, j] = X[i: i + p_h, j: j + p_w].max()
            elif mode == 'avg':
                Y[i, j] = X[i: i + p_h, j: j + p_w].mean()
    return Y


# %% [markdown]
# The input is a 3 × 3 grid, as in D2L. (The notes' copy has an extra pair of brackets,
# which would make `X.shape[0]` equal to 1 and the loop produce an empty output; their
# printed results are those of the 3 × 3 grid.)

# %%
X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
pool2d(X, (2, 2))

# %%
pool2d(X, (2, 2), 'avg')

# %% [markdown]
# The loop's stride is 1. PyTorch's pooling layers, and `cnnlib.ops.pool2d`, default to a
# stride equal to the window (non-overlapping windows), so for the comparison we ask for
# stride 1 explicitly:

# %%
for mode, torch_pool in (("max", F.max_pool2d), ("avg", F.avg_pool2d)):
    Y = pool2d(X, (2, 2), mode)
    assert torch.equal(Y, ops.pool2d(X, 2, mode=mode, stride=1))
    assert torch.equal(Y, torch_pool(X[None, None], 2, stride=1)[0, 0])
print("pool2d agrees with cnnlib.ops.pool2d and torch.nn.functional")

# %% [markdown]
# Why bother? Take a bright vertical band, find its two edges with 7.2's `[1, -1]`
# kernel, and shift the image one and two pixels to the right. Before pooling, every
# shift moves both edge responses to columns where the unshifted image had none. After
# 2 × 2 max pooling with stride 1, each response covers two neighbouring columns, so the
# pooled maps of the original and of the one-pixel shift share one column per edge: a
# unit there fires for both images. That is all the invariance this pooling buys. The
# pooled maps are not equal (the other column still moves with the input), and after a
# two-pixel shift they share nothing. A 2 × 2 window tolerates a shift of one pixel, no
# more; larger windows, or several poolings in a row, tolerate larger shifts.

# %%
edges = torch.zeros((6, 12))
edges[:, 4:8] = 1  # a bright band in columns 4 to 7
K = torch.tensor([[1.0, -1.0]])


def edge_columns(image, pool):
    Y = ops.corr2d(image, K).abs()  # 1 where an edge is, 0 elsewhere
    if pool:
        Y = ops.pool2d(Y, 2, stride=1)
    return Y[0].nonzero().flatten().tolist()


for pool in (False, True):
    print("after 2 × 2 max pooling:" if pool else "before pooling:")
    for shift in (0, 1, 2):
        columns = edge_columns(torch.roll(edges, shift, dims=1), pool)
        shared = sorted(set(columns) & set(edge_columns(edges, pool)))
        print(f"  shift {shift}: edge columns {columns}, shared with shift 0: {shared}")

# %% [markdown]
# ## Padding and stride
#
# Pooling layers take padding and stride like convolutions, and the same output-size
# formula applies. The notes use a 4 × 4 input with a batch and a channel axis:

# %%
X = torch.arange(16, dtype=torch.float32).reshape((1, 1, 4, 4))
X

# %% [markdown]
# A 3 × 3 window with the default stride (also 3) fits only once into a 4 × 4 input:

# %%
pool2d = nn.MaxPool2d(3)
# Pooling has no model parameters, hence it needs no initialization
pool2d(X)

# %% [markdown]
# With one cell of padding and stride 2 it fits twice in each direction. Max pooling pads
# with $-\infty$, so padding is never picked:

# %%
pool2d = nn.MaxPool2d(3, padding=1, stride=2)
pool2d(X)

# %% [markdown]
# Window, padding and stride can differ between height and width:

# %%
pool2d = nn.MaxPool2d((2, 3), stride=(2, 3), padding=(0, 1))
pool2d(X)

# %% [markdown]
# The library's loop gives the same three results, and the output sizes follow the
# formula of 7.3:

# %%
settings = [
    {"kernel_size": 3},
    {"kernel_size": 3, "padding": 1, "stride": 2},
    {"kernel_size": (2, 3), "padding": (0, 1), "stride": (2, 3)},
]
for setting in settings:
    layer = nn.MaxPool2d(**setting)
    Y = layer(X)
    assert torch.equal(ops.pool2d(X, setting["kernel_size"], padding=setting.get("padding", 0),
                                  stride=setting.get("stride")), Y)
    stride = setting.get("stride", setting["kernel_size"])  # the default stride is the window
    expected = ops.conv_output_shape((4, 4), setting["kernel_size"],
                                     setting.get("padding", 0), stride)
    assert tuple(Y.shape[2:]) == expected
    print(f"{str(setting):58} -> {tuple(Y.shape[2:])}")

# %% [markdown]
# The same three settings as pictures, each drawn with max pooling first and average
# pooling after it. In each, the orange block is the window of the first output; a
# purple ring marks the cell each max-pooling output takes, and the filled purple cell
# is the one the first output takes. Average pooling counts the zeros of the padding in
# its denominator (PyTorch's default, `count_include_pad=True`): the first padded
# average is $(0 + 1 + 4 + 5) / 9$, not $/ 4$, which is why the averages next to the
# padding are so small.

# %%
pooling_gallery(X[0, 0])

# %% [markdown]
# ## Explore pooling
#
# Switch between max and average pooling, change the window, stride and padding, and
# pick an output cell with the output row and column sliders or by clicking it: its window
# turns orange and, for max pooling, the cell it takes turns purple. The second input is a
# fixed grid of random digits, where the maximum moves around. PyTorch allows padding of
# at most half the window; larger padding is explained instead of drawn. On the website
# this explorer computes in your browser, for any setting of its controls.

# %% tags=["nbval-ignore-output"]
explorer = PoolingExplorer()
explorer

# %% [markdown]
# The explorer's highlighted cells are those PyTorch's `max_pool2d` reports as the
# positions of the maxima:

# %%
_, indices = F.max_pool2d(explorer.X[None, None], 2, stride=2, return_indices=True)
width = explorer.X.shape[1]
for i in range(explorer.output_shape[0]):
    for j in range(explorer.output_shape[1]):
        explorer.row, explorer.col = i, j
        assert explorer.chosen == divmod(int(indices[0, 0, i, j]), width)
print("input", explorer.input_choice, "->", explorer.output_shape, "outputs")
print(explorer.pooling.Y)

# %% [markdown]
# The same explorer on the notes' 4 × 4 input, with the second setting from above:

# %%
explorer.input_choice = ARANGE
explorer.kernel_size, explorer.padding, explorer.stride = 3, 1, 2
print(explorer.pooling.Y)
assert torch.equal(explorer.pooling.Y, nn.MaxPool2d(3, padding=1, stride=2)(X)[0, 0])

# %% [markdown]
# ## Multiple channels
#
# A convolution sums over its input channels; pooling does not. It pools every channel on
# its own, so the output has as many channels as the input. Stack `X` and `X + 1` as two
# channels:

# %%
X = torch.cat((X, X + 1), 1)
X

# %% [markdown]
# Pooling keeps the two channels apart, and the second channel's output is the first's
# plus one:

# %%
pool2d = nn.MaxPool2d(3, padding=1, stride=2)
pool2d(X)

# %%
Y = pool2d(X)
assert Y.shape[1] == X.shape[1]  # channels in == channels out
assert torch.equal(Y[:, 1], Y[:, 0] + 1)
assert torch.equal(Y[0], ops.pool2d(X[0], 3, padding=1, stride=2))  # (C, H, W) input
print("channels in:", X.shape[1], " channels out:", Y.shape[1])

# %% [markdown]
# ## Pooling and the receptive field
#
# A unit's *receptive field* is the patch of input that can affect it. Each 3 × 3
# convolution widens it by two cells. A 2 × 2 pooling with stride 2 widens it by only
# one, but it doubles the step between neighbouring units, so every layer after it widens
# the field twice as fast. Follow the centre unit of the stack conv3 → conv3 → maxpool2 →
# conv3 on a 12 × 12 input: its field grows from 3 to 5 to 6 and then to 10 cells across.

# %%
receptive_field_gallery(SMALL_STACK, input_size=12)

# %% [markdown]
# ## Explore receptive fields
#
# Pick a layer and one of its units (with the unit row and column sliders, which run over
# that layer's output, or by clicking the unit); every earlier map shows, in orange, the
# region the unit depends on, and the input map shows its receptive field. Switch to the
# padded stack to see a field cut off at the border, where part of it falls on padding. An
# input too small for the stack is reported, not drawn.

# %% tags=["nbval-ignore-output"]
rf_explorer = ReceptiveFieldExplorer(input_size=12)
rf_explorer

# %% [markdown]
# The region the explorer shows is the set of pixels that actually influence the unit.
# Autograd confirms it on real layers with the same geometry: after a backward pass from
# the unit, exactly the pixels inside the region receive a gradient. (We use average
# pooling and positive weights here so that no gradient is zero by accident; max pooling
# would pass the gradient only to each window's maximum.)

# %%
rf_explorer.row, rf_explorer.col = 1, 0
(r0, r1), (c0, c1) = rf_explorer.region
print(rf_explorer.trace.describe())

net = nn.Sequential(
    nn.Conv2d(1, 1, 3, bias=False), nn.Conv2d(1, 1, 3, bias=False),
    nn.AvgPool2d(2, stride=2), nn.Conv2d(1, 1, 3, bias=False),
)
for layer in net:
    if isinstance(layer, nn.Conv2d):
        nn.init.constant_(layer.weight, 1.0)
X = torch.ones((1, 1, 12, 12), requires_grad=True)
net(X)[0, 0, 1, 0].backward()
touched = X.grad[0, 0] != 0
assert touched[r0:r1, c0:c1].all() and touched.sum() == (r1 - r0) * (c1 - c0)
print("pixels with a gradient:", int(touched.sum()), "=", r1 - r0, "x", c1 - c0)

# %% [markdown]
# ## Exercises
#
# 1. Implement average pooling as a convolution. Which kernel, padding and stride give
#    `nn.AvgPool2d(3, padding=1, stride=2)`, including its treatment of padding?
# 2. Can max pooling be written as a convolution? Why not?
# 3. Max pooling can be written with ReLU alone: show that
#    $\max(a, b) = b + \mathrm{ReLU}(a - b)$, and use it to build 2 × 2 max pooling from
#    ReLUs and additions.
# 4. What is the cost of a pooling layer: with a $p_h \times p_w$ window, $c$ channels,
#    padding $(p_h', p_w')$ and stride $(s_h, s_w)$, how many comparisons or additions
#    does it make?
# 5. In the receptive-field explorer, how much larger is the conv3 unit's field than
#    that of the stack without the pooling layer? How many 3 × 3 layers without pooling
#    would you need for the same field?
# 6. Softmax pooling replaces the maximum with $\sum_i x_i e^{x_i} / \sum_i e^{x_i}$.
#    What happens when all $x_i$ are multiplied by a large number, and by a small one?
#
# **Graded assignment.** In this section's assignment you write `pool2d` with padding, the
# receptive field and jump of a conv/pool stack, and average pooling as a convolution,
# explain why max pooling is not one, and predict how far max pooling forgives a shift;
# exercises 1, 2 and 5 are among its questions. Public checks tell you what is wrong while
# you work, and hidden tests, on inputs you have not seen, grade your answers.
# <a href="../assignments/7_5_pooling.ipynb" download>Download the student notebook</a>;
# instructors build and grade it as the [Instructors' guide](../book/instructors.md)
# explains.
