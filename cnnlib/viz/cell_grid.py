"""Cell grids: the drawing primitive behind the convolution and pooling explainers.

Every explainer draws small matrices as grids of square cells, coloured by role
(input, padding, window, output) and optionally labelled with their values.
:class:`CellCanvas` lays out panels of cells on one figure at a shared cell
size, so a 3x3 kernel looks smaller than the 8x8 input it slides over.

Why not ``new_figure`` with one axes per panel and a ``Text`` per value: the
explorers redraw on every slider move and must stay near or under 100 ms on a
2-core CPU. Measured there, constrained layout costs ~40 ms per redraw, each
axes another ~10 ms (tick machinery, even when hidden) and each ``Text``
0.5-1 ms (matplotlib lays the string out twice per draw). So a panel is one
``PolyCollection`` drawn straight on the figure, and all the figure's text one
:class:`cnnlib.viz.bitmap_text.BitmapText` artist that blits glyph bitmaps
rendered once per string: 100 labels then cost ~5 ms instead of ~60.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.transforms import Affine2D, Transform

from cnnlib.viz import style
from cnnlib.viz.bitmap_text import LINE_PITCH, BitmapText
from cnnlib.viz.common import NotebookFigure

# One colour per role, shared by every explainer so a reader learns them once.
INPUT_COLOR = "#dbe9f6"  # cells of the real input
PADDING_COLOR = "#d9d9d9"  # zero (or -inf) cells added around it
WINDOW_COLOR = "#fdae6b"  # cells the kernel / pooling window covers right now
CURRENT_COLOR = "#e6550d"  # outline of the current window and output cell
OUTPUT_COLOR = "#ffffff"  # output cells not computed yet
FILLED_COLOR = "#c7e9c0"  # output cells already computed
UNUSED_COLOR = "#fb6a4a"  # rows/columns no window ever reaches
CHOSEN_COLOR = "#6a51a3"  # the element a max-pooling window takes
EDGE_COLOR = "#555555"  # lines between cells

#: Physical size of one cell, in inches: room for a two-character value (see :func:`cell_for`).
CELL_INCHES = 0.3
#: Font size (points) of a value inside a cell, and of panel titles: the style's smallest.
CELL_FONTSIZE = style.FONT
TITLE_FONTSIZE = style.FONT
#: Font size (points) of the line above all panels.
HEADER_FONTSIZE = style.TITLE_FONT
#: Space around the panels and between rows of panels, in cells.
MARGIN = 0.6
ROW_GAP = 0.6
#: How much of a cell's width a value may fill (:meth:`Panel.cells` shrinks wider ones).
FILL = 0.85
#: Average width of a character, in ems: DejaVu Sans' digits are 0.64 em, letters narrower.
CHAR_EMS = 0.62


def as_matrix(X: torch.Tensor | np.ndarray | Sequence, name: str = "X") -> np.ndarray:
    """A 2-D float64 NumPy copy of a tensor, array or nested list.

    Raises:
        TypeError: if ``X`` cannot be read as numbers.
        ValueError: if ``X`` is not 2-D.
    """
    if isinstance(X, torch.Tensor):
        array = X.detach().cpu().to(torch.float64).numpy()
    else:
        try:
            array = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} must hold numbers, got {type(X).__name__} ({err})") from None
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (height, width), got shape {tuple(array.shape)}")
    return array


def format_value(value: float) -> str:
    """Label text with at most two decimals: ``19``, ``0.94``, ``-1.1``, ``-∞``, never ``-0``."""
    value = float(value) + 0.0  # turns -0.0 into 0.0
    if np.isinf(value):
        return "-∞" if value < 0 else "∞"
    text = f"{value:.2f}".rstrip("0").rstrip(".")  # short labels fit small cells
    return "0" if text == "-0" else text


def value_labels(values: np.ndarray, mask: np.ndarray | None = None) -> list[list[str]]:
    """Text for each cell of a 2-D array; cells where ``mask`` is False get ''."""
    return [
        [format_value(v) if mask is None or mask[i, j] else "" for j, v in enumerate(row)]
        for i, row in enumerate(values)
    ]


def text_width(text: str, fontsize: float = TITLE_FONTSIZE, cell: float = CELL_INCHES) -> float:
    """The width of the longest line of ``text``, in cells.

    Lets a canvas be made wide enough for a title or header before anything is drawn.
    """
    return style.text_width(text, fontsize) / cell


def cell_for(*labels: Sequence[Sequence[str]], fontsize: float = CELL_FONTSIZE) -> float:
    """The cell size, in inches, at which every label fits at ``fontsize`` (at least CELL_INCHES).

    A canvas is built at one cell size before anything is drawn; sizing the cells for
    the longest value keeps :meth:`Panel.cells` from shrinking it below the style's font.
    """
    longest = max((len(text) for grid in labels for row in grid for text in row), default=1)
    return max(CELL_INCHES, longest * CHAR_EMS * fontsize / 72 / FILL)


def title_room(texts: Sequence[str], fontsize: float = TITLE_FONTSIZE,
               cell: float = CELL_INCHES) -> float:
    """Room above a row of panels for the tallest of ``texts``, in cells."""
    lines = max((text.count("\n") + 1 for text in texts), default=1)
    return (1 + (lines - 1) * LINE_PITCH) * fontsize / 72 / cell + 0.5


def header_block(text: str, cell: float = CELL_INCHES,
                 fontsize: float = HEADER_FONTSIZE) -> tuple[str, float, float]:
    """``text`` wrapped at spaces to the widest figure, and its height and width in cells.

    The width (for a canvas' ``min_width``) includes the margins and never exceeds
    the widest figure.
    """
    wrapped = style.wrap(text, style.MAX_WIDTH - 2 * MARGIN * cell, fontsize)
    lines = wrapped.count("\n") + 1
    height = (1 + (lines - 1) * LINE_PITCH) * fontsize / 72 / cell + 0.1
    width = min(text_width(wrapped, fontsize, cell) + 2 * MARGIN, style.MAX_WIDTH / cell)
    return wrapped, height, width


def fill(shape: tuple[int, int], color: str) -> np.ndarray:
    """An RGB image of ``shape`` cells, all ``color``; shape ``(H, W, 3)``."""
    return np.broadcast_to(np.array(to_rgb(color)), (*shape, 3)).copy()


def tint(colors: np.ndarray, color: str, amount: float = 0.45) -> np.ndarray:
    """Mix ``amount`` of ``color`` into an ``(..., 3)`` block of cell colours."""
    return (1 - amount) * colors + amount * np.array(to_rgb(color))


@dataclass
class Panel:
    """One grid of cells on a :class:`CellCanvas`, in cell units (y grows downward).

    Attributes:
        canvas: the canvas it is drawn on.
        x, y: position of its top-left corner.
        shape: ``(rows, columns)``.
        line: which line of the figure it sits on (a row of panels too wide for
            the figure wraps onto several lines).
    """

    canvas: CellCanvas
    x: float
    y: float
    shape: tuple[int, int]
    line: int = 0

    def cells(
        self,
        colors: np.ndarray,
        labels: Sequence[Sequence[str]] | None = None,
        fontsize: float = CELL_FONTSIZE,
    ) -> None:
        """Fill the cells, cell ``(i, j)`` at row ``i`` and column ``j``.

        Args:
            colors: RGB per cell, shape ``(rows, columns, 3)``.
            labels: optional text per cell; empty strings are skipped.
            fontsize: label size in points.
        """
        h, w = self.shape
        if colors.shape[:2] != (h, w):
            raise ValueError(f"colors has shape {colors.shape[:2]}, the panel is {h}x{w}")
        rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        x = self.x + cols.ravel()
        y = self.y + rows.ravel()
        corners = [(x, y), (x + 1, y), (x + 1, y + 1), (x, y + 1)]
        verts = np.stack([np.stack(c, axis=1) for c in corners], axis=1)  # (h*w, 4, 2)
        self.canvas.add(
            PolyCollection(
                verts,
                facecolors=colors.reshape(-1, 3),
                edgecolors=EDGE_COLOR,
                linewidths=0.6,
            )
        )
        left, top, right, bottom = self.x, self.y, self.x + w, self.y + h
        self.canvas.add_line(
            Line2D(
                [left, right, right, left, left],
                [top, top, bottom, bottom, top],
                color=EDGE_COLOR,
                linewidth=1.0,
            )
        )  # a frame around the panel
        if labels is not None:
            # Shrink long labels (such as -2.99) so that they stay inside their cells;
            # renderers size their cells with cell_for so that this never happens.
            longest = max((len(text) for row in labels for text in row), default=1)
            fontsize = min(fontsize, FILL * self.canvas.cell * 72 / (CHAR_EMS * max(longest, 1)))
            for i, row in enumerate(labels):
                for j, text in enumerate(row):
                    if text:
                        self.canvas.text(self.x + j + 0.5, self.y + i + 0.5, text, fontsize)

    def title(self, text: str, fontsize: float = TITLE_FONTSIZE) -> None:
        """A (possibly multi-line) title just above the panel."""
        self.canvas.text(self.x + self.shape[1] / 2, self.y - 0.25, text, fontsize, va="bottom")

    def outline(
        self,
        top: int,
        left: int,
        height: int = 1,
        width: int = 1,
        color: str = CURRENT_COLOR,
        linewidth: float = 2.5,
    ) -> None:
        """Outline rows ``top:top+height`` and columns ``left:left+width``."""
        self.canvas.add(
            Rectangle(
                (self.x + left, self.y + top),
                width,
                height,
                fill=False,
                edgecolor=color,
                linewidth=linewidth,
                zorder=3,
            )
        )

    def dots(self, rows: np.ndarray, cols: np.ndarray, color: str, size: float = 2.5) -> None:
        """A small dot in the centre of each cell ``(rows[k], cols[k])``."""
        self.canvas.add(
            Line2D(
                self.x + np.asarray(cols) + 0.5,
                self.y + np.asarray(rows) + 0.5,
                linestyle="none",
                marker="o",
                markersize=size,
                color=color,
                zorder=4,
            )
        )


class CellCanvas:
    """A figure holding rows of cell panels at one shared cell size.

    Everything is drawn directly on the figure through one transform from
    cell units (x right, y down) to figure coordinates: no axes at all.

    Args:
        rows: for each row of panels, the ``(rows, columns)`` of each panel.
            Panels in a row are centred on each other vertically; rows are
            centred horizontally.
        gap: horizontal space between panels, in cells (room for a sign).
        title_height: space above each row for panel titles, in cells;
            one value for all rows or one per row.
        header: space at the top for a figure-wide line, in cells.
        min_width: the smallest figure width, in cells.
        slots: optional minimum width, in cells, of each panel's slot (same
            nesting as ``rows``); a narrower panel is centred in its slot, so
            a title wider than its grid gets room (see :func:`text_width`).
        cell: size of one cell in inches.
        max_width: the widest figure, in inches. A row of panels wider than this
            wraps onto as many lines as it needs, with the panels shared out
            evenly, rather than shrinking (the style's ``MAX_WIDTH``).

    Attributes:
        figure: the figure.
        panels: per row (as given, however it wraps), its :class:`Panel` objects.
        cell: size of one cell in inches.
    """

    def __init__(
        self,
        rows: Sequence[Sequence[tuple[int, int]]],
        gap: float = 1.6,
        title_height: float | Sequence[float] = 1.3,
        header: float = 0.0,
        min_width: float = 10.0,
        slots: Sequence[Sequence[float]] | None = None,
        cell: float = CELL_INCHES,
        max_width: float = style.MAX_WIDTH,
    ) -> None:
        self.cell = cell
        self.gap = gap
        if isinstance(title_height, (int, float)):
            title_height = [title_height] * len(rows)
        if slots is None:
            slots = [[0.0] * len(row) for row in rows]
        # Each logical row becomes one or more lines: (shapes, slot widths, title height,
        # room after the last panel). A line that wraps keeps a gap's room at its end,
        # where between() writes the sign that leads on to the next line.
        lines: list[tuple[list[tuple[int, int]], list[float], float, float]] = []
        for row, row_slots, row_title in zip(rows, slots, title_height, strict=True):
            widths = [max(w, slot) for (_, w), slot in zip(row, row_slots, strict=True)]
            chunks = _share_out(widths, gap, max_width / cell - 2 * MARGIN)
            for k, chunk in enumerate(chunks):
                trailing = gap if k < len(chunks) - 1 else 0.0
                lines.append(
                    ([row[j] for j in chunk], [widths[j] for j in chunk], row_title, trailing)
                )
        tallest = [max(h for h, _ in shapes) for shapes, *_ in lines]
        line_widths = [
            sum(widths) + gap * (len(widths) - 1) + trailing for _, widths, _, trailing in lines
        ]
        self.width = max(max(line_widths) + 2 * MARGIN, min_width)
        self.height = (
            sum(tallest) + sum(t for _, _, t, _ in lines) + ROW_GAP * (len(lines) - 1) + header
            + 2 * MARGIN
        )
        self.figure = NotebookFigure(figsize=(self.width * cell, self.height * cell))
        # Cell units -> figure fraction, flipping y so row 0 is at the top.
        self.transform: Transform = (
            Affine2D().scale(1 / self.width, -1 / self.height).translate(0, 1)
            + self.figure.transFigure
        )
        self.labels = BitmapText()
        self.add(self.labels)
        placed: list[Panel] = []
        top = MARGIN + header
        for index, ((shapes, widths, line_title, _), line_tallest, line_width) in enumerate(
            zip(lines, tallest, line_widths, strict=True)
        ):
            x = (self.width - line_width) / 2
            for (h, w), slot in zip(shapes, widths, strict=True):
                y = top + line_title + (line_tallest - h) / 2
                placed.append(Panel(self, x + (slot - w) / 2, y, (h, w), index))
                x += slot + gap
            top += line_title + line_tallest + ROW_GAP
        self.panels: list[list[Panel]] = []
        for row in rows:
            self.panels.append(placed[: len(row)])
            placed = placed[len(row):]

    def add(self, artist) -> None:
        """Add a matplotlib artist whose coordinates are in cell units."""
        artist.set_transform(self.transform)
        self.figure.add_artist(artist)

    def add_line(self, line: Line2D) -> None:
        """Add a line in cell units to ``figure.lines`` (matplotlib's list of figure lines).

        Why not :meth:`add`: IPython's inline backend displays a figure only if
        it has axes or lines, and a canvas has no axes.
        """
        line.set_transform(self.transform)
        line.set_figure(self.figure)
        self.figure.lines.append(line)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        fontsize: float = CELL_FONTSIZE,
        ha: str = "center",
        va: str = "center",
    ) -> None:
        """Write ``text`` at ``(x, y)`` in cell units (see ``BitmapText.add``)."""
        self.labels.add(x, y, text, fontsize, ha, va)

    def header(self, text: str, fontsize: float = HEADER_FONTSIZE) -> None:
        """A line (or lines, see :func:`header_block`) centred at the top of the figure."""
        self.text(self.width / 2, 0.3, text, fontsize, va="top")

    def between(self, left: Panel, right: Panel, text: str, fontsize: float = 14) -> None:
        """Write an operator sign (``⋆``, ``=``, ``+``) in the gap between two panels.

        When the row wrapped between them, the sign ends ``left``'s line instead.
        """
        if text == "⋆":
            fontsize *= 1.6  # the star glyph is drawn much smaller than = or +
        if left.line != right.line:
            x = left.x + left.shape[1] + self.gap / 2
            self.text(x, left.y + left.shape[0] / 2, text, fontsize)
            return
        x = (left.x + left.shape[1] + right.x) / 2
        y = (max(left.y, right.y) + min(left.y + left.shape[0], right.y + right.shape[0])) / 2
        self.text(x, y, text, fontsize)

    def clear(self) -> None:
        """Remove everything drawn (an animation redraws each frame on the same figure)."""
        for artist in list(self.figure.artists):
            artist.remove()
        self.figure.lines.clear()  # added by add_line, which bypasses add_artist
        self.labels = BitmapText()
        self.add(self.labels)


def _share_out(widths: Sequence[float], gap: float, room: float) -> list[list[int]]:
    """Split panels of ``widths`` into the fewest lines at most ``room`` wide, evenly.

    Even shares (4 panels as 2 + 2, not 3 + 1) keep a gallery's pairs together. Every
    line but the last also needs a ``gap`` at its end. A single panel wider than
    ``room`` gets a line of its own.
    """
    n = len(widths)
    for count in range(1, n + 1):
        size, extra = divmod(n, count)
        chunks, start = [], 0
        for k in range(count):
            stop = start + size + (1 if k < extra else 0)
            chunks.append(list(range(start, stop)))
            start = stop
        if all(sum(widths[k] for k in c) + gap * (len(c) - (c is chunks[-1])) <= room
               for c in chunks):
            return chunks
    return [[k] for k in range(n)]


def message_figure(message: str, width: float = 5.0) -> Figure:
    """A small figure that only says why there is nothing to draw."""
    fig = NotebookFigure(figsize=(width, 0.8))
    fig.text(0.5, 0.5, message, ha="center", va="center", fontsize=style.FONT, wrap=True,
             color="#a50f15")
    return fig
