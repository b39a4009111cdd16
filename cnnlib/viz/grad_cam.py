"""One image's Grad-CAM for a chosen class: the image, the map over it, the coarse map, the bars.

:func:`show_class_cam` is the picture of the Grad-CAM explorer
(:mod:`cnnlib.widgets.grad_cam`). Unlike :func:`cnnlib.viz.explain.show_grad_cam`, which
explains each image's predicted class in a gallery, it explains *any* class of one
image and shows the map at the target layer's own resolution beside the smooth,
upsampled overlay, so the reader sees how coarse the evidence really is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from cnnlib.data import LABELS
from cnnlib.viz import style
from cnnlib.viz.common import NotebookFigure
from cnnlib.viz.explain import HEATMAP_ALPHA, HEATMAP_CMAP
from cnnlib.viz.images import as_array, hide_axes

#: How many of the most probable classes the bars list (the true class is added if missing).
TOP_K = 3
_EXPLAINED_COLOR = "tab:orange"
_OTHER_COLOR = "0.75"


def _bar_rows(probs: np.ndarray, label: int | None) -> list[int]:
    """The top-``TOP_K`` classes, most probable first, then the true class if not among them."""
    rows = [int(k) for k in np.argsort(-probs, kind="stable")[:TOP_K]]
    if label is not None and label not in rows:
        rows.append(label)
    return rows


def show_class_cam(
    image: object,
    cam: object,
    raw_cam: object,
    probabilities: object,
    class_idx: int,
    label: int | None = None,
    layer: str = "",
    class_names: Sequence[str] | None = None,
) -> Figure:
    """The image, its Grad-CAM for ``class_idx`` overlaid, the map at its own size, the bars.

    Args:
        image: ``(H, W)`` or ``(1, H, W)`` in [0, 1].
        cam: the upsampled map ``(H, W)`` in [0, 1]; raw_cam: the map at the target
            layer's resolution ``(h, w)`` (before upsampling and scaling).
        probabilities: the class probabilities ``(num_classes,)``.
        class_idx: the class the map explains (its bar is orange).
        label: the true class, or None when unknown.
        layer: the target layer's name, for the title of the coarse map.
        class_names: one name per class (Fashion-MNIST's by default).

    Raises:
        ValueError: for shapes that do not fit together or a class out of range.
    """
    picture = as_array(image, "image").astype(np.float64)
    if picture.ndim == 3 and picture.shape[0] == 1:
        picture = picture[0]
    heat = as_array(cam, "cam").astype(np.float64)
    coarse = as_array(raw_cam, "raw_cam").astype(np.float64)
    probs = as_array(probabilities, "probabilities").astype(np.float64).reshape(-1)
    if picture.ndim != 2 or heat.shape != picture.shape or coarse.ndim != 2:
        raise ValueError(
            f"show_class_cam needs image (H, W), cam (H, W) of the same size and raw_cam "
            f"(h, w); got {picture.shape}, {heat.shape} and {coarse.shape}"
        )
    names = list(LABELS if class_names is None else class_names)
    if len(names) < probs.shape[0]:
        raise ValueError(f"{probs.shape[0]} classes but {len(names)} class_names")
    for name, k in (("class_idx", class_idx), ("label", label)):
        if k is not None and not 0 <= int(k) < probs.shape[0]:
            raise ValueError(f"{name} must be in 0..{probs.shape[0] - 1}, got {k}")
    class_idx = int(class_idx)
    label = None if label is None else int(label)

    # Laid out by hand, in inches (no layout engine): the explorer redraws it often.
    width, height, side, gap, top = style.MAX_WIDTH, 1.95, 1.2, 0.1, 0.35
    fig = NotebookFigure(figsize=(width, height), layout="none")

    def place(x: float, w: float, label: str):
        return fig.add_axes((x / width, 1 - (top + side) / height, w / width, side / height),
                            label=label)

    ax_image, ax_cam, ax_raw = (place(0.05 + i * (side + gap), side, name)
                                for i, name in enumerate(("image", "overlay", "coarse map")))
    ax_image.imshow(picture, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax_image.set_title("image" if label is None else f"true: {names[label]}")
    ax_cam.imshow(picture, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax_cam.imshow(heat, cmap=HEATMAP_CMAP, alpha=HEATMAP_ALPHA, vmin=0, vmax=1,
                  interpolation="nearest")
    ax_cam.set_title(f"for: {names[class_idx]}", color=_EXPLAINED_COLOR)
    if not np.any(heat > 0):
        ax_cam.text(0.5, 0.04, "map is all zero", transform=ax_cam.transAxes, ha="center",
                    va="bottom", color="white")
    peak = float(coarse.max())
    ax_raw.imshow(coarse, cmap=HEATMAP_CMAP, vmin=0, vmax=peak if peak > 0 else 1,
                  interpolation="nearest")
    h, w = coarse.shape
    ax_raw.set_title(f"{layer}: {h}×{w}" if layer else f"map: {h}×{w}")
    for ax in (ax_image, ax_cam, ax_raw):
        hide_axes(ax)

    bars_left = 0.05 + 3 * side + 2 * gap + 1.5  # room for the class names
    ax_bars = place(bars_left, width - bars_left - 0.08, "probabilities")
    rows = _bar_rows(probs, label)
    colors = [_EXPLAINED_COLOR if k == class_idx else _OTHER_COLOR for k in rows]
    positions = np.arange(len(rows))
    ax_bars.barh(positions, probs[rows], color=colors)
    ax_bars.set_yticks(positions, [f"{names[k]} (true)" if k == label else names[k]
                                   for k in rows])
    ax_bars.set_ylim(TOP_K + 0.5, -0.5)  # room for a fourth row; most probable on top
    ax_bars.set_xlim(0, 1)
    ax_bars.set_xticks([0, 0.5, 1], ["0", "0.5", "1"])
    for row, k in zip(positions, rows, strict=True):
        inside = probs[k] > 0.6
        ax_bars.text(probs[k] - 0.02 if inside else probs[k] + 0.02, row, f"{probs[k]:.2f}",
                     va="center", ha="right" if inside else "left")
    ax_bars.set_title("probability")
    for edge in ("top", "right"):
        ax_bars.spines[edge].set_visible(False)
    return fig
