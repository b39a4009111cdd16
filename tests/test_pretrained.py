"""The shipped weights (cnnlib/weights) and the script that makes them."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from synthetic_data import TensorBatches

import cnnlib.runs.budget
from cnnlib.models import pretrained
from cnnlib.runs.budget import QUICK, get_budget
from cnnlib.training.checkpoint import read_checkpoint

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "train_checkpoint.py"
CHAPTER_8 = sorted(name for name in pretrained.SHIPPED if name != "lenet")


@pytest.mark.parametrize("name", sorted(pretrained.SHIPPED))
def test_every_shipped_network_loads_and_its_record_describes_its_file(name):
    path = pretrained.weights_path(name)
    record = pretrained.load_record(name)
    assert record["weights"] == path.name
    assert record["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert record["command"].startswith(pretrained.remake_command(name))
    model = pretrained.pretrained(name)
    assert not model.training
    assert all(p.dtype == torch.float32 for p in model.parameters())
    side = pretrained.image_side(name)
    assert model(torch.rand(2, 1, side, side)).shape == (2, 10)


@pytest.mark.parametrize("name", CHAPTER_8)
def test_chapter_8_weights_are_the_quick_budget_run_stored_as_float16(name):
    record = pretrained.load_record(name)
    budget = get_budget(name, "quick")
    assert record["budget"]["epochs"] == budget.epochs and record["budget"]["lr"] == budget.lr
    assert record["data"]["resolution"] == budget.side
    assert record["val_acc"] >= budget.floor  # measured on the stored float16 weights
    state = read_checkpoint(pretrained.weights_path(name))["model"]
    assert {v.dtype for v in state.values() if v.is_floating_point()} == {torch.float16}


def test_all_weights_together_stay_under_10_mb():
    total = sum(p.stat().st_size for p in pretrained.WEIGHTS_DIR.iterdir())
    assert total < 10 * 2**20, f"cnnlib/weights holds {total / 2**20:.1f} MiB"


def test_unknown_and_missing_weights_say_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="there are weights for"):
        pretrained.pretrained("resnet50")
    with pytest.raises(FileNotFoundError, match="python scripts/train_checkpoint.py nin"):
        pretrained.pretrained("nin", tmp_path / "nothing.pt")


class TinyFashion(TensorBatches):
    """Fashion-MNIST's interface over 64 random 28x28 images (no files needed)."""

    def __init__(self, batch_size=128, resize=None, train_subset=None, val_subset=None):
        g = torch.Generator().manual_seed(0)
        super().__init__(torch.rand(64, 1, 28, 28, generator=g), torch.arange(64) % 10, 16)
        self.num_train = self.num_val = 64


@pytest.fixture()
def script(monkeypatch):
    spec = importlib.util.spec_from_file_location("train_checkpoint", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(cnnlib.runs.budget, "FashionMNIST", TinyFashion)
    return module


def test_the_script_writes_float16_weights_and_a_record_of_their_accuracy(script, monkeypatch,
                                                                           tmp_path):
    one_epoch = replace(QUICK["bn_lenet"], epochs=1, floor=0.0)
    monkeypatch.setattr(script, "get_budget", lambda name, budget: one_epoch)
    assert script.main(["bn_lenet", "--out-dir", str(tmp_path)]) == 0
    weights = tmp_path / "bn_lenet_fashion_mnist.pt"
    record = json.loads(weights.with_suffix(".json").read_text())
    assert record["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    # The recorded accuracy is that of the stored weights, loaded back.
    from cnnlib.training.evaluate import evaluate

    loaded = pretrained.pretrained("bn_lenet", weights)
    assert record["val_acc"] == round(evaluate(loaded, TinyFashion().val_batches())[1], 4)
    assert len(record["history"]["val_acc"]) == 1


def test_the_script_writes_nothing_below_the_floor(script, monkeypatch, tmp_path, capsys):
    out_of_reach = replace(QUICK["bn_lenet"], epochs=1, floor=1.01)
    monkeypatch.setattr(script, "get_budget", lambda name, budget: out_of_reach)
    assert script.main(["bn_lenet", "--out-dir", str(tmp_path)]) == 1
    assert list(tmp_path.iterdir()) == []
    assert "not writing weights" in capsys.readouterr().err
