"""Two networks side by side, stage by stage: what each computes for the same image.

Section 8.1 compares LeNet with AlexNet. :func:`network_stages` names every spatial stage of
a plain chain (``conv 1``, ``pool 1``, ...) and says what it is; :func:`aligned_stage_names`
lines two networks' stages up by those names; :func:`compare_stages_figure` draws one stage
(or the first layer's kernels) of both networks in two columns, each under its input image
and prediction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn

from cnnlib.explain.activations import Probe, sequential_net, stage_indices
from cnnlib.viz import style
from cnnlib.viz.common import NotebookFigure
from cnnlib.viz.feature_maps import _map_style, tile
from cnnlib.viz.images import DIVERGING_CMAP, hide_axes, symmetric_limits

#: The stage menu's first entry: the first convolution's weights instead of a stage output.
KERNELS = "first-layer kernels"
_POINTWISE_NAMES = {"ReLU": "ReLU", "Sigmoid": "sigmoid", "Tanh": "tanh"}


@dataclass(frozen=True)
class Stage:
    """One spatial stage of a network: a conv or pool layer and the pointwise layers after it.

    Attributes:
        name: ``"conv 2"`` or ``"pool 1"`` (counted separately, from 1).
        index: position in ``model.net`` of the stage's last layer (its output is shown).
        what: what the stage computes, e.g. ``"5×5 conv, pad 2 + sigmoid"``.
    """

    name: str
    index: int
    what: str


def _describe_layer(layer: nn.Module) -> str:
    kh, kw = (layer.kernel_size,) * 2 if isinstance(layer.kernel_size, int) else layer.kernel_size
    text = f"{kh}×{kw} conv"
    if isinstance(layer, (nn.AvgPool2d, nn.MaxPool2d)):
        text = f"{kh}×{kw} {'avg' if isinstance(layer, nn.AvgPool2d) else 'max'} pool"
    stride = layer.stride if isinstance(layer.stride, int) else layer.stride[0]
    padding = layer.padding if isinstance(layer.padding, int) else layer.padding[0]
    if stride > 1:
        text += f", stride {stride}"
    if padding:
        text += f", pad {padding}"
    return text


def network_stages(model: nn.Module) -> list[Stage]:
    """Every stage of ``model.net`` before its dense layers, named by its first layer.

    The stage ends are :func:`~cnnlib.explain.activations.stage_indices`; only those that
    follow a ``Conv2d`` or a pooling layer (spatial outputs) are kept.

    Raises:
        TypeError: when the model has no sequential ``net``.
    """
    layers = list(sequential_net(model))
    stages: list[Stage] = []
    counts = {"conv": 0, "pool": 0}
    start_types = (nn.Conv2d, nn.AvgPool2d, nn.MaxPool2d)
    for end in stage_indices(model):
        start = end
        while start >= 0 and not isinstance(layers[start], (*start_types, nn.Linear)):
            start -= 1
        if start < 0 or not isinstance(layers[start], start_types):
            continue  # a dense stage
        kind = "conv" if isinstance(layers[start], nn.Conv2d) else "pool"
        counts[kind] += 1
        after = [_POINTWISE_NAMES.get(type(layer).__name__, type(layer).__name__)
                 for layer in layers[start + 1: end + 1]]
        what = _describe_layer(layers[start]) + "".join(f" + {a}" for a in after)
        stages.append(Stage(f"{kind} {counts[kind]}", end, what))
    return stages


def aligned_stage_names(first: Sequence[str], second: Sequence[str]) -> list[str]:
    """Both lists' names once each, in network order: the second's, with the first's inserted.

    A name only ``first`` has goes right after the name that precedes it in ``first``.
    """
    merged = list(second)
    previous = None
    for name in first:
        if name not in merged:
            merged.insert(0 if previous is None else merged.index(previous) + 1, name)
        previous = name
    return merged


def first_conv(model: nn.Module) -> nn.Conv2d:
    """The first ``Conv2d`` of ``model.net``.

    Raises:
        ValueError: when there is none.
    """
    for layer in sequential_net(model):
        if isinstance(layer, nn.Conv2d):
            return layer
    raise ValueError(f"{type(model).__name__}.net has no Conv2d layer")


def _columns(n: int, aspect: float) -> int:
    """Maps per row so that ``n`` square maps fill a panel ``aspect`` (width / height)."""
    return max(1, min(n, math.ceil(math.sqrt(n * aspect))))


@dataclass(frozen=True)
class Column:
    """What one column of :func:`compare_stages_figure` shows.

    Attributes:
        title: the network's name, e.g. ``"LeNet"``.
        probe: what it computed for the image (input, activations, probabilities).
        stage: the stage to draw, or None when the network has no stage of that name.
        missing: the sentence drawn instead when ``stage`` is None.
        kernels: the first convolution's weight ``(C_out, C_in, kh, kw)``, to draw instead
            of a stage when ``stage`` and ``missing`` are both empty.
    """

    title: str
    probe: Probe
    stage: Stage | None = None
    missing: str = ""
    kernels: torch.Tensor | None = None


def stage_heading(column: Column) -> str:
    """``"conv 1: 5×5 conv, pad 2 + sigmoid → 6×28×28"`` (or the kernels' shape)."""
    if column.stage is not None:
        shape = tuple(column.probe.activations[column.stage.index].value.shape)
        return f"{column.stage.name}: {column.stage.what} → {'×'.join(map(str, shape))}"
    if column.kernels is not None:
        c_out, c_in, kh, kw = column.kernels.shape
        return f"{c_out} kernels of {kh}×{kw} (× {c_in} input channel{'s' * (c_in > 1)})"
    return column.missing


def _panel_values(column: Column) -> tuple[np.ndarray, str, float, float] | None:
    """The mosaic to draw, its colormap and limits (None: nothing to draw)."""
    if column.stage is not None:
        maps = column.probe.activations[column.stage.index].value.double().numpy()
        pad = 0 if maps.shape[-1] == 1 else 1  # 1×1 maps: a block of squares, no gaps
        mosaic = tile(maps, _columns(maps.shape[0], 1.2), pad=pad)
        return (mosaic, *_map_style(mosaic))
    if column.kernels is not None:
        weight = column.kernels.detach().double()
        maps = weight.reshape(-1, *weight.shape[2:]).numpy()  # (C_out * C_in, kh, kw)
        mosaic = tile(maps, _columns(maps.shape[0], 1.2))
        return (mosaic, DIVERGING_CMAP, *symmetric_limits(mosaic[np.isfinite(mosaic)]))
    return None


def compare_stages_figure(columns: Sequence[Column], width: float = style.MAX_WIDTH) -> Figure:
    """Networks in columns: the input and what the stage is on top, then its maps.

    Every stage output is one mosaic of its maps on one colour scale (viridis from the
    stage's minimum to its maximum when non-negative, red/blue about 0 when signed, as
    in the feature-map explorer); kernels are red positive, blue negative.

    Returns:
        A figure whose axes are labelled ``"input <k>"`` and ``"maps <k>"`` for column ``k``
        (labels are for tests; they are not drawn).
    """
    if not columns:
        raise ValueError("compare_stages_figure needs at least one column")
    margin, gap = 0.08, 0.2
    column_width = (width - 2 * margin - gap * (len(columns) - 1)) / len(columns)
    line = style.FONT / 72 * 1.25
    input_side, maps_height = 0.67, 1.6
    text_width = column_width - input_side - 0.25
    headings = [style.wrap(stage_heading(c), text_width) for c in columns]
    top_room = style.TITLE_FONT / 72 * 1.4 + 0.05
    header = max(input_side, *(
        (h.count("\n") + 1) * line for h in headings)) + 0.12
    height = 2 * margin + top_room + header + maps_height
    fig = NotebookFigure(figsize=(width, height), layout="none")

    def place(x: float, top: float, w: float, h: float, label: str) -> Axes:
        return fig.add_axes((x / width, 1 - (top + h) / height, w / width, h / height),
                            label=label)

    def text(x: float, top: float, s: str, **kwargs) -> None:
        fig.text(x / width, 1 - top / height, s, va="top", **kwargs)

    for k, (column, heading) in enumerate(zip(columns, headings, strict=True)):
        left = margin + k * (column_width + gap)
        side = "×".join(str(s) for s in column.probe.image.shape)
        text(left, margin, f"{column.title}, input {side}", fontsize=style.TITLE_FONT,
             fontweight="bold")
        top = margin + top_room
        ax = place(left, top, input_side, input_side, f"input {k}")
        ax.imshow(column.probe.image.numpy(), cmap="gray", vmin=0, vmax=1,
                  interpolation="nearest")
        hide_axes(ax)
        text(left + input_side + 0.1, top, heading, fontsize=style.FONT, linespacing=1.1)
        top += header
        values = _panel_values(column)
        if values is None:
            continue
        mosaic, cmap, vmin, vmax = values
        h_px, w_px = mosaic.shape
        scale = min(column_width / w_px, maps_height / h_px)
        ax = place(left, top, w_px * scale, h_px * scale, f"maps {k}")
        ax.imshow(mosaic, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        hide_axes(ax)
    return fig
