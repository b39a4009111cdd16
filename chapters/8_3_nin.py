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
# # 8.3 Network in Network (NiN)
#
# Companion to D2L section 8.3,
# [Network in Network (NiN)](https://d2l.ai/chapter_convolutional-modern/nin.html).
#
# AlexNet and VGG end in two enormous dense layers that hold almost all of their parameters.
# Network in Network ([Lin, Chen and Yan, 2014](https://arxiv.org/abs/1312.4400)) removes
# them with two ideas. Inside the network, every ordinary convolution is followed by 1 × 1
# convolutions, which act as a small dense network applied separately at each pixel. At the
# end, the last block produces one channel per class and *global average pooling* turns each
# channel into a class score. Here we check the first idea against section 7.4's
# matrix-product view of the 1 × 1 convolution, build the NiN block and the network, follow
# a 224 × 224 image through it, and count what global average pooling saves compared with
# AlexNet and VGG, using the models themselves. Training NiN turns out to be delicate, and
# we look at why before we train it on Fashion-MNIST under the quick budget.

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
from torch import nn

from cnnlib import ops, setup
from cnnlib.data import LABELS, FashionMNIST
from cnnlib.models import get_model
from cnnlib.models import nin as lib
from cnnlib.models.cost import count_flops, count_parameters, layer_costs
from cnnlib.runs import get_budget
from cnnlib.training import predict
from cnnlib.viz.architecture import show_architecture
from cnnlib.viz.common import new_figure
from cnnlib.viz.training import plot_history

seed = setup(0)

# %% [markdown]
# ## The idea
#
# A convolutional layer slides a *linear* filter over the image: each output value is a
# weighted sum of a window, followed by a nonlinearity. NiN's authors asked for a more
# powerful detector at each position, a small multilayer perceptron instead of a single
# linear filter, without losing the convolution's weight sharing. A 1 × 1 convolution
# is exactly that: a dense layer that sees the channel vector of one pixel and is
# applied with the same weights at every pixel. Two of them with ReLUs, after each
# ordinary convolution, make up a *NiN block*.
#
# The second idea concerns the end of the network. AlexNet and VGG flatten the last
# feature maps into one long vector and feed it to dense layers with 4096 units; those
# layers hold most of the parameters and, with them, most of the risk of overfitting.
# NiN's last block instead outputs as many channels as there are classes, and averages
# each channel over all positions. No dense layer is left at all.

# %% [markdown]
# ## 1 × 1 convolutions are dense layers applied at every pixel
#
# Section 7.4 wrote a 1 × 1 convolution as one matrix product: lay the pixels out as
# columns, and multiply by the $c_o \times c_i$ weight matrix. Seen per pixel, that is
# a dense layer `nn.Linear(c_i, c_o)` applied to each pixel's channel vector. We check
# it with a batch of four 5 × 5 images with three channels: move the channels to the
# last axis (where `nn.Linear` expects its features), apply the dense layer, and move
# them back.

# %%
conv = nn.Conv2d(3, 2, kernel_size=1)
dense = nn.Linear(3, 2)
with torch.no_grad():
    dense.weight.copy_(conv.weight.reshape(2, 3))  # (c_o, c_i, 1, 1) -> (c_o, c_i)
    dense.bias.copy_(conv.bias)

X = torch.randn(4, 3, 5, 5)
Y_conv = conv(X)
Y_dense = dense(X.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # (N, H, W, c_i) -> (N, c_o, H, W)
torch.testing.assert_close(Y_conv, Y_dense)
# Section 7.4's matrix-product version, for the first image, plus the bias:
Y_matmul = ops.corr2d_multi_in_out_1x1(X[0], conv.weight) + conv.bias.reshape(2, 1, 1)
torch.testing.assert_close(Y_conv[0], Y_matmul)
print("output shape:", tuple(Y_conv.shape))
print("parameters: conv", count_parameters(conv), "= dense", count_parameters(dense))

# %% [markdown]
# The same 8 numbers (a 2 × 3 weight matrix and 2 biases) serve all 25 positions and
# all 4 images. So a 1 × 1 convolution, a ReLU and another 1 × 1 convolution form a
# two-layer perceptron that runs at every pixel: it mixes channels as freely as a
# dense layer, but never mixes positions, and its cost in parameters does not grow
# with the image.
#
# ## The NiN block
#
# A NiN block is one ordinary convolution, whose kernel size, stride and padding are
# chosen by the caller, followed by two 1 × 1 convolutions with the same number of
# channels, each convolution followed by a ReLU. D2L writes it with lazy layers; here
# the input channels are stated, so the block has its weights as soon as it exists.


# %%
def nin_block(in_channels, out_channels, kernel_size, strides, padding):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU())


