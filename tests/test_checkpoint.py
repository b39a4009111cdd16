"""cnnlib.training.checkpoint on files it did not write whole: one clear, safe error for each.

The round trip and the resume live in ``test_trainer.py``; here every damaged or foreign
file must raise :class:`CheckpointError` (a ``ValueError``) naming the file and the
problem, and no message or traceback may pass on PyTorch's advice to load with
``weights_only=False``, which would run whatever code the file holds.
"""

from __future__ import annotations

import json
import traceback

import pytest
import torch
from torch import nn

from cnnlib.training.checkpoint import (
    CheckpointError,
    CheckpointMismatchError,
    load_weights,
    read_checkpoint,
    save_checkpoint,
    save_weights,
)


def small_model() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 2))


def good_bytes(tmp_path) -> bytes:
    return save_checkpoint(tmp_path / "good.pt", small_model(), epoch=3).read_bytes()


class RunsCode:
    """Unpickling this would call ``print``: a stand-in for a hostile file."""

    def __reduce__(self):
        return (print, ("this ran on load",))


def corrupt_file(tmp_path, kind: str):
    """Write one kind of bad file and return its path and a phrase its error must contain."""
    path = tmp_path / f"{kind.replace(' ', '_')}.pt"
    data = good_bytes(tmp_path)
    if kind == "half":
        path.write_bytes(data[: len(data) // 2])
        return path, "truncated"
    if kind == "100 bytes":
        path.write_bytes(data[:100])
        return path, "truncated"
    if kind == "empty":
        path.write_bytes(b"")
        return path, "empty"
    if kind == "text":
        path.write_text("epoch 3, loss 0.41\n" * 20)
        return path, "text"
    if kind == "random bytes":
        path.write_bytes(torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(0),
                                       dtype=torch.uint8).numpy().tobytes())
        return path, "not a file written by torch.save"
    if kind == "json":
        path.write_text(json.dumps({"model": {"0.weight": [1.0, 2.0]}}))
        return path, "JSON"
    if kind == "zip header then garbage":
        path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
        return path, "zip archive"
    if kind == "code on load":
        torch.save({"model": RunsCode()}, path)
        return path, "could run code"
    raise AssertionError(kind)


KINDS = ["half", "100 bytes", "empty", "text", "random bytes", "json", "zip header then garbage",
         "code on load"]


def assert_safe_and_clear(err: BaseException, path, phrase: str) -> None:
    message = str(err)
    assert isinstance(err, CheckpointError) and isinstance(err, ValueError)
    assert str(path) in message, message
    assert phrase in message, message
    everything = "".join(traceback.format_exception(err))  # chained errors included
    assert "weights_only" not in everything, everything


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reader", ["read_checkpoint", "load_weights"])
def test_a_damaged_or_foreign_file_gets_one_clear_safe_error(tmp_path, kind, reader, capsys):
    path, phrase = corrupt_file(tmp_path, kind)
    with pytest.raises(CheckpointError) as info:
        if reader == "read_checkpoint":
            read_checkpoint(path)
        else:
            load_weights(small_model(), path)
    assert_safe_and_clear(info.value, path, phrase)
    assert "this ran on load" not in capsys.readouterr().out


def hand_made(kind: str, state: dict) -> tuple[dict, str]:
    """A dict saved by hand with one wrong type, and the phrase its error must contain."""
    blobs = {
        "not a dict": ([1, 2, 3], "expected a dict with a 'model' entry, found a list"),
        "no model": ({"weights": state}, "expected a dict with a 'model' entry"),
        "model is a list": ({"model": list(state.values())}, "found a list"),
        "model is a string": ({"model": "lenet"}, "found a str"),
        "int key": ({"model": {0: next(iter(state.values()))}}, "the key 0 (int)"),
        "number for a tensor": ({"model": {**state, "0.weight": 1.0}},
                                "a value of type float under '0.weight'"),
        "architecture a string": ({"model": state, "architecture": "LeNet"},
                                  "'architecture' entry must be a dict"),
        "parameter count a string": (
            {"model": state, "architecture": {"class": "x", "num_parameters": "many"}},
            "'num_parameters' must be of type int"),
        "optimizer a list": ({"model": state, "optimizer": [1]},
                             "'optimizer' entry must be a dict"),
        "epoch a string": ({"model": state, "epoch": "3"}, "'epoch' must be a whole number"),
        "another format": ({"model": state, "format": "other-v9"}, "format is 'other-v9'"),
    }
    return blobs[kind]


HAND_MADE = ["not a dict", "no model", "model is a list", "model is a string", "int key",
             "number for a tensor", "architecture a string", "parameter count a string",
             "optimizer a list", "epoch a string", "another format"]


@pytest.mark.parametrize("kind", HAND_MADE)
def test_a_hand_made_dict_of_the_wrong_types_is_refused_clearly(tmp_path, kind):
    model = small_model()
    blob, phrase = hand_made(kind, model.state_dict())
    path = tmp_path / "hand.pt"
    torch.save(blob, path)
    with pytest.raises(CheckpointError) as info:
        load_weights(small_model(), path)
    assert_safe_and_clear(info.value, path, phrase)


def test_a_mismatch_is_a_checkpoint_error_that_names_the_file(tmp_path):
    path = save_weights(tmp_path / "w.pt", small_model())
    other = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(16, 2))
    with pytest.raises(CheckpointMismatchError) as info:
        load_weights(other, path)
    assert isinstance(info.value, CheckpointError)
    assert str(info.value).startswith(f"{path}: the saved weights were made for")


def test_good_files_still_load(tmp_path):
    path = save_checkpoint(tmp_path / "c.pt", small_model(), epoch=3,
                           history={"train_loss": [1.0]}, config={"lr": 0.1})
    blob = load_weights(small_model(), path)
    assert blob["epoch"] == 3 and blob["config"] == {"lr": 0.1}
    minimal = tmp_path / "minimal.pt"
    torch.save({"model": small_model().state_dict()}, minimal)  # no format, no architecture
    load_weights(small_model(), minimal)


def test_a_missing_file_is_still_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        read_checkpoint(tmp_path / "nothing.pt")
