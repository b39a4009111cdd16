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

Every problem with a file being read (empty, truncated, not written by
``torch.save``, holding objects other than tensors and plain containers, or a
dictionary of the wrong shape) raises :class:`CheckpointError`, a
``ValueError`` whose message names the file and what is wrong with it. It never
suggests loading with ``weights_only=False``: that would run whatever code a
damaged or hostile file carries.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnlib._atomic import atomic_open
from cnnlib.models.base import count_parameters

FORMAT = "cnnlib-checkpoint-v1"


class CheckpointError(ValueError):
    """A file is not a readable cnnlib weights file or checkpoint.

    The message names the file and says what is wrong with it.
    """


class CheckpointMismatchError(CheckpointError):
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
        "num_parameters": count_parameters(model, trainable_only=False),
        "layers": layers,
    }


def atomic_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save(obj, path)`` through :func:`cnnlib._atomic.atomic_open`.

    Returns:
        The path written.
    """
    with atomic_open(path, "wb") as handle:
        torch.save(obj, handle)
    return Path(path)


def save_weights(path: str | os.PathLike, model: nn.Module, dtype: torch.dtype | None = None
                 ) -> Path:
    """Write only ``model``'s weights (and its architecture description).

    Args:
        dtype: store floating-point tensors in this type (e.g. ``torch.float16`` halves
            the file); :func:`load_weights` converts them back to the model's type.
            Integer buffers (batch norm's step count) are kept as they are.
    """
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    if dtype is not None:
        state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
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

    Only tensors, numbers, strings and plain containers are loaded
    (``weights_only=True``): a file that holds anything else is refused, never run.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        CheckpointError: (a ``ValueError``) when the file is empty, truncated, not
            written by ``torch.save``, holds other Python objects, or is not a
            dictionary laid out as :func:`save_weights`/:func:`save_checkpoint` write
            it; the message names the file and the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no checkpoint at {path}; train with TrainConfig(checkpoint=...) to create one"
        )
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, MemoryError):
        raise  # the disk or the machine, not the file's content: PyTorch's error says it
    except Exception as err:  # noqa: BLE001 -- every decoding failure gets the one clear error
        # ``from None``: PyTorch's own message suggests weights_only=False, which would run
        # whatever code the file holds. It must not reach the reader, not even in a traceback.
        raise CheckpointError(f"{path} {_diagnose(path, err)}{_NOT_OURS}") from None
    _check_layout(blob, path)
    return blob


_NOT_OURS = (
    ". cnnlib reads only whole files written by its save_weights or save_checkpoint; "
    "use an intact copy, or save the model again."
)


def _diagnose(path: Path, err: Exception) -> str:
    """Say, from the file's first bytes and the kind of failure, what is wrong with it."""
    size = path.stat().st_size
    if size == 0:
        return "is empty (0 bytes)"
    with open(path, "rb") as handle:
        head = handle.read(64)
    refused = re.search(r"GLOBAL (\S+) was not an allowed global", str(err))
    if refused:
        return (
            f"holds Python objects other than tensors and plain containers (it needs "
            f"{refused.group(1)}); cnnlib loads only tensors, numbers, strings, lists and "
            f"dicts, because unpickling anything else could run code from the file"
        )
    if head.startswith(b"PK\x03\x04"):
        return (
            f"is a zip archive but not a complete torch.save file ({size:,} bytes; "
            f"truncated or damaged?)"
        )
    if head.startswith(b"\x80") and isinstance(err, EOFError):
        return f"is a pickle cut short ({size:,} bytes; truncated?)"
    shown = head[:16]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        kind = "binary data"
    else:
        kind = "JSON" if text.lstrip().startswith(("{", "[")) else "text"
    return (
        f"is not a file written by torch.save: it starts with {shown!r}, which looks like "
        f"{kind}, where torch.save writes a zip archive (starting with b'PK')"
    )


_OPTIONAL_DICTS = ("architecture", "optimizer", "history", "config", "scaler")


def _check_layout(blob: object, path: Path) -> None:
    """Raise :class:`CheckpointError` unless ``blob`` is laid out as this module writes it."""
    def bad(problem: str) -> CheckpointError:
        return CheckpointError(f"{path}: {problem}{_NOT_OURS}")

    if not isinstance(blob, dict) or "model" not in blob:
        what = (f"a dict with the keys {sorted(map(str, blob))[:6]}"
                if isinstance(blob, dict) else f"a {type(blob).__name__}")
        raise bad(f"expected a dict with a 'model' entry, found {what}")
    if blob.get("format", FORMAT) != FORMAT:
        raise bad(f"its format is {blob['format']!r}; this cnnlib reads {FORMAT!r}")
    state = blob["model"]
    if not isinstance(state, dict):
        raise bad(
            f"its 'model' entry must map parameter names to tensors, found a "
            f"{type(state).__name__}"
        )
    for key, value in state.items():
        if not isinstance(key, str):
            raise bad(f"its 'model' entry has the key {key!r} ({type(key).__name__}), "
                      f"where parameter names are str")
        if not isinstance(value, torch.Tensor):
            raise bad(f"its 'model' entry holds a value of type {type(value).__name__} "
                      f"under {key!r}, where a tensor belongs")
    for key in _OPTIONAL_DICTS:
        if blob.get(key) is not None and not isinstance(blob[key], dict):
            raise bad(f"its {key!r} entry must be a dict (or None), found a "
                      f"{type(blob[key]).__name__}")
    architecture = blob.get("architecture") or {}
    for key, kind in (("class", str), ("num_parameters", int), ("layers", list)):
        value = architecture.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise bad(f"its architecture {key!r} must be of type {kind.__name__}, found "
                      f"{type(value).__name__} {value!r}")
    epoch = blob.get("epoch", 0)
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise bad(f"its 'epoch' must be a whole number >= 0, found {epoch!r}")


def check_compatible(
    model: nn.Module,
    state: dict[str, torch.Tensor],
    architecture: dict[str, Any] | None = None,
    source: str | os.PathLike | None = None,
) -> None:
    """Raise a readable error when ``state`` does not fit ``model`` exactly.

    ``source``, the file ``state`` came from, starts the message when given.

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
    where = f"{source}: " if source is not None else ""
    lines = [
        f"{where}the saved weights were made for {made_for}, but the model is {this['class']} "
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
        FileNotFoundError: when ``path`` does not exist.
        CheckpointError: when the file is not one this module wrote (see
            :func:`read_checkpoint`).
        CheckpointMismatchError: (a ``CheckpointError``) when the file was made for
            another architecture.
    """
    blob = read_checkpoint(path)
    check_compatible(model, blob["model"], blob.get("architecture"), source=path)
    model.load_state_dict(blob["model"])
    return blob


def _short_list(items: list[str], limit: int = 6) -> str:
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown}, ... ({len(items)} in all)"
