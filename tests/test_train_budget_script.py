"""scripts/train_budget.py: trains under a budget and records the run, as the notebooks do."""

import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from synthetic_data import TensorBatches

import cnnlib.runs.budget
from cnnlib.runs.budget import QUICK

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "train_budget.py"


@pytest.fixture()
def script():
    spec = importlib.util.spec_from_file_location("train_budget", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TinyFashion(TensorBatches):
    """Fashion-MNIST's interface over 64 random 28x28 images (no files needed)."""

    def __init__(self, batch_size=128, resize=None, train_subset=None, val_subset=None):
        g = torch.Generator().manual_seed(0)
        super().__init__(torch.rand(64, 1, 28, 28, generator=g), torch.arange(64) % 10, 16)


def test_a_run_is_trained_with_the_budget_and_recorded(script, monkeypatch, tmp_path, capsys):
    one_epoch = replace(QUICK["lenet"], epochs=1, floor=0.0)  # random labels: ~0.1
    monkeypatch.setattr(script, "get_budget", lambda name, budget: one_epoch)
    monkeypatch.setattr(cnnlib.runs.budget, "FashionMNIST", TinyFashion)
    assert script.main(["lenet", "--budget", "quick", "--runs-dir", str(tmp_path),
                        "--device", "cpu"]) == 0
    record = json.loads((tmp_path / "lenet_quick.json").read_text())
    assert record["model"] == "lenet" and record["budget"] == "quick"
    assert record["settings"]["epochs"] == 1 and len(record["history"]["val_acc"]) == 1
    assert record["hardware"]["device"] == "cpu"
    out = capsys.readouterr().out
    assert "lenet (quick): validation accuracy" in out and "≥ floor 0.00" in out
    assert f"record: {tmp_path / 'lenet_quick.json'}" in out


def test_a_run_below_its_floor_is_recorded_and_fails(script, monkeypatch, tmp_path, capsys):
    out_of_reach = replace(QUICK["lenet"], epochs=1, floor=1.01)
    monkeypatch.setattr(script, "get_budget", lambda name, budget: out_of_reach)
    monkeypatch.setattr(cnnlib.runs.budget, "FashionMNIST", TinyFashion)
    assert script.main(["lenet", "--runs-dir", str(tmp_path), "--device", "cpu"]) == 1
    assert (tmp_path / "lenet_quick.json").exists()  # what the run reached is still a result
    assert "below the floor 1.01" in capsys.readouterr().out


def test_an_unknown_model_is_refused_with_the_known_names(script, capsys):
    with pytest.raises(SystemExit) as exit_info:
        script.parse_args(["resnet19"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown model(s) resnet19" in err and "resnet18" in err
