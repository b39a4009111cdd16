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


def test_every_accuracy_on_the_page_comes_from_a_record():
    # No accuracy typed into the generator: with no records the tables hold sizes and
    # costs only, and a full-budget record fills its model's full column (and the plot).
    empty = results_page.models_section(results_page.model_rows([]))
    assert "D2L" not in empty and "no run recorded" in empty
    table = [line for line in empty.splitlines() if line.startswith("| lenet |")][0]
    assert table.count("|") == 6  # model, section, input, parameters, FLOPs
    full = {
        "model": "lenet", "budget": "full",
        "settings": {"train_subset": None, "resize": None, "epochs": 10,
                     "optimizer": "sgd", "precision": "fp32"},
        "final": {"val_acc": 0.6543}, "train_seconds": 12.0,
        "hardware": {"gpu": "Test GPU", "torch": "2.x", "torch_threads": 1},
    }
    rows = results_page.model_rows([full])
    [_, lenet] = [line for line in results_page.models_section(rows).splitlines()
                  if line.startswith("| lenet |")]
    assert lenet.endswith("| 0.654 [^hw1] |"), lenet
    assert results_page.render_plot(rows).startswith(b"\x89PNG")


def test_grading_numbers_come_from_the_record():
    record = {
        "machine": {"cpu": "Test CPU", "cores": 2},
        "seconds": {"otter run": [120.0], "sandbox": [30.0], "unisolated": [24.0]},
        "submissions_per_minute": {"otter run": 10.0, "sandbox": 40.0, "unisolated": 50.0},
        "sandbox_vs_otter_run": 4.0, "sandbox_vs_unisolated": 0.8,
    }
    section = results_page.grading_section({"7_2": record})
    # 40 a minute for 30 s: a class of 20; 200 of them take 5 minutes.
    assert "| 7.2 | 20 | 40.0 | 50.0 | 10.0 |" in section
    assert ("- 7.2: sandboxed, 4.00× as fast as otter run; the sandbox costs 20.0 % of the "
            "grader's rate; a class of 200 at this rate takes 5.0 min.") in section
    assert "Test CPU, 2 cores" in section and "--assignment 7_2 --class-size 20" in section


def test_browser_numbers_come_from_the_records():
    ops = {"blocks": 3, "calls_per_block": 10, "operations": [
        {"operation": "conv2d toy", "js_median_ms": 0.0123, "torch_median_ms": 0.0456,
         "max_abs_diff": 2.5e-7},
        {"operation": "inputRegion", "js_median_ms": 0.001, "torch_median_ms": 0.03,
         "max_abs_diff": None}]}
    networks = {"machine": {"cpu_model": "Test CPU", "cpu_count": 2}, "browser": "Chromium X",
                "networks": [
                    {"network": "lenet", "download_bytes": 5_480_000, "first_answer_ms": 548.4,
                     "browser_ms": 0.17, "browser_logits_only_ms": 0.08, "pytorch_ms": 0.21},
                    {"network": "vgg11", "download_bytes": 9_870_000, "first_answer_ms": 694,
                     "browser_ms": 1.8, "browser_logits_only_ms": 1.13, "pytorch_ms": 0.95}]}
    explorers = {
        "browser_redraws": [
            {"explorer": "E", "viewport": "phone 390 px", "control": "k", "computes_with": ["ops"],
             "median_ms": 1.25, "p95_ms": 3.5, "max_ms": 7.0},
            {"explorer": "E", "viewport": "phone 390 px", "control": "j", "computes_with": ["ops"],
             "median_ms": 1.0, "p95_ms": 2.0, "max_ms": 9.0},
            {"explorer": "N", "viewport": "desktop 1280 px", "control": "image",
             "computes_with": ["network:lenet"], "median_ms": 30.0, "p95_ms": 45.0,
             "max_ms": 60.0}],
        "first_answer": [{"page": "chapters/x.html", "median_ms": 412.0, "max_ms": 520.0,
                          "loads": 5, "explorer_bytes": 123_456}]}
    section = results_page.browser_section(ops, networks, explorers)
    # One row per explorer and screen: its slowest control by 95th percentile.
    assert "| E | ops | phone 390 px | k | 1.2 | 3.5 | 7.0 | 16 |" in section
    assert "| j |" not in section
    assert "| N | network:lenet | desktop 1280 px | image | 30.0 | 45.0 | 60.0 | 50 |" in section
    assert "Median over the target: none." in section
    assert "| `chapters/x.html` | 412 | 520 | 5 | 0.123 |" in section
    assert "| conv2d toy | 0.0123 | 0.0456 | 2.5e-07 |" in section
    assert "| inputRegion | 0.0010 | 0.0300 | equal |" in section
    assert "| lenet | 5.48 | yes | 548 | 0.17 | 0.08 | 0.21 |" in section
    assert "| vgg11 | 9.87 | **no** |" in section and "Over the 6 MB budget: vgg11:" in section
    assert "Test CPU, 2 cores, Chromium X" in section
