"""A block diagram of a model's top-level stages, with the shape each one outputs.

The shapes come from a real forward pass, so the picture cannot drift from the
code: it is ``layer_summary`` drawn as boxes.
"""

from __future__ import annotations

import math

import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from torch import nn

from cnnlib.models.base import evaluating
from cnnlib.viz import style
from cnnlib.viz.common import NotebookFigure

# Fill colour per kind of stage; the legend in the corner names them.
KIND_COLOURS = {
    "conv": "#cfe2f3",
    "pool": "#fce5cd",
    "norm": "#e6d8f0",
    "dense": "#d9ead3",
    "activation": "#eeeeee",
    "block": "#c9daf8",
    "other": "#ffffff",
}

#: The narrowest box, in inches: room for a short stage description at the style's font.
MIN_BOX_WIDTH = 1.9
#: Space between boxes in a row, and between rows (where the wrapping arrow runs), in inches.
BOX_GAP, ROW_GAP = 0.3, 0.4
#: Lines of a stage description before it is cut short with "…".
MAX_LABEL_LINES = 3


def _kind(module: nn.Module) -> str:
    if isinstance(module, nn.Conv2d):
        return "conv"
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return "pool"
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)) or "BatchNorm" in type(module).__name__:
        return "norm"
    if isinstance(module, (nn.Linear, nn.Flatten, nn.Dropout)):
        return "dense"
    if isinstance(module, (nn.ReLU, nn.Sigmoid, nn.Tanh, nn.GELU)):
        return "activation"
    if isinstance(module, nn.Sequential):
        kinds = {_kind(child) for child in module.children()} - {"activation"}
        return kinds.pop() if len(kinds) == 1 else "block"
    return "block" if any(True for _ in module.children()) else "other"


def _short(module: nn.Module) -> str:
    """A compact name for one layer: ``Conv 3×3/2, 64``, ``MaxPool 2×2``, ``Linear 4096``."""
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        stride = f"/{module.stride[0]}" if module.stride[0] > 1 else ""
        groups = f", g{module.groups}" if module.groups > 1 else ""
        return f"Conv {kh}×{kw}{stride}, {module.out_channels}{groups}"
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        k = module.kernel_size
        k = k if isinstance(k, int) else k[0]
        return f"{type(module).__name__.replace('2d', '')} {k}×{k}"
    if isinstance(module, nn.Linear):
        return f"Linear {module.out_features}"
    return type(module).__name__


def describe_stage(module: nn.Module, max_parts: int = 3) -> str:
    """One line saying what a stage holds, e.g. ``2 × (Conv 3×3, 64 + ReLU) + MaxPool 2×2``."""
    if not isinstance(module, nn.Sequential):
        return _short(module)
    # Fold each activation into the layer before it, then count repeats, so a VGG
    # block reads "2× (Conv 3×3, 256 + ReLU) + MaxPool 2×2".
    names: list[str] = []
    for child in module.children():
        if _kind(child) == "activation" and names:
            names[-1] = f"{names[-1]} + {type(child).__name__}"
        else:
            names.append(_short(child))
    parts: list[tuple[str, int]] = []
    for name in names:
        if parts and parts[-1][0] == name:
            parts[-1] = (name, parts[-1][1] + 1)
        else:
            parts.append((name, 1))
    words = [f"{count}× ({name})" if count > 1 and " + " in name else
             f"{count}× {name}" if count > 1 else name for name, count in parts]
    if len(words) > max_parts:
        words = words[: max_parts - 1] + [f"… ({len(words) - max_parts + 1} more)"]
    return " + ".join(words)


