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
# in the notes and follow an image's shape through it. We look at the output layer
# the 1998 LeNet-5 had instead of softmax, then train the network under a short
# "quick" budget (the page says what it changes compared with the book, and the
# training cells print how long they took on your machine), watch the loss and
# accuracy curves, and ask where it still goes wrong: a confusion matrix and the
# pictures it misclassifies with the most confidence. Finally a *modern* LeNet, with
# the same layout but ReLU, max pooling and batch normalisation, shows how much those
# later ideas are worth.

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
import json

import torch
import torch.nn.functional as F
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
# thousand (the official test split) serve as our validation set, as in D2L.
# `FashionMNIST` reads the official files once and keeps both splits in memory as 8-bit
# tensors, so a batch is a slice of a tensor, with no image converted one at a time.

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
# Following a single random 28 × 28 image through the network shows what each layer
# does to the shape: the convolutions change the number of channels, the poolings
# halve height and width, and `Flatten` joins the 16 maps of 5 × 5 into one vector.
# The loop is the notes' `layer_summary`, run on the layers above.

# %%
X = torch.randn(1, 1, 28, 28)
for layer in net:
    X = layer(X)
    print(f"{layer.__class__.__name__:<9} output shape: {X.shape}")

# %% [markdown]
# Most of the parameters sit in the first dense layer (400 × 120 weights). The two
# convolutions together have only 2,572: a kernel is shared by every position of the
# image, which is the saving section 7.1 promised.

# %%
for name, p in net.named_parameters():
    print(f"{name:<10} {str(tuple(p.shape)):<16} {p.numel():>6,}")
print(f"{'total':<27}{sum(p.numel() for p in net.parameters()):>6,}")

# %% [markdown]
# ## The output layer of the original LeNet-5
#
# Our LeNet, like D2L's, ends with a linear layer of ten class scores, which softmax
# turns into probabilities and cross-entropy trains. The LeNet-5 of
# [LeCun et al. (1998)](http://yann.lecun.com/exdb/publis/pdf/lecun-98.pdf) ended
# differently (section II-B of the paper). Its last hidden layer, F6, has 84 units, and
# its output layer has one *Euclidean radial basis function* (RBF) unit per class. Unit
# $i$ holds a prototype vector $\mathbf{w}_i$ of 84 entries, each $+1$ or $-1$, and
# outputs the squared distance between F6's output $\mathbf{x}$ and its prototype:
#
# $$y_i = \sum_{j=1}^{84} (x_j - w_{ij})^2 = \lVert \mathbf{x} - \mathbf{w}_i \rVert^2 .$$
#
# A small $y_i$ is a good match, and the predicted class is the one with the smallest
# $y_i$. The paper reads $y_i$ as the unnormalised negative log-likelihood of a Gaussian
# centred on $\mathbf{w}_i$, which is why D2L speaks of a Gaussian activation. The
# prototypes were not learned: the authors drew them by hand as stylised 7 × 12 bitmaps
# of the characters (hence 84 units in F6), so that characters that look alike, such as
# a capital O, a lower-case o and a zero, get prototypes close to each other. The values
# ±1 lie well inside the range of F6's scaled tanh, so F6 can reach them without
# saturating.
#
# The simplest loss the paper considers asks only that F6's output come close to the
# right prototype: the correct class's $y_c$, averaged over the images (section II-C).
# The paper names the weaknesses of that loss. Were the prototypes learned as well, it
# would have a useless minimum, with every prototype equal and F6 constant, so nothing
# is recognised but the loss is zero. And nothing pushes the output *away* from the
# wrong classes: the classes do not compete. The paper's remedy adds, for every image, a
# term that raises the wrong classes' distances,
#
# $$E = y_c + \log\Big(e^{-j} + \sum_i e^{-y_i}\Big),$$
#
# where $j$ is a positive constant (it stands for a "rubbish" class, and stops the
# distances of classes that are already far away from being pushed further). Without the
# $e^{-j}$, this is $-\log \operatorname{softmax}(-\mathbf{y})_c$: exactly the
# cross-entropy of a softmax over the scores $-y_i$. A few made-up numbers check it:

# %%
y = torch.tensor([[3.0, 0.5, 4.0, 6.0]])  # distances of one image to 4 prototypes
c = torch.tensor([1])  # its true class
print(f"cross-entropy of softmax(-y):  {F.cross_entropy(-y, c):.6f}")
for j in (1.0, 5.0, 20.0):
    paper = y[0, c] + torch.log(torch.exp(torch.tensor(-j)) + torch.exp(-y).sum())
    print(f"the paper's loss with j = {j:>4}: {paper.item():.6f}")

