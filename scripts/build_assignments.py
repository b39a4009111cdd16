"""Build the classroom assignments: a student and an autograder version of every master.

    python scripts/build_assignments.py                 # every assignments/*.py
    python scripts/build_assignments.py 7_2 8_5          # only these sections

For each master ``assignments/<stem>.py`` (Jupytext percent format, otter-grader's block
markers as raw cells) this writes::

    _build/assignments/<stem>/student/<stem>.ipynb     solutions replaced by ..., no hidden tests
    _build/assignments/<stem>/autograder/<stem>.ipynb  solutions and every test
    _build/assignments/<stem>/autograder/<stem>-autograder_*.zip   for Gradescope or `otter run`
    _build/assignments/site/assignments/<stem>.ipynb   the student notebook the website links to

``otter assign`` grades the solution with every test and fails unless it scores full
marks, so a built assignment is one whose own solution passes. Each section is built in
a temporary folder and moved into place only when it is complete and the student
version has been checked for leaks (no solution line, no hidden test): an interrupted
or failed build never leaves a half-written assignment behind.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from assignment_masters import (  # noqa: E402
    AssignmentError,
    Master,
    find_masters,
    leaks,
    read_master,
)

OUT = ROOT / "_build" / "assignments"
# The website's html_extra_path copies OUT/site/ into its root: OUT/site/assignments/<stem>.ipynb
# is served as assignments/<stem>.ipynb, the download each chapter's Exercises section links.
SITE = "site/assignments"


def build(master: Master, out: Path = OUT, run_tests: bool = True) -> Path:
    """Build one assignment into ``out/<stem>``; return that folder."""
    final = out / master.stem
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{master.stem}-", dir=out) as tmp:
        tmp = Path(tmp)
        source = tmp / "master" / f"{master.stem}.ipynb"
        source.parent.mkdir()
        notebook = jupytext.read(master.path)
        notebook.metadata.pop("jupytext", None)  # otter copies metadata into both versions
        nbformat.write(notebook, source)
        dist = tmp / "dist"
        command = [sys.executable, "-m", "otter", "assign", "--no-pdfs", str(source), str(dist)]
        if not run_tests:
            command.insert(4, "--no-run-tests")
        done = subprocess.run(command, cwd=tmp, capture_output=True, text=True,
                              env={**os.environ, "MPLBACKEND": "Agg"})
        if done.returncode != 0:
            raise AssignmentError(
                f"{master.path.name}: otter assign failed (exit {done.returncode}):\n"
                + (done.stdout + done.stderr)[-3000:]
            )
        student = dist / "student" / f"{master.stem}.ipynb"
        found = leaks(master, nbformat.read(student, as_version=4))
        if found:
            raise AssignmentError(
                f"{master.path.name}: the student notebook would show solution or hidden-test "
                f"lines; refusing to publish it:\n  " + "\n  ".join(found[:10])
            )
        staged = tmp / "built"
        staged.mkdir()
        shutil.move(dist / "student", staged / "student")
        shutil.move(dist / "autograder", staged / "autograder")
        if final.exists():
            shutil.rmtree(final)
        staged.rename(final)
    site = out / SITE
    site.mkdir(parents=True, exist_ok=True)
    copy = site / f".{master.stem}.ipynb.part"
    shutil.copyfile(final / "student" / f"{master.stem}.ipynb", copy)
    copy.replace(site / f"{master.stem}.ipynb")
    return final


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sections", nargs="*", help="e.g. 7_2 or 7_2_conv_images; default all")
    parser.add_argument("--no-run-tests", action="store_true",
                        help="skip otter's check that each solution scores full marks")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    try:
        masters = [read_master(path) for path in find_masters(args.sections)]
    except AssignmentError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    failures = []

    def one(master: Master) -> None:
        try:
            folder = build(master, run_tests=not args.no_run_tests)
            points = sum(q.points for q in master.questions)
            print(f"built {folder.relative_to(ROOT)}: {len(master.questions)} questions, "
                  f"{points:g} points", flush=True)
        except AssignmentError as error:
            failures.append(str(error))

    with ThreadPoolExecutor(max(1, min(args.jobs, len(masters)))) as pool:
        list(pool.map(one, masters))
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
