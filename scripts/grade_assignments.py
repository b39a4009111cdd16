"""Grade a folder of submissions for one assignment on the instructor's machine, isolated.

    python scripts/grade_assignments.py 7_2 path/to/submissions [--grades out.csv]
    make grade ASSIGNMENT=7_2 SUBMISSIONS=path/to/submissions [GRADES=out.csv]

Every file in the folder gets one gradebook row (a CSV with ``submission``, one column per
question, ``total``, ``reason`` and ``review``) and one feedback file. Submissions are
notebooks (``.ipynb``) or the zip that the notebook's export cell writes.

How one submission is graded (see ``book/instructors.md`` for the threat model):

1. **Read, never run, here.** The notebook is read as JSON (from a zip without extracting
   anything) and its code parsed: syntax errors, forbidden names the answers refer to, and
   code an instructor should look at (``cnnlib.classroom.static``).
2. **Run in a sandbox.** Its code cells run in a bubblewrap sandbox
   (``cnnlib.classroom.sandbox``) as an unprivileged user with no network, its own
   process IDs and only read-only views of Python, the venv, ``cnnlib`` and the data,
   under memory, process, file-size, disk, CPU and wall-time limits.
3. **Scored here.** This process runs the question's public and hidden tests
   (``cnnlib.classroom.grading``); the student's values cross as data only. Hidden inputs
   are drawn from the build's secret seed, so a regrade gives the same score.

Whatever a submission is or does, it gets its row: a limit ends only its own sandbox (the
points of what finished count, and the reason names the limit and the cell), a file that is
not a notebook gets 0 and a reason, and the gradebook and feedback are written whole or
not at all. Stopping the grader (Ctrl-C, SIGTERM, even ``kill -9``) ends every sandbox;
running it again starts clean.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from cnnlib._atomic import atomic_write_bytes, process_exists
from cnnlib.classroom import sandbox as sandboxes
from cnnlib.classroom import static
from cnnlib.classroom.grading import QuestionResult, answer_names, grade_question
from cnnlib.classroom.remote import Connection
from cnnlib.classroom.sandbox import Limits, Sandbox, SandboxEnded, SandboxUnavailable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from assignment_masters import AssignmentError, Master, find_masters, read_master  # noqa: E402

BUILT = ROOT / "_build" / "assignments"
GRADES = ROOT / "_build" / "grades"
SEED_FILE = "grading-seed.json"  # in the autograder folder; never in the student's
MAX_SUBMISSION = 50 << 20  # bytes of a notebook (or of the notebook inside a zip)
MAX_RESTARTS = 2  # sandboxes restarted after a limit, per submission


@dataclass
class Row:
    submission: str  # the file's name in the submissions folder
    scores: dict[str, float] = field(default_factory=dict)  # question -> points
    reason: str = ""  # what happened, in a sentence
    review: list[str] = field(default_factory=list)  # what a person should look at
    feedback: str = ""  # the test messages, for the feedback file

    def total(self) -> float:
        return sum(self.scores.values())


def build_seed(master: Master, built: Path = BUILT) -> int:
    """The build's secret seed for hidden inputs, or a clear error saying how to build it."""
    path = built / master.stem / "autograder" / SEED_FILE
    if not path.exists():
        raise AssignmentError(
            f"assignment {master.stem} is not built (or was built before grading seeds "
            f"existed): run `make assignments A={master.stem}` first (looked for {path})")
    seed = json.loads(path.read_text()).get("seed")
    if not isinstance(seed, int):
        raise AssignmentError(f"{path} holds no seed: rebuild with `make assignments`")
    return seed


def seed_id(seed: int) -> str:
    """A name for the seed that does not give it away (it appears in the feedback)."""
    return hashlib.sha256(f"cnnlib grading seed {seed}".encode()).hexdigest()[:12]


# ----------------------------------------------------------------------------- reading


