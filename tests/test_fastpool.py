"""cnnlib.models.fastpool: the fast 2x2 average pooling agrees with PyTorch's, and falls back."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from cnnlib.models.fastpool import FastAvgPool2d, avg_pool_2x2
from cnnlib.models.lenet import LeNet

# The fast path's autograd nodes: the eager one, and the one torch.func transforms use.
FAST = {"_EagerAvgPool2x2Backward", "_AvgPool2x2Backward"}


def grad_fn_name(t: torch.Tensor) -> str:
    return type(t.grad_fn).__name__


@pytest.mark.parametrize("shape", [(2, 3, 4, 4), (128, 6, 28, 28), (5, 16, 10, 10), (1, 1, 2, 2),
                                   (3, 2, 6, 8)])
def test_forward_and_backward_match_pytorch(shape):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=g, requires_grad=True)
    upstream = torch.randn(shape[0], shape[1], shape[2] // 2, shape[3] // 2, generator=g)
    ours = FastAvgPool2d(kernel_size=2, stride=2)(x)
    assert grad_fn_name(ours) in FAST  # the fast path ran
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
    assert out.dtype == torch.bfloat16 and grad_fn_name(out) not in FAST
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
    ours, ref = FastAvgPool2d(**kwargs)(x), nn.AvgPool2d(**kwargs)(x)
    assert grad_fn_name(ours) not in FAST, case
    torch.testing.assert_close(ours, ref)


def test_it_is_an_nn_avgpool2d_under_its_own_name():
    layer = FastAvgPool2d(kernel_size=2, stride=2)
    assert isinstance(layer, nn.AvgPool2d)  # a subclass: same arguments, same state
    assert type(layer).__name__ == "FastAvgPool2d"
    assert repr(layer) == "FastAvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(layer) != repr(nn.AvgPool2d(kernel_size=2, stride=2))  # no disguise
    assert FastAvgPool2d(2)._is_2x2_stride_2()  # stride defaults to the kernel size


def test_lenet_pools_with_it_and_its_output_is_unchanged():
    model = LeNet()
    pools = [m for m in model.modules() if isinstance(m, nn.AvgPool2d)]
    assert len(pools) == 2 and all(isinstance(m, FastAvgPool2d) for m in pools)
    assert "FastAvgPool2d(kernel_size=2, stride=2, padding=0)" in str(model.net)
    X = torch.rand(8, 1, 28, 28)
    with torch.no_grad():
        reference = X
        for layer in model.net:
            pooled = isinstance(layer, FastAvgPool2d)
            reference = F.avg_pool2d(reference, 2) if pooled else layer(reference)
        torch.testing.assert_close(model(X), reference)


# --- everything nn.AvgPool2d supports works on the fast path too ----------------------------


def reference_pool(x):
    return F.avg_pool2d(x, 2)


def fast_pool(x):
    return FastAvgPool2d(2)(x)


def double(*shape, seed=0):
    return torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("not_a_tensor", [[[1.0, 2.0], [3.0, 4.0]], 3.0, None, "x"])
@pytest.mark.parametrize("pool", [fast_pool, avg_pool_2x2])
def test_a_non_tensor_gets_pytorchs_type_error(pool, not_a_tensor):
    with pytest.raises(TypeError) as theirs:
        nn.AvgPool2d(2)(not_a_tensor)
    with pytest.raises(TypeError) as ours:
        pool(not_a_tensor)
    assert str(ours.value) == str(theirs.value)


def test_double_backward_matches_pytorch():
    x = double(2, 3, 4, 6).requires_grad_()
    assert torch.autograd.gradgradcheck(avg_pool_2x2, (x,))
    upstream = double(2, 3, 2, 3, seed=1)
    results = []
    for pool in (fast_pool, reference_pool):
        (g,) = torch.autograd.grad(pool(x), x, upstream, create_graph=True)
        (gg,) = torch.autograd.grad((g * g.detach()).sum() + (g ** 2).sum(), x,
                                    allow_unused=True, materialize_grads=True)
        results.append((g, gg))
    assert grad_fn_name(fast_pool(x)) in FAST
    torch.testing.assert_close(results[0], results[1])


def test_a_gradient_penalty_trains_the_same():
    # The case create_graph exists for: a loss on the gradient itself.
    torch.manual_seed(0)
    conv = nn.Conv2d(1, 2, 3, padding=1).double()
    x = double(4, 1, 6, 6)
    grads = []
    for pool in (fast_pool, reference_pool):
        conv.zero_grad()
        inp = x.clone().requires_grad_()
        (g,) = torch.autograd.grad(pool(conv(inp)).sum(), inp, create_graph=True)
        (g ** 2).sum().backward()
        grads.append(conv.weight.grad.clone())
    torch.testing.assert_close(grads[0], grads[1])


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
@pytest.mark.parametrize("transform", ["vmap", "grad", "jacrev", "jacfwd", "jvp", "hessian",
                                       "vmap of grad", "forward AD"])
def test_torch_func_transforms_match_pytorch(transform, monkeypatch):
    from torch import func

    import cnnlib.models.fastpool as fastpool

    fast_calls = []
    kernel = fastpool._pool
    monkeypatch.setattr(fastpool, "_pool", lambda x: fast_calls.append(1) or kernel(x))

    x, t = double(2, 3, 4, 4), double(2, 3, 4, 4, seed=1)
    batch = double(5, 2, 3, 4, 4, seed=2)

    def run(pool):
        loss = lambda u: (pool(u) ** 3).sum()  # noqa: E731 -- nonlinear, so hessians differ
        if transform == "vmap":
            return func.vmap(pool)(batch), func.vmap(pool, in_dims=2)(batch.movedim(0, 2))
        if transform == "grad":
            return func.grad(loss)(x)
        if transform == "jacrev":
            return func.jacrev(pool)(x)
        if transform == "jacfwd":
            return func.jacfwd(pool)(x)
        if transform == "jvp":
            return func.jvp(pool, (x,), (t,))
        if transform == "hessian":
            return func.hessian(loss)(x[:1, :1])
        if transform == "vmap of grad":
            return func.vmap(func.grad(loss))(batch)
        import torch.autograd.forward_ad as fwAD

        with fwAD.dual_level():
            out = fwAD.unpack_dual(pool(fwAD.make_dual(x, t)))
            return out.primal.clone(), out.tangent.clone()

    torch.testing.assert_close(run(fast_pool), run(reference_pool))
    assert fast_calls, "the transform went around the fast path"


def test_an_expanded_upstream_gradient_works():
    # sum().backward() sends a stride-0 gradient; the backward must not assume a layout.
    x = torch.randn(2, 3, 4, 4, requires_grad=True)
    fast_pool(x).sum().backward()
    torch.testing.assert_close(x.grad, torch.full_like(x, 0.25))
