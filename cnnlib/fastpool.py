"""A faster CPU path for 2x2, stride-2 average pooling: the same layer, the same results.

LeNet averages every 2x2 block of its feature maps. PyTorch's CPU kernel for
``avg_pool2d`` handles every kernel size, stride, padding and divisor, and on
LeNet's small maps (28x28 and 10x10) it is slow: profiling one LeNet training
step on a 2-core AMD EPYC put pooling forward and backward at about a fifth
of the step, and the forward pass alone ran at under one element per
nanosecond.

For the one case LeNet uses the arithmetic is simple enough to write with
whole-tensor additions that vectorize well:

* forward: add each even row to the row below it (contiguous rows), then each
  even column of that to the column beside it, and scale by 1/4;
* backward: every input pixel receives a quarter of its block's gradient, so
  the gradient is written four times into a strided view of the output.

:class:`AvgPool2d` is a drop-in ``nn.AvgPool2d`` (it *is* one: same class
name, same printed form, same ``isinstance``) that takes that path when it
applies -- 2x2 window, stride 2, no padding, floor mode, default divisor, an
NCHW-contiguous float32 or float64 CPU tensor with even height and width --
and otherwise calls PyTorch's kernel. ``tests/test_fastpool.py`` compares
both against ``F.avg_pool2d`` (they agree to the last bit or two: the four
values are added in a different order); ``benchmarks/`` measures the gain
inside training.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.autograd.function import once_differentiable

from cnnlib.ops import as_pair

__all__ = ["AvgPool2d", "avg_pool_2x2"]


class _AvgPool2x2(torch.autograd.Function):
    """2x2 / stride-2 mean of an NCHW-contiguous tensor with even H and W."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        N, C, H, W = x.shape
        rows = x.view(N, C, H // 2, 2, W)
        pairs = (rows[:, :, :, 0] + rows[:, :, :, 1]).view(N, C, H // 2, W // 2, 2)
        return (pairs[..., 0] + pairs[..., 1]).mul_(0.25)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        N, C, h, w = grad.shape
        quarter = grad * 0.25
        out = torch.empty((N, C, h, 2, w, 2), dtype=grad.dtype, device=grad.device)
        out[:, :, :, 0, :, 0] = quarter
        out[:, :, :, 0, :, 1] = quarter
        out[:, :, :, 1] = out[:, :, :, 0]  # the lower row of each block equals the upper
        return out.view(N, C, 2 * h, 2 * w)


def _fast_path_applies(x: torch.Tensor) -> bool:
    return (
        x.device.type == "cpu"
        and x.ndim == 4
        # Half-precision sums would round after every addition, where PyTorch's kernel
        # accumulates in float32 and rounds once: bf16/fp16 keep PyTorch's kernel.
        and x.dtype in (torch.float32, torch.float64)
        and x.shape[2] % 2 == 0
        and x.shape[3] % 2 == 0
        and x.shape[2] > 0
        and x.shape[3] > 0
        and x.is_contiguous()  # NCHW; a channels_last tensor goes to PyTorch's kernel
    )


def avg_pool_2x2(x: torch.Tensor) -> torch.Tensor:
    """``F.avg_pool2d(x, 2)`` for ``(N, C, H, W)`` input, by the fast path when it applies."""
    if _fast_path_applies(x):
        return _AvgPool2x2.apply(x)
    return nn.functional.avg_pool2d(x, 2)


class AvgPool2d(nn.AvgPool2d):
    """``nn.AvgPool2d`` with a faster CPU path for the 2x2, stride-2 case (see module doc)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._is_2x2_stride_2():
            return avg_pool_2x2(x)
        return super().forward(x)

    def _is_2x2_stride_2(self) -> bool:
        stride = self.kernel_size if self.stride is None else self.stride
        return (
            as_pair(self.kernel_size, "kernel_size") == (2, 2)
            and as_pair(stride, "stride") == (2, 2)
            and as_pair(self.padding, "padding") == (0, 0)
            and not self.ceil_mode
            and self.divisor_override is None
        )
