"""Layers written from scratch: the convolution of D2L 7.2 and the batch norm of D2L 8.5.

Both are plain ``nn.Module``s whose parameters have the same meaning as PyTorch's, so the
tests can hold them next to ``nn.Conv2d`` and ``nn.BatchNorm1d``/``nn.BatchNorm2d``.
See https://d2l.ai/chapter_convolutional-neural-networks/conv-layer.html and
https://d2l.ai/chapter_convolutional-modern/batch-norm.html.
"""

from __future__ import annotations

import operator

import torch
from torch import nn

from cnnlib.ops import IntPair, as_pair, corr2d

__all__ = ["Conv2D", "batch_norm", "BatchNorm"]


class Conv2D(nn.Module):
    """A single-channel convolutional layer built on the loop in :func:`cnnlib.ops.corr2d`.

    Slow on purpose: it is the lesson's layer, not a replacement for ``nn.Conv2d``.

    Args:
        kernel_size: kernel height and width, int or (kh, kw).
        dtype: parameter dtype; ``torch.float64`` lets ``gradcheck`` run through the layer.

    Shape:
        input (H, W) -> output (H - kh + 1, W - kw + 1).

    Raises:
        TypeError: a ``kernel_size`` that is not an int or a pair of ints, or a ``dtype``
            that is not a floating-point ``torch.dtype``.
        ValueError: a ``kernel_size`` below 1.
    """

    def __init__(self, kernel_size: IntPair, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        kernel_size = as_pair(kernel_size, "kernel_size")
        if min(kernel_size) < 1:
            raise ValueError(f"kernel_size must be >= 1 in both dimensions, got {kernel_size}")
        if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            # A learned kernel needs gradients, which only floating-point tensors carry.
            raise TypeError(
                f"dtype must be a floating-point torch.dtype such as torch.float32 or "
                f"torch.float64 (or None for the default), got {dtype!r}"
            )
        # Uniform in [0, 1) as in the notes; training, not the start, finds the edge detector.
        self.weight = nn.Parameter(torch.rand(kernel_size, dtype=dtype))
        self.bias = nn.Parameter(torch.zeros(1, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return corr2d(x, self.weight) + self.bias

    def extra_repr(self) -> str:
        return f"kernel_size={tuple(self.weight.shape)}, dtype={self.weight.dtype}"


def _as_int(value: object, name: str) -> int:
    """``value`` as a Python int (NumPy integers too); TypeError for floats, bools and the rest."""
    try:
        if isinstance(value, bool):
            raise TypeError
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})") from None


def _check_input(X: object, who: str) -> None:
    """Raise TypeError unless ``X`` is a floating-point tensor (what the statistics need)."""
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"{who} expects X to be a torch.Tensor, got {type(X).__name__}")
    if not X.is_floating_point():
        raise TypeError(
            f"{who} expects a floating-point X (means and variances), got X.dtype={X.dtype}; "
            f"convert it with X.float()"
        )


