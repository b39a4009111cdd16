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
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jupytext
import nbformat
import yaml

from cnnlib._atomic import atomic_open, atomic_write_bytes

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from assignment_masters import (  # noqa: E402
    AssignmentError,
    Master,
    find_masters,
    guide_table,
    leaks,
    read_master,
)

OUT = ROOT / "_build" / "assignments"
SEED_FILE = "grading-seed.json"  # scripts/grade_assignments.py reads it; students never see it
# The website's html_extra_path copies OUT/site/ into its root: OUT/site/assignments/<stem>.ipynb
# is served as assignments/<stem>.ipynb, the download each chapter's Exercises section links.
SITE = "site/assignments"


def repository_url() -> str:
    """The repository's address, kept once in _config.yml (the Colab cells use it too)."""
    return yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]


def _add_requirements(notebook, folder: Path) -> None:
    """Make the autograder zip install cnnlib where it runs (Gradescope builds its image
    from the zip's requirements); locally `otter run` uses this environment instead."""
    (folder / "requirements.txt").write_text(f"cnnlib @ git+{repository_url()}\n")
    cell = notebook.cells[0]
    header, body = cell.source.split("\n", 1)
    if cell.cell_type != "raw" or header.strip() != "# ASSIGNMENT CONFIG":
        raise AssignmentError("the first cell of a master must be the ASSIGNMENT CONFIG raw cell")
    config = yaml.safe_load(body)
    config["requirements"] = "requirements.txt"
    cell.source = header + "\n" + yaml.safe_dump(config, sort_keys=False)


def declare_forbids(notebook, master: Master) -> None:
    """Take ``forbids:``, ``kind:`` and ``exercises:`` out of each question's config (otter
    does not know them); say in the prompt which exercises it grades and what is forbidden,
    so the student reads what the grader enforces."""
    by_name = {q.name: q for q in master.questions}
    question = None
    for cell in notebook.cells:
        first = cell.source.split("\n", 1)[0].strip() if cell.cell_type == "raw" else ""
        if first == "# BEGIN QUESTION":
            config = yaml.safe_load(cell.source.split("\n", 1)[1]) or {}
            question = by_name.get(str(config.get("name")))
            config.pop("forbids", None)
            config.pop("kind", None)
            config.pop("exercises", None)
            cell.source = first + "\n" + yaml.safe_dump(config, sort_keys=False)
        elif question is not None and cell.cell_type == "markdown":
            if question.exercises:
                numbers = " and ".join(", ".join(map(str, question.exercises)).rsplit(", ", 1))
                plural = "s" if len(question.exercises) > 1 else ""
                cell.source += (f"\n\n*This question grades exercise{plural} {numbers} of the "
                                "companion section.*")
            if question.forbids:
                names = ", ".join(f"`{name}`" for name in question.forbids)
                cell.source += (f"\n\n*Not allowed in this answer:* {names}. The grader "
                                "scores the question 0 if your code calls any of them.")
            question = None


def write_seed(folder: Path, previous: Path) -> None:
    """The build's secret seed for hidden inputs: the same submission gets the same inputs
    (and score) every time it is graded. A rebuild keeps the seed it finds at ``previous``
    (fixing a typo must not change every grade); delete that file for new hidden inputs."""
    try:
        seed = json.loads(previous.read_text())["seed"]
        assert isinstance(seed, int)
    except (OSError, ValueError, KeyError, TypeError, AssertionError):
        seed = secrets.randbits(62)
    (folder / SEED_FILE).write_text(json.dumps({"seed": seed}) + "\n")
    (folder / SEED_FILE).chmod(0o600)


def colab_cell_first(path: Path) -> None:
    """Put the Colab install cell before otter's init cell (``import otter``).

    otter assign inserts its init cell at the top; on Colab, where otter-grader and
    cnnlib are not installed yet, Run All would stop at ``import otter`` before the
    install cell below it ever ran.
    """
    notebook = nbformat.read(path, as_version=4)
    code = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    init = next((i for i in code if "import otter" in notebook.cells[i].source), None)
    colab = next((i for i in code if "google.colab" in notebook.cells[i].source), None)
    if init is None or colab is None or colab < init:
        return
    notebook.cells.insert(init, notebook.cells.pop(colab))
    with atomic_open(path, "w") as handle:
        nbformat.write(notebook, handle)


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
        _add_requirements(notebook, source.parent)
        declare_forbids(notebook, master)
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
        for notebook_path in (student, dist / "autograder" / f"{master.stem}.ipynb"):
            colab_cell_first(notebook_path)
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
        write_seed(staged / "autograder", final / "autograder" / SEED_FILE)
        if final.exists():
            shutil.rmtree(final)
        staged.rename(final)
    student = final / "student" / f"{master.stem}.ipynb"
    atomic_write_bytes(out / SITE / student.name, student.read_bytes())
    return final


def is_current(master: Master, out: Path = OUT) -> bool:
    """True when the built student notebook is newer than its master and the build code."""
    built = out / SITE / f"{master.stem}.ipynb"
    sources = [master.path, Path(__file__), ROOT / "scripts" / "assignment_masters.py"]
    return built.exists() and all(built.stat().st_mtime > p.stat().st_mtime for p in sources)


def write_table(masters: list[Master], out: Path = OUT) -> Path:
    """The instructors' guide's table of every assignment (book/instructors.md includes it)."""
    return atomic_write_bytes(out / "table.md", guide_table(masters).encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sections", nargs="*", help="e.g. 7_2 or 7_2_conv_images; default all")
    parser.add_argument("--no-run-tests", action="store_true",
                        help="skip otter's check that each solution scores full marks")
    parser.add_argument("--if-changed", action="store_true",
                        help="skip assignments whose student notebook is newer than the master")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    try:
        every = {path: read_master(path) for path in find_masters()}
        write_table(list(every.values()))
        masters = [every[path] for path in find_masters(args.sections)]
    except AssignmentError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.if_changed:
        masters = [m for m in masters if not is_current(m)]
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
