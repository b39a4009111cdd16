"""Split every batch across CPU threads: in-process data parallelism for small models.

PyTorch spreads each operation over the CPU's cores (intra-op parallelism).
That works for big convolutions, but LeNet's operations are tiny -- a 6-channel
28x28 map, a 16x6x5x5 kernel -- and two cores working on one of them spend
much of their time handing work to each other: on a 2-core machine LeNet
trains only ~1.2x faster with two threads than with one. Giving each core its
own *slice of the batch* instead, with one thread per slice, keeps both busy
with whole forward and backward passes.

The result is the same step the full batch would take. Each slice's loss is
its mean cross-entropy weighted by its share of the batch, so the weighted
losses add up to the batch's mean loss, and since gradients are linear, the
gradients the slices accumulate into ``.grad`` (PyTorch accumulates
concurrently-computed gradients under a lock) add up to the full batch's
gradient. Only the order of floating-point additions differs; with two slices
even that is fixed, because ``a + b == b + a`` exactly.

That equivalence breaks for layers that look across the batch or draw random
numbers, so :func:`check_splittable` refuses models with them:

* batch normalization would normalize each slice by its own statistics (a
  different model) and the slices would race to update the running averages;
* dropout would draw its masks from the shared generator in whatever order the
  threads arrive, so a seeded run would no longer repeat itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from cnnlib.training.device import autocast

__all__ = ["SlicedStep", "check_slice_count", "check_splittable", "threads_per_slice"]

#: Layers whose output for one example depends on the rest of the batch, or on
#: the order in which random numbers are drawn.
_UNSPLITTABLE = (nn.modules.batchnorm._BatchNorm, nn.modules.dropout._DropoutNd)


def check_slice_count(slices: object) -> None:
    """Raise ``ValueError`` unless ``slices`` is a positive int (``TrainConfig.split_batch``)."""
    if isinstance(slices, bool) or not isinstance(slices, int) or slices < 1:
        raise ValueError(f"split_batch must be a positive int, got {slices!r}")


def check_splittable(model: nn.Module, device: torch.device, slices: int) -> None:
    """Raise ``ValueError`` unless ``model`` can be trained on ``slices`` slices per batch.

    Args:
        model: the network to train.
        device: where it trains; splitting is a CPU technique (a GPU runs a
            whole batch at once anyway).
        slices: how many slices each batch is cut into (1 = no splitting).
    """
    check_slice_count(slices)
    if slices == 1:
        return
    if device.type != "cpu":
        raise ValueError(
            f"split_batch={slices} splits batches across CPU threads, but training runs on "
            f"{device.type}; use split_batch=1 there (the device already runs the whole "
            "batch in parallel)"
        )
    for name, module in model.named_modules():
        if isinstance(module, _UNSPLITTABLE):
            kind = type(module).__name__
            why = (
                "it would normalize each slice with its own statistics"
                if isinstance(module, nn.modules.batchnorm._BatchNorm)
                else "its random masks would depend on thread timing, so seeded runs "
                "would not repeat"
            )
            raise ValueError(
                f"split_batch={slices} needs a model without batch normalization or dropout, "
                f"but {name or 'the model'} is a {kind}: {why}. Use split_batch=1 for this model."
            )


@contextlib.contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with PyTorch's intra-op thread count set to ``count``, then restore it.

    The one place in cnnlib that changes the process-wide thread count (the sliced
    training step uses it, and so do the explorers: one-image forward passes, and the
    gradient-flow explorer's small batch), so a change is always undone, also when the
    block raises.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1 thread, got {count}")
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def threads_per_slice(slices: int) -> int:
    """Intra-op threads each slice may use so that all slices together fill the cores."""
    return max(1, torch.get_num_threads() // slices)


class SlicedStep:
    """Forward and backward passes of one batch, run as ``slices`` concurrent slices.

    Use as a context manager around a training pass: on entry it starts
    ``slices - 1`` worker threads (the calling thread takes the first slice
    itself) and lowers PyTorch's intra-op thread count so that the slices do
    not oversubscribe the cores; on exit it restores both.

    Example::

        with SlicedStep(model, slices=2, device=cpu, precision="fp32") as sliced:
            for X, y in batches:
                optimizer.zero_grad(set_to_none=True)
                loss, y_hat = sliced.forward_backward(X, y)
                optimizer.step()
    """

    def __init__(self, model: nn.Module, slices: int, device: torch.device, precision: str):
        check_splittable(model, device, slices)
        self.model, self.slices = model, slices
        self.device, self.precision = device, precision
        self._pool: ThreadPoolExecutor | None = None
        self._threads: contextlib.AbstractContextManager | None = None

    def __enter__(self) -> SlicedStep:
        self._threads = torch_threads(threads_per_slice(self.slices))
        self._threads.__enter__()
        self._pool = ThreadPoolExecutor(self.slices - 1, thread_name_prefix="cnnlib-slice")
        return self

    def __exit__(self, *exc_info) -> None:
        self._pool.shutdown(wait=True)
        self._pool = None
        self._threads.__exit__(None, None, None)
        self._threads = None

    def forward_backward(self, X: torch.Tensor, y: torch.Tensor) -> tuple[Tensor, Tensor]:
        """Accumulate the batch-mean cross-entropy's gradient into the parameters' ``.grad``.

        Returns:
            ``(loss, y_hat)``: the batch's mean loss and its logits, both detached,
            exactly as one pass over the whole batch would give them (up to
            floating-point rounding).
        """
        if self._pool is None:
            raise RuntimeError("SlicedStep.forward_backward must run inside `with SlicedStep(...)`")
        total = y.shape[0]
        parts = [
            (Xs, ys)
            for Xs, ys in zip(X.tensor_split(self.slices), y.tensor_split(self.slices), strict=True)
            if ys.shape[0] > 0
        ]
        futures = [self._pool.submit(self._slice, Xs, ys, total) for Xs, ys in parts[1:]]
        try:
            results = [self._slice(*parts[0], total)] + [f.result() for f in futures]
        finally:
            # Never return while a worker may still be writing gradients.
            wait(futures)
        loss = torch.stack([loss for loss, _ in results]).sum()
        return loss, torch.cat([y_hat for _, y_hat in results])

    def _slice(self, X: Tensor, y: Tensor, total: int) -> tuple[Tensor, Tensor]:
        # autocast is thread-local, so each worker enters it itself.
        with autocast(self.device, self.precision):
            y_hat = self.model(X)
            loss = F.cross_entropy(y_hat, y) * (y.shape[0] / total)
        loss.backward()
        return loss.detach(), y_hat.detach()
