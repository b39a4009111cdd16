"""Run records: what a training run achieved, where, and with which settings.

The results page (``scripts/build_results_page.py``) is generated from these
JSON files, never from numbers typed by hand. A notebook records its runs only
when ``CNNLIB_RUNS_DIR`` is set, which ``make notebooks`` does; nbval's
re-execution in CI leaves the committed records alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from cnnlib._atomic import atomic_write_json
from cnnlib.models.base import count_parameters, model_device

RUNS_DIR_ENV = "CNNLIB_RUNS_DIR"


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo on Linux, else what ``platform`` reports."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def git_commit() -> str | None:
    """The repository's current commit, or None outside a git checkout."""
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True, cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.CalledProcessError):
        return None
    return result.stdout.strip()


def hardware_info(device: torch.device | str | None = None) -> dict[str, Any]:
    """Where a run happened: CPU, cores, accelerator, torch version and threads."""
    device = torch.device(device) if device is not None else None
    info: dict[str, Any] = {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "device": device.type if device is not None else None,
        "gpu": None,
    }
    if device is not None and device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def save_run_record(
    name: str,
    budget: Any,
    history: Any,
    model: torch.nn.Module,
    device: torch.device | str | None = None,
    runs_dir: str | Path | None = None,
) -> Path | None:
    """Record a finished run as ``<runs_dir>/<name>_<budget>.json``.

    Args:
        name: the model's registry name, e.g. ``"resnet18"``.
        budget: the :class:`cnnlib.runs.budget.Budget` the run used.
        history: the :class:`cnnlib.training.history.History` that ``Trainer.fit`` returned.
        model: the trained model (its parameter count is recorded).
        device: where it trained (default: where its parameters are).
        runs_dir: where to write; default ``$CNNLIB_RUNS_DIR``. When neither is set
            nothing is written and ``None`` is returned, so re-executing a notebook
            (nbval in CI) never rewrites committed records.

    Returns:
        The path written, or ``None``.
    """
    runs_dir = runs_dir if runs_dir is not None else os.environ.get(RUNS_DIR_ENV)
    if not runs_dir:
        return None
    if len(history) == 0:
        raise ValueError(f"history of {name!r} has no epochs: nothing to record")
    if device is None:
        device = model_device(model)
    epochs = history.to_dict()
    record = {
        "model": name,
        "budget": budget.budget,
        "settings": dataclasses.asdict(budget),
        "parameters": count_parameters(model),
        "final": history.final(),
        "best": history.best("val_acc"),
        "train_seconds": float(sum(history.seconds)),
        "history": epochs,  # includes "stopped": why it ended early, or None
        "hardware": hardware_info(device),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return atomic_write_json(Path(runs_dir) / f"{name}_{budget.budget}.json", record)


def load_run_records(runs_dir: str | Path) -> list[dict[str, Any]]:
    """Every record in ``runs_dir``, sorted by file name."""
    return [json.loads(p.read_text()) for p in sorted(Path(runs_dir).glob("*.json"))]
