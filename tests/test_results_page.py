"""book/results.md is generated from run records and must agree with them."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "build_results_page", ROOT / "scripts" / "build_results_page.py"
)
results_page = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(results_page)


def test_committed_page_matches_its_records():
    assert results_page.main(["--check"]) == 0, "run `make results` and commit book/results.md"


def test_benchmark_numbers_come_from_the_record():
    record = {
        "benchmark": "LeNet test",
        "date": "2026-01-01T00:00:00+00:00",
        "config": {"epochs": 1, "batch_size": 128, "lr": 0.1, "optimizer": "SGD", "init": "x"},
        "throughput_measure": "images per second",
        "cnnlib": {"images_per_s": 31234.5, "val_acc": 0.7512, "execution": "two slices"},
        "d2l": {"images_per_s": 9876.0, "val_acc": 0.7401},
        "speedup": 31234.5 / 9876.0,
        "accuracy_gap": 0.7512 - 0.7401,
        "target": {"speedup_at_least": 3, "speedup_met": True, "accuracy_equal_or_better": True},
        "hardware": {"cpu_model": "Test CPU", "cpu_count": 2, "torch": "2.x", "torch_threads": 2},
        "command": "python benchmarks/lenet_vs_d2l.py",
    }
    section = results_page.lenet_benchmark_section(json.loads(json.dumps(record)))
    assert "| cnnlib | 31,234 | 0.751 |" in section or "| cnnlib | 31,235 | 0.751 |" in section
    assert "| d2l 1.0.3 | 9,876 | 0.740 |" in section
    assert f"**Speedup: {record['speedup']:.2f}×**" in section
    assert "Test CPU" in section
    assert "How cnnlib runs it: two slices." in section


def test_every_registered_model_has_a_row_and_records_fill_it():
    from cnnlib.models import MODELS

    record = {
        "model": "resnet18", "budget": "quick",
        "settings": {"train_subset": 20000, "resize": 32, "width_divisor": 2, "epochs": 3,
                     "optimizer": "sgd", "precision": "bf16"},
        "final": {"val_acc": 0.8912}, "train_seconds": 151.2,
        "hardware": {"cpu_model": "Test CPU", "cpu_count": 2, "torch": "2.x", "torch_threads": 2},
    }
    rows = results_page.model_rows([record])
    section = results_page.models_section(rows)
    for name, entry in MODELS.items():
        assert f"| {name} | {entry.section} |" in section
    # One row in the table of sizes, one in the table of runs.
    [_, resnet] = [line for line in section.splitlines() if line.startswith("| resnet18 |")]
    assert "| resnet18 | 20k imgs, 32 px, width ÷2, 3 ep, sgd, bf16 | 0.891 | 151 [^hw1]" in resnet
    assert "[^hw1]: Test CPU (2 cores), torch 2.x, 2 threads" in section
    assert results_page.render_plot(rows).startswith(b"\x89PNG")
