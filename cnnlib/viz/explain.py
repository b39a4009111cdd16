"""Grad-CAM pictures: each image, its heat map on top of it, and what the model believed.

:func:`show_grad_cam` draws what :func:`cnnlib.explain.grad_cam` returns (or a
saliency map from :func:`cnnlib.explain.saliency`): one row per image with the
image, the map overlaid on it, and the top-3 class probabilities as bars.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cnnlib.data import LABELS
from cnnlib.viz import style
from cnnlib.viz.common import new_figure
from cnnlib.viz.images import as_array, hide_axes

#: Colormap of the heat map: dark is "ignored", bright is "decided the class".
HEATMAP_CMAP = "inferno"
#: Opacity of the heat map over the image; enough to see both.
HEATMAP_ALPHA = 0.55
#: How many of the most probable classes the bar chart lists.
TOP_K = 3
_CORRECT_COLOR = "tab:blue"
_WRONG_COLOR = "tab:red"
_OTHER_COLOR = "0.75"


def _grey_images(images: object) -> tuple[np.ndarray, dict[str, float]]:
    """Images as ``(N, H, W)`` (grey) or ``(N, H, W, 3)`` (colour), plus imshow limits."""
    is_uint8 = (isinstance(images, torch.Tensor) and images.dtype == torch.uint8) or (
        isinstance(images, np.ndarray) and images.dtype == np.uint8
    )
    array = as_array(images, "images")
    if array.ndim == 4 and array.shape[1] in (1, 3):
        # (N, C, H, W) -> (N, H, W) for grey, (N, H, W, 3) for colour
        array = array[:, 0] if array.shape[1] == 1 else array.transpose(0, 2, 3, 1)
    elif array.ndim != 3:
        raise ValueError(
            "show_grad_cam expects images (N, H, W) or (N, C, H, W) with C = 1 or 3; got "
            f"shape {tuple(array.shape)}. For one image pass image[None]."
        )
    if array.shape[0] == 0:
        raise ValueError("show_grad_cam got an empty batch (N = 0); pass at least one image")
    if is_uint8:
        return array / 255.0, {"vmin": 0.0, "vmax": 1.0}
    return array, {}


def _per_image(values: object, n: int, name: str) -> np.ndarray | None:
    """Class indices ``(N,)`` as ints, or None; checks there is one per image."""
    if values is None:
        return None
    array = as_array(values, name).reshape(-1)
    if array.shape[0] != n:
        raise ValueError(f"got {array.shape[0]} {name} for {n} images; pass one per image")
    return array.astype(np.int64)


def _draw_top_k(
    ax: Axes,
    probs: np.ndarray,
    class_names: Sequence[str],
    label: int | None,
    predicted: int,
) -> None:
    """Horizontal bars of the ``TOP_K`` most probable classes, the most probable on top."""
    order = np.argsort(-probs, kind="stable")[: min(TOP_K, probs.shape[0])]
    colors = []
    for k in order:
        if label is not None and k == label:
            colors.append(_CORRECT_COLOR)
        elif k == predicted and label is not None:
            colors.append(_WRONG_COLOR)  # the model's choice, and it is not the truth
        elif k == predicted:
            colors.append(_CORRECT_COLOR)  # no truth known: just mark the choice
        else:
            colors.append(_OTHER_COLOR)
    rows = np.arange(order.shape[0])
    ax.barh(rows, probs[order], color=colors)
    ax.set_yticks(rows, [class_names[k] for k in order])
    ax.invert_yaxis()  # most probable first, reading down
    ax.set_xlim(0, 1)
    ax.set_xticks([0, 0.5, 1], ["0", "0.5", "1"])
    for row, k, color in zip(rows, order, colors, strict=True):
        if probs[k] > 0.7:  # no room right of the bar: white, inside its end
            ax.text(probs[k] - 0.02, row, f"{probs[k]:.2f}", va="center", ha="right",
                    color="black" if color == _OTHER_COLOR else "white")
        else:
            ax.text(probs[k] + 0.02, row, f"{probs[k]:.2f}", va="center")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def show_grad_cam(
    images: object,
    cams: object,
    labels: object | None = None,
    predictions: object | None = None,
    probabilities: object | None = None,
    class_names: Sequence[str] | None = None,
) -> Figure:
    """One row per image: the image, its Grad-CAM (or saliency) map overlaid, top-3 classes.

    Args:
        images: ``(N, H, W)`` or ``(N, C, H, W)`` with ``C`` 1 or 3; uint8 is read as 0..255.
        cams: maps in [0, 1], ``(N, h, w)``; a coarser map is stretched over its image.
        labels: true classes ``(N,)``, or None when unknown (e.g. an upload).
        predictions: predicted classes ``(N,)``; None takes the most probable class
            from ``probabilities`` when given.
        probabilities: class probabilities ``(N, num_classes)``; without them the row
            has no bar chart.
        class_names: a name per class; Fashion-MNIST's ``cnnlib.data.LABELS`` by default.

    Returns:
        A figure with ``N`` rows of 2 image axes (and a bar axes when
        ``probabilities`` is given). A wrong prediction's title and bar are red.

    Raises:
        ValueError: when the inputs do not hold one entry per image, or
            ``class_names`` has fewer names than there are classes.
    """
    pictures, limits = _grey_images(images)
    n = pictures.shape[0]
    maps = as_array(cams, "cams")
    if maps.ndim != 3 or maps.shape[0] != n:
        raise ValueError(
            f"cams must be (N, h, w) with N = {n} images; got shape {tuple(maps.shape)}"
        )
    names = list(LABELS if class_names is None else class_names)
    true = _per_image(labels, n, "labels")
    probs = None
    if probabilities is not None:
        probs = as_array(probabilities, "probabilities")
        if probs.ndim != 2 or probs.shape[0] != n:
            raise ValueError(
                f"probabilities must be (N, num_classes) with N = {n}; got shape "
                f"{tuple(probs.shape)}"
            )
    predicted = _per_image(predictions, n, "predictions")
    if predicted is None and probs is not None:
        predicted = probs.argmax(axis=1)
    used = [a.max() for a in (true, predicted) if a is not None]
    num_classes = max([int(m) + 1 for m in used] + [0 if probs is None else probs.shape[1]])
    if num_classes > len(names):
        raise ValueError(
            f"{num_classes} classes but only {len(names)} class_names; pass a name per class"
        )

    ncols = 2 if probs is None else 3
    fig = new_figure(style.MAX_WIDTH if probs is not None else 4.0, 2.0 * n)
    grid = fig.add_gridspec(n, ncols, width_ratios=[1, 1, 1.3][:ncols])
    for i in range(n):
        height, width = pictures.shape[1:3]
        extent = (-0.5, width - 0.5, height - 0.5, -0.5)  # the heat map covers the image
        ax_image = fig.add_subplot(grid[i, 0])
        ax_image.imshow(pictures[i], cmap="gray", interpolation="nearest", **limits)
        hide_axes(ax_image)
        ax_image.set_title("true: ?" if true is None else f"true: {names[true[i]]}")

        ax_cam = fig.add_subplot(grid[i, 1])
        ax_cam.imshow(pictures[i], cmap="gray", interpolation="nearest", **limits)
        # Smooth only a map coarser than its image; a full-size map is drawn as computed.
        smooth = "nearest" if maps.shape[1:] == pictures.shape[1:3] else "bilinear"
        ax_cam.imshow(
            maps[i],
            cmap=HEATMAP_CMAP,
            alpha=HEATMAP_ALPHA,
            vmin=0.0,
            vmax=1.0,
            interpolation=smooth,
            extent=extent,
        )
        hide_axes(ax_cam)
        if not np.any(maps[i] > 0):
            # Say so: otherwise an empty map looks like a drawing bug.
            ax_cam.text(
                0.5,
                0.04,
                "map is all zero",
                transform=ax_cam.transAxes,
                ha="center",
                va="bottom",
                color="white",
            )
        if predicted is None:
            ax_cam.set_title("heat map")
        else:
            wrong = true is not None and predicted[i] != true[i]
            ax_cam.set_title(
                f"predicted: {names[predicted[i]]}",
                color=_WRONG_COLOR if wrong else "black",
            )

        if probs is not None:
            ax_bars = fig.add_subplot(grid[i, 2])
            label = None if true is None else int(true[i])
            _draw_top_k(ax_bars, probs[i], names, label, int(predicted[i]))
            if i == 0:
                ax_bars.set_title(f"top-{min(TOP_K, probs.shape[1])} probabilities")
    return fig
