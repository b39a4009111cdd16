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
# # 8.5 Batch Normalization
#
# Companion to D2L section 8.5,
# [Batch Normalization](https://d2l.ai/chapter_convolutional-modern/batch-norm.html).
#
# The networks of the previous sections got deeper, and deeper networks got harder to
# train. Batch normalisation ([Ioffe and Szegedy, 2015](https://arxiv.org/abs/1502.03167))
# re-centres and re-scales every channel using the statistics of the current minibatch,
# then lets the network choose its own scale and offset. It lets deep networks train
# with larger learning rates, although *why* it helps is less settled than its name
# suggests (we come back to that below). Here the lesson *is* the code: we write the
# normalisation function and the layer ourselves, check them against `cnnlib` and
# against PyTorch's `nn.BatchNorm2d` in training and in evaluation mode, and pin down
# the two places where the book's code behaves differently from PyTorch. Then we put
# batch norm into LeNet, train it under the quick budget, watch what it changes inside
# the network while it trains, and look at the scale and shift the first layer learned.

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
import copy

import torch
from torch import nn

from cnnlib import layers, setup
from cnnlib.explain import bn_stats
from cnnlib.models import get_model
from cnnlib.models.cost import count_flops, count_parameters
from cnnlib.runs import get_budget
from cnnlib.viz.architecture import show_architecture
from cnnlib.viz.common import new_figure
from cnnlib.viz.training import plot_history

seed = setup(0)

# %% [markdown]
# ## The idea
#
# We already standardise the *input* of a network (pixels scaled to a common range)
# because optimisation is easier when features have similar scales. Batch norm applies
# the same medicine *inside* the network, at every layer, and recomputes it for every
# minibatch $\mathcal{B}$ while training. For each channel it computes the minibatch
# mean $\hat{\boldsymbol{\mu}}_\mathcal{B}$ and variance $\hat{\boldsymbol{\sigma}}^2_\mathcal{B}$
# and outputs
#
# $$\mathrm{BN}(\mathbf{x}) = \boldsymbol{\gamma} \odot
#   \frac{\mathbf{x} - \hat{\boldsymbol{\mu}}_\mathcal{B}}
#        {\sqrt{\hat{\boldsymbol{\sigma}}^2_\mathcal{B} + \epsilon}} + \boldsymbol{\beta}.$$
#
# The small $\epsilon$ keeps the division safe. The *scale* $\boldsymbol{\gamma}$ and
# *shift* $\boldsymbol{\beta}$ are learned like any weight, so normalising costs the
# network nothing: if the raw scale was useful, it can learn it back.
#
# Which numbers count as "a channel's values" depends on the layer before:
#
# * after a fully connected layer, input $(N, C)$: each of the $C$ features is
#   normalised over the $N$ examples;
# * after a convolution, input $(N, C, H, W)$: each channel is normalised over the
#   examples *and* all $H \times W$ positions, so one channel keeps one scale and one
#   shift everywhere in the image, just as it keeps one kernel.
#
# Three consequences worth remembering:
#
# * Batch norm needs reasonable minibatches: after a dense layer, a batch of one example
#   has zero variance and nothing left to normalise. The noise in the statistics of
#   small random batches acts as a mild regulariser.
# * Bias terms in the layer just before batch norm are redundant: the mean subtraction
#   cancels them (exactly in training mode; in evaluation mode the moving mean has
#   absorbed them), and $\boldsymbol{\beta}$ takes over their job.
# * At prediction time there is no batch to average over, or there should not be: an
#   image's class must not depend on which other images it was sent with. So the layer
#   keeps *moving averages* of the mean and variance while training and uses those when
#   evaluating. That is the difference between `net.train()` and `net.eval()`.

