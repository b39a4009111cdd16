"""Measuring a trained classifier: loss and accuracy, probabilities, a confusion matrix."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn
from torch.nn import functional as F

from cnnlib.models.base import evaluating, model_device
from cnnlib.training.device import autocast, to_device

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


def evaluate(
    model: nn.Module,
    batches: Batches,
    device: torch.device | str | None = None,
    precision: str = "fp32",
    channels_last: bool = False,
) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` over ``batches``.

    Runs in eval mode (batch norm uses its running statistics, dropout is off)
    without gradients and restores the previous mode afterwards.

    Args:
        model: maps ``(B, C, H, W)`` images to ``(B, num_classes)`` scores.
        batches: yields ``(X, y)``; every example counts once, whatever the batch sizes.
        device: where to compute; default: where the model's parameters are.
        precision: as in :class:`TrainConfig`.
        channels_last: feed NHWC inputs (use with a channels-last model).

    Returns:
        ``(loss, accuracy)`` as Python floats.

    Raises:
        ValueError: when ``batches`` yields no examples.
    """
    device = model_device(model) if device is None else torch.device(device)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    count = 0
    with evaluating(model), torch.no_grad():
        for X, y in batches:
            X, y = to_device(X, y, device, channels_last)
            with autocast(device, precision):
                y_hat = model(X)
            loss_sum += F.cross_entropy(y_hat.float(), y, reduction="sum")
            correct += (y_hat.argmax(dim=1) == y).sum()
            count += y.shape[0]
    if count == 0:
        raise ValueError("evaluate got no examples: the batches iterable was empty")
    return loss_sum.item() / count, correct.item() / count


def predict(
    model: nn.Module, batches: Batches, device: torch.device | str | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Class probabilities for every example, with the true labels, on the CPU.

    Returns:
        ``(probs, y)``: ``probs`` float ``(N, num_classes)`` (softmax of the
        scores), ``y`` int64 ``(N,)``, in the order ``batches`` yields them.
    """
    device = model_device(model) if device is None else torch.device(device)
    probs, labels = [], []
    with evaluating(model), torch.no_grad():
        for X, y in batches:
            X = X.to(device)
            probs.append(F.softmax(model(X).float(), dim=1).cpu())
            labels.append(y.cpu())
    return torch.cat(probs), torch.cat(labels)


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts ``C[i, j]`` of examples of true class ``i`` predicted as ``j``.

    Args:
        y_true: int labels ``(N,)`` in ``[0, num_classes)``.
        y_pred: int predictions ``(N,)``, same range.

    Returns:
        int64 ``(num_classes, num_classes)``; row sums are the class sizes.
    """
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be 1-D and equally long, got shapes "
            f"{tuple(y_true.shape)} and {tuple(y_pred.shape)}"
        )
    for name, t in (("y_true", y_true), ("y_pred", y_pred)):
        if t.numel() and (int(t.min()) < 0 or int(t.max()) >= num_classes):
            raise ValueError(
                f"{name} holds labels in [{int(t.min())}, {int(t.max())}], "
                f"outside [0, {num_classes}); check num_classes"
            )
    flat = y_true.long() * num_classes + y_pred.long()  # one bin per (true, predicted) pair
    return torch.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)
