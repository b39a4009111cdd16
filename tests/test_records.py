"""Run records: written only when asked, atomically, with what the results page needs."""

import json

import pytest
import torch
from torch import nn

from cnnlib.runs import records
from cnnlib.runs.budget import get_budget
from cnnlib.training.history import History


def _history(epochs: int = 2) -> History:
    history = History()
    for epoch in range(epochs):
        history.append(train_loss=1.0 / (epoch + 1), train_acc=0.5 + 0.1 * epoch,
                       val_loss=1.1 / (epoch + 1), val_acc=0.45 + 0.1 * epoch,
                       seconds=2.0, images_per_s=1000.0)
    return history


def test_nothing_is_written_without_a_runs_dir(monkeypatch, tmp_path):
    monkeypatch.delenv(records.RUNS_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    model = nn.Linear(3, 2)
    assert records.save_run_record("lenet", get_budget("lenet", "quick"), _history(), model) is None
    assert list(tmp_path.iterdir()) == []


def test_record_holds_the_run(monkeypatch, tmp_path):
    monkeypatch.setenv(records.RUNS_DIR_ENV, str(tmp_path))
    model = nn.Linear(3, 2)
    history = _history(3)
    path = records.save_run_record("lenet", get_budget("lenet", "quick"), history, model)
    assert path == tmp_path / "lenet_quick.json"
    record = json.loads(path.read_text())
    assert record["model"] == "lenet" and record["budget"] == "quick"
    assert record["parameters"] == 3 * 2 + 2
    assert record["final"]["val_acc"] == pytest.approx(history.val_acc[-1])
    assert record["best"]["epoch"] == 3
    assert record["train_seconds"] == pytest.approx(6.0)
    assert record["settings"]["epochs"] == get_budget("lenet", "quick").epochs
    assert record["hardware"]["torch"] == torch.__version__
    assert records.load_run_records(tmp_path) == [record]


def test_empty_history_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no epochs"):
        records.save_run_record("lenet", get_budget("lenet"), History(), nn.Linear(1, 1),
                                runs_dir=tmp_path)
