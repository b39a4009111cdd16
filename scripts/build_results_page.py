"""Write book/results.md from saved run records; never from numbers typed in by hand.

Sources:
* ``benchmarks/results/*.json``: benchmark records (``make benchmark`` writes them);
* the model registry: parameter and FLOP counts, computed here from the models.

Usage: ``python scripts/build_results_page.py [--check]``. With ``--check`` the
script writes nothing and exits 1 when the committed page differs from what the
records give (CI runs this through tests/test_results_page.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "results.md"
BENCHMARKS = ROOT / "benchmarks" / "results"

HEADER = """# Results

Every number on this page is read from a record written by a real run, or
computed from the models themselves, by `scripts/build_results_page.py`
(`make results`). A test fails when this page and its records disagree.
"""


def _fmt_int(n: float) -> str:
    return f"{n:,.0f}"


def lenet_benchmark_section(record: dict) -> str:
    """The LeNet throughput comparison (benchmarks/lenet_vs_d2l.py)."""
    ours, theirs, hw = record["cnnlib"], record["d2l"], record["hardware"]
    config = record["config"]
    target = record["target"]
    verdict = "met" if target["speedup_met"] else "not met"
    accuracy = "equal or better" if target["accuracy_equal_or_better"] else "lower"
    lines = [
        "## LeNet training speed: cnnlib vs d2l",
        "",
        f"{record['benchmark']}. Both sides train the notes' LeNet with the same "
        f"configuration ({config['epochs']} epochs, batch {config['batch_size']}, "
        f"lr {config['lr']}, {config['optimizer']}, {config['init']}), one after the other "
        "in one run on the same machine. Throughput counts "
        f"{record['throughput_measure']}.",
        "",
        "| trainer | images / s | final validation accuracy |",
        "|---|---:|---:|",
        f"| cnnlib | {_fmt_int(ours['images_per_s'])} | {ours['val_acc']:.3f} |",
        f"| d2l 1.0.3 | {_fmt_int(theirs['images_per_s'])} | {theirs['val_acc']:.3f} |",
        "",
        f"**Speedup: {record['speedup']:.2f}×** (target ≥ {target['speedup_at_least']}×: "
        f"{verdict}); cnnlib's accuracy is {accuracy} "
        f"({record['accuracy_gap']:+.3f}).",
        "",
        f"Hardware: {hw.get('cpu_model', 'unknown CPU')}, {hw.get('cpu_count', '?')} cores, "
        f"torch {hw.get('torch', '?')} with {hw.get('torch_threads', '?')} threads. "
        f"Run on {record['date']}. Reproduce with `make benchmark`, or `{record['command']}`.",
    ]
    return "\n".join(lines)


def model_cost_section() -> str:
    """Parameters and FLOPs of every registered model at the input size the book uses."""
    from cnnlib.models import MODELS, get_model
    from cnnlib.models.cost import cost_table, format_cost_table

    models = {
        f"{name} ({entry.section})": (get_model(name), (1, 1, entry.input_size, entry.input_size))
        for name, entry in MODELS.items()
    }
    return "\n".join([
        "## Model size and cost",
        "",
        "For one 1-channel image at the resolution the book trains each model at; FLOPs "
        "count the multiply and the add of convolutions and dense layers (`cnnlib.models.cost`).",
        "",
        format_cost_table(cost_table(models)),
    ])


def build_page() -> str:
    sections = [HEADER]
    for path in sorted(BENCHMARKS.glob("*.json")):
        record = json.loads(path.read_text())
        if path.stem == "lenet_vs_d2l":
            sections.append(lenet_benchmark_section(record))
    sections.append(model_cost_section())
    return "\n\n".join(sections) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    page = build_page()
    if args.check:
        if not PAGE.exists() or PAGE.read_text() != page:
            print(f"{PAGE} is stale: run `make results` and commit it", file=sys.stderr)
            return 1
        print(f"{PAGE.relative_to(ROOT)} matches its records")
        return 0
    fd, tmp = tempfile.mkstemp(dir=PAGE.parent, prefix=".results-", suffix=".md")
    with os.fdopen(fd, "w") as handle:
        handle.write(page)
    os.replace(tmp, PAGE)
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
