"""Assertions for assignment tests, with messages a student can act on.

Each check raises ``AssertionError`` whose message names the quantity, what was
expected and what was received, e.g.::

    corr2d_ps(X, K, padding=1, stride=2) has the wrong shape: expected (4, 5), got (5, 5)
    corr2d_ps(X, K, padding=1, stride=2)[2, 3] differs: expected 1.2500, got 0.7500 (|diff| 0.5)

Hidden tests draw their inputs from :func:`fresh_generator`. Under the grader its seed is
derived from the assignment build's secret seed and the test's name (:func:`seeded`), so a
submission gets the same inputs, and the same score, every time it is graded, and no
student can know them in advance; outside the grader it comes from the operating system.
The seed is printed in every failure message of :func:`check_tensor`, so a failure can be
reproduced.

Tests run in the grading process, and the student's functions, classes and models reach
them as stand-ins for objects that live in the student's sandbox
(:mod:`cnnlib.classroom.remote`): calling one, reading an attribute or a method's result
hands back a copy of the data. Checks that need more than that go through the helpers
here, which work the same on a local object and on a stand-in: :func:`is_instance`,
:func:`call_with_gradients` and :func:`module_structure`.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import torch

from cnnlib.models.base import model_device

__all__ = [
    "check_callable", "check_equal", "check_number", "check_shape", "check_tensor",
    "check_test_accuracy", "check_trained_classifier", "fresh_generator", "seeded",
    "is_instance", "call_with_gradients", "module_structure",
]

# (base seed, test name, generators drawn so far) while a grader runs one test; see seeded().
_seeding: list | None = None


@contextlib.contextmanager
def seeded(base_seed: int, test_name: str) -> Iterator[None]:
    """Make :func:`fresh_generator` deterministic for one test: the k-th generator the test
    draws is seeded from ``(base_seed, test_name, k)``, so the same build grades the same
    submission with the same inputs every time, and each test sees inputs of its own."""
    global _seeding
    previous, _seeding = _seeding, [int(base_seed), str(test_name), 0]
    try:
        yield
    finally:
        _seeding = previous


def fresh_generator() -> torch.Generator:
    """A CPU generator for a hidden test's inputs, with its seed kept on it.

    Inside :func:`seeded` (the grader) the seed is derived from the build's secret seed and
    the test; elsewhere it comes from the operating system. ``torch.manual_seed`` in the
    student's notebook reaches neither, and ``gen.initial_seed()`` says which inputs they were.
    """
    gen = torch.Generator()
    if _seeding is None:
        gen.manual_seed(secrets.randbits(62))
    else:
        base, test, count = _seeding
        _seeding[2] += 1
        digest = hashlib.sha256(f"{base}:{test}:{count}".encode()).digest()
        gen.manual_seed(int.from_bytes(digest[:8], "big") >> 2)
    return gen


def _remote():
    from cnnlib.classroom import remote

    return remote


def is_instance(value: Any, cls: type) -> bool:
    """``isinstance(value, cls)``, also for a stand-in of the student's object (asked in the
    sandbox by the class's qualified name, e.g. ``torch.nn.Conv2d``)."""
    remote = _remote()
    if isinstance(value, remote.Remote):
        return value._remote_isinstance(f"{cls.__module__}.{cls.__qualname__}")
    return isinstance(value, cls)


def call_with_gradients(function: Any, *args: Any, grad_output: torch.Tensor,
                        **kwargs: Any) -> tuple[Any, list[torch.Tensor | None]]:
    """Call ``function(*args, **kwargs)``, back-propagate ``(output * grad_output).sum()``
    and return ``(output, grads)``: one gradient per tensor argument that requires grad,
    in the order they appear (positional, then keyword), ``None`` where none reached it.

    Gradients cannot cross from the sandbox as a graph, so tests ask for them this way.
    """
    remote = _remote()
    if isinstance(function, remote.Remote):
        return function._remote_call_with_gradients(args, kwargs, grad_output)
    from cnnlib.classroom.runner import call_with_gradients as local  # what the sandbox runs

    return local(function, args, kwargs, grad_output)


