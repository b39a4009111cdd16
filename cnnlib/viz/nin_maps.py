"""Pictures of NiN's two ideas on a trained network (section 8.3).

:func:`pixel_dense_figure` draws a :class:`~cnnlib.explain.nin_maps.PixelDense`: the image
with the window one pixel of the map sees, the convolution's input and output maps with that
pixel marked, and below them the dense layer at that pixel laid out as a matrix-vector
product: ``x`` above the columns of ``W``, ``ReLU(W x + b)`` beside its rows.

:func:`class_maps_figure` draws a :class:`~cnnlib.explain.nin_maps.ClassMaps`: the image,
the class block's maps on one colour scale, each with its mean, and the probabilities
softmax makes of those means.

Axes are placed by hand (no layout engine) so that an explorer redraws quickly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cnnlib.data import LABELS
from cnnlib.explain.nin_maps import ClassMaps, PixelDense
from cnnlib.viz import style
from cnnlib.viz.common import NotebookFigure
from cnnlib.viz.feature_maps import tile
from cnnlib.viz.images import DIVERGING_CMAP, hide_axes, symmetric_limits

_MARK = "#e8282b"
_RIGHT, _WRONG, _OTHER = "tab:blue", "tab:red", "0.75"
_POSITIVE, _NEGATIVE = "#3d85c6", "#cc4125"


def _axes(fig: Figure, left: float, bottom: float, width: float, height: float,
          label: str) -> Axes:
    """An axes placed in inches from the figure's lower left corner."""
    W, H = fig.get_size_inches()
    return fig.add_axes((left / W, bottom / H, width / W, height / H), label=label)


def _show_image(ax: Axes, image: np.ndarray) -> None:
    ax.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    hide_axes(ax)


