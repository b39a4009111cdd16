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

from cnnlib.models.base import model_device

__all__ = [
    "check_callable", "check_equal", "check_number", "check_shape", "check_tensor",
    "check_test_accuracy", "check_trained_classifier", "fresh_generator",
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


def check_trained_classifier(net: Any, name: str, num_classes: int = 10) -> None:
    """Assert that ``net`` is a module in evaluation mode that scores 28x28 images."""
    from torch import nn

    if not isinstance(net, nn.Module):
        raise AssertionError(f"{name} should be your trained nn.Module, got {type(net).__name__}")
    if net.training:
        raise AssertionError(f"{name} is still in training mode: call {name}.eval() after "
                             "training (batch norm and dropout behave differently in it)")
    device = model_device(net)
    with torch.no_grad():
        scores = net(torch.rand(5, 1, 28, 28, device=device))
    check_shape(scores, (5, num_classes), f"{name}(X) for 5 images")


def check_test_accuracy(net: Any, name: str, floor: float, num_images: int = 2000) -> None:
    """Assert that ``net`` classifies at least ``floor`` of a fresh random test sample.

    The images are drawn from Fashion-MNIST's test split with :func:`fresh_generator`, so
    nobody can tune for them; the message names the seed that drew them.
    """
    from cnnlib.data import FashionMNIST

    gen = fresh_generator()
    test = FashionMNIST(batch_size=500)
    index = torch.randperm(test.num_val, generator=gen)[:num_images]
    X = test.val_images[index].unsqueeze(1).float() / 255  # (num_images, 1, 28, 28)
    y = test.val_labels[index]
    net.eval()
    device = model_device(net)
    with torch.no_grad():
        y_hat = torch.cat([net(x.to(device)).argmax(dim=1).cpu() for x in X.split(500)])
    accuracy = (y_hat == y).float().mean().item()
    if accuracy < floor:
        raise AssertionError(
            f"{name} classifies {accuracy:.3f} of {len(y)} random test images correctly; at "
            f"least {floor} is required (test images seed {gen.initial_seed()})"
        )