def _read_submission(path: Path) -> tuple[bytes, list[str]]:
    """The notebook's bytes, read without following links or extracting anything."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise AssignmentError(f"{path.name} is a symbolic link; links are not followed")
    if stat.S_ISDIR(info.st_mode):
        raise AssignmentError(f"{path.name} is a folder, not a notebook")
    if not stat.S_ISREG(info.st_mode):
        raise AssignmentError(f"{path.name} is not a regular file")
    if info.st_size > MAX_SUBMISSION * 4:
        raise AssignmentError(f"{path.name} is {info.st_size >> 20} MB, too big for a notebook")
    suffix = path.suffix.lower()
    if suffix == ".ipynb":
        if info.st_size > MAX_SUBMISSION:
            raise AssignmentError(f"{path.name} is {info.st_size >> 20} MB, over the "
                                  f"{MAX_SUBMISSION >> 20} MB a notebook may be")
        with open(path, "rb", opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW)) as handle:
            return handle.read(MAX_SUBMISSION + 1), []
    if suffix != ".zip":
        raise AssignmentError(f"{path.name} is not a notebook (.ipynb) or an exported zip")
    notes = []
    try:
        with zipfile.ZipFile(path) as archive:
            safe = []
            for entry in archive.infolist():
                name = entry.filename
                mode = entry.external_attr >> 16
                if entry.is_dir() or name.startswith("__MACOSX") or not name.endswith(".ipynb"):
                    continue
                if (name.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", name)
                        or ":" in name or stat.S_ISLNK(mode)):
                    notes.append(f"the zip holds an unsafe entry {name[:80]!r} (an absolute "
                                 "path, a '..' or a link); it was ignored")
                    continue
                safe.append(entry)
            if len(safe) != 1:
                raise AssignmentError(f"{path.name} holds {len(safe)} usable notebooks; "
                                      "expected exactly one")
            if safe[0].file_size > MAX_SUBMISSION:
                raise AssignmentError(f"the notebook in {path.name} is "
                                      f"{safe[0].file_size >> 20} MB unpacked, over the limit")
            with archive.open(safe[0]) as handle:
                data = handle.read(MAX_SUBMISSION + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError):
        raise AssignmentError(f"{path.name} is not a valid zip file") from None
    if len(data) > MAX_SUBMISSION:
        raise AssignmentError(f"the notebook in {path.name} is over the size limit")
    return data, notes


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


def prepare(path: Path, master: Master) -> tuple[list[str], list[str], list[str]]:
    """Check one submission; return its code cells (numbered as in the notebook: other cells
    are empty strings), notes for the student and notes for the instructor's review.
    Raises AssignmentError with the reason when there is nothing to grade."""
    data, review = _read_submission(path)
    notebook = _read_notebook(data, path.name)
    notes = []
    otter = notebook.metadata.get("otter", {})
    name = otter.get("assignment_name") if isinstance(otter, dict) else None
    if name is not None and name != master.stem:
        raise AssignmentError(f"{path.name} is a notebook of assignment {name}, not {master.stem}")
    if name is None:
        notes.append("no assignment name in the notebook's metadata (graded anyway)")
    cells = []
    for index, cell in enumerate(notebook.cells, start=1):
        source = cell.get("source", "") if isinstance(cell, dict) else ""
        if isinstance(source, list):  # nbformat's other spelling: a list of lines
            source = "".join(line for line in source if isinstance(line, str))
        if not isinstance(source, str) or cell.get("cell_type") != "code":
            cells.append("")
            continue
        cells.append(source)
        # IPython lines (%magic, !shell) are not Python; everything else must compile.
        try:
            compile(static.without_magics(source), f"cell {index}", "exec")
        except SyntaxError as error:
            notes.append(f"cell {index} has a syntax error ({error.msg}, line {error.lineno})")
        except (ValueError, RecursionError, MemoryError):
            notes.append(f"cell {index} cannot be compiled")
    return cells, notes, review


# ----------------------------------------------------------------------------- grading one


@dataclass
class Settings:
    limits: Limits
    seed: int
    data_dir: Path | None
    unisolated: bool = False
    given: frozenset = frozenset()  # the student notebook's own code cells, as handed out


def given_cells(master: Master, built: Path = BUILT) -> frozenset:
    """The code cells of the student notebook as handed out: the review column looks only
    at what a student wrote or changed, not at the install and otter cells we gave them."""
    path = built / master.stem / "student" / f"{master.stem}.ipynb"
    if not path.exists():
        return frozenset()
    notebook = nbformat.read(path, as_version=4)
    return frozenset(c.source.strip() for c in notebook.cells if c.cell_type == "code")


class _Run:
    """The submission's sandbox, restarted (at most MAX_RESTARTS times) when a limit ends it."""

    def __init__(self, cells: list[str], forbids: dict, settings: Settings):
        self.cells, self.forbids, self.settings = cells, forbids, settings
        self.errors: list[str] = []
        self.limits_hit: list[str] = []
        self.restarts = 0
        self.sandbox: Sandbox | None = None
        self.conn = Connection(self._request)

    def _request(self, message: dict) -> dict:
        if self.sandbox is None:
            raise SandboxEnded("the notebook could not be run")
        return self.sandbox.request(message)

    def start(self) -> None:
        """Run the cells; after a limit, run them again without the cell that reached it
        (the notebook's other answers still count)."""
        cells = list(self.cells)
        while True:
            box = Sandbox(self.settings.limits, self.settings.data_dir, self.settings.unisolated)
            self.sandbox = box
            errors = []
            try:
                box.start(cells, self.forbids)
                while True:
                    message = box.receive()
                    event = message.get("event")
                    if event == "cell" and isinstance(message.get("cell"), int):
                        box.cell = message["cell"]
                    elif event == "error":
                        errors.append(_cell_error(message))
                        limit = _limit_note(errors[-1], self.settings.limits)
                        if limit is not None:  # run again without that cell
                            raise SandboxEnded(limit)
                    elif event == "ready":
                        for note in message.get("notes", [])[:40]:
                            self.conn.notes.setdefault(str(note)[:300])
                        box.cell = None
                        break
                    elif event == "fatal":
                        lines = str(message.get("message", "")).strip().splitlines() or ["?"]
                        raise SandboxEnded(f"the grading runner failed ({lines[-1][:200]})")
                self.errors = errors
                return
            except SandboxEnded as ended:
                self.limits_hit.append(str(ended))
                box.kill()  # it may be mid-cell: no goodbye
                box.close()
                self.sandbox = None
                stopped = box.cell
                if stopped is None or self.restarts >= MAX_RESTARTS:
                    self.errors = errors
                    return
                self.restarts += 1
                cells = [c if i != stopped else "" for i, c in enumerate(cells, start=1)]
                self.cells = cells  # a later restart must not run the offending cell again

    def after_test(self, outcome, test_name: str) -> None:
        box = self.sandbox
        if box is None or box.ended is None:
            return
        self.limits_hit.append(f"{box.ended} while grading {test_name}")
        box.close()
        self.sandbox = None
        if self.restarts < MAX_RESTARTS:
            self.restarts += 1
            errors = self.errors
            self.start()
            self.errors = errors

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()