# %% [markdown]
# ### Why does it help? The internal-covariate-shift story and its doubts
#
# Ioffe and Szegedy motivated batch norm with *internal covariate shift*: while the
# early layers learn, the distribution of the values they hand to the later layers
# keeps changing, so each later layer chases a moving target; fixing every layer's
# mean and variance was meant to stop that chase. The name and the story stuck, but
# both have been questioned.
#
# * [Santurkar et al. (2018), "How does batch normalization help
#   optimization?"](https://arxiv.org/abs/1805.11604) measured the shift directly. A
#   network with batch norm did not show less of it than one without; and when they
#   added random noise *after* each batch-norm layer, so that the distributions moved
#   around more than in a plain network, it still trained about as well as with
#   ordinary batch norm. Their explanation is different: batch norm makes the loss surface
#   smoother (its gradients change more slowly from one point to the next), so larger
#   steps are safe.
# * The Discussion at the end of [D2L 8.5](https://d2l.ai/chapter_convolutional-modern/batch-norm.html)
#   calls the name a misnomer (the drift of a layer's values during training is not
#   covariate shift in the statistical sense), calls the explanation an under-specified
#   intuition, and concludes that reducing internal covariate shift does not seem to be
#   a valid explanation of why batch norm works.
#
# What is not in doubt is what the layer computes and what it does in practice: it lets
# us train with larger learning rates and keeps the values inside the network in a
# range we choose. Those are the parts this page measures; the *reason* they help
# is still studied.

# %% [markdown]
# ## Batch normalisation from scratch
#
# The function below does one batch-norm step. It returns the output and the updated
# moving statistics instead of changing anything in place, so it is easy to test. We
# follow PyTorch's conventions exactly, so that our layer can be checked against
# `nn.BatchNorm2d`:
#
# * `training` says which statistics to use (the batch's, or the moving averages);
# * the moving averages are updated as
#   `moving = (1 - momentum) * moving + momentum * batch_statistic`, with
#   `momentum = 0.1`: each new batch gets 10% of the weight;
# * $\mathbf{x}$ is normalised with the *biased* batch variance (divide by $n$), but the
#   moving variance is fed the *unbiased* one (divide by $n - 1$), because it is meant
#   to estimate the variance of the whole data set, not of this batch.
#
# The parameters have one number per channel, shape $(C,)$ like PyTorch's, and are
# reshaped to broadcast against $(N, C)$ or $(N, C, H, W)$.


