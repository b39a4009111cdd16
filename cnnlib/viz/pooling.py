"""Max and average pooling drawn cell by cell: which input each output takes.

:func:`pool` computes the numbers (the pooled output from
:func:`cnnlib.ops.pool2d` and, for max pooling, which input cell every
output took); :func:`pooling_figure` draws them for one output cell and
:func:`pooling_gallery` draws several settings side by side (the static form
of the pooling explorer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from cnnlib.ops import SlidingWindow, pool2d
from cnnlib.viz.cell_grid import (
    CHOSEN_COLOR,
    FILLED_COLOR,
    INPUT_COLOR,
    PADDING_COLOR,
    WINDOW_COLOR,
    CellCanvas,
    Panel,
    as_matrix,
    cell_for,
    fill,
    format_value,
    header_block,
    text_width,
    title_room,
    value_labels,
)

#: The notes' three 7.5 settings for ``torch.arange(16.)`` as a 4x4 input.
NOTES_POOL_SETTINGS: tuple[dict, ...] = (
    {"kernel_size": 3},
    {"kernel_size": 3, "padding": 1, "stride": 2},
    {"kernel_size": (2, 3), "padding": (0, 1), "stride": (2, 3)},
)

#: Above this many cells per window the header names the operation instead of listing values.
MAX_WRITTEN_VALUES = 9


@dataclass(frozen=True)
class Pooling:
    """The numbers behind a pooling picture.

    Attributes:
        X: the input, shape ``(H, W)``.
        mode: ``'max'`` or ``'avg'``.
        geometry: where each window lands (kernel_size, padding, stride).
        X_padded: the input padded as the pooling pads it (``-inf`` for max,
            0 for avg), shape ``(H + 2p_h, W + 2p_w)``.
        Y: the pooled output from :func:`cnnlib.ops.pool2d`, shape ``(H', W')``.
        chosen: for max pooling, the padded-input ``(row, col)`` each output
            cell takes (the first maximum in its window, as PyTorch picks),
            shape ``(H', W', 2)``; ``None`` for avg.
    """

    X: torch.Tensor
    mode: str
    geometry: SlidingWindow
    X_padded: torch.Tensor
    Y: torch.Tensor
    chosen: torch.Tensor | None

    def window_values(self, row: int, col: int) -> torch.Tensor:
        """The padded-input values output ``(row, col)`` pools, shape ``(kh, kw)``."""
        rows, cols = self.geometry.window(row, col)
        return self.X_padded[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

    def equation(self, row: int, col: int) -> str:
        """``Y[0, 1] = max(1, 2, 5, 6) = 6`` or ``Y[0, 1] = (1 + 2 + 5 + 6)/4 = 3.5``."""
        values = self.window_values(row, col).flatten().tolist()
        result = format_value(float(self.Y[row, col]))
        if len(values) > MAX_WRITTEN_VALUES:
            name = "max" if self.mode == "max" else "mean"
            return f"Y[{row}, {col}] = {name} of {len(values)} cells = {result}"
        texts = [format_value(v) for v in values]
        if self.mode == "max":
            return f"Y[{row}, {col}] = max({', '.join(texts)}) = {result}"
        return f"Y[{row}, {col}] = ({' + '.join(texts)})/{len(values)} = {result}"


def pool(
    X: torch.Tensor,
    kernel_size: int | Sequence[int],
    mode: str = "max",
    padding: int | Sequence[int] = 0,
    stride: int | Sequence[int] | None = None,
) -> Pooling:
    """Pool a 2-D input and record which cell each max-pooling window takes.

    Args:
        X: input, shape ``(H, W)``, floating point.
        kernel_size, padding, stride: as in ``nn.MaxPool2d`` (``stride=None``
            means the window size).
        mode: ``'max'`` or ``'avg'``.

    Raises:
        TypeError: if X is not a floating-point tensor or a size is not an int/pair.
        ValueError: for a bad mode or sizes PyTorch rejects (padding more than
            half the window, a window larger than the padded input).
    """
    if not isinstance(X, torch.Tensor) or X.dim() != 2:
        raise ValueError(f"X must be a 2-D (H, W) tensor, got {getattr(X, 'shape', type(X))}")
    Y = pool2d(X, kernel_size, mode=mode, padding=padding, stride=stride)  # validates the rest
    geometry = SlidingWindow.create(
        tuple(X.shape), kernel_size, padding, kernel_size if stride is None else stride
    )
    (ph, pw) = geometry.padding
    X_padded = F.pad(X, (pw, pw, ph, ph), value=float("-inf") if mode == "max" else 0.0)
    chosen = None
    if mode == "max":
        out_h, out_w = geometry.output_size
        chosen = torch.zeros((out_h, out_w, 2), dtype=torch.long)
        kw = geometry.kernel_size[1]
        for i in range(out_h):
            for j in range(out_w):
                rows, cols = geometry.window(i, j)
                window = X_padded[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
                # argmax returns the first maximum in row-major order, the one PyTorch keeps.
                a, b = divmod(int(window.flatten().argmax()), kw)
                chosen[i, j] = torch.tensor([rows[0] + a, cols[0] + b])
    return Pooling(X=X, mode=mode, geometry=geometry, X_padded=X_padded, Y=Y, chosen=chosen)


def _draw_input(panel: Panel, pooling: Pooling, position: tuple[int, int] | None) -> None:
    geometry = pooling.geometry
    (ph, pw), (Hp, Wp) = geometry.padding, geometry.padded_size
    colors = fill((Hp, Wp), PADDING_COLOR)
    colors[ph : Hp - ph, pw : Wp - pw] = to_rgb(INPUT_COLOR)
    if position is not None:
        rows, cols = geometry.window(*position)
        colors[np.ix_(rows, cols)] = to_rgb(WINDOW_COLOR)
    if pooling.chosen is not None:
        # Every output's pick gets a ring; the current one is filled too.
        for r, c in pooling.chosen.reshape(-1, 2).tolist():
            colors[r, c] = 0.55 * colors[r, c] + 0.45 * np.array(to_rgb(CHOSEN_COLOR))
        if position is not None:
            colors[tuple(pooling.chosen[position].tolist())] = to_rgb(CHOSEN_COLOR)
    panel.cells(colors, value_labels(as_matrix(pooling.X_padded)))
    if pooling.chosen is not None:
        for r, c in {tuple(rc) for rc in pooling.chosen.reshape(-1, 2).tolist()}:
            panel.outline(r, c, color=CHOSEN_COLOR, linewidth=1.5)
    if position is not None:
        rows, cols = geometry.window(*position)
        panel.outline(rows[0], cols[0], len(rows), len(cols))


def _draw_output(panel: Panel, pooling: Pooling, position: tuple[int, int] | None) -> None:
    colors = fill(tuple(pooling.Y.shape), FILLED_COLOR)
    if position is not None:
        colors[position] = to_rgb(WINDOW_COLOR)
    panel.cells(colors, value_labels(as_matrix(pooling.Y)))
    if position is not None:
        panel.outline(*position)


def _cell(*poolings: Pooling) -> float:
    """A cell size that fits every value the poolings write (inputs and outputs)."""
    return cell_for(*(value_labels(as_matrix(T)) for p in poolings for T in (p.X_padded, p.Y)))


def input_title(pooling: Pooling) -> str:
    ph, pw = pooling.geometry.padding
    if (ph, pw) == (0, 0):
        return "input X"
    pad = "-∞" if pooling.mode == "max" else "0"
    return f"X padded ({ph}, {pw}) with {pad}"


def settings_text(pooling: Pooling) -> str:
    g = pooling.geometry
    return f"{pooling.mode} pool {g.kernel_size[0]}×{g.kernel_size[1]}, stride {g.stride}"


def pooling_figure(pooling: Pooling, position: tuple[int, int] = (0, 0)) -> Figure:
    """The padded input and the output, for one output cell.

    Max pooling marks with a purple ring the cell every output takes and
    fills the one the current output takes; average pooling fills the whole
    current window (every cell counts, padding zeros included, as
    ``nn.AvgPool2d``'s default ``count_include_pad=True``).

    Args:
        pooling: from :func:`pool`.
        position: the ``(row, col)`` output cell to explain.

    Raises:
        ValueError: if ``position`` is outside the output.
    """
    pooling.geometry.window(*position)  # validates the position
    cell = _cell(pooling)
    header, header_height, header_width = header_block(
        f"{settings_text(pooling)}:   {pooling.equation(*position)}", cell
    )
    titles = [input_title(pooling), "output Y"]
    canvas = CellCanvas(
        [[pooling.geometry.padded_size, tuple(pooling.Y.shape)]],
        title_height=title_room(titles, cell=cell),
        header=header_height,
        min_width=header_width,
        slots=[[text_width(t, cell=cell) for t in titles]],
        cell=cell,
    )
    [[panel_in, panel_out]] = canvas.panels
    _draw_input(panel_in, pooling, position)
    panel_in.title(titles[0])
    _draw_output(panel_out, pooling, position)
    panel_out.title(titles[1])
    canvas.between(panel_in, panel_out, "→")
    canvas.header(header)
    return canvas.figure


def pooling_gallery(
    X: torch.Tensor,
    settings: Sequence[Mapping] = NOTES_POOL_SETTINGS,
    modes: Sequence[str] = ("max", "avg"),
) -> Figure:
    """Several pooling settings, max and avg side by side: the explorer's static form.

    Args:
        X: input, shape ``(H, W)``; the notes use ``torch.arange(16.).reshape(4, 4)``.
        settings: ``nn.MaxPool2d`` keywords (kernel_size, padding, stride)
            for each row; by default the notes' three cases.
        modes: one column pair (input, output) per mode.

    Returns:
        One row per setting; the first window of each is highlighted.
    """
    results = [[pool(X, mode=mode, **setting) for mode in modes] for setting in settings]
    titles = []
    for row, setting in zip(results, settings, strict=True):
        args = ", ".join(f"{key}={value}" for key, value in setting.items())
        titles.append(
            [
                text
                for p in row
                for text in (f"{p.mode}: {args}\n{input_title(p)}", f"Y {tuple(p.Y.shape)}")
            ]
        )
    cell = _cell(*(p for row in results for p in row))
    # A row (max and avg side by side) wider than the page wraps: each mode on its own line.
    canvas = CellCanvas(
        [
            [shape for p in row for shape in (p.geometry.padded_size, tuple(p.Y.shape))]
            for row in results
        ],
        gap=2.2,
        title_height=title_room([t for row in titles for t in row], cell=cell),
        slots=[[text_width(t, cell=cell) for t in row_titles] for row_titles in titles],
        cell=cell,
    )
    for row, row_titles, panels in zip(results, titles, canvas.panels, strict=True):
        for k, pooling in enumerate(row):
            panel_in, panel_out = panels[2 * k], panels[2 * k + 1]
            _draw_input(panel_in, pooling, (0, 0))
            panel_in.title(row_titles[2 * k])
            _draw_output(panel_out, pooling, (0, 0))
            panel_out.title(row_titles[2 * k + 1])
            canvas.between(panel_in, panel_out, "→")
    return canvas.figure
