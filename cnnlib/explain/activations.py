"""What a classifier computes for one image, layer by layer.

:func:`probe` runs one image through ``model.net`` (an ``nn.Sequential``, as in
every :class:`cnnlib.models.base.Classifier`) and keeps every layer's output;
:mod:`cnnlib.viz.feature_maps` draws what it returns. :func:`stage_indices`
says which outputs end a stage of the network (the compact view), and
:func:`choose_examples` picks right and wrong test images for a gallery.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from cnnlib.models.base import evaluating, model_device
from cnnlib.training.parallel import torch_threads
from cnnlib.viz.kernels import as_image

#: Layers after which a "stage" of the network ends (see :func:`stage_indices`).
_STAGE_BREAKERS = (nn.Conv2d, nn.Linear, nn.Flatten, nn.AvgPool2d, nn.MaxPool2d)


@dataclass
class Activation:
    """The output of one layer of ``model.net`` for one image.

    Attributes:
        index: the layer's position in ``model.net``.
        name: the layer's class name, e.g. ``"Conv2d"``.
        value: the output without its batch dimension: ``(C, H, W)`` for
            convolution and pooling layers, ``(F,)`` for flat ones.
    """

    index: int
    name: str
    value: torch.Tensor

    @property
    def label(self) -> str:
        """``"3 Conv2d · 16×10×10"``: position, layer and output shape."""
        return f"{self.index} {self.name} · {'×'.join(str(s) for s in self.value.shape)}"


@dataclass
class Probe:
    """Everything the classifier computed for one image.

    Attributes:
        image: the input, ``(H, W)`` float32 in [0, 1].
        activations: one entry per layer of ``model.net``, in order.
        scores: the last layer's output (logits), ``(num_classes,)``.
        probs: ``softmax(scores)``, ``(num_classes,)``.
        label: the true class, or None (an uploaded image has none).
    """

    image: torch.Tensor
    activations: list[Activation]
    scores: torch.Tensor
    probs: torch.Tensor
    label: int | None = None

    @property
    def predicted(self) -> int:
        """The class with the highest probability."""
        return int(self.probs.argmax())

    @property
    def correct(self) -> bool | None:
        """Whether the prediction equals the true label (None without a label)."""
        return None if self.label is None else self.predicted == self.label


def sequential_net(model: nn.Module) -> nn.Sequential:
    """``model.net``, checked to be the ``nn.Sequential`` every function here walks.

    Raises:
        TypeError: when the model keeps its layers some other way.
    """
    net = getattr(model, "net", None)
    if not isinstance(net, nn.Sequential):
        raise TypeError(
            f"expected a classifier whose layers are in an nn.Sequential called `net` "
            f"(like cnnlib's LeNet); {type(model).__name__} has net={type(net).__name__}"
        )
    return net


def run_layers(model: nn.Module, X: torch.Tensor) -> list[Activation]:
    """Feed a batch of one image through ``model.net`` and keep each layer's output.

    Runs in eval mode without gradients (batch norm uses its running statistics)
    and restores the model's previous mode.

    Args:
        model: a classifier with ``model.net`` an ``nn.Sequential``.
        X: the input batch, ``(1, C, H, W)``.

    Returns:
        One :class:`Activation` per layer, on the CPU, without the batch dimension.

    Raises:
        TypeError: when the model has no sequential ``net``.
        ValueError: when ``X`` is not a batch of exactly one image.
    """
    net = sequential_net(model)
    if X.ndim != 4 or X.shape[0] != 1:
        raise ValueError(
            f"run_layers takes a batch of one image (1, C, H, W); got shape {tuple(X.shape)}. "
            "Use X[None] for one (C, H, W) image."
        )
    activations = []
    # One thread: a single image is far too little work to share. With two threads on a
    # busy CPU each small convolution waits on the other, and LeNet's forward pass took
    # 110 ms instead of 0.3 ms (measured on the 2-core build machine).
    with evaluating(model), torch.no_grad(), torch_threads(1):
        X = X.to(model_device(model), torch.float32)
        for index, layer in enumerate(net):
            X = layer(X)
            activations.append(Activation(index, type(layer).__name__, X[0].detach().cpu()))
    return activations


def probe(model: nn.Module, image: object, label: int | None = None) -> Probe:
    """Run one grayscale image through the classifier and keep everything it computes.

    Args:
        model: a classifier with ``model.net`` an ``nn.Sequential`` and one input channel.
        image: ``(H, W)``, or ``(1, H, W)``/``(1, 1, H, W)``; uint8 is scaled to [0, 1].
        label: the true class, if known.

    Returns:
        The :class:`Probe`; ``probs`` is the softmax of the last layer's output.
    """
    x = as_image(image)  # (H, W) float32
    activations = run_layers(model, x[None, None])  # input (1, 1, H, W)
    scores = activations[-1].value.flatten()  # (num_classes,)
    return Probe(x, activations, scores, F.softmax(scores, dim=0), label)


def class_probabilities(
    model: nn.Module, images: torch.Tensor, batch_size: int = 1000
) -> torch.Tensor:
    """Softmax probabilities for many grayscale images, in eval mode.

    Args:
        images: ``(N, H, W)``; uint8 is scaled to [0, 1] as the data module does.
        batch_size: images per forward pass.

    Returns:
        ``(N, num_classes)`` on the CPU.
    """
    if images.ndim != 3:
        raise ValueError(f"images must be (N, H, W); got shape {tuple(images.shape)}")
    device = model_device(model)
    chunks = []
    with evaluating(model), torch.no_grad():
        for chunk in images.split(batch_size):
            X = chunk.unsqueeze(1).to(device, torch.float32)  # (B, 1, H, W)
            if chunk.dtype == torch.uint8:
                X = X / 255
            chunks.append(F.softmax(model(X).float(), dim=1).cpu())
    return torch.cat(chunks)


def stage_indices(model: nn.Module) -> list[int]:
    """Positions in ``model.net`` whose output ends a stage: the maps worth showing.

    A stage is a weighted layer with what follows it up to the next weighted,
    pooling or flatten layer; its output is the last one before that. For
    LeNet that is each sigmoid and each pooling layer (``[1, 2, 4, 5, 8, 10]``).
    Flatten and the final layer (the scores, shown as probabilities) are left out.
    """
    layers = list(sequential_net(model))
    ends = []
    for i, layer in enumerate(layers[:-1]):
        if isinstance(layer, nn.Flatten):
            continue
        if isinstance(layers[i + 1], _STAGE_BREAKERS):
            ends.append(i)
    return ends


def choose_examples(
    probs: torch.Tensor, labels: torch.Tensor, num_correct: int = 3, num_wrong: int = 1
) -> list[int]:
    """Pick images for the gallery: some classified correctly, some not.

    Correct picks are the first correctly classified image of the first
    ``num_correct`` classes met in order; wrong picks are the first
    misclassified images, preferring classes not shown yet.

    Args:
        probs: ``(N, num_classes)`` class probabilities.
        labels: ``(N,)`` true classes.

    Returns:
        Indices into the N images, correct ones first (fewer when none exist).
    """
    if probs.ndim != 2 or labels.shape != probs.shape[:1]:
        raise ValueError(
            f"probs must be (N, num_classes) and labels (N,); got {tuple(probs.shape)} "
            f"and {tuple(labels.shape)}"
        )
    predicted = probs.argmax(dim=1)
    right = (predicted == labels).tolist()
    classes = labels.tolist()
    chosen: dict[int, int] = {}  # class -> index, correct picks
    for i, ok in enumerate(right):
        if len(chosen) == num_correct:
            break
        if ok:
            chosen.setdefault(classes[i], i)
    wrong = [i for i, ok in enumerate(right) if not ok]
    wrong.sort(key=lambda i: classes[i] in chosen)  # stable: unseen classes first
    return [*chosen.values(), *wrong[:num_wrong]]
