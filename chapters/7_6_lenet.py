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
# # 7.6 Convolutional Neural Networks (LeNet)
#
# Companion to D2L section 7.6,
# [Convolutional Neural Networks (LeNet)](https://d2l.ai/chapter_convolutional-neural-networks/lenet.html).
#
# Everything from the previous sections now comes together in one working network.
# LeNet-5, published by Yann LeCun and colleagues in the 1990s to read handwritten
# digits, stacks two convolution-plus-pooling stages and three dense layers. We first
# look at the clothes it will learn to tell apart, then build the network exactly as
# in the notes and follow an image's shape through it. We train it on a 2-core CPU in
# well under a minute (the page says what the short "quick" budget changes compared
# with the book), watch the loss and accuracy curves, and ask where it still goes
# wrong: a confusion matrix and the pictures it misclassifies with the most
# confidence. Finally a *modern* LeNet, with the same layout but ReLU, max pooling
# and batch normalisation, shows how much those later ideas are worth.

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
import torch
from torch import nn

from cnnlib import setup
from cnnlib.data import LABELS, FashionMNIST, text_labels
from cnnlib.explain import choose_examples, class_probabilities
from cnnlib.models.lenet import WEIGHTS_PATH, LeNet, ModernLeNet, pretrained_lenet
from cnnlib.runs import get_budget
from cnnlib.training import confusion_matrix, evaluate, predict, read_checkpoint
from cnnlib.viz.feature_maps import feature_map_gallery
from cnnlib.viz.images import show_images
from cnnlib.viz.training import (
    plot_confusion_matrix,
    plot_history,
    show_most_confident_mistakes,
)
from cnnlib.widgets.feature_maps import FeatureMapExplorer

seed = setup(0)

# %% [markdown]
# ## Fashion-MNIST at a glance
#
# D2L trains LeNet on Fashion-MNIST: 70,000 greyscale pictures of clothing, 28 × 28
# pixels each, in ten classes. Sixty thousand are for training; the other ten
# thousand (the official test split) serve as our validation set. `FashionMNIST` reads
# the official files once and keeps both splits in memory as 8-bit tensors, which is
# why our epochs are quick even on a CPU.

# %%
data = FashionMNIST(batch_size=128)
print("training images:  ", tuple(data.train_images.shape), data.train_images.dtype)
print("validation images:", tuple(data.val_images.shape), data.val_images.dtype)
print("classes:", ", ".join(LABELS))

# %% [markdown]
# Two training images of every class, one class per column. Some classes are easy
# to tell apart (trousers and bags look like nothing else), others much less so: at
# 28 × 28 pixels a T-shirt, a shirt, a pullover and a coat are all grey shapes with
# sleeves. Keep them in mind for later.

# %%
# The first two training images of each class, ordered so that each column is one class.
picks = torch.stack([torch.nonzero(data.train_labels == c).flatten()[:2]
                     for c in range(len(LABELS))], dim=1).flatten()  # (2, 10) -> (20,)
show_images(data.train_images[picks], titles=text_labels(data.train_labels[picks]), ncols=10)

# %% [markdown]
# A batch is what the network actually sees: pixel values scaled to $[0, 1]$ and one
# channel axis, so shape (batch, channels, height, width).

# %%
X, y = next(data.train_batches(shuffle=False))
print("X:", tuple(X.shape), X.dtype, f"values in [{X.min():.1f}, {X.max():.1f}]")
print("y:", tuple(y.shape), y.dtype)

# %% [markdown]
# ## LeNet
#
# LeNet has two parts. The *convolutional encoder* turns the image into feature maps:
# a 5 × 5 convolution with 6 output channels (padding 2 keeps 28 × 28), a sigmoid and
# a 2 × 2 average pooling that halves the resolution; then a 5 × 5 convolution with 16
# channels (no padding, so 14 shrinks to 10), a sigmoid and another pooling. The
# *dense block* flattens the 16 maps of 5 × 5 into 400 numbers per image and passes
# them through dense layers of 120 and 84 units down to the 10 class scores.
#
# Here it is written out as in the notes, but with every layer's input size stated
# instead of D2L's lazy layers, which infer it from the first batch.

