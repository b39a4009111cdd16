"""Training any classifier: a config dataclass, a ``Trainer`` and the ``History`` it returns.

The loop is deliberately plain (forward, cross-entropy, backward, step) so a
reader can follow it; what it adds around that loop is what a notebook needs:

* picks CUDA, then Apple's MPS, then the CPU, unless told otherwise;
* keeps per-batch overhead tiny: losses and correct counts are summed on the
  device and read back once per epoch (no ``.item()`` per batch on a GPU);
* a tqdm progress bar and one live loss/accuracy figure redrawn in place;
* a checkpoint after every epoch (atomic), and ``fit(..., resume=True)`` that
  continues the same run: shuffling and dropout are reseeded per epoch from
  ``seed``, so a resumed run repeats an uninterrupted one exactly;
* a NaN/inf loss (training or validation) or Ctrl-C ends training with a message and keeps
  the history;
* ``split_batch=k`` on a CPU trains each batch as k slices on k threads, the
  same step computed faster for small models (see :mod:`cnnlib.training.parallel`).

``data`` is anything with ``train_batches(shuffle, generator)`` and
``val_batches()`` yielding ``(X, y)`` with ``X`` float ``(B, C, H, W)`` and
``y`` int64 ``(B,)`` -- ``cnnlib.data.FashionMNIST`` is one.

``evaluate``, ``predict`` and ``confusion_matrix`` live in :mod:`cnnlib.training.evaluate`
and are re-exported here, so ``from cnnlib.training.trainer import evaluate`` works.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from cnnlib.training.checkpoint import load_weights, save_checkpoint
from cnnlib.training.device import DEVICES, autocast, resolve_device, to_device
from cnnlib.training.evaluate import confusion_matrix, evaluate, predict
from cnnlib.training.history import History
from cnnlib.training.parallel import SlicedStep, check_slice_count, check_splittable

__all__ = [
    "TrainConfig",
    "Trainer",
    "History",
    "evaluate",
    "predict",
    "confusion_matrix",
    "resolve_device",
]

OPTIMIZERS = ("sgd", "adam")
PRECISIONS = ("fp32", "bf16", "amp")
SCHEDULES = ("constant", "cosine")
Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


class DataModule(Protocol):
    """What :meth:`Trainer.fit` needs from ``data``."""

    def train_batches(
        self, shuffle: bool = True, generator: torch.Generator | None = None
    ) -> Batches: ...

    def val_batches(self) -> Batches: ...


@dataclass
class TrainConfig:
    """Everything about a training run except the model and the data (batch size lives there)."""

    epochs: int = 10  # total passes over the training set, also when resuming
    lr: float = 0.1  # learning rate
    optimizer: str = "sgd"  # 'sgd' (the book's choice) or 'adam'
    momentum: float = 0.0  # SGD momentum; ignored by Adam
    weight_decay: float = 0.0  # L2 penalty applied by the optimizer
    schedule: str = "constant"  # 'constant' lr, or 'cosine': lr decays to 0 over the run
    device: str = "auto"  # 'auto' = CUDA, else MPS, else CPU; or name one of them
    precision: str = "fp32"  # 'fp32'; 'bf16' autocast (fast on AVX-512 CPUs); 'amp' = CUDA fp16
    channels_last: bool = False  # NHWC layout: faster convolutions under bf16/amp
    split_batch: int = 1  # CPU: cut each batch into this many slices, one thread each (parallel.py)
    checkpoint: str | Path | None = None  # written after every epoch when set; resume reads it
    live_plot: bool = True  # one loss/accuracy figure redrawn in place (notebooks only)
    progress: bool = True  # tqdm bar plus one summary line per epoch
    seed: int | None = 0  # reseeds shuffling and dropout each epoch; None = leave RNGs alone

    def __post_init__(self) -> None:
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 1:
            raise ValueError(f"epochs must be a positive int, got {self.epochs!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        for name, value, allowed in (
            ("optimizer", self.optimizer, OPTIMIZERS),
            ("precision", self.precision, PRECISIONS),
            ("device", self.device, DEVICES),
            ("schedule", self.schedule, SCHEDULES),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        check_slice_count(self.split_batch)
        if self.momentum < 0 or self.weight_decay < 0:
            raise ValueError(
                f"momentum and weight_decay must be >= 0, got {self.momentum}, {self.weight_decay}"
            )


class _Stop(Exception):
    """Internal: training must end early; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Trainer:
    """Fits a classifier to a data module with cross-entropy loss.

    Example::

        trainer = Trainer(TrainConfig(epochs=10, lr=0.1))
        history = trainer.fit(LeNet(), FashionMNIST(batch_size=128))

    Attributes:
        config: the run's settings.
        device: the device picked from ``config.device``.
        history: the history of the latest (or current) ``fit``; still
            readable after an interruption.
    """

    def __init__(self, config: TrainConfig | None = None, **overrides: Any) -> None:
        self.config = replace(config or TrainConfig(), **overrides)
        self.device = resolve_device(self.config.device)
        if self.config.precision == "amp" and self.device.type != "cuda":
            raise ValueError(
                f"precision='amp' is CUDA fp16 but the device is {self.device.type}; "
                "use precision='bf16' (CPU autocast) or 'fp32'"
            )
        self.history = History()
        self._batches_per_epoch: int | None = None

    def make_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        """The optimizer named in the config, over all of ``model``'s parameters."""
        c = self.config
        if c.optimizer == "adam":
            return torch.optim.Adam(model.parameters(), lr=c.lr, weight_decay=c.weight_decay)
        return torch.optim.SGD(
            model.parameters(), lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay
        )

    def fit(self, model: nn.Module, data: DataModule, resume: bool = False) -> History:
        """Train ``model`` for ``config.epochs`` epochs in total and return the history.

        Args:
            model: any ``nn.Module`` mapping ``(B, C, H, W)`` to ``(B, num_classes)``;
                moved to the trainer's device.
            data: a data module (see the module docstring).
            resume: continue from ``config.checkpoint`` (weights, optimizer state,
                history, epoch) when that file exists; otherwise start afresh.

        Returns:
            One entry per completed epoch. When training stops early (NaN loss,
            Ctrl-C) the history so far is returned and ``history.stopped`` says why.
        """
        c = self.config
        check_splittable(model, self.device, c.split_batch)  # before any work is done
        model.to(self.device)
        if c.channels_last:
            model.to(memory_format=torch.channels_last)
        optimizer = self.make_optimizer(model)
        scaler = torch.amp.GradScaler("cuda") if c.precision == "amp" else None
        self.history = History()
        start = self._maybe_resume(model, optimizer, scaler) if resume else 0
        history = self.history
        if start >= c.epochs:
            self._say(f"checkpoint already holds {start} of {c.epochs} epochs; nothing to do")
            return history

        num_batches = getattr(data, "num_train_batches", None)
        self._batches_per_epoch = num_batches
        total = None if num_batches is None else num_batches * (c.epochs - start)
        # At most one redraw a second: in a notebook each redraw is a message on the
        # kernel's output channel, and thousands of them (a few minutes at tqdm's
        # default 0.1 s) overflow its queue, so tools that read it afterwards (nbval)
        # lose messages and time out.
        bar = tqdm(total=total, unit="batch", disable=not c.progress, leave=True, mininterval=1.0)
        plot = self._live_plot(c.epochs)
        try:
            for epoch in range(start, c.epochs):
                bar.set_description(f"epoch {epoch + 1}/{c.epochs}")
                row = self._run_epoch(model, data, optimizer, scaler, epoch, bar, plot)
                history.append(**row)
                if c.checkpoint is not None:
                    save_checkpoint(
                        c.checkpoint, model, optimizer, epoch + 1, history.to_dict(),
                        self._config_dict(), None if scaler is None else scaler.state_dict(),
                    )
                self._say(_epoch_line(epoch + 1, c.epochs, row, self.device))
                if plot is not None:
                    plot.add_epoch(epoch + 1, row)
        except _Stop as stop:
            history.stopped = stop.message
            self._say(stop.message)
        except KeyboardInterrupt:
            history.stopped = (
                f"interrupted during epoch {len(history) + 1}; "
                f"keeping the {len(history)} completed epoch(s)"
            )
            self._say(history.stopped)
        finally:
            bar.close()
            if plot is not None:
                plot.finish()
        return history

    # -- one epoch -----------------------------------------------------------------

    def _run_epoch(self, model, data, optimizer, scaler, epoch, bar, plot) -> dict[str, float]:
        c = self.config
        generator = None
        if c.seed is not None:
            # Deriving every epoch's randomness from (seed, epoch) is what makes a resumed
            # run identical to an uninterrupted one without saving RNG states.
            torch.manual_seed(c.seed * 1_000_003 + epoch)
            generator = torch.Generator().manual_seed(c.seed * 1_000_003 + epoch)
        start = time.perf_counter()
        loss_sum, correct, count = self._train_batches(
            model, data.train_batches(shuffle=True, generator=generator),
            optimizer, scaler, epoch, bar, plot,
        )
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        train_seconds = time.perf_counter() - start
        if count == 0:
            raise ValueError("data.train_batches() yielded no examples")
        val_loss, val_acc = evaluate(
            model, data.val_batches(), self.device, c.precision, c.channels_last
        )
        if not math.isfinite(val_loss):
            # Training stayed finite but the model's scores on the validation data are not:
            # recording a nan epoch would hide it, so stop as for a nan training loss.
            raise _Stop(
                f"training stopped: the validation loss became {val_loss} in epoch {epoch + 1} "
                f"while the training loss stayed finite, so the weights give non-finite scores "
                f"on unseen data (lr={c.lr:g}, precision={c.precision}); try a smaller learning "
                f"rate or fp32. Keeping the {len(self.history)} completed epoch(s)."
            )
        return {
            "train_loss": loss_sum.item() / count,
            "train_acc": correct.item() / count,
            "val_loss": val_loss,
            "val_acc": val_acc,
            "seconds": time.perf_counter() - start,
            "images_per_s": count / max(train_seconds, 1e-9),
        }

    def _train_batches(self, model, batches, optimizer, scaler, epoch, bar, plot):
        if self.config.split_batch == 1:
            return self._train_pass(model, batches, optimizer, scaler, epoch, bar, plot, None)
        c = self.config
        with SlicedStep(model, c.split_batch, self.device, c.precision) as sliced:
            return self._train_pass(model, batches, optimizer, scaler, epoch, bar, plot, sliced)

    def _train_pass(self, model, batches, optimizer, scaler, epoch, bar, plot, sliced):
        c, device = self.config, self.device
        model.train()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.int64, device=device)
        nonfinite = torch.zeros((), dtype=torch.int64, device=device)
        count, checked = 0, 0
        num_batches = self._batches_per_epoch or 0
        plot_every = max(1, num_batches // 4) if plot is not None and num_batches else 0
        for i, (X, y) in enumerate(batches):
            if c.schedule == "cosine":
                # Computed from the position in the run, not stepped: nothing to save for resume.
                done = (epoch + (i / num_batches if num_batches else 0.0)) / c.epochs
                for group in optimizer.param_groups:
                    group["lr"] = c.lr * 0.5 * (1.0 + math.cos(math.pi * done))
            X, y = to_device(X, y, device, c.channels_last)
            optimizer.zero_grad(set_to_none=True)
            if sliced is not None:
                # Forward and backward both happen here, slice by slice; the check
                # below still comes before the optimizer step.
                loss, y_hat = sliced.forward_backward(X, y)
            else:
                with autocast(device, c.precision):
                    y_hat = model(X)
                    loss = F.cross_entropy(y_hat, y)
            bad = ~torch.isfinite(loss.detach())
            if device.type == "cpu":
                # On the CPU a check costs nothing, and we can stop before the bad step.
                if bad:
                    raise _Stop(self._nan_message(epoch, f"batch {i + 1}", loss))
            else:
                # Reading a GPU value forces a sync, so look every 50 batches only.
                nonfinite += bad
                if (i + 1) % 50 == 0:
                    if nonfinite.item():
                        where = f"one of batches {checked + 1}..{i + 1}"
                        raise _Stop(self._nan_message(epoch, where, loss))
                    checked = i + 1
            if scaler is not None:  # CUDA only, so never together with slices
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            else:
                if sliced is None:
                    loss.backward()
                optimizer.step()
            n = y.shape[0]
            loss_sum += loss.detach().float() * n
            correct += (y_hat.detach().argmax(dim=1) == y).sum()
            count += n
            bar.update(1)
            if plot_every and (i + 1) % plot_every == 0:
                plot.add_train_point(epoch + (i + 1) / num_batches, loss_sum.item() / count)
        if nonfinite.item():
            raise _Stop(self._nan_message(epoch, f"one of batches {checked + 1}..end", loss))
        return loss_sum, correct, count

    def _nan_message(self, epoch: int, where: str, loss: torch.Tensor) -> str:
        return (
            f"training stopped: the loss became {loss.item()} in epoch {epoch + 1}, {where} "
            f"(lr={self.config.lr:g}, optimizer={self.config.optimizer}). The weights diverged; "
            f"try a smaller learning rate, e.g. lr={self.config.lr / 10:g}. "
            f"Keeping the {len(self.history)} completed epoch(s)."
        )

    # -- helpers ---------------------------------------------------------------------

    def _maybe_resume(self, model, optimizer, scaler) -> int:
        c = self.config
        if c.checkpoint is None:
            raise ValueError("resume=True needs TrainConfig(checkpoint=path) to know what to read")
        if not Path(c.checkpoint).is_file():
            self._say(f"no checkpoint at {c.checkpoint}; starting from epoch 1")
            return 0
        blob = load_weights(model, c.checkpoint)  # raises if made for another architecture
        model.to(self.device)
        if blob.get("optimizer") is not None:
            optimizer.load_state_dict(blob["optimizer"])
        if scaler is not None and blob.get("scaler"):
            scaler.load_state_dict(blob["scaler"])
        if blob.get("history"):
            self.history = History.from_dict(blob["history"])
        epoch = int(blob.get("epoch", 0))
        self._say(f"resumed from {c.checkpoint} after epoch {epoch}")
        return epoch

    def _config_dict(self) -> dict[str, Any]:
        d = asdict(self.config)
        d["checkpoint"] = None if d["checkpoint"] is None else str(d["checkpoint"])
        return d

    def _live_plot(self, epochs: int):
        if not self.config.live_plot:
            return None
        from cnnlib.viz.training import LivePlot, in_notebook

        return LivePlot(epochs) if in_notebook() else None

    def _say(self, message: str) -> None:
        if self.config.progress:
            tqdm.write(message)


def _epoch_line(epoch: int, epochs: int, row: dict[str, float], device: torch.device) -> str:
    return (
        f"epoch {epoch}/{epochs}: train loss {row['train_loss']:.4f}, "
        f"train acc {row['train_acc']:.4f}, val loss {row['val_loss']:.4f}, "
        f"val acc {row['val_acc']:.4f} ({row['images_per_s']:,.0f} img/s on {device.type})"
    )
