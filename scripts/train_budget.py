"""Train registered models under a budget and save their run records, outside any notebook.

The sections train under the ``quick`` budget when ``make notebooks`` executes them.
This script is the way to make ``full``-budget runs (the book's settings, meant for
a GPU) without re-executing, and so rewriting, the published notebooks::

    python scripts/train_budget.py resnet18 googlenet --budget full
    make results          # the new records appear on the results page

Each model is trained exactly as its section's training cell does, by the same call,
``Budget.train``: the budget's data reductions, model arguments, optimizer, schedule,
precision and memory layout. The record goes to
``benchmarks/results/runs/<model>_<budget>.json`` (``--runs-dir`` to change),
written atomically, with the hardware it ran on. A run that stops early (NaN loss,
Ctrl-C) is reported and not recorded; one that ends below its budget's accuracy floor
is recorded and reported, and the script exits with status 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cnnlib import setup
from cnnlib.runs.budget import BUDGETS, FULL, RunFailed, get_budget

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RUNS_DIR = ROOT / "benchmarks" / "results" / "runs"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", metavar="MODEL",
                        help=f"registry names: {', '.join(FULL)}")
    parser.add_argument("--budget", choices=BUDGETS, default="full",
                        help="which budget's settings to train with (default: full)")
    parser.add_argument("--runs-dir", type=Path, default=DEFAULT_RUNS_DIR,
                        help="where run records go (default: benchmarks/results/runs)")
    parser.add_argument("--device", default="auto",
                        help="'auto' (CUDA, else MPS, else CPU), 'cuda', 'mps' or 'cpu'")
    parser.add_argument("--seed", type=int, default=0, help="seed for torch, numpy, random")
    args = parser.parse_args(argv)
    unknown = [name for name in args.models if name not in FULL]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(FULL)}")
    return args


def train_one(name: str, budget_name: str, runs_dir: Path, device: str, seed: int) -> bool:
    """Train ``name`` under ``budget_name``; True when it reached its floor (and is recorded)."""
    budget = get_budget(name, budget_name)
    print(budget.describe(), flush=True)
    setup(seed)
    try:
        run = budget.train(runs_dir=runs_dir, device=device, live_plot=False)
    except RunFailed as failed:
        print(failed, flush=True)
        return False
    print(f"record: {run.record}", flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.runs_dir.mkdir(parents=True, exist_ok=True)
    ok = [train_one(name, args.budget, args.runs_dir, args.device, args.seed)
          for name in args.models]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
