"""VGG block by block: where one output unit of a block looks in the input, and the block's maps.

:func:`block_field` does the arithmetic (with :mod:`cnnlib.ops`'s receptive-field functions
over the conv and pool layers of the first blocks); :func:`vgg_block_figure` draws the input
with the unit's field on it and the block's first feature maps with the unit marked.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from matplotlib.axes import Axes
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import nn

from cnnlib.ops import LayerSpec, input_region, layer_specs, receptive_field
from cnnlib.viz import style
from cnnlib.viz.common import NotebookFigure
from cnnlib.viz.feature_maps import _map_style, tile
from cnnlib.viz.images import hide_axes

#: How many of a block's channels the picture shows.
SHOWN_CHANNELS = 8
#: The field's outline in the input and the unit's mark in the maps.
FIELD_COLOR = "tab:orange"
Region = tuple[tuple[int, int], tuple[int, int]]


def vgg_blocks(model: nn.Module) -> list[nn.Sequential]:
    """The leading ``nn.Sequential`` blocks of ``model.net`` that hold a convolution.

    Raises:
        TypeError: when the model has no sequential ``net`` or no such block.
    """
    net = getattr(model, "net", None)
    if not isinstance(net, nn.Sequential):
        raise TypeError(f"expected a VGG-like model with its blocks in an nn.Sequential `net`; "
                        f"{type(model).__name__} has net={type(net).__name__}")
    blocks = []
    for child in net:
        if not (isinstance(child, nn.Sequential)
                and any(isinstance(m, nn.Conv2d) for m in child.modules())):
            break
        blocks.append(child)
    if not blocks:
        raise TypeError(f"{type(model).__name__}.net does not start with blocks of "
                        "convolutions (nn.Sequential holding nn.Conv2d), as VGG's does")
    return blocks


@dataclass(frozen=True)
class BlockField:
    """The receptive field of unit ``position`` of block ``block``'s output.

    Attributes:
        block: 1-based block number.
        position: ``(row, col)`` in the block's output.
        output_size: the block's output ``(h, w)``.
        input_size: the image ``(H, W)``.
        layers: the conv and pool layers of blocks 1..block.
        size: the field's ``(h, w)``, padding included (:func:`cnnlib.ops.receptive_field`).
        box: the whole field ``((row_start, row_stop), (col_start, col_stop))`` (exclusive
            stops) in input coordinates; it may reach outside the image, into padding.
        region: the input pixels the unit depends on (:func:`cnnlib.ops.input_region`).
    """

    block: int
    position: tuple[int, int]
    output_size: tuple[int, int]
    input_size: tuple[int, int]
    layers: tuple[LayerSpec, ...]
    size: tuple[int, int]
    box: Region
    region: Region

    @property
    def padding_fraction(self) -> float:
        """The share of the field's area outside the input pixels it depends on."""
        (r0, r1), (c0, c1) = self.region
        return 1 - (r1 - r0) * (c1 - c0) / (self.size[0] * self.size[1])

    def describe(self) -> str:
        """``unit (0, 0) of block 2's 8×8: field 10×10; input rows 0–6, columns 0–6 ...``."""
        (r0, r1), (c0, c1) = self.region
        h, w = self.output_size
        return (f"unit {self.position} of block {self.block}'s {h}×{w} output: receptive "
                f"field {self.size[0]}×{self.size[1]}; it reads input rows {r0}–{r1 - 1}, "
                f"columns {c0}–{c1 - 1}; {100 * self.padding_fraction:.0f}% of the field "
                "is padding")


def block_field(model: nn.Module, block: int, position: tuple[int, int], input_size: int
                ) -> BlockField:
    """Where unit ``position`` of block ``block`` (1-based) looks in an ``input_size`` image.

    Raises:
        ValueError: a block number out of range, or a position outside the block's output.
    """
    blocks = vgg_blocks(model)
    if not 1 <= block <= len(blocks):
        raise ValueError(f"block must be in 1..{len(blocks)}, got {block}")
    layers = tuple(layer_specs(nn.Sequential(*blocks[:block])))
    info = receptive_field(list(layers), input_size)[-1]
    region = input_region(list(layers), position, input_size)  # checks the position
    box = []
    for dim in range(2):
        centre = info.start[dim] + position[dim] * info.jump[dim]
        start = int(round(centre - (info.size[dim] - 1) / 2))
        box.append((start, start + info.size[dim]))
    return BlockField(block, tuple(position), info.output_size, (input_size, input_size),
                      layers, info.size, (box[0], box[1]), region)


