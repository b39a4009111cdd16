"""What every classifier in the companion shares: layers in ``self.net``."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TextIO

import torch
from torch import nn


def init_cnn(module: nn.Module) -> None:
    """Xavier-uniform weights for conv and linear layers (what D2L's ``init_cnn`` does).

    Use as ``net.apply(init_cnn)``. Xavier keeps activation variance roughly
    constant from layer to layer, which matters for sigmoid networks like LeNet.
    """
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.xavier_uniform_(module.weight)


def divide_width(channels: int, width_divisor: int) -> int:
    """Shrink a layer's channel count by ``width_divisor``, as the book does to train VGG.

    The book trains VGG-11 with every channel count divided by 4 (D2L 8.2.3: the full
    network is too demanding to train and analyse); the depth and
    block structure, which are what make the network "VGG", stay the same.

    Raises:
        ValueError: if ``width_divisor`` is not a positive divisor of ``channels``.
    """
    if width_divisor < 1 or channels % width_divisor != 0:
        raise ValueError(
            f"width_divisor={width_divisor} must be a positive divisor of {channels} channels; "
            "use a power of two such as 1, 2, 4 or 8"
        )
    return channels // width_divisor


def dense_head(in_features: int, hidden_size: int, num_classes: int) -> list[nn.Module]:
    """AlexNet's and VGG's classifier: two wide ReLU layers with dropout 0.5, then the output.

    Returned as a list so a model can splice it into its flat ``net`` and
    ``layer_summary`` still prints one line per layer, as the book's listings do.
    """
    return [
        nn.Linear(in_features, hidden_size),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(hidden_size, hidden_size),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(hidden_size, num_classes),
    ]


# ----------------------------------------------------------------------- model helpers
# The few things every part of cnnlib asks of any nn.Module, written once.


def model_device(model: nn.Module) -> torch.device:
    """Where ``model``'s parameters are (the CPU for a model without any)."""
    param = next(model.parameters(), None)
    return torch.device("cpu") if param is None else param.device


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of values the model learns (all it holds with ``trainable_only=False``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


@contextlib.contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode for the block, then back in the mode it was in.

    Dropout is off and batch norm uses its running statistics inside the block;
    the previous mode comes back even when the block raises.
    """
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


class Classifier(nn.Module):
    """A model whose layers live in one ``nn.Sequential`` called ``net``, as in the book.

    Subclasses set ``self.net`` in ``__init__``. Keeping the top level a flat
    sequence is what lets :meth:`layer_summary` print one line per stage, the
    way D2L's listings do.
    """

    net: nn.Sequential

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Map images ``(N, C, H, W)`` to class scores ``(N, num_classes)``."""
        return self.net(X)

    def layer_summary(
        self, input_shape: tuple[int, ...], file: TextIO | None = None, costs: bool = False
    ) -> None:
        """Print each top-level layer's output shape for a random input of ``input_shape``.

        The lines read like the book's (``Conv2d output shape: torch.Size([...])``), with
        the layer names padded to the longest one instead of the book's tab, so the shapes
        line up in one column whatever the names' lengths (a tab jumps to the next multiple
        of 8 characters, and ``BatchNorm2d`` or ``Sequential`` pass one).
        Runs in eval mode without gradients, then restores the previous mode.

        Args:
            input_shape: ``(N, C, H, W)``, e.g. ``(1, 1, 28, 28)``.
            file: where to print (standard output by default).
            costs: end with the totals, e.g. ``61,706 parameters, 845,080 FLOPs per 28×28
                image`` (see :mod:`cnnlib.models.cost`).
        """
        out = sys.stdout if file is None else file
        names = [layer.__class__.__name__ for layer in self.net]
        width = max(map(len, names), default=0)
        with evaluating(self), torch.no_grad():
            X = torch.randn(*input_shape)
            for name, layer in zip(names, self.net, strict=True):
                X = layer(X)
                print(f"{name:<{width}} output shape: {X.shape}", file=out)
        if costs:
            from cnnlib.models.cost import count_flops  # cost.py builds on this module

            height, width = input_shape[-2:]
            print(f"{count_parameters(self):,} parameters, "
                  f"{count_flops(self, input_shape):,} FLOPs per {height}×{width} image", file=out)

    def num_parameters(self, trainable_only: bool = True) -> int:
        """How many numbers the model learns (or holds, with ``trainable_only=False``)."""
        return count_parameters(self, trainable_only)
