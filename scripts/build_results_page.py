"""Write book/results.md from saved run records; never from numbers typed in by hand.

Sources:
* ``benchmarks/results/*.json``: benchmark records (``make benchmark`` writes the LeNet
  one, ``benchmarks/grading_throughput.py`` the grading ones);
* the model registry: parameter and FLOP counts, computed here from the models.

Usage: ``python scripts/build_results_page.py [--check]``. With ``--check`` the
script writes nothing and exits 1 when the committed page differs from what the
records give (CI runs this through tests/test_results_page.py).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "results.md"
BENCHMARKS = ROOT / "benchmarks" / "results"

HEADER = """# Results

Every number on this page is read from a record written by a real run, computed
from such a record, or computed from the models themselves, by
`scripts/build_results_page.py` (`make results`). A test fails when this page and its
records disagree.
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
        *(
            [f"How cnnlib runs it: {ours['execution']}.", ""]
            if ours.get("execution") else []
        ),
        f"**Speedup: {record['speedup']:.2f}×** (target ≥ {target['speedup_at_least']}×: "
        f"{verdict}); cnnlib's accuracy is {accuracy} "
        f"({record['accuracy_gap']:+.3f}).",
        "",
        f"Hardware: {hw.get('cpu_model', 'unknown CPU')}, {hw.get('cpu_count', '?')} cores, "
        f"torch {hw.get('torch', '?')} with {hw.get('torch_threads', '?')} threads. "
        f"Run on {record['date']}. Reproduce with `make benchmark`, or `{record['command']}`.",
    ]
    return "\n".join(lines)


def grading_section(records: dict[str, dict]) -> str:
    """How fast ``make grade`` grades a class (benchmarks/grading_throughput.py), per assignment."""
    ways = ("sandbox", "unisolated", "otter run")
    lines = [
        "## Grading speed: make grade vs otter run",
        "",
        "Each record grades one class of submissions (solutions, plausible wrong answers "
        "and blank student notebooks, in turn) three ways, one after another, on one "
        "machine, two submissions at a time: *sandbox* is `make grade` as the instructors' "
        "guide describes it, *unisolated* the same grader without the sandbox, and "
        "*otter run* otter-grader's own local grading. Rates are submissions per minute.",
        "",
        "| assignment | class | sandbox | unisolated | otter run |",
        "|---|---:|---:|---:|---:|",
    ]
    notes, machines, commands = [], [], []
    for assignment, record in records.items():
        rate = record["submissions_per_minute"]
        seconds = record["seconds"]["sandbox"]
        size = round(sum(seconds) / len(seconds) * rate["sandbox"] / 60)
        name = assignment.replace("_", ".")
        lines.append("| " + " | ".join(
            [name, str(size), *(f"{rate[way]:.1f}" for way in ways)]) + " |")
        notes.append(
            f"- {name}: sandboxed, {record['sandbox_vs_otter_run']:.2f}× as fast as otter run; "
            f"the sandbox costs {100 * (1 - record['sandbox_vs_unisolated']):.1f} % of the "
            f"grader's rate; a class of 200 at this rate takes {200 / rate['sandbox']:.1f} min."
        )
        commands.append(f"`python benchmarks/grading_throughput.py --assignment {assignment} "
                        f"--class-size {size}`")
        machine = record["machine"]
        described = f"{machine['cpu']}, {machine['cores']} cores"
        if described not in machines:
            machines.append(described)
    lines += [
        "",
        *notes,
        "",
        f"Machine: {'; '.join(machines)}. Reproduce with {' and '.join(commands)}.",
    ]
    return "\n".join(lines)


# No column of D2L's own accuracies: D2L v1.0.3 shows its training runs as plots and
# prints no accuracy. The one d2l figure here, LeNet's, is our own run of d2l's trainer
# (the benchmark section above, from benchmarks/results/lenet_vs_d2l.json).
PLOT = ROOT / "book" / "_static" / "results_models.png"


def _settings_summary(settings: dict) -> str:
    """What a budget trained with, in a few words: 'all 60k, 28 px, 4 ep, adam, fp32'."""
    subset = settings.get("train_subset")
    side = settings.get("resize") or 28
    parts = [f"{subset // 1000}k imgs" if subset else "60k imgs", f"{side} px"]
    if settings.get("width_divisor", 1) != 1:
        parts.append(f"width ÷{settings['width_divisor']}")
    parts += [f"{settings['epochs']} ep", settings["optimizer"], settings["precision"]]
    return ", ".join(parts)


def _hardware_key(hw: dict) -> str:
    device = hw.get("gpu") or f"{hw.get('cpu_model')} ({hw.get('cpu_count')} cores)"
    return f"{device}, torch {hw.get('torch')}, {hw.get('torch_threads')} threads"


@functools.cache
def _model_cost(name: str, side: int) -> tuple[int, int]:
    """(parameters, FLOPs) of a registered model on one ``side``×``side`` image."""
    from cnnlib.models import get_model
    from cnnlib.models.cost import count_flops, count_parameters

    model = get_model(name)
    return count_parameters(model), count_flops(model, (1, 1, side, side))


def model_rows(runs: list[dict]) -> list[dict]:
    """One row per registered model: size and cost computed here, accuracy from records."""
    from cnnlib.models import MODELS

    by_key = {(r["model"], r["budget"]): r for r in runs}
    rows = []
    for name, entry in MODELS.items():
        params, flops = _model_cost(name, entry.input_size)
        rows.append({
            "name": name, "section": entry.section, "input": entry.input_size,
            "params": params, "flops": flops,
            "quick": by_key.get((name, "quick")), "full": by_key.get((name, "full")),
        })
    return rows