# %% [markdown]
# `cnnlib.models.nin.nin_block` builds the same layers (with PyTorch's argument name
# `stride`). Loaded with the same weights, both give the same output:

# %%
block = nin_block(1, 96, kernel_size=11, strides=4, padding=0)
ours = lib.nin_block(1, 96, kernel_size=11, stride=4, padding=0)
ours.load_state_dict(block.state_dict())
X = torch.rand(2, 1, 224, 224)
assert torch.equal(block(X), ours(X))
print(ours)
print("output shape:", tuple(ours(X).shape))

# %% [markdown]
# ## The NiN model
#
# NiN keeps AlexNet's skeleton: the first three blocks use AlexNet's window sizes
# (11 × 11 with stride 4, then 5 × 5, then 3 × 3) and output channels (96, 256, 384),
# each followed by a 3 × 3 max-pool with stride 2. Then comes dropout and a fourth
# block with one output channel per class (10 for Fashion-MNIST). Global average
# pooling (`nn.AdaptiveAvgPool2d((1, 1))`) averages each of those channels over its
# 5 × 5 positions, and `Flatten` removes the two unit axes, leaving 10 scores per image.

# %%
net = lib.nin()
show_architecture(net, (1, 1, 224, 224), title="NiN on 224×224 Fashion-MNIST")

# %% [markdown]
# The book's layer summary, at the book's input size of 224 × 224:

# %%
net.layer_summary((1, 1, 224, 224))

# %% [markdown]
# ## What global average pooling saves
#
# Global average pooling is just the mean over height and width, one number per
# channel; it has no parameters at all:

# %%
X = torch.randn(2, 10, 5, 5)
gap = nn.AdaptiveAvgPool2d((1, 1))
torch.testing.assert_close(gap(X).flatten(1), X.mean(dim=(2, 3)))
print(tuple(X.shape), "->", tuple(gap(X).flatten(1).shape), "with",
      count_parameters(gap), "parameters")

# %% [markdown]
# Now the comparison, computed from the models of sections 8.1 and 8.2 at their
# 224 × 224 input: all parameters, the share held by dense (`nn.Linear`) layers, and
# FLOPs per image (`cnnlib.models.cost`; a FLOP is one multiplication or addition).
# For VGG-11 we list both the original widths and the book's trained version with a
# quarter of the channels, whose dense layers stay 4096 wide.


# %%
def dense_parameters(model):
    return sum(count_parameters(layer) for layer in model.modules()
               if isinstance(layer, nn.Linear))


models = {
    "AlexNet": get_model("alexnet"),
    "VGG-11": get_model("vgg11"),
    "VGG-11 (channels / 4)": get_model("vgg11", width_divisor=4),
    "NiN": net,
}
print(f"{'model':<22}{'parameters':>13}{'in dense layers':>17}{'share':>7}{'GFLOPs':>8}")
for name, model in models.items():
    total, in_dense = count_parameters(model), dense_parameters(model)
    flops = count_flops(model, (1, 1, 224, 224))
    print(f"{name:<22}{total:>13,}{in_dense:>17,}{in_dense / total:>7.1%}{flops / 1e9:>8.2f}")

# %% [markdown]
# AlexNet keeps 92% of its parameters in its three dense layers, VGG-11 93% (and its
# narrower version 99%). NiN has none, and about 2 million parameters in all: 23 times
# fewer than AlexNet. The arithmetic tells a different story: NiN does about four fifths
# of AlexNet's FLOPs. Dropping the dense layers saved almost no arithmetic, because
# AlexNet's dense layers did very little of it (section 8.1); NiN keeps AlexNet's first
# three convolutions, which did most of it, and adds 1 × 1 convolutions that run at
# every position of large maps (54 × 54 in the first block). Fewer parameters does not
# mean less compute.
#
# The same numbers as a picture, parameters split into convolutional and dense ones:

