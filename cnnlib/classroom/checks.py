"""Assertions for assignment tests, with messages a student can act on.

Each check raises ``AssertionError`` whose message names the quantity, what was
expected and what was received, e.g.::

    corr2d_ps(X, K, padding=1, stride=2) has the wrong shape: expected (4, 5), got (5, 5)
    corr2d_ps(X, K, padding=1, stride=2)[2, 3] differs: expected 1.2500, got 0.7500 (|diff| 0.5)

Hidden tests draw their inputs from :func:`fresh_generator`, whose seed comes from the
operating system (a hard-coded answer cannot pass) and is printed in every failure
message of :func:`check_tensor`, so a failure can be reproduced.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import torch

__all__ = [
    "check_callable", "check_equal", "check_number", "check_shape", "check_tensor",
    "fresh_generator",
]


def fresh_generator() -> torch.Generator:
    """A CPU generator seeded from the operating system, with the seed kept on it.

    ``torch.manual_seed`` in the student's notebook does not reach it, so hidden tests
    see inputs nobody could have typed in; ``gen.initial_seed()`` says which they were.
    """
    gen = torch.Generator()
    gen.manual_seed(secrets.randbits(62))
    return gen


def check_callable(value: Any, name: str) -> Callable:
    """Assert that the student defined ``name`` as a function (not left it as ``...``)."""
    if value is None or value is Ellipsis:
        raise AssertionError(f"{name} is not defined yet: write it in the cell above and run it")
    if not callable(value):
        raise AssertionError(f"{name} should be a function, got {type(value).__name__}")
    return value


def check_equal(got: Any, expected: Any, what: str) -> None:
    """Assert ``got == expected`` for plain values (ints, tuples, strings)."""
    if got is Ellipsis or got is None:
        raise AssertionError(f"{what} is not computed yet (found {got!r}); expected {expected!r}")
    if got != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {got!r}")


def check_number(got: Any, expected: float, what: str, *, atol: float = 1e-6,
                 rtol: float = 1e-6) -> None:
    """Assert that ``got`` is a real number (or 0-d tensor) close to ``expected``."""
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        raise AssertionError(f"{what} should be a number, got {type(got).__name__} ({got!r})")
    if not abs(got - expected) <= atol + rtol * abs(expected):
        raise AssertionError(f"{what}: expected {expected:.6g}, got {got:.6g} "
                             f"(|diff| {abs(got - expected):.3g})")


def _shape(value: Any) -> tuple[int, ...] | None:
    shape = getattr(value, "shape", None)
    return None if shape is None else tuple(shape)


def check_shape(got: Any, expected: tuple[int, ...], what: str) -> None:
    """Assert that ``got`` is a tensor of the given shape."""
    if not isinstance(got, torch.Tensor):
        raise AssertionError(
            f"{what} should be a torch.Tensor of shape {tuple(expected)}, got {type(got).__name__}"
        )
    if _shape(got) != tuple(expected):
        raise AssertionError(
            f"{what} has the wrong shape: expected {tuple(expected)}, got {_shape(got)}"
        )


def check_tensor(
    got: Any,
    expected: torch.Tensor,
    what: str,
    *,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    gen: torch.Generator | None = None,
) -> None:
    """Assert that ``got`` has ``expected``'s shape and values within the tolerances.

    Args:
        got: the student's result.
        expected: the reference, usually computed with PyTorch.
        what: how to name the result in the message, e.g. ``"corr2d_ps(X, K, padding=1)"``.
        atol, rtol: as in :func:`torch.allclose`.
        gen: the generator the inputs came from; its seed is added to the message.
    """
    seed = "" if gen is None else f" (random inputs, seed {gen.initial_seed()})"
    check_shape(got, tuple(expected.shape), what + seed)
    got = got.detach().to(torch.float64)
    expected = expected.detach().to(torch.float64)
    if torch.isnan(got).any() and not torch.isnan(expected).any():
        index = tuple(torch.nonzero(torch.isnan(got))[0].tolist())
        raise AssertionError(f"{what}{_at(index)} is nan{seed}")
    diff = (got - expected).abs()
    bad = diff > atol + rtol * expected.abs()
    if bad.any():
        index = tuple(torch.nonzero(bad)[0].tolist())
        raise AssertionError(
            f"{what}{_at(index)} differs: expected {expected[index].item():.4f}, "
            f"got {got[index].item():.4f} (|diff| {diff[index].item():.4g}); "
            f"{int(bad.sum())} of {bad.numel()} elements are off{seed}"
        )


def _at(index: tuple[int, ...]) -> str:
    return "" if not index else "[" + ", ".join(str(i) for i in index) + "]"
