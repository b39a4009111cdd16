"""Train the notes' LeNet on Fashion-MNIST and ship its weights with cnnlib.

Usage (from the repository root; the record it writes holds each epoch's time)::

    python scripts/train_lenet_checkpoint.py

It writes two files into ``cnnlib/weights/``:

* ``lenet_fashion_mnist.pt`` -- weights only (``state_dict`` plus an
  architecture description), loadable with ``torch.load(weights_only=True)``
  and by ``cnnlib.models.lenet.pretrained_lenet()``;
* ``lenet_fashion_mnist.json`` -- how they were made: the training config,
  per-epoch history, final validation accuracy, hardware, versions, date and
  the SHA-256 of the weights file.

The model is the notes' LeNet (sigmoid, average pooling), not the modern
variant, because the feature-map explorer shows what *that* network learned.
It is trained with Adam and a cosine learning-rate decay: SGD at the book's
lr 0.1 needs many more epochs to leave its plateau (see section 7.6).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import sys
from pathlib import Path

import torch

from cnnlib import setup
from cnnlib._atomic import atomic_write_json
from cnnlib.data import FashionMNIST
from cnnlib.models.lenet import WEIGHTS_PATH, LeNet
from cnnlib.runs.records import cpu_model, git_commit
from cnnlib.training.checkpoint import save_weights
from cnnlib.training.trainer import TrainConfig, Trainer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH, help="weights file to write")
    return parser.parse_args(argv)


def hardware(device: torch.device) -> dict[str, object]:
    """Where the weights were trained (for the record, not for reproduction)."""
    info: dict[str, object] = {
        "device": device.type,
        "machine": platform.machine(),
        "processor": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup(args.seed)
    data = FashionMNIST(batch_size=args.batch_size)
    model = LeNet()
    config = TrainConfig(epochs=args.epochs, lr=args.lr, optimizer="adam", schedule="cosine",
                         live_plot=False, seed=args.seed)
    trainer = Trainer(config)
    history = trainer.fit(model, data)
    if history.stopped is not None or len(history) != args.epochs:
        print(f"not writing weights: {history.stopped}", file=sys.stderr)
        return 1

    model.cpu().eval()
    weights = save_weights(args.out, model)
    final = history.final()
    record = {
        "weights": weights.name,
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "model": "cnnlib.models.lenet.LeNet (the notes' LeNet: sigmoid, average pooling)",
        "num_parameters": model.num_parameters(),
        "command": " ".join(["python scripts/train_lenet_checkpoint.py",
                             *(argv if argv is not None else sys.argv[1:])]),
        "data": {"dataset": "Fashion-MNIST", "train_examples": data.num_train,
                 "val_examples": data.num_val, "resolution": list(data.resolution),
                 "batch_size": args.batch_size},
        "config": {k: v for k, v in vars(config).items() if k not in ("checkpoint",)},
        "val_acc": round(final["val_acc"], 4),
        "val_loss": round(final["val_loss"], 4),
        "history": history.to_dict(),
        "hardware": hardware(trainer.device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "git_commit": git_commit(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    atomic_write_json(weights.with_suffix(".json"), record)
    print(f"wrote {weights} ({weights.stat().st_size / 1024:.0f} KiB), "
          f"val acc {record['val_acc']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