# %%
fig = new_figure(6.5, 2.8)
ax = fig.add_subplot()
names = list(models)
conv_params = [(count_parameters(m) - dense_parameters(m)) / 1e6 for m in models.values()]
dense_params = [dense_parameters(m) / 1e6 for m in models.values()]
ax.barh(names, conv_params, color="#6fa8dc", label="convolutions")
ax.barh(names, dense_params, left=conv_params, color="#93c47d", label="dense layers")
for k, (c, d) in enumerate(zip(conv_params, dense_params, strict=True)):
    ax.text(c + d + 1, k, f"{c + d:.1f} M", va="center")
ax.invert_yaxis()
ax.set_xlim(0, 145)
ax.set_xlabel("parameters (millions)")
ax.legend(loc="lower right")
ax.set_title("Where the parameters are, at 224 × 224 input")
fig

# %% [markdown]
# Within NiN, layer by layer: each convolution's kernel, its parameters (weights and
# bias), and its share of all parameters and of all FLOPs at 224 × 224.

# %%
nin_costs = layer_costs(net, (1, 1, 224, 224))
layers = dict(net.named_modules())
total_params = count_parameters(net)
total_flops = sum(2 * cost.macs for cost in nin_costs)
print(f"{'layer':<9}{'kernel':<18}{'parameters':>11}{'share':>7}{'FLOPs share':>13}")
for cost in nin_costs:
    kernel = tuple(layers[cost.name].weight.shape)
    print(f"{cost.name:<9}{str(kernel):<18}{cost.params:>11,}"
          f"{cost.params / total_params:>7.1%}{2 * cost.macs / total_flops:>13.1%}")
pointwise = [cost for cost in nin_costs if layers[cost.name].kernel_size == (1, 1)]
print(f"the {len(pointwise)} 1×1 convolutions together: "
      f"{sum(c.params for c in pointwise) / total_params:.1%} of the parameters, "
      f"{sum(2 * c.macs for c in pointwise) / total_flops:.1%} of the FLOPs")

# %% [markdown]
# The parameters sit in the convolutions with wide windows and many channels: the third
# block's 3 × 3 convolution (256 to 384 channels) alone holds almost half of them. The
# arithmetic sits where a wide window meets a large map: the second block's 5 × 5
# convolution, on 26 × 26 maps, does more than half of it. The eight 1 × 1
# convolutions, NiN's addition, hold about a fifth of the parameters and do about a
# quarter of the arithmetic.

# %% [markdown]
# ## Why NiN is delicate to train
#
# NiN has no batch normalisation (that arrives in section 8.5), and D2L initialises
# its convolutions with Xavier's rule
# ([Glorot and Bengio, 2010](https://proceedings.mlr.press/v9/glorot10a.html)), which
# was derived for activations that behave linearly around zero, such as tanh, not for
# ReLU. A ReLU zeroes about half of what passes through it, so with Xavier's weights the
# part of the signal that depends on the image shrinks at every layer, while the biases
# keep adding a part that is the same for every image. By the last convolutions, the
# signal is almost the same for all images.
#
# He's initialisation ([He and colleagues, 2015](https://arxiv.org/abs/1502.01852),
# section 2.2) draws each weight with variance 2 / fan-in, where the fan-in is the number
# of inputs one output reads (input channels × window size). For a 1 × 1 convolution
# with as many outputs as inputs that is twice Xavier's variance (for the wider windows,
# whose fan-out is larger than their fan-in, more than twice); the factor 2 makes up for
# the half that the ReLU removes. We measure both on untrained networks of the size the
# quick budget trains (see below): for every convolution, how much a channel's average
# output differs between 512 validation images, relative to its typical size.

# %%
budget = get_budget("nin")
side = budget.side
val = FashionMNIST(resize=budget.resize, val_subset=512)
X_val = val.val_images.unsqueeze(1).float() / 255  # (512, 1, side, side) in [0, 1]


