"""What a model costs: parameters, multiply-accumulates (MACs) and FLOPs, layer by layer.

Counts come from forward hooks on the layers that do the arithmetic, so they
follow whatever path the data really takes (Inception branches, residual
shortcuts, grouped convolutions) for the given input shape.

Conventions, stated once:

* a **MAC** is one multiply followed by one add, ``y += w * x``;
* **FLOPs = 2 x MACs** (the multiply and the add counted separately);
* only convolutions (``nn.Conv1d/2d/3d``, ``groups`` included) and ``nn.Linear``
  are counted. Biases, batch norm, activations and pooling do O(1) work per output
  value, far below a convolution's ``C_in / groups * k * k``, and are left out, as in
  the FLOP figures papers usually quote. Layers written from scratch (such as
  ``cnnlib.layers.Conv2D``) are not recognised and count 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from cnnlib.models.base import count_parameters, evaluating, model_device

# Transposed convolutions are left out on purpose: their MACs scale with the input,
# not the output, and no model of chapters 7-8 uses them.
_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


@dataclass(frozen=True)
class LayerCost:
    """The cost of one conv or linear layer for one forward pass.

    Attributes:
        name: the layer's qualified name in the model, e.g. ``net.b2.0.conv1``.
        kind: the layer's class name, e.g. ``Conv2d``.
        output_shape: shape of the layer's output, batch dimension included.
        params: parameters the layer holds (weight and bias).
        macs: multiply-accumulates of this forward pass (all examples in the batch).
    """

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    macs: int


@dataclass(frozen=True)
class CostRow:
    """One line of a cost table: a model's size and arithmetic for one input shape.

    Attributes:
        name: the model's display name.
        input_shape: the shape of the input used, e.g. ``(1, 1, 224, 224)``.
        params: trainable parameters.
        macs: multiply-accumulates of one forward pass over ``input_shape``.
        flops: ``2 * macs``.
    """

    name: str
    input_shape: tuple[int, ...]
    params: int
    macs: int
    flops: int


def _macs(layer: nn.Module, output: torch.Tensor) -> int:
    """MACs of a conv or linear layer that produced ``output``.

    Every output value of a convolution is a dot product over its window: ``k_h * k_w``
    positions times the ``C_in / groups`` channels of its group. Every output value of
    a linear layer is a dot product over ``in_features`` inputs.
    """
    if isinstance(layer, _CONVS):
        window = math.prod(layer.kernel_size) * (layer.in_channels // layer.groups)
        return output.numel() * window
    if isinstance(layer, nn.Linear):
        return output.numel() * layer.in_features
    raise TypeError(f"no MAC formula for {type(layer).__name__}")


def layer_costs(model: nn.Module, input_shape: tuple[int, ...]) -> list[LayerCost]:
    """Run ``model`` once on zeros of ``input_shape`` and record each conv/linear layer's cost.

    The model runs in eval mode without gradients (so batch norm does not update its
    statistics and a batch of 1 is fine); its previous mode is restored afterwards.

    Args:
        model: any module; ``input_shape`` must be a valid input, batch dimension
            included, e.g. ``(1, 1, 224, 224)``.
        input_shape: the input's shape.

    Returns:
        One entry per call of a conv or linear layer, in execution order (a layer
        called twice appears twice).
    """
    if any(n < 1 for n in input_shape):
        raise ValueError(f"input_shape must hold positive sizes, got {tuple(input_shape)}")
    names = {module: name for name, module in model.named_modules()}
    costs: list[LayerCost] = []

    def record(layer: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        costs.append(
            LayerCost(
                name=names.get(layer, "?"),
                kind=type(layer).__name__,
                output_shape=tuple(output.shape),
                params=sum(p.numel() for p in layer.parameters()),
                macs=_macs(layer, output),
            )
        )

    handles = [
        module.register_forward_hook(record)
        for module in model.modules()
        if isinstance(module, (*_CONVS, nn.Linear))
    ]
    try:
        with evaluating(model), torch.no_grad():
            model(torch.zeros(*input_shape, device=model_device(model)))
    finally:
        for handle in handles:
            handle.remove()
    return costs


def count_macs(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Multiply-accumulates of one forward pass of ``model`` on an input of ``input_shape``.

    The count covers the whole batch in ``input_shape``; use a batch of 1 for a
    per-image figure. See the module docstring for what is counted.
    """
    return sum(cost.macs for cost in layer_costs(model, input_shape))


def count_flops(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Floating-point operations of one forward pass: ``2 * count_macs(model, input_shape)``."""
    return 2 * count_macs(model, input_shape)


def cost_table(models: Mapping[str, tuple[nn.Module, tuple[int, ...]]]) -> list[CostRow]:
    """Size and arithmetic of several models, one row each, in the mapping's order.

    Args:
        models: display name -> ``(model, input_shape)``, e.g.
            ``{"VGG-11": (vgg11(), (1, 1, 224, 224))}``.

    Returns:
        Rows ready for a results page; see :func:`format_cost_table`.
    """
    rows = []
    for name, (model, input_shape) in models.items():
        macs = count_macs(model, input_shape)
        rows.append(
            CostRow(
                name=name,
                input_shape=tuple(input_shape),
                params=count_parameters(model),
                macs=macs,
                flops=2 * macs,
            )
        )
    return rows


def format_cost_table(rows: list[CostRow]) -> str:
    """A Markdown table of ``rows``: parameters, MACs and FLOPs in millions (M).

    Millions rather than billions so that LeNet-sized models (about 0.4 M MACs)
    do not print as 0.000 next to VGG (about 7,500 M).
    """
    lines = [
        "| model | input | parameters (M) | MACs (M) | FLOPs (M) |",
        "|---|---|---:|---:|---:|",
    ]
    for row in rows:
        shape = "x".join(str(n) for n in row.input_shape)
        lines.append(
            f"| {row.name} | {shape} | {row.params / 1e6:,.3f} | {row.macs / 1e6:,.1f} "
            f"| {row.flops / 1e6:,.1f} |"
        )
    return "\n".join(lines)
