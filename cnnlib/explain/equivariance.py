"""Section 7.1's two claims, as numbers: convolutions shift with the image, and cost little.

A convolution applies one kernel at every position, so shifting its input shifts its
output by the same amount (translation *equivariance*). A dense layer has its own weight
for every (input pixel, output unit) pair, so a shifted input gives an unrelated output,
unless its weights happen to be tied the way a convolution ties them: the convolution
*is* a dense layer whose every row holds the same kernel weights, at the columns of
that output's window, and zeros elsewhere (:func:`conv_as_dense`). The functions here
compute those comparisons for the 7.1 explorers; the pictures are in
:mod:`cnnlib.viz.equivariance`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


def shift_image(X: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``X`` moved ``dy`` rows down and ``dx`` columns right (negative: up, left), zero-filled.

    Pixels moved past the border are lost; the uncovered strip is black (0), the
    Fashion-MNIST background.

    Args:
        X: an image ``(H, W)``.
        dy, dx: whole-pixel shifts, each smaller than the image in magnitude.

    Raises:
        ValueError: for a shift as large as the image, or an ``X`` that is not 2-D.
        TypeError: for non-integer shifts.
    """
    if X.ndim != 2:
        raise ValueError(f"shift_image expects one image (H, W), got shape {tuple(X.shape)}")
    height, width = X.shape
    for name, value, size in (("dy", dy, height), ("dx", dx, width)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be a whole number of pixels, got {value!r}")
        if abs(value) >= size:
            raise ValueError(f"|{name}| = {abs(value)} would move the whole {size}-pixel image "
                             f"out of view; use a shift of at most {size - 1}")
    out = torch.zeros_like(X)
    out[max(dy, 0):height + min(dy, 0), max(dx, 0):width + min(dx, 0)] = \
        X[max(-dy, 0):height - max(dy, 0), max(-dx, 0):width - max(dx, 0)]
    return out


def overlap(size: tuple[int, int], dy: int, dx: int) -> tuple[slice, slice, slice, slice]:
    """Where a map and its copy shifted by ``(dy, dx)`` both hold the same content.

    Returns:
        ``(rows, cols, shifted_rows, shifted_cols)``: ``Y[rows, cols]`` corresponds to
        ``Y_shifted[shifted_rows, shifted_cols]``.
    """
    height, width = size
    # A shift as large as the map leaves nothing in common: empty slices. (A negative end
    # would count from the far side and pair up rows that do not correspond.)
    rows = slice(max(-dy, 0), max(height - max(dy, 0), 0))
    cols = slice(max(-dx, 0), max(width - max(dx, 0), 0))
    return (rows, cols, slice(max(dy, 0), max(height + min(dy, 0), 0)),
            slice(max(dx, 0), max(width + min(dx, 0), 0)))


def conv_as_dense(K: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The dense matrix that computes ``corr2d(X, K)`` for ``X`` of shape ``size``.

    Row ``i * W' + j`` holds the kernel placed at output position ``(i, j)`` and zeros
    elsewhere: ``(conv_as_dense(K, X.shape) @ X.flatten()).reshape(H', W')`` equals the
    valid cross-correlation. Built by correlating every one-pixel image with ``K``.

    Returns:
        ``(H' * W', H * W)`` with ``H' = H - kh + 1`` and ``W' = W - kw + 1``.
    """
    height, width = size
    basis = torch.eye(height * width, dtype=K.dtype).reshape(-1, 1, height, width)
    # Column p of the matrix is the output for the image whose only nonzero pixel is p.
    columns = F.conv2d(basis, K[None, None])  # (H*W, 1, H', W')
    return columns.flatten(1).T.contiguous()


def random_dense(in_features: int, out_features: int, seed: int = 0) -> nn.Linear:
    """A dense layer with PyTorch's default initialisation, made reproducibly from ``seed``."""
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        layer = nn.Linear(in_features, out_features, bias=False)
    finally:
        torch.random.set_rng_state(generator_state)  # leave the reader's random stream alone
    return layer.requires_grad_(False)


@dataclass(frozen=True)
class ShiftComparison:
    """One image, its shifted copy, and what a convolution and a dense layer make of them.

    Attributes:
        X, X_shifted: the images ``(H, W)``.
        conv, conv_shifted: the convolution's maps ``(H', W')``.
        dense, dense_shifted: the dense layer's outputs, shaped like the maps.
        conv_error: largest ``|conv_shifted - conv moved by (dy, dx)|`` where both maps see
            the same pixels (0 up to rounding: equivariance).
        dense_error: the same for the dense layer.
        scale: the largest ``|value|`` of either dense output, to put errors in proportion.
    """

    dy: int
    dx: int
    X: torch.Tensor
    X_shifted: torch.Tensor
    conv: torch.Tensor
    conv_shifted: torch.Tensor
    dense: torch.Tensor
    dense_shifted: torch.Tensor
    conv_error: float
    dense_error: float
    scale: float


def compare_shift(X: torch.Tensor, K: torch.Tensor, dense: torch.Tensor, dy: int, dx: int
                  ) -> ShiftComparison:
    """Shift ``X`` by ``(dy, dx)`` and compare both layers' outputs with their unshifted ones.

    Args:
        X: an image ``(H, W)``.
        K: the convolution's kernel ``(kh, kw)``.
        dense: the dense layer's matrix ``(H' * W', H * W)``, so that its output can be
            shown as a map of the same shape as the convolution's.
    """
    X_shifted = shift_image(X, dy, dx)
    conv, conv_shifted = (F.conv2d(T[None, None], K[None, None])[0, 0] for T in (X, X_shifted))
    out_shape = conv.shape
    if dense.shape != (out_shape.numel(), X.numel()):
        raise ValueError(f"the dense matrix must be {(out_shape.numel(), X.numel())} to map "
                         f"a {tuple(X.shape)} image to a {tuple(out_shape)} map; "
                         f"got {tuple(dense.shape)}")
    dense_out = (dense @ X.flatten()).reshape(out_shape)
    dense_out_shifted = (dense @ X_shifted.flatten()).reshape(out_shape)
    rows, cols, srows, scols = overlap(tuple(out_shape), dy, dx)

    def moved_error(before: torch.Tensor, after: torch.Tensor) -> float:
        diff = after[srows, scols] - before[rows, cols]
        return float(diff.abs().max()) if diff.numel() else 0.0

    return ShiftComparison(
        dy, dx, X, X_shifted, conv, conv_shifted, dense_out, dense_out_shifted,
        conv_error=moved_error(conv, conv_shifted),
        dense_error=moved_error(dense_out, dense_out_shifted),
        scale=float(torch.maximum(dense_out.abs().max(), dense_out_shifted.abs().max())),
    )


@dataclass(frozen=True)
class LayerCounts:
    """Parameters of a dense layer and a convolution mapping the same image to the same shape.

    The dense layer maps the ``c_in × side × side`` image to a hidden image of ``c_out ×
    side × side`` values (as in D2L's argument: the hidden representation is itself an
    image); the convolution does the same with a ``kernel × kernel`` kernel and padding
    that keeps the size. Counts are PyTorch's, from modules built on the ``meta`` device.
    """

    side: int
    kernel: int
    c_in: int
    c_out: int
    dense: int
    conv: int

    @property
    def ratio(self) -> float:
        return self.dense / self.conv


def layer_counts(side: int, kernel: int, c_in: int, c_out: int) -> LayerCounts:
    """Count both layers' parameters (weights and biases) by building them on ``meta``.

    Raises:
        ValueError: for a size or count below 1, or a kernel larger than the image.
    """
    for name, value in (("side", side), ("kernel", kernel), ("c_in", c_in), ("c_out", c_out)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
    if kernel > side:
        raise ValueError(f"a {kernel}×{kernel} kernel does not fit a {side}×{side} image")
    dense = nn.Linear(c_in * side * side, c_out * side * side, device="meta")
    conv = nn.Conv2d(c_in, c_out, kernel, padding="same", device="meta")
    count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
    return LayerCounts(side, kernel, c_in, c_out, count(dense), count(conv))
