"""Padding, stride and dilation drawn as geometry: where the window lands.

No values here, only roles: real input, zero padding, the cells the kernel
reads for one output cell, the top-left corner of every window, and the
rows/columns that a stride which does not tile the input leaves unread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from cnnlib.ops import SlidingWindow, size_formula
from cnnlib.viz.cell_grid import (
    INPUT_COLOR,
    OUTPUT_COLOR,
    PADDING_COLOR,
    UNUSED_COLOR,
    WINDOW_COLOR,
    CellCanvas,
    Panel,
    fill,
    header_block,
    text_width,
    tint,
    title_room,
)

#: The four settings of the notes' 7.3 (on an 8x8 input), as ``nn.Conv2d`` keywords.
NOTES_SETTINGS: tuple[dict, ...] = (
    {"kernel_size": 3, "padding": 1},
    {"kernel_size": (5, 3), "padding": (2, 1)},
    {"kernel_size": 3, "padding": 1, "stride": 2},
    {"kernel_size": (3, 5), "padding": (0, 1), "stride": (3, 4)},
)

CORNER_COLOR = "#08306b"  # dot where each window starts


def padded_input_colors(geometry: SlidingWindow, position: tuple[int, int] | None) -> np.ndarray:
    """Cell colours of the padded input, shape ``(H + 2p_h, W + 2p_w, 3)``.

    Padding is grey, the input blue; rows/columns no window reaches are tinted
    red, and the cells read for output ``position`` (if given) are orange.
    """
    (ph, pw), (Hp, Wp) = geometry.padding, geometry.padded_size
    colors = fill((Hp, Wp), PADDING_COLOR)
    colors[ph : Hp - ph, pw : Wp - pw] = to_rgb(INPUT_COLOR)
    left_h, left_w = geometry.leftover
    if left_h:
        colors[Hp - left_h :] = tint(colors[Hp - left_h :], UNUSED_COLOR)
    if left_w:
        colors[:, Wp - left_w :] = tint(colors[:, Wp - left_w :], UNUSED_COLOR)
    if position is not None:
        rows, cols = geometry.window(*position)
        colors[np.ix_(rows, cols)] = to_rgb(WINDOW_COLOR)
    return colors


def draw_padded_input(
    panel: Panel, geometry: SlidingWindow, position: tuple[int, int] | None
) -> None:
    """The padded input with the window of ``position`` and a dot at every window's corner."""
    panel.cells(padded_input_colors(geometry, position))
    out_h, out_w = geometry.output_size
    sh, sw = geometry.stride
    corner_rows, corner_cols = np.meshgrid(
        np.arange(out_h) * sh, np.arange(out_w) * sw, indexing="ij"
    )
    panel.dots(corner_rows.ravel(), corner_cols.ravel(), CORNER_COLOR)
    if position is not None:
        rows, cols = geometry.window(*position)
        panel.outline(rows[0], cols[0], rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)


def draw_output(panel: Panel, geometry: SlidingWindow, position: tuple[int, int] | None) -> None:
    """The output grid with ``position`` highlighted."""
    colors = fill(geometry.output_size, OUTPUT_COLOR)
    if position is not None:
        colors[position] = to_rgb(WINDOW_COLOR)
    panel.cells(colors)
    if position is not None:
        panel.outline(*position)


def input_title(geometry: SlidingWindow) -> str:
    """``input 8×8, padding (1, 1) → 10×10``."""
    (h, w), (ph, pw), (Hp, Wp) = geometry.input_size, geometry.padding, geometry.padded_size
    return f"input {h}×{w}, padding ({ph}, {pw}) → {Hp}×{Wp}"


def kernel_title(geometry: SlidingWindow) -> str:
    """``kernel 3×3, stride (2, 2)``, plus the span when dilated."""
    (kh, kw), (sh, sw), (dh, dw) = geometry.kernel_size, geometry.stride, geometry.dilation
    title = f"kernel {kh}×{kw}, stride ({sh}, {sw})"
    if (dh, dw) != (1, 1):
        title += f"\ndilation ({dh}, {dw}): spans {geometry.span[0]}×{geometry.span[1]}"
    return title


