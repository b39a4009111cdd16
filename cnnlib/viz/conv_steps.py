"""A kernel stepping over its input, one output cell at a time.

:func:`conv_step` computes the numbers of one step (the window, the
elementwise products, their sum, the output so far) and the renderers draw
them: :func:`conv_step_figure` for one step (what the explorer shows) and
:func:`conv_step_animation` for all steps (its static form on the website).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.animation import FuncAnimation
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from cnnlib.ops import as_pair, corr2d_vectorized
from cnnlib.viz import style
from cnnlib.viz.cell_grid import (
    FILLED_COLOR,
    INPUT_COLOR,
    OUTPUT_COLOR,
    PADDING_COLOR,
    WINDOW_COLOR,
    CellCanvas,
    as_matrix,
    cell_for,
    fill,
    format_value,
    header_block,
    value_labels,
)

#: Above this many kernel taps the header names the sum instead of writing every term.
MAX_WRITTEN_TERMS = 9


@dataclass(frozen=True)
class ConvStep:
    """The numbers behind one step of a cross-correlation with padding and stride.

    Attributes:
        X_padded: the zero-padded input, shape ``(H + 2p_h, W + 2p_w)``. Here ``p_h`` and
            ``p_w`` count zeros per side, as ``nn.Conv2d``'s ``padding`` does; D2L 7.3's
            ``p_h`` and ``p_w`` count the total, twice as many.
        K: the kernel, shape ``(kh, kw)``.
        Y: the whole output, shape ``(H', W')``.
        padding: ``(p_h, p_w)``, zeros added on each side.
        stride: ``(s_h, s_w)``.
        step: index of this step, counting output cells row by row.
        position: ``(row, col)`` of the output cell this step computes.
        window: the input cells it reads, shape ``(kh, kw)``.
        products: ``window * K``, shape ``(kh, kw)``.
        total: ``products.sum()``, which equals ``Y[position]``.
    """

    X_padded: torch.Tensor
    K: torch.Tensor
    Y: torch.Tensor
    padding: tuple[int, int]
    stride: tuple[int, int]
    step: int
    position: tuple[int, int]
    window: torch.Tensor
    products: torch.Tensor
    total: float

    @property
    def num_steps(self) -> int:
        """Output cells in all, one step each."""
        return self.Y.numel()

    @property
    def top_left(self) -> tuple[int, int]:
        """Padded-input coordinates of the window's top-left cell."""
        return self.position[0] * self.stride[0], self.position[1] * self.stride[1]

    def equation(self) -> str:
        """``Y[0, 1] = 1·1 + 2·2 + 4·3 + 5·4 = 37``-style text for this step."""
        i, j = self.position
        terms = [
            f"{format_value(x)}·{format_value(k)}"
            for x, k in zip(self.window.flatten().tolist(), self.K.flatten().tolist(), strict=True)
        ]
        if len(terms) > MAX_WRITTEN_TERMS:
            written = f"sum of {len(terms)} products"
        else:
            written = " + ".join(terms)
        return f"Y[{i}, {j}] = {written} = {format_value(self.total)}"