def stage_shapes(model: nn.Module, input_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Output shape (batch included) of every top-level stage of ``model.net``."""
    net = getattr(model, "net", None)
    if not isinstance(net, nn.Sequential):
        raise ValueError(
            f"{type(model).__name__} has no nn.Sequential `net`; show_architecture draws "
            "cnnlib Classifier models (whose layers live in model.net)"
        )
    shapes = []
    with evaluating(model), torch.no_grad():
        X = torch.zeros(input_shape)
        for stage in net:
            X = stage(X)
            shapes.append(tuple(X.shape))
    return shapes


def show_architecture(
    model: nn.Module,
    input_shape: tuple[int, ...],
    title: str | None = None,
    per_row: int | None = None,
    skip_activations: bool = True,
) -> NotebookFigure:
    """Draw ``model.net``'s stages left to right as boxes: what each holds, what it outputs.

    A long network wraps onto as many rows as it needs, so the text keeps the style's
    size (``cnnlib.viz.style``) however many stages there are.

    Args:
        model: a cnnlib ``Classifier`` (its layers in ``model.net``).
        input_shape: e.g. ``(1, 1, 224, 224)``.
        title: figure title; default the model's class name and input size.
        per_row: at most this many boxes per row; default (and never more than) as
            many as fit the style's ``MAX_WIDTH`` at ``MIN_BOX_WIDTH`` each.
        skip_activations: fold bare activation stages (ReLU, Sigmoid) into the box before
            them, as their output shape never changes.
    """
    shapes = stage_shapes(model, input_shape)
    stages = []
    for (name, stage), shape in zip(model.net.named_children(), shapes, strict=True):
        if skip_activations and _kind(stage) == "activation" and stages:
            stages[-1]["label"] += f" + {type(stage).__name__}"
            continue
        stages.append({
            "name": name, "label": describe_stage(stage), "kind": _kind(stage),
            "shape": "×".join(str(n) for n in shape[1:]),
        })
    # Sizes in inches. The boxes of a row share the figure's width.
    margin = 0.05
    room = style.MAX_WIDTH - 2 * margin
    fit = max(1, int((room + BOX_GAP) // (MIN_BOX_WIDTH + BOX_GAP)))
    cols = min(per_row or fit, fit, len(stages))
    rows = math.ceil(len(stages) / cols)
    box_w = (room - (cols - 1) * BOX_GAP) / cols
    for stage in stages:
        stage["label"] = _wrap(stage["label"], box_w - 0.15)
    line = 1.25 * style.FONT / 72  # inches per line of text
    label_lines = max(stage["label"].count("\n") + 1 for stage in stages)
    box_h = (label_lines + 2) * line + 0.35  # the name, the description, the shape
    title_h = 1.6 * style.TITLE_FONT / 72
    width = 2 * margin + cols * box_w + (cols - 1) * BOX_GAP
    height = title_h + rows * box_h + (rows - 1) * ROW_GAP + 2 * margin
    fig = NotebookFigure(figsize=(width, height), layout="none")  # placed by hand
    ax = fig.add_axes((0, 0, 1, 1))  # data coordinates are inches, y up from the bottom
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    shape_text = "×".join(str(n) for n in input_shape[1:])
    ax.text(width / 2, height - margin, title or f"{type(model).__name__} on {shape_text} input",
            ha="center", va="top", fontsize=style.TITLE_FONT)
    corners = []  # bottom-left corner of each box
    for index, stage in enumerate(stages):
        row, col = divmod(index, cols)
        x = margin + col * (box_w + BOX_GAP)
        y = height - margin - title_h - row * (box_h + ROW_GAP) - box_h
        ax.add_patch(FancyBboxPatch(
            (x, y), box_w, box_h, boxstyle="round,pad=0,rounding_size=0.06",
            facecolor=KIND_COLOURS[stage["kind"]], edgecolor="#555555", linewidth=0.8,
        ))
        centre = x + box_w / 2
        ax.text(centre, y + box_h - 0.1, stage["name"], ha="center", va="top", color="#555555")
        ax.text(centre, y + box_h / 2, stage["label"], ha="center", va="center",
                linespacing=1.1)
        ax.text(centre, y + 0.1, stage["shape"], ha="center", va="bottom", fontweight="bold")
        corners.append((x, y))
    for (x0, y0), (x1, y1) in zip(corners, corners[1:], strict=False):
        if y0 == y1:
            start, end = (x0 + box_w, y0 + box_h / 2), (x1, y1 + box_h / 2)
        else:  # wrap to the next row: down, back along the gap, down into the next box
            gap = y0 - ROW_GAP / 2
            ax.plot([x0 + box_w / 2, x0 + box_w / 2, x1 + box_w / 2], [y0, gap, gap],
                    color="#777777", linewidth=0.8)
            start, end = (x1 + box_w / 2, gap), (x1 + box_w / 2, y1 + box_h)
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9,
                                     color="#777777", linewidth=0.8))
    return fig


def _wrap(text: str, width: float) -> str:
    """Break ``text`` at spaces into at most ``MAX_LABEL_LINES`` lines ``width`` inches wide."""
    lines = style.wrap(text, width).split("\n")
    if len(lines) > MAX_LABEL_LINES:
        lines = lines[:MAX_LABEL_LINES]
        lines[-1] += " …"
    return "\n".join(lines)
