"""Train one chapter-8 network under its quick budget and ship its weights with cnnlib.

Usage (from the repository root)::

    python scripts/train_checkpoint.py alexnet     # or vgg11, nin, googlenet, bn_lenet, resnet18

It trains exactly what the section's training cell trains (``get_budget(name,
"quick").train()``: same data, settings and accuracy floor) and writes two files
into ``cnnlib/weights/``:

* ``<name>_fashion_mnist.pt`` -- the weights as float16 (half the bytes), loadable
  with ``torch.load(weights_only=True)`` and by ``cnnlib.models.pretrained.pretrained(name)``;
* ``<name>_fashion_mnist.json`` -- how they were made: the budget's settings, the
  per-epoch history, the validation accuracy *of the stored float16 weights*
  (measured after loading them back), hardware, versions, date and the SHA-256 of
  the weights file.

Nothing is written when the run stops early or ends below the budget's floor.
Each record holds the run's own time per epoch and hardware.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import platform
import sys
from pathlib import Path

import torch

from cnnlib import setup
from cnnlib._atomic import atomic_write_json
from cnnlib.models import pretrained
from cnnlib.runs.budget import RunFailed, get_budget
from cnnlib.runs.records import git_commit, hardware_info
from cnnlib.training.checkpoint import save_weights
from cnnlib.training.evaluate import evaluate

CHOICES = sorted(name for name in pretrained.SHIPPED if name != "lenet")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", choices=CHOICES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=pretrained.WEIGHTS_DIR,
                        help="folder to write the weights and record into")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup(args.seed)
    budget = get_budget(args.model, "quick")
    try:
        run = budget.train(live_plot=False)
    except RunFailed as err:
        print(f"not writing weights: {err}", file=sys.stderr)
        return 1

    out = args.out_dir / pretrained.weights_path(args.model).name
    save_weights(out, run.model.cpu().eval(), dtype=torch.float16)
    shipped = pretrained.pretrained(args.model, out)  # what readers get: float16, loaded back
    val_loss, val_acc = evaluate(shipped, run.data.val_batches(), device="cpu")
    record = {
        "weights": out.name,
        "sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
        "model": args.model,
        "section": pretrained.SHIPPED[args.model],
        "model_kwargs": budget.model_kwargs(),
        "num_parameters": sum(p.numel() for p in shipped.parameters()),
        "stored_as": "float16",
        "command": " ".join(["python scripts/train_checkpoint.py", args.model,
                             *([f"--seed {args.seed}"] if args.seed else [])]),
        "budget": {k: v for k, v in vars(budget).items() if k not in ("extra",)},
        "data": {"dataset": "Fashion-MNIST", "train_examples": run.data.num_train,
                 "val_examples": run.data.num_val, "resolution": budget.side},
        "val_acc": round(val_acc, 4),
        "val_loss": round(val_loss, 4),
        "val_acc_float32": round(run.val_acc, 4),
        "history": run.history.to_dict(),
        "train_cpu_seconds": round(run.cpu_seconds, 1),
        "hardware": hardware_info(run.device),
        "python": platform.python_version(),
        "seed": args.seed,
        "git_commit": git_commit(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    atomic_write_json(out.with_suffix(".json"), record)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB), val acc {val_acc:.4f} "
          f"as stored (float32: {run.val_acc:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
