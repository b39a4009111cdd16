"""Write book/results.md from saved run records; never from numbers typed in by hand.

Sources:
* ``benchmarks/results/*.json``: benchmark records (``make benchmark`` writes the LeNet
  one, ``benchmarks/grading_throughput.py`` the grading ones, ``benchmarks/web_*.py`` the
  ones of the explorers in the reader's browser);
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


# Issue 21's targets for the website's explorers (what the section below measures against).
REDRAW_TARGET_MS = 16
NETWORK_PASS_TARGET_MS = 50
FIRST_ANSWER_TARGET_MS = 1500
NETWORK_PAGE_BUDGET_MB = 6.0
CHAPTER7_PAGE_BUDGET_MB = 0.5


def browser_section(ops: dict, networks: dict, explorers: dict) -> str:
    """The explorers in the reader's browser (benchmarks/web_*.py), against issue 21's
    targets: redraw, trained-network pass, first answer, extra download."""
    lines = [
        "## In the reader's browser",
        "",
        "What the website computes without a kernel, measured in headless Chromium from "
        "`file://`, beside PyTorch on one thread on the same machine in the same run. "
        f"Targets: a chapter-7 redraw within {REDRAW_TARGET_MS} ms while a slider is dragged, "
        f"a trained network's pass within {NETWORK_PASS_TARGET_MS} ms, the first answer within "
        f"{FIRST_ANSWER_TARGET_MS / 1000:g} s of opening a page, and at most "
        f"{NETWORK_PAGE_BUDGET_MB:g} MB of extra download on a page with a trained network, "
        f"{CHAPTER7_PAGE_BUDGET_MB:g} MB on a chapter-7 page.",
        "",
        "### Explorers that compute on the page",
        "",
        "Each explorer's slowest control (by 95th percentile) at each screen width. A redraw "
        "is the change handled, the new numbers computed (for a network, its answer "
        "awaited), the picture drawn and laid out.",
        "",
        "| explorer | computes with | screen | slowest control | median redraw (ms) | "
        "95th percentile | worst | target (ms) |",
        "|---|---|---|---|---:|---:|---:|---:|",
    ]
    slowest: dict[tuple[str, str], dict] = {}
    for row in explorers["browser_redraws"]:
        key = (row["explorer"], row["viewport"])
        if key not in slowest or row["p95_ms"] > slowest[key]["p95_ms"]:
            slowest[key] = row
    over = []
    for (name, viewport), row in slowest.items():
        needs = row.get("computes_with", ["ops"])
        network = any(n.startswith("network:") for n in needs)
        target = NETWORK_PASS_TARGET_MS if network else REDRAW_TARGET_MS
        if row["median_ms"] > target:
            over.append(f"{name} ({viewport})")
        lines.append(f"| {name} | {', '.join(needs)} | {viewport} | {row['control']} | "
                     f"{row['median_ms']:.1f} | {row['p95_ms']:.1f} | {row['max_ms']:.1f} | "
                     f"{target} |")
    lines += ["", "Median over the target: " + (", ".join(over) if over else "none") + "."]
    pages = explorers.get("first_answer", [])
    if pages:
        lines += [
            "",
            "| page | first answer, median (ms) | worst (ms) | loads | explorers' scripts "
            "and data in the page (MB) |",
            "|---|---:|---:|---:|---:|",
        ]
        for row in pages:
            inline = row.get("explorer_bytes")
            lines.append(f"| `{row['page']}` | {row['median_ms']:.0f} | {row['max_ms']:.0f} | "
                         f"{row['loads']} | "
                         f"{'' if inline is None else f'{inline / 1e6:.3f}'} |")
        lines += [
            "",
            "The first answer is the time from opening the page (from `file://`) to its first "
            "explorer drawn with numbers of its own (for a network, its first answer). The "
            "explorers' scripts and data are inline in the page's HTML, so a page works from a "
            f"folder (target {CHAPTER7_PAGE_BUDGET_MB:g} MB of extra download on a chapter-7 "
            "page); a page with a trained network loads the runtime and the model besides "
            "(below).",
        ]
    lines += [
        "",
        "### The chapter-7 operations (`cnn-ops.js`)",
        "",
        "| operation | JavaScript (ms per call) | Python (ms per call) | largest difference |",
        "|---|---:|---:|---:|",
    ]
    for op in ops["operations"]:
        diff = op["max_abs_diff"]  # None where the answer is a box, compared exactly
        lines.append(f"| {op['operation']} | {op['js_median_ms']:.4f} | "
                     f"{op['torch_median_ms']:.4f} | "
                     f"{'equal' if diff is None else f'{diff:.1e}'} |")
    lines += [
        "",
        f"Medians of {ops['blocks']} blocks of {ops['calls_per_block']} calls.",
        "",
        "### Trained networks (onnxruntime-web, one thread)",
        "",
        "| network | extra download (MB) | within budget | first answer (ms) | "
        "pass with feature maps (ms) | logits only (ms) | PyTorch (ms) |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for net in networks["networks"]:
        mb = net["download_bytes"] / 1e6
        within = "yes" if mb <= NETWORK_PAGE_BUDGET_MB else "**no**"
        lines.append(f"| {net['network']} | {mb:.2f} | {within} | {net['first_answer_ms']:.0f} | "
                     f"{net['browser_ms']:.2f} | {net['browser_logits_only_ms']:.2f} | "
                     f"{net['pytorch_ms']:.2f} |")
    over = [n["network"] for n in networks["networks"]
            if n["download_bytes"] / 1e6 > NETWORK_PAGE_BUDGET_MB]
    lines += [
        "",
        "The extra download is the runtime (onnxruntime-web's wasm, gzipped and written seven "
        "bits to a character in a script, as pages opened from a folder need; "
        "`scripts/web_pack.py`) and the model, packed the same way. "
        + (f"Over the {NETWORK_PAGE_BUDGET_MB:g} MB budget: {', '.join(over)}: their float16 "
           "weights with the runtime's own 3.6 MB of gzip are more than 6 MB however they "
           "are written." if over else "Every network is within the budget."),
        "",
        f"Machine: {networks['machine']['cpu_model']}, {networks['machine']['cpu_count']} cores, "
        f"{networks['browser']}. Reproduce with `python benchmarks/web_explorer_redraw.py`, "
        "`python benchmarks/web_ops_speed.py` and `python benchmarks/web_networks_speed.py` "
        "(after `make book`).",
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
    web = {name: BENCHMARKS / f"{name}.json"
           for name in ("web_ops_speed", "web_networks_speed", "web_explorer_redraw")}
    if all(path.is_file() for path in web.values()):
        sections.append(browser_section(*(json.loads(p.read_text()) for p in web.values())))
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