def vgg_block_figure(image: torch.Tensor, field: BlockField, maps: torch.Tensor,
                     width: float = style.MAX_WIDTH, max_overhang: int = 16) -> Figure:
    """The input with the unit's field, and the block's first maps with the unit marked.

    Args:
        image: the input ``(H, W)`` in [0, 1].
        field: what :func:`block_field` returned for it.
        maps: the block's output ``(C, h, w)``; the first :data:`SHOWN_CHANNELS` are drawn.
        max_overhang: at most this many padding pixels are drawn around the image; a field
            reaching further is cut at the panel's edge (its size is in the title).

    Returns:
        A figure with axes labelled ``"input"`` and ``"maps"``.
    """
    margin, gap = 0.08, 0.35
    line = style.FONT / 72 * 1.25
    panel = 2.3
    side_h, side_w = image.shape
    (b0, b1), (d0, d1) = field.box
    lo_r, hi_r = max(min(b0, 0), -max_overhang), min(max(b1, side_h), side_h + max_overhang)
    lo_c, hi_c = max(min(d0, 0), -max_overhang), min(max(d1, side_w), side_w + max_overhang)
    maps_width = width - 2 * margin - panel - gap
    title_in = style.wrap(
        f"input {side_h}×{side_w}: field {field.size[0]}×{field.size[1]}, "
        f"{100 * field.padding_fraction:.0f}% padding (grey)", panel - 0.1)
    c, h, w = maps.shape
    shown = min(c, SHOWN_CHANNELS)
    title_maps = style.wrap(f"block {field.block} output {c}×{h}×{w}: first {shown} "
                            f"channels, unit {field.position} marked", maps_width - 0.3)
    title_room = max(t.count("\n") + 1 for t in (title_in, title_maps)) * line + 0.06
    height = 2 * margin + title_room + panel
    fig = NotebookFigure(figsize=(width, height), layout="none")

    def place(x: float, w_in: float, h_in: float, label: str) -> Axes:
        top = margin + title_room
        return fig.add_axes((x / width, 1 - (top + h_in) / height, w_in / width,
                             h_in / height), label=label)

    span = max(hi_r - lo_r, hi_c - lo_c)
    ax = place(margin, panel * (hi_c - lo_c) / span, panel * (hi_r - lo_r) / span, "input")
    ax.set_facecolor("0.85")
    ax.imshow(image.numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest",
              extent=(-0.5, side_w - 0.5, side_h - 0.5, -0.5))
    ax.set_xlim(lo_c - 0.5, hi_c - 0.5)
    ax.set_ylim(hi_r - 0.5, lo_r - 0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.add_patch(Rectangle((d0 - 0.5, b0 - 0.5), d1 - d0, b1 - b0, fill=False, linestyle="--",
                           edgecolor=FIELD_COLOR, linewidth=1.2))
    (r0, r1), (c0, c1) = field.region
    ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0, r1 - r0, fill=False,
                           edgecolor=FIELD_COLOR, linewidth=2.2))
    fig.text(margin / width, 1 - margin / height, title_in, va="top", fontsize=style.FONT,
             linespacing=1.1)
    # The maps: one mosaic, up to 4 per row, each with the unit outlined.
    ncols = min(shown, 4)
    pad = 1
    mosaic = tile(maps[:shown].double().numpy(), ncols, pad=pad)
    m_h, m_w = mosaic.shape
    scale = min(maps_width / m_w, panel / m_h)
    left = margin + panel + gap
    ax = place(left, m_w * scale, m_h * scale, "maps")
    cmap, vmin, vmax = _map_style(mosaic)
    ax.imshow(mosaic, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    hide_axes(ax)
    i, j = field.position
    marks = []
    for k in range(shown):
        row, col = divmod(k, ncols)
        marks.append(Rectangle((col * (w + pad) + j - 0.5, row * (h + pad) + i - 0.5), 1, 1))
    ax.add_collection(PatchCollection(marks, facecolor="none", edgecolor=FIELD_COLOR,
                                      linewidth=1.5))
    fig.text(left / width, 1 - margin / height, title_maps, va="top", fontsize=style.FONT,
             linespacing=1.1)
    return fig

