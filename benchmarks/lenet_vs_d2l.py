"""LeNet on Fashion-MNIST with the notes' settings, trained by cnnlib and by d2l 1.0.3.

Both sides train the same network (D2L 7.6's LeNet: sigmoid, average pooling,
Xavier-uniform init) with the same settings (batch 128, SGD, lr 0.1, 10 epochs,
28x28) on the same machine, one after the other, each in a fresh Python process:

* cnnlib: ``cnnlib.training.trainer.Trainer`` on ``cnnlib.data.FashionMNIST`` (in-memory batches);
* d2l: ``d2l.Trainer`` on ``d2l.FashionMNIST`` (torchvision dataset, PIL transforms,
  a 4-worker DataLoader) with ``d2l.LeNet`` and ``d2l.init_cnn``, as in the notes.

d2l is never imported by cnnlib: ``setup_d2l_env.sh`` installs it into
``benchmarks/.d2l-site`` and its side runs with ``PYTHONPATH`` pointing there. It
would download Fashion-MNIST; instead it gets a root folder laid out as torchvision
expects, written from cnnlib's verified copy, so it finds the files and never
downloads.

Throughput is measured the same way on both sides: the wall time of each full
pass over the training batches (data loading, forward, backward, step; the
validation pass and process start-up excluded), summed over the epochs. The
accuracy is each side's validation accuracy (10000 test images) after the last
epoch.

Usage::

    bash benchmarks/setup_d2l_env.sh              # once (make benchmark does both)
    python benchmarks/lenet_vs_d2l.py             # the real run, a few minutes
    python benchmarks/lenet_vs_d2l.py --epochs 1 --subset 2048 --output /tmp/smoke.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / "results" / "lenet_vs_d2l.json"
DEFAULT_SITE = HERE / ".d2l-site"
#: d2l's FashionMNIST looks in '../data' relative to the working directory.
RUN_DIR = HERE / ".d2l-run"
TARGET_SPEEDUP = 3.0
#: A 1-minute load average above this means other work competes for the CPU.
BUSY_LOAD = 1.5
SIDES = ("cnnlib", "d2l")


# ----------------------------------------------------------------------------- arguments


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line; the defaults are the notes' configuration."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10, help="training epochs (10)")
    parser.add_argument("--batch-size", type=int, default=128, help="examples per batch (128)")
    parser.add_argument("--lr", type=float, default=0.1, help="SGD learning rate (0.1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of both sides (0)")
    parser.add_argument("--subset", type=int, default=None,
                        help="train on this many examples only (smoke runs; d2l takes the "
                             "first N, cnnlib a class-balanced N); validation stays whole")
    parser.add_argument("--split-batch", type=int, default=None,
                        help="cnnlib: slices each batch is cut into, one thread each "
                             "(TrainConfig.split_batch; default: one per torch thread)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help="where the JSON record goes (benchmarks/results/lenet_vs_d2l.json)")
    parser.add_argument("--d2l-site", type=Path, default=DEFAULT_SITE,
                        help="folder holding d2l 1.0.3 (made by setup_d2l_env.sh)")
    # Internal: how the parent process asks a child to run one side.
    parser.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for option, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size)):
        if value < 1:
            parser.error(f"{option} must be at least 1, got {value}")
    if args.subset is not None and not 1 <= args.subset <= 60000:
        parser.error(f"--subset must be in 1..60000, got {args.subset}")
    if args.split_batch is not None and not 1 <= args.split_batch <= args.batch_size:
        parser.error(f"--split-batch must be in 1..batch size, got {args.split_batch}")
    if not args.lr > 0:
        parser.error(f"--lr must be positive, got {args.lr}")
    return args


# ----------------------------------------------------------------------------- timing


class PassTimer:
    """Wall time and example count of every complete pass over some batches.

    Attributes:
        seconds: one entry per finished pass.
        examples: examples seen in each finished pass.
    """

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.examples: list[int] = []

    def wrap(self, batches: Iterable) -> Iterator:
        """Yield ``batches`` unchanged, timing from the first request to exhaustion.

        The time between two batches is the consumer's training step, so a pass
        measures loading and training together, which is what throughput means here.
        """
        start = time.perf_counter()
        count = 0
        for batch in batches:
            count += len(batch[-1])  # batch = (X, y)
            yield batch
        self.seconds.append(time.perf_counter() - start)
        self.examples.append(count)

    def summary(self) -> dict[str, Any]:
        """Throughput over all passes and per pass (images per second)."""
        total_s, total_n = sum(self.seconds), sum(self.examples)
        return {
            "images_per_s": total_n / total_s if total_s else 0.0,
            "epoch_images_per_s": [n / s for n, s in zip(self.examples, self.seconds,
                                                        strict=True)],
            "train_seconds": total_s,
            "train_images": total_n,
        }


class TimedLoader:
    """A DataLoader-like object whose every pass is timed by ``timer``."""

    def __init__(self, loader: Any, timer: PassTimer) -> None:
        self.loader, self.timer = loader, timer

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator:
        return self.timer.wrap(self.loader)


class TimedData:
    """cnnlib's data module with its training passes timed (validation untouched)."""

    def __init__(self, data: Any, timer: PassTimer) -> None:
        self.data, self.timer = data, timer

    @property
    def num_train_batches(self) -> int:
        return self.data.num_train_batches

    def train_batches(self, shuffle: bool = True, generator: Any = None) -> Iterator:
        return self.timer.wrap(self.data.train_batches(shuffle=shuffle, generator=generator))

    def val_batches(self) -> Iterator:
        return self.data.val_batches()


