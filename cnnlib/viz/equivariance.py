"""Pictures for section 7.1: a shifted image through a convolution and a dense layer, and
the two layers' parameter counts (the numbers come from :mod:`cnnlib.explain.equivariance`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from matplotlib.figure import Figure

from cnnlib.explain.equivariance import LayerCounts, ShiftComparison, overlap
from cnnlib.viz import style
from cnnlib.viz.common import new_figure
from cnnlib.viz.images import DIVERGING_CMAP, hide_axes, symmetric_limits

_OUTSIDE = "#d9d9d9"  # cells where the two maps do not see the same pixels
_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def moved_difference(before: torch.Tensor, after: torch.Tensor, dy: int, dx: int
                     ) -> np.ndarray:
    """``after`` minus ``before`` moved by (dy, dx), NaN where they see different pixels."""
    diff = np.full(tuple(after.shape), np.nan)
    rows, cols, srows, scols = overlap(tuple(after.shape), dy, dx)
    diff[srows, scols] = (after[srows, scols] - before[rows, cols]).numpy()
    return diff


def shift_figure(comparison: ShiftComparison, dense_name: str = "dense layer") -> Figure:
    """Three rows (input, convolution, dense layer) × (original, shifted, difference).

    The difference column subtracts the original's output *moved by the same shift*
    from the shifted image's output, over the cells where both see the same pixels
    (grey elsewhere): white means "the output moved with the image".
    """
    c = comparison
    panel = (style.MAX_WIDTH - 0.2) / 3
    fig = new_figure(style.MAX_WIDTH, 3 * (panel + 0.45))
    grid = fig.add_gridspec(3, 3)
    rows = (
        ("input", c.X, c.X_shifted, None),
        ("convolution", c.conv, c.conv_shifted, moved_difference(c.conv, c.conv_shifted,
                                                                  c.dy, c.dx)),
        (dense_name, c.dense, c.dense_shifted, moved_difference(c.dense, c.dense_shifted,
                                                                 c.dy, c.dx)),
    )
    shift = f"({c.dy:+d}, {c.dx:+d})"
    for r, (name, before, after, diff) in enumerate(rows):
        both = torch.stack([before, after]).numpy()
        if r == 0:
            cmap, (vmin, vmax) = "gray", (0.0, 1.0)
        else:
            cmap, (vmin, vmax) = DIVERGING_CMAP, symmetric_limits(both)
        for k, (values, title) in enumerate(((both[0], f"{name}"),
                                             (both[1], f"shifted {shift}"))):
            ax = fig.add_subplot(grid[r, k])
            ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            hide_axes(ax)
            ax.set_title(title, fontsize=style.FONT)
        ax = fig.add_subplot(grid[r, 2])
        hide_axes(ax)
        if diff is None:
            ax.text(0.5, 0.5, f"moved\n{c.dy:+d} rows\n{c.dx:+d} columns", ha="center",
                    va="center", fontsize=style.FONT, transform=ax.transAxes)
            continue
        ax.set_facecolor(_OUTSIDE)
        ax.imshow(np.ma.masked_invalid(diff), cmap=DIVERGING_CMAP, vmin=vmin, vmax=vmax,
                  interpolation="nearest")
        ax.set_axis_on()
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title("difference", fontsize=style.FONT)
    return fig


def count_text(n: int) -> str:
    """A parameter count as the bars write it: ``4,160`` below a million, ``1.64×10¹⁶`` above."""
    if n >= 10**6:
        exponent = math.floor(math.log10(n))
        return f"{n / 10**exponent:.2f}×10{str(exponent).translate(_SUPERSCRIPTS)}"
    return f"{n:,}"


def count_figure(counts: LayerCounts) -> Figure:
    """Both layers' parameter counts as bars on a log scale, each with its number."""
    fig = new_figure(style.MAX_WIDTH, 2.3)
    ax = fig.add_subplot()
    names = ["convolution", "dense layer"]
    values = [counts.conv, counts.dense]
    bars = ax.barh(names, values, color=["#2a7ab9", "#c0392b"])
    ax.set_xscale("log")
    top = math.ceil(math.log10(max(values))) + 3  # room for the labels right of the bars
    ax.set_xlim(1, 10.0**top)
    for bar, value in zip(bars, values, strict=True):
        ax.text(value * 1.6, bar.get_y() + bar.get_height() / 2, count_text(value),
                va="center", fontsize=style.FONT)
    ax.set_xlabel("parameters (log scale)")
    ax.set_title(f"{counts.c_in}×{counts.side}×{counts.side} image → "
                 f"{counts.c_out}×{counts.side}×{counts.side} hidden values",
                 fontsize=style.TITLE_FONT)
    ax.spines[["top", "right"]].set_visible(False)
    return fig