# %% [markdown]
# Fixed prototypes also make the RBF layer a linear layer in disguise. Expanding the
# square, $y_i = \lVert\mathbf{x}\rVert^2 - 2\,\mathbf{w}_i \cdot \mathbf{x} +
# \lVert\mathbf{w}_i\rVert^2$, and with ±1 entries $\lVert\mathbf{w}_i\rVert^2 = 84$
# for every class. Softmax ignores a number added to all scores alike, so
# $\operatorname{softmax}(-\mathbf{y}) = \operatorname{softmax}(2W\mathbf{x})$: the
# same probabilities as a linear layer whose weights are twice the prototypes, frozen,
# and whose bias is zero. We check it with random ±1 prototypes and a random F6 output:

# %%
g = torch.Generator().manual_seed(0)
W = torch.randint(0, 2, (10, 84), generator=g).float() * 2 - 1  # 10 prototypes of ±1
x = torch.rand(84, generator=g) * 2 - 1  # an F6 output
distances = ((x - W) ** 2).sum(dim=1)  # the RBF layer: (10,)
torch.testing.assert_close(torch.softmax(-distances, 0), torch.softmax(2 * W @ x, 0))
print("softmax(-RBF distances) == softmax(linear layer with weights 2W, no bias)")

# %% [markdown]
# So a learned linear layer with a bias can do everything the fixed prototypes did, and
# more. That is one reason it replaced them. Another is that nobody has to design a code
# for each class: a bitmap suits printed characters, but what would the code of a sandal
# be, or of each of a thousand ImageNet classes? And softmax with cross-entropy, the
# plain maximum-likelihood loss for a choice among classes
# ([D2L 4.1](https://d2l.ai/chapter_linear-classification/softmax-regression.html)),
# has the competition between classes built in, where the paper had to add it. D2L's
# LeNet, like ours, leaves the Gaussian layer out and says so
# ([D2L 7.6.1](https://d2l.ai/chapter_convolutional-neural-networks/lenet.html#lenet)).

# %% [markdown]
# ## Training under a budget
#
# The network we train is `cnnlib.models.lenet.LeNet`. Its `net` attribute holds the
# layers above, in the same order and with the same settings, plus the Xavier
# initialisation D2L applies (`init_cnn`): it scales each layer's starting weights to its
# number of inputs and outputs, which matters for a deep stack of sigmoids. One
# substitution is made for speed, and the printout shows it: the two pooling layers are
# `FastAvgPool2d`s from `cnnlib.models.fastpool`. A `FastAvgPool2d` *is* an
# `nn.AvgPool2d` (a subclass, with the same settings); for LeNet's case, a 2 × 2 window
# with stride 2 on a CPU, it computes the same averages with a few whole-tensor additions
# instead of PyTorch's general pooling kernel, which is slow on maps this small. It keeps
# its own name so that a listing of the model says what runs. Here it is next to the
# notes' `nn.AvgPool2d`, on the same random feature maps, forward and backward:

# %%
model = LeNet()
fast_pool, notes_pool = model.net[2], net[2]
print(fast_pool, "| an nn.AvgPool2d:", isinstance(fast_pool, nn.AvgPool2d))
print(notes_pool)
maps = torch.rand(8, 6, 28, 28, generator=torch.Generator().manual_seed(0), requires_grad=True)
upstream = torch.randn(8, 6, 14, 14, generator=torch.Generator().manual_seed(1))
fast, notes = fast_pool(maps), notes_pool(maps)
(grad_fast,) = torch.autograd.grad(fast, maps, upstream)
(grad_notes,) = torch.autograd.grad(notes, maps, upstream)
print(f"largest difference of the averages:  {(fast - notes).abs().max():.1e}")
print(f"largest difference of the gradients: {(grad_fast - grad_notes).abs().max():.1e}")

# %% [markdown]
# The gradients agree exactly. The averages differ only by rounding, in the last binary
# digit or two of a 32-bit float, because the four numbers of a window are added in
# another order.
# Everything else about the model is the notes' LeNet: the same layers, settings and
# parameter shapes (a hidden cell checks this for the tests).

