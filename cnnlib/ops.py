"""Convolution and pooling written out by hand, plus the shape arithmetic around them.

Every function here is pure: tensors in, tensors (or numbers) out, no state. They follow
D2L sections 7.2-7.5 (https://d2l.ai/chapter_convolutional-neural-networks/index.html) and
are tested against ``torch.nn.functional``, so a notebook can write the lesson's version and
check it against these. The receptive-field helpers at the end answer "which input pixels
does this output unit see?" for a stack of conv/pool layers.

Shapes use the book's letters: ``X`` is the input, ``K`` the kernel, ``H, W`` the input's
height and width, ``kh, kw`` the kernel's, and ``C_in, C_out`` channel counts.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

IntPair = int | tuple[int, int]

__all__ = [
    "corr2d",
    "corr2d_vectorized",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_multi_in_out_1x1",
    "pool2d",
    "conv_output_shape",
]


# --------------------------------------------------------------------------- validation


def _pair(value: IntPair, name: str) -> tuple[int, int]:
    """Turn an int or an (h, w) pair into an (h, w) tuple of ints."""
    if isinstance(value, bool):  # bool is an int subclass; True as a size is a bug
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, (tuple, list, torch.Size)) and len(value) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return (int(value[0]), int(value[1]))
    raise TypeError(f"{name} must be an int or a pair of ints (h, w), got {value!r}")


def _check_at_least(pair: tuple[int, int], minimum: int, name: str) -> None:
    """Raise ValueError unless both entries of ``pair`` are >= ``minimum``."""
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum} in both dimensions, got {pair}")


def _check_float_tensor(T: object, name: str) -> None:
    """Raise TypeError unless ``T`` is a floating-point tensor."""
    if not isinstance(T, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(T).__name__}")
    if not T.is_floating_point():
        raise TypeError(
            f"{name} has dtype {T.dtype}, but these ops need floating point "
            f"(sums of products and averages); convert it with {name}.float()"
        )


def _check_corr2d_args(X: object, K: object) -> None:
    """The checks shared by :func:`corr2d` and :func:`corr2d_vectorized`."""
    _check_float_tensor(X, "X")
    _check_float_tensor(K, "K")
    if X.dim() != 2 or K.dim() != 2:
        raise ValueError(
            f"corr2d needs a 2-D input X (H, W) and a 2-D kernel K (kh, kw), got "
            f"X.shape={tuple(X.shape)} and K.shape={tuple(K.shape)}; for channels use "
            f"corr2d_multi_in or corr2d_multi_in_out"
        )
    if K.shape[0] > X.shape[0] or K.shape[1] > X.shape[1]:
        raise ValueError(
            f"kernel K.shape={tuple(K.shape)} is larger than input X.shape={tuple(X.shape)} "
            f"in at least one dimension; pad the input or use a smaller kernel"
        )


def _drop_batch_axis(T: torch.Tensor, name: str, canonical: str) -> torch.Tensor:
    """Drop a leading size-1 axis from a 4-D tensor, so the notes' ``[[[[...]]]]`` works.

    The notes build X for section 7.4 with one extra pair of brackets, i.e. a batch of one;
    accepting that keeps their code running while the canonical shapes stay 3-D.
    """
    _check_float_tensor(T, name)
    if T.dim() == 4 and T.shape[0] == 1:
        T = T[0]
    if T.dim() != 3:
        raise ValueError(f"{name} must have shape {canonical}, got {name}.shape={tuple(T.shape)}")
    return T


def _check_channels(c_x: int, c_k: int) -> None:
    if c_x != c_k:
        raise ValueError(
            f"X has {c_x} input channels but K has {c_k}; they must match "
            f"(X is (C_in, H, W), K is (C_in, kh, kw) or (C_out, C_in, kh, kw))"
        )


# --------------------------------------------------------------------------- cross-correlation


def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """2-D cross-correlation, written as the readable double loop of D2L 7.2.

    Args:
        X: input of shape (H, W), floating point.
        K: kernel of shape (kh, kw) with kh <= H and kw <= W.

    Returns:
        Tensor of shape (H - kh + 1, W - kw + 1) and dtype ``torch.result_type(X, K)``.
        Gradients flow to both X and K, so a from-scratch layer can train through it.

    Raises:
        TypeError: a non-tensor, or an integer/bool dtype.
        ValueError: a non-2-D argument, or a kernel larger than the input.
    """
    _check_corr2d_args(X, K)
    kh, kw = K.shape
    dtype = torch.result_type(X, K)  # float64 in, float64 out: gradcheck needs it
    Y = torch.zeros((X.shape[0] - kh + 1, X.shape[1] - kw + 1), dtype=dtype, device=X.device)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + kh, j : j + kw] * K).sum()
    return Y


def corr2d_vectorized(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Same result as :func:`corr2d`, without a Python loop over output positions.

    ``unfold`` gives a strided view of every kh x kw window (no copy), and one ``einsum``
    takes the elementwise product with K and sums each window.

    Args:
        X: input of shape (H, W), floating point.
        K: kernel of shape (kh, kw) with kh <= H and kw <= W.

    Returns:
        Tensor of shape (H - kh + 1, W - kw + 1) and dtype ``torch.result_type(X, K)``.

    Raises:
        TypeError: a non-tensor, or an integer/bool dtype.
        ValueError: a non-2-D argument, or a kernel larger than the input.
    """
    _check_corr2d_args(X, K)
    kh, kw = K.shape
    dtype = torch.result_type(X, K)  # einsum wants one dtype
    windows = X.to(dtype).unfold(0, kh, 1).unfold(1, kw, 1)  # (H', W', kh, kw)
    return torch.einsum("ijkl,kl->ij", windows, K.to(dtype))


