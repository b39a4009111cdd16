"""Receptive fields: the input region one unit of a conv/pool stack depends on.

:func:`trace_unit` walks one unit back through the stack with
:func:`cnnlib.ops.input_region` and records its region in every earlier
feature map; :func:`receptive_field_figure` draws those maps side by side and
:func:`receptive_field_gallery` shows the region growing layer by layer (the
static form of the receptive-field explorer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from cnnlib.ops import (
    LayerSpec,
    RFInfo,
    input_region,
    layer_output_sizes,
    receptive_field,
)
from cnnlib.viz.cell_grid import (
    INPUT_COLOR,
    OUTPUT_COLOR,
    WINDOW_COLOR,
    CellCanvas,
    fill,
    header_block,
    text_width,
    title_room,
)

#: conv3x3 -> conv3x3 -> maxpool2 -> conv3x3, without padding.
SMALL_STACK: tuple[LayerSpec, ...] = (
    LayerSpec("conv1", 3),
    LayerSpec("conv2", 3),
    LayerSpec("pool", 2, stride=2),
    LayerSpec("conv3", 3),
)
#: The same stack with padding 1 on every conv, so the maps keep their size until the pool.
SMALL_STACK_PADDED: tuple[LayerSpec, ...] = (
    LayerSpec("conv1", 3, padding=1),
    LayerSpec("conv2", 3, padding=1),
    LayerSpec("pool", 2, stride=2),
    LayerSpec("conv3", 3, padding=1),
)

#: Cells are smaller here than in the other explainers: a stack has many maps, and
#: these cells hold no numbers.
RF_CELL_INCHES = 0.15

Region = tuple[tuple[int, int], tuple[int, int]]


@dataclass(frozen=True)
class UnitTrace:
    """One unit of a stack and the region it depends on in every earlier map.

    Attributes:
        layers: the stack, first layer first.
        input_size: ``(H, W)`` of the input.
        layer: index of the layer whose output holds the unit.
        position: ``(row, col)`` of the unit in that output.
        map_sizes: ``(h, w)`` of the input and of every layer's output.
        regions: for the input and each map before the unit's, the
            ``((row_start, row_stop), (col_start, col_stop))`` it depends on
            (exclusive stops, padding excluded), from :func:`cnnlib.ops.input_region`.
        info: size and jump of the unit's receptive field (padding included).
    """

    layers: tuple[LayerSpec, ...]
    input_size: tuple[int, int]
    layer: int
    position: tuple[int, int]
    map_sizes: tuple[tuple[int, int], ...]
    regions: tuple[Region, ...]
    info: RFInfo

    @property
    def input_region(self) -> Region:
        """The region in the input itself."""
        return self.regions[0]

    def describe(self) -> str:
        """``conv3 unit (1, 1): receptive field 10×10; input rows 2–11, columns 2–11``."""
        (r0, r1), (c0, c1) = self.input_region
        size = self.info.size
        return (
            f"{self.layers[self.layer].name} unit {self.position}: receptive field "
            f"{size[0]}×{size[1]}; input rows {r0}–{r1 - 1}, columns {c0}–{c1 - 1}"
        )


def map_sizes(layers: Sequence[LayerSpec], input_size: tuple[int, int]) -> list[tuple[int, int]]:
    """``(h, w)`` of the input and then of each layer's output (see ``ops.layer_output_sizes``).

    Raises:
        ValueError: if a layer's window does not fit its input (naming the layer).
    """
    return layer_output_sizes(list(layers), input_size)


def trace_unit(
    layers: Sequence[LayerSpec],
    input_size: int | tuple[int, int],
    layer: int,
    position: tuple[int, int],
) -> UnitTrace:
    """The regions unit ``position`` of layer ``layer``'s output depends on.

    Args:
        layers: the stack, first layer first.
        input_size: input height and width (one int for a square).
        layer: ``0 <= layer < len(layers)``.
        position: ``(row, col)`` in that layer's output.

    Raises:
        ValueError: a bad layer index, a position outside the map, a window
            that does not fit, or a unit that sees only padding.
    """
    layers = tuple(layers)
    if not 0 <= layer < len(layers):
        raise ValueError(f"layer must be in [0, {len(layers)}), got {layer}")
    size = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
    sizes = map_sizes(layers, size)
    # The region in map m is what layers m .. layer make of the unit.
    regions = tuple(
        input_region(list(layers[m : layer + 1]), position, sizes[m]) for m in range(layer + 1)
    )
    info = receptive_field(list(layers[: layer + 1]))[-1]
    return UnitTrace(layers, size, layer, tuple(position), tuple(sizes), regions, info)


def receptive_field_figure(trace: UnitTrace) -> Figure:
    """The input and every feature map, with the unit's region highlighted in each.

    Maps after the unit's layer are drawn blank: the unit does not depend on them.
    """
    names = ["input"] + [spec.name for spec in trace.layers]
    header, header_height, header_width = header_block(trace.describe(), RF_CELL_INCHES)
    titles = [f"{name} {h}×{w}" for name, (h, w) in zip(names, trace.map_sizes, strict=True)]
    canvas = CellCanvas(
        [list(trace.map_sizes)],
        cell=RF_CELL_INCHES,
        gap=2.6,
        title_height=title_room(titles, cell=RF_CELL_INCHES),
        header=header_height,
        min_width=header_width,
        slots=[[text_width(t, cell=RF_CELL_INCHES) for t in titles]],
    )
    panels = canvas.panels[0]
    for m, (panel, size) in enumerate(zip(panels, trace.map_sizes, strict=True)):
        if m <= trace.layer:
            colors = fill(size, INPUT_COLOR)
            (r0, r1), (c0, c1) = trace.regions[m]
            colors[r0:r1, c0:c1] = to_rgb(WINDOW_COLOR)
            panel.cells(colors)
            panel.outline(r0, c0, r1 - r0, c1 - c0, linewidth=1.5)
        elif m == trace.layer + 1:
            colors = fill(size, INPUT_COLOR)
            colors[trace.position] = to_rgb(WINDOW_COLOR)
            panel.cells(colors)
            panel.outline(*trace.position, linewidth=1.5)
        else:
            panel.cells(fill(size, OUTPUT_COLOR))
        panel.title(titles[m])
    for left, right in zip(panels, panels[1:], strict=False):
        canvas.between(left, right, "→")
    canvas.header(header)
    return canvas.figure


def receptive_field_gallery(
    layers: Sequence[LayerSpec] = SMALL_STACK, input_size: int | tuple[int, int] = 12
) -> Figure:
    """The input region of the centre unit after each layer: the field grows.

    Args:
        layers: the stack, first layer first.
        input_size: input height and width.

    Returns:
        One input grid per layer, the centre unit's region highlighted and
        titled with its size.
    """
    size = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
    sizes = map_sizes(layers, size)
    traces = [
        trace_unit(layers, size, k, (sizes[k + 1][0] // 2, sizes[k + 1][1] // 2))
        for k in range(len(layers))
    ]
    titles = [
        f"after {t.layers[t.layer].name}: {t.info.size[0]}×{t.info.size[1]}\n"
        f"unit {t.position} of {sizes[t.layer + 1][0]}×{sizes[t.layer + 1][1]}"
        for t in traces
    ]
    # A deep stack wraps onto several lines rather than shrinking (see CellCanvas).
    canvas = CellCanvas(
        [[size] * len(traces)],
        cell=RF_CELL_INCHES,
        gap=2.0,
        title_height=title_room(titles, cell=RF_CELL_INCHES),
        slots=[[text_width(t, cell=RF_CELL_INCHES) for t in titles]],
    )
    for panel, trace, title in zip(canvas.panels[0], traces, titles, strict=True):
        colors = fill(size, INPUT_COLOR)
        (r0, r1), (c0, c1) = trace.input_region
        colors[r0:r1, c0:c1] = to_rgb(WINDOW_COLOR)
        panel.cells(colors)
        panel.outline(r0, c0, r1 - r0, c1 - c0, linewidth=1.5)
        panel.title(title)
    return canvas.figure
