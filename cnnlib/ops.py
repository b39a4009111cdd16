"""Convolution and pooling written out by hand, plus the shape arithmetic around them.

Every function here is pure: tensors in, tensors (or numbers) out, no state. They follow
D2L sections 7.2-7.5 (https://d2l.ai/chapter_convolutional-neural-networks/index.html) and
are tested against ``torch.nn.functional``, so a notebook can write the lesson's version and
check it against these. The receptive-field helpers at the end answer "which input pixels
does this output unit see?" for a stack of conv/pool layers.

Shapes use the book's letters: ``X`` is the input, ``K`` the kernel, ``H, W`` the input's
height and width, ``kh, kw`` the kernel's, and ``C_in, C_out`` channel counts.

Bad input gets a ``ValueError`` or ``TypeError`` that names the argument, its shape or
dtype and what would be accepted, wherever PyTorch refuses it too (an empty kernel, a
window larger than the input, zero output channels, a zero stride, ...); a result is
always a tensor. Where these functions differ from ``torch.nn.functional`` they do so on
purpose (``tests/test_ops_properties.py`` holds them to it): integer and bool tensors
are refused (the lessons' sums and averages are floating point); float32 and float64
arguments are promoted to float64 where ``F.conv2d`` refuses the mix; zero input channels
are refused where ``F.conv2d`` returns an empty tensor; and ``pool2d`` also takes a single
(H, W) map.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

IntPair = int | tuple[int, int]

__all__ = [
    "corr2d",
    "corr2d_vectorized",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_multi_in_out_1x1",
    "pool2d",
    "conv_output_shape",
    "LayerSpec",
    "RFInfo",
    "layer_specs",
    "receptive_field",
    "input_region",
    "SlidingWindow",
    "size_formula",
]


# --------------------------------------------------------------------------- validation


def as_pair(value: IntPair, name: str, minimum: int | None = None) -> tuple[int, int]:
    """Turn an int or an (h, w) pair into an (h, w) tuple of ints, as ``nn.Conv2d`` reads sizes.

    Args:
        value: one int for both directions, or a pair (tuple, list or ``torch.Size``).
        name: the argument's name, for the error message.
        minimum: when given, the smallest value allowed in each direction.

    Raises:
        TypeError: for anything but an int or a pair of ints (``name`` is in the message).
        ValueError: for a value below ``minimum``.
    """
    pair = _as_pair(value, name)
    if minimum is not None:
        _check_at_least(pair, minimum, name)
    return pair


def _as_pair(value: IntPair, name: str) -> tuple[int, int]:
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
    _check_window(X, K)


def _check_window(X: torch.Tensor, K: torch.Tensor) -> None:
    """The kernel's last two axes (kh, kw) must be >= 1 and fit in X's last two (H, W)."""
    kh, kw = K.shape[-2:]
    if kh == 0 or kw == 0:
        raise ValueError(
            f"kernel K.shape={tuple(K.shape)} is empty; a kernel needs at least one row and "
            f"one column (kh, kw >= 1), as in F.conv2d"
        )
    if kh > X.shape[-2] or kw > X.shape[-1]:
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


def _check_channels(X: torch.Tensor, K: torch.Tensor, c_k: int) -> None:
    """X's channel count must equal K's ``c_k`` and be at least 1."""
    c_x = X.shape[0]
    if c_x != c_k:
        raise ValueError(
            f"X has {c_x} input channels but K has {c_k}; they must match "
            f"(X is (C_in, H, W), K is (C_in, kh, kw) or (C_out, C_in, kh, kw))"
        )
    if c_x == 0:
        # F.conv2d returns an empty tensor with 0 output channels here, whatever K says;
        # a sum over no channels has no meaning in the lesson, so say so instead.
        raise ValueError(
            f"X has 0 input channels (X.shape={tuple(X.shape)}, K.shape={tuple(K.shape)}); "
            f"a convolution needs C_in >= 1"
        )


def _check_output_channels(K: torch.Tensor) -> None:
    if K.shape[0] == 0:
        raise ValueError(
            f"K has 0 output channels (K.shape={tuple(K.shape)}); "
            f"K must have shape (C_out, C_in, kh, kw) with C_out >= 1, as in F.conv2d"
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
        TypeError: a non-tensor, or an integer/bool dtype.
        ValueError: wrong ranks, zero or mismatched channel counts, an empty kernel, or a
            kernel larger than the input.
    """
    X = _drop_batch_axis(X, "X", "(C_in, H, W)")
    K = _drop_batch_axis(K, "K", "(C_in, kh, kw)")
    _check_channels(X, K, K.shape[0])
    _check_window(X, K)
    Y = corr2d_vectorized(X[0], K[0])  # C_in >= 1: the sum below is always a tensor
    for x, k in zip(X[1:], K[1:], strict=True):
        Y = Y + corr2d_vectorized(x, k)
    return Y


