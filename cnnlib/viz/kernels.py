"""Pictures of kernels and of what they do to an image.

``KERNEL_PRESETS`` holds the classic hand-made kernels that the kernel
explorer offers; :func:`preset_gallery` is that explorer's static form (every
preset applied to one image), for readers of the website who cannot run it.
"""

from __future__ import annotations

import math

import torch
from matplotlib.figure import Figure

from cnnlib.ops import corr2d_vectorized
from cnnlib.viz import style
from cnnlib.viz.common import new_figure
from cnnlib.viz.images import (
    DIVERGING_CMAP,
    as_array,
    draw_matrix,
    grid_titles,
    hide_axes,
    number_width,
    symmetric_limits,
)


def _kernel(rows: list[list[float]]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float32)


#: Hand-made kernels by name, each a float32 tensor ``(kh, kw)``. Treat them as
#: read-only: clone one before changing it.
KERNEL_PRESETS: dict[str, torch.Tensor] = {
    # The notes' kernel: responds where a pixel differs from its right neighbour.
    "vertical edge 1x2": _kernel([[1.0, -1.0]]),
    # The same idea averaged over three rows (Prewitt), so it is less sensitive to noise.
    "vertical edge 3x3": _kernel([[1.0, 0.0, -1.0], [1.0, 0.0, -1.0], [1.0, 0.0, -1.0]]),
    # Transposes of the two above: they see edges that run left to right.
    "horizontal edge 2x1": _kernel([[1.0], [-1.0]]),
    "horizontal edge 3x3": _kernel([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -1.0, -1.0]]),
    # Every output is the mean of a 3x3 window: detail is smoothed away.
    "box blur 3x3": torch.full((3, 3), 1.0 / 9.0),
    # Centre minus its four neighbours, added back to the pixel: edges get stronger.
    "sharpen 3x3": _kernel([[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]]),
    # Copies the centre pixel: the output is the input, cropped by one pixel per side.
    "identity 3x3": _kernel([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]),
}

#: Matrices with at most this many rows and columns are drawn with their numbers.
ANNOTATE_MAX = 12


def as_image(image: object, name: str = "image") -> torch.Tensor:
    """A single image as float32 ``(H, W)``; uint8 pixels are scaled to [0, 1].

    ``(1, H, W)`` and ``(1, 1, H, W)`` are squeezed, so one Fashion-MNIST item
    from a batch can be passed as it is.

    Raises:
        ValueError: if the shape is not one image.
    """
    if isinstance(image, torch.Tensor):
        X = image.detach().cpu()
    else:
        X = torch.as_tensor(as_array(image, name))
    original_shape = tuple(X.shape)
    while X.ndim > 2 and X.shape[0] == 1:
        X = X[0]  # (1, ..., H, W) -> (..., H, W)
    if X.ndim != 2 or X.numel() == 0:
        raise ValueError(
            f"{name} must be one non-empty 2-D image (H, W); got shape {original_shape}. "
            "For a batch pick one item, e.g. images[0]."
        )
    if X.dtype == torch.uint8:
        return X.to(torch.float32) / 255.0
    return X.to(torch.float32)


