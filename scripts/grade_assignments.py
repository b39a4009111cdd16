"""Grade a folder of submissions for one assignment, locally, without Docker.

    python scripts/grade_assignments.py 7_2 path/to/submissions [--grades out.csv]
    make grade ASSIGNMENT=7_2 SUBMISSIONS=path/to/submissions [GRADES=out.csv]

Every file in the folder gets one row in the gradebook (a CSV with the columns
``submission``, one per question, ``total`` and ``reason``) and one feedback file that
lists each question's score and the message of every failed test. Submissions are
notebooks (``.ipynb``) or the zip that the notebook's own export cell writes.

Each submission is graded by ``otter run`` against the autograder that ``make
assignments`` built, in its own process, several at once (one per core by default),
each with a time limit. Whatever a submission is or does (blank, half done, a syntax
error, an exception, an endless loop, another assignment's notebook, a corrupt file,
not a notebook at all), it gets a row with a score (0 where nothing runs) and a reason;
no submission stops the batch. The gradebook and feedback files are written whole or
not at all.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from cnnlib._atomic import atomic_write_bytes

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from assignment_masters import AssignmentError, Master, find_masters, read_master  # noqa: E402

BUILT = ROOT / "_build" / "assignments"
GRADES = ROOT / "_build" / "grades"
PYTHON_KERNEL = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


@dataclass
class Row:
    submission: str  # the file's name in the submissions folder
    scores: dict[str, float] = field(default_factory=dict)  # question -> points
    reason: str = ""  # what happened, in a sentence
    feedback: str = ""  # the test messages, for the feedback file

    def total(self) -> float:
        return sum(self.scores.values())


def autograder_zip(master: Master, built: Path = BUILT) -> Path:
    """The autograder zip of a built assignment, or a clear error saying how to build it."""
    zips = sorted((built / master.stem / "autograder").glob("*-autograder_*.zip"))
    if not zips:
        raise AssignmentError(
            f"assignment {master.stem} is not built: run `make assignments` first "
            f"(looked in {built / master.stem / 'autograder'})"
        )
    return zips[-1]


# ----------------------------------------------------------------------------- preparing


def _read_notebook(data: bytes, name: str):
    try:
        notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
    except UnicodeDecodeError:
        raise AssignmentError(
            f"{name} is not text (a corrupt or binary file), so not a notebook") from None
    except Exception as error:  # nbformat raises several kinds for broken JSON
        message = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
        raise AssignmentError(f"{name} is not a readable notebook: {message}") from None
    if not isinstance(notebook.get("cells"), list):
        raise AssignmentError(f"{name} is JSON but not a notebook (it has no cells)")
    return notebook


def prepare(path: Path, master: Master, workdir: Path) -> tuple[Path, list[str]]:
    """Check one submission and write the notebook to grade into ``workdir``.

    Returns the notebook's path and notes worth telling the instructor; raises
    AssignmentError with the reason when there is nothing to grade.
    """
    if path.is_dir():
        raise AssignmentError(f"{path.name} is a folder, not a notebook")
    suffix = path.suffix.lower()
    if suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                inside = [n for n in archive.namelist() if n.endswith(".ipynb")
                          and not n.startswith("__MACOSX")]
                if len(inside) != 1:
                    raise AssignmentError(
                        f"{path.name} holds {len(inside)} notebooks; expected exactly one")
                data = archive.read(inside[0])
        except zipfile.BadZipFile:
            raise AssignmentError(f"{path.name} is not a valid zip file") from None
    elif suffix == ".ipynb":
        data = path.read_bytes()
    else:
        raise AssignmentError(f"{path.name} is not a notebook (.ipynb) or an exported zip")
    notebook = _read_notebook(data, path.name)
    notes = []
    name = notebook.metadata.get("otter", {}).get("assignment_name")
    if name is not None and name != master.stem:
        raise AssignmentError(f"{path.name} is a notebook of assignment {name}, not {master.stem}")
    if name is None:
        notes.append("no assignment name in the notebook's metadata (graded anyway)")
    for index, cell in enumerate(notebook.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        # IPython lines (%magic, !shell) are not Python; everything else must compile.
        source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                           for line in str(cell.get("source", "")).splitlines())
        try:
            compile(source, f"cell {index}", "exec")
        except SyntaxError as error:
            notes.append(f"cell {index} has a syntax error ({error.msg}, line {error.lineno})")
        cell["outputs"], cell["execution_count"] = [], None
    # Otter runs the kernel a notebook names: one saved under another kernel would fail.
    notebook.metadata["kernelspec"] = dict(PYTHON_KERNEL)
    target = workdir / f"{master.stem}.ipynb"
    nbformat.write(notebook, target)
    return target, notes


# ----------------------------------------------------------------------------- grading one


def _child(zip_path: str, notebook: str, out: str) -> None:
    """Runs in the grading subprocess: grade one notebook, save results and cell errors."""
    from otter.run import main as otter_run

    sink = io.StringIO()  # otter prints a summary table; the parent only wants files
    sys.stdout = sink
    try:
        results = otter_run(notebook, autograder=zip_path, output_dir=out, no_logo=True)
    finally:
        sys.stdout = sys.__stdout__
    # Otter adds cells of its own before and after the student's: number each error by the
    # position of the same cell in the submission, as prepare() numbers syntax errors.
    submitted = [cell.source for cell in nbformat.read(notebook, as_version=4).cells]
    errors = []
    for cell in results.notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                where = (f"cell {submitted.index(cell.source) + 1}"
                         if cell.source in submitted else "a grading cell")
                errors.append(f"{where} raised {output['ename']}: {output['evalue']}")
    Path(out, "cell_errors.json").write_text(json.dumps(errors))


def _kill_tree(process: subprocess.Popen) -> None:
    """Stop the grader and everything it started (the kernel runs in its own session)."""
    import psutil

    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    for proc in children + [process]:
        try:
            proc.kill()
        except (psutil.NoSuchProcess, ProcessLookupError):
            pass
    process.wait()
    psutil.wait_procs(children, timeout=10)


def grade_one(path: Path, master: Master, zip_path: Path, timeout: float, threads: int) -> Row:
    row = Row(path.name, {q.name: 0.0 for q in master.questions})
    with tempfile.TemporaryDirectory(prefix="cnnlib-grade-") as tmp:
        tmp = Path(tmp)
        (tmp / "in").mkdir()
        (tmp / "out").mkdir()
        try:
            notebook, notes = prepare(path, master, tmp / "in")
        except AssignmentError as error:
            row.reason = str(error)
            row.feedback = f"Not graded: {error}\n"
            return row
        env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": str(threads),
               "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, str(Path(__file__).resolve()), "--child",
                   str(zip_path), str(notebook), str(tmp / "out")]
        process = subprocess.Popen(command, cwd=tmp, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        try:
            log, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(process)
            row.reason = f"timed out after {timeout:g} s (an endless loop?); scored 0"
            row.feedback = (f"Grading stopped after {timeout:g} seconds. Run the notebook top to "
                            "bottom yourself: some cell never finishes.\n")
            return row
        results = tmp / "out" / "results.json"
        if process.returncode != 0 or not results.exists():
            last = [line for line in (log or "").strip().splitlines() if line.strip()][-1:]
            row.reason = "grading failed: " + (last[0] if last else f"exit {process.returncode}")
            row.feedback = f"Grading failed.\n\n{log}\n"
            return row
        tests = json.loads(results.read_text())["tests"]
        errors = json.loads((tmp / "out" / "cell_errors.json").read_text())
    feedback = []
    for test in tests:
        if test["name"] in row.scores:
            row.scores[test["name"]] = float(test.get("score") or 0)
            feedback.append(_question_feedback(test))
    answered = [q.name for q in master.questions if row.scores[q.name] >= q.points]
    parts = (["full marks"] if len(answered) == len(master.questions) else
             [f"{len(answered)} of {len(master.questions)} questions with full marks"])
    parts += notes + errors[:3] + ([f"and {len(errors) - 3} more cell errors"]
                                   if len(errors) > 3 else [])
    row.reason = "; ".join(parts)
    row.feedback = "\n".join(feedback)
    if errors:
        row.feedback += "\nCells that raised an error while grading:\n" + "\n".join(
            f"  {e}" for e in errors) + "\n"
    return row


def _question_feedback(test: dict) -> str:
    score, most = float(test.get("score") or 0), float(test.get("max_score") or 0)
    head = f"{test['name']}: {score:g} / {most:g}"
    if score >= most:
        return head + "  (all tests passed)\n"
    return head + "\n" + (test.get("output") or "").rstrip() + "\n"


# ----------------------------------------------------------------------------- the batch


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def write_gradebook(rows: list[Row], master: Master, grades: Path) -> Path:
    """Write the CSV and one feedback file per row; return the feedback folder."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", *(q.name for q in master.questions), "total", "reason"])
    for row in rows:
        writer.writerow([row.submission, *(f"{row.scores[q.name]:g}" for q in master.questions),
                         f"{row.total():g}", row.reason])
    feedback_dir = grades.with_name(grades.stem + "-feedback")
    staged = Path(tempfile.mkdtemp(prefix=".feedback-", dir=grades.parent))
    for row in rows:
        text = (f"{master.title}\nSubmission: {row.submission}\n"
                f"Score: {row.total():g} / {master.points:g}\n{row.reason}\n\n{row.feedback}")
        (staged / (_safe_name(row.submission) + ".txt")).write_text(text, encoding="utf-8")
    if feedback_dir.exists():
        shutil.rmtree(feedback_dir)
    staged.rename(feedback_dir)
    atomic_write_bytes(grades, buffer.getvalue().encode("utf-8"))
    return feedback_dir


