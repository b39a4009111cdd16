"""How fast a class is graded: the sandboxed grader against plain ``otter run``, one run.

Builds one assignment into a temporary folder, makes a class of ``--class-size``
submissions (a third solutions, a third plausible wrong answers from tests/wrong_answers/,
a third untouched student notebooks), then grades the same folder three ways, in turns:

* ``sandbox``: ``make grade`` as instructors run it (scripts/grade_assignments.py: every
  submission in a bubblewrap sandbox, the tests in the grading process);
* ``unisolated``: the same grader with ``--unisolated`` (no sandbox), to show what the
  sandbox itself costs;
* ``otter run``: otter-grader's own local grading of each notebook (no isolation, the
  hidden tests inside the student's kernel), the tool this project builds on.

Each way uses ``--workers`` submissions at a time. Submissions per minute and the ratios
go to benchmarks/results/grading_throughput_<assignment>.json with the machine they were
measured on,
with the number of submissions whose scores agree between the sandbox and otter run.

Usage: python benchmarks/grading_throughput.py [--assignment 7_2] [--class-size 40]
       [--workers 2] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))

from assignment_harness import wrong_answers  # noqa: E402
from assignment_masters import find_masters, read_master  # noqa: E402
from build_assignments import build  # noqa: E402
from grade_assignments import grade_folder  # noqa: E402

from cnnlib._atomic import atomic_write_json  # noqa: E402
from cnnlib.runs.records import cpu_model  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"  # grading_throughput_<assignment>.json


def make_class(master, folder: Path, out: Path, size: int) -> None:
    """Solutions, wrong answers and blank notebooks, in turn, ``size`` in all."""
    solution = folder / "autograder" / f"{master.stem}.ipynb"
    student = nbformat.read(folder / "student" / f"{master.stem}.ipynb", as_version=4)
    wrong = [(q, code) for q, codes in wrong_answers(master).items() for code in codes]
    out.mkdir(parents=True)
    for k in range(size):
        kind = k % 3
        if kind == 0:
            shutil.copy(solution, out / f"s{k:03d}_solution.ipynb")
        elif kind == 1:
            _question, code = wrong[(k // 3) % len(wrong)]
            notebook = nbformat.read(solution, as_version=4)
            name = code.split("def ", 1)[1].split("(", 1)[0] if "def " in code else None
            cell = next((c for c in notebook.cells if c.cell_type == "code" and name
                         and f"def {name}(" in c.source), None)
            if cell is not None:
                cell.source = code.strip()
            else:  # a wrong answer that redefines globals: a cell of its own at the end
                notebook.cells.append(nbformat.v4.new_code_cell(code.strip()))
            nbformat.write(notebook, out / f"s{k:03d}_wrong.ipynb")
        else:
            nbformat.write(student, out / f"s{k:03d}_blank.ipynb")


def grade_with_otter(zip_path: Path, submissions: Path, workers: int, threads: int) -> dict:
    """``otter run`` on every submission, ``workers`` at a time; total score per file."""
    def one(path: Path) -> tuple[str, float | None]:
        with tempfile.TemporaryDirectory(prefix="otter-run-") as out:
            env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MPLBACKEND": "Agg"}
            done = subprocess.run(
                [sys.executable, "-m", "otter", "run", "-a", str(zip_path), "-o", out,
                 "--no-logo", str(path)], capture_output=True, text=True, env=env, timeout=600)
            results = Path(out) / "results.json"
            if done.returncode != 0 or not results.exists():
                return path.name, None
            tests = json.loads(results.read_text())["tests"]
            return path.name, sum(float(t.get("score") or 0) for t in tests)
    files = sorted(submissions.iterdir())
    with ThreadPoolExecutor(workers) as pool:
        return dict(pool.map(one, files))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="7_2")
    parser.add_argument("--class-size", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    master = read_master(find_masters([args.assignment])[0])
    threads = max(1, (os.cpu_count() or 1) // args.workers)
    times: dict[str, list[float]] = {"otter run": [], "sandbox": [], "unisolated": []}
    scores: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="grading-throughput-") as tmp:
        tmp = Path(tmp)
        folder = build(master, out=tmp / "built", run_tests=False)
        zip_path = next((folder / "autograder").glob("*.zip"))
        submissions = tmp / "class"
        make_class(master, folder, submissions, args.class_size)
        for _round in range(args.rounds):
            for way in times:
                start = time.perf_counter()
                if way == "otter run":
                    scores[way] = grade_with_otter(zip_path, submissions, args.workers, threads)
                else:
                    rows = grade_folder(master, submissions, tmp / f"{way}.csv",
                                        workers=args.workers, built=tmp / "built",
                                        unisolated=way == "unisolated")
                    scores[way] = {r.submission: r.total() for r in rows}
                times[way].append(time.perf_counter() - start)
                print(f"{way}: {times[way][-1]:.1f} s", flush=True)
    per_minute = {way: args.class_size / statistics.median(t) * 60 for way, t in times.items()}
    # Where the two differ, and why they can: otter does not check forbidden calls (the
    # sandbox scores such a question 0); otter rounds scores to 5 decimals, hence the 1e-3.
    def same(a: float | None, b: float | None) -> bool:
        return a is not None and b is not None and abs(a - b) < 1e-3

    agree = sum(same(scores["sandbox"].get(n), s) for n, s in scores["otter run"].items())
    differ = {n: {"otter run": s, "sandbox": round(scores["sandbox"].get(n) or 0, 3)}
              for n, s in scores["otter run"].items() if not same(scores["sandbox"].get(n), s)}
    record = {
        "what": f"grading a class of {args.class_size} submissions of assignment "
                f"{master.stem}, {args.workers} at a time",
        "machine": {"cpu": cpu_model(),
                    "cores": os.cpu_count(), "load_average": os.getloadavg()},
        "seconds": {way: [round(t, 1) for t in ts] for way, ts in times.items()},
        "submissions_per_minute": {way: round(v, 1) for way, v in per_minute.items()},
        "sandbox_vs_otter_run": round(per_minute["sandbox"] / per_minute["otter run"], 3),
        "sandbox_vs_unisolated": round(per_minute["sandbox"] / per_minute["unisolated"], 3),
        "scores_agreeing_with_otter_run": f"{agree} of {len(scores['otter run'])}",
        "scores_that_differ": differ,
        "otter_run_failures": sum(v is None for v in scores["otter run"].values()),
    }
    atomic_write_json(RESULTS / f"grading_throughput_{args.assignment}.json", record)
    print(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
