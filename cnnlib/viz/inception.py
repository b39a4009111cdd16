"""Picture of one Inception block's branches for one image (section 8.4).

:func:`inception_figure` draws a :class:`~cnnlib.explain.inception.BranchOutputs`: the
image, a few output channels of each of the four branches (labelled with the branch's
kernels and channel count), and two stacked bars: each branch's share of the block's
output channels and of its FLOPs.

The maps sit in one axes in inch coordinates (an axes per map is slow to create).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from cnnlib.explain.inception import BranchOutputs
from cnnlib.viz import style
from cnnlib.viz.common import NotebookFigure
from cnnlib.viz.images import hide_axes

#: One colour per branch, in the bars and under the branch titles.
BRANCH_COLORS = ("#6fa8dc", "#93c47d", "#f6b26b", "#c27ba0")


def _axes(fig: Figure, left: float, bottom: float, width: float, height: float, label: str):
    W, H = fig.get_size_inches()
    return fig.add_axes((left / W, bottom / H, width / W, height / H), label=label)


def inception_figure(result: BranchOutputs, image: torch.Tensor,
                     shown: Sequence[Sequence[int]], width: float = style.MAX_WIDTH
                     ) -> Figure:
    """Draw the four branches of one Inception block and their shares.

    Args:
        result: what :func:`~cnnlib.explain.inception.branch_outputs` returned.
        image: the network's input ``(H, W)`` in [0, 1].
        shown: for each branch, the channels to draw (indices into that branch's output).
        width: figure width in inches.
    """
    if len(shown) != 4:
        raise ValueError(f"shown must list channels for the 4 branches, got {len(shown)}")
    height = 3.95
    fig = NotebookFigure(figsize=(width, height))
    c_in, h, w = result.input.shape
    out = sum(result.channels)
    fig.text(0.5, (height - 0.06) / height,
             f"Inception {result.label} (net.{result.name}): {c_in} channels in, "
             f"{out} out, {h}×{w}", ha="center", va="top", fontsize=style.TITLE_FONT)
    # -- the image --------------------------------------------------------------------------
    side = 1.05
    ax = _axes(fig, 0.05, height - 0.45 - side, side, side, "input")
    ax.imshow(np.asarray(image, dtype=np.float64), cmap="gray", vmin=0, vmax=1,
              interpolation="nearest")
    hide_axes(ax)
    ax.set_title(f"input {image.shape[0]}×{image.shape[1]}", fontsize=style.FONT, pad=3)
    # -- the branches: one column each, maps in a 2-column grid ---------------------------
    left0 = side + 0.2
    column = (width - left0) / 4
    top = height - 0.4
    maps_top = top - 0.5  # room for two lines of title
    base = 1.15
    ax = _axes(fig, left0, base, width - left0, top - base, "branches")
    ax.set_xlim(0, width - left0)
    ax.set_ylim(0, top - base)
    hide_axes(ax)
    y0 = maps_top - base  # the maps' top in the axes' coordinates
    every = torch.cat(result.branches).numpy()
    high = max(float(every.max()), 1e-12)  # all after a ReLU: one scale from 0
    cell = min((column - 0.2) / 2, 0.62)
    for b in range(4):
        x0 = b * column
        centre = x0 + column / 2
        ax.text(centre, top - base, result.kernels[b], ha="center", va="top")
        ax.text(centre, top - base - 0.2, f"b{b + 1}: {result.channels[b]} channels",
                ha="center", va="top", color="0.25")
        ax.plot([x0 + 0.1, x0 + column - 0.1], [y0 + 0.04, y0 + 0.04],
                color=BRANCH_COLORS[b], linewidth=3, solid_capstyle="butt")
        maps = result.branches[b].numpy()
        for k, channel in enumerate(shown[b]):
            r, j = divmod(k, 2)
            left = centre - cell - 0.04 + j * (cell + 0.08)
            upper = y0 - 0.1 - r * (cell + 0.25)
            ax.imshow(maps[channel], cmap="viridis", vmin=0, vmax=high,
                      interpolation="nearest", aspect="auto",
                      extent=(left, left + cell, upper - cell, upper))
            ax.text(left + cell / 2, upper - cell - 0.02, f"ch {channel}", ha="center",
                    va="top")
    # -- shares of channels and FLOPs ---------------------------------------------------------
    ax = _axes(fig, 1.0, 0.05, width - 1.1, 0.75, "shares")
    rows = (("channels", result.channel_shares), ("FLOPs", result.flop_shares))
    for r, (_, shares) in enumerate(rows):
        start = 0.0
        for b, share in enumerate(shares):
            ax.barh(r, share, left=start, height=0.7, color=BRANCH_COLORS[b],
                    edgecolor="white", linewidth=0.8)
            if share >= 0.07:
                ax.text(start + share / 2, r, f"{share:.0%}", ha="center", va="center")
            start += share
    ax.set_xlim(0, 1)
    ax.set_ylim(1.5, -0.5)
    ax.set_yticks([0, 1], [name for name, _ in rows])
    ax.tick_params(axis="y", length=0)
    ax.set_xticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    flops = sum(result.flops)
    ax.set_title(f"each branch's share of the {out} channels and of the "
                 f"{flops / 1e6:.2f} MFLOPs", fontsize=style.FONT, pad=3)
    return fig
