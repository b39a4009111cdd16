"""cnnlib.fastpool: the fast 2x2 average pooling agrees with PyTorch's, and falls back."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from cnnlib.fastpool import AvgPool2d, avg_pool_2x2
from cnnlib.models.lenet import LeNet


def grad_fn_name(t: torch.Tensor) -> str:
    return type(t.grad_fn).__name__


@pytest.mark.parametrize("shape", [(2, 3, 4, 4), (128, 6, 28, 28), (5, 16, 10, 10), (1, 1, 2, 2),
                                   (3, 2, 6, 8)])
def test_forward_and_backward_match_pytorch(shape):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=g, requires_grad=True)
    upstream = torch.randn(shape[0], shape[1], shape[2] // 2, shape[3] // 2, generator=g)
    ours = AvgPool2d(kernel_size=2, stride=2)(x)
    assert grad_fn_name(ours) == "_AvgPool2x2Backward"  # the fast path ran
    (ours_grad,) = torch.autograd.grad(ours, x, upstream)
    ref = F.avg_pool2d(x, 2)
    (ref_grad,) = torch.autograd.grad(ref, x, upstream)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(ours_grad, ref_grad)


def test_gradient_is_exact_in_double_precision():
    x = torch.randn(2, 2, 4, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(avg_pool_2x2, (x,))


def test_bfloat16_keeps_pytorchs_kernel():
    # Summing four bf16 values pairwise rounds three times; PyTorch's kernel rounds once.
    x = torch.randn(4, 3, 8, 8).to(torch.bfloat16).requires_grad_()
    out = avg_pool_2x2(x)
    assert out.dtype == torch.bfloat16 and grad_fn_name(out) != "_AvgPool2x2Backward"
    torch.testing.assert_close(out, F.avg_pool2d(x, 2), rtol=0, atol=0)


@pytest.mark.parametrize("case", ["odd size", "channels_last", "unbatched", "padding", "ceil_mode",
                                  "kernel 3", "stride 1", "divisor"])
def test_every_other_case_goes_to_pytorch_with_the_same_result(case):
    kwargs = dict(kernel_size=2, stride=2)
    x = torch.randn(2, 3, 8, 8)
    if case == "odd size":
        x = torch.randn(2, 3, 9, 7)
    elif case == "channels_last":
        x = x.contiguous(memory_format=torch.channels_last)
    elif case == "unbatched":
        x = torch.randn(3, 8, 8)
    elif case == "padding":
        kwargs["padding"] = 1
    elif case == "ceil_mode":
        kwargs["ceil_mode"] = True
        x = torch.randn(2, 3, 9, 9)
    elif case == "kernel 3":
        kwargs = dict(kernel_size=3, stride=2)
    elif case == "stride 1":
        kwargs = dict(kernel_size=2, stride=1)
    elif case == "divisor":
        kwargs["divisor_override"] = 3
    x.requires_grad_()
    ours, ref = AvgPool2d(**kwargs)(x), nn.AvgPool2d(**kwargs)(x)
    assert grad_fn_name(ours) != "_AvgPool2x2Backward", case
    torch.testing.assert_close(ours, ref)


def test_it_is_an_nn_avgpool2d_to_everything_that_looks():
    layer = AvgPool2d(kernel_size=2, stride=2)
    assert isinstance(layer, nn.AvgPool2d)
    assert type(layer).__name__ == "AvgPool2d"
    assert repr(layer) == repr(nn.AvgPool2d(kernel_size=2, stride=2))
    assert AvgPool2d(2)._is_2x2_stride_2()  # stride defaults to the kernel size


def test_lenet_pools_with_it_and_its_output_is_unchanged():
    model = LeNet()
    pools = [m for m in model.modules() if isinstance(m, nn.AvgPool2d)]
    assert len(pools) == 2 and all(isinstance(m, AvgPool2d) for m in pools)
    X = torch.rand(8, 1, 28, 28)
    with torch.no_grad():
        reference = X
        for layer in model.net:
            pooled = isinstance(layer, AvgPool2d)
            reference = F.avg_pool2d(reference, 2) if pooled else layer(reference)
        torch.testing.assert_close(model(X), reference)
