"""Pictures of training: curves, a live plot, a confusion matrix, confident mistakes.

Render functions return a :class:`matplotlib.figure.Figure` built with
``new_figure`` (not registered with pyplot). :class:`LivePlot` is the one
stateful piece: it owns a single figure whose lines get new data as training
goes, and in a notebook it replaces its own displayed picture in place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from cnnlib.training.history import History
from cnnlib.viz import style
from cnnlib.viz.common import figure_to_png, new_figure

_SERIES = ("train_loss", "val_loss", "train_acc", "val_acc")
_STYLE = {
    "train_loss": dict(color="C0", linestyle="-", label="train loss"),
    "val_loss": dict(color="C1", linestyle="--", marker="o", label="val loss"),
    "train_acc": dict(color="C0", linestyle=":", marker=".", label="train acc"),
    "val_acc": dict(color="C2", linestyle="--", marker="o", label="val acc"),
}

# What matplotlib accepts for "no marker".
_NO_MARKER = (None, "", " ", "None", "none")


def in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, nbconvert, Colab), False in a script."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    # Colab's shell subclasses ZMQInteractiveShell, hence the walk over the MRO.
    return shell is not None and any(
        cls.__name__ == "ZMQInteractiveShell" for cls in type(shell).__mro__
    )


class LivePlot:
    """One loss/accuracy figure that training updates in place.

    Each update sets new data on the same four lines and, when ``show`` is
    true, replaces the one displayed PNG through an IPython display handle, so
    a notebook cell shows a single picture that grows, not a pile of figures.

    Args:
        epochs: the x-axis runs from 0 to ``epochs``, with room for a marker at each end.
        show: display in the notebook; default: only when running in one.
    """

    def __init__(self, epochs: int, show: bool | None = None) -> None:
        self.epochs = epochs
        self.show = in_notebook() if show is None else show
        self.figure = new_figure(style.MAX_WIDTH, 3)
        self.ax_loss, self.ax_acc = self.figure.subplots(1, 2)
        self.data: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in _SERIES}
        self.lines = {}
        for name in _SERIES:
            ax = self.ax_loss if name.endswith("loss") else self.ax_acc
            (self.lines[name],) = ax.plot([], [], **_STYLE[name])
        for ax, label in ((self.ax_loss, "loss"), (self.ax_acc, "accuracy")):
            ax.set_xlim(0, max(1, epochs))
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel("epoch")
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
            ax.legend(loc="best")
        # Only now are the axes laid out at their final width, which the margin needs.
        engine = self.figure.get_layout_engine()
        if engine is not None:
            engine.execute(self.figure)
        for ax in (self.ax_loss, self.ax_acc):
            pad = _marker_room(ax)
            ax.set_xlim(-pad, max(1, epochs) + pad)
        self.draws = 0
        self._handle = None

    def add_train_point(self, x: float, train_loss: float) -> None:
        """A running training-loss average at fractional epoch ``x``."""
        self._add("train_loss", x, train_loss)
        self.draw()

    def add_epoch(self, epoch: int, row: Mapping[str, float]) -> None:
        """The metrics of a completed ``epoch`` (a :class:`History` row)."""
        xs = self.data["train_loss"][0]
        if not xs or xs[-1] != epoch:  # the running average at the epoch's end is its mean
            self._add("train_loss", epoch, row["train_loss"])
        for name in ("val_loss", "train_acc", "val_acc"):
            self._add(name, epoch, row[name])
        self.draw()

    def draw(self) -> None:
        """Push the data into the lines and refresh the displayed picture."""
        for name, (xs, ys) in self.data.items():
            self.lines[name].set_data(xs, ys)
        for ax in (self.ax_loss, self.ax_acc):
            ax.relim()
            ax.autoscale_view(scalex=False)
        self.draws += 1
        if self.show:
            from IPython.display import Image, display

            # A PNG rather than the Figure: it shows the same whichever matplotlib
            # backend the kernel has, and updating it replaces the old picture.
            picture = Image(data=figure_to_png(self.figure))
            if self._handle is None:
                self._handle = display(picture, display_id=True)
            else:
                self._handle.update(picture)

    def finish(self) -> None:
        """Final redraw (the last state stays in the notebook output)."""
        if self.draws == 0 or self.show:
            self.draw()

    def _add(self, name: str, x: float, y: float) -> None:
        self.data[name][0].append(float(x))
        self.data[name][1].append(float(y))


def _marker_room(ax: Axes) -> float:
    """Data units to add at each end of ``ax``'s x-range so an edge marker shows whole.

    A marker at the axis limit is clipped to its left or right half (the last epoch
    of the live plot sits at ``epochs``). The room is the largest marker radius, edge
    included, and half as much again: the axes narrow a little once tick labels grow.

    Args:
        ax: axes already laid out, with its lines and its x-limits set.

    Returns:
        The margin in x data units (0 when no line has markers).
    """
    radius_pt = max(
        ((line.get_markersize() + line.get_markeredgewidth()) / 2
         for line in ax.lines if line.get_marker() not in _NO_MARKER),
        default=0.0,
    )
    width_in = ax.get_position().width * ax.figure.get_figwidth()
    low, high = ax.get_xlim()
    return 1.5 * radius_pt / 72 / width_in * (high - low)


def plot_history(history: History | Mapping[str, History]) -> Figure:
    """Loss and accuracy per epoch; pass ``{"name": history, ...}`` to compare runs.

    Solid lines are training, dashed lines validation.
    """
    runs = {"": history} if isinstance(history, History) else dict(history)
    if not runs or any(len(h) == 0 for h in runs.values()):
        raise ValueError("plot_history needs at least one history with a completed epoch")
    fig = new_figure(style.MAX_WIDTH, 3.4 + 0.25 * len(runs))
    ax_loss, ax_acc = fig.subplots(1, 2)
    for k, (name, h) in enumerate(runs.items()):
        epochs = list(range(1, len(h) + 1))
        prefix = f"{name}: " if name else ""
        color = f"C{k}"
        ax_loss.plot(epochs, h.train_loss, "-", color=color, label=f"{prefix}train")
        ax_loss.plot(epochs, h.val_loss, "--o", color=color, ms=3, label=f"{prefix}val")
        ax_acc.plot(epochs, h.train_acc, "-", color=color, label=f"{prefix}train")
        ax_acc.plot(epochs, h.val_acc, "--o", color=color, ms=3, label=f"{prefix}val")
    for ax, label in ((ax_loss, "cross-entropy loss"), (ax_acc, "accuracy")):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    # One legend for both plots, under them: inside, it would hide the curves.
    fig.legend(*ax_loss.get_legend_handles_labels(), loc="outside lower center", ncols=2)
    return fig


def plot_confusion_matrix(
    cm: torch.Tensor, labels: Sequence[str], normalize: bool = True, title: str | None = None
) -> Figure:
    """Show a confusion matrix ``(C, C)`` (rows: true class, columns: predicted).

    Args:
        cm: counts, e.g. from ``cnnlib.training.trainer.confusion_matrix``.
        labels: ``C`` class names.
        normalize: colour and annotate each row as fractions of that class.
        title: optional figure title.
    """
    cm = torch.as_tensor(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] != len(labels):
        raise ValueError(
            f"cm must be square (C, C) with C = len(labels) = {len(labels)}, got {tuple(cm.shape)}"
        )
    counts = cm.double()
    values = counts / counts.sum(dim=1, keepdim=True).clamp(min=1) if normalize else counts
    fig = new_figure(style.MAX_WIDTH, 6)
    ax = fig.add_subplot()
    image = ax.imshow(values.numpy(), cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, shrink=0.8, label="fraction of true class" if normalize else "count")
    threshold = float(values.max()) / 2
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            v = float(values[i, j])
            text = f"{v:.2f}" if normalize else f"{int(cm[i, j])}"
            if normalize and v < 0.005:
                continue  # keep the picture readable: hide near-zero cells
            ax.text(j, i, text, ha="center", va="center",
                    color="white" if v > threshold else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    return fig


def most_confident_mistakes(probs: torch.Tensor, y: torch.Tensor, k: int = 8) -> torch.Tensor:
    """Indices of the ``k`` wrong predictions made with the highest probability.

    Args:
        probs: ``(N, C)`` class probabilities.
        y: ``(N,)`` true labels.

    Returns:
        int64 indices into ``N``, most confident first (fewer if there are fewer mistakes).
    """
    if probs.ndim != 2 or y.shape != probs.shape[:1]:
        raise ValueError(
            f"probs must be (N, C) and y (N,), got {tuple(probs.shape)} and {tuple(y.shape)}"
        )
    confidence, y_hat = probs.max(dim=1)
    wrong = torch.nonzero(y_hat != y).flatten()
    order = confidence[wrong].argsort(descending=True)
    return wrong[order[:k]]


def show_most_confident_mistakes(
    X: torch.Tensor,
    y: torch.Tensor,
    probs: torch.Tensor,
    labels: Sequence[str],
    k: int = 8,
    ncols: int = 4,
) -> Figure:
    """A grid of the images the model got wrong while most sure of itself.

    Args:
        X: images ``(N, H, W)`` or ``(N, 1, H, W)``, uint8 or float in ``[0, 1]``.
        y: ``(N,)`` true labels.
        probs: ``(N, C)`` predicted probabilities (e.g. from ``cnnlib.training.trainer.predict``).
        labels: class names indexed by label.
        k: how many mistakes to show.
        ncols: grid width.
    """
    if X.ndim == 4:
        X = X[:, 0]  # (N, H, W): one grey channel
    if X.ndim != 3 or X.shape[0] != probs.shape[0]:
        raise ValueError(
            f"X must be (N, H, W) or (N, 1, H, W) with N = {probs.shape[0]}, got {tuple(X.shape)}"
        )
    picks = most_confident_mistakes(probs, y, k)
    nrows = max(1, -(-len(picks) // ncols))
    fig = new_figure(style.MAX_WIDTH, (style.MAX_WIDTH / ncols + 0.5) * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False).flatten()
    for ax in axes:
        ax.axis("off")
    if len(picks) == 0:
        axes[0].text(0.5, 0.5, "no mistakes", ha="center", va="center")
    for ax, i in zip(axes, picks.tolist(), strict=False):  # more axes than picks
        p, guess = probs[i].max(dim=0)
        ax.imshow(X[i].float().numpy(), cmap="gray")  # as cnnlib.viz.images.show_images
        ax.set_title(f"true: {labels[int(y[i])]}\nsaid: {labels[int(guess)]} ({float(p):.0%})",
                     fontsize=style.FONT)
    return fig
