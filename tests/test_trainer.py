"""Trainer, History, evaluate and checkpoints, on a tiny synthetic image task.

The task is separable (class 1 images are brighter in the top half), so a few
epochs of a small CNN learn it; every run here takes well under a second.
"""

from __future__ import annotations

import math

import pytest
import torch
from synthetic_data import TensorBatches
from torch import nn
from torch.nn import functional as F

from cnnlib import setup
from cnnlib.training.checkpoint import (
    CheckpointMismatchError,
    load_weights,
    read_checkpoint,
    save_weights,
)
from cnnlib.training.history import FIELDS, History
from cnnlib.training.trainer import (
    TrainConfig,
    Trainer,
    confusion_matrix,
    evaluate,
    predict,
)
from cnnlib.viz.training import LivePlot, most_confident_mistakes, plot_history


def make_images(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` noisy 8x8 images (n, 1, 8, 8); label 1 when the top half is brighter."""
    y = torch.randint(0, 2, (n,), generator=generator)
    X = torch.rand(n, 1, 8, 8, generator=generator) * 0.5
    X[:, :, :4, :] += 0.5 * y.view(n, 1, 1, 1)  # top half, class 1 only
    return X, y


class TensorData(TensorBatches):
    """Noisy 8x8 images in batches of 32; counts its training passes."""

    def __init__(self, n_train: int = 192, n_val: int = 72, batch_size: int = 32) -> None:
        g = torch.Generator().manual_seed(1)
        X, y = make_images(n_train, g)
        X_val, y_val = make_images(n_val, g)
        super().__init__(X, y, batch_size, X_val, y_val)
        self.train_calls = 0

    def train_batches(self, shuffle=True, generator=None):
        self.train_calls += 1
        yield from super().train_batches(shuffle, generator)

    def val_batches(self):
        # Uneven batches (the last is smaller) so per-batch averaging would be wrong.
        for start in range(0, len(self.y_val), 20):
            yield self.X_val[start : start + 20], self.y_val[start : start + 20]


class InterruptingData(TensorData):
    """Raises KeyboardInterrupt in batch 3 of training epoch ``at_epoch`` (1-based)."""

    def __init__(self, at_epoch: int) -> None:
        super().__init__()
        self.at_epoch = at_epoch

    def train_batches(self, shuffle=True, generator=None):
        epoch = self.train_calls + 1
        for i, batch in enumerate(super().train_batches(shuffle, generator)):
            if epoch == self.at_epoch and i == 2:
                raise KeyboardInterrupt
            yield batch


def small_cnn(channels: int = 4) -> nn.Sequential:
    """Conv, batch norm and dropout: enough state to make resume non-trivial."""
    return nn.Sequential(
        nn.Conv2d(1, channels, kernel_size=3, padding=1),
        nn.BatchNorm2d(channels),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=2),
        nn.Flatten(),  # (N, channels, 4, 4) -> (N, 16 * channels)
        nn.Dropout(0.2),
        nn.Linear(channels * 16, 2),
    )


def quiet(**kw) -> TrainConfig:
    base = dict(epochs=3, lr=0.2, momentum=0.9, progress=False, live_plot=False)
    return TrainConfig(**{**base, **kw})


def test_loss_goes_down_and_history_is_complete():
    history = Trainer(quiet(epochs=4)).fit(small_cnn(), TensorData())
    assert len(history) == history.epochs == 4
    for name in FIELDS:
        values = getattr(history, name)
        assert len(values) == 4 and all(math.isfinite(v) for v in values), name
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.val_acc[-1] > 0.9
    assert history.stopped is None


def test_history_helpers_and_dict_round_trip():
    history = History()
    for e in range(3):
        history.append(train_loss=1.0 - 0.1 * e, train_acc=0.5, val_loss=[0.9, 0.7, 0.8][e],
                       val_acc=[0.6, 0.8, 0.7][e], seconds=1.0, images_per_s=100.0)
    assert history.best()["epoch"] == 2  # highest val_acc
    assert history.best("val_loss")["epoch"] == 2  # lowest val_loss
    assert history.final() == history.row(3)
    again = History.from_dict(history.to_dict())
    assert again == history
    text = repr(history)
    assert text.splitlines()[0] == "History(3 epochs)" and len(text.splitlines()) == 5
    with pytest.raises(ValueError, match="missing"):
        history.append(train_loss=1.0)
    with pytest.raises(ValueError, match="empty"):
        History().final()


def test_evaluate_matches_a_hand_loop():
    model = small_cnn()
    data = TensorData()
    Trainer(quiet(epochs=1)).fit(model, data)
    model.train()
    loss, acc = evaluate(model, data.val_batches())
    assert model.training, "evaluate must restore training mode"
    model.eval()
    with torch.no_grad():
        y_hat = model(data.X_val)
    assert loss == pytest.approx(F.cross_entropy(y_hat, data.y_val).item(), rel=1e-5)
    assert acc == pytest.approx((y_hat.argmax(1) == data.y_val).float().mean().item())


def test_predict_and_confusion_matrix_agree_with_the_model():
    model = small_cnn().eval()
    data = TensorData()
    probs, y = predict(model, data.val_batches())
    with torch.no_grad():
        reference = F.softmax(model(data.X_val), dim=1)
    torch.testing.assert_close(probs, reference)
    assert torch.equal(y, data.y_val)
    y_pred = probs.argmax(1)
    cm = confusion_matrix(y, y_pred, 2)
    for i in range(2):
        for j in range(2):
            assert cm[i, j] == int(((y == i) & (y_pred == j)).sum())
    with pytest.raises(ValueError, match="outside"):
        confusion_matrix(y, y_pred + 5, 2)
    wrong = most_confident_mistakes(probs, y, k=3)
    assert all(y_pred[i] != y[i] for i in wrong.tolist())
    confidence = probs.max(1).values[wrong]
    assert torch.all(confidence[:-1] >= confidence[1:])


def test_checkpoint_round_trip(tmp_path):
    path = tmp_path / "run.pt"
    model = small_cnn()
    history = Trainer(quiet(epochs=2, checkpoint=path)).fit(model, TensorData())
    blob = read_checkpoint(path)
    assert blob["epoch"] == 2
    assert History.from_dict(blob["history"]) == history
    assert blob["architecture"]["class"] == "torch.nn.modules.container.Sequential"
    assert blob["optimizer"]["state"], "momentum buffers should be saved"
    fresh = small_cnn()
    load_weights(fresh, path)
    for (name, a), b in zip(model.state_dict().items(), fresh.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temporary file left behind"


def test_resume_continues_the_same_run(tmp_path):
    setup(0)
    full_model = small_cnn()
    full = Trainer(quiet(epochs=4, checkpoint=tmp_path / "a.pt")).fit(full_model, TensorData())

    setup(0)
    cut = Trainer(quiet(epochs=4, checkpoint=tmp_path / "b.pt"))
    partial = cut.fit(small_cnn(), InterruptingData(at_epoch=3))
    assert len(partial) == 2 and "interrupted" in partial.stopped

    setup(123)  # a different initialisation: resume must replace it with the checkpoint's
    resumed_model = small_cnn()
    resumed = Trainer(quiet(epochs=4, checkpoint=tmp_path / "b.pt")).fit(
        resumed_model, TensorData(), resume=True
    )
    assert len(resumed) == 4 and resumed.stopped is None
    for name in ("train_loss", "train_acc", "val_loss", "val_acc"):
        assert getattr(resumed, name) == getattr(full, name), name
    for (name, a), b in zip(
        full_model.state_dict().items(), resumed_model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name  # bit for bit: same seeds, same order of operations


def test_resume_with_a_finished_checkpoint_trains_nothing(tmp_path):
    path = tmp_path / "done.pt"
    first = Trainer(quiet(epochs=2, checkpoint=path)).fit(small_cnn(), TensorData())
    data = TensorData()
    again = Trainer(quiet(epochs=2, checkpoint=path)).fit(small_cnn(), data, resume=True)
    assert again == first and data.train_calls == 0
    with pytest.raises(ValueError, match="checkpoint"):
        Trainer(quiet()).fit(small_cnn(), data, resume=True)


def test_keyboard_interrupt_keeps_the_history_so_far():
    trainer = Trainer(quiet(epochs=5))
    history = trainer.fit(small_cnn(), InterruptingData(at_epoch=2))
    assert len(history) == 1
    assert history.stopped.startswith("interrupted during epoch 2")
    assert trainer.history is history


class NaNAfter(nn.Module):
    """Wraps a model and returns NaN scores from the ``bad_call``-th forward on."""

    def __init__(self, bad_call: int) -> None:
        super().__init__()
        self.inner = small_cnn()
        self.calls = 0
        self.bad_call = bad_call

    def forward(self, X):
        out = self.inner(X)
        if not self.training:  # evaluation passes do not count
            return out
        self.calls += 1
        return out * float("nan") if self.calls >= self.bad_call else out


def test_nan_loss_stops_with_a_clear_message(capsys):
    # 6 training batches per epoch: call 9 is epoch 2, batch 3.
    trainer = Trainer(quiet(epochs=4, lr=0.05, progress=True))
    history = trainer.fit(NaNAfter(bad_call=9), TensorData())
    assert len(history) == 1
    for part in ("epoch 2", "batch 3", "lr=0.05", "smaller learning rate"):
        assert part in history.stopped, part
    assert history.stopped in capsys.readouterr().out


def test_a_huge_learning_rate_is_caught():
    # Two stacked linear layers: each step multiplies the other layer's gradient, so with
    # lr=1e10 the weights overflow to inf within a few batches (batch norm would hide it).
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.Linear(16, 2))
    history = Trainer(quiet(epochs=3, lr=1e10, momentum=0.0)).fit(model, TensorData())
    assert history.stopped is not None and "lr=1e+10" in history.stopped
    assert len(history) < 3


def test_loading_into_the_wrong_architecture_names_the_problem(tmp_path):
    path = save_weights(tmp_path / "w.pt", small_cnn(channels=4))
    with pytest.raises(CheckpointMismatchError) as info:
        load_weights(small_cnn(channels=8), path)
    message = str(info.value)
    assert "made for torch.nn.modules.container.Sequential" in message
    assert "0.weight: file (4, 1, 3, 3) vs model (8, 1, 3, 3)" in message
    deeper = nn.Sequential(*small_cnn(channels=4), nn.Linear(2, 2))
    with pytest.raises(CheckpointMismatchError, match=r"missing in the file: 7\.weight"):
        load_weights(deeper, path)


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="optimizer must be one of"):
        TrainConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="amp"):
            Trainer(TrainConfig(precision="amp", device="cpu"))


def test_adam_bf16_and_channels_last_train():
    config = quiet(epochs=2, optimizer="adam", lr=0.01, precision="bf16", channels_last=True,
                   device="cpu")
    history = Trainer(config).fit(small_cnn(), TensorData())
    assert len(history) == 2 and history.val_acc[-1] > 0.8


def test_progress_prints_one_line_per_epoch(capsys):
    Trainer(quiet(epochs=2, progress=True)).fit(small_cnn(), TensorData())
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("epoch ")]
    assert [ln.split(":")[0] for ln in lines] == ["epoch 1/2", "epoch 2/2"]


def test_live_plot_updates_one_figure_in_place():
    plot = LivePlot(epochs=2, show=False)
    plot.add_train_point(0.5, 0.9)
    plot.add_epoch(1, dict(train_loss=0.8, train_acc=0.6, val_loss=0.7, val_acc=0.65))
    plot.add_train_point(1.5, 0.6)
    plot.add_epoch(2, dict(train_loss=0.5, train_acc=0.8, val_loss=0.55, val_acc=0.8))
    assert [len(ax.lines) for ax in plot.figure.axes] == [2, 2]
    x, y = plot.lines["train_loss"].get_data()
    assert list(x) == [0.5, 1.0, 1.5, 2.0] and list(y) == [0.9, 0.8, 0.6, 0.5]
    assert list(plot.lines["val_acc"].get_data()[1]) == [0.65, 0.8]


def test_plot_history_draws_every_run():
    history = Trainer(quiet(epochs=2)).fit(small_cnn(), TensorData())
    fig = plot_history({"a": history, "b": history})
    assert [len(ax.lines) for ax in fig.axes] == [4, 4]


def test_live_plot_replaces_one_displayed_picture(monkeypatch):
    import IPython.display

    shown, updates = [], []

    class Handle:
        def update(self, obj):
            updates.append(obj)

    def fake_display(obj, display_id=False):
        shown.append(obj)
        return Handle()

    monkeypatch.setattr(IPython.display, "display", fake_display)
    plot = LivePlot(epochs=3, show=True)
    for epoch in (1, 2, 3):
        plot.add_train_point(epoch - 0.5, 1.0 / epoch)
        plot.add_epoch(epoch, dict(train_loss=0.9 / epoch, train_acc=0.5, val_loss=1.0,
                                   val_acc=0.5))
    plot.finish()
    assert len(shown) == 1, "the picture is displayed once, then updated in place"
    assert len(updates) == plot.draws - 1 == 6
    assert all(isinstance(u, IPython.display.Image) for u in updates)


class NaNOnValidation(nn.Module):
    """Trains normally, but scores validation data (eval mode) from ``bad_epoch`` on as NaN."""

    def __init__(self, bad_epoch: int) -> None:
        super().__init__()
        self.inner = small_cnn()
        self.bad_epoch, self.evaluations = bad_epoch, 0

    def train(self, mode: bool = True):
        if not mode:
            self.evaluations += 1
        return super().train(mode)

    def forward(self, X):
        out = self.inner(X)
        bad = not self.training and self.evaluations >= self.bad_epoch
        return out * float("nan") if bad else out


def test_nan_validation_loss_stops_with_a_message_instead_of_being_recorded(capsys):
    trainer = Trainer(quiet(epochs=4, progress=True))
    history = trainer.fit(NaNOnValidation(bad_epoch=2), TensorData())
    assert len(history) == 1 and math.isfinite(history.val_loss[0])
    for part in ("validation loss became nan", "epoch 2", "Keeping the 1 completed epoch"):
        assert part in history.stopped, part
    assert history.stopped in capsys.readouterr().out