# %% tags=["remove-cell"] jupyter={"source_hidden": true}
# Every layer with every setting, as printed; only the pools' name differs.
assert str(model.net) == str(net).replace("AvgPool2d", "FastAvgPool2d")
assert all(isinstance(ours, type(notes)) for ours, notes in zip(model.net, net, strict=True))
assert [p.shape for p in net.parameters()] == [p.shape for p in model.net.parameters()]
assert (fast - notes).detach().abs().max().item() < 1e-6 and torch.equal(grad_fast, grad_notes)

# %% [markdown]
# D2L trains LeNet for 10 epochs with plain minibatch SGD at learning rate 0.1, on
# batches of 128 ([D2L 7.6.2](https://d2l.ai/chapter_convolutional-neural-networks/lenet.html#training)).
# Every training cell of this companion runs under a *budget* chosen by the
# `CNNLIB_BUDGET` environment variable: `quick` (the default, what the website shows and
# CI runs) or `full` (the book's settings). The quick budget prints what it changes. The
# architecture stays the notes' LeNet; only how we train it differs.

# %%
budget = get_budget("lenet")
print(budget.describe())

# %% [markdown]
# Why does plain SGD struggle here? The sigmoid's slope is at most 1/4, so on the way
# back each sigmoid layer multiplies the gradient by a factor of at most 1/4, and unless
# the weights make up for it, the early layers' first updates are small: with the book's
# settings the loss is slow to leave its starting value (exercise 1 lets you watch it).
# Adam rescales each parameter's step by the size of its recent gradients, so small
# gradients still give steps of a useful size. The cosine schedule lowers the learning
# rate smoothly towards zero over the run, so the final epoch settles instead of
# bouncing.
#
# The `Trainer` picks a GPU if there is one, shows a progress bar and a live plot of
# the loss and accuracy that redraws in place, and returns the history of the run.
#
# On a CPU, cnnlib runs the same computation faster than the book's loop in two ways:
# the whole data set sits in memory as tensors, so a batch is a slice rather than 128
# images converted one by one, and the pooling path shown above. A third is yours to
# switch on for models without batch norm or dropout: `TrainConfig(split_batch=2)` cuts
# each batch in two halves that train on two cores at once, their gradients adding up to
# the whole batch's. A benchmark in the repository (`benchmarks/README.md`) measures them
# against d2l's own trainer; its numbers are on the [results page](../book/results.md).
#
# `budget.train(model)` loads the data the budget names, trains, and checks the run
# against the budget's *floor*, the lowest final validation accuracy it accepts: under
# the quick budget the notes' LeNet must reach `0.80` on any machine (the full budget,
# the book's slower run, has a lower floor). Below its floor the cell fails and says by
# how much. Its last line says what the run reached and how long it took on this
# machine; the time depends on the machine and on what else it is running.

# %% tags=["nbval-ignore-output"]
run = budget.train(model)
history, data = run.history, run.data

# %% tags=["nbval-ignore-output"]
history

# %% [markdown]
# ## Learning curves
#
# Training loss (solid) and validation loss (dashed) fall together, and the two
# accuracy curves stay close: in four epochs the network has not begun to fit the
# training images much better than images it never saw (the table above prints both
# accuracies for every epoch). The first epoch's training
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
# The hard classes are the ones that looked alike in the grid above: shirts are taken
# for T-shirts, pullovers and coats, and pullovers and coats for each other, while
# trousers, bags, sandals and sneakers are almost always right. The per-class
# accuracies, worst first:

# %% tags=["nbval-ignore-output"]
per_class = cm.diag() / cm.sum(dim=1)
for label, acc in sorted(zip(LABELS, per_class.tolist(), strict=True), key=lambda t: t[1]):
    print(f"{label:<12} {acc:.3f}")

# %% [markdown]
# Mistakes made with high confidence are the most instructive: the network was sure,
# and wrong. Each picture is titled with its label and LeNet's guess; judge for
# yourself how many you would have got right (exercise 3 asks this).

# %%
show_most_confident_mistakes(data.val_images, y_val, probs, LABELS, k=8)

# %% [markdown]
# ## A modern LeNet
#
# Chapter 8 brings three ideas that became standard after LeNet: the ReLU activation
# and max pooling instead of averaging, both in AlexNet (section 8.1), and batch
# normalisation (section 8.5), which re-centres and rescales each layer's inputs with
# the mean and variance of the current minibatch. `ModernLeNet` keeps LeNet's layout and
# channel counts and swaps in these parts.

