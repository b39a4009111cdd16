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

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["BATCH_SIZE", "DEPTHS", "FlowBlock", "FlowNet", "GradientFlow", "INITS", "SEEDS",
           "SIDE", "TABLE_PATH", "batch_fingerprint", "decode_flows", "encode_flows",
           "gradient_flow", "load_table", "setting_key", "training_batch", "twin_networks"]

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


# ---------------------------------------------------------------- the recorded table
# The website cannot backpropagate through PyTorch's own random initialisation (its random
# numbers are not reproducible in a browser), so it reads every setting its controls allow
# from a table that scripts/record_grad_flow.py computes with the functions above.

#: Depths the explorer's slider offers (56 is the depth of the ResNet-56 of He et al.'s
#: CIFAR study).
DEPTHS = (4, 8, 16, 32, 56)
#: Seeds the explorer's slider offers on the website (every one is recorded).
SEEDS = tuple(range(10))
#: Images in the explorer's fixed batch.
BATCH_SIZE = 64
#: Side of its images: Fashion-MNIST's 28 pixels averaged 2x2, to keep 56 blocks fast.
SIDE = 14
#: The recorded table (written by scripts/record_grad_flow.py, never by hand).
TABLE_PATH = Path(__file__).resolve().parents[1] / "weights" / "grad_flow_table.json"
#: Version of the table's layout; a reader refuses another.
TABLE_FORMAT = 1


def training_batch(size: int = BATCH_SIZE, root: str | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``size`` Fashion-MNIST training images at 14x14 (2x2 averages) and labels.

    Returns:
        ``(X, y)``: float32 ``(size, 1, 14, 14)`` in [0, 1] and int64 ``(size,)``.
    """
    from cnnlib import data

    images, labels = data.load_split(train=True, root=root)
    X = images[:size].float().div(255).unsqueeze(1)  # (size, 1, 28, 28)
    return F.avg_pool2d(X, 2), labels[:size].long()


def batch_fingerprint(X: torch.Tensor, y: torch.Tensor) -> str:
    """SHA-256 of a batch's float32 images and int64 labels: which batch a table was made on."""
    digest = hashlib.sha256()
    digest.update(X.detach().float().contiguous().numpy().tobytes())
    digest.update(y.detach().long().contiguous().numpy().tobytes())
    return digest.hexdigest()


def setting_key(depth: int, batch_norm: bool, init: str, seed: int) -> str:
    """The table's key of one setting: ``"56,1,kaiming,0"`` (depth, batch norm 0/1, init, seed)."""
    return f"{depth},{int(bool(batch_norm))},{init},{seed}"


def encode_flows(plain: GradientFlow, residual: GradientFlow) -> str:
    """One setting's numbers as base64 of little-endian float32, exactly as measured.

    Layout (``depth`` blocks): plain weight norms, plain output norms, plain loss, then
    the same three for the residual twin: ``4 * depth + 2`` values. The norms are float32
    already and the loss is a float32 turned into a Python float, so nothing is rounded.

    Raises:
        ValueError: when the twins have different depths or a loss is not a float32 value.
    """
    depth = plain.weight_norms.numel()
    if residual.weight_norms.numel() != depth:
        raise ValueError(f"twins of one depth expected, got {depth} and "
                         f"{residual.weight_norms.numel()} blocks")
    parts = []
    for flow in (plain, residual):
        if float(np.float32(flow.loss)) != flow.loss and flow.loss == flow.loss:
            raise ValueError(f"loss {flow.loss!r} is not a float32 value; it would be rounded")
        parts += [flow.weight_norms.detach().float().numpy(),
                  flow.output_norms.detach().float().numpy(), np.float32([flow.loss])]
    return base64.b64encode(np.concatenate(parts).astype("<f4").tobytes()).decode("ascii")


def decode_flows(text: str) -> tuple[GradientFlow, GradientFlow]:
    """The inverse of :func:`encode_flows`: ``(plain, residual)``.

    Raises:
        ValueError: when ``text`` does not hold ``4 * depth + 2`` float32 values.
    """
    values = np.frombuffer(base64.b64decode(text, validate=True), dtype="<f4")
    depth, extra = divmod(values.size - 2, 4)
    if extra or depth < 1:
        raise ValueError(f"a setting holds 4 * depth + 2 float32 values, got {values.size}")
    flows = []
    for half in (values[:2 * depth + 1], values[2 * depth + 1:]):
        flows.append(GradientFlow(weight_norms=torch.from_numpy(half[:depth].copy()),
                                  output_norms=torch.from_numpy(half[depth:2 * depth].copy()),
                                  loss=float(half[-1])))
    return flows[0], flows[1]


def load_table(path: str | Path = TABLE_PATH) -> dict[str, Any]:
    """The recorded table: its settings, its batch's fingerprint and ``flows`` (key -> base64).

    Raises:
        FileNotFoundError: when the file is missing (``python scripts/record_grad_flow.py``
            makes it).
        ValueError: when it has another format.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; make it with "
                                "`python scripts/record_grad_flow.py`")
    table = json.loads(path.read_text(encoding="utf-8"))
    if table.get("format") != TABLE_FORMAT:
        raise ValueError(f"{path} has format {table.get('format')!r}, this cnnlib reads "
                         f"{TABLE_FORMAT}; remake it with `python scripts/record_grad_flow.py`")
    return table