# %%
def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum, training):
    """One batch-norm step on X (N, C) or (N, C, H, W); the other tensors are (C,).

    Returns Y (shaped like X) and the new moving mean and variance (C,).
    """
    assert X.dim() in (2, 4), X.shape
    axes = (0,) if X.dim() == 2 else (0, 2, 3)  # every axis except the channel axis
    shape = (1, -1) if X.dim() == 2 else (1, -1, 1, 1)  # (C,) -> (1, C) or (1, C, 1, 1)
    if training:
        mean = X.mean(dim=axes)  # (C,)
        var = X.var(dim=axes, correction=0)  # (C,), biased: divides by n
        n = X.numel() // X.shape[1]  # values per channel
        with torch.no_grad():  # statistics to remember, not part of the gradient
            moving_mean = (1 - momentum) * moving_mean + momentum * mean
            moving_var = (1 - momentum) * moving_var + momentum * var * n / (n - 1)
    else:
        mean, var = moving_mean, moving_var
    X_hat = (X - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    Y = gamma.reshape(shape) * X_hat + beta.reshape(shape)  # scale and shift
    return Y, moving_mean, moving_var


# %% [markdown]
# The layer holds $\boldsymbol{\gamma}$ and $\boldsymbol{\beta}$ as parameters (the
# optimiser trains them) and the moving statistics as *buffers*: saved with the model
# and moved by `.to(device)`, but never touched by the optimiser. The mode comes from
# the module's own `self.training` flag, which `net.train()` and `net.eval()` set.


# %%
class BatchNorm(nn.Module):
    """Batch norm for (N, C) or (N, C, H, W) inputs with C = num_features."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.gamma = nn.Parameter(torch.ones(num_features))  # scale, starts as "keep"
        self.beta = nn.Parameter(torch.zeros(num_features))  # shift, starts as "none"
        self.register_buffer("moving_mean", torch.zeros(num_features))
        self.register_buffer("moving_var", torch.ones(num_features))

    def forward(self, X):
        Y, self.moving_mean, self.moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var,
            self.eps, self.momentum, self.training)
        return Y


# %% [markdown]
# In training mode, with $\boldsymbol{\gamma} = 1$ and $\boldsymbol{\beta} = 0$, every
# output channel should have mean 0 and variance 1 over the batch, whatever the input's
# scale:

# %%
X = torch.randn(16, 3, 8, 8) * 5 + 2  # (N, C, H, W), far from mean 0 and variance 1
Y = BatchNorm(3)(X).detach()
print("input  per-channel mean:    ", X.mean(dim=(0, 2, 3)))
print("input  per-channel variance:", X.var(dim=(0, 2, 3), correction=0))
print("output per-channel mean:    ", Y.mean(dim=(0, 2, 3)).abs().round(decimals=4))
print("output per-channel variance:", Y.var(dim=(0, 2, 3), correction=0))

# %% [markdown]
# ## Checking against cnnlib and PyTorch
#
# `cnnlib.layers.BatchNorm` is the library's from-scratch layer (it adds clear error
# messages and takes `num_dims`, 2 or 4, to reject inputs of the wrong rank), and
# `nn.BatchNorm2d` is PyTorch's. We give all three the same non-trivial
# $\boldsymbol{\gamma}$ and $\boldsymbol{\beta}$ (so a mix-up of the two would show),
# feed them the same three training batches, and compare the outputs and the moving
# statistics after every step; then we switch to evaluation mode and compare again.
# Last, we compare the gradients, which is what training actually uses.

# %%
def three_layers(C, num_dims):
    """Our layer, cnnlib's and PyTorch's, with the same random gamma and beta (C,)."""
    ours, lib = BatchNorm(C), layers.BatchNorm(C, num_dims=num_dims)
    ref = nn.BatchNorm2d(C) if num_dims == 4 else nn.BatchNorm1d(C)
    gamma, beta = torch.rand(C) + 0.5, torch.randn(C)
    with torch.no_grad():
        for bn in (ours, lib):
            bn.gamma.copy_(gamma)
            bn.beta.copy_(beta)
        ref.weight.copy_(gamma)  # PyTorch calls gamma "weight" and beta "bias"
        ref.bias.copy_(beta)
    return ours, lib, ref


def check(a, b, what):
    assert torch.allclose(a, b, rtol=1e-5, atol=1e-5), f"{what}: {(a - b).abs().max()}"


for num_dims, shape in ((4, (8, 3, 5, 5)), (2, (8, 3))):
    ours, lib, ref = three_layers(3, num_dims)
    for step in range(3):  # training mode: batch statistics, moving averages updated
        X = torch.randn(shape) * (step + 1) + step
        Y = ours(X)
        check(Y, lib(X), f"{num_dims}-D output vs cnnlib, step {step}")
        check(Y, ref(X), f"{num_dims}-D output vs PyTorch, step {step}")
        check(ours.moving_mean, ref.running_mean, "moving mean")
        check(ours.moving_var, ref.running_var, "moving variance")
        check(lib.moving_var, ref.running_var, "cnnlib's moving variance")
    for bn in (ours, lib, ref):
        bn.eval()  # evaluation mode: the moving averages normalise
    X = torch.randn(shape) * 3 - 1
    check(ours(X), ref(X), f"{num_dims}-D evaluation output vs PyTorch")
    check(lib(X), ref(X), f"{num_dims}-D evaluation output vs PyTorch")
    print(f"{num_dims}-D input {shape}: outputs and moving statistics agree after 3 steps "
          "and in evaluation mode")

# %%
ours, _, ref = three_layers(3, 4)
X = torch.randn(8, 3, 5, 5)
X1, X2 = X.clone().requires_grad_(), X.clone().requires_grad_()
weights = torch.randn(8, 3, 5, 5)  # a loss that weights every output differently
(ours(X1) * weights).sum().backward()
(ref(X2) * weights).sum().backward()
check(X1.grad, X2.grad, "gradient with respect to X")
check(ours.gamma.grad, ref.weight.grad, "gradient with respect to gamma")
check(ours.beta.grad, ref.bias.grad, "gradient with respect to beta")
print("gradients with respect to X, gamma and beta agree")

# %% [markdown]
# Autograd differentiates through the batch mean and variance too: changing one image
# changes the statistics, and so every other image's output. That is part of why batch
# norm works, and the gradient check above includes it.

# %% [markdown]
# ## Training mode and evaluation mode
#
# In training mode an image's output depends on the rest of its batch; in evaluation
# mode it does not. We train a layer's moving averages on a few batches, then send
# the same image once with one set of companions and once with another:

# %%
bn = BatchNorm(3)
for _ in range(20):  # let the moving averages settle on data with mean 2, std 5
    bn(torch.randn(32, 3, 8, 8) * 5 + 2)
print("moving mean:", bn.moving_mean, "\nmoving var: ", bn.moving_var)
image = torch.randn(1, 3, 8, 8) * 5 + 2
batch_a = torch.cat([image, torch.randn(7, 3, 8, 8) * 5 + 2])
batch_b = torch.cat([image, torch.randn(7, 3, 8, 8) + 10])  # very different companions
for mode in ("train", "eval"):
    getattr(bn, mode)()
    same = torch.allclose(bn(batch_a)[0], bn(batch_b)[0])
    print(f"{mode:>5} mode: the image's output is the same in both batches: {same}")

# %% [markdown]
# The moving averages have moved from their starting values (0 and 1) towards the data's
# mean 2 and variance 25, but slowly: with momentum 0.1, after 20 batches the starting
# value still has a weight of $0.9^{20} \approx 0.12$. In evaluation mode no statistics
# are updated, so evaluating a model never changes it.

# %% [markdown]
# ### Where the book's code differs
#
# D2L's `batch_norm` makes two choices that PyTorch does not, and our code (like
# `cnnlib.layers`) follows PyTorch. To see the differences, here is the book's logic
# rewritten on top of our function:

# %%
def batch_norm_book_style(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    """Like D2L 8.5: the mode comes from grad mode, the moving variance gets the biased one."""
    if not torch.is_grad_enabled():
        return batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum, False)
    Y, moving_mean, _ = batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum, True)
    axes = (0,) if X.dim() == 2 else (0, 2, 3)
    moving_var = (1 - momentum) * moving_var + momentum * X.var(dim=axes, correction=0)
    return Y, moving_mean, moving_var.detach()


# %% [markdown]
# **1. The moving variance.** The book blends the *biased* batch variance into the
# moving average. With 4 examples per feature the unbiased estimate is $4/3$ of the
# biased one, so after one step from 1 the two moving variances differ visibly:

# %%
X = torch.randn(4, 3)  # 4 examples of 3 features: n = 4 values per feature
ones, zeros = torch.ones(3), torch.zeros(3)
_, _, var_ours = batch_norm(X, ones, zeros, zeros, ones, 1e-5, 0.1, training=True)
_, _, var_book = batch_norm_book_style(X, ones, zeros, zeros, ones, 1e-5, 0.1)
ref = nn.BatchNorm1d(3)
ref(X)
check(var_ours, ref.running_var, "moving variance vs PyTorch")
print("moving variance, ours = PyTorch:", var_ours)
print("moving variance, book style:    ", var_book)

# %% [markdown]
# After a convolution a channel has $N \times H \times W$ values per batch (for a batch of
# 128 LeNet feature maps of 24 × 24 that is 73,728), so the factor $n / (n - 1)$ is
# practically 1 and the book's models are not harmed. It matters for small batches and
# after fully connected layers, where $n$ is just the batch size.
#
# **2. Which statistics.** The book's function uses the moving averages whenever
# gradients are switched off (`torch.no_grad()`) and the batch statistics whenever they
# are on, whatever `net.eval()` said. The book's trainer always does both together, so
# its results are right. But some tools need gradients in evaluation mode: the
# Grad-CAM maps of section 8.6 differentiate a trained model's output with respect to its
# feature maps, and saliency maps with respect to its input. With the book's layer,
# the same call normalises with the
# batch's statistics:

# %%
bn = BatchNorm(3).eval()
bn.moving_mean.fill_(10.0)  # as if training had seen data with mean 10
X = torch.randn(8, 3, 4, 4)
params = (bn.gamma, bn.beta, bn.moving_mean, bn.moving_var, bn.eps, bn.momentum)
with torch.enable_grad():  # e.g. while computing a saliency map of a model in eval mode
    Y_book, _, _ = batch_norm_book_style(X, *params)
Y_eval, _, _ = batch_norm(X, *params, training=False)
Y_train, _, _ = batch_norm(X, *params, training=True)
print("book style with gradients on = evaluation output:", torch.allclose(Y_book, Y_eval))
print("book style with gradients on = training output:  ", torch.allclose(Y_book, Y_train))

# %% [markdown]
# Our layer (and PyTorch's) takes the mode from `self.training` alone, so `net.eval()`
# means the same thing with gradients on or off.

# %% [markdown]
# ## LeNet with batch normalisation
#
# D2L adds batch norm to the LeNet of section 7.6: after each convolution and each
# hidden dense layer, before the sigmoid. Its LeNet here has no padding in the first
# convolution, so 28 × 28 images shrink to 24, 12, 8 and 4 pixels and the flattened
# features are $16 \times 4 \times 4 = 256$. Written out with our `BatchNorm`:

# %%
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5), BatchNorm(6), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), BatchNorm(16), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
    nn.Linear(16 * 4 * 4, 120), BatchNorm(120), nn.Sigmoid(),
    nn.Linear(120, 84), BatchNorm(84), nn.Sigmoid(),
    nn.Linear(84, 10))

# %% [markdown]
# `cnnlib`'s `bn_lenet_scratch` is the same network with `cnnlib.layers.BatchNorm`
# (plus the Xavier initialisation of section 7.6). Its weights load into our `net`
# unchanged, and then both compute the same outputs in training mode. (We run the
# check on a copy, so that the network we train later starts from untouched moving
# statistics.)

# %%
torch.manual_seed(0)
scratch = get_model("bn_lenet_scratch")
net.load_state_dict(scratch.net.state_dict())  # same names: gamma, beta, moving_mean, ...
scratch_copy = copy.deepcopy(scratch)
X = torch.rand(32, 1, 28, 28)
check(net(X), scratch_copy(X), "our BN-LeNet vs cnnlib's")
check(net[1].moving_mean, scratch_copy.net[1].moving_mean, "first moving mean")
print("our BN-LeNet and cnnlib's bn_lenet_scratch agree")

# %%
scratch.layer_summary((1, 1, 28, 28))

# %% [markdown]
# The *concise* version, `bn_lenet`, uses PyTorch's `nn.BatchNorm2d` after the
# convolutions and `nn.BatchNorm1d` after the dense layers. Same shapes, same
# parameters (`weight` and `bias` are PyTorch's names for $\gamma$ and $\beta$). Built
# from the same seed, it even starts from the same weights as `scratch`, since batch
# norm's $\gamma = 1$, $\beta = 0$ draw no random numbers:

# %%
torch.manual_seed(0)
concise = get_model("bn_lenet")
assert all(torch.equal(p, q) for p, q in zip(scratch.parameters(), concise.parameters(),
                                             strict=True))
concise.layer_summary((1, 1, 28, 28))

# %%
show_architecture(concise, (1, 1, 28, 28), title="BN-LeNet on 28×28 Fashion-MNIST")

# %% [markdown]
# Batch norm adds two learned numbers per channel, 452 in all, to LeNet's weights, and
# little arithmetic (a per-value scale and shift, which the FLOP counter leaves out: it
# counts convolutions and dense layers only).

# %%
for name, model in (("bn_lenet_scratch", scratch), ("bn_lenet", concise)):
    print(f"{name:<17} {count_parameters(model):>6,} parameters, "
          f"{count_flops(model, (1, 1, 28, 28)):>9,} FLOPs per 28×28 image")
bn_params = sum(p.numel() for m in concise.modules()
                if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d) for p in m.parameters())
print(f"of which batch norm: {bn_params} (gamma and beta for 6 + 16 + 120 + 84 channels)")
assert count_parameters(scratch) == count_parameters(concise)

# %% [markdown]
# ## Training under the quick budget
#
# D2L trains BN-LeNet for 10 epochs of plain SGD at learning rate 0.1; its page shows
# the run as a training plot. Batch norm is known for tolerating larger learning rates
# (one of the main claims of Ioffe and Szegedy's paper), and the quick budget uses that:
# a learning rate 3 times the book's with momentum and a cosine decay, for half the
# epochs. The budget table says exactly what changed (`CNNLIB_BUDGET=full` runs the
# book's settings; the [results page](../book/results.md) lists what our runs of both
# budgets reached).

# %%
budget = get_budget("bn_lenet_scratch")
print(budget.describe())

# %% [markdown]
# We train the from-scratch network, whose every batch-norm step runs the few lines
# of Python above. `budget.train` checks the budget's floor, the validation accuracy the
# run must reach; its last line prints the floor next to the accuracy reached. Our
# floors sit a few points below what our own runs reached.

# %% tags=["nbval-ignore-output"]
history = budget.train(scratch).history

# %% [markdown]
# For comparison, the concise network under the same settings. Both start from the same
# initial weights, see the same batches in the same order (the trainer reseeds the
# shuffle every epoch) and do the same arithmetic, so the two runs should track each
# other closely; only floating-point rounding, in PyTorch's faster fused kernel, differs.

# %%
concise_budget = get_budget("bn_lenet")
print(concise_budget.describe())

# %% tags=["nbval-ignore-output"]
concise_history = concise_budget.train(concise).history

# %%
# Same start, same settings, same arithmetic: the two runs must end close together.
assert budget.train_config() == concise_budget.train_config()
gap = abs(history.final()["val_acc"] - concise_history.final()["val_acc"])
assert gap < 0.01, gap
print("from scratch and concise: final validation accuracies less than 0.01 apart")

# %% [markdown]
# The curves lie on top of each other. Plain LeNet in section 7.6 sat on a plateau with
# SGD, and its quick budget switched to Adam to get off it; with batch norm, SGD with
# momentum learns from the first epoch on.

# %%
plot_history({"from scratch": history, "concise": concise_history})

# %% tags=["nbval-ignore-output"]
for name, h in (("from scratch", history), ("concise", concise_history)):
    final = h.final()
    print(f"{name:<13} val acc {final['val_acc']:.4f} after {len(h)} epochs, "
          f"{sum(h.seconds):.0f} s, {final['images_per_s']:,.0f} images/s")

# %% [markdown]
# ## Inside the network while it trains
#
# What does batch norm change inside the network? To see it we need a run that was
# recorded while it happened. `scripts/record_bn_snapshots.py` trained two networks
# side by side for one epoch: BN-LeNet, and its *twin*, the same layers with the four
# batch-norm layers taken out (sigmoids, average pooling, the same starting weights;
# the LeNet of section 7.6 is not quite this twin, because it pads its first
# convolution). Both used the settings batch norm makes possible: plain SGD with
# learning rate 0.3 and momentum 0.9, batches of 128, the same batches in the same
# order. At 15 moments, from before the first step to the end of the epoch, the script
# fed the same 256 test images through each network and kept, for every layer, the mean,
# the spread and a histogram of its values. The file ships with `cnnlib`, so the
# explorer below opens instantly.
#
# Pick a step (▶ plays the run) and a layer. The two histograms show what goes *into*
# that layer's sigmoids and what comes out, with and without batch norm (the dashed
# line: the same layer's values before batch norm rescaled them); the right panel sums
# up every layer at once, its sigmoid inputs or outputs as the *summarise* toggle says,
# and so does the status line. Dotted lines mark where the sigmoid saturates (outputs
# below 0.05 or above 0.95, inputs beyond ±2.94): there its slope is under a fifth of its
# largest value, and little gradient gets through.

# %%
from cnnlib.widgets.bn_stats import ActivationStatsExplorer

# %% tags=["nbval-ignore-output"]
stats_explorer = ActivationStatsExplorer()
stats_explorer

# %% [markdown]
# Three things to look for. With batch norm every sigmoid input starts with mean 0 and
# standard deviation 1, in every layer, whatever the weights; training then widens some
# of them on purpose (the learned $\gamma$). Without it, the spread is whatever the
# weights make it: the first convolution's values are squeezed into the sigmoid's
# nearly linear middle. And at this learning rate the plain net's last hidden layer is
# pushed into saturation within about a hundred steps; with its sigmoids stuck near 0 it
# passes almost no gradient back, and the loss sits at $\ln 10 \approx 2.30$ (a guess
# among 10 classes) for most of the epoch, only starting to fall at its end, while the
# net with batch norm learns from the first step. (With the lower learning rates of
# section 7.6 the plain net fares better; this large one is what batch norm buys.) The
# recorded numbers say the same:

# %%
snaps = stats_explorer.snapshots
bn_net, plain_net = snaps.nets["with_bn"], snaps.nets["without_bn"]
bn_blocks, plain_blocks = bn_stats.blocks(bn_net), bn_stats.blocks(plain_net)
inputs = [b.sigmoid_in for b in bn_blocks]
print("step 0, with BN, std of each sigmoid input:",
      [round(float(v), 3) for v in bn_net.std[0, inputs]])
last, bn_last = plain_blocks[-1].sigmoid_out, bn_blocks[-1].sigmoid_out  # last hidden sigmoid
worst = int(plain_net.saturated[:, last].argmax())
print(f"step {snaps.steps[worst]}: {bn_blocks[-1].label}'s sigmoid outputs saturated: "
      f"{float(plain_net.saturated[worst, last]):.0%} without BN, "
      f"{float(bn_net.saturated[worst, bn_last]):.0%} with BN")
print(f"probe loss after {snaps.steps[-1]} steps: {float(bn_net.probe_loss[-1]):.2f} with BN, "
      f"{float(plain_net.probe_loss[-1]):.2f} without")
assert torch.allclose(bn_net.std[0, inputs], torch.ones(4, dtype=torch.float64), atol=1e-3)
assert plain_net.saturated[worst, last] > 0.9 > 0.1 > bn_net.saturated[worst, bn_last]
assert bn_net.probe_loss[-1] < plain_net.probe_loss[-1]

# %% [markdown]
# ## What the first batch-norm layer learned
#
# The first batch-norm layer sits between the first convolution and a sigmoid. Its
# $\gamma$ decides how wide a range of the sigmoid each of the 6 channels uses (a large
# $\gamma$ pushes values into the flat, saturated ends, a small one keeps them in the
# nearly linear middle), and $\beta$ moves the channel's centre off the sigmoid's midpoint.
# Both started at $\gamma = 1$, $\beta = 0$ and were trained like any other weight.

# %%
def show_scale_and_shift(runs):
    """Bar charts of gamma and beta, one bar per channel and run; runs: name -> (gamma, beta)."""
    fig = new_figure(6.5, 3.0)
    axes = fig.subplots(1, 2)
    width = 0.8 / len(runs)
    for k, (name, (gamma, beta)) in enumerate(runs.items()):
        channels = torch.arange(len(gamma)) + k * width
        axes[0].bar(channels, gamma, width, label=name)
        axes[1].bar(channels, beta, width, label=name)
    for ax, title, start in ((axes[0], "scale γ", 1.0), (axes[1], "shift β", 0.0)):
        ax.axhline(start, color="grey", lw=0.8, ls="--")  # where training started
        ax.set_title(f"{title} of the first batch-norm layer")
        ax.set_xlabel("channel")
        ax.set_xticks(torch.arange(len(gamma)) + 0.4 - width / 2, range(len(gamma)))
        ax.legend()
    return fig


first, first_concise = scratch.net[1], concise.net[1]
show_scale_and_shift({
    "from scratch": (first.gamma.detach(), first.beta.detach()),
    "concise": (first_concise.weight.detach(), first_concise.bias.detach()),
})

# %% tags=["nbval-ignore-output"]
print("gamma:", first.gamma.detach())
print("beta: ", first.beta.detach())
print("moving mean:", first.moving_mean)
print("moving var: ", first.moving_var)

# %% [markdown]
# The two networks learned nearly the same values, as they should. None of the scales
# stayed at 1: training chose a different operating range of the sigmoid for each
# channel, and where a scale grew well above 1 the channel now uses the sigmoid's
# curved, saturating ends, not just its nearly linear middle. The moving statistics
# are the other half of what the layer learned: they are the per-channel mean and
# variance of the first convolution's output over the training data, and they are what
# normalises every image at prediction time.

# %% tags=["remove-cell"] jupyter={"source_hidden": true}
assert not torch.allclose(first.gamma.detach(), torch.ones(6)), "gamma never moved"
assert torch.allclose(first.gamma, first_concise.weight, atol=0.1)  # both runs agree

# %% [markdown]
# ## Batch statistics and the batch size
#
# In training mode each batch is normalised with its *own* mean and variance, which are
# only estimates of the data's, and noisy ones when the batch is small. The explorer
# below takes the shipped BN-LeNet (trained under the quick budget, the same settings
# as above) and sends 16 batches of test images through it for each batch size from 2
# to 64 (drawn from the first 1024 test images), in training mode and in evaluation
# mode; on the website your browser runs the network on the same images and batches.
# For one channel of one batch-norm layer it shows each batch's mean and variance of the
# layer's input next to the running statistics stored during training, how far the batch
# means spread as the batch grows, and the layer's output in both modes. The explorer
# works on a copy of the network and puts the running statistics back after every batch,
# so looking changes nothing.

# %%
from cnnlib.models.pretrained import pretrained
from cnnlib.widgets.bn_stats import BatchStatsExplorer

# %% tags=["nbval-ignore-output"]
batch_explorer = BatchStatsExplorer(model=pretrained("bn_lenet"))
batch_explorer

# %% [markdown]
# The mean of $B$ random images varies from batch to batch about $1/\sqrt{B}$ as much as
# single images do (the grey line): 32 times more images should mean about
# $\sqrt{32} \approx 5.7$ times less spread. The cell below measures the ratio; with 16
# batches per size each spread is itself a rough estimate, so the check asks only that the
# ratio fall within a factor of two of $\sqrt{32}$.
# In evaluation mode the batch means are still drawn, but nothing uses them. The output
# panel shows the cost of tiny batches: after a dense layer with $B = 2$, each feature
# is normalised over two numbers, which always become $-1$ and $+1$ before the scale
# and shift, whatever the images were.

# %%
first_bn = batch_explorer.bn_indices[0]  # BN 1, after the first convolution
spreads = {b: float(batch_explorer.sweeps[(b, True)][first_bn].batch_mean[:, 0].std())
           for b in batch_explorer.sizes}
for b, spread in spreads.items():
    print(f"B = {b:>3}: batch means of channel 0 spread by {spread:.3f}, "
          f"times sqrt(B) = {spread * b ** 0.5:.2f}")
ratio = spreads[2] / spreads[64]
print(f"spread at B = 2 / spread at B = 64 = {ratio:.1f} (sqrt(32) = {32 ** 0.5:.1f})")
assert 32 ** 0.5 / 2 < ratio < 32 ** 0.5 * 2
shipped = pretrained("bn_lenet").net[1]
assert torch.equal(batch_explorer.model.net[1].running_mean, shipped.running_mean)

# %% [markdown]
# ## Summary
#
# * Batch norm standardises each channel with the minibatch's mean and variance, then
#   applies a learned scale $\gamma$ and shift $\beta$; after a convolution the
#   statistics are taken over the batch and all positions.
# * In training mode it uses batch statistics and updates moving averages; in evaluation
#   mode it uses the moving averages, so a prediction depends on its image alone.
# * Our from-scratch layer matches `cnnlib.layers.BatchNorm` and `nn.BatchNorm2d` in both
#   modes, moving statistics and gradients included. Unlike the book's code it takes the
#   mode from `net.train()`/`net.eval()` and feeds the unbiased variance to the moving
#   average, as PyTorch does.
# * With batch norm, LeNet trains with plain SGD plus momentum at a larger learning rate,
#   in half the book's epochs. At that learning rate the same network without batch norm
#   saturates its last hidden layer and stays near chance for most of an epoch.
# * Batch norm was introduced to reduce "internal covariate shift"; later experiments
#   (Santurkar et al., 2018) doubt that this is why it works and point to a smoother
#   loss surface instead.
# * Batch statistics are noisy: the batch means spread about $1/\sqrt{B}$ as much as single
#   images do, which is why tiny batches train badly and why evaluation mode uses the
#   running statistics instead.
#
# ## Exercises
#
# 1. Remove the biases of the convolutions and dense layers that feed a batch-norm layer
#    (`bias=False`). Does accuracy change? Count the parameters you saved.
# 2. Train the concise BN-LeNet with `lr=1.0` and then `lr=0.03` (e.g.
#    `concise_budget.train(get_model("bn_lenet"), lr=1.0)`, which also says whether the run
#    clears the floor). How wide is the range of learning rates that works, compared with
#    plain LeNet from section 7.6?
# 3. Evaluate the trained network in *training* mode (`scratch.train()` and
#    `cnnlib.training.trainer.evaluate`) with batches of 128, then of 8. Why does the accuracy drop
#    more for the small batches? (Evaluation in training mode updates the moving
#    statistics: make a copy of the model first, with `copy.deepcopy`.)
# 4. Replace batch norm by *layer norm*, which normalises each example over its own
#    channels and positions instead of over the batch (`nn.LayerNorm` or
#    `nn.GroupNorm(1, C)`). What happens to the difference between training and
#    evaluation mode?
#
# **Graded assignment.** In this section's assignment you write batch normalization for
# inputs of any rank in training and evaluation mode and a layer that follows the module's
# mode, train BN-LeNet past a floor that plain LeNet misses, predict what batch norm
# forgets and what it needs, and explain why small batches hurt a network left in training
# mode; exercises 1 and 3 are among its questions. Public checks tell you what is wrong
# while you work, and hidden tests, on inputs you have not seen, grade your answers.
# <a href="../assignments/8_5_batch_norm.ipynb" download>Download the student notebook</a>;
# instructors build and grade it as the [Instructors' guide](../book/instructors.md)
# explains.
