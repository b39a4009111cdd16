"""Inside a trained NiN: a 1x1 convolution at one pixel, and the class maps before averaging.

Two facts of section 8.3, computed on a real network and a real image:

* :func:`pixel_dense` takes one 1x1 convolution of the network and one pixel of its input
  map, and returns the channel vector ``x`` that goes in, the kernel reshaped to a matrix
  ``W`` ``(C_out, C_in)``, the bias ``b`` and what comes out, ``ReLU(W x + b)``: a dense
  layer applied at that pixel.
* :func:`class_maps` returns the maps the class block hands to global average pooling,
  one per class, and the scores their averages make.

Both run the model on one image with forward hooks, in eval mode, without gradients.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from cnnlib import ops
from cnnlib.explain.activations import sequential_net
from cnnlib.models.base import evaluating, model_device
from cnnlib.training.parallel import torch_threads


def _as_batch(image: torch.Tensor) -> torch.Tensor:
    """``image`` ``(H, W)``, ``(1, H, W)`` or ``(1, 1, H, W)`` as a float batch ``(1, 1, H, W)``."""
    if not isinstance(image, torch.Tensor):
        raise TypeError(f"image must be a torch.Tensor, got {type(image).__name__}")
    X = image.float()
    while X.ndim < 4:
        X = X.unsqueeze(0)
    if X.ndim != 4 or X.shape[:2] != (1, 1):
        raise ValueError(f"image must be one grayscale image (H, W), (1, H, W) or (1, 1, H, W); "
                         f"got shape {tuple(image.shape)}")
    return X


def one_by_one_convs(model: nn.Module) -> list[tuple[str, nn.Conv2d]]:
    """Every 1x1 convolution in ``model.net`` that a ReLU follows, as ``(name, layer)``.

    Names are relative to ``model.net`` (``"0.2"`` is the first NiN block's first 1x1
    convolution). Raises ``ValueError`` when there is none.
    """
    net = sequential_net(model)
    found = []
    for block_name, block in net.named_children():
        if not isinstance(block, nn.Sequential):
            continue
        children = list(block.named_children())
        for k, (name, layer) in enumerate(children):
            if (isinstance(layer, nn.Conv2d) and layer.kernel_size == (1, 1)
                    and layer.groups == 1 and k + 1 < len(children)
                    and isinstance(children[k + 1][1], nn.ReLU)):
                found.append((f"{block_name}.{name}", layer))
    if not found:
        raise ValueError(f"{type(model).__name__} has no 1x1 convolution followed by a ReLU "
                         "inside a block of model.net (NiN has eight)")
    return found


@dataclass
class PixelDense:
    """A 1x1 convolution taken at one pixel: the dense layer it is there.

    Attributes:
        layer: the convolution's name in ``model.net`` (e.g. ``"0.2"``).
        position: ``(row, col)`` in the convolution's input (= output) map.
        maps_in: the convolution's whole input ``(C_in, H, W)``.
        maps_out: the whole output after the ReLU ``(C_out, H, W)``.
        x: ``maps_in[:, row, col]``, ``(C_in,)``.
        W: the kernel ``(C_out, C_in, 1, 1)`` reshaped to ``(C_out, C_in)``.
        b: the bias ``(C_out,)``.
        pre: ``W @ x + b``, ``(C_out,)``.
        out: ``ReLU(pre)``, ``(C_out,)``.
        region: the input pixels the position depends on,
            ``((row_start, row_stop), (col_start, col_stop))``, exclusive stops.
    """

    layer: str
    position: tuple[int, int]
    maps_in: torch.Tensor
    maps_out: torch.Tensor
    x: torch.Tensor
    W: torch.Tensor
    b: torch.Tensor
    pre: torch.Tensor
    out: torch.Tensor
    region: tuple[tuple[int, int], tuple[int, int]]


def conv_maps(model: nn.Module, image: torch.Tensor
              ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """For every 1x1 convolution of :func:`one_by_one_convs`: its input and its output map.

    Returns:
        name -> ``(input (C_in, H, W), output before the ReLU (C_out, H, W))``, on the CPU.
    """
    X = _as_batch(image)
    convs = one_by_one_convs(model)
    seen: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def hook(name: str):
        def record(layer, inputs, output):
            seen[name] = (inputs[0][0].detach().cpu(), output[0].detach().cpu())
        return record

    handles = [layer.register_forward_hook(hook(name)) for name, layer in convs]
    try:
        with evaluating(model), torch.no_grad(), torch_threads(1):
            model(X.to(model_device(model)))
    finally:
        for handle in handles:
            handle.remove()
    return seen


def _region(model: nn.Module, layer: str, position: tuple[int, int], side: tuple[int, int]
            ) -> tuple[tuple[int, int], tuple[int, int]]:
    """Input pixels the 1x1 convolution ``layer`` sees at ``position`` (its whole window)."""
    specs = ops.layer_specs(sequential_net(model))
    names = [spec.name for spec in specs]
    index = names.index(layer)
    return ops.input_region(specs[: index + 1], position, side)


def pixel_dense(model: nn.Module, image: torch.Tensor, layer: str, position: tuple[int, int],
                maps: dict | None = None) -> PixelDense:
    """The 1x1 convolution ``layer`` of ``model`` at one pixel of its map, for ``image``.

    Args:
        model: a NiN-like classifier (see :func:`one_by_one_convs`).
        image: one grayscale image ``(H, W)`` (or with batch/channel axes of 1).
        layer: the convolution's name in ``model.net`` (``one_by_one_convs``).
        position: ``(row, col)`` in its map.
        maps: :func:`conv_maps` of this model and image, to skip the forward pass.

    Raises:
        ValueError: for an unknown layer or a position outside the map.
    """
    convs = dict(one_by_one_convs(model))
    if layer not in convs:
        raise ValueError(f"no 1x1 convolution called {layer!r} in model.net; "
                         f"choose one of {sorted(convs)}")
    maps = conv_maps(model, image) if maps is None else maps
    maps_in, pre_maps = maps[layer]
    _, H, W_ = maps_in.shape
    row, col = position
    if not (0 <= row < H and 0 <= col < W_):
        raise ValueError(f"position {tuple(position)} is outside the {H}×{W_} map of layer "
                         f"{layer}; rows and columns run 0..{H - 1} and 0..{W_ - 1}")
    conv = convs[layer]
    weight = conv.weight.detach().cpu().float()
    W = weight.reshape(weight.shape[0], weight.shape[1])  # (C_out, C_in, 1, 1) -> (C_out, C_in)
    b = (conv.bias.detach().cpu().float() if conv.bias is not None
         else torch.zeros(W.shape[0]))
    x = maps_in[:, row, col]
    pre = W @ x + b
    side = tuple(_as_batch(image).shape[-2:])
    return PixelDense(
        layer=layer, position=(row, col), maps_in=maps_in, maps_out=F.relu(pre_maps),
        x=x, W=W, b=b, pre=pre, out=F.relu(pre),
        region=_region(model, layer, (row, col), side),
    )


@dataclass
class ClassMaps:
    """What global average pooling receives and makes, for one image.

    Attributes:
        maps: the class block's output ``(num_classes, h, w)``, one map per class.
        averages: each map's mean, ``(num_classes,)``: the scores (logits).
        logits: the model's own output for the image, ``(num_classes,)``.
        probs: ``softmax(averages)``.
        label: the true class, or None.
    """

    maps: torch.Tensor
    averages: torch.Tensor
    logits: torch.Tensor
    probs: torch.Tensor
    label: int | None = None

    @property
    def predicted(self) -> int:
        return int(self.probs.argmax())


def _global_pool(net: nn.Sequential) -> nn.Module:
    pools = [layer for layer in net if isinstance(layer, nn.AdaptiveAvgPool2d)]
    if not pools or pools[-1].output_size not in ((1, 1), 1):
        raise ValueError("model.net has no global average pooling "
                         "(nn.AdaptiveAvgPool2d((1, 1))); NiN ends in one")
    return pools[-1]


def class_maps(model: nn.Module, image: torch.Tensor, label: int | None = None) -> ClassMaps:
    """The maps that reach ``model``'s global average pooling for ``image``, and their scores.

    Raises:
        ValueError: when ``model.net`` has no global average pooling.
    """
    X = _as_batch(image)
    pool = _global_pool(sequential_net(model))
    seen = {}

    def record(layer, inputs, output) -> None:  # returns None: the output stays the model's
        seen["maps"] = inputs[0][0].detach().cpu()

    handle = pool.register_forward_hook(record)
    try:
        with evaluating(model), torch.no_grad(), torch_threads(1):
            logits = model(X.to(model_device(model)))[0].detach().cpu()
    finally:
        handle.remove()
    maps = seen["maps"]
    averages = maps.mean(dim=(1, 2))
    return ClassMaps(maps=maps, averages=averages, logits=logits,
                     probs=F.softmax(averages, dim=0), label=label)