# %%
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Flatten(),
    nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
    nn.Linear(120, 84), nn.Sigmoid(),
    nn.Linear(84, 10))

# %% [markdown]
# `cnnlib.models.lenet.LeNet` holds the same layers in its `net` attribute, plus the
# Xavier initialisation D2L applies (`init_cnn`): it scales each layer's starting
# weights to its number of inputs and outputs, which matters for a deep stack of
# sigmoids. We check that both have the same layers with the same settings and the
# same parameter shapes. One difference is deliberate, and it shows: the two pooling
# layers are `FastAvgPool2d`s from `cnnlib.models.fastpool`, a subclass of `nn.AvgPool2d` with
# the same settings and results and a faster path for the 2 × 2, stride-2 case on a CPU,
# where PyTorch's general pooling kernel takes about a fifth of a LeNet training step
# (more under the training below). They print under their own name, so that a listing of
# the model says what runs.

# %%
model = LeNet()
# Every layer with every setting, as printed; only the pools' name differs.
assert str(model.net) == str(net).replace("AvgPool2d", "FastAvgPool2d")
assert all(isinstance(ours, type(notes)) for ours, notes in zip(model.net, net, strict=True))
maps = torch.rand(8, 6, 28, 28, generator=torch.Generator().manual_seed(0))
torch.testing.assert_close(model.net[2](maps), net[2](maps))  # the fast pool computes the same
assert [p.shape for p in net.parameters()] == [p.shape for p in model.net.parameters()]
print(f"LeNet has {model.num_parameters():,} parameters")

# %% [markdown]
# Following a single random 28 × 28 image through the network shows what each layer
# does to the shape: the convolutions change the number of channels, the poolings
# halve height and width, and `Flatten` joins the 16 maps of 5 × 5 into one vector.

# %%
model.layer_summary((1, 1, 28, 28))

# %% [markdown]
# Most of the parameters sit in the first dense layer (400 × 120 weights). The two
# convolutions together have only 2,572: a kernel is shared by every position of the
# image, which is the saving section 7.1 promised.

# %%
for name, p in model.named_parameters():
    print(f"{name:<14} {str(tuple(p.shape)):<16} {p.numel():>6,}")

# %% [markdown]
# ## Training under a budget
#
# D2L trains LeNet for 10 epochs with plain minibatch SGD at learning rate 0.1 and
# reaches about 0.735 validation accuracy; on this CPU that takes well over a minute
# with the book's own loader. Every training cell of this companion runs under a *budget*
# chosen by the `CNNLIB_BUDGET` environment variable: `quick` (the default, what
# the website shows and CI runs) or `full` (exactly the book's settings). The quick
# budget prints what it changes. The architecture stays the notes' LeNet; only how we
# train it differs.

# %%
budget = get_budget("lenet")
print(budget.describe())

# %% [markdown]
# Why does plain SGD struggle here? With sigmoids, every layer squeezes its output
# into $(0, 1)$ and the gradient shrinks a little more at each layer on the way back,
# so the first epochs barely move the loss. Adam rescales each parameter's step by
# the size of its recent gradients, which gets past that plateau at once. The cosine
# schedule lowers the learning rate smoothly to zero by the last batch, so the final
# epoch settles instead of bouncing.
#
# The `Trainer` picks a GPU if there is one, shows a progress bar and a live plot of
# the loss and accuracy that redraws in place, and returns the history of the run.
#
# On a CPU, cnnlib runs the same computation faster than the book's loop in two ways
# you never see: the whole data set sits in memory as tensors, so a batch is a slice
# rather than 128 images decoded one by one, and LeNet's 2×2 average pooling takes a
# path written for exactly that case (`cnnlib.models.fastpool`). A third is yours to switch
# on for models without batch norm or dropout: `TrainConfig(split_batch=2)` cuts each
# batch in two halves that train on two cores at once, their gradients adding up to
# the whole batch's. A benchmark in the repository (`benchmarks/README.md`) measures
# them against d2l's own trainer; its numbers are on the
# [results page](../book/results.md).
#
# `budget.train(model)` loads the data the budget names, trains, and checks the run
# against the budget's *floor*: whatever the machine, the notes' LeNet must reach at
# least 80% validation accuracy under the quick budget. (The full budget reproduces the
# book's slower run, so there we only ask for 70%.) Below its floor the cell fails and
# says by how much.

