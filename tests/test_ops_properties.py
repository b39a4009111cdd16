"""Every op in cnnlib.ops against torch.nn.functional, on shapes hypothesis picks.

The shapes include the degenerate ones: empty kernels and inputs, zero channels, windows
larger than the input, zero or negative strides and paddings, and mixed float32/float64
arguments. The rule, per call:

* where PyTorch raises, ours raises a ``ValueError`` or ``TypeError`` (never another
  error, never a result);
* where PyTorch returns a tensor, ours returns a tensor (never a Python number) of the
  same shape and dtype and close values (``torch.testing.assert_close``).

Four differences are by design, each documented in ``cnnlib/ops.py`` and held here:

1. integer and bool tensors are refused with a ``TypeError`` (the lessons' sums of products
   and averages are floating point; ``F.conv2d`` would compute in integers);
2. mixed float32/float64 arguments are promoted to float64 (``torch.result_type``), as the
   book's elementwise code does; ``F.conv2d`` refuses them, so the reference is
   ``F.conv2d`` on the promoted arguments;
3. zero input channels are refused with a ``ValueError`` (``F.conv2d`` returns an empty
   tensor with 0 output channels there, whatever the kernel says);
4. ``pool2d`` also takes a single (H, W) map, compared with PyTorch on ``X[None]``.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import event, given, settings
from hypothesis import strategies as st

from cnnlib.ops import (
    conv_output_shape,
    corr2d,
    corr2d_multi_in,
    corr2d_multi_in_out,
    corr2d_multi_in_out_1x1,
    corr2d_vectorized,
    pool2d,
)

# Each test runs once per kind of fault (and once with none), so every kind is covered
# whatever hypothesis draws; 20 examples each keeps the whole file to a few seconds.
SETTINGS = settings(max_examples=20, deadline=None, derandomize=True)

FLOATS = [torch.float32, torch.float64]
NOT_FLOATS = [torch.int64, torch.uint8, torch.bool]
seeds = st.integers(0, 2**16)
floats = st.sampled_from(FLOATS)


class Raised:
    """What a call raised, kept so the two sides can be compared."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __repr__(self) -> str:
        return f"Raised({type(self.error).__name__}: {self.error})"


def outcome(fn):
    try:
        return fn()
    except Exception as error:  # noqa: BLE001 -- the point is to see every kind
        return Raised(error)