def strided_corr2d(
    X: torch.Tensor, K: torch.Tensor, padding: tuple[int, int], stride: tuple[int, int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-correlation with zero padding and a stride, built on the stride-1 op.

    A strided output is the stride-1 output of the padded input, keeping every
    ``s``-th row and column; that keeps :mod:`cnnlib.ops` the one source of
    the arithmetic.

    Args:
        X: input, shape ``(H, W)``.
        K: kernel, shape ``(kh, kw)``.
        padding: zeros added on each side, ``(p_h, p_w)``.
        stride: ``(s_h, s_w)``.

    Returns:
        The padded input ``(H + 2p_h, W + 2p_w)`` and the output ``(H', W')``.
    """
    X_padded = F.pad(X, (padding[1], padding[1], padding[0], padding[0]))  # (H + 2p, W + 2p)
    Y = corr2d_vectorized(X_padded, K)[:: stride[0], :: stride[1]]
    return X_padded, Y


def conv_step(
    X: torch.Tensor,
    K: torch.Tensor,
    step: int,
    padding: int | tuple[int, int] = 0,
    stride: int | tuple[int, int] = 1,
) -> ConvStep:
    """The window, products and sum of output cell number ``step`` (row by row).

    Args:
        X: input, shape ``(H, W)``, floating point.
        K: kernel, shape ``(kh, kw)``.
        step: which output cell, ``0 <= step < H' * W'``.
        padding, stride: as in ``nn.Conv2d``.

    Raises:
        TypeError: if X or K is not a floating-point tensor.
        ValueError: if the shapes do not fit or ``step`` is out of range.
    """
    padding = as_pair(padding, "padding", 0)
    stride = as_pair(stride, "stride", 1)
    X_padded, Y = strided_corr2d(X, K, padding, stride)
    out_h, out_w = Y.shape
    if not 0 <= step < out_h * out_w:
        raise ValueError(
            f"step must be in [0, {out_h * out_w}) for a {out_h}x{out_w} output, got {step}"
        )
    i, j = divmod(step, out_w)
    top, left = i * stride[0], j * stride[1]
    kh, kw = K.shape
    window = X_padded[top : top + kh, left : left + kw]  # (kh, kw)
    products = window * K
    return ConvStep(
        X_padded=X_padded,
        K=K,
        Y=Y,
        padding=padding,
        stride=stride,
        step=step,
        position=(i, j),
        window=window,
        products=products,
        total=float(products.sum()),
    )


def _input_colors(step: ConvStep) -> np.ndarray:
    (ph, pw), (Hp, Wp) = step.padding, step.X_padded.shape
    colors = fill((Hp, Wp), PADDING_COLOR)
    colors[ph : Hp - ph, pw : Wp - pw] = to_rgb(INPUT_COLOR)
    top, left = step.top_left
    kh, kw = step.K.shape
    colors[top : top + kh, left : left + kw] = to_rgb(WINDOW_COLOR)
    return colors


def _step_canvas(step: ConvStep, headers: list[str]) -> CellCanvas:
    """The layout shared by every step of one input/kernel/padding/stride.

    Cells are sized for the longest value of any step (so that the explorer's figure
    keeps its size from step to step) and the header room for the longest of ``headers``.
    """
    kernel = tuple(step.K.shape)
    windows = F.unfold(step.X_padded[None, None], kernel, stride=step.stride)[0]  # (kh*kw, steps)
    products = windows * step.K.reshape(-1, 1)
    cell = cell_for(
        *(value_labels(as_matrix(T)) for T in (step.X_padded, step.K, products, step.Y))
    )
    blocks = [header_block(header, cell) for header in headers]
    return CellCanvas(
        [[tuple(step.X_padded.shape), kernel, kernel, tuple(step.Y.shape)]],
        header=max(height for _, height, _ in blocks),
        # Every step's header has the same shape; leave room for wider numbers.
        min_width=min(max(width for *_, width in blocks) * 1.1, style.MAX_WIDTH / cell),
        cell=cell,
    )


def _header(step: ConvStep) -> str:
    return f"step {step.step + 1} of {step.num_steps}:  {step.equation()}"


def _draw_step(canvas: CellCanvas, step: ConvStep) -> None:
    """Draw ``step`` on the canvas' four panels (input, kernel, products, output)."""
    panel_in, panel_k, panel_prod, panel_out = canvas.panels[0]
    kh, kw = step.K.shape
    panel_in.cells(_input_colors(step), value_labels(as_matrix(step.X_padded)))
    panel_in.outline(*step.top_left, kh, kw)
    panel_in.title("padded input X" if max(step.padding) else "input X")
    panel_k.cells(fill((kh, kw), WINDOW_COLOR), value_labels(as_matrix(step.K)))
    panel_k.title("kernel K")
    panel_prod.cells(fill((kh, kw), WINDOW_COLOR), value_labels(as_matrix(step.products)))
    panel_prod.title("products")
    out_h, out_w = step.Y.shape
    done = np.arange(out_h * out_w).reshape(out_h, out_w) <= step.step  # filled so far
    colors = fill((out_h, out_w), OUTPUT_COLOR)
    colors[done] = to_rgb(FILLED_COLOR)
    colors[step.position] = to_rgb(WINDOW_COLOR)
    panel_out.cells(colors, value_labels(as_matrix(step.Y), done))
    panel_out.outline(*step.position)
    panel_out.title("output Y")
    canvas.between(panel_in, panel_k, "⋆")
    canvas.between(panel_k, panel_prod, "→")
    canvas.between(panel_prod, panel_out, "Σ→", fontsize=11)
    canvas.header(header_block(_header(step), canvas.cell)[0])


def conv_step_figure(step: ConvStep) -> Figure:
    """Draw one step: the window on the padded input, K, the products, the output so far."""
    canvas = _step_canvas(step, [_header(step)])
    _draw_step(canvas, step)
    return canvas.figure


def conv_step_animation(
    X: torch.Tensor,
    K: torch.Tensor,
    padding: int | tuple[int, int] = 0,
    stride: int | tuple[int, int] = 1,
    interval: int = 900,
    dpi: float = style.DPI,
) -> FuncAnimation:
    """Every step as one frame: the static form of the step-through explorer.

    Show it with ``IPython.display.HTML(to_page_html(anim))``. Each frame is a
    PNG embedded in that HTML (stored in the notebook), so keep inputs small
    (a 3x3 input with a 2x2 kernel gives 4 frames). The frames are shown at their
    natural size, so a ``dpi`` below the style's makes their text too small to read.

    Args:
        X: input, shape ``(H, W)``.
        K: kernel, shape ``(kh, kw)``.
        padding, stride: as in ``nn.Conv2d``.
        interval: milliseconds between frames.
        dpi: resolution of the frames.

    Returns:
        The animation; its frame count is the number of output cells.
    """
    first = conv_step(X, K, 0, padding, stride)
    headers = [_header(conv_step(X, K, k, padding, stride)) for k in range(first.num_steps)]
    canvas = _step_canvas(first, headers)
    canvas.figure.set_dpi(dpi)

    def draw(index: int) -> list:
        canvas.clear()
        _draw_step(canvas, conv_step(X, K, index, padding, stride))
        return []

    return FuncAnimation(canvas.figure, draw, frames=first.num_steps, interval=interval)


# matplotlib's player draws its buttons with Font Awesome 4 icons, loaded from a CDN by a
# <link> at the top of to_jshtml(): an offline page logs an error and shows empty buttons.
# Plain characters need no font; each button keeps its title for screen readers.
_PLAYER_ICONS = {
    "fa fa-minus": "\u2212",  # slower
    "fa fa-fast-backward": "\u23ee",  # first frame
    "fa fa-step-backward": "\u25c1",  # previous frame
    "fa fa-play fa-flip-horizontal": "\u25c0",  # play backwards
    "fa fa-pause": "\u275a\u275a",  # pause
    "fa fa-play": "\u25b6",  # play
    "fa fa-step-forward": "\u25b7",  # next frame
    "fa fa-fast-forward": "\u23ed",  # last frame
    "fa fa-plus": "+",  # faster
}
_CDN_LINK = re.compile(r'<link rel="stylesheet"\s+href="https?://[^"]*font-awesome[^"]*">\s*')


def to_page_html(anim: FuncAnimation) -> str:
    """``anim.to_jshtml()`` with nothing loaded from another host: no Font Awesome link,
    the player's icons as plain characters. Works offline, on the website and in JupyterLab.
    """
    html = _CDN_LINK.sub("", anim.to_jshtml())
    for icon, text in _PLAYER_ICONS.items():
        html = html.replace(f'<i class="{icon}"></i>', f'<span aria-hidden="true">{text}</span>')
    return html