def show_corr2d(
    X: object, K: object, Y: object | None = None, cell_size: float = 0.3
) -> Figure:
    """Input, kernel and output of a 2-D cross-correlation, side by side.

    Small matrices (at most ``ANNOTATE_MAX`` rows and columns) are drawn as
    cells with their numbers; larger ones as images. The kernel, which is
    always small, always carries its numbers.

    Args:
        X: the input, shape ``(H, W)``.
        K: the kernel, shape ``(kh, kw)``.
        Y: the output, shape ``(H - kh + 1, W - kw + 1)``; computed with
            :func:`cnnlib.ops.corr2d_vectorized` when omitted.
        cell_size: the least inches per annotated cell; cells get more room
            when their numbers need it. Image panels shrink (never the text) to
            keep the figure within the style's ``MAX_WIDTH``.

    Returns:
        A figure with three axes: X, K and Y.

    Raises:
        ValueError: if a shape is not 2-D, or ``Y``'s shape does not match ``X`` and ``K``.
    """
    X = as_image(X, "X")
    K = as_image(K, "K")
    if K.shape[0] > X.shape[0] or K.shape[1] > X.shape[1]:
        raise ValueError(
            f"kernel {tuple(K.shape)} does not fit inside input {tuple(X.shape)}; "
            "use a smaller kernel or a larger input"
        )
    Y = corr2d_vectorized(X, K) if Y is None else as_image(Y, "Y")
    expected = (X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1)
    if tuple(Y.shape) != expected:
        raise ValueError(
            f"Y has shape {tuple(Y.shape)} but X {tuple(X.shape)} cross-correlated with "
            f"K {tuple(K.shape)} gives {expected}; pass the matching output or Y=None"
        )
    panels = [("input X", X), ("kernel K", K), ("output Y", Y)]
    # Annotated panels get room per cell, image panels a fixed square. The axes
    # are placed by hand rather than by constrained layout, which would double
    # the time of each explorer redraw.
    annotated = [max(T.shape) <= ANNOTATE_MAX or name == "kernel K" for name, T in panels]
    symbols = ["", "⋆ ", "= "]
    titles = [f"{symbol}{name} {T.shape[0]}×{T.shape[1]}"
              for (name, T), symbol in zip(panels, symbols, strict=True)]
    margin, gap = 0.1, 0.3
    title_room = 1.4 * style.TITLE_FONT / 72
    # Each panel sits centred in a slot wide enough for its title.
    min_slots = [style.text_width(title, style.TITLE_FONT) + 0.1 for title in titles]
    cells = [max(cell_size, number_width(T.numpy()) / 0.8) for _, T in panels]
    fixed = sum(max(T.shape[1] * cell, slot) for (_, T), cell, slot, small
                in zip(panels, cells, min_slots, annotated, strict=True) if small)
    images = annotated.count(False)
    room = style.MAX_WIDTH - 2 * margin - 2 * gap - fixed
    image_side = min(2.6, room / images) if images else 0.0
    sizes = []  # (width, height) in inches per panel
    for (_, T), small, cell in zip(panels, annotated, cells, strict=True):
        sizes.append((T.shape[1] * cell, T.shape[0] * cell) if small else (image_side,) * 2)
    slots = [max(w, slot) for (w, _), slot in zip(sizes, min_slots, strict=True)]
    fig_width = 2 * margin + sum(slots) + 2 * gap
    fig_height = margin + title_room + max(h for _, h in sizes)
    fig = new_figure(fig_width, fig_height)
    fig.set_layout_engine("none")
    left = margin
    for (_, T), (w, h), slot, small, title in zip(
        panels, sizes, slots, annotated, titles, strict=True
    ):
        bottom = margin + (fig_height - margin - title_room - h) / 2
        x = left + (slot - w) / 2
        ax = fig.add_axes((x / fig_width, bottom / fig_height, w / fig_width, h / fig_height))
        left += slot + gap
        if small:
            draw_matrix(ax, T.numpy(), annotate=True, title=title)
            continue
        values = T.numpy()
        if float(values.min()) < 0:
            vmin, vmax = symmetric_limits(values)
            ax.imshow(values, cmap=DIVERGING_CMAP, vmin=vmin, vmax=vmax, interpolation="nearest")
        else:
            ax.imshow(values, cmap="gray", interpolation="nearest")
        hide_axes(ax)
        ax.set_title(title, fontsize=style.TITLE_FONT)
    return fig


def apply_presets(
    image: object, presets: dict[str, torch.Tensor] | None = None
) -> dict[str, torch.Tensor]:
    """Cross-correlate one image with every preset kernel.

    Args:
        image: shape ``(H, W)`` (uint8 is scaled to [0, 1]).
        presets: name -> kernel ``(kh, kw)``; defaults to :data:`KERNEL_PRESETS`.

    Returns:
        name -> output ``(H - kh + 1, W - kw + 1)``, in the presets' order.
    """
    X = as_image(image)
    presets = KERNEL_PRESETS if presets is None else presets
    return {name: corr2d_vectorized(X, as_image(K, name)) for name, K in presets.items()}