def _cell_error(message: dict) -> str:
    kind, text = str(message.get("type", "Error"))[:80], str(message.get("message", ""))[:300]
    return f"cell {message.get('cell')} raised {kind}: {text}"


def _limit_note(error: str, limits: Limits) -> str | None:
    """A cell error that is a limit reached (MemoryError, a full disk, a file too large)."""
    if "raised MemoryError" in error or "can't allocate memory" in error or (
            "DefaultCPUAllocator" in error):
        return f"{limits.describe('memory')} reached in {error.split(' raised')[0]}"
    if "[Errno 28]" in error:
        return f"{limits.describe('disk')} reached in {error.split(' raised')[0]}"
    if "[Errno 27]" in error:
        return f"{limits.describe('file_size')} reached in {error.split(' raised')[0]}"
    if "[Errno 11]" in error or "can't start new thread" in error:
        return f"{limits.describe('processes')} reached in {error.split(' raised')[0]}"
    return None


def grade_one(path: Path, master: Master, settings: Settings) -> Row:
    """Grade one file; never raises (an internal failure is the row's reason)."""
    row = Row(path.name, {q.name: 0.0 for q in master.questions})
    try:
        _grade_into(row, path, master, settings)
    except AssignmentError as error:
        row.reason = str(error)
        row.feedback = f"Not graded: {error}\n"
    except Exception as error:  # a bug of ours must not stop the batch either
        row.reason = f"grading failed: {type(error).__name__}: {str(error)[:200]}"
        row.review.append("the grader itself failed on this submission: grade it by hand")
        row.feedback = (f"Grading failed ({type(error).__name__}). Your instructor will look "
                        "at it.\n")
    return row


