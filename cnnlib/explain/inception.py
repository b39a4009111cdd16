"""Inside a trained GoogLeNet: one Inception block's four branches for one image (section 8.4).

:func:`inception_blocks` lists a network's Inception blocks with the paper's names (``3a``,
``3b``, ``4a`` .. ``4e``, ``5a``, ``5b``: stage number, then a letter per block);
:func:`block_inputs` runs an image through the network once and keeps what reaches each
block; :func:`branch_outputs` runs the four branches of one block on that input and
returns their outputs, their output channels (from the branch modules) and their FLOPs
(from :mod:`cnnlib.models.cost`, which counts convolutions only: the max-pool of branch 4
and the ReLUs cost nothing there).
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from cnnlib.explain.activations import sequential_net
from cnnlib.models.base import evaluating, model_device
from cnnlib.models.cost import layer_costs
from cnnlib.models.googlenet import Inception
from cnnlib.training.parallel import torch_threads

#: The branches, as the layer names of :class:`~cnnlib.models.googlenet.Inception` start.
BRANCHES = ("b1", "b2", "b3", "b4")


def inception_blocks(model: nn.Module) -> list[tuple[str, str, Inception]]:
    """Every Inception block of ``model.net`` as ``(name in model.net, paper name, block)``.

    A block in ``model.net[i]`` belongs to stage ``i + 1`` (GoogLeNet's ``b3`` is
    ``net[2]``), and the blocks of a stage are lettered ``a``, ``b``, ... in order.

    Raises:
        ValueError: when the model has no Inception block.
    """
    net = sequential_net(model)
    found = []
    for stage_index, stage in net.named_children():
        letters = iter(string.ascii_lowercase)
        for name, module in stage.named_modules():
            if isinstance(module, Inception):
                found.append((f"{stage_index}.{name}", f"{int(stage_index) + 1}{next(letters)}",
                              module))
    if not found:
        raise ValueError(f"{type(model).__name__} has no Inception block in model.net "
                         "(GoogLeNet has nine)")
    return found


def block_inputs(model: nn.Module, image: torch.Tensor) -> dict[str, torch.Tensor]:
    """What reaches each Inception block for one image: name -> ``(C_in, H, W)``.

    Args:
        image: one grayscale image ``(H, W)`` (or ``(1, H, W)``, ``(1, 1, H, W)``).
    """
    if not isinstance(image, torch.Tensor):
        raise TypeError(f"image must be a torch.Tensor, got {type(image).__name__}")
    X = image.float()
    while X.ndim < 4:
        X = X.unsqueeze(0)
    if X.shape[:2] != (1, 1) or X.ndim != 4:
        raise ValueError(f"image must be one grayscale image (H, W); got {tuple(image.shape)}")
    seen: dict[str, torch.Tensor] = {}

    def hook(name: str):
        def record(layer, inputs, output) -> None:
            seen[name] = inputs[0][0].detach().cpu()
        return record

    handles = [block.register_forward_hook(hook(name))
               for name, _, block in inception_blocks(model)]
    try:
        with evaluating(model), torch.no_grad(), torch_threads(1):
            model(X.to(model_device(model)))
    finally:
        for handle in handles:
            handle.remove()
    return seen


def branch_kernels(block: Inception) -> list[str]:
    """Each branch's layers in words: ``"1×1"``, ``"1×1 → 3×3"``, ``"1×1 → 5×5"``,
    ``"3×3 pool → 1×1"``."""
    def k(conv: nn.Conv2d) -> str:
        return "×".join(str(s) for s in conv.kernel_size)

    pool = block.b4_1.kernel_size
    pool = pool if isinstance(pool, int) else pool[0]
    return [k(block.b1_1), f"{k(block.b2_1)} → {k(block.b2_2)}",
            f"{k(block.b3_1)} → {k(block.b3_2)}", f"{pool}×{pool} pool → {k(block.b4_2)}"]


@dataclass
class BranchOutputs:
    """One Inception block's four branches for one input.

    Attributes:
        name: the block's name in ``model.net`` (e.g. ``"2.0"``); label: ``"3a"``.
        input: what reached the block ``(C_in, H, W)``.
        branches: the four branch outputs, each ``(C_k, H, W)``, after their ReLU.
        output: the block's own output ``block(input)``, ``(sum C_k, H, W)``.
        channels: each branch's output channels, from its last convolution's ``out_channels``.
        flops: each branch's FLOPs on this input (``2 x`` the MACs ``layer_costs`` counts).
        kernels: each branch's layers in words (see :func:`branch_kernels`).
    """

    name: str
    label: str
    input: torch.Tensor
    branches: list[torch.Tensor]
    output: torch.Tensor
    channels: list[int]
    flops: list[int]
    kernels: list[str]

    @property
    def channel_shares(self) -> list[float]:
        total = sum(self.channels)
        return [c / total for c in self.channels]

    @property
    def flop_shares(self) -> list[float]:
        total = sum(self.flops)
        return [f / total for f in self.flops]


def branch_flops(block: Inception, input_shape: tuple[int, ...]) -> list[int]:
    """FLOPs of each branch of ``block`` on one input of ``input_shape`` ``(1, C_in, H, W)``."""
    totals = dict.fromkeys(BRANCHES, 0)
    for cost in layer_costs(block, input_shape):
        totals[cost.name.split("_")[0]] += 2 * cost.macs
    return [totals[b] for b in BRANCHES]


def branch_outputs(block: Inception, X: torch.Tensor, name: str = "", label: str = "",
                   flops: list[int] | None = None) -> BranchOutputs:
    """Run the four branches of ``block`` on ``X`` ``(C_in, H, W)`` one by one.

    The branches follow :meth:`~cnnlib.models.googlenet.Inception.forward`; the block's own
    output is computed too, so a reader (and a test) can see that the concatenation is it.
    ``flops``, when given, is :func:`branch_flops` for this block and input size (it
    depends on the size only, so an explorer computes it once per block).
    """
    if X.ndim != 3 or X.shape[0] != block.in_channels:
        raise ValueError(f"X must be (C_in, H, W) with C_in = {block.in_channels}; "
                         f"got {tuple(X.shape)}")
    batch = X[None]
    with evaluating(block), torch.no_grad(), torch_threads(1):
        branches = [
            F.relu(block.b1_1(batch)),
            F.relu(block.b2_2(F.relu(block.b2_1(batch)))),
            F.relu(block.b3_2(F.relu(block.b3_1(batch)))),
            F.relu(block.b4_2(block.b4_1(batch))),
        ]
        output = block(batch)[0]
    channels = [block.b1_1.out_channels, block.b2_2.out_channels, block.b3_2.out_channels,
                block.b4_2.out_channels]
    return BranchOutputs(
        name=name, label=label, input=X, branches=[b[0] for b in branches], output=output,
        channels=channels,
        flops=branch_flops(block, tuple(batch.shape)) if flops is None else list(flops),
        kernels=branch_kernels(block),
    )
