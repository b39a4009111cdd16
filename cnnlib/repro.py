"""Reproducibility: one call at the top of every notebook.

nbval compares a notebook's printed outputs with the stored ones, so every
source of randomness a section touches (Python's ``random``, NumPy, PyTorch)
must start from the same state on every run.
"""

from __future__ import annotations

import random

import numpy as np
import torch


def setup(seed: int = 0) -> int:
    """Seed ``random``, NumPy and PyTorch (CPU and every CUDA device).

    Args:
        seed: the seed used for all three generators.

    Returns:
        The seed, so a notebook can print what it used.

    Raises:
        TypeError: if ``seed`` is not an int.
        ValueError: if ``seed`` is negative or does not fit in 32 bits
            (NumPy's legacy generator rejects larger seeds).
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} ({seed!r})")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return seed
