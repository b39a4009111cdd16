"""Budgets: chosen by CNNLIB_BUDGET, full = D2L's settings, quick = printed reductions."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from synthetic_data import TensorBatches
from torch import nn

import cnnlib.runs.budget
from cnnlib.runs.budget import (
    ENV_VAR,
    FULL,
    QUICK,
    Budget,
    Run,
    RunFailed,
    current_budget,
    describe,
    get_budget,
)
from cnnlib.runs.records import RUNS_DIR_ENV
from cnnlib.training.trainer import TrainConfig

CHAPTER_8 = ("alexnet", "vgg11", "nin", "googlenet", "bn_lenet", "bn_lenet_scratch", "resnet18")


def test_quick_is_the_default(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert current_budget() == "quick"
    assert get_budget("lenet") is QUICK["lenet"]
    monkeypatch.setenv(ENV_VAR, "")
    assert current_budget() == "quick"


def test_the_environment_variable_selects_full(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "full")
    assert get_budget("lenet") is FULL["lenet"]
    # An explicit argument wins over the environment.
    assert get_budget("lenet", "quick") is QUICK["lenet"]


def test_an_unknown_budget_names_the_allowed_ones(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "medium")
    with pytest.raises(ValueError, match=r"'medium'.*\('quick', 'full'\)"):
        get_budget("lenet")
    with pytest.raises(ValueError, match="quick"):
        get_budget("lenet", budget="huge")
    with pytest.raises(ValueError, match="known models"):
        get_budget("lenet5", budget="full")


def test_full_budgets_are_d2l_settings():
    for name in ("lenet", "bn_lenet", *CHAPTER_8):
        b = FULL[name]
        assert (b.batch_size, b.epochs, b.optimizer, b.schedule) == (128, 10, "sgd", "constant")
        assert b.train_subset is None and b.val_subset is None
        assert b.width_divisor == (4 if name == "vgg11" else 1)  # D2L's VGG has 1/4 channels
    assert (FULL["lenet"].lr, FULL["lenet"].resize) == (0.1, None)
    assert (FULL["alexnet"].lr, FULL["alexnet"].resize) == (0.01, 224)
    assert (FULL["nin"].lr, FULL["googlenet"].resize, FULL["resnet18"].resize) == (0.05, 96, 96)


def test_every_model_has_both_budgets_and_quick_is_never_bigger():
    assert set(QUICK) == set(FULL)
    for name, quick in QUICK.items():
        full = FULL[name]
        assert quick.budget == "quick" and full.budget == "full"
        assert quick.epochs <= full.epochs and quick.width_divisor >= full.width_divisor
        assert quick.side <= full.side
        assert quick.changes(), f"quick {name} should reduce something"
    assert not [name for name, quick in QUICK.items() if quick.placeholder], "untuned budgets"
    for name, quick in QUICK.items():  # an untuned budget says so whenever it is shown
        assert ("placeholder" in describe(name, "quick")) == quick.placeholder, name


def test_describe_lists_exactly_the_changes():
    quick = get_budget("lenet", "quick")
    text = describe("lenet", "quick")
    changed = {name for name, _, _ in quick.changes()}
    for name, full_value, quick_value in quick.changes():
        line = next(ln for ln in text.splitlines() if ln.split() and ln.split()[0] == name)
        assert line.split()[1:] == [str(full_value), str(quick_value)]
    for name in ("batch_size", "resize", "width_divisor"):
        if name not in changed:
            assert name not in text
    assert "nothing reduced" in describe("lenet", "full")
    for name, quick in QUICK.items():  # a subset is shown against the full split's 60000
        if quick.train_subset:
            assert "60000" in describe(name, "quick"), name


def test_train_config_and_data_kwargs_carry_the_budget():
    b = get_budget("modern_lenet", "quick")
    config = b.train_config(progress=False)
    assert isinstance(config, TrainConfig) and not config.progress
    assert (config.epochs, config.lr, config.optimizer) == (b.epochs, b.lr, b.optimizer)
    assert b.data_kwargs() == dict(batch_size=b.batch_size, resize=b.resize,
                                   train_subset=b.train_subset, val_subset=b.val_subset)


def test_quick_settings_build_working_models():
    # The registry is the lead's; each quick budget must produce a model that accepts
    # its own resolution (e.g. NiN needs at least 67 pixels).
    import torch

    from cnnlib.models.registry import get_model

    for name, b in QUICK.items():
        model = get_model(name, **b.model_kwargs()).eval()
        side = b.side
        with torch.no_grad():
            assert model(torch.zeros(2, 1, side, side)).shape == (2, 10), name


def test_describe_prints_the_model_arguments():
    text = describe("nin", "quick")
    assert "model arguments: init='kaiming', class_bias=1.0" in text
    assert "model arguments" not in describe("lenet", "quick")
    assert get_budget("nin", "quick").model_kwargs()["init"] == "kaiming"


def test_train_config_carries_the_memory_layout():
    for table in (QUICK, FULL):
        for name, budget in table.items():
            assert budget.train_config().channels_last is budget.channels_last, name
    assert QUICK["resnet18"].train_config().channels_last
    assert not FULL["resnet18"].train_config().channels_last
    assert not QUICK["resnet18"].train_config(channels_last=False).channels_last


RUNS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "runs"


def _recorded_val_acc(name: str, budget: str) -> float | None:
    """The final validation accuracy of our recorded run, or None when there is none."""
    path = RUNS / f"{name}_{budget}.json"
    return json.loads(path.read_text())["final"]["val_acc"] if path.exists() else None


def test_every_floor_is_one_our_own_recorded_run_clears():
    # A floor is ours, never a number from elsewhere: each sits below what our own run of
    # the same settings reached (the record the results page shows), and a budget that
    # nobody has run has no floor. Every quick budget has a run (make notebooks).
    for table in (QUICK, FULL):
        for name, budget in table.items():
            reached = _recorded_val_acc(name, budget.budget)
            if reached is None:
                assert budget.budget == "full" and budget.floor is None, (name, budget.budget)
                continue
            assert isinstance(budget.floor, float), (name, budget.budget)
            # Below the run, with room for another seed, but high enough to catch a run
            # that did not learn (0.1 is chance on ten classes).
            assert 0.5 < budget.floor <= reached - 0.02, (name, budget.budget, reached)
    assert "floor" not in describe("lenet", "quick")  # the printed table is unchanged
    assert "floor" not in describe("alexnet", "full")


def test_a_budget_without_a_floor_trains_and_says_so(monkeypatch, capsys):
    monkeypatch.delenv(RUNS_DIR_ENV, raising=False)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    _tiny_budget(floor=None).train(model, data=_separable(), **_QUIET)
    assert "(no floor) after 2 epochs" in capsys.readouterr().out


def test_side_is_the_resolution_the_model_sees():
    assert get_budget("lenet", "quick").side == 28
    assert get_budget("resnet18", "quick").side == 64 == QUICK["resnet18"].resize


# -- Budget.train: the whole training cell --------------------------------------------


def _separable(n: int = 64) -> TensorBatches:
    """Two classes a linear layer separates at once: the sign of the first pixel."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, 1, 4, 4, generator=g)
    return TensorBatches(X, (X[:, 0, 0, 0] > 0).long(), batch_size=16)


