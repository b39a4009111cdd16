"""Where tensors live: picking a device, mixed precision, moving batches.

Shared by the trainer and the evaluation helpers so both treat a batch the same way.
"""

from __future__ import annotations

import contextlib

import torch

DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str = "auto") -> torch.device:
    """Turn 'auto'/'cpu'/'cuda'/'mps' into a device that exists here.

    Raises:
        ValueError: for an unknown name or an accelerator this machine lacks.
    """
    mps = getattr(torch.backends, "mps", None)
    has_mps = mps is not None and mps.is_available()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if has_mps else "cpu")
    if name not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' but no CUDA GPU is visible; use device='auto' or 'cpu'")
    if name == "mps" and not has_mps:
        raise ValueError("device='mps' but Apple's MPS backend is not available; use 'auto'")
    return torch.device(name)


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The autocast context for ``precision`` ('fp32' needs none)."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    if precision == "amp":
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    return contextlib.nullcontext()


def to_device(
    X: torch.Tensor, y: torch.Tensor, device: torch.device, channels_last: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Move a batch ``X`` (B, C, H, W), ``y`` (B,) to ``device``, optionally NHWC."""
    X = X.to(device, non_blocking=True)
    y = y.to(device, non_blocking=True)
    if channels_last and X.ndim == 4:
        X = X.contiguous(memory_format=torch.channels_last)
    return X, y