def _grade_into(row: Row, path: Path, master: Master, settings: Settings) -> None:
    cells, notes, review = prepare(path, master)
    row.review += review + static.notes(
        ["" if c.strip() in settings.given else c for c in cells])
    forbids = {q.name: q.forbids for q in master.questions if q.forbids}
    answers = {q.name: answer_names(q) for q in master.questions}
    references = static.forbidden_references(cells, answers, forbids)
    run = _Run(cells, forbids, settings)
    results: list[QuestionResult] = []
    try:
        run.start()
        for question in master.questions:
            results.append(grade_question(
                question, run.conn, settings.seed,
                after_test=lambda outcome: run.after_test(outcome, outcome.name)))
    finally:
        run.close()
    limits = list(dict.fromkeys(run.limits_hit + [n for e in run.errors
                                                  if (n := _limit_note(e, settings.limits))]))
    row.review += [f"limit: {text}" for text in limits] + list(run.conn.notes)
    feedback = []
    for result in results:
        row.scores[result.name] = result.score
        feedback.append(_question_feedback(result, references.get(result.name, [])))
        if result.forbidden:
            row.review.append(f"{result.name}: calls {', '.join(result.forbidden)}, which it "
                              "forbids (scored 0)")
        elif references.get(result.name):
            row.review.append(f"{result.name}: refers to {references[result.name][0]}, which it "
                              "forbids, but did not call it while graded")
    answered = [q.name for q in master.questions if row.scores[q.name] >= q.points]
    parts = (["full marks"] if len(answered) == len(master.questions) else
             [f"{len(answered)} of {len(master.questions)} questions with full marks"])
    parts += [f"{text}" for text in limits[:2]]
    parts += notes + run.errors[:3] + ([f"and {len(run.errors) - 3} more cell errors"]
                                       if len(run.errors) > 3 else [])
    row.reason = "; ".join(dict.fromkeys(parts))
    row.feedback = "\n".join(feedback)
    if limits:
        row.feedback += "\nLimits reached:\n" + "".join(f"  {t}\n" for t in limits)
    if run.errors:
        row.feedback += "\nCells that raised an error while grading:\n" + "".join(
            f"  {e}\n" for e in run.errors)
    row.feedback += (f"\nHidden inputs come from this build's grading seed "
                     f"(id {seed_id(settings.seed)}): the same every time it is graded.\n")


def _question_feedback(result: QuestionResult, references: list) -> str:
    head = f"{result.name}: {result.score:g} / {result.points:g}"
    if result.forbidden:
        where = f" ({references[0]})" if references else ""
        return (f"{head}\n  Your answer calls {', '.join(result.forbidden)}{where}, which this "
                "question does not allow: it scores 0.\n")
    if result.score >= result.points:
        return head + "  (all tests passed)\n"
    lines = [head]
    for test in result.tests:
        if not test.passed:
            kind = "hidden" if test.hidden else "public"
            lines.append(f"  {kind} test {test.name} failed:\n    {test.failure}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- the batch


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:150] or "submission"


def _sweep_stale(folder: Path) -> None:
    """Remove feedback folders half-written by a grader that was killed (its pid is gone)."""
    for stale in folder.glob(".feedback-*"):
        match = re.match(r"\.feedback-(\d+)-", stale.name)
        if match and not process_exists(int(match.group(1))):
            shutil.rmtree(stale, ignore_errors=True)