def _tiny_budget(**changes) -> Budget:
    return replace(QUICK["lenet"], epochs=2, lr=0.1, **changes)


_QUIET = dict(device="cpu", live_plot=False, progress=False)


def test_train_fits_records_only_under_make_notebooks_and_reports_the_floor(
    monkeypatch, tmp_path, capsys
):
    monkeypatch.delenv(RUNS_DIR_ENV, raising=False)
    model, data = nn.Sequential(nn.Flatten(), nn.Linear(16, 2)), _separable()
    run = _tiny_budget(floor=0.5).train(model, data=data, **_QUIET)
    assert isinstance(run, Run) and run.model is model and run.data is data
    assert len(run.history) == 2 and run.record is None and run.device.type == "cpu"
    assert run.val_acc == run.history.final()["val_acc"] >= 0.5 and run.cpu_seconds >= 0
    assert list(tmp_path.iterdir()) == []
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"lenet (quick): validation accuracy {run.val_acc:.4f} ≥ floor 0.50 "
                           "after 2 epochs, "), line
    assert line.endswith("s of CPU time)"), line

    monkeypatch.setenv(RUNS_DIR_ENV, str(tmp_path))  # what `make notebooks` sets
    run = _tiny_budget(floor=0.5).train(model, data=data, **_QUIET)
    assert run.record == tmp_path / "lenet_quick.json"
    record = json.loads(run.record.read_text())
    assert record["settings"]["floor"] == 0.5 and record["hardware"]["device"] == "cpu"
    assert record["final"]["val_acc"] == pytest.approx(run.val_acc)