def formulas(geometry: SlidingWindow) -> tuple[str, str]:
    """The output-size formula for height and for width, numbers filled in."""
    return tuple(  # type: ignore[return-value]
        size_formula(n, k, p, s, d)
        for n, k, p, s, d in zip(
            geometry.input_size,
            geometry.kernel_size,
            geometry.padding,
            geometry.stride,
            geometry.dilation,
            strict=True,
        )
    )


def padding_stride_figure(
    input_size: int | Sequence[int],
    kernel_size: int | Sequence[int],
    padding: int | Sequence[int] = 0,
    stride: int | Sequence[int] = 1,
    dilation: int | Sequence[int] = 1,
    position: tuple[int, int] = (0, 0),
) -> Figure:
    """Padded input, kernel and output for one output cell.

    Args:
        input_size: input height and width (one int for a square).
        kernel_size, padding, stride, dilation: as in ``nn.Conv2d``.
        position: the ``(row, col)`` output cell whose window is drawn.

    Returns:
        Three panels (padded input ⋆ kernel = output) under the two size formulas.

    Raises:
        ValueError: if no window fits or ``position`` is outside the output.
    """
    geometry = SlidingWindow.create(input_size, kernel_size, padding, stride, dilation)
    geometry.window(*position)  # validates the position before drawing
    height_formula, width_formula = formulas(geometry)
    header, header_height, header_width = header_block(
        f"height: {height_formula}\nwidth: {width_formula}"
    )
    out_h, out_w = geometry.output_size
    titles = [input_title(geometry), kernel_title(geometry), f"output {out_h}×{out_w}"]
    canvas = CellCanvas(
        [[geometry.padded_size, geometry.kernel_size, geometry.output_size]],
        title_height=title_room(titles),
        header=header_height,
        min_width=header_width,
        slots=[[text_width(title) for title in titles]],
    )
    [[panel_in, panel_k, panel_out]] = canvas.panels
    draw_padded_input(panel_in, geometry, position)
    panel_in.title(titles[0])
    panel_k.cells(fill(geometry.kernel_size, WINDOW_COLOR))
    panel_k.title(titles[1])
    draw_output(panel_out, geometry, position)
    panel_out.title(titles[2])
    canvas.between(panel_in, panel_k, "⋆")
    canvas.between(panel_k, panel_out, "=")
    canvas.header(header)
    return canvas.figure


def padding_stride_gallery(
    settings: Sequence[Mapping] = NOTES_SETTINGS, input_size: int | Sequence[int] = 8
) -> Figure:
    """Several settings side by side: the static form of the padding/stride explorer.

    Args:
        settings: ``nn.Conv2d`` keywords (kernel_size, padding, stride,
            dilation) for each row; by default the notes' four cases.
        input_size: the input every row starts from.

    Returns:
        One row per setting: the padded input (a dot at every window's corner,
        the first window outlined) and the output, titled with the setting
        and the two size formulas.
    """
    geometries = [SlidingWindow.create(input_size, **setting) for setting in settings]
    titles = []
    for geometry, setting in zip(geometries, settings, strict=True):
        args = ", ".join(f"{key}={value}" for key, value in setting.items())
        height_formula, width_formula = formulas(geometry)
        out_h, out_w = geometry.output_size
        titles.append([f"{args}\n{input_title(geometry)}",
                       f"output {out_h}×{out_w}\nh: {height_formula}\nw: {width_formula}"])
    cell = 0.22  # four rows of grids: smaller cells keep the figure a page tall
    canvas = CellCanvas(
        [[g.padded_size, g.output_size] for g in geometries],
        gap=3.0,
        title_height=title_room([t for row in titles for t in row], cell=cell),
        slots=[[text_width(t, cell=cell) for t in row] for row in titles],
        cell=cell,
    )
    for geometry, row_titles, (panel_in, panel_out) in zip(
        geometries, titles, canvas.panels, strict=True
    ):
        draw_padded_input(panel_in, geometry, (0, 0))
        panel_in.title(row_titles[0])
        draw_output(panel_out, geometry, (0, 0))
        panel_out.title(row_titles[1])
        canvas.between(panel_in, panel_out, "→")
    return canvas.figure