# ----------------------------------------------------------------------------- the two sides


def run_cnnlib(args: argparse.Namespace) -> dict[str, Any]:
    """Train cnnlib's LeNet with cnnlib's Trainer; returns the side's measurements."""
    import torch

    import cnnlib
    from cnnlib import setup
    from cnnlib.data import FashionMNIST
    from cnnlib.models.lenet import LeNet
    from cnnlib.training.trainer import TrainConfig, Trainer

    setup(args.seed)
    data = FashionMNIST(batch_size=args.batch_size, train_subset=args.subset)
    model = LeNet()  # Xavier-uniform init, as d2l.init_cnn
    timer = PassTimer()
    # One slice per core: LeNet's layers are too small to keep several cores busy
    # on one batch, so each core trains its own slice of it (cnnlib.training.parallel).
    # The step is the full batch's, so the configuration stays the notes'.
    split = args.split_batch or torch.get_num_threads()
    # No progress bar or live plot: a script shows neither (d2l's board draws
    # nowhere outside a notebook either), so both sides time the loop alone.
    config = TrainConfig(epochs=args.epochs, lr=args.lr, optimizer="sgd", device="auto",
                         live_plot=False, progress=False, seed=args.seed, split_batch=split)
    trainer = Trainer(config)
    history = trainer.fit(model, TimedData(data, timer))
    if history.stopped:
        raise RuntimeError(f"cnnlib training stopped early: {history.stopped}")
    return {
        **timer.summary(),
        "val_acc": history.val_acc[-1],
        "library": f"cnnlib {getattr(cnnlib, '__version__', '?')}",
        "device": str(trainer.device),
        "torch_threads": torch.get_num_threads(),
        "split_batch": split,
        "data_pipeline": "cnnlib.data.FashionMNIST: whole split in memory, batches sliced",
        "execution": (f"each batch cut into {split} slice(s) trained on as many threads "
                      "(TrainConfig.split_batch); LeNet's 2x2 average pooling by "
                      "cnnlib.models.fastpool.FastAvgPool2d"),
    }


