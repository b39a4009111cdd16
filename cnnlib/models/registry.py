"""A plain registry: model name -> builder and the input size the book trains it at.

A dict literal, not decorators, so the whole list is visible in one place and
nothing registers itself as a side effect of an import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from cnnlib.models import alexnet, bn_lenet, googlenet, lenet, nin, resnet, vgg


@dataclass(frozen=True)
class ModelEntry:
    """How to build one named model and what it expects."""

    builder: Callable[..., nn.Module]
    input_size: int  # height = width of the (1-channel) images the book feeds it
    section: str  # where the companion introduces it


MODELS: dict[str, ModelEntry] = {
    "lenet": ModelEntry(lenet.lenet, 28, "7.6"),
    "modern_lenet": ModelEntry(lenet.modern_lenet, 28, "7.6"),
    "alexnet": ModelEntry(alexnet.alexnet, alexnet.INPUT_SIZE, "8.1"),
    "vgg11": ModelEntry(vgg.vgg11, vgg.INPUT_SIZE, "8.2"),
    "nin": ModelEntry(nin.nin, nin.INPUT_SIZE, "8.3"),
    "googlenet": ModelEntry(googlenet.googlenet, googlenet.INPUT_SIZE, "8.4"),
    "bn_lenet": ModelEntry(bn_lenet.bn_lenet, bn_lenet.INPUT_SIZE, "8.5"),
    "bn_lenet_scratch": ModelEntry(bn_lenet.bn_lenet_scratch, bn_lenet.INPUT_SIZE, "8.5"),
    "resnet18": ModelEntry(resnet.resnet18, resnet.INPUT_SIZE, "8.6"),
}


def list_models() -> list[str]:
    """The registered names, in the order the companion introduces them."""
    return list(MODELS)


def get_model(name: str, **kwargs) -> nn.Module:
    """Build a registered model, passing ``kwargs`` to its builder.

    Example: ``get_model("resnet18", num_classes=10, width_divisor=4)``.

    Raises:
        ValueError: for a name that is not registered (the message lists the names).
    """
    try:
        entry = MODELS[name]
    except KeyError:
        raise ValueError(
            f"unknown model {name!r}; registered models: {', '.join(MODELS)}"
        ) from None
    return entry.builder(**kwargs)


def input_size(name: str) -> int:
    """The image side length the book trains ``name`` at (e.g. 224 for AlexNet)."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; registered models: {', '.join(MODELS)}")
    return MODELS[name].input_size
