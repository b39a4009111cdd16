"""Pictures of batch norm's statistics (section 8.5); the numbers come from cnnlib.explain.bn_stats.

* :func:`activation_stats_figure`: one moment of training, with and without batch norm:
  the chosen layer's histogram, every layer's mean and spread, and the probe loss so far.
* :func:`batch_stats_figure`: one batch-norm channel over many batches of one size: the
  batch means and variances against the running statistics, how the batch means spread
  as the batch grows, and the layer's output in training and in evaluation mode.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullLocator

from cnnlib.explain.bn_stats import (
    NET_NAMES,
    SATURATION,
    LayerSweep,
    Snapshots,
    blocks,
)
from cnnlib.viz import style
from cnnlib.viz.common import new_figure

#: Colours of the two networks (and of the two modes), the same in every panel.
WITH_BN = "#1f77b4"
WITHOUT_BN = "#d62728"
NET_COLORS = {"with_bn": WITH_BN, "without_bn": WITHOUT_BN}
NET_LABELS = {"with_bn": "with BN", "without_bn": "without BN"}
#: What the kind menu offers: the sigmoid's input or its output.
KINDS = ("sigmoid input", "sigmoid output")

_WIDTH = min(6.5, style.MAX_WIDTH)


def _fixed_figure(height: float) -> Figure:
    """A figure with hand-set margins: an explorer redraws it often, and matplotlib's
    constrained layout would take about half of every redraw."""
    fig = new_figure(_WIDTH, height)
    fig.set_layout_engine("none")
    return fig


def _step_hist(ax, counts: np.ndarray, low: float, high: float, **kwargs) -> None:
    """A histogram drawn as a step line, as fractions of all values."""
    edges = np.linspace(low, high, len(counts) + 1)
    total = max(int(counts.sum()), 1)
    fractions = counts / total
    ax.stairs(fractions, edges, **kwargs)


def _symlog_steps(ax, steps: Sequence[int]) -> None:
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlim(0, max(steps) * 1.15)
    ticks = [t for t in (0, 1, 10, 100, 1000, 10000) if t <= max(steps) * 1.15]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()


def activation_stats_figure(snapshots: Snapshots, snapshot: int, block: int, kind: str
                            ) -> Figure:
    """One snapshot of training, with and without batch norm.

    Left, the chosen block's sigmoid inputs; middle, its sigmoid outputs (histograms of
    the probe batch's values, with and without batch norm); right, the mean and standard
    deviation of every block's ``kind`` values.

    Args:
        snapshots: the recorded run (:func:`cnnlib.explain.bn_stats.load_snapshots`).
        snapshot: which snapshot (position in ``snapshots.steps``).
        block: which hidden block (0 = the first convolution's).
        kind: what the right panel shows, ``"sigmoid input"`` or ``"sigmoid output"``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    step = snapshots.steps[snapshot]
    fig = _fixed_figure(3.0)
    grid = fig.add_gridspec(1, 3, left=0.085, right=0.99, top=0.79, bottom=0.27, wspace=0.42)
    ax_in, ax_out, ax_depth = (fig.add_subplot(grid[0, k]) for k in range(3))
    net_blocks = {name: blocks(snapshots.nets[name]) for name in NET_NAMES}
    label = net_blocks["with_bn"][block].label

    for ax, field, edges in (
        (ax_in, "sigmoid_in", [math.log(p / (1 - p)) for p in SATURATION]),
        (ax_out, "sigmoid_out", SATURATION),
    ):
        peak = 0.0
        for name in NET_NAMES:
            record, b = snapshots.nets[name], net_blocks[name][block]
            point = getattr(b, field)
            counts = record.hist[snapshot, point].numpy()
            _step_hist(ax, counts, *record.ranges[point], color=NET_COLORS[name], lw=2,
                       label=NET_LABELS[name])
            peak = max(peak, counts.max() / max(counts.sum(), 1))
        if field == "sigmoid_in":  # the same layer's output before batch norm rescaled it
            record, b = snapshots.nets["with_bn"], net_blocks["with_bn"][block]
            counts = record.hist[snapshot, b.layer].numpy()
            _step_hist(ax, counts, *record.ranges[b.layer], color=WITH_BN, lw=1.2, ls="--",
                       label="before BN")
            peak = max(peak, counts.max() / max(counts.sum(), 1))
        for edge in edges:  # where the sigmoid saturates
            ax.axvline(edge, color="grey", lw=0.8, ls=":")
        ax.set_ylim(0, min(max(peak, 1e-3) * 1.1, 1.02))
        ax.set_yticks([])
    ax_in.set_title("sigmoid input")
    ax_in.set_xticks([-5, 0, 5])
    ax_out.set_title("sigmoid output")
    ax_out.set_xticks([0, 0.5, 1], ["0", "0.5", "1"])

    labels = [b.label for b in net_blocks["with_bn"]]
    field = "sigmoid_in" if kind == KINDS[0] else "sigmoid_out"
    x = np.arange(len(labels))
    for offset, name in ((-0.12, "with_bn"), (0.12, "without_bn")):
        record = snapshots.nets[name]
        points = [getattr(b, field) for b in net_blocks[name]]
        ax_depth.errorbar(x + offset, record.mean[snapshot, points].numpy(),
                          yerr=record.std[snapshot, points].numpy(), fmt="o",
                          color=NET_COLORS[name], capsize=2.5, ms=4)
    ax_depth.axvspan(block - 0.45, block + 0.45, color="#e6e6e6", zorder=0)
    ax_depth.set_xticks(x, [lab.replace("conv ", "c").replace("dense ", "d") for lab in labels])
    ax_depth.set_xlim(-0.6, len(labels) - 0.4)
    if kind == KINDS[1]:
        ax_depth.set_ylim(-0.05, 1.05)
    ax_depth.set_title(f"{'input' if field == 'sigmoid_in' else 'output'} mean ± std")
    handles, names = ax_in.get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=3, frameon=False, handlelength=1.5,
               bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(f"{label} after {step} SGD steps", x=0.5, y=0.99)
    return fig


def batch_stats_figure(train_sweep: LayerSweep, eval_sweep: LayerSweep, spread: dict[int, float],
                       channel: int, batch_size: int, train: bool, title: str) -> Figure:
    """One batch-norm channel across many batches of ``batch_size`` images.

    Args:
        train_sweep, eval_sweep: the layer's :class:`~cnnlib.explain.bn_stats.LayerSweep`
            in training and in evaluation mode (same batches).
        spread: batch size -> std across batches of this channel's batch means, in the
            current mode.
        channel: which channel; batch_size: the batches' size.
        train: the current mode (its sweep gives the means and variances drawn).
        title: what the layer is, e.g. ``"BN after conv 2"``.
    """
    s = train_sweep if train else eval_sweep
    fig = _fixed_figure(5.2)
    grid = fig.add_gridspec(2, 2, left=0.12, right=0.985, top=0.83, bottom=0.1, wspace=0.32,
                            hspace=0.62)
    ax_mean, ax_var = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    ax_spread, ax_out = fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1])
    mode_color = WITH_BN if train else WITHOUT_BN
    n = s.batch_mean.shape[0]
    batches = np.arange(1, n + 1)
    for ax, values, running, what in (
        (ax_mean, s.batch_mean[:, channel], s.running_mean[channel], "mean"),
        (ax_var, s.batch_var[:, channel], s.running_var[channel], "variance"),
    ):
        ax.plot(batches, values.numpy(), "o", ms=3.5, color=WITH_BN,
                alpha=1.0 if train else 0.35, label="each batch's")
        ax.axhline(float(running), color=WITHOUT_BN, lw=2.2 if not train else 1.2,
                   ls="-" if not train else "--", label="running")
        ax.set_xlabel(f"batch (of {n})")
        ax.set_title(f"input {what}")
    handles, names = ax_mean.get_legend_handles_labels()
    fig.legend(handles, names, loc="upper center", ncol=2, frameon=False, handlelength=1.5,
               bbox_to_anchor=(0.5, 0.955))

    sizes = sorted(spread)
    ax_spread.loglog(sizes, [spread[b] for b in sizes], "o-", color=mode_color, ms=4,
                     label="measured")
    sigma = float(s.image_mean_std[channel])
    ax_spread.loglog(sizes, [sigma / math.sqrt(b) for b in sizes], "--", color="grey",
                     label="σ₁/√B")
    ax_spread.plot([batch_size], [spread[batch_size]], "o", ms=9, mfc="none", color="black")
    ax_spread.set_xticks(sizes, [str(b) if b in (sizes[0], sizes[-1]) or b == batch_size
                                 else "" for b in sizes])
    ax_spread.minorticks_off()
    # Plain numbers, not 10^k: mathtext labels would double the redraw time.
    ax_spread.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=6))
    ax_spread.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax_spread.yaxis.set_minor_locator(NullLocator())
    ax_spread.set_xlabel("batch size B")
    ax_spread.set_ylabel("std across batches")
    ax_spread.set_title("spread of batch means")
    ax_spread.legend(loc="lower left", frameon=False, handlelength=1.2)

    edges = np.linspace(float(s.out_low[channel]), float(s.out_high[channel]),
                        s.out_hist.shape[1] + 1)
    peak = 0.0
    for sweep, mode, color, active in ((train_sweep, "train", WITH_BN, train),
                                       (eval_sweep, "eval", WITHOUT_BN, not train)):
        counts = sweep.out_hist[channel].numpy()
        fractions = counts / max(counts.sum(), 1)
        peak = max(peak, fractions.max())
        ax_out.stairs(fractions, edges, color=color, lw=2.2 if active else 1.2,
                      ls="-" if active else "--", label=mode)
    ax_out.set_ylim(0, max(peak, 1e-3) * 1.15)
    ax_out.set_xlabel("output value")
    ax_out.set_title("output, both modes")
    ax_out.legend(loc="upper left", frameon=False, handlelength=1.2)
    fig.suptitle(f"{title}, channel {channel}, B = {batch_size}, "
                 f"{'training' if train else 'evaluation'} mode", y=0.995)
    return fig