# %% tags=["nbval-ignore-output"]
run = budget.train(model)
history, data = run.history, run.data

# %% tags=["nbval-ignore-output"]
history

# %% [markdown]
# ## Learning curves
#
# Training loss (solid) and validation loss (dashed) fall together, and the two
# accuracy curves stay close: with 61,706 parameters and 60,000 images, LeNet is far
# too small to memorise the training set in a few epochs. The first epoch's training
# numbers look worse than its validation numbers because they are averages over an
# epoch during which the network was still learning, while validation is measured at
# the epoch's end.

# %%
plot_history(history)

# %% [markdown]
# ## Where LeNet goes wrong
#
# Accuracy is one number; a *confusion matrix* shows which classes are confused with
# which. Row $i$, column $j$ is the fraction of validation images of class $i$ that
# the network labelled $j$, so the diagonal holds each class's accuracy.

# %%
probs, y_val = predict(model, data.val_batches())
y_hat = probs.argmax(dim=1)
cm = confusion_matrix(y_val, y_hat, num_classes=len(LABELS))
plot_confusion_matrix(cm, LABELS, title="LeNet on the validation set")

# %% [markdown]
# The hard classes are the ones that looked alike in the grid above: shirts, T-shirts,
# pullovers and coats are mistaken for one another, while trousers, bags, sandals and
# sneakers are almost always right. The per-class accuracies:

# %% tags=["nbval-ignore-output"]
per_class = cm.diag() / cm.sum(dim=1)
for label, acc in sorted(zip(LABELS, per_class.tolist(), strict=True), key=lambda t: t[1]):
    print(f"{label:<12} {acc:.3f}")

# %% [markdown]
# Mistakes made with high confidence are the most instructive: the network was sure,
# and wrong. Many of them are genuinely ambiguous pictures, and a few look like
# labelling errors in the data set.

# %%
show_most_confident_mistakes(data.val_images, y_val, probs, LABELS, k=8)

# %% [markdown]
# ## A modern LeNet
#
# Chapter 8 brings three ideas that LeNet's authors did not have: the ReLU activation
# (section 8.1), max pooling instead of averaging, and batch normalisation (section
# 8.5), which keeps every layer's inputs centred and scaled while the weights change.
# `ModernLeNet` keeps LeNet's layout and channel counts and swaps in these parts.

# %%
modern = ModernLeNet()
modern.layer_summary((1, 1, 28, 28))
print(f"ModernLeNet has {modern.num_parameters():,} parameters "
      f"({modern.num_parameters() - model.num_parameters()} more, all in batch norm)")

# %% [markdown]
# Its quick budget stays with the book's SGD and learning rate 0.1, adding momentum
# and the same cosine decay, for even fewer epochs, and raises the floor to 88%.

# %%
modern_budget = get_budget("modern_lenet")
print(modern_budget.describe())

# %% tags=["nbval-ignore-output"]
modern_history = modern_budget.train(modern).history

# %% [markdown]
# Side by side: the modern network starts where the classic one ends, in fewer epochs.

# %%
plot_history({"LeNet": history, "modern LeNet": modern_history})

# %% tags=["nbval-ignore-output"]
for name, h in (("LeNet", history), ("modern LeNet", modern_history)):
    final = h.final()
    print(f"{name:<13} val acc {final['val_acc']:.4f} after {len(h)} epochs, "
          f"{sum(h.seconds):.0f} s, {final['images_per_s']:,.0f} images/s")

# %% [markdown]
# ## Shipped weights
#
# Training takes a minute, but a page that only wants to *look* at a trained LeNet
# (its kernels and feature maps) should not have to wait. `cnnlib` ships the weights
# of the notes' LeNet trained for 10 epochs on all 60,000 images; the JSON file beside
# them records the command, settings, accuracy, hardware and versions. Loading checks
# that the file fits the architecture and says which model it was made for if not.

