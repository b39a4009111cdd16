"""Training: the loop and its parts.

* ``trainer`` -- ``TrainConfig`` and ``Trainer.fit`` (progress bar, live plot, NaN stop,
  checkpoints, CPU/CUDA/MPS);
* ``history`` -- per-epoch metrics of a run;
* ``evaluate`` -- accuracy, predictions and the confusion matrix;
* ``device`` -- choosing the device and precision, moving batches;
* ``checkpoint`` -- saving and loading safely (weights only, atomic writes);
* ``parallel`` -- splitting a batch across CPU threads, and the one owner of torch's
  thread count.

The names a notebook needs are importable from here: ``from cnnlib.training import Trainer``.
"""

from cnnlib.training.checkpoint import read_checkpoint
from cnnlib.training.evaluate import confusion_matrix, evaluate, predict
from cnnlib.training.history import History
from cnnlib.training.trainer import TrainConfig, Trainer

__all__ = [
    "History", "TrainConfig", "Trainer", "confusion_matrix", "evaluate", "predict",
    "read_checkpoint",
]