def _mosaic(ax: Axes, maps: torch.Tensor, position: tuple[int, int] | None,
            ncols: int) -> None:
    """The maps ``(C, H, W)`` tiled, one colour scale, ``position`` outlined in every map."""
    values = maps.numpy().astype(np.float64)
    mosaic = tile(values, ncols)
    low, high = float(values.min()), float(values.max())
    if low < 0:
        cmap, (low, high) = DIVERGING_CMAP, symmetric_limits(values)
    else:
        cmap, high = "viridis", max(high, low + 1e-12)
    ax.imshow(mosaic, cmap=cmap, vmin=low, vmax=high, interpolation="nearest")
    hide_axes(ax)
    if position is None:
        return
    c, h, w = values.shape
    ncols = min(ncols, c)
    r0, c0 = position
    boxes = [Rectangle(((k % ncols) * (w + 1) + c0 - 0.5, (k // ncols) * (h + 1) + r0 - 0.5),
                       1, 1) for k in range(c)]
    # One collection, not one patch per map: far cheaper to draw.
    ax.add_collection(PatchCollection(boxes, facecolor="none", edgecolor=_MARK,
                                      linewidth=1.0))


def _columns(channels: int, width: float, height: float, h: int, w: int) -> int:
    """Mosaic columns that make ``channels`` maps of ``h × w`` fill a width × height box best."""
    best, best_size = 1, 0.0
    for ncols in range(1, channels + 1):
        rows = math.ceil(channels / ncols)
        size = min(width / (ncols * (w + 1)), height / (rows * (h + 1)))
        if size > best_size:
            best, best_size = ncols, size
    return best


def _bars(values: np.ndarray, vertical: bool, **style_) -> PatchCollection:
    """Bars for ``values`` (one per index, 0.8 wide) as ONE artist: far cheaper than ``bar``."""
    if vertical:
        boxes = [Rectangle((i - 0.4, min(v, 0.0)), 0.8, abs(v)) for i, v in enumerate(values)]
    else:
        boxes = [Rectangle((min(v, 0.0), i - 0.4), abs(v), 0.8) for i, v in enumerate(values)]
    return PatchCollection(boxes, **style_)


def _span(values: np.ndarray) -> tuple[float, float]:
    """Axis limits that hold 0 and every value, with a little room."""
    low, high = min(0.0, float(values.min())), max(0.0, float(values.max()))
    room = 0.05 * max(high - low, 1e-12)
    return low - (room if low < 0 else 0.0), high + room


def pixel_dense_figure(result: PixelDense, image: torch.Tensor, layer_title: str = "",
                       width: float = style.MAX_WIDTH) -> Figure:
    """Draw a 1x1 convolution at one pixel as the dense layer it is there.

    Args:
        result: what :func:`~cnnlib.explain.nin_maps.pixel_dense` returned.
        image: the network's input ``(H, W)`` in [0, 1].
        layer_title: how to name the layer in the figure (e.g. ``"block 1, first 1×1 conv"``).
        width: figure width in inches (at most ``style.MAX_WIDTH``).
    """
    c_in, h, w = result.maps_in.shape
    c_out = result.maps_out.shape[0]
    row, col = result.position
    line = style.FONT / 72 * 1.3  # inches per line of text
    height = 4.5
    fig = NotebookFigure(figsize=(width, height))
    # -- top band: the image, the maps in and the maps out ---------------------------------
    band_bottom, band_height = 2.45, 1.4
    title_y = band_bottom + band_height + 0.08
    side = band_height
    ax = _axes(fig, 0.05, band_bottom, side, side, "input")
    _show_image(ax, np.asarray(image, dtype=np.float64))
    (r0, r1), (c0, c1) = result.region
    ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0, r1 - r0, fill=False,
                           edgecolor=_MARK, linewidth=1.5))
    ax.set_title(f"input {image.shape[0]}×{image.shape[1]}", fontsize=style.FONT, pad=3)
    box_width = (width - side - 0.35) / 2
    for k, (name, maps, count) in enumerate(
            (("maps in", result.maps_in, c_in), ("maps out", result.maps_out, c_out))):
        ncols = _columns(count, box_width, band_height, h, w)
        rows = math.ceil(count / ncols)
        scale = min(box_width / (ncols * (w + 1)), band_height / (rows * (h + 1)))
        mw, mh = scale * (min(ncols, count) * (w + 1) - 1), scale * (rows * (h + 1) - 1)
        left = side + 0.25 + k * (box_width + 0.05) + (box_width - mw) / 2
        ax = _axes(fig, left, band_bottom + band_height - mh, mw, mh, name)
        _mosaic(ax, maps, result.position, ncols)
        text = (f"x: {c_in} maps in, {h}×{w}" if k == 0
                else f"ReLU(W x + b): {c_out} maps out")
        fig.text((side + 0.25 + k * (box_width + 0.05) + box_width / 2) / width,
                 title_y / height, text, ha="center", va="bottom", fontsize=style.FONT)
    header = f"{layer_title}: pixel (row {row}, col {col}), marked in every map"
    fig.text(0.5, (title_y + line + 0.05) / height, header, ha="center", va="bottom",
             fontsize=style.TITLE_FONT)
    # -- bottom band: x above W's columns, ReLU(W x + b) beside W's rows ----------------------
    matrix = 1.4
    m_left, m_bottom = 2.35, 0.3
    ax_w = _axes(fig, m_left, m_bottom, matrix, matrix, "W")
    weights = result.W.numpy().astype(np.float64)
    low, high = symmetric_limits(weights)
    ax_w.imshow(weights, cmap=DIVERGING_CMAP, vmin=low, vmax=high, interpolation="nearest",
                aspect="auto")
    hide_axes(ax_w)
    ax_w.text(0.5, -0.04, f"W ({c_out}×{c_in})", transform=ax_w.transAxes, ha="center",
              va="top")
    ax_x = _axes(fig, m_left, m_bottom + matrix + 0.08, matrix, 0.55, "x")
    xs = result.x.numpy().astype(np.float64)
    ax_x.add_collection(_bars(xs, vertical=True, facecolor=np.where(xs >= 0, _POSITIVE,
                                                                     _NEGATIVE)))
    ax_x.set_xlim(-0.5, c_in - 0.5)
    ax_x.set_ylim(*_span(xs))
    ax_x.set_xticks([])
    ax_x.axhline(0, color="0.3", linewidth=0.6)
    ax_x.set_yticks([])
    for spine in ("top", "right", "left"):
        ax_x.spines[spine].set_visible(False)
    ax_x.text(-0.03, 0.5, f"x ({c_in})", transform=ax_x.transAxes, ha="right", va="center")
    ax_o = _axes(fig, m_left + matrix + 0.1, m_bottom, 1.25, matrix, "out")
    pre, out = result.pre.numpy().astype(np.float64), result.out.numpy().astype(np.float64)
    ax_o.add_collection(_bars(pre, vertical=False, facecolor="none", edgecolor="0.55",
                              linewidth=0.6, label="W x + b"))
    ax_o.add_collection(_bars(out, vertical=False, facecolor=_POSITIVE, label="ReLU"))
    ax_o.set_xlim(*_span(pre))
    ax_o.set_ylim(c_out - 0.5, -0.5)
    ax_o.axvline(0, color="0.3", linewidth=0.6)
    ax_o.set_yticks([])
    ax_o.set_xticks([])
    for spine in ("top", "right", "bottom"):
        ax_o.spines[spine].set_visible(False)
    ax_o.text(0.5, -0.04, f"ReLU(W x + b) ({c_out})", transform=ax_o.transAxes, ha="center",
              va="top")
    # -- the equation and the shapes, left of the matrix -----------------------------------
    shapes = (
        "out = ReLU(W x + b)\n"
        f"kernel {tuple(c for c in (c_out, c_in, 1, 1))}\n"
        f"  → W {c_out}×{c_in}\n"
        f"x: {c_in} values at\n  ({row}, {col})\n"
        f"b: {c_out} biases\n"
        "grey outline:\n  before ReLU"
    )
    fig.text(0.05 / width, (m_bottom + matrix + 0.6) / height, shapes, ha="left", va="top",
             fontsize=style.FONT, linespacing=1.25)
    return fig