def probe(model):
    """Per convolution, how much images differ, and the class scores, of ``model``."""
    spread = {}

    def record_spread(name):
        def hook(layer, inputs, output):
            per_image = output.mean(dim=(2, 3))  # (N, C): each channel's average per image
            spread[name] = (per_image.std(dim=0).mean() / per_image.abs().mean()).item()
        return hook

    hooks = [layer.register_forward_hook(record_spread(name))
             for name, layer in model.named_modules() if isinstance(layer, nn.Conv2d)]
    with torch.no_grad():
        scores = model.eval()(X_val)
    for hook in hooks:
        hook.remove()
    return spread, scores


xavier_spread, xavier_scores = probe(get_model("nin", width_divisor=budget.width_divisor))
he_spread, he_scores = probe(get_model("nin", width_divisor=budget.width_divisor,
                                       init="kaiming"))

# %% tags=["nbval-ignore-output"]
print(f"{'layer':<10}{'Xavier (D2L)':>14}{'He':>10}")
for name in xavier_spread:
    print(f"{name:<10}{xavier_spread[name]:>14.1%}{he_spread[name]:>10.1%}")

# %% [markdown]
# With Xavier's weights, the image-dependent part falls more than a hundredfold from
# the first convolution to the class block; with He's it stays within the same order
# of magnitude all the way.
#
# That matters because of where NiN ends. A ReLU unit whose input barely changes between
# images is either on for all of them or off for all of them. For most units that is only a
# waste, but the class block ends in a ReLU *before* the averaging: a class whose channel is
# zero at every position of every image gets a score of 0 and no gradient, and since no
# score is ever negative, it can never beat the other classes. It is *dead*, unless the
# layers below change enough to wake it up. For each class, the fraction of the 512 images
# whose score is exactly zero in the Xavier-initialised network:

# %% tags=["nbval-ignore-output"]
dead_fraction = (xavier_scores == 0).float().mean(dim=0)
for label, fraction in zip(LABELS, dead_fraction.tolist(), strict=True):
    print(f"{label:<12} {fraction:6.1%}")

# %% tags=["remove-cell"] jupyter={"source_hidden": true}
first, last = list(xavier_spread.values())[0], list(xavier_spread.values())[-1]
assert last < first / 100, xavier_spread
assert min(he_spread.values()) > max(he_spread.values()) / 10, he_spread
assert (dead_fraction == 1).any(), "expected at least one class dead at initialisation"

# %% [markdown]
# Softmax makes things worse at first. While the features do not yet tell the classes apart,
# the live classes get a probability above their fair share of one in ten (their scores are
# above the dead classes' 0), so the loss pushes their scores down as well, towards death.
# Learning is a race between that pull and the lower layers learning features that separate
# the classes. Nothing guarantees how it ends: it depends on the draw of the weights, the
# optimizer and the learning rate, and a class that never comes back is never predicted.
# (Exercise 5 lets you watch how plain SGD, the book's optimizer, starts, and exercise 6
# how Adam fares from D2L's starting point.)
#
# The quick budget does not leave that to chance. It changes the starting point, not the
# layers: He's initialisation, and a bias of 1 in the class block's last convolution, which
# lifts every class's map so that a class would need a strongly negative draw of weights to
# start dead (`init="kaiming", class_bias=1.0`, the model arguments printed with the budget
# below). He's weights alone, whose biases start at zero, do not prevent dead classes:
# whether a class's channel starts positive still depends on the draw of its weights. We
# count the dead classes at initialisation for six draws of each starting point (the draws
# do not disturb the notebook's own random numbers):