def tensor(shape, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    T = torch.randn(shape, generator=g, dtype=torch.float64)
    if dtype == torch.bool:
        return T > 0
    if not dtype.is_floating_point:
        return (T * 3).round().to(dtype)
    return T.to(dtype)


def promoted(*tensors):
    dtype = torch.result_type(*tensors)
    return [T.to(dtype) for T in tensors]


def check(ours, theirs, *, refuse: type[Exception] | None = None, names=("X", "K")):
    """Hold ``ours`` against ``theirs`` under the rule in the module docstring.

    Args:
        refuse: an error type ours must raise by design, whatever PyTorch does.
        names: argument names one of which an error message must mention.
    """
    event("refused by design" if refuse is not None else
          "both raised" if isinstance(theirs, Raised) else "both returned")
    if refuse is not None or isinstance(theirs, Raised):
        assert isinstance(ours, Raised), f"PyTorch gave {theirs!r}, ours returned {ours!r}"
        assert isinstance(ours.error, (ValueError, TypeError)), repr(ours)
        if refuse is not None:
            assert isinstance(ours.error, refuse), repr(ours)
        message = str(ours.error)
        assert any(name in message for name in names), message
        return
    assert not isinstance(ours, Raised), f"PyTorch gave {tuple(theirs.shape)}, ours {ours!r}"
    assert isinstance(ours, torch.Tensor), f"ours returned {type(ours).__name__}: {ours!r}"
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    torch.testing.assert_close(ours, theirs)


def by_design(X, K=None):
    """The error ours raises by design for a non-float argument (point 1), or None."""
    for T in (X, K):
        if T is not None and not T.is_floating_point():
            return TypeError
    return None


@st.composite
def spatial(draw, kind):
    """(h, w, kh, kw): a kernel that fits, unless ``kind`` is one of the spatial faults."""
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    kh, kw = draw(st.integers(1, h)), draw(st.integers(1, w))
    axis = draw(st.integers(0, 1))
    if kind == "empty kernel":
        kh, kw = (0, kw) if axis == 0 else (kh, 0)
    elif kind == "empty input":
        h, w = (0, w) if axis == 0 else (h, 0)
    elif kind == "kernel larger than input":
        kh, kw = (h + 1, kw) if axis == 0 else (kh, w + 1)
    return h, w, kh, kw


@st.composite
def dtype_pair(draw, kind):
    """The dtypes of X and K: equal floats, mixed floats, or one that is not a float."""
    x, k = draw(floats), draw(floats)
    if kind == "same dtype":
        k = x
    elif kind == "not a float":
        bad = draw(st.sampled_from(NOT_FLOATS))
        x, k = (bad, k) if draw(st.booleans()) else (x, bad)
    return x, k


SPATIAL = ("empty kernel", "empty input", "kernel larger than input")


@pytest.mark.parametrize("kind", ["none", *SPATIAL, "not a float"])
@SETTINGS
@given(data=st.data(), seed=seeds, fn=st.sampled_from([corr2d, corr2d_vectorized]))
def test_corr2d(kind, data, seed, fn):
    h, w, kh, kw = data.draw(spatial(kind))
    x_dtype, k_dtype = data.draw(dtype_pair(kind))
    X, K = tensor((h, w), x_dtype, seed), tensor((kh, kw), k_dtype, seed + 1)
    ours = outcome(lambda: fn(X, K))
    theirs = outcome(lambda: F.conv2d(*(T[None, None] for T in promoted(X, K)))[0, 0])
    check(ours, theirs, refuse=by_design(X, K))


@pytest.mark.parametrize("kind", ["none", *SPATIAL, "not a float", "zero channels",
                                  "channel mismatch"])
@SETTINGS
@given(data=st.data(), seed=seeds)
def test_corr2d_multi_in(kind, data, seed):
    h, w, kh, kw = data.draw(spatial(kind))
    x_dtype, k_dtype = data.draw(dtype_pair(kind))
    c_x = c_k = 0 if kind == "zero channels" else data.draw(st.integers(1, 3))
    if kind == "channel mismatch":
        c_k = c_x + data.draw(st.sampled_from([-1, 1]))
    X, K = tensor((c_x, h, w), x_dtype, seed), tensor((c_k, kh, kw), k_dtype, seed + 1)
    ours = outcome(lambda: corr2d_multi_in(X, K))
    Xp, Kp = promoted(X, K)
    theirs = outcome(lambda: F.conv2d(Xp[None], Kp[None])[0, 0])
    refuse = by_design(X, K) or (ValueError if kind == "zero channels" else None)  # point 3
    check(ours, theirs, refuse=refuse)


MULTI_KINDS = ["none", *SPATIAL, "not a float", "zero channels", "channel mismatch",
               "zero output channels"]


@pytest.mark.parametrize(("kind", "one_by_one"), [
    *((kind, False) for kind in MULTI_KINDS), *((kind, True) for kind in MULTI_KINDS),
    ("not 1x1", True),
])
@SETTINGS
@given(data=st.data(), seed=seeds)
def test_corr2d_multi_in_out(kind, one_by_one, data, seed):
    h, w, kh, kw = data.draw(spatial(kind))
    if one_by_one and kind not in ("empty kernel", "kernel larger than input", "not 1x1"):
        kh = kw = 1
    if kind == "not 1x1":
        kh = data.draw(st.integers(2, h + 1))
    x_dtype, k_dtype = data.draw(dtype_pair(kind))
    c_x = c_k = 0 if kind == "zero channels" else data.draw(st.integers(1, 3))
    if kind == "channel mismatch":
        c_k = c_x + data.draw(st.sampled_from([-1, 1]))
    c_out = 0 if kind == "zero output channels" else data.draw(st.integers(1, 3))
    X, K = tensor((c_x, h, w), x_dtype, seed), tensor((c_out, c_k, kh, kw), k_dtype, seed + 1)
    fn = corr2d_multi_in_out_1x1 if one_by_one else corr2d_multi_in_out
    ours = outcome(lambda: fn(X, K))
    Xp, Kp = promoted(X, K)
    theirs = outcome(lambda: F.conv2d(Xp[None], Kp)[0])
    refuse = by_design(X, K)
    if refuse is None and kind in ("zero channels", "not 1x1"):
        refuse = ValueError  # point 3, and the 1x1 op takes only 1x1 kernels
    check(ours, theirs, refuse=refuse)


@pytest.mark.parametrize("kind", [
    "none", "rank 1", "rank 5", "empty channel or map", "zero window",
    "window larger than padded input", "padding over half the window", "negative padding",
    "zero or negative stride", "not a float",
])
@SETTINGS
@given(data=st.data(), seed=seeds, mode=st.sampled_from(["max", "avg"]))
def test_pool2d(kind, data, seed, mode):
    rank = data.draw(st.sampled_from([2, 3, 4]))
    n, c = data.draw(st.integers(0, 2)), data.draw(st.integers(1, 3))  # a batch of 0 is fine
    h, w = data.draw(st.integers(1, 7)), data.draw(st.integers(1, 7))
    pool_size = data.draw(st.integers(1, min(h, w)))
    padding = data.draw(st.integers(0, pool_size // 2))
    stride = data.draw(st.none() | st.integers(1, 3))
    dtype = data.draw(floats)
    if kind == "rank 1":
        rank = 1
    elif kind == "rank 5":
        rank = 5
    elif kind == "empty channel or map":
        rank = max(rank, 3)
        c, h, w = data.draw(st.sampled_from([(0, h, w), (c, 0, w), (c, h, 0)]))
    elif kind == "zero window":
        pool_size = 0
    elif kind == "window larger than padded input":
        pool_size, padding = min(h, w) + 1, 0
    elif kind == "padding over half the window":
        padding = pool_size // 2 + 1
    elif kind == "negative padding":
        padding = -1
    elif kind == "zero or negative stride":
        stride = data.draw(st.sampled_from([0, -1]))
    elif kind == "not a float":
        dtype = data.draw(st.sampled_from(NOT_FLOATS))
    shape = (n, c, h, w, 2)[:rank] if rank == 5 else (n, c, h, w)[4 - rank:]
    X = tensor(shape, dtype, seed)
    ours = outcome(lambda: pool2d(X, pool_size, mode=mode, padding=padding, stride=stride))
    torch_pool = F.max_pool2d if mode == "max" else F.avg_pool2d

    def reference():
        if rank == 2:  # point 4: one (H, W) map
            return torch_pool(X[None], pool_size, stride=stride, padding=padding)[0]
        return torch_pool(X, pool_size, stride=stride, padding=padding)

    names = ("X", "pool_size", "padding", "stride")
    check(ours, outcome(reference), refuse=by_design(X), names=names)


@pytest.mark.parametrize("kind", ["none", "empty input", "zero kernel", "negative padding",
                                  "zero or negative stride", "zero dilation"])
@SETTINGS
@given(data=st.data(), pairs=st.booleans())
def test_conv_output_shape(kind, data, pairs):
    n = data.draw(st.integers(1, 9))
    k, p = data.draw(st.integers(1, n)), data.draw(st.integers(0, 2))
    s, d = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 3))  # may not fit: fine
    if kind == "empty input":
        n = 0
    elif kind == "zero kernel":
        k = 0
    elif kind == "negative padding":
        p = -1
    elif kind == "zero or negative stride":
        s = data.draw(st.sampled_from([0, -1]))
    elif kind == "zero dilation":
        d = 0

    def reference():
        weight = torch.zeros(1, 1, k, k)
        return F.conv2d(torch.zeros(1, 1, n, n), weight, stride=s, padding=p,
                        dilation=d).shape[-1]

    theirs = outcome(reference)
    if pairs:
        ours = outcome(lambda: conv_output_shape((n, n), (k, k), (p, p), (s, s), (d, d)))
        if not isinstance(theirs, Raised):
            theirs = (theirs, theirs)
    else:
        ours = outcome(lambda: conv_output_shape(n, k, p, s, d))
    if isinstance(theirs, Raised) or isinstance(ours, Raised):
        names = ("input_size", "kernel_size", "padding", "stride", "dilation", "window")
        check(ours, theirs, names=names)
    else:
        event("both returned")
        assert ours == theirs and type(ours) is type(theirs)


@pytest.mark.parametrize("fn", [corr2d_multi_in_out, corr2d_multi_in_out_1x1])
def test_mixed_float_dtypes_are_promoted_by_both_multi_channel_ops(fn):
    X = torch.randn(2, 3, 3)
    K = torch.randn(4, 2, 1, 1, dtype=torch.float64)
    Y = fn(X, K)
    assert Y.dtype == torch.float64
    torch.testing.assert_close(Y, F.conv2d(X[None].double(), K)[0])