def models_section(rows: list[dict]) -> str:
    hardware: list[str] = []

    def note(record: dict) -> str:
        key = _hardware_key(record["hardware"])
        if key not in hardware:
            hardware.append(key)
        return f"[^hw{hardware.index(key) + 1}]"

    lines = [
        "## All models",
        "",
        "Parameters and FLOPs are computed from the models at the input size the book "
        "uses (FLOPs count the multiply and the add of convolutions and dense layers, "
        "`cnnlib.models.cost`). Accuracies and times come from the run records in "
        "`benchmarks/results/runs/`: `make notebooks` writes the *quick* ones (what the "
        "website and CI run) when it executes the sections, and "
        "`scripts/train_budget.py MODEL --budget full` the *full* ones (the book's "
        "settings; \"no run yet\" means nobody has run them, most need a GPU). "
        "Times are wall-clock seconds of training and validation, summed over the epochs, "
        "on the machine named in the footnote, with whatever else it was running at the "
        "time: a record does not say how busy the machine was.",
        "",
        # Two tables of a few columns each rather than one of ten: each fits the page's
        # column, where the ten did not and hid three of them behind a scrollbar.
        "| model | section | input | parameters (M) | FLOPs (M) |",
        "|---|---|---:|---:|---:|",
    ]
    for row in rows:
        cells = [row["name"], row["section"], str(row["input"]), f"{row['params'] / 1e6:,.3f}",
                 f"{row['flops'] / 1e6:,.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "| model | quick budget | quick val acc | quick train time (s) | full val acc |",
        "|---|---|---:|---:|---:|",
    ]
    for row in rows:
        quick, full = row["quick"], row["full"]
        quick_cells = (
            [_settings_summary(quick["settings"]), f"{quick['final']['val_acc']:.3f}",
             f"{quick['train_seconds']:.0f} {note(quick)}"]
            if quick else ["—", "no run recorded", "—"]
        )
        full_cell = f"{full['final']['val_acc']:.3f} {note(full)}" if full else "no run yet"
        lines.append("| " + " | ".join([row["name"], *quick_cells, full_cell]) + " |")
    lines += ["", f"![Accuracy and cost of every model](_static/{PLOT.name})", ""]
    lines += [f"[^hw{i + 1}]: {key}" for i, key in enumerate(hardware)]
    return "\n".join(lines)


def render_plot(rows: list[dict]) -> bytes:
    """Quick-budget accuracy (with our full-budget run's, where recorded) and FLOPs."""
    from cnnlib.viz import style
    from cnnlib.viz.common import figure_to_png, new_figure

    # Horizontal bars, the model names once on the left: at the page's width, names
    # under vertical bars would overlap.
    fig = new_figure(style.MAX_WIDTH, 4.2)
    acc_ax, cost_ax = fig.subplots(1, 2, sharey=True)
    names = [row["name"] for row in rows]
    positions = range(len(rows))
    quick = [row["quick"]["final"]["val_acc"] if row["quick"] else 0.0 for row in rows]
    acc_ax.barh(positions, quick, color="#6fa8dc", label="quick budget")
    fulls = [(i, row["full"]["final"]["val_acc"]) for i, row in enumerate(rows) if row["full"]]
    acc_ax.scatter([a for _, a in fulls], [i for i, _ in fulls], marker="|", s=200,
                   color="#cc0000", zorder=3, label="full budget (D2L's settings)")
    acc_ax.set_xlim(0.6, 1.0)
    acc_ax.set_xlabel("validation accuracy")
    acc_ax.set_yticks(list(positions), names)
    acc_ax.invert_yaxis()
    cost_ax.barh(positions, [row["flops"] / 1e6 for row in rows], color="#b6d7a8")
    cost_ax.set_xscale("log")
    cost_ax.set_xlabel("MFLOPs per image")
    # Under the plots: inside, the legend would hide the bars.
    fig.legend(loc="outside lower center", ncols=2)
    return figure_to_png(fig)


def build_page() -> tuple[str, bytes]:
    """The page's Markdown and its plot's PNG bytes."""
    sections = [HEADER]
    for path in sorted(BENCHMARKS.glob("*.json")):
        record = json.loads(path.read_text())
        if path.stem == "lenet_vs_d2l":
            sections.append(lenet_benchmark_section(record))
    grading = {
        path.stem.removeprefix("grading_throughput_"): json.loads(path.read_text())
        for path in sorted(BENCHMARKS.glob("grading_throughput_*.json"))
    }
    if grading:
        sections.append(grading_section(grading))
    runs = [json.loads(p.read_text()) for p in sorted((BENCHMARKS / "runs").glob("*.json"))]
    rows = model_rows(runs)
    sections.append(models_section(rows))
    return "\n\n".join(sections) + "\n", render_plot(rows)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    page, plot = build_page()
    if args.check:
        stale = [p for p, data in ((PAGE, page.encode()), (PLOT, plot))
                 if not p.exists() or p.read_bytes() != data]
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: run `make results` and commit it",
                  file=sys.stderr)
        if stale:
            return 1
        print(f"{PAGE.relative_to(ROOT)} and its plot match their records")
        return 0
    from cnnlib._atomic import atomic_write_bytes  # like cnnlib.models: only when needed

    atomic_write_bytes(PAGE, page.encode())
    atomic_write_bytes(PLOT, plot)
    print(f"wrote {PAGE.relative_to(ROOT)} and {PLOT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
