"""A data module over tensors in memory, for tests that train without Fashion-MNIST."""

from __future__ import annotations

import math

import torch


class TensorBatches:
    """The interface ``Trainer`` reads (see ``cnnlib.training.trainer.DataModule``).

    Args:
        X, y: the training images ``(N, C, H, W)`` and labels ``(N,)``.
        batch_size: examples per training batch (the last one may be smaller).
        X_val, y_val: the validation set, one batch; the training set when omitted.
    """

    def __init__(self, X, y, batch_size, X_val=None, y_val=None) -> None:
        self.X, self.y, self.batch_size = X, y, batch_size
        self.X_val = X if X_val is None else X_val
        self.y_val = y if y_val is None else y_val

    @property
    def num_train_batches(self) -> int:
        return math.ceil(len(self.y) / self.batch_size)

    def train_batches(self, shuffle=True, generator=None):
        n = len(self.y)
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
        for idx in order.split(self.batch_size):
            yield self.X[idx], self.y[idx]

    def val_batches(self):
        yield self.X_val, self.y_val
