"""The record of a training run: one row of metrics per completed epoch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FIELDS = ("train_loss", "train_acc", "val_loss", "val_acc", "seconds", "images_per_s")
# Which direction is "better" for each metric, used by History.best.
_HIGHER_IS_BETTER = {"train_acc": True, "val_acc": True, "images_per_s": True}


@dataclass
class History:
    """Per-epoch metrics of a run, as parallel lists (index 0 is epoch 1).

    Attributes:
        train_loss: mean cross-entropy over the epoch's training batches.
        train_acc: accuracy over the same batches (measured while training).
        val_loss: mean cross-entropy on the validation set after the epoch.
        val_acc: validation accuracy after the epoch.
        seconds: wall time of the epoch, evaluation included.
        images_per_s: training throughput (evaluation excluded).
        stopped: why training ended early (NaN loss, Ctrl-C), or None.
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    images_per_s: list[float] = field(default_factory=list)
    stopped: str | None = None

    def __len__(self) -> int:
        return len(self.train_loss)

    @property
    def epochs(self) -> int:
        """Number of completed epochs."""
        return len(self)

    def append(self, **row: float) -> None:
        """Add one epoch; ``row`` must hold exactly the six metric names."""
        if set(row) != set(FIELDS):
            raise ValueError(
                f"an epoch row needs exactly {FIELDS}; missing {sorted(set(FIELDS) - set(row))}, "
                f"unexpected {sorted(set(row) - set(FIELDS))}"
            )
        for name in FIELDS:
            getattr(self, name).append(float(row[name]))

    def row(self, epoch: int) -> dict[str, float]:
        """The metrics of ``epoch`` (1-based), with an ``'epoch'`` entry."""
        if not 1 <= epoch <= len(self):
            raise IndexError(f"epoch must be in [1, {len(self)}], got {epoch}")
        return {"epoch": epoch, **{name: getattr(self, name)[epoch - 1] for name in FIELDS}}

    def final(self) -> dict[str, float]:
        """The last completed epoch's row."""
        if not len(self):
            raise ValueError("the history is empty: no epoch completed")
        return self.row(len(self))

    def best(self, metric: str = "val_acc") -> dict[str, float]:
        """The row of the epoch with the best ``metric`` (highest accuracy, lowest loss)."""
        if metric not in FIELDS:
            raise ValueError(f"metric must be one of {FIELDS}, got {metric!r}")
        if not len(self):
            raise ValueError("the history is empty: no epoch completed")
        values = getattr(self, metric)
        pick = max if _HIGHER_IS_BETTER.get(metric, False) else min
        index = pick(range(len(values)), key=values.__getitem__)
        return self.row(index + 1)

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and strings (JSON- and ``weights_only``-safe)."""
        return {**{name: list(getattr(self, name)) for name in FIELDS}, "stopped": self.stopped}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> History:
        """Inverse of :meth:`to_dict`."""
        lengths = {name: len(d.get(name, [])) for name in FIELDS}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"history lists must be equally long, got lengths {lengths}")
        rows = {name: [float(v) for v in d.get(name, [])] for name in FIELDS}
        return cls(**rows, stopped=d.get("stopped"))

    def __repr__(self) -> str:
        head = f"History({len(self)} epoch{'s' if len(self) != 1 else ''}"
        head += ", stopped early)" if self.stopped else ")"
        tail = [f"stopped: {self.stopped}"] if self.stopped else []
        if not len(self):
            return "\n".join([head, *tail])
        lines = [head, "epoch  train_loss  train_acc  val_loss  val_acc  seconds     img/s"]
        for e in range(1, len(self) + 1):
            r = self.row(e)
            lines.append(
                f"{e:>5}  {r['train_loss']:>10.4f}  {r['train_acc']:>9.4f}  {r['val_loss']:>8.4f}"
                f"  {r['val_acc']:>7.4f}  {r['seconds']:>7.1f}  {r['images_per_s']:>8,.0f}"
            )
        return "\n".join(lines + tail)
