"""LeNet with batch normalisation, from scratch and with PyTorch's layers (D2L section 8.5).

Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network Training by Reducing
Internal Covariate Shift" (ICML 2015).
See https://d2l.ai/chapter_convolutional-modern/batch-norm.html.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from cnnlib.layers import BatchNorm
from cnnlib.models.base import Classifier, init_cnn

INPUT_SIZE = 28
"""Image side length (pixels): Fashion-MNIST as it comes, no resizing."""

# Unlike the LeNet of 7.6, the book's BN-LeNet pads nothing: 28 -> conv 24 -> pool 12
# -> conv 8 -> pool 4, so the flattened features are 16 * 4 * 4 = 256.
FLAT_FEATURES = 16 * 4 * 4

NormFactory = Callable[[int, int], nn.Module]
"""Builds a batch-norm layer from ``(num_features, num_dims)``; num_dims is 4 or 2."""


def _bn_lenet_layers(norm: NormFactory, in_channels: int, num_classes: int) -> list[nn.Module]:
    """LeNet's layers with a normalisation layer between each conv/linear and its sigmoid.

    Batch norm goes after the affine layer and before the nonlinearity, as in
    Section 3.2 of the paper; the output layer is left unnormalised.
    """
    return [
        nn.Conv2d(in_channels, 6, kernel_size=5),
        norm(6, 4),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5),
        norm(16, 4),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(FLAT_FEATURES, 120),
        norm(120, 2),
        nn.Sigmoid(),
        nn.Linear(120, 84),
        norm(84, 2),
        nn.Sigmoid(),
        nn.Linear(84, num_classes),
    ]


def _torch_batch_norm(num_features: int, num_dims: int) -> nn.Module:
    """PyTorch's batch norm for a conv output (num_dims 4) or a linear output (num_dims 2)."""
    if num_dims == 4:
        return nn.BatchNorm2d(num_features)
    return nn.BatchNorm1d(num_features)


class BNLeNetScratch(Classifier):
    """LeNet with :class:`cnnlib.layers.BatchNorm`, the batch norm written from scratch.

    Args:
        num_classes: size of the output.
        in_channels: image channels (1 for Fashion-MNIST).

    Shapes:
        ``(N, in_channels, 28, 28)`` -> ``(N, num_classes)``; training mode needs ``N >= 2``
        because the dense layers' batch norm estimates a variance from the batch.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.net = nn.Sequential(*_bn_lenet_layers(BatchNorm, in_channels, num_classes))
        self.net.apply(init_cnn)


class BNLeNet(Classifier):
    """LeNet with ``nn.BatchNorm2d``/``nn.BatchNorm1d``: the book's concise version.

    Same layers, shapes and parameter count as :class:`BNLeNetScratch`.

    Args:
        num_classes: size of the output.
        in_channels: image channels (1 for Fashion-MNIST).

    Shapes:
        ``(N, in_channels, 28, 28)`` -> ``(N, num_classes)``; training mode needs ``N >= 2``.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.net = nn.Sequential(*_bn_lenet_layers(_torch_batch_norm, in_channels, num_classes))
        self.net.apply(init_cnn)


def bn_lenet(num_classes: int = 10, in_channels: int = 1) -> BNLeNet:
    """The book's concise BN-LeNet (no width reduction: it is already small)."""
    return BNLeNet(num_classes, in_channels)


def bn_lenet_scratch(num_classes: int = 10, in_channels: int = 1) -> BNLeNetScratch:
    """BN-LeNet with the from-scratch batch norm of :mod:`cnnlib.layers`."""
    return BNLeNetScratch(num_classes, in_channels)