# %%
modern = ModernLeNet()
modern.layer_summary((1, 1, 28, 28))
print(f"ModernLeNet has {modern.num_parameters():,} parameters "
      f"({modern.num_parameters() - model.num_parameters()} more, all in batch norm)")

# %% [markdown]
# Its quick budget stays with SGD at the book's learning rate 0.1, adds momentum and the
# same cosine decay, trains for fewer epochs, and raises the floor to `0.88`.

# %%
modern_budget = get_budget("modern_lenet")
print(modern_budget.describe())

# %% tags=["nbval-ignore-output"]
modern_history = modern_budget.train(modern).history

# %% [markdown]
# Side by side, and then the numbers: how far each network got, how long each took on
# this machine, and where the modern one stood after its first epoch.

# %%
plot_history({"LeNet": history, "modern LeNet": modern_history})

# %% tags=["nbval-ignore-output"]
for name, h in (("LeNet", history), ("modern LeNet", modern_history)):
    final = h.final()
    print(f"{name:<13} val acc {final['val_acc']:.4f} after {len(h)} epochs, "
          f"{sum(h.seconds):.0f} s, {final['images_per_s']:,.0f} images/s")
print(f"modern LeNet after its first epoch: val acc {modern_history.val_acc[0]:.4f}")

# %% [markdown]
# ## Shipped weights
#
# Training takes a while (the cells above print how long), and a page that only wants to
# *look* at a trained LeNet (its kernels and feature maps) should not have to wait.
# `cnnlib` ships the weights of the notes' LeNet trained on all 60,000 images, with
# the settings the JSON file beside them records (printed below; they are not the quick
# budget's), along with the command, accuracy, hardware and versions. Loading checks
# that the file fits the architecture and says which model it was made for if not.

# %%
pretrained = pretrained_lenet()
saved = read_checkpoint(WEIGHTS_PATH)
print(saved["architecture"]["class"], f"{saved['architecture']['num_parameters']:,} parameters")
record = json.loads(WEIGHTS_PATH.with_suffix(".json").read_text())
print("trained with:", {k: record["config"][k] for k in ("epochs", "optimizer", "lr", "schedule")})

# %% tags=["nbval-ignore-output"]
pretrained_loss, pretrained_acc = evaluate(pretrained, data.val_batches())
print(f"shipped LeNet: validation accuracy {pretrained_acc:.4f}")

# %% tags=["remove-cell"] jupyter={"source_hidden": true}
assert pretrained_acc >= 0.85, pretrained_acc

# %% [markdown]
# ## Looking inside: the feature-map explorer
#
# What does the trained network compute for one picture? The explorer runs a picture
# through the shipped LeNet and draws every layer's output: the six maps of the first
# convolution, their pooled versions, the sixteen maps of the second convolution, then the
# dense layers as strips, beside the ten class probabilities. Draw a garment on the black
# pad (light on black, as Fashion-MNIST's garments are) and the maps and probabilities
# follow your stroke. The menu offers one test image per class and a few that LeNet gets
# wrong; an upload is turned grey, shrunk to 28 × 28 and inverted if its background is
# light. Below the maps are the learned kernels of both convolutions, the same for every
# picture. In a notebook PyTorch computes every number; on the website the same explorer
# runs LeNet in your browser.

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
# probabilities, with the predicted class in blue when it is right and in red when it
# is wrong.

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
# * LeNet-5's original output layer measured the distance from the last hidden layer
#   to a fixed, hand-drawn prototype per class; a learned linear layer with softmax and
#   cross-entropy does the same job and more, and replaced it.
# * For a short budget, how a network is trained matters as much as its layers: Adam
#   and a decaying learning rate take the book's LeNet past the quick budget's floor in
#   four epochs.
# * ReLU, max pooling and batch normalisation, with the same layout, reach a higher
#   validation accuracy in fewer epochs (the comparison above prints both).
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
# any input and padding, build a LeNet variant that matches a target table, train it past
# an accuracy floor within a fixed budget, explain what each layer does to the gradient,
# and predict where LeNet's parameters are. Public checks tell you what is wrong while you
# work, and hidden tests, on inputs you have not seen, grade your answers.
# <a href="../assignments/7_6_lenet.ipynb" download>Download the student notebook</a>;
# instructors build and grade it as the [Instructors' guide](../book/instructors.md)
# explains.