def write_gradebook(rows: list[Row], master: Master, grades: Path) -> Path:
    """Write the CSV and one feedback file per row; return the feedback folder."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", *(q.name for q in master.questions), "total", "reason",
                     "review"])
    for row in rows:
        writer.writerow([row.submission, *(f"{row.scores[q.name]:g}" for q in master.questions),
                         f"{row.total():g}", row.reason, "; ".join(dict.fromkeys(row.review))])
    feedback_dir = grades.with_name(grades.stem + "-feedback")
    _sweep_stale(grades.parent)
    staged = Path(tempfile.mkdtemp(prefix=f".feedback-{os.getpid()}-", dir=grades.parent))
    used: set[str] = set()
    for row in rows:
        name = _safe_name(row.submission)
        while name.lower() in used:
            name = "_" + name
        used.add(name.lower())
        text = (f"{master.title}\nSubmission: {row.submission}\n"
                f"Score: {row.total():g} / {master.points:g}\n{row.reason}\n\n{row.feedback}")
        (staged / (name + ".txt")).write_text(text, encoding="utf-8")
    if feedback_dir.exists():
        shutil.rmtree(feedback_dir)
    staged.rename(feedback_dir)
    atomic_write_bytes(grades, buffer.getvalue().encode("utf-8"))
    return feedback_dir


def data_folder() -> Path | None:
    """Load both Fashion-MNIST splits once (filling the cache), and return the cache folder
    that sandboxes may read; None when there is no data (then only questions without it
    can be answered)."""
    from cnnlib.data.locate import DatasetNotFoundError, cache_dir, load_split

    try:
        load_split(True)
        load_split(False)
    except DatasetNotFoundError:
        return None
    folder = cache_dir()
    return folder if any(folder.glob("*-ubyte")) else None


def grade_folder(master: Master, submissions: Path, grades: Path, timeout: float = 300,
                 workers: int | None = None, built: Path = BUILT, limits: Limits | None = None,
                 unisolated: bool = False) -> list[Row]:
    """Grade every file in ``submissions``; write the gradebook and feedback; return the rows."""
    if not submissions.is_dir():
        raise AssignmentError(f"SUBMISSIONS must be a folder of notebooks, got {submissions}")
    seed = build_seed(master, built)
    if not unisolated:
        sandboxes.check_available()
    files = sorted(p for p in submissions.iterdir() if not p.name.startswith("."))
    cores = os.cpu_count() or 1
    workers = max(1, min(workers or cores, len(files) or 1))
    limits = limits or Limits()
    limits = Limits(**{**limits.__dict__, "wall_s": timeout,
                       "threads": max(1, cores // workers)})
    settings = Settings(limits, seed, data_folder(), unisolated, given_cells(master, built))
    with ThreadPoolExecutor(workers) as pool:
        rows = list(pool.map(lambda p: grade_one(p, master, settings), files))
    grades.parent.mkdir(parents=True, exist_ok=True)
    write_gradebook(rows, master, grades)
    return rows


def _stop(signum, _frame) -> None:
    sandboxes.kill_all()
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", help="e.g. 7_2, 7.2 or 7_2_conv_images")
    parser.add_argument("submissions", type=Path, help="folder of .ipynb (or exported .zip) files")
    parser.add_argument("--grades", type=Path,
                        help="gradebook CSV (default _build/grades/<name>.csv)")
    parser.add_argument("--timeout", type=float, default=300,
                        help="wall seconds per submission (cells and tests)")
    parser.add_argument("--workers", type=int, help="submissions graded at once (default: cores)")
    defaults = Limits()
    parser.add_argument("--memory-mb", type=int, default=defaults.memory_mb)
    parser.add_argument("--processes", type=int, default=defaults.processes)
    parser.add_argument("--file-size-mb", type=int, default=defaults.file_size_mb)
    parser.add_argument("--disk-mb", type=int, default=defaults.disk_mb)
    parser.add_argument("--cpu-s", type=int, default=defaults.cpu_s)
    parser.add_argument("--call-s", type=float, default=defaults.call_s,
                        help="seconds one call of the student's code by a test may take")
    parser.add_argument("--built", type=Path, default=BUILT,
                        help="where `make assignments` put the builds (default _build/assignments)")
    parser.add_argument("--unisolated", action="store_true",
                        help="grade WITHOUT a sandbox (only for submissions you trust)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    limits = Limits(memory_mb=args.memory_mb, processes=args.processes,
                    file_size_mb=args.file_size_mb, disk_mb=args.disk_mb, cpu_s=args.cpu_s,
                    call_s=args.call_s)
    try:
        master = read_master(find_masters([args.assignment])[0])
        grades = args.grades or GRADES / f"{master.stem}.csv"
        if args.unisolated:
            print("WARNING: grading without isolation (--unisolated): each submission's code "
                  "runs with your user's rights and can read your files.", file=sys.stderr)
        rows = grade_folder(master, args.submissions, grades, args.timeout, args.workers,
                            built=args.built, limits=limits, unisolated=args.unisolated)
    except (AssignmentError, SandboxUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    width = max([len(r.submission) for r in rows] + [10])
    for row in rows:
        print(f"{row.submission:<{width}}  {row.total():>5g} / {master.points:g}  {row.reason}")
        for item in dict.fromkeys(row.review):
            print(f"{'':<{width}}  review: {item}")
    print(f"\ngradebook: {grades}\nfeedback:  {grades.with_name(grades.stem + '-feedback')}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
