"""scripts/grade_assignments.py on a batch of every kind of submission an instructor gets.

One folder holds the solution (as a notebook and as the zip that the export cell makes),
an untouched student notebook, a half-done one, a wrong answer, a syntax error, a cell
that raises, an endless loop, another assignment's notebook, a corrupt notebook, a binary
file named .ipynb and a PDF. Grading (in the sandbox) must finish with one row and one
feedback file for each, a score and a reason, and leave no process running. Grading the
same folder twice gives the same gradebook: hidden inputs come from the build's seed.
(Hostile submissions are in tests/test_grade_hostile.py.)
"""

from __future__ import annotations

import csv
import shutil
import sys
import zipfile
from pathlib import Path

import nbformat
import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from assignment_harness import wrong_answers  # noqa: E402
from assignment_masters import AssignmentError, find_masters, read_master  # noqa: E402
from build_assignments import build  # noqa: E402
from grade_assignments import build_seed, grade_folder  # noqa: E402

from cnnlib.classroom.sandbox import bwrap_path  # noqa: E402

# The graded batch is a module fixture, built once: `make unit` runs each file whole on one
# worker (--dist loadfile).
pytestmark = [pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap is not installed")]

MASTER = read_master(find_masters(["7_2"])[0])
TIMEOUT = 90  # seconds per submission: the endless loop must hit it, a busy machine must not


def _answer(notebook, question: str, code: str):
    """The student notebook with the answer cell that defines `question`'s function replaced."""
    changed = nbformat.from_dict(notebook)
    name = code.split("def ", 1)[1].split("(", 1)[0]
    cell = next(c for c in changed.cells if c.cell_type == "code" and f"def {name}(" in c.source)
    cell.source = code.strip()
    return changed


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grading")
    built = tmp / "built"
    folder = build(MASTER, out=built, run_tests=False)
    solution = folder / "autograder" / f"{MASTER.stem}.ipynb"
    student = nbformat.read(folder / "student" / f"{MASTER.stem}.ipynb", as_version=4)
    solved = nbformat.read(solution, as_version=4)
    q1_solution = next(c.source for c in solved.cells if "def corr2d_ps(" in c.source)
    subs = tmp / "submissions"
    subs.mkdir()
    shutil.copy(solution, subs / "solution.ipynb")
    with zipfile.ZipFile(subs / "exported.zip", "w") as archive:
        archive.write(solution, f"{MASTER.stem}.ipynb")
    nbformat.write(student, subs / "untouched.ipynb")
    nbformat.write(_answer(student, "q1", q1_solution), subs / "half_done.ipynb")
    nbformat.write(_answer(student, "q2", wrong_answers(MASTER)["q2"][0]), subs / "wrong.ipynb")
    nbformat.write(_answer(student, "q2", "def true_conv2d(X, K)\n    return X"),
                   subs / "syntax_error.ipynb")
    nbformat.write(_answer(student, "q2", "def true_conv2d(X, K):\n    return X\n\n1 / 0"),
                   subs / "raises.ipynb")
    # Endless, but asleep: it holds its grading slot until the time limit without taking a
    # core from the tests running beside it (a busy loop is stopped the same way).
    nbformat.write(_answer(student, "q2", "def true_conv2d(X, K):\n    import time\n"
                                          "    while True:\n        time.sleep(0.5)\n\n"
                                          "true_conv2d(1, 2)"),
                   subs / "endless.ipynb")
    other = nbformat.from_dict(student)
    other.metadata["otter"]["assignment_name"] = "7_5_pooling"
    nbformat.write(other, subs / "other_assignment.ipynb")
    (subs / "corrupt.ipynb").write_text(solution.read_text()[:700])
    (subs / "binary.ipynb").write_bytes(bytes(range(256)) * 4)
    (subs / "report.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    grades = tmp / "out" / "gradebook.csv"
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    rows = grade_folder(MASTER, subs, grades, timeout=TIMEOUT, workers=2, built=built)
    after = {p.pid for p in psutil.Process().children(recursive=True)}
    first = grades.read_text()
    regrade = tmp / "out" / "regrade.csv"
    # The regrade leaves out the endless loop (it would only wait for its time limit again).
    (subs / "endless.ipynb").rename(tmp / "endless.ipynb")
    grade_folder(MASTER, subs, regrade, timeout=TIMEOUT, workers=2, built=built)
    return {row.submission: row for row in rows}, grades, after - before, first, regrade


def test_one_row_per_submission_and_one_column_per_question(graded):
    rows, grades, *_ = graded
    with grades.open() as f:
        table = list(csv.DictReader(f))
    names = [q.name for q in MASTER.questions]
    assert list(table[0]) == ["submission", *names, "total", "reason", "review"]
    assert sorted(r["submission"] for r in table) == sorted(rows) and len(rows) == 12
    for r in table:
        assert float(r["total"]) == sum(float(r[q]) for q in names)
        assert r["reason"]


def test_feedback_file_for_every_submission(graded):
    rows, grades, *_ = graded
    feedback = grades.with_name("gradebook-feedback")
    assert sorted(p.name for p in feedback.iterdir()) == sorted(f"{n}.txt" for n in rows)
    wrong = (feedback / "wrong.ipynb.txt").read_text()
    assert "hidden test" in wrong and "differs: expected" in wrong and "seed" in wrong
    assert "grading seed (id " in wrong


def test_scores(graded):
    rows, *_ = graded
    points = {q.name: q.points for q in MASTER.questions}
    assert rows["solution.ipynb"].scores == points
    assert rows["exported.zip"].scores == points
    assert rows["untouched.ipynb"].total() == 0
    assert rows["half_done.ipynb"].scores == {q: points["q1"] if q == "q1" else 0 for q in points}
    # the wrong answer passes q2's public tests and fails a hidden one: partial credit
    q2 = next(q for q in MASTER.questions if q.name == "q2")
    public = sum(not t.hidden for t in q2.tests)
    assert rows["wrong.ipynb"].scores["q2"] == points["q2"] * public / len(q2.tests)


def test_errors_are_numbered_as_the_submission_numbers_its_cells(graded):
    rows, *_ = graded
    syntax = rows["syntax_error.ipynb"].reason
    # prepare() finds the syntax error before grading, the kernel then fails on the same cell
    where = syntax.split(" has a syntax error")[0].rsplit("; ", 1)[-1]
    assert f"{where} raised SyntaxError" in syntax, syntax


@pytest.mark.parametrize("name, reason", [
    ("syntax_error.ipynb", "syntax error"),
    ("raises.ipynb", "raised ZeroDivisionError"),
    ("endless.ipynb", f"time limit {TIMEOUT} s reached in cell"),
    ("other_assignment.ipynb", "assignment 7_5_pooling, not 7_2_conv_images"),
    ("corrupt.ipynb", "not a readable notebook"),
    ("binary.ipynb", "not text"),
    ("report.pdf", "not a notebook"),
])
def test_bad_submissions_get_zero_or_partial_and_a_reason(graded, name, reason):
    rows, *_ = graded
    assert reason in rows[name].reason
    assert rows[name].total() < MASTER.points


def test_no_process_is_left_running(graded):
    _, _, left, *_ = graded
    assert not [p for p in left if psutil.pid_exists(p)]


def test_the_same_submissions_get_the_same_grades_when_graded_again(graded):
    _, _, _, first, regrade = graded
    lines = [line for line in first.splitlines() if not line.startswith("endless.ipynb")]
    assert regrade.read_text().splitlines() == lines


def test_unbuilt_assignment_and_missing_folder_say_what_to_do(tmp_path):
    with pytest.raises(AssignmentError, match="run `make assignments A=7_2_conv_images` first"):
        build_seed(MASTER, built=tmp_path)
    with pytest.raises(AssignmentError, match="must be a folder"):
        grade_folder(MASTER, tmp_path / "nowhere", tmp_path / "g.csv", built=tmp_path)