def corr2d_multi_in_out(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """One multi-input cross-correlation per output channel, stacked (D2L 7.4).

    Args:
        X: input of shape (C_in, H, W); a leading batch axis of size 1 is also accepted.
        K: kernel of shape (C_out, C_in, kh, kw), the layout of ``nn.Conv2d.weight``.

    Returns:
        Tensor of shape (C_out, H - kh + 1, W - kw + 1).

    Raises:
        TypeError: a non-tensor, or an integer/bool dtype.
        ValueError: wrong ranks, zero or mismatched channel counts, an empty kernel, or a
            kernel larger than the input.
    """
    X = _drop_batch_axis(X, "X", "(C_in, H, W)")
    _check_float_tensor(K, "K")
    if K.dim() != 4:
        raise ValueError(f"K must have shape (C_out, C_in, kh, kw), got K.shape={tuple(K.shape)}")
    _check_channels(X, K, K.shape[1])
    _check_output_channels(K)
    _check_window(X, K)
    return torch.stack([corr2d_multi_in(X, k) for k in K], 0)


def corr2d_multi_in_out_1x1(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """A 1x1 convolution as the matrix product it really is (D2L 7.4).

    Every pixel's channel vector is multiplied by the same (C_out, C_in) matrix, so the
    spatial positions can be laid side by side as the columns of one matrix.

    Args:
        X: input of shape (C_in, H, W); a leading batch axis of size 1 is also accepted.
        K: kernel of shape (C_out, C_in, 1, 1).

    Returns:
        Tensor of shape (C_out, H, W) and dtype ``torch.result_type(X, K)``, like
        :func:`corr2d_multi_in_out`.

    Raises:
        TypeError: a non-tensor, or an integer/bool dtype.
        ValueError: wrong ranks, a kernel that is not 1x1, zero or mismatched channel
            counts, or an input without pixels.
    """
    X = _drop_batch_axis(X, "X", "(C_in, H, W)")
    _check_float_tensor(K, "K")
    if K.dim() != 4 or K.shape[2:] != (1, 1):
        raise ValueError(f"K must have shape (C_out, C_in, 1, 1), got K.shape={tuple(K.shape)}")
    c_in, h, w = X.shape
    c_out = K.shape[0]
    _check_channels(X, K, K.shape[1])
    _check_output_channels(K)
    if h == 0 or w == 0:
        raise ValueError(
            f"X.shape={tuple(X.shape)} has no pixels; even a 1x1 kernel needs H, W >= 1"
        )
    dtype = torch.result_type(X, K)  # float32 with float64 gives float64, as elsewhere here
    X, K = X.to(dtype), K.to(dtype)
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

    Uses ``floor((n + 2p - d(k - 1) - 1) / s) + 1`` in each dimension. ``p`` counts the
    zeros on *each* side, as ``nn.Conv2d``'s ``padding`` does; D2L 7.3 counts the total
    ``p_h = 2p`` and writes the same size, for ``d = 1``, as ``floor((n - k + p_h + s) / s)``.

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
    n = as_pair(input_size, "input_size")
    k = as_pair(kernel_size, "kernel_size")
    p = as_pair(padding, "padding")
    s = as_pair(stride, "stride")
    d = as_pair(dilation, "dilation")
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
    if 0 in X.shape[-3:]:  # only a batch of 0 is allowed, as in F.max_pool2d
        raise ValueError(
            f"X.shape={tuple(X.shape)} is empty in a channel or spatial dimension; "
            f"pooling needs C, H, W >= 1 (only the batch N may be 0)"
        )
    ph, pw = as_pair(pool_size, "pool_size")
    pad_h, pad_w = as_pair(padding, "padding")
    sh, sw = as_pair(pool_size if stride is None else stride, "stride")
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


# --------------------------------------------------------------------------- receptive fields


@dataclass(frozen=True)
class LayerSpec:
    """The geometry of one conv or pool layer, which is all a receptive field depends on.

    Int arguments are stored as (h, w) pairs, so ``LayerSpec("c", 3).kernel_size == (3, 3)``.

    Attributes:
        name: label used in tables and error messages, e.g. ``"conv1"``.
        kernel_size: window size (h, w).
        stride: step between windows (h, w).
        padding: cells added on each side (h, w).
        dilation: gap between kernel taps (h, w); 1 means adjacent.
    """

    name: str
    kernel_size: IntPair
    stride: IntPair = 1
    padding: IntPair = 0
    dilation: IntPair = 1

    def __post_init__(self) -> None:
        for field, minimum in (("kernel_size", 1), ("stride", 1), ("padding", 0), ("dilation", 1)):
            pair = as_pair(getattr(self, field), field)
            _check_at_least(pair, minimum, f"layer {self.name!r}: {field}")
            object.__setattr__(self, field, pair)  # frozen dataclass: normalise once

    @classmethod
    def from_module(cls, module: nn.Module, name: str | None = None) -> LayerSpec:
        """Read the geometry of an ``nn.Conv2d``, ``nn.MaxPool2d`` or ``nn.AvgPool2d``.

        The arithmetic models zero padding (or ``-inf`` for max pooling): padded cells
        are not input pixels. A module option that changes which input pixels a unit
        sees in another way is refused rather than silently mis-modelled:
        ``padding_mode='circular'`` (the padding is the opposite edge's pixels),
        ``'reflect'`` and ``'replicate'`` (copies of border pixels), and ``ceil_mode=True``
        (an extra, partly outside window). Options that only change the *values*
        (``groups``, ``bias``, ``count_include_pad``, ``divisor_override``,
        ``return_indices``) do not change the region and are accepted.

        Raises:
            TypeError: any other module.
            ValueError: ``padding_mode`` other than ``'zeros'``, ``ceil_mode=True``, or an
                even ``padding='same'`` window, whose output grid is not described by
                symmetric padding.
        """
        if not isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            raise TypeError(
                f"LayerSpec.from_module takes nn.Conv2d, nn.MaxPool2d or nn.AvgPool2d, "
                f"got {type(module).__name__}"
            )
        name = name or type(module).__name__
        padding_mode = getattr(module, "padding_mode", "zeros")
        if padding_mode != "zeros":
            raise ValueError(
                f"layer {name!r} uses padding_mode={padding_mode!r}: its padded cells are "
                f"copies of input pixels, which the receptive-field arithmetic does not "
                f"model (it treats padding as zeros); only padding_mode='zeros' is supported"
            )
        if getattr(module, "ceil_mode", False):
            raise ValueError(f"layer {name!r} uses ceil_mode=True, which is not supported")
        kernel_size = as_pair(module.kernel_size, "kernel_size")
        dilation = as_pair(getattr(module, "dilation", 1), "dilation")  # AvgPool2d has none
        padding = module.padding
        if padding == "valid":
            padding = 0
        elif padding == "same":
            # PyTorch pads d*(k-1) in total; only an even total splits evenly on both sides.
            total = tuple(d * (k - 1) for k, d in zip(kernel_size, dilation, strict=True))
            if total[0] % 2 or total[1] % 2:
                raise ValueError(
                    f"layer {name!r}: padding='same' with kernel_size={kernel_size} and "
                    f"dilation={dilation} pads unevenly; give the padding as numbers"
                )
            padding = (total[0] // 2, total[1] // 2)
        return cls(name, kernel_size, module.stride, padding, dilation)


# Layers that move or resize the spatial grid in ways LayerSpec does not describe: listing
# the chain without them would give a wrong receptive field, so layer_specs refuses them.
_UNMODELLED_SPATIAL = tuple(
    getattr(nn, name) for name in (
        "Conv1d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
        "MaxPool1d", "MaxPool3d", "AvgPool1d", "AvgPool3d", "LPPool1d", "LPPool2d",
        "LPPool3d", "FractionalMaxPool2d", "FractionalMaxPool3d", "MaxUnpool1d",
        "MaxUnpool2d", "MaxUnpool3d", "Upsample", "PixelShuffle", "PixelUnshuffle", "Fold",
        "Unfold", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d",
        "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
        "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
        "CircularPad2d", "CircularPad3d",
    ) if hasattr(nn, name)
)


def layer_specs(net: nn.Module) -> list[LayerSpec]:
    """The conv/pool layers of a plain chain (LeNet, AlexNet, VGG, NiN), in order.

    Reading stops at the first ``nn.Flatten``, ``nn.Linear`` or adaptive pool, where the
    spatial grid ends. Layers that act on each pixel alone (activations, batch norm,
    dropout) are skipped. Branching models (Inception, residual blocks) are not chains, and
    their layers listed in order would give a wrong receptive field.

    Raises:
        ValueError: a layer that changes the grid in a way :class:`LayerSpec` does not
            model (a padding layer, a transposed convolution, upsampling, a 1-D or 3-D
            window, ...), or a conv/pool option :meth:`LayerSpec.from_module` refuses.
    """
    stop = (nn.Flatten, nn.Linear, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
    specs = []
    for name, module in net.named_modules():
        if isinstance(module, stop):
            break
        if isinstance(module, _UNMODELLED_SPATIAL):
            raise ValueError(
                f"layer {name!r} ({type(module).__name__}) changes the spatial grid in a way "
                f"the receptive-field arithmetic does not model; it handles chains of "
                f"nn.Conv2d, nn.MaxPool2d and nn.AvgPool2d with pointwise layers between them"
            )
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            specs.append(LayerSpec.from_module(module, name))
    return specs


@dataclass(frozen=True)
class RFInfo:
    """Receptive-field facts for the output of one layer of a stack, in input pixels.

    Attributes:
        name: the layer's name.
        size: (h, w) extent of the input patch one output unit sees, padding included.
        jump: (h, w) input-pixel distance between neighbouring output units.
        start: (h, w) centre of output unit (0, 0) in input coordinates; pixel (r, c)
            has centre (r, c), so padding makes this negative and even kernels give halves.
        output_size: (h, w) output grid when an input size was given, else None.
    """

    name: str
    size: tuple[int, int]
    jump: tuple[int, int]
    start: tuple[float, float]
    output_size: tuple[int, int] | None = None


def layer_output_sizes(layers: list[LayerSpec], input_size: IntPair) -> list[tuple[int, int]]:
    """Grid sizes entering the first layer, then after each layer."""
    sizes = [as_pair(input_size, "input_size")]
    _check_at_least(sizes[0], 1, "input_size")
    for spec in layers:
        try:
            size = conv_output_shape(
                sizes[-1], spec.kernel_size, spec.padding, spec.stride, spec.dilation
            )
        except ValueError as err:
            raise ValueError(f"layer {spec.name!r} with input {sizes[-1]}: {err}") from None
        sizes.append(size)
    return sizes


def receptive_field(
    layers: list[LayerSpec], input_size: IntPair | None = None
) -> list[RFInfo]:
    """Receptive field size, jump and centre after every layer of a conv/pool stack.

    Each layer widens the field by (effective kernel - 1) steps of the *incoming* jump and
    multiplies the jump by its stride (https://distill.pub/2019/computing-receptive-fields/).

    Args:
        layers: the stack, first layer first (see :func:`layer_specs`).
        input_size: optional input (H, W) or int; fills in ``output_size``.

    Returns:
        One :class:`RFInfo` per layer.

    Raises:
        ValueError: a window larger than its padded input (naming the layer).
    """
    sizes = layer_output_sizes(layers, input_size) if input_size is not None else None
    size, jump, start = [1, 1], [1, 1], [0.0, 0.0]
    infos = []
    for index, spec in enumerate(layers):
        for dim in range(2):
            span = spec.dilation[dim] * (spec.kernel_size[dim] - 1) + 1
            start[dim] += ((span - 1) / 2 - spec.padding[dim]) * jump[dim]
            size[dim] += (span - 1) * jump[dim]
            jump[dim] *= spec.stride[dim]
        output_size = as_pair(sizes[index + 1], "output_size") if sizes else None
        infos.append(RFInfo(spec.name, tuple(size), tuple(jump), tuple(start), output_size))
    return infos


def input_region(
    layers: list[LayerSpec], out_index: tuple[int, int], input_size: IntPair
) -> tuple[tuple[int, int], tuple[int, int]]:
    """The input pixels that one output unit of a conv/pool stack depends on.

    Walks back from the unit layer by layer, keeping only taps that land on real (not
    padding) cells. The bounds are tight: the first and last rows and columns really do
    contribute. With dilation, or a stride larger than the kernel, some pixels strictly
    inside the box may be skipped.

    Args:
        layers: the stack, first layer first.
        out_index: (i, j) position in the last layer's output grid.
        input_size: input (H, W) or int.

    Returns:
        ``((row_start, row_stop), (col_start, col_stop))`` with exclusive stops, so
        ``X[row_start:row_stop, col_start:col_stop]`` is the region.

    Raises:
        ValueError: an index outside the output grid, a layer whose window does not fit,
            or a unit that sees only padding.
    """
    sizes = layer_output_sizes(layers, input_size)
    out_h, out_w = sizes[-1]
    i, j = out_index
    if not (0 <= i < out_h and 0 <= j < out_w):
        raise ValueError(f"out_index {tuple(out_index)} is outside the output grid {sizes[-1]}")
    bounds = []
    for dim, position in ((0, i), (1, j)):
        units = {position}
        for spec, n_in in zip(reversed(layers), reversed(sizes[:-1]), strict=True):
            k, s = spec.kernel_size[dim], spec.stride[dim]
            p, d = spec.padding[dim], spec.dilation[dim]
            units = {u * s - p + m * d for u in units for m in range(k)}
            units = {t for t in units if 0 <= t < n_in[dim]}  # drop taps on padding
            if not units:
                raise ValueError(
                    f"output unit {tuple(out_index)} sees only padding at layer {spec.name!r}"
                )
        bounds.append((min(units), max(units) + 1))
    return bounds[0], bounds[1]


# --------------------------------------------------------------------------- sliding windows
# Where a window lands, for the pictures of padding, stride and dilation: which cells of the
# padded input one output cell reads, and how many rows/columns no window ever reaches.


@dataclass(frozen=True)
class SlidingWindow:
    """A ``kernel_size`` window sliding over a zero-padded ``input_size`` grid.

    Every field is a ``(height, width)`` pair, as ``nn.Conv2d`` takes them.
    Construct with :meth:`create`, which validates and accepts plain ints.
    """

    input_size: tuple[int, int]
    kernel_size: tuple[int, int]
    padding: tuple[int, int] = (0, 0)
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)

    @classmethod
    def create(
        cls,
        input_size: int | Sequence[int],
        kernel_size: int | Sequence[int],
        padding: int | Sequence[int] = 0,
        stride: int | Sequence[int] = 1,
        dilation: int | Sequence[int] = 1,
    ) -> SlidingWindow:
        """Validate the settings and build the geometry.

        Raises:
            TypeError: if a setting is not an int or a pair of ints.
            ValueError: if a size is out of range, or the (dilated) kernel is
                larger than the padded input so that no window fits.
        """
        window = cls(
            as_pair(input_size, "input_size", 1),
            as_pair(kernel_size, "kernel_size", 1),
            as_pair(padding, "padding", 0),
            as_pair(stride, "stride", 1),
            as_pair(dilation, "dilation", 1),
        )
        # conv_output_shape raises a ValueError naming the numbers when no window fits.
        conv_output_shape(
            window.input_size, window.kernel_size, window.padding, window.stride, window.dilation
        )
        return window

    @property
    def padded_size(self) -> tuple[int, int]:
        """Size of the input after padding: ``n + 2p`` per axis."""
        return self._per_axis(lambda axis: self.input_size[axis] + 2 * self.padding[axis])

    @property
    def span(self) -> tuple[int, int]:
        """Cells one dilated window stretches over: ``d·(k − 1) + 1`` per axis."""
        return self._per_axis(lambda axis: self.dilation[axis] * (self.kernel_size[axis] - 1) + 1)

    @property
    def output_size(self) -> tuple[int, int]:
        """Output ``(height, width)``, from :func:`conv_output_shape`."""
        return tuple(
            conv_output_shape(
                self.input_size, self.kernel_size, self.padding, self.stride, self.dilation
            )
        )  # type: ignore[return-value]

    @property
    def leftover(self) -> tuple[int, int]:
        """Rows and columns at the bottom/right that no window reaches.

        ``(n + 2p − d(k − 1) − 1) mod s`` per axis: nonzero exactly when the
        stride does not tile the padded input.
        """
        return self._per_axis(
            lambda axis: (self.padded_size[axis] - self.span[axis]) % self.stride[axis]
        )

    @property
    def lost_input(self) -> tuple[int, int]:
        """How many of the leftover rows/columns are real input, not padding."""
        return self._per_axis(lambda axis: max(0, self.leftover[axis] - self.padding[axis]))

    @staticmethod
    def _per_axis(value) -> tuple[int, int]:
        return (value(0), value(1))

    def window(self, row: int, col: int) -> tuple[list[int], list[int]]:
        """Rows and columns (padded coordinates) that output cell ``(row, col)`` reads.

        Raises:
            ValueError: if ``(row, col)`` is outside the output.
        """
        out_h, out_w = self.output_size
        if not (0 <= row < out_h and 0 <= col < out_w):
            raise ValueError(
                f"output position ({row}, {col}) is outside the {out_h}x{out_w} output"
            )
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        rows = [row * sh + dh * a for a in range(kh)]
        cols = [col * sw + dw * b for b in range(kw)]
        return rows, cols


def size_formula(
    input_size: int,
    kernel_size: int,
    padding: int = 0,
    stride: int = 1,
    dilation: int = 1,
) -> str:
    """The output-size formula for one axis with the numbers filled in.

    ``⌊(8 + 2·1 − 3)/2⌋ + 1 = 4`` without dilation, and with it
    ``⌊(8 + 2·1 − 2·(3 − 1) − 1)/2⌋ + 1 = 3``. Stride 1 drops the floor.
    """
    n, k, p, s, d = input_size, kernel_size, padding, stride, dilation
    if d == 1:
        numerator = f"{n} + 2·{p} − {k}"
        value = n + 2 * p - k
    else:
        numerator = f"{n} + 2·{p} − {d}·({k} − 1) − 1"
        value = n + 2 * p - d * (k - 1) - 1
    result = value // s + 1
    if s == 1:
        return f"({numerator}) + 1 = {result}"
    return f"⌊({numerator})/{s}⌋ + 1 = {result}"