def preset_gallery(
    image: object,
    presets: dict[str, torch.Tensor] | None = None,
    ncols: int = 4,
    scale: float = 1.9,
    title: str | None = None,
) -> Figure:
    """The input image followed by its output under every preset kernel.

    This is the kernel explorer's static form: the same comparison, all at
    once, with nothing to run. Signed outputs (edge detectors) use a diverging
    colormap centred on 0; non-negative ones are grey like the input.

    Args:
        image: shape ``(H, W)``.
        presets: name -> kernel ``(kh, kw)``; defaults to :data:`KERNEL_PRESETS`.
        ncols: panels per row.
        scale: inches per panel; less when ``ncols`` panels would not fit the
            style's ``MAX_WIDTH``.
        title: a caption for the input panel (e.g. its text label).

    Returns:
        A figure with ``1 + len(presets)`` axes, the input first.

    Raises:
        ValueError: if ``presets`` is empty or ``ncols`` is below 1.
    """
    presets = KERNEL_PRESETS if presets is None else presets
    if not presets:
        raise ValueError("preset_gallery needs at least one kernel in presets")
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}")
    X = as_image(image)
    outputs = apply_presets(X, presets)
    n = 1 + len(outputs)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    scale = min(scale, style.MAX_WIDTH / ncols)
    titles = grid_titles([title or f"input {X.shape[0]}×{X.shape[1]}", *outputs], scale * 0.95)
    lines = max(t.count("\n") + 1 for t in titles)
    fig = new_figure(scale * ncols, (scale + lines * 1.25 * style.TITLE_FONT / 72 + 0.05) * nrows)
    ax = fig.add_subplot(nrows, ncols, 1)
    ax.imshow(X.numpy(), cmap="gray", interpolation="nearest")
    ax.set_title(titles[0])
    hide_axes(ax)
    for k, (Y, name_title) in enumerate(zip(outputs.values(), titles[1:], strict=True),
                                        start=2):
        ax = fig.add_subplot(nrows, ncols, k)
        values = Y.numpy()
        if float(values.min()) < 0:
            vmin, vmax = symmetric_limits(values)
            ax.imshow(values, cmap=DIVERGING_CMAP, vmin=vmin, vmax=vmax, interpolation="nearest")
        else:
            ax.imshow(values, cmap="gray", interpolation="nearest")
        ax.set_title(name_title)
        hide_axes(ax)
    return fig


def show_kernels(weight: object, annotate: bool | None = None, scale: float = 1.2) -> Figure:
    """Every 2-D slice of a convolution weight, one row per output channel.

    All slices share one colour scale centred on 0, so their strengths compare.

    Args:
        weight: shape ``(C_out, C_in, kh, kw)`` (e.g. ``conv.weight``).
        annotate: write the numbers in the cells; by default only when the
            kernels are at most 5x5 and there are at most 16 of them.
        scale: inches per kernel panel.

    Returns:
        A figure with ``C_out * C_in`` axes.

    Raises:
        ValueError: if ``weight`` is not 4-D or has an empty dimension.
    """
    values = as_array(weight, "weight")
    if values.ndim != 4 or values.size == 0:
        raise ValueError(
            f"show_kernels expects a conv weight (C_out, C_in, kh, kw); got shape "
            f"{tuple(values.shape)}. For a single 2-D kernel use show_matrix."
        )
    c_out, c_in, kh, kw = values.shape
    if annotate is None:
        annotate = kh * kw <= 25 and c_out * c_in <= 16
    vmin, vmax = symmetric_limits(values)
    if annotate:  # room for the widest number in each cell
        scale = max(scale, kw * number_width(values) / 0.8)
    scale = min(scale, (style.MAX_WIDTH - 0.3) / c_in)
    fig = new_figure(scale * c_in + 0.3, (scale + 0.3) * c_out)
    for o in range(c_out):
        for i in range(c_in):
            ax = fig.add_subplot(c_out, c_in, o * c_in + i + 1)
            draw_matrix(
                ax, values[o, i], annotate=annotate, cmap=DIVERGING_CMAP,
                title=f"out {o}, in {i}", vmin=vmin, vmax=vmax,
            )
    return fig