def corr2d_multi_in(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlate each input channel with its own kernel slice and sum (D2L 7.4).

    Args:
        X: input of shape (C_in, H, W); a leading batch axis of size 1 is also accepted.
        K: kernel of shape (C_in, kh, kw); a leading axis of size 1 (one output channel in
            ``nn.Conv2d``'s (C_out, C_in, kh, kw) layout) is also accepted.

    Returns:
        Tensor of shape (H - kh + 1, W - kw + 1).

    Raises:
        ValueError: wrong ranks or mismatched channel counts.
    """
    X = _drop_batch_axis(X, "X", "(C_in, H, W)")
    K = _drop_batch_axis(K, "K", "(C_in, kh, kw)")
    _check_channels(X.shape[0], K.shape[0])
    return sum(corr2d_vectorized(x, k) for x, k in zip(X, K, strict=True))


def corr2d_multi_in_out(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """One multi-input cross-correlation per output channel, stacked (D2L 7.4).

    Args:
        X: input of shape (C_in, H, W); a leading batch axis of size 1 is also accepted.
        K: kernel of shape (C_out, C_in, kh, kw), the layout of ``nn.Conv2d.weight``.

    Returns:
        Tensor of shape (C_out, H - kh + 1, W - kw + 1).

    Raises:
        ValueError: wrong ranks or mismatched channel counts.
    """
    X = _drop_batch_axis(X, "X", "(C_in, H, W)")
    _check_float_tensor(K, "K")
    if K.dim() != 4:
        raise ValueError(f"K must have shape (C_out, C_in, kh, kw), got K.shape={tuple(K.shape)}")
    _check_channels(X.shape[0], K.shape[1])
    return torch.stack([corr2d_multi_in(X, k) for k in K], 0)


def corr2d_multi_in_out_1x1(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """A 1x1 convolution as the matrix product it really is (D2L 7.4).

    Every pixel's channel vector is multiplied by the same (C_out, C_in) matrix, so the
    spatial positions can be laid side by side as the columns of one matrix.

    Args:
        X: input of shape (C_in, H, W); a leading batch axis of size 1 is also accepted.
        K: kernel of shape (C_out, C_in, 1, 1).

    Returns:
        Tensor of shape (C_out, H, W).

    Raises:
        ValueError: wrong ranks, a kernel that is not 1x1, or mismatched channel counts.
    """
    X = _drop_batch_axis(X, "X", "(C_in, H, W)")
    _check_float_tensor(K, "K")
    if K.dim() != 4 or K.shape[2:] != (1, 1):
        raise ValueError(f"K must have shape (C_out, C_in, 1, 1), got K.shape={tuple(K.shape)}")
    c_in, h, w = X.shape
    c_out = K.shape[0]
    _check_channels(c_in, K.shape[1])
    X = X.reshape((c_in, h * w))  # (C_in, H*W): one column per pixel
    K = K.reshape((c_out, c_in))  # (C_out, C_in)
    Y = torch.matmul(K, X)  # (C_out, H*W)
    return Y.reshape((c_out, h, w))


# --------------------------------------------------------------------------- shapes and pooling


def conv_output_shape(
    input_size: IntPair,
    kernel_size: IntPair,
    padding: IntPair = 0,
    stride: IntPair = 1,
    dilation: IntPair = 1,
) -> int | tuple[int, int]:
    """Output size of a convolution or pooling window, as ``nn.Conv2d``/``nn.MaxPool2d``.

    Uses ``floor((n + 2p - d(k - 1) - 1) / s) + 1`` in each dimension.

    Args:
        input_size: input height/width n (int) or (H, W).
        kernel_size: window size k.
        padding: zeros added on each side p.
        stride: step between windows s.
        dilation: gap between kernel taps d (1 means adjacent).

    Returns:
        An int when every argument is an int, otherwise an (h, w) tuple.

    Raises:
        ValueError: negative padding, non-positive size/kernel/stride/dilation, or a
            (dilated) window larger than the padded input.
    """
    args = (input_size, kernel_size, padding, stride, dilation)
    all_ints = all(isinstance(a, int) and not isinstance(a, bool) for a in args)
    n = _pair(input_size, "input_size")
    k = _pair(kernel_size, "kernel_size")
    p = _pair(padding, "padding")
    s = _pair(stride, "stride")
    d = _pair(dilation, "dilation")
    _check_at_least(n, 1, "input_size")
    _check_at_least(k, 1, "kernel_size")
    _check_at_least(p, 0, "padding")
    _check_at_least(s, 1, "stride")
    _check_at_least(d, 1, "dilation")
    out = []
    for dim in range(2):
        span = d[dim] * (k[dim] - 1) + 1  # how far the dilated window reaches
        padded = n[dim] + 2 * p[dim]
        if span > padded:
            raise ValueError(
                f"window of size {span} (kernel_size={k[dim]}, dilation={d[dim]}) is larger "
                f"than the padded input {padded} (input {n[dim]} + 2*padding {p[dim]}); "
                f"use more padding or a smaller kernel"
            )
        out.append((padded - span) // s[dim] + 1)
    return out[0] if all_ints else (out[0], out[1])


def pool2d(
    X: torch.Tensor,
    pool_size: IntPair,
    mode: str = "max",
    padding: IntPair = 0,
    stride: IntPair | None = None,
) -> torch.Tensor:
    """Max or average pooling with the semantics of ``nn.MaxPool2d``/``nn.AvgPool2d``.

    The stride defaults to the window size, as in PyTorch (D2L's loop in 7.5 uses stride 1:
    call ``pool2d(X, 2, stride=1)`` to compare with it). Max pooling pads with -inf so a
    padded cell never wins; average pooling pads with zeros and counts them, like
    ``count_include_pad=True``.

    Args:
        X: input of shape (H, W), (C, H, W) or (N, C, H, W); channels are pooled separately.
        pool_size: window size, int or (ph, pw).
        mode: ``'max'`` or ``'avg'``.
        padding: cells added on each side, at most half the window (PyTorch's rule).
        stride: step between windows; ``None`` means ``pool_size``.

    Returns:
        Tensor of shape (..., H', W') with H', W' from :func:`conv_output_shape`.

    Raises:
        TypeError: a non-tensor or an integer/bool dtype.
        ValueError: an unknown mode, a bad rank, bad window/padding/stride numbers, or a
            window larger than the padded input.
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    _check_float_tensor(X, "X")
    if X.dim() not in (2, 3, 4):
        raise ValueError(
            f"X must have shape (H, W), (C, H, W) or (N, C, H, W), got X.shape={tuple(X.shape)}"
        )
    ph, pw = _pair(pool_size, "pool_size")
    pad_h, pad_w = _pair(padding, "padding")
    sh, sw = _pair(pool_size if stride is None else stride, "stride")
    _check_at_least((ph, pw), 1, "pool_size")
    _check_at_least((pad_h, pad_w), 0, "padding")
    if pad_h > ph // 2 or pad_w > pw // 2:
        # A window made only of padding would have no real cell to pool; PyTorch forbids it.
        raise ValueError(
            f"padding {(pad_h, pad_w)} must be at most half of pool_size {(ph, pw)}"
        )
    out_h, out_w = conv_output_shape(tuple(X.shape[-2:]), (ph, pw), (pad_h, pad_w), (sh, sw))
    fill = float("-inf") if mode == "max" else 0.0
    X = F.pad(X, (pad_w, pad_w, pad_h, pad_h), value=fill)  # (..., H + 2p, W + 2p)
    Y = X.new_zeros(X.shape[:-2] + (out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = X[..., i * sh : i * sh + ph, j * sw : j * sw + pw]  # (..., ph, pw)
            if mode == "max":
                Y[..., i, j] = window.amax(dim=(-2, -1))
            else:
                Y[..., i, j] = window.mean(dim=(-2, -1))
    return Y