def test_train_below_the_floor_fails_naming_both_numbers(monkeypatch, tmp_path):
    monkeypatch.setenv(RUNS_DIR_ENV, str(tmp_path))
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    with pytest.raises(RunFailed) as failed:
        _tiny_budget(floor=1.01).train(model, data=_separable(), **_QUIET)
    message = str(failed.value)
    assert re.search(r"lenet \(quick\): validation accuracy \d\.\d{4} after 2 epochs "
                     r"is below the floor 1.01 of the 'quick' budget", message), message
    assert isinstance(failed.value, AssertionError)  # a failed check, as nbval reports it
    assert (tmp_path / "lenet_quick.json").exists()  # the run happened: it is recorded


def test_train_that_stops_early_fails_and_records_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv(RUNS_DIR_ENV, str(tmp_path))
    data = _separable()
    data.X = torch.full_like(data.X, float("nan"))  # the first loss is NaN
    with pytest.raises(RunFailed, match="stopped early"):
        _tiny_budget(floor=0.0).train(nn.Sequential(nn.Flatten(), nn.Linear(16, 2)),
                                      data=data, **_QUIET)
    assert list(tmp_path.iterdir()) == []


def test_train_builds_the_data_and_the_model_from_the_budget(monkeypatch):
    built = {}

    def fake_data(**kwargs):
        built.update(kwargs)
        return _separable()

    monkeypatch.setattr(cnnlib.runs.budget, "FashionMNIST", fake_data)
    monkeypatch.setattr(cnnlib.runs.budget, "get_model",
                        lambda name, **kw: nn.Sequential(nn.Flatten(), nn.Linear(16, 2)))
    budget = _tiny_budget(floor=0.0, train_subset=64)
    run = budget.train(**_QUIET)
    assert built == budget.data_kwargs() and isinstance(run.model, nn.Sequential)


def test_every_accuracy_a_budget_note_states_is_one_of_our_recorded_runs():
    # describe() prints the notes in the chapters: an accuracy there ("about 0.89",
    # "(0.863)") must be what a recorded run of ours reached (this budget's run, the same
    # model's other budget, or, for LeNet, d2l's own trainer in our benchmark), to the
    # two decimals that "about" promises.
    d2l = json.loads((RUNS.parent / "lenet_vs_d2l.json").read_text())["d2l"]["val_acc"]
    for table in (QUICK, FULL):
        for name, budget in table.items():
            recorded = [acc for acc in (_recorded_val_acc(name, "quick"),
                                        _recorded_val_acc(name, "full")) if acc is not None]
            if name == "lenet":
                recorded.append(d2l)
            # Learning rates (lr 0.01) are settings, not results.
            for figure in re.findall(r"(?<![\d.])(?<!lr )0\.\d{2,3}(?!\d)", budget.note or ""):
                assert any(abs(float(figure) - acc) <= 0.011 for acc in recorded), (
                    f"{name} ({budget.budget}) says {figure}; our runs reached {recorded}")