def _short(name: str) -> str:
    return name.split("/")[0] if len(name) > 9 else name


def class_maps_figure(result: ClassMaps, image: torch.Tensor,
                      class_names: Sequence[str] = LABELS, note: str = "",
                      width: float = style.MAX_WIDTH) -> Figure:
    """Draw the class maps before global average pooling, their means and the probabilities.

    Args:
        result: what :func:`~cnnlib.explain.nin_maps.class_maps` returned.
        image: the network's input ``(H, W)`` in [0, 1].
        class_names: one name per class.
        note: a line under the input's title (e.g. that the size is not the trained one).
        width: figure width in inches.
    """
    k, h, w = result.maps.shape
    names = list(class_names) if len(class_names) == k else [str(c) for c in range(k)]
    height = 5.0
    fig = NotebookFigure(figsize=(width, height))
    # -- top band: input, then the class maps in two rows -----------------------------------
    side = 1.45
    top = height - 0.35
    ax = _axes(fig, 0.05, top - side - 0.1, side, side, "input")
    _show_image(ax, np.asarray(image, dtype=np.float64))
    title = f"input {image.shape[0]}×{image.shape[1]}" + (f"\n{note}" if note else "")
    ax.set_title(title, fontsize=style.FONT, pad=3)
    maps = result.maps.numpy().astype(np.float64)
    low, high = float(maps.min()), float(maps.max())
    if low < 0:
        cmap, (low, high) = DIVERGING_CMAP, symmetric_limits(maps)
    else:
        cmap, low, high = "viridis", 0.0, max(high, 1e-12)
    # One axes in inch coordinates holds every map (creating an axes per map is slow).
    per_row = math.ceil(k / 2)
    area_left, area_width = side + 0.25, width - side - 0.3
    cell = area_width / per_row
    map_side = min(cell - 0.15, 0.72)
    area_bottom, area_top = top - 2 * map_side - 0.95, top - 0.2
    ax = _axes(fig, area_left, area_bottom, area_width, area_top - area_bottom, "class maps")
    ax.set_xlim(0, area_width)
    ax.set_ylim(0, area_top - area_bottom)
    hide_axes(ax)
    for c in range(k):
        r, j = divmod(c, per_row)
        left = j * cell + (cell - map_side) / 2
        upper = area_top - area_bottom - r * (map_side + 0.62)
        ax.imshow(maps[c], cmap=cmap, vmin=low, vmax=high, interpolation="nearest",
                  extent=(left, left + map_side, upper - map_side, upper), aspect="auto")
        weight = "bold" if c == result.label else "normal"
        ax.text(left + map_side / 2, upper + 0.04, _short(names[c]), ha="center", va="bottom",
                fontweight=weight)
        ax.text(left + map_side / 2, upper - map_side - 0.04,
                f"mean {result.averages[c]:.2f}", ha="center", va="top")
    fig.text(0.5, (height - 0.08) / height,
             f"the class block's {k} maps ({h}×{w} each, one colour scale) and their means",
             ha="center", va="top", fontsize=style.TITLE_FONT)
    # -- bottom band: softmax of the means ---------------------------------------------------
    bars_top = 2.1
    names_width = 1.15
    ax = _axes(fig, names_width + 0.15, 0.1, width - names_width - 0.4, bars_top - 0.35,
               "probabilities")
    probs = result.probs.numpy()
    colors = [_OTHER] * k
    colors[result.predicted] = (_WRONG if result.label is not None
                                and result.predicted != result.label else _RIGHT)
    ax.barh(np.arange(k), probs, color=colors, height=0.75)
    ax.set_ylim(k - 0.5, -0.5)
    ax.set_xlim(0, 1.18)
    ax.set_yticks(np.arange(k), names)
    for tick, c in zip(ax.get_yticklabels(), range(k), strict=True):
        if c == result.label:
            tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0, pad=2)
    ax.set_xticks([])
    for spine in ("top", "right", "bottom"):
        ax.spines[spine].set_visible(False)
    for c in range(k):
        ax.text(probs[c] + 0.015, c, f"{probs[c]:.2f}", ha="left", va="center")
    ax.set_title("softmax(means): the probabilities", fontsize=style.FONT, pad=3)
    return fig
