"""LeNet-5 as in D2L 7.6 (and the user's notes), and a modern variant to compare with.

``LeNet`` is the book's version of the 1998 LeNet-5: sigmoid activations and
average pooling, 6 and 16 convolution channels, 120 and 84 hidden units, and a
linear output layer (trained with softmax and cross-entropy) where the paper had
fixed Gaussian (RBF) units. Its pooling layers are ``FastAvgPool2d``, an
``nn.AvgPool2d`` with a faster CPU path (see :mod:`cnnlib.models.fastpool`).
``ModernLeNet`` keeps that layout but uses what later chapters motivate:
ReLU, max pooling and batch normalisation (see D2L 8.5).

Both expect 28x28 inputs: after two 5x5 convolutions (the first padded by 2)
and two 2x2 poolings a 28x28 image becomes 16 maps of 5x5 = 400 features,
which fixes the first linear layer's ``in_features``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from cnnlib.models.base import Classifier, init_cnn
from cnnlib.models.fastpool import FastAvgPool2d

IMAGE_SIZE = 28
WEIGHTS_PATH = Path(__file__).resolve().parent.parent / "weights" / "lenet_fashion_mnist.pt"


class _LeNetBase(Classifier):
    """Shared input check: a clear error instead of a matmul shape mismatch."""

    in_channels: int

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Map images ``(N, in_channels, 28, 28)`` to class scores ``(N, num_classes)``."""
        if X.ndim != 4 or X.shape[1] != self.in_channels or X.shape[2:] != (IMAGE_SIZE,) * 2:
            raise ValueError(
                f"{type(self).__name__} expects images (N, {self.in_channels}, 28, 28), got "
                f"{tuple(X.shape)}; load the data without resize (LeNet's first linear layer "
                "is sized for 28x28)"
            )
        return self.net(X)


class LeNet(_LeNetBase):
    """LeNet-5 as in the notes: sigmoid, average pooling, Xavier init.

    The layers are the notes' ones with the same settings; the two pooling layers are
    ``FastAvgPool2d``, which is an ``nn.AvgPool2d`` and computes its averages (up to
    float rounding) by a faster path on a CPU.

    Args:
        num_classes: size of the output layer.
        in_channels: channels of the input images (1 for Fashion-MNIST).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.net = nn.Sequential(
            # Padding 2 keeps 28x28, so the 5x5 kernels see the image's border.
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=2),
            nn.Sigmoid(),
            # nn.AvgPool2d's arithmetic with a faster CPU path (cnnlib/models/fastpool.py)
            FastAvgPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5),
            nn.Sigmoid(),
            FastAvgPool2d(kernel_size=2, stride=2),
            nn.Flatten(),  # (N, 16, 5, 5) -> (N, 400)
            nn.Linear(16 * 5 * 5, 120),
            nn.Sigmoid(),
            nn.Linear(120, 84),
            nn.Sigmoid(),
            nn.Linear(84, num_classes),
        )
        self.net.apply(init_cnn)


class ModernLeNet(_LeNetBase):
    """LeNet's layout with ReLU, max pooling and batch norm after every hidden layer.

    Batch norm re-centres and rescales each layer's inputs with the statistics of
    the current minibatch; with ReLU it lets SGD at the book's learning rate train
    in a few epochs (see ``get_budget("modern_lenet")``).

    Args:
        num_classes: size of the output layer.
        in_channels: channels of the input images (1 for Fashion-MNIST).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=2),
            nn.BatchNorm2d(6),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Flatten(),  # (N, 16, 5, 5) -> (N, 400)
            nn.Linear(16 * 5 * 5, 120),
            nn.BatchNorm1d(120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.BatchNorm1d(84),
            nn.ReLU(),
            nn.Linear(84, num_classes),
        )
        self.net.apply(init_cnn)


def lenet(num_classes: int = 10, in_channels: int = 1) -> LeNet:
    """The notes' LeNet-5 (sigmoid, average pooling)."""
    return LeNet(num_classes=num_classes, in_channels=in_channels)


def modern_lenet(num_classes: int = 10, in_channels: int = 1) -> ModernLeNet:
    """LeNet with ReLU, max pooling and batch norm."""
    return ModernLeNet(num_classes=num_classes, in_channels=in_channels)


def pretrained_lenet(path: str | Path | None = None) -> LeNet:
    """The notes' LeNet with the weights shipped in ``cnnlib/weights`` (eval mode).

    Made by ``python scripts/train_lenet_checkpoint.py``; the JSON beside the
    weights records how (config, accuracy, hardware, versions).

    Raises:
        FileNotFoundError: when the weights file is missing.
    """
    from cnnlib.training.checkpoint import load_weights

    model = LeNet()
    load_weights(model, WEIGHTS_PATH if path is None else path)
    return model.eval()