# %% tags=["nbval-ignore-output"]
def dead_at_init(seed, **model_kwargs):
    """How many classes score 0 on all 512 images, for one draw of the weights."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        _, scores = probe(get_model("nin", width_divisor=budget.width_divisor, **model_kwargs))
    return int((scores == 0).all(dim=0).sum())


starts = {"Xavier (D2L)": {}, "He": {"init": "kaiming"},
          "He + class bias": {"init": "kaiming", "class_bias": 1.0}}
print(f"{'draw':<6}" + "".join(f"{name:>17}" for name in starts))
for seed in range(6):
    print(f"{seed:<6}" + "".join(f"{dead_at_init(seed, **kw):>17}" for kw in starts.values()))

# %% [markdown]
# Xavier's weights start every draw with several dead classes, He's some draws, and the
# class bias none. The network the quick budget trains below starts with none dead on
# our 512 images:

# %%
quick_spread, quick_scores = probe(get_model("nin", **budget.model_kwargs()))
dead_classes = (quick_scores == 0).all(dim=0)
print("classes dead at initialisation:", int(dead_classes.sum()))
assert not dead_classes.any(), quick_scores

# %% [markdown]
# ## Training under the quick budget
#
# D2L trains NiN for 10 epochs at 224 × 224, in batches of 128, with SGD at learning rate
# 0.05, and shows the run as a training plot. At 1.5 GFLOPs per image for the forward
# pass, and roughly twice that again for the backward pass, ten epochs cost about
# $10 \times 60{,}000 \times 4.5 \times 10^9 \approx 2.7 \times 10^{15}$ floating-point
# operations: hours of work for a 2-core CPU. The quick budget keeps all four NiN blocks
# and the global average pooling and reduces the rest:

# %%
print(budget.describe())

# %% [markdown]
# Half the book's side means maps a quarter the size (26 × 26 after the first block
# instead of 54 × 54), but the last pooling still leaves the class block a 2 × 2 map,
# so global average pooling still averages over positions. (Exercise 3 asks below which
# size that map shrinks to 1 × 1.)

# %%
model = get_model("nin", **budget.model_kwargs())
model.layer_summary((1, 1, side, side))
print(f"{count_parameters(model):,} parameters, "
      f"{count_flops(model, (1, 1, side, side)):,} FLOPs per {side}×{side} image")

# %% [markdown]
# `bf16` runs the convolutions in bfloat16 on CPUs that support it; `channels_last`
# stores the images as height × width × channels, a memory layout that can speed up
# convolutions (PyTorch's
# [channels-last tutorial](https://pytorch.org/tutorials/intermediate/memory_format_tutorial.html)
# explains it), and the budget switches it on together with `bf16`.
#
# `budget.train` checks the run against the budget's floor, the validation accuracy the
# quick run must reach; its last line prints the final accuracy, the floor and how long
# training took. The [results page](../book/results.md) records what the quick budget
# reached when the notebooks were last built.

# %% tags=["nbval-ignore-output"]
run = budget.train(model)
history, data = run.history, run.data

# %% [markdown]
# ## Learning curves

# %%
plot_history(history)

# %% [markdown]
# After training, every class is predicted for some validation images: none stayed
# dead.

# %% tags=["nbval-ignore-output"]
probs, y_val = predict(model, data.val_batches())
predicted = torch.bincount(probs.argmax(dim=1), minlength=len(LABELS))
for label, count in zip(LABELS, predicted.tolist(), strict=True):
    print(f"{label:<12} predicted {count:>5,} times")

# %% tags=["remove-cell"] jupyter={"source_hidden": true}
assert (predicted > 0).all(), predicted

# %% [markdown]
# ## Inside the trained network
#
# The explorers below look inside the NiN shipped with `cnnlib`: trained once with the
# same quick budget as above (`scripts/train_checkpoint.py nin`) and saved, so that what
# they show does not depend on the run above and the website can show the same
# pictures. They take the ten example test images, one per class, resized to the 112
# pixels the network was trained on.
#
# ### A 1 × 1 convolution at one pixel
#
# Pick an image, one of NiN's eight 1 × 1 convolutions (the menu names each by its block
# and its place in it) and a pixel of its map, with the row and column sliders or by
# clicking a map. The picture marks that pixel in every input and output map, and the
# window of the image it depends on. Below, the same computation as a dense layer: the
# channel vector `x` at the pixel sits above the columns of the weight matrix `W` (the
# kernel, with its two unit axes dropped), and `ReLU(W x + b)` sits beside its rows. Move
# the pixel: `x` changes, `W` and `b` do not. On the website this explorer runs the
# shipped network in your browser, for every image, convolution and pixel.

# %% tags=["nbval-ignore-output"]
from cnnlib.models.pretrained import pretrained
from cnnlib.widgets.nin_maps import NiNClassMapExplorer, NiNPixelExplorer

pixel_explorer = NiNPixelExplorer(model=pretrained("nin"))
pixel_explorer

# %% [markdown]
# What the explorer shows is the convolution's own output at that pixel, and also the
# matrix product:

# %%
r = pixel_explorer.result
conv = pixel_explorer.convs[r.layer]
Y = torch.relu(nn.functional.conv2d(r.maps_in[None], conv.weight, conv.bias))[0]
torch.testing.assert_close(r.out, Y[:, r.position[0], r.position[1]])
torch.testing.assert_close(r.out, torch.relu(r.W @ r.x + r.b))
print(f"kernel {tuple(conv.weight.shape)} -> W {tuple(r.W.shape)}; "
      f"x {tuple(r.x.shape)} -> out {tuple(r.out.shape)} at pixel {r.position}")

# %% [markdown]
# ### The class maps before global average pooling
#
# The class block hands one map per class to the averaging. At 112 pixels those maps
# are only 2 × 2, so each score is the mean of four numbers. NiN has no dense layer, so
# it also runs on larger images: in the notebook the explorer offers the same network on
# 224-pixel images, where the maps are 5 × 5. That size lies outside its training, so its
# scores there need not be as good; what it shows is that the averaging does not care how
# large the maps are. On the website this explorer runs the shipped network in your
# browser, for every image at both sizes.

# %% tags=["nbval-ignore-output"]
class_explorer = NiNClassMapExplorer(model=pretrained("nin"))
class_explorer

# %% [markdown]
# The means of the maps are exactly the network's output, its logits:

# %%
r = class_explorer.result
X = class_explorer.images_by_size[class_explorer.size][class_explorer.example]
with torch.no_grad():
    logits = class_explorer.model(X[None])[0]
torch.testing.assert_close(r.maps.mean(dim=(1, 2)), logits)
print("class maps", tuple(r.maps.shape), "-> means", tuple(r.averages.shape),
      "= logits", tuple(logits.shape))

# %% [markdown]
# ## Summary
#
# * A 1 × 1 convolution is a dense layer applied to every pixel's channel vector with
#   shared weights; stacking two after a convolution gives each position a small
#   perceptron (the NiN block).
# * NiN ends with a block that outputs one channel per class and global average
#   pooling, so it needs no dense layers: about 2 million parameters instead of
#   AlexNet's 47 million, for a similar amount of arithmetic.
# * Without batch normalisation, the ReLU in front of the averaging can leave classes
#   with a score of zero for every image; how the network is trained decides whether
#   they recover.
#
# ## Exercises
#
# 1. Two 1 × 1 convolutions follow each ordinary convolution in a NiN block. Remove the
#    ReLU between them: what does the pair compute then (section 7.4, exercise 4)?
# 2. Compute by hand the parameters of the first NiN block (1 input channel, 96 output
#    channels, 11 × 11 kernel) and compare with the table above.
# 3. At which input sizes does NiN's last block see a 1 × 1 map? What is left for the
#    3 × 3 convolution of that block to do then? Use `layer_summary` to check.
# 4. Replace `nn.AdaptiveAvgPool2d` by `nn.AdaptiveMaxPool2d` in a copy of the quick
#    model and train it with the same budget. Which works better, and why might
#    averaging be the safer choice?
# 5. Set `CNNLIB_BUDGET=full` (on a GPU) and compare the first epoch's loss with the
#    quick run's: how long does plain SGD stay on the plateau?
# 6. Train the quick model from D2L's starting point instead,
#    `get_model("nin", width_divisor=4)` (Xavier's weights, no class bias), with
#    `budget.train(model)`, and count how often each class is predicted, as above (if the
#    run ends below the floor, `budget.train` raises `RunFailed`, and `model` still holds
#    the trained weights). Which classes were dead at the start, and did they all come
#    back? Try two other seeds (`setup(1)`, `setup(2)` before building the model).
#
# **Graded assignment.** In this section's assignment you write the NiN block with any
# number of 1 × 1 convolutions, count its parameters, turn a dense layer into a 1 × 1
# convolution, find the size of the class maps, and predict what 1 × 1 convolutions can
# and cannot do; exercises 1, 2 and 3 are among its questions. Public checks tell you what
# is wrong while you work, and hidden tests, on inputs you have not seen, grade your
# answers.
# <a href="../assignments/8_3_nin.ipynb" download>Download the student notebook</a>;
# instructors build and grade it as the [Instructors' guide](../book/instructors.md)
# explains.