def run_d2l(args: argparse.Namespace) -> dict[str, Any]:
    """Train d2l's LeNet with d2l's Trainer, as in the notes; returns the measurements."""
    import random

    import numpy as np
    import torch
    from d2l import torch as d2l

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    timer = PassTimer()

    class TimedTrainer(d2l.Trainer):
        """d2l's Trainer, unchanged except that its training passes are timed."""

        def prepare_data(self, data):
            super().prepare_data(data)
            self.train_dataloader = TimedLoader(self.train_dataloader, timer)

    data = d2l.FashionMNIST(batch_size=args.batch_size)
    if args.subset is not None:
        data.train = torch.utils.data.Subset(data.train, range(args.subset))
    model = d2l.LeNet(lr=args.lr)
    model.apply_init([next(iter(data.get_dataloader(True)))[0]], d2l.init_cnn)
    trainer = TimedTrainer(max_epochs=args.epochs, num_gpus=1)
    trainer.fit(model, data)
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for X, y in data.val_dataloader():
            X, y = trainer.prepare_batch([X, y])
            correct += int((model(X).argmax(dim=1) == y).sum())
            total += len(y)
    return {
        **timer.summary(),
        "val_acc": correct / total,
        "library": "d2l 1.0.3",
        "device": str(trainer.gpus[0]) if trainer.gpus else "cpu",
        "torch_threads": torch.get_num_threads(),
        "data_pipeline": (f"d2l.FashionMNIST: torchvision dataset, PIL Resize + ToTensor per "
                          f"image, DataLoader with {data.num_workers} workers"),
    }


# ----------------------------------------------------------------------------- d2l's data root


def _idx_bytes(images: Any, labels: Any) -> dict[str, bytes]:
    """The four IDX files' contents, rebuilt from the uint8 tensors (see cnnlib.data.idx)."""
    return {
        "images": struct.pack(">IIII", 2051, *images.shape) + images.numpy().tobytes(),
        "labels": struct.pack(">II", 2049, labels.numel())
        + labels.to(dtype=images.dtype).numpy().tobytes(),
    }


def prepare_d2l_root(run_dir: Path = RUN_DIR) -> Path:
    """Give d2l a data folder it will not download into; returns its working directory.

    Writes ``<run_dir>/data/FashionMNIST/raw/`` with the four decompressed IDX
    files, rebuilt from cnnlib's verified tensors and checked against the
    SHA-256 digests cnnlib verifies (those of the official files), so torchvision
    sees the files present and skips its download. d2l's ``FashionMNIST`` reads
    ``../data``, so the returned working directory is ``<run_dir>/work``.
    """
    from cnnlib._atomic import atomic_write_bytes
    from cnnlib.data import EXPECTED, load_split

    raw = run_dir / "data" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for train, prefix in ((True, "train"), (False, "t10k")):
        names = {"images": f"{prefix}-images-idx3-ubyte", "labels": f"{prefix}-labels-idx1-ubyte"}
        if all(_sha256(raw / name) == EXPECTED[name].sha256 for name in names.values()):
            continue
        contents = _idx_bytes(*load_split(train=train))
        for kind, name in names.items():
            digest = hashlib.sha256(contents[kind]).hexdigest()
            if digest != EXPECTED[name].sha256:
                raise RuntimeError(f"rebuilt {name} has SHA-256 {digest}, expected "
                                   f"{EXPECTED[name].sha256}; the IDX writer is wrong")
            atomic_write_bytes(raw / name, contents[kind])
    work = run_dir / "work"
    work.mkdir(exist_ok=True)
    return work


def _sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


# ----------------------------------------------------------------------------- the record


def write_json(path: Path, record: dict[str, Any]) -> None:
    """Write ``record`` as indented JSON, atomically."""
    from cnnlib._atomic import atomic_write_json

    atomic_write_json(path, record)