def module_structure(net: Any) -> list[dict]:
    """Every submodule of ``net`` in order: its name, its class (``torch.nn.Conv2d``) and, for
    PyTorch's own layers, the settings that define it (channels, kernel, stride, padding,
    features, ...). Lets a test compare an architecture with the one the prompt asked for."""
    remote = _remote()
    if isinstance(net, remote.Remote):
        return net._remote_structure()
    from cnnlib.classroom.runner import describe_structure

    return describe_structure(net)


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


def check_form(answer: Any, form: Any, name: str) -> None:
    """Assert that a predict or explain answer has the asked-for form, never its content:
    what such a question's public test checks, so the check gives nothing away.

    ``form`` describes the answer: ``bool`` (True or False), ``int`` (a whole number),
    ``float`` (any real number), a tuple or ``range`` of the allowed values (letters,
    counts), a dict of forms (exactly those keys), or a list of forms (a pair, a triple:
    a tuple or list of that length). A bool is never taken for a number.
    """
    if answer is Ellipsis or answer is None:
        raise AssertionError(f"{name} is not answered yet: replace the ... in its cell")
    if form is bool:
        if not isinstance(answer, bool):
            raise AssertionError(f"{name} should be True or False, got {answer!r}")
    elif form is int or form is float:
        numbers = (int,) if form is int else (int, float)
        if isinstance(answer, bool) or not isinstance(answer, numbers):
            kind = "a whole number (an int)" if form is int else "a number"
            raise AssertionError(f"{name} should be {kind}, got {answer!r}")
    elif isinstance(form, (tuple, range)):
        whole = not isinstance(form, range) or type(answer) is int  # a range means ints
        if isinstance(answer, bool) or not whole or answer not in form:
            allowed = (f"a whole number from {form.start} to {form.stop - 1}"
                       if isinstance(form, range) else
                       "one of " + ", ".join(repr(v) for v in form))
            raise AssertionError(f"{name} should be {allowed}, got {answer!r}")
    elif isinstance(form, dict):
        if not isinstance(answer, dict):
            raise AssertionError(f"{name} should be a dict, got {type(answer).__name__}")
        if sorted(map(str, answer)) != sorted(map(str, form)):
            raise AssertionError(f"{name} should have the keys {list(form)}, "
                                 f"got {list(answer)}")
        for key, sub in form.items():
            check_form(answer[key], sub, f"{name}[{key!r}]")
    elif isinstance(form, list):
        if not isinstance(answer, (tuple, list)) or len(answer) != len(form):
            raise AssertionError(f"{name} should be a tuple of {len(form)} values, "
                                 f"got {answer!r}")
        for k, (value, sub) in enumerate(zip(answer, form, strict=True)):
            check_form(value, sub, f"{name}[{k}]")
    else:
        raise TypeError(f"check_form does not know the form {form!r}")


def check_judged(got: Any, truth: Any, what: str) -> None:
    """Assert that one part of a predict or explain answer is right, without printing the
    right value (the feedback names the part, so the student knows what to rethink)."""
    if isinstance(truth, bool):
        right = got is truth
    elif isinstance(truth, float):
        right = (not isinstance(got, bool) and isinstance(got, (int, float))
                 and abs(got - truth) <= 1e-9 + 1e-9 * abs(truth))
    else:
        right = type(got) is type(truth) and got == truth
    if not right:
        raise AssertionError(f"{what} is judged wrongly")


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

    if not is_instance(net, nn.Module):
        raise AssertionError(f"{name} should be your trained nn.Module, got {type(net).__name__}")
    if net.training:
        raise AssertionError(f"{name} is still in training mode: call {name}.eval() after "
                             "training (batch norm and dropout behave differently in it)")
    with torch.no_grad():
        scores = net(torch.rand(5, 1, 28, 28, device=_device(net)))
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
    device = _device(net)
    with torch.no_grad():
        y_hat = torch.cat([net(x.to(device)).argmax(dim=1).cpu() for x in X.split(500)])
    accuracy = (y_hat == y).float().mean().item()
    if accuracy < floor:
        raise AssertionError(
            f"{name} classifies {accuracy:.3f} of {len(y)} random test images correctly; at "
            f"least {floor} is required (test images seed {gen.initial_seed()})"
        )


def _device(net: Any) -> torch.device:
    """Where to send a model's inputs: a stand-in's model lives on the sandbox's CPU."""
    return torch.device("cpu") if isinstance(net, _remote().Remote) else model_device(net)