# %%
pretrained = pretrained_lenet()
saved = read_checkpoint(WEIGHTS_PATH)
print(saved["architecture"]["class"], f"{saved['architecture']['num_parameters']:,} parameters")

# %% tags=["nbval-ignore-output"]
pretrained_loss, pretrained_acc = evaluate(pretrained, data.val_batches())
print(f"shipped LeNet: validation accuracy {pretrained_acc:.4f}")

# %%
assert pretrained_acc >= 0.85, pretrained_acc

# %% [markdown]
# ## Looking inside: the feature-map explorer
#
# What does the trained network compute for one picture? The explorer runs a test
# image (or one you upload: it is turned grey, shrunk to 28 × 28 and inverted if its
# background is light, because Fashion-MNIST garments are light on black) through the
# shipped LeNet and draws every layer's output: the six maps of the first convolution,
# their pooled versions, the sixteen maps of the second convolution, then the dense
# layers as strips of bars, and finally the class probabilities. Below the picture are
# the learned kernels of both convolutions. The menu offers one image per class and a
# few that LeNet gets wrong; the slider reaches any of the 10,000 test images. On the
# website, the menu's images were run through the same network beforehand (uploads and
# the slider need a running notebook).

# %% tags=["nbval-ignore-output"]
feature_explorer = FeatureMapExplorer(model=pretrained)
feature_explorer

# %% [markdown]
# The explorer keeps what it drew, so we can check it against a plain forward pass:
# its probabilities are the softmax of the model's output for the same image.

# %%
X_probe = feature_explorer.input_image[None, None]  # (1, 1, 28, 28)
with torch.no_grad():
    reference = torch.softmax(pretrained(X_probe), dim=1)[0]
assert torch.allclose(feature_explorer.probe.probs, reference, atol=1e-6)
print("input:", feature_explorer.source)
print("predicted:", LABELS[int(reference.argmax())])

# %% [markdown]
# To compare images, here is the explorer's content for a few chosen test images at
# once: three that LeNet classifies correctly and one it gets wrong. Each row
# shows the image, the output of each convolution and pooling stage, and the class
# probabilities (blue: right, red: wrong).

# %%
val_images, val_labels = data.val_images, data.val_labels  # (10000, 28, 28) uint8, (10000,)
val_probs = class_probabilities(pretrained, val_images)  # (10000, 10)
chosen = choose_examples(val_probs, val_labels, num_correct=3, num_wrong=1)
feature_map_gallery(pretrained, val_images[chosen], val_labels[chosen])

# %% [markdown]
# ## Summary
#
# * LeNet is a convolutional encoder (two convolution, sigmoid and pooling stages)
#   followed by a dense block; flattening turns the last feature maps into one vector
#   per image.
# * A few thousand convolution weights, shared across positions, extract the features;
#   most parameters sit in the first dense layer.
# * How a network is trained matters as much as its layers for a short budget: Adam and
#   a decaying learning rate take the book's LeNet past 80% in a few epochs.
# * ReLU, max pooling and batch normalisation, with the same layout, push accuracy to
#   about 90% in even fewer epochs.
#
# ## Exercises
#
# 1. Set `CNNLIB_BUDGET=full` before starting the kernel and rerun the training cell:
#    how does plain SGD at lr 0.1 compare with the quick budget after 4 epochs?
# 2. Replace only the sigmoids of `LeNet` with ReLU (keep average pooling and no batch
#    norm). Which of the modern LeNet's three changes gives most of the improvement?
# 3. Look at the most confident mistakes again: which would *you* have labelled
#    differently? What does that say about the best accuracy any model can reach?
#
# **Graded assignment.** In this section's assignment you compute the flattened size for
# any input and padding, build a LeNet variant that matches a target table, and train it
# past an accuracy floor in under a minute on a CPU; exercises 1 and 2 are among its
# questions. Public checks tell you what is wrong while you work, and hidden tests on
# fresh random inputs grade your answers.
# <a href="../assignments/7_6_lenet.ipynb" download>Download the student notebook</a>;
# instructors build and grade it as the [Instructors' guide](../book/instructors.md)
# explains.
