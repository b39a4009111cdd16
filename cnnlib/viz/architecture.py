"""A block diagram of a model's top-level stages, with the shape each one outputs.

The shapes come from a real forward pass, so the picture cannot drift from the
code: it is ``layer_summary`` drawn as boxes.
"""

from __future__ import annotations

import math

import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from torch import nn

from cnnlib.viz.common import NotebookFigure, new_figure

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
    was_training = model.training
    model.eval()
    shapes = []
    try:
        with torch.no_grad():
            X = torch.zeros(input_shape)
            for stage in net:
                X = stage(X)
                shapes.append(tuple(X.shape))
    finally:
        model.train(was_training)
    return shapes


def show_architecture(
    model: nn.Module,
    input_shape: tuple[int, ...],
    title: str | None = None,
    per_row: int = 6,
    skip_activations: bool = True,
) -> NotebookFigure:
    """Draw ``model.net``'s stages left to right as boxes: what each holds, what it outputs.

    Args:
        model: a cnnlib ``Classifier`` (its layers in ``model.net``).
        input_shape: e.g. ``(1, 1, 224, 224)``.
        title: figure title; default the model's class name and input size.
        per_row: boxes per row before the diagram wraps.
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
    rows = math.ceil(len(stages) / per_row)
    cols = min(per_row, len(stages))
    fig = new_figure(2.3 * cols + 0.4, 1.55 * rows + 0.7)
    ax = fig.add_subplot()
    ax.set_xlim(-0.1, cols * 2.3)
    ax.set_ylim(-rows * 1.55, 0.35)
    ax.axis("off")
    shape_text = "×".join(str(n) for n in input_shape[1:])
    ax.set_title(title or f"{type(model).__name__} on {shape_text} input", fontsize=11)
    centres = []
    for index, stage in enumerate(stages):
        row, col = divmod(index, per_row)
        x, y = col * 2.3 + 0.1, -row * 1.55 - 1.0
        ax.add_patch(FancyBboxPatch(
            (x, y), 1.9, 0.95, boxstyle="round,pad=0.02,rounding_size=0.08",
            facecolor=KIND_COLOURS[stage["kind"]], edgecolor="#555555", linewidth=0.8,
        ))
        ax.text(x + 0.95, y + 0.75, stage["name"], ha="center", va="center", fontsize=8,
                color="#555555")
        ax.text(x + 0.95, y + 0.47, _wrap(stage["label"], 26), ha="center", va="center",
                fontsize=7)
        ax.text(x + 0.95, y + 0.13, stage["shape"], ha="center", va="center", fontsize=8,
                fontweight="bold")
        centres.append((x, y))
    for (x0, y0), (x1, y1) in zip(centres, centres[1:], strict=False):
        if y0 == y1:
            start, end = (x0 + 1.9, y0 + 0.47), (x1, y1 + 0.47)
        else:  # wrap to the next row: down, back along the gap, down into the next box
            gap = y0 - 0.3
            ax.plot([x0 + 0.95, x0 + 0.95, x1 + 0.95], [y0, gap, gap], color="#777777",
                    linewidth=0.8)
            start, end = (x1 + 0.95, gap), (x1 + 0.95, y1 + 0.95)
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9,
                                     color="#777777", linewidth=0.8))
    return fig


def _wrap(text: str, width: int) -> str:
    """Break ``text`` on ' + ' or spaces into lines of at most ``width`` characters."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines[:3]) + ("…" if len(lines) > 3 else "")
