"""Saving and loading model weights and training checkpoints, safely.

Two kinds of file, both plain ``torch.save`` dictionaries that load with
``torch.load(..., weights_only=True)`` (no pickled code runs on load):

* a *weights* file: the model's ``state_dict`` plus a small description of
  the architecture it belongs to (what ``cnnlib/weights/*.pt`` ship);
* a *checkpoint*: the same, plus the optimizer state, the epoch reached, the
  history so far and the training config, so that a run can be resumed.

Every write goes to a temporary file in the same directory and is then moved
into place with ``os.replace``: an interrupted save never leaves a truncated
file where a good one used to be.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnlib.atomic import atomic_open

FORMAT = "cnnlib-checkpoint-v1"


class CheckpointMismatchError(ValueError):
    """A saved state does not fit the model it is being loaded into."""


def describe_architecture(model: nn.Module) -> dict[str, Any]:
    """A small, JSON-friendly description of ``model`` stored in every file.

    It lets a mismatch error say which model a file was made for, and lets a
    reader see it without building the model.
    """
    cls = type(model)
    net = getattr(model, "net", None)
    layers = [type(layer).__name__ for layer in net] if isinstance(net, nn.Sequential) else []
    return {
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "num_parameters": int(sum(p.numel() for p in model.parameters())),
        "layers": layers,
    }


def atomic_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save(obj, path)`` through :func:`cnnlib.atomic.atomic_open`.

    Returns:
        The path written.
    """
    with atomic_open(path, "wb") as handle:
        torch.save(obj, handle)
    return Path(path)


def save_weights(path: str | os.PathLike, model: nn.Module) -> Path:
    """Write only ``model``'s weights (and its architecture description)."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return atomic_save(
        {"format": FORMAT, "model": state, "architecture": describe_architecture(model)}, path
    )


def save_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    epoch: int = 0,
    history: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    scaler_state: dict[str, Any] | None = None,
) -> Path:
    """Write everything needed to continue a run after ``epoch`` completed epochs.

    Args:
        path: where to write (parent folders are created).
        model: the model whose ``state_dict`` is saved (moved to CPU in the file).
        optimizer: its state (momentum buffers, Adam moments) is saved when given.
        epoch: how many epochs are complete.
        history: ``History.to_dict()`` so far.
        config: the training config as a plain dict (for the record).
        scaler_state: a CUDA ``GradScaler``'s state when training with AMP.
    """
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return atomic_save(
        {
            "format": FORMAT,
            "model": state,
            "architecture": describe_architecture(model),
            "optimizer": None if optimizer is None else optimizer.state_dict(),
            "epoch": int(epoch),
            "history": history,
            "config": config,
            "scaler": scaler_state,
        },
        path,
    )


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load a weights file or checkpoint as a dictionary of CPU tensors.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: when the file is not one this module wrote.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no checkpoint at {path}; train with TrainConfig(checkpoint=...) to create one"
        )
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or "model" not in blob:
        raise ValueError(
            f"{path} is not a cnnlib weights file or checkpoint (expected a dict with a 'model' "
            f"entry, got {type(blob).__name__}); was it written by save_weights/save_checkpoint?"
        )
    return blob


def check_compatible(
    model: nn.Module, state: dict[str, torch.Tensor], architecture: dict[str, Any] | None = None
) -> None:
    """Raise a readable error when ``state`` does not fit ``model`` exactly.

    Raises:
        CheckpointMismatchError: naming the missing and unexpected keys, the
            shapes that differ, and the architecture the state was made for.
    """
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if not (missing or unexpected or shapes):
        return
    made_for = "an unrecorded architecture"
    if architecture:
        made_for = (
            f"{architecture.get('class', '?')} "
            f"({architecture.get('num_parameters', 0):,} parameters)"
        )
    this = describe_architecture(model)
    lines = [
        f"the saved weights were made for {made_for}, but the model is {this['class']} "
        f"({this['num_parameters']:,} parameters)."
    ]
    if missing:
        lines.append(f"  missing in the file: {_short_list(missing)}")
    if unexpected:
        lines.append(f"  not in the model: {_short_list(unexpected)}")
    if shapes:
        lines.append(f"  shape mismatches: {_short_list(shapes)}")
    lines.append("Build the model the file was made for (same class and arguments) and load again.")
    raise CheckpointMismatchError("\n".join(lines))


def load_weights(model: nn.Module, path: str | os.PathLike) -> dict[str, Any]:
    """Load the weights stored at ``path`` (weights file or checkpoint) into ``model``.

    Returns:
        The whole loaded dictionary (architecture, and for a checkpoint the
        optimizer state, epoch and history).

    Raises:
        CheckpointMismatchError: when the file was made for another architecture.
    """
    blob = read_checkpoint(path)
    check_compatible(model, blob["model"], blob.get("architecture"))
    model.load_state_dict(blob["model"])
    return blob


def _short_list(items: list[str], limit: int = 6) -> str:
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown}, ... ({len(items)} in all)"