def batch_norm(
    X: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    moving_mean: torch.Tensor,
    moving_var: torch.Tensor,
    eps: float,
    momentum: float,
    training: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Batch normalisation with the exact arithmetic of ``nn.BatchNorm1d``/``nn.BatchNorm2d``.

    In training the batch's own statistics normalise X and are blended into the moving
    averages; in evaluation the moving averages normalise X and are returned unchanged.

    Differences from D2L's book code (8.5), which we keep so results match PyTorch:

    * the mode comes from ``training`` (the module's ``self.training``), not from
      ``torch.is_grad_enabled()``, so ``model.eval()`` alone switches to the moving stats;
    * the moving variance is fed the *unbiased* batch variance (divide by n - 1), as PyTorch
      does, while X is normalised with the *biased* one (divide by n); the book feeds the
      biased variance to both, so its moving variance runs slightly low for small batches.

    Both use ``moving = (1 - momentum) * moving + momentum * batch`` with momentum 0.1.

    Args:
        X: input of shape (N, C) after a fully connected layer or (N, C, H, W) after a
            convolution; statistics are per feature/channel C.
        gamma: scale with C elements, e.g. shape (C,) or D2L's (1, C, 1, 1).
        beta: shift with C elements.
        moving_mean: running mean with C elements.
        moving_var: running variance with C elements.
        eps: added to the variance before the square root.
        momentum: weight of the new batch in the moving averages.
        training: use batch statistics and update the moving ones.

    Returns:
        ``(Y, new_moving_mean, new_moving_var)``: Y has X's shape; the moving statistics
        keep the shape they came in and carry no autograd history.

    Raises:
        TypeError: X or a parameter that is not a tensor, or X of an integer/bool dtype.
        ValueError: X not 2-D/4-D or with no channels, parameters that do not have C
            elements, or a training batch with a single value per channel (its variance is
            undefined).
    """
    _check_input(X, "batch_norm")
    if X.dim() not in (2, 4):
        raise ValueError(
            f"batch_norm expects X of shape (N, C) or (N, C, H, W), got X.shape={tuple(X.shape)}"
        )
    num_features = X.shape[1]
    if num_features == 0:
        raise ValueError(
            f"batch_norm needs at least one channel, got X.shape={tuple(X.shape)} (C = 0)"
        )
    for name, T in (("gamma", gamma), ("beta", beta), ("moving_mean", moving_mean),
                    ("moving_var", moving_var)):
        if not isinstance(T, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(T).__name__}")
        if T.numel() != num_features:
            raise ValueError(
                f"{name} has {T.numel()} elements but X has {num_features} channels "
                f"(X.shape={tuple(X.shape)})"
            )
    dims = (0,) if X.dim() == 2 else (0, 2, 3)  # every axis except the channel axis
    shape = (1, num_features) + (1,) * (X.dim() - 2)  # broadcasts against X: (1, C[, 1, 1])
    if training:
        n = X.numel() // num_features  # values per channel
        if n < 2:
            raise ValueError(
                f"training batch norm needs more than 1 value per channel, got X.shape="
                f"{tuple(X.shape)}; use a larger batch or call .eval()"
            )
        mean = X.mean(dim=dims, keepdim=True)
        var = ((X - mean) ** 2).mean(dim=dims, keepdim=True)  # biased: used to normalise
        X_hat = (X - mean) / torch.sqrt(var + eps)
        with torch.no_grad():  # the moving averages are statistics, not part of the graph
            unbiased_var = var * (n / (n - 1))
            new_mean = (1.0 - momentum) * moving_mean + momentum * mean.reshape(
                moving_mean.shape
            )
            new_var = (1.0 - momentum) * moving_var + momentum * unbiased_var.reshape(
                moving_var.shape
            )
    else:
        mean = moving_mean.reshape(shape)
        var = moving_var.reshape(shape)
        X_hat = (X - mean) / torch.sqrt(var + eps)
        new_mean, new_var = moving_mean.detach(), moving_var.detach()
    Y = gamma.reshape(shape) * X_hat + beta.reshape(shape)  # scale and shift
    return Y, new_mean, new_var


class BatchNorm(nn.Module):
    """Batch normalisation from scratch, interchangeable with ``nn.BatchNorm1d/2d``.

    Args:
        num_features: channels C (outputs of the preceding Linear or Conv2d).
        num_dims: 2 after a fully connected layer (input (N, C)), 4 after a convolution
            (input (N, C, H, W)).
        eps: added to the variance before the square root.
        momentum: weight of each new batch in the moving averages.

    Attributes:
        gamma, beta: learnable scale (ones) and shift (zeros), shape (C,).
        moving_mean, moving_var: buffers (zeros, ones), shape (C,); they follow ``.to()``
            and are saved in the ``state_dict`` but are not trained by the optimiser.
    """

    def __init__(
        self, num_features: int, num_dims: int, eps: float = 1e-5, momentum: float = 0.1
    ) -> None:
        super().__init__()
        num_features = _as_int(num_features, "num_features")
        num_dims = _as_int(num_dims, "num_dims")
        if num_dims not in (2, 4):
            raise ValueError(
                f"num_dims must be 2 (after nn.Linear) or 4 (after nn.Conv2d), got {num_dims}"
            )
        if num_features < 1:
            raise ValueError(f"num_features must be >= 1, got {num_features}")
        self.num_features = num_features
        self.num_dims = num_dims
        self.eps = eps
        self.momentum = momentum
        self.gamma = nn.Parameter(torch.ones(num_features))
        self.beta = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("moving_mean", torch.zeros(num_features))
        self.register_buffer("moving_var", torch.ones(num_features))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        _check_input(X, f"BatchNorm(num_features={self.num_features})")
        if X.dim() != self.num_dims:
            expected = "(N, C)" if self.num_dims == 2 else "(N, C, H, W)"
            raise ValueError(
                f"BatchNorm(num_dims={self.num_dims}) expects {self.num_dims}-D input "
                f"{expected}, got X.shape={tuple(X.shape)}"
            )
        if X.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm(num_features={self.num_features}) got {X.shape[1]} channels "
                f"(X.shape={tuple(X.shape)})"
            )
        Y, new_mean, new_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var,
            eps=self.eps, momentum=self.momentum, training=self.training,
        )
        if self.training:
            with torch.no_grad():
                self.moving_mean.copy_(new_mean)
                self.moving_var.copy_(new_var)
        return Y

    def extra_repr(self) -> str:
        return (
            f"num_features={self.num_features}, num_dims={self.num_dims}, "
            f"eps={self.eps}, momentum={self.momentum}"
        )
