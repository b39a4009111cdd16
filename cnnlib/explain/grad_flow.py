"""How the gradient reaches the early layers of a deep network, with and without shortcuts.

Section 8.6 argues that a residual block's shortcut lets the gradient flow straight
back to earlier layers. This module measures it on a toy: a plain deep CNN and its
*residual twin*, which differ only in the shortcut around each block:

* plain:    ``H_l = f_l(H_{l-1})``
* residual: ``H_l = H_{l-1} + f_l(H_{l-1})``

with ``f_l`` a 3x3 convolution (optionally followed by batch norm) and a ReLU, all
blocks at one width. For one fixed batch, :func:`gradient_flow` computes the
cross-entropy loss at initialisation and the norm of its gradient with respect to
each block's convolution weights and each block's output ``H_l``.

The networks are deliberately small (a few channels at 14 x 14 pixels) so that 56
blocks run in a fraction of a second on one CPU thread; the numbers describe the
first training step of a toy, not a trained ResNet.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["FlowBlock", "FlowNet", "GradientFlow", "INITS", "gradient_flow", "twin_networks"]

#: How the convolutions' weights are drawn: PyTorch's default (uniform, a third of He's
#: variance) or He et al.'s normal initialisation for ReLU networks, with zero biases.
INITS = ("default", "kaiming")


class FlowBlock(nn.Module):
    """``f(H) = ReLU(BN(conv3x3(H)))`` at constant width; batch norm is optional.

    Shapes: ``(N, width, h, w)`` -> ``(N, width, h, w)``.
    """

    def __init__(self, width: int, batch_norm: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(width, width, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(width) if batch_norm else nn.Identity()

    def forward(self, H: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(H)))


class FlowNet(nn.Module):
    """A stem, ``depth`` blocks at constant width, global average pooling and a linear head.

    Args:
        depth: number of blocks (at least 1).
        residual: add each block's input to its output (``H + f(H)``) instead of
            passing on ``f(H)`` alone. Nothing else differs between the two kinds.
        batch_norm: put batch norm between each block's convolution and its ReLU.
        width: channels of the stem and of every block.
        in_channels: image channels; num_classes: outputs.

    Attributes:
        stem: ``ReLU(conv3x3)`` from the image to ``width`` channels.
        blocks: the ``depth`` :class:`FlowBlock` s.
        head: average pool, flatten, linear.

    Shapes: ``(N, in_channels, h, w)`` -> ``(N, num_classes)``.
    """

    def __init__(
        self,
        depth: int,
        residual: bool,
        batch_norm: bool = True,
        width: int = 8,
        in_channels: int = 1,
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        for name, value in (("depth", depth), ("width", width), ("in_channels", in_channels),
                            ("num_classes", num_classes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        self.residual = bool(residual)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, kernel_size=3, padding=1),
                                  nn.ReLU())
        self.blocks = nn.ModuleList(FlowBlock(width, batch_norm) for _ in range(depth))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(width, num_classes))

    def forward_with_outputs(self, X: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The scores ``(N, num_classes)`` and every block's output ``H_l`` (after the addition)."""
        H = self.stem(X)
        outputs = []
        for block in self.blocks:
            H = H + block(H) if self.residual else block(H)
            outputs.append(H)
        return self.head(H), outputs

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.forward_with_outputs(X)[0]


def _initialise(model: FlowNet, init: str) -> None:
    if init == "kaiming":
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)


def twin_networks(
    depth: int, batch_norm: bool = True, init: str = "kaiming", seed: int = 0, width: int = 8,
    in_channels: int = 1, num_classes: int = 10,
) -> tuple[FlowNet, FlowNet]:
    """A plain network and its residual twin with identical weights (drawn from ``seed``).

    The global random state is left as it was. Both are returned in training mode,
    as at the first step of training (batch norm normalises with the batch's statistics).

    Raises:
        ValueError: for an unknown ``init`` or a depth/width below 1.
    """
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    nets = []
    for residual in (False, True):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = FlowNet(depth, residual, batch_norm, width, in_channels, num_classes)
            _initialise(net, init)
        nets.append(net.train())
    return nets[0], nets[1]


@dataclass
class GradientFlow:
    """What :func:`gradient_flow` measured for one network and one batch.

    Attributes:
        weight_norms: ``(depth,)`` norm of dLoss/dW of each block's convolution weight.
        output_norms: ``(depth,)`` norm of dLoss/dH_l, each block's output.
        loss: the cross-entropy loss at initialisation.
    """

    weight_norms: torch.Tensor
    output_norms: torch.Tensor
    loss: float

    def ratio(self, which: str = "weight") -> float:
        """First block's gradient norm divided by the last block's (inf when the last is 0)."""
        norms = self.weight_norms if which == "weight" else self.output_norms
        first, last = float(norms[0]), float(norms[-1])
        if last == 0:
            return float("inf") if first > 0 else float("nan")
        return first / last


def gradient_flow(model: FlowNet, X: torch.Tensor, y: torch.Tensor) -> GradientFlow:
    """Gradient norms per block of the mean cross-entropy loss of ``model`` on ``(X, y)``.

    Uses :func:`torch.autograd.grad`, so the parameters' ``.grad`` stay untouched;
    the model runs in whatever mode it is in (training mode for the first step), and
    batch norm's running statistics, which a training-mode pass updates, are put back.

    Args:
        model: a :class:`FlowNet`.
        X: images ``(N, C, h, w)``, float; y: their classes ``(N,)``.
    """
    if not isinstance(model, FlowNet):
        raise TypeError(f"gradient_flow takes a FlowNet, got {type(model).__name__}")
    if X.ndim != 4 or not X.is_floating_point():
        raise ValueError(f"X must be float images (N, C, h, w), got {X.dtype} {tuple(X.shape)}")
    if y.shape != X.shape[:1]:
        raise ValueError(f"y must hold one class per image, shape ({X.shape[0]},); "
                         f"got {tuple(y.shape)}")
    buffers = {name: value.clone() for name, value in model.named_buffers()}
    with torch.enable_grad():
        scores, outputs = model.forward_with_outputs(X)
        loss = F.cross_entropy(scores, y)
        weights = [block.conv.weight for block in model.blocks]
        grads = torch.autograd.grad(loss, weights + outputs)
    with torch.no_grad():
        for name, value in model.named_buffers():
            value.copy_(buffers[name])
    depth = len(weights)
    return GradientFlow(
        weight_norms=torch.stack([g.detach().norm() for g in grads[:depth]]),
        output_norms=torch.stack([g.detach().norm() for g in grads[depth:]]),
        loss=float(loss.detach()),
    )
