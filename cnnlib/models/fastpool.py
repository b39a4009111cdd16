"""A faster CPU path for 2x2, stride-2 average pooling, with the same results as PyTorch's.

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

:class:`FastAvgPool2d` is an ``nn.AvgPool2d`` subclass under its own name (it
prints as ``FastAvgPool2d(...)``, so a model summary says what runs) that takes that
path when it applies -- 2x2 window, stride 2, no padding, floor mode, default
divisor, an NCHW-contiguous float32 or float64 CPU tensor with even height and
width -- and otherwise calls PyTorch's kernel, which also gives PyTorch's errors
(a list input is a ``TypeError``). Everything ``nn.AvgPool2d`` supports works on
the fast path too: the two directions are written as a pair of
``torch.autograd.Function`` classes, each the other's gradient, so gradients of any
order (``create_graph=True``), forward-mode AD and the ``torch.func`` transforms
(``vmap``, ``grad``, ``jacrev``, ``jacfwd``, ``jvp``) give PyTorch's results.
``tests/test_fastpool.py`` compares all of them against ``F.avg_pool2d`` (they
agree to the last bit or two: the four values are added in a different order);
``benchmarks/`` measures the gain inside training.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from cnnlib.ops import as_pair

__all__ = ["FastAvgPool2d", "avg_pool_2x2"]


def _pool(x: torch.Tensor) -> torch.Tensor:
    """2x2 / stride-2 mean of ``(N, C, H, W)`` with even H and W; fast when NCHW-contiguous."""
    if not x.is_contiguous():
        return F.avg_pool2d(x, 2)
    N, C, H, W = x.shape
    rows = x.view(N, C, H // 2, 2, W)
    pairs = (rows[:, :, :, 0] + rows[:, :, :, 1]).view(N, C, H // 2, W // 2, 2)
    return (pairs[..., 0] + pairs[..., 1]).mul_(0.25)


def _spread(grad: torch.Tensor) -> torch.Tensor:
    """The adjoint of :func:`_pool`: every pixel of a 2x2 block gets a quarter of its value."""
    N, C, h, w = grad.shape
    quarter = grad * 0.25
    out = torch.empty((N, C, h, 2, w, 2), dtype=grad.dtype, device=grad.device)
    out[:, :, :, 0, :, 0] = quarter
    out[:, :, :, 0, :, 1] = quarter
    out[:, :, :, 1] = out[:, :, :, 0]  # the lower row of each block equals the upper
    return out.view(N, C, 2 * h, 2 * w)


def _merge_vmap_dim(apply, in_dims: tuple[int | None], x: torch.Tensor):
    """Run ``apply`` once on a vmapped batch: the vmap axis joins N, then is split off."""
    (dim,) = in_dims
    if dim is None:
        return apply(x), None
    x = x.movedim(dim, 0)
    B, N = x.shape[:2]
    y = apply(x.reshape(B * N, *x.shape[2:]))
    return y.reshape(B, N, *y.shape[1:]), 0


class _AvgPool2x2(torch.autograd.Function):
    """2x2 / stride-2 mean; its gradient is :class:`_Spread2x2`, so it differentiates again.

    Written in the ``setup_context`` form with ``jvp`` and ``vmap`` rules, which is what
    ``torch.func`` needs of a custom function.
    """

    @staticmethod
    def forward(x: torch.Tensor) -> torch.Tensor:
        return _pool(x)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: torch.Tensor) -> None:
        # Linear, so the backward needs only the gradient; the input is kept (a reference,
        # as PyTorch's avg_pool2d keeps it) for the one case handled in backward.
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return _pool_backward(ctx, grad)

    @staticmethod
    def jvp(ctx: Any, tangent: torch.Tensor) -> torch.Tensor:
        # Linear: the tangent goes through the same map (through apply, so that a vmap
        # around this jvp, as in jacfwd and hessian, uses the vmap rule below).
        return _AvgPool2x2.apply(tangent)

    @staticmethod
    def vmap(info: Any, in_dims: tuple, x: torch.Tensor):
        return _merge_vmap_dim(_AvgPool2x2.apply, in_dims, x)


class _Spread2x2(torch.autograd.Function):
    """The adjoint of :class:`_AvgPool2x2` (its backward), with that pool as its own backward."""

    @staticmethod
    def forward(grad: torch.Tensor) -> torch.Tensor:
        return _spread(grad)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: torch.Tensor) -> None:
        pass

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return _AvgPool2x2.apply(grad)

    @staticmethod
    def jvp(ctx: Any, tangent: torch.Tensor) -> torch.Tensor:
        return _Spread2x2.apply(tangent)

    @staticmethod
    def vmap(info: Any, in_dims: tuple, grad: torch.Tensor):
        return _merge_vmap_dim(_Spread2x2.apply, in_dims, grad)


def _pool_backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
    """The backward of both pool functions."""
    if not torch.is_grad_enabled() and not _transforms_active():
        return _spread(grad)  # a plain backward: nothing will differentiate this result
    spread = _Spread2x2.apply(grad)  # differentiable, for create_graph and torch.func
    if torch.is_grad_enabled() and not spread.requires_grad:
        # create_graph=True with a gradient that does not depend on x: PyTorch's kernel
        # still links the result to x (with derivative zero), so asking for the second
        # derivative gives zeros rather than an error. torch.where does the same here.
        (x,) = ctx.saved_tensors
        if x.requires_grad:
            spread = torch.where(torch.zeros((), dtype=torch.bool), x, spread)
    return spread


class _EagerAvgPool2x2(torch.autograd.Function):
    """:class:`_AvgPool2x2` for use outside ``torch.func`` transforms.

    The same function in the older ``forward(ctx, x)`` form, which PyTorch calls without
    the argument binding it does on every call of a ``setup_context``-style function
    (tens of microseconds, a few percent of a LeNet training step).
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return _pool(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return _pool_backward(ctx, grad)

    @staticmethod
    def jvp(ctx: Any, tangent: torch.Tensor) -> torch.Tensor:
        return _pool(tangent)  # forward-mode AD (torch.autograd.forward_ad)


# Whether a torch.func transform (vmap, grad, jvp, ...) is running; the same test
# autograd.Function.apply makes. Where the check is missing, take the safe path.
_transforms_active = getattr(torch._C, "_are_functorch_transforms_active", lambda: True)


def _fast_path_applies(x: object) -> bool:
    return (
        isinstance(x, torch.Tensor)
        and x.device.type == "cpu"
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
    """``F.avg_pool2d(x, 2)`` for ``(N, C, H, W)`` input, by the fast path when it applies.

    Anything else, a non-tensor included, goes to ``F.avg_pool2d`` and gets its result or
    its error.
    """
    if _fast_path_applies(x):
        return (_AvgPool2x2 if _transforms_active() else _EagerAvgPool2x2).apply(x)
    return F.avg_pool2d(x, 2)


class FastAvgPool2d(nn.AvgPool2d):
    """``nn.AvgPool2d`` with a faster CPU path for the 2x2, stride-2 case (see module doc).

    Same arguments, results and gradients as ``nn.AvgPool2d``, of which it is a subclass;
    it prints under its own name so that nothing pretends it is PyTorch's layer.
    """

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