def grade_folder(master: Master, submissions: Path, grades: Path, timeout: float = 300,
                 workers: int | None = None, built: Path = BUILT) -> list[Row]:
    """Grade every file in ``submissions``; write the gradebook and feedback; return the rows."""
    if not submissions.is_dir():
        raise AssignmentError(f"SUBMISSIONS must be a folder of notebooks, got {submissions}")
    zip_path = autograder_zip(master, built)
    files = sorted(p for p in submissions.iterdir() if not p.name.startswith("."))
    cores = os.cpu_count() or 1
    workers = max(1, min(workers or cores, len(files) or 1))
    threads = max(1, cores // workers)
    with ThreadPoolExecutor(workers) as pool:
        rows = list(pool.map(lambda p: grade_one(p, master, zip_path, timeout, threads), files))
    grades.parent.mkdir(parents=True, exist_ok=True)
    write_gradebook(rows, master, grades)
    return rows


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        _child(*argv[1:4])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", help="e.g. 7_2, 7.2 or 7_2_conv_images")
    parser.add_argument("submissions", type=Path, help="folder of .ipynb (or exported .zip) files")
    parser.add_argument("--grades", type=Path,
                        help="gradebook CSV (default _build/grades/<name>.csv)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per submission")
    parser.add_argument("--workers", type=int, help="submissions graded at once (default: cores)")
    args = parser.parse_args(argv)
    try:
        master = read_master(find_masters([args.assignment])[0])
        grades = args.grades or GRADES / f"{master.stem}.csv"
        rows = grade_folder(master, args.submissions, grades, args.timeout, args.workers)
    except AssignmentError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    width = max([len(r.submission) for r in rows] + [10])
    for row in rows:
        print(f"{row.submission:<{width}}  {row.total():>5g} / {master.points:g}  {row.reason}")
    print(f"\ngradebook: {grades}\nfeedback:  {grades.with_name(grades.stem + '-feedback')}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
