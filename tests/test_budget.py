"""Budgets: chosen by CNNLIB_BUDGET, full = D2L's settings, quick = printed reductions."""

from __future__ import annotations

import pytest

from cnnlib.budget import ENV_VAR, FULL, QUICK, current_budget, describe, get_budget
from cnnlib.train import TrainConfig

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
        assert (quick.resize or 28) <= (full.resize or 28)
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
        side = b.resize or 28
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
