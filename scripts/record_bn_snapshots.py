"""Record how activations evolve while BN-LeNet and its twin without batch norm train.

Usage (from the repository root)::

    nice python scripts/record_bn_snapshots.py

Trains two networks one after the other, with identical settings: the concise BN-LeNet
of section 8.5 (``cnnlib.models.bn_lenet``) and its twin with the four batch-norm layers
taken out (``cnnlib.explain.bn_stats.without_batch_norm``; same layers otherwise, sigmoid
and average pooling, and the same initial weights). Both use plain SGD with momentum at
the quick budget's learning rate, batch 128, and see the same Fashion-MNIST batches in the
same order. At about 16 steps, spaced evenly on a log scale, it measures every
convolution, dense, batch-norm and sigmoid output on a fixed probe batch (the first 256
test images): mean, standard deviation, fraction of saturated sigmoid outputs, and a
histogram. Everything goes into ``cnnlib/weights/bn_snapshots.json`` (written atomically)
with a record of how it was made; ``ActivationStatsExplorer`` draws it.

The notes' LeNet of section 7.6 (``cnnlib.models.lenet``) is *not* the twin: it pads the
first convolution (400 flat features, not 256). Seeded, deterministic on a CPU for a given
torch version and thread count; about a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time

import torch

from cnnlib import data, setup
from cnnlib._atomic import atomic_write_json
from cnnlib.explain import bn_stats
from cnnlib.models import get_model
from cnnlib.runs.budget import get_budget
from cnnlib.runs.records import git_commit, hardware_info

PROBE_SIZE = 256


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=float, default=1.0,
                        help="training length in epochs of 469 batches (default 1)")
    parser.add_argument("--snapshots", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: small steps gain nothing from two)")
    parser.add_argument("--out", default=str(bn_stats.SNAPSHOTS_PATH))
    return parser.parse_args(argv)


def outcome(nets: dict) -> str:
    """One sentence per network: where its loss and probe accuracy ended."""
    words = {"with_bn": "with batch norm", "without_bn": "without batch norm"}
    lines = []
    for name, net in nets.items():
        first, last = net["snapshots"][0], net["snapshots"][-1]
        sigmoid = max(k for k, p in enumerate(net["points"]) if p["type"] == "Sigmoid")
        worst = max(net["snapshots"], key=lambda s: s["saturated"][sigmoid])
        plateau = [s["step"] for s in net["snapshots"] if s["probe_loss"] > 2.25]
        lines.append(
            f"{words[name]}: probe loss {first['probe_loss']:.3f} -> {last['probe_loss']:.3f}, "
            f"probe accuracy {first['probe_acc']:.3f} -> {last['probe_acc']:.3f} "
            f"(eval mode {last['probe_acc_eval']:.3f}) after {last['step']} steps; "
            f"probe loss above 2.25 (ln 10 = 2.30 is chance) at {len(plateau)} of "
            f"{len(net['snapshots'])} snapshots, the last at step {max(plateau, default=0)}; "
            f"the last hidden sigmoid layer was most saturated at step {worst['step']} "
            f"({worst['saturated'][sigmoid]:.0%} of its outputs below 0.05 or above 0.95)"
        )
    return "; ".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    setup(args.seed)
    budget = get_budget("bn_lenet", "quick")
    fashion = data.FashionMNIST(batch_size=budget.batch_size)
    total = round(args.epochs * fashion.num_train_batches)
    steps = bn_stats.snapshot_steps(total, args.snapshots)
    torch.manual_seed(args.seed)
    with_bn = get_model("bn_lenet")
    models = {"with_bn": with_bn, "without_bn": bn_stats.without_batch_norm(with_bn)}
    images, labels = data.load_split(train=False)
    probe_X = images[:PROBE_SIZE].unsqueeze(1).float().div(255)
    probe_y = labels[:PROBE_SIZE]
    start = time.perf_counter()

    def say(name: str, step: int, snapshot: dict) -> None:
        print(f"{name:>10} step {step:>4}: probe loss {snapshot['probe_loss']:.3f}, "
              f"accuracy {snapshot['probe_acc']:.3f}  ({time.perf_counter() - start:.0f} s)",
              flush=True)

    result = bn_stats.record_snapshots(
        models, lambda g: fashion.train_batches(True, g), probe_X, probe_y, steps,
        lr=budget.lr, momentum=budget.momentum, seed=args.seed, on_snapshot=say)
    seconds = time.perf_counter() - start
    command = ["nice python scripts/record_bn_snapshots.py"]
    for flag, value, default in (("--seed", args.seed, 0), ("--epochs", args.epochs, 1.0),
                                 ("--snapshots", args.snapshots, 16),
                                 ("--threads", args.threads, 1)):
        if value != default:
            command.append(f"{flag} {value}")
    record = {
        "format": bn_stats.SNAPSHOT_FORMAT,
        "what": "layer statistics of BN-LeNet and its twin without batch norm while they "
                "train with the same settings, measured on a fixed probe batch",
        "command": " ".join(command),
        "settings": {
            "models": {"with_bn": "bn_lenet (cnnlib.models.bn_lenet, nn.BatchNorm2d/1d)",
                       "without_bn": "bn_lenet with its 4 batch-norm layers removed "
                                     "(same initial weights)"},
            "optimizer": "sgd", "lr": budget.lr, "momentum": budget.momentum,
            "schedule": "constant", "batch_size": budget.batch_size,
            "lr_from": "the quick budget of bn_lenet (cnnlib/runs/budget.py), without its "
                       "cosine decay",
            "epochs": args.epochs, "total_steps": total,
            "steps_per_epoch": fashion.num_train_batches,
            "data": "Fashion-MNIST training split, 60000 images at 28 px, shuffled with "
                    "torch.Generator().manual_seed(seed + epoch)",
            "probe": f"the first {PROBE_SIZE} images of the Fashion-MNIST test split",
            "measured_in": "training mode (each batch-norm layer uses the probe batch's "
                           "statistics, as training does); running statistics restored after "
                           "every measurement; probe_acc_eval uses the running statistics",
            "std": "population standard deviation (divides by n) over every value of the "
                   "layer's output: images, channels and positions",
            "saturated": f"fraction of sigmoid outputs below {bn_stats.SATURATION[0]} or "
                         f"above {bn_stats.SATURATION[1]}",
            "histogram": f"{bn_stats.HIST_BINS} equal bins over each point's 'range'; values "
                         "outside it are counted in the end bins",
            "train_loss": "mean minibatch loss over the steps since the previous snapshot",
            "seed": args.seed,
        },
        "outcome": outcome(result["nets"]),
        **result,
        "seconds": round(seconds, 1),
        "hardware": hardware_info("cpu"),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "git_commit": git_commit(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    out = atomic_write_json(args.out, record)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB) in {seconds:.0f} s\n"
          f"{record['outcome']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