def hardware_info() -> dict[str, Any]:
    """What a run record says about the machine, plus usable CPUs, CUDA and the OS."""
    import torch

    from cnnlib.runs.records import hardware_info as run_record_hardware

    info = run_record_hardware()
    del info["device"], info["gpu"]  # a benchmark has no single device: each side has its own
    info["cpus_usable"] = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    info["platform"] = platform.platform()
    return info


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (None where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def build_record(
    results: dict[str, dict[str, Any]],
    args: argparse.Namespace,
    hardware: dict[str, Any],
    loads: dict[str, list[float] | None],
    date: str | None = None,
) -> dict[str, Any]:
    """The JSON record of one benchmark run.

    Args:
        results: ``{"cnnlib": ..., "d2l": ...}``, each with at least
            ``images_per_s`` and ``val_acc`` (what :func:`run_cnnlib` and
            :func:`run_d2l` return).
        args: the parsed command line.
        hardware: what :func:`hardware_info` returned.
        loads: load averages taken around the sides, by moment.
        date: ISO 8601 time of the run; default now (UTC).

    Raises:
        ValueError: when a side is missing or measured no throughput.
    """
    for side in SIDES:
        if side not in results or not results[side].get("images_per_s", 0) > 0:
            raise ValueError(f"no throughput measured for {side}: got {results.get(side)!r}")
    speedup = results["cnnlib"]["images_per_s"] / results["d2l"]["images_per_s"]
    accuracy_gap = results["cnnlib"]["val_acc"] - results["d2l"]["val_acc"]
    return {
        "benchmark": "LeNet (D2L 7.6) on Fashion-MNIST: cnnlib vs d2l 1.0.3, same config",
        "date": date or datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": {
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "optimizer": "SGD (no momentum, no weight decay)",
            "init": "Xavier uniform on conv and linear weights (d2l.init_cnn)",
            "resolution": [28, 28],
            "train_subset": args.subset,
            "seed": args.seed,
        },
        "throughput_measure": "images per second over every training pass (loading, forward, "
                              "backward, step); validation and start-up excluded",
        "cnnlib": results["cnnlib"],
        "d2l": results["d2l"],
        "speedup": speedup,
        "accuracy_gap": accuracy_gap,
        "target": {
            "speedup_at_least": TARGET_SPEEDUP,
            "speedup_met": speedup >= TARGET_SPEEDUP,
            "accuracy_equal_or_better": accuracy_gap >= 0,
        },
        "hardware": hardware,
        "load_average": loads,
        "command": "python benchmarks/lenet_vs_d2l.py " + " ".join(_forwarded_args(args)),
    }


def _forwarded_args(args: argparse.Namespace) -> list[str]:
    """The options a child process needs to repeat this run's configuration."""
    argv = ["--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
            "--lr", str(args.lr), "--seed", str(args.seed)]
    if args.subset is not None:
        argv += ["--subset", str(args.subset)]
    if args.split_batch is not None:
        argv += ["--split-batch", str(args.split_batch)]
    return argv


# ----------------------------------------------------------------------------- driver


def run_side(side: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one side in a fresh Python process and return what it measured."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("PYTHONPATH", None)
    cwd = HERE.parent
    if side == "d2l":
        site = args.d2l_site.resolve()
        if not (site / "d2l" / "torch.py").is_file():
            raise SystemExit(f"d2l 1.0.3 is not installed in {site}; "
                             "run: bash benchmarks/setup_d2l_env.sh")
        env["PYTHONPATH"] = str(site)
        cwd = prepare_d2l_root()
    with tempfile.TemporaryDirectory(prefix=f"bench-{side}-") as tmp:
        result_path = Path(tmp) / "result.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--side", side,
                   "--result", str(result_path), *_forwarded_args(args)]
        start = time.perf_counter()
        # d2l's progress board prints figure reprs to stdout outside a notebook: drop them.
        done = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"the {side} side failed (exit {done.returncode}):\n"
                             f"{done.stderr[-4000:]}")
        result = json.loads(result_path.read_text())
    result["process_seconds"] = time.perf_counter() - start
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.side is not None:  # a child: run one side, hand the numbers back
        result = run_cnnlib(args) if args.side == "cnnlib" else run_d2l(args)
        write_json(args.result, result)
        return 0
    loads = {"before": load_average()}
    if loads["before"] and loads["before"][0] > BUSY_LOAD:
        print(f"warning: the 1-minute load average is {loads['before'][0]}: other programs "
              "compete for the CPU, so both throughputs and their ratio are unreliable",
              flush=True)
    results = {}
    for side in SIDES:
        print(f"training LeNet with {side} ...", flush=True)
        results[side] = run_side(side, args)
        loads[f"after_{side}"] = load_average()
        r = results[side]
        print(f"  {r['images_per_s']:,.0f} images/s over {len(r['epoch_images_per_s'])} "
              f"epoch(s), validation accuracy {r['val_acc']:.4f}", flush=True)
    record = build_record(results, args, hardware_info(), loads)
    write_json(args.output, record)
    print(f"speedup (cnnlib / d2l): {record['speedup']:.2f}x; accuracy gap "
          f"{record['accuracy_gap']:+.4f}; written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
