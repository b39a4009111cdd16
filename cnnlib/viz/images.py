"""Image grids, small annotated matrices and feature-map stacks.

Every function returns a :class:`matplotlib.figure.Figure` built with
:func:`cnnlib.viz.common.new_figure`; a notebook shows it by making it the last
value of a cell. Inputs may be tensors, NumPy arrays or nested lists.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.path import Path
from matplotlib.textpath import TextPath
from matplotlib.transforms import Affine2D

from cnnlib.viz import style
from cnnlib.viz.common import new_figure

#: Colormap for signed values; drawn with limits symmetric about 0 so white means 0.
DIVERGING_CMAP = "RdBu_r"
#: Colormap for non-negative matrices (the notes' 0/1 images).
SEQUENTIAL_CMAP = "Blues"


def as_array(T: object, name: str = "tensor") -> np.ndarray:
    """Convert a tensor, array or nested list to a float64 NumPy array.

    Gradients are detached, so a ``nn.Parameter`` can be drawn directly.

    Raises:
        TypeError: if ``T`` cannot be read as an array of numbers.
    """
    if isinstance(T, torch.Tensor):
        return T.detach().cpu().to(torch.float64).numpy()
    try:
        return np.asarray(T, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be a tensor, an array or a nested list of numbers; "
            f"got {type(T).__name__} that NumPy cannot read ({err})"
        ) from None


def symmetric_limits(values: np.ndarray) -> tuple[float, float]:
    """Colour limits ``(-m, m)`` with ``m`` the largest magnitude, so 0 sits mid-scale."""
    m = float(np.abs(values).max()) if values.size else 0.0
    m = m if m > 0 else 1.0  # an all-zero map still needs a non-empty range
    return -m, m


def format_number(value: float, integral: bool) -> str:
    """Text for one cell: ``19`` for whole numbers, ``0.94`` otherwise, never ``-0``."""
    value = float(value) + 0.0  # turns -0.0 into 0.0
    if integral:
        return f"{value:.0f}"
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def is_integral(values: np.ndarray) -> bool:
    """Whether every finite entry is a whole number small enough to print without decimals."""
    finite = values[np.isfinite(values)]
    return bool(np.all(finite == np.round(finite))) and bool(np.all(np.abs(finite) < 1e5))


def number_width(values: np.ndarray, fontsize: float = style.FONT) -> float:
    """Width in inches of the widest number :func:`draw_matrix` writes for ``values``."""
    integral = is_integral(values)
    texts = {format_number(v, integral) for v in values.ravel()}
    return max((style.text_width(t, fontsize) for t in texts), default=0.0)


def grid_titles(titles: Sequence[str], width: float) -> list[str]:
    """Titles wrapped at spaces to ``width`` inches, the width of one image of a grid."""
    return [style.wrap(str(title), width) for title in titles]


def _title_room(titles: Sequence[str] | None) -> float:
    """Inches above each row of a grid for its tallest title."""
    if not titles:
        return 0.0
    lines = max(title.count("\n") + 1 for title in titles)
    return lines * 1.25 * style.TITLE_FONT / 72 + 0.05


def hide_axes(ax: Axes) -> None:
    """Hide frame, ticks and labels of an axes that shows a picture.

    Removing the ticks, not only hiding them, matters for speed: matplotlib
    still measures hidden tick labels to place the title, which costs about a
    third of a small figure's drawing time.
    """
    ax.set_axis_off()
    ax.set_xticks([])
    ax.set_yticks([])


def _text_color(rgba: Sequence[float]) -> str:
    # Relative luminance of the cell colour decides black or white digits.
    r, g, b = rgba[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


@functools.lru_cache(maxsize=1024)
def _centred_glyphs(text: str, fontsize: float) -> Path:
    """The outline of ``text`` in points, centred on (0, 0); cached per string."""
    path = TextPath((0, 0), text, size=fontsize)
    extents = path.get_extents()
    vertices = path.vertices - [(extents.x0 + extents.x1) / 2, (extents.y0 + extents.y1) / 2]
    return Path(vertices, path.codes)


class CellNumbers(PathCollection):
    """Numbers written in the cells of a matrix, drawn as one collection of glyph outlines.

    One ``Text`` artist per cell costs about half a millisecond to draw, which
    made the kernel explorer's redraw of a 6x8 example slow; one collection of
    cached outlines draws all cells at once.

    Attributes:
        texts: the strings written, in row-major order.
        fontsize: their size in points.
    """

    def __init__(
        self,
        ax: Axes,
        texts: Sequence[str],
        offsets: np.ndarray,
        colors: Sequence[str],
        fontsize: float,
    ) -> None:
        """Write ``texts[k]`` centred at data point ``offsets[k]`` (shape ``(K, 2)``)."""
        self.texts = list(texts)
        self.fontsize = fontsize
        super().__init__(
            [_centred_glyphs(text, fontsize) for text in self.texts],
            offsets=offsets,
            offset_transform=ax.transData,
            # Glyph outlines are in points: points -> inches -> pixels at any dpi.
            transform=Affine2D().scale(1 / 72) + ax.figure.dpi_scale_trans,
            facecolors=colors,
            edgecolors="none",
        )


def draw_matrix(
    ax: Axes,
    values: np.ndarray,
    annotate: bool = True,
    cmap: str | None = None,
    title: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    fontsize: float = style.FONT,
) -> None:
    """Draw a 2-D array ``(H, W)`` into ``ax`` as coloured cells, optionally with numbers.

    With ``cmap=None`` signed data get a diverging colormap centred on 0 and
    non-negative data a light sequential one, so the written numbers stay readable.
    """
    signed = bool(values.size) and float(values.min()) < 0
    if cmap is None:
        cmap = DIVERGING_CMAP if signed else SEQUENTIAL_CMAP
    if vmin is None and vmax is None:
        if signed:
            vmin, vmax = symmetric_limits(values)
        else:
            vmin, vmax = 0.0, max(float(values.max()) if values.size else 1.0, 1e-12)
        # Headroom keeps the extreme cells mid-dark, so their digits stay legible.
        vmin, vmax = vmin * 1.25, vmax * 1.25
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    height, width = values.shape
    # White lines between cells make each entry a visible box. Two line
    # collections instead of minor ticks: tick objects are slow to draw and
    # the explorer redraws this on every keystroke.
    hide_axes(ax)
    ax.vlines(np.arange(0.5, width - 1), -0.5, height - 0.5, colors="white", linewidth=1)
    ax.hlines(np.arange(0.5, height - 1), -0.5, width - 0.5, colors="white", linewidth=1)
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(height - 0.5, -0.5)
    if title is not None:
        ax.set_title(title, fontsize=style.TITLE_FONT)
    if annotate:
        integral = is_integral(values)
        texts = [format_number(v, integral) for v in values.ravel()]
        colors = [_text_color(rgba) for rgba in image.cmap(image.norm(values.ravel()))]
        rows, cols = np.indices(values.shape)
        offsets = np.column_stack([cols.ravel(), rows.ravel()])  # (H * W, 2) cell centres (x, y)
        ax.add_collection(CellNumbers(ax, texts, offsets, colors, fontsize), autolim=False)


def show_matrix(
    T: object,
    ax: Axes | None = None,
    annotate: bool = True,
    cmap: str | None = None,
    title: str | None = None,
    cell_size: float = 0.42,
) -> Figure:
    """Draw a small 2-D tensor as a grid of cells with its numbers written in them.

    This is how the notes' 3x3 and 6x8 examples are shown: the picture and the
    printed tensor carry the same numbers.

    Args:
        T: the matrix, shape ``(H, W)``.
        ax: draw into this axes instead of a new figure.
        annotate: write each entry's value in its cell.
        cmap: a matplotlib colormap name; ``None`` picks a diverging map centred
            on 0 for signed values and a light blue map otherwise.
        title: text above the grid.
        cell_size: inches per cell when a new figure is made.

    Returns:
        The figure holding the drawing (``ax.figure`` when ``ax`` is given).

    Raises:
        ValueError: if ``T`` is not 2-D or is empty.
    """
    values = as_array(T, "T")
    if values.ndim != 2 or values.size == 0:
        raise ValueError(
            f"show_matrix draws a non-empty 2-D tensor (H, W); got shape {tuple(values.shape)}. "
            "Index or squeeze it first, e.g. T[0, 0] for a (1, 1, H, W) batch."
        )
    if ax is None:
        height, width = values.shape
        if annotate:
            cell_size = max(cell_size, number_width(values) / 0.8)
        fig = new_figure(max(1.2, cell_size * width + 0.3), cell_size * height + 0.45)
        ax = fig.add_subplot()
    draw_matrix(ax, values, annotate=annotate, cmap=cmap, title=title)
    return ax.figure


def _image_stack(images: object) -> np.ndarray:
    """Validate an image batch and return it as ``(N, H, W)`` or ``(N, H, W, 3)``."""
    array = as_array(images, "images")
    if array.ndim == 4 and array.shape[1] in (1, 3):
        # (N, C, H, W) -> (N, H, W) for grey, (N, H, W, 3) for colour
        array = array[:, 0] if array.shape[1] == 1 else array.transpose(0, 2, 3, 1)
    elif array.ndim != 3:
        raise ValueError(
            "show_images expects a batch (N, H, W) or (N, C, H, W) with C = 1 or 3; "
            f"got shape {tuple(array.shape)}. For one image pass image[None]."
        )
    if array.shape[0] == 0:
        raise ValueError("show_images got an empty batch (N = 0); pass at least one image")
    return array


def show_images(
    images: object,
    titles: Sequence[str] | None = None,
    ncols: int = 8,
    scale: float = 1.4,
) -> Figure:
    """Show a batch of images in a grid, one axes per image.

    Args:
        images: shape ``(N, H, W)`` or ``(N, C, H, W)`` with ``C`` 1 or 3; uint8
            images are drawn on the fixed 0..255 scale, float images each on
            their own min..max range.
        titles: one caption per image (e.g. text labels), wrapped at spaces to
            the image's width.
        ncols: images per row (fewer if ``N`` is smaller).
        scale: inches per image; less when ``ncols`` images would not fit the
            style's ``MAX_WIDTH``.

    Returns:
        A figure with exactly ``N`` axes.

    Raises:
        ValueError: for a wrong shape, an empty batch, a bad ``ncols`` or a
            ``titles`` list whose length differs from ``N``.
    """
    is_uint8 = (isinstance(images, torch.Tensor) and images.dtype == torch.uint8) or (
        isinstance(images, np.ndarray) and images.dtype == np.uint8
    )
    array = _image_stack(images)
    n = array.shape[0]
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}")
    if titles is not None and len(titles) != n:
        raise ValueError(f"got {len(titles)} titles for {n} images; pass one title per image")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    scale = min(scale, style.MAX_WIDTH / ncols)
    if titles is not None:
        titles = grid_titles(titles, scale * 0.95)
    fig = new_figure(scale * ncols, (scale + _title_room(titles)) * nrows)
    for k in range(n):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        limits = {"vmin": 0, "vmax": 255} if is_uint8 else {}
        image = array[k] / 255.0 if is_uint8 and array.ndim == 4 else array[k]
        ax.imshow(image, cmap="gray", interpolation="nearest", **limits)
        hide_axes(ax)
        if titles is not None:
            ax.set_title(titles[k])
    return fig


def show_feature_maps(
    maps: object,
    titles: Sequence[str] | None = None,
    ncols: int = 8,
    scale: float = 1.4,
    colorbar: bool = True,
) -> Figure:
    """Show a stack of feature maps side by side on one shared colour scale.

    A shared scale lets the eye compare channels: a faint map really is weak.
    Signed maps use a diverging colormap centred on 0 (red positive, blue
    negative, white zero); non-negative maps (e.g. after a ReLU) use viridis.

    Args:
        maps: shape ``(C, H, W)``, one map per channel.
        titles: one caption per map; defaults to ``channel 0``, ``channel 1``, ...
        ncols: maps per row.
        scale: inches per map; less when ``ncols`` maps would not fit the style's
            ``MAX_WIDTH``.
        colorbar: add one colour bar for the shared scale.

    Returns:
        A figure with one image axes per channel (plus the colour bar's axes).

    Raises:
        ValueError: if ``maps`` is not 3-D, is empty, or ``titles`` has the wrong length.
    """
    values = as_array(maps, "maps")
    if values.ndim != 3 or values.shape[0] == 0:
        raise ValueError(
            f"show_feature_maps expects a stack (C, H, W) with C >= 1; got shape "
            f"{tuple(values.shape)}. For a batch (N, C, H, W) pass maps[0]; "
            "for one map (H, W) pass maps[None]."
        )
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}")
    channels = values.shape[0]
    if titles is None:
        titles = [f"channel {c}" for c in range(channels)]
    if len(titles) != channels:
        raise ValueError(f"got {len(titles)} titles for {channels} maps; pass one per channel")
    if float(values.min()) < 0:
        cmap, (vmin, vmax) = DIVERGING_CMAP, symmetric_limits(values)
    else:
        cmap, vmin, vmax = "viridis", 0.0, max(float(values.max()), 1e-12)
    ncols = min(ncols, channels)
    nrows = math.ceil(channels / ncols)
    bar = 0.8 if colorbar else 0.0  # the colour bar and its tick labels
    scale = min(scale, (style.MAX_WIDTH - bar) / ncols)
    titles = grid_titles(titles, scale * 0.95)
    fig = new_figure(scale * ncols + bar, (scale + _title_room(titles)) * nrows)
    axes = []
    image = None
    for c in range(channels):
        ax = fig.add_subplot(nrows, ncols, c + 1)
        image = ax.imshow(values[c], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        hide_axes(ax)
        ax.set_title(titles[c])
        axes.append(ax)
    if colorbar and image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8)
    return fig
