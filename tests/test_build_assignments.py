"""scripts/build_assignments.py and the master conventions it relies on.

Every assignment is built for real with otter assign (into a temporary folder), and its
two outputs are graded for real with otter run through scripts/grade_assignments.py: the
autograder notebook (the solution) must score full marks and the untouched student
notebook 0. The student notebook must hold no solution line and no hidden test.
"""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from assignment_masters import (  # noqa: E402
    AssignmentError,
    find_masters,
    guide_table,
    leaks,
    read_master,
)
from build_assignments import OUT, SITE, build  # noqa: E402
from grade_assignments import grade_folder  # noqa: E402

MASTERS = [read_master(path) for path in find_masters()]
IDS = [m.stem for m in MASTERS]


@pytest.mark.slow
@pytest.mark.parametrize("master", MASTERS, ids=IDS)
def test_build_then_grade_solution_full_marks_and_blank_student_zero(master, tmp_path):
    # Built where `make assignments` puts it, so that the website build that follows in
    # `make test` finds every student notebook current and rebuilds none.
    built = OUT
    folder = build(master, out=built, run_tests=False)
    student_path = folder / "student" / f"{master.stem}.ipynb"
    student = nbformat.read(student_path, as_version=4)
    assert leaks(master, student) == []
    assert "# HIDDEN" not in student_path.read_text()
    answer_cells = [c for c in student.cells if "otter_answer_cell" in c.metadata.get("tags", [])]
    assert sum("..." in c.source for c in answer_cells) >= len(master.questions)
    assert (built / SITE / student_path.name).read_bytes() == student_path.read_bytes()
    # The grading seed stays with the autograder; each forbidden call is named in the prompt.
    assert (folder / "autograder" / "grading-seed.json").exists()
    assert not list((folder / "student").rglob("grading-seed.json"))
    prompts = "\n".join(c.source for c in student.cells if c.cell_type == "markdown")
    for q in master.questions:
        for name in q.forbids:
            assert f"`{name}`" in prompts, (q.name, name)
    # On Colab, Run All must install cnnlib and otter before anything imports them.
    code = [c.source for c in student.cells if c.cell_type == "code"]
    assert "google.colab" in code[0] and "import otter" in code[1], code[:2]

    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copy(folder / "autograder" / f"{master.stem}.ipynb", submissions / "solution.ipynb")
    shutil.copy(student_path, submissions / "untouched.ipynb")
    grades = tmp_path / "grades.csv"
    rows = grade_folder(master, submissions, grades, timeout=240, workers=1, built=built)
    by_name = {row.submission: row for row in rows}
    assert by_name["solution.ipynb"].total() == master.points, by_name["solution.ipynb"].feedback
    assert by_name["untouched.ipynb"].total() == 0
    # Run top to bottom before any answer is written, no cell may raise: students press Run All.
    assert "raised" not in by_name["untouched.ipynb"].reason, by_name["untouched.ipynb"].reason
    with grades.open() as f:
        table = list(csv.reader(f))
    assert table[0] == ["submission", *(q.name for q in master.questions), "total", "reason",
                        "review"]
    assert len(table) == 1 + 2


def test_leak_check_finds_a_solution_line_and_a_hidden_test_name():
    master = read_master(find_masters(["7_2"])[0])
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('hello')")])
    assert leaks(master, notebook) == []
    line = master.questions[0].solution_lines[0]
    hidden = next(t.name for t in master.questions[1].tests if t.hidden)
    notebook.cells.append(nbformat.v4.new_code_cell(f"    {line}\n"))
    notebook.metadata["otter"] = {"tests": {"q2": f"def {hidden}(x): pass"}}
    found = leaks(master, notebook)
    assert any(line in f for f in found) and any(hidden in f for f in found)


def _write_master(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "9_9_broken.py"
    path.write_text(body)
    return path


QUESTION = '''
# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 2
{config}
# %% [markdown]
# {heading}

# %% [raw]
# # BEGIN SOLUTION

# %%
answer = 42  # SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_q1_public(answer):
    assert answer is not None

test_q1_public(answer)
{hidden}
# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
'''
CONFIG = "# kind: predict\n# forbids: [torch.nn.Conv2d]\n"
HIDDEN = '''
# %%
# HIDDEN
def test_q1_hidden(answer):
    assert answer == 42

test_q1_hidden(answer)
'''


def test_a_wellformed_master_is_read(tmp_path):
    body = QUESTION.format(heading="### q1 · the answer (≈5 min)", hidden=HIDDEN, config=CONFIG)
    master = read_master(_write_master(tmp_path, body))
    (q,) = master.questions
    assert (q.name, q.points, q.title, q.minutes) == ("q1", 2.0, "the answer", 5)
    assert (q.kind, q.forbids) == ("predict", ["torch.nn.Conv2d"])
    table = guide_table([master])
    assert "| kind |" in table.splitlines()[0]
    assert "| q1 | the answer | predict | 2 | 5 min |" in table
    assert [(t.name, t.hidden) for t in q.tests] == [("test_q1_public", False),
                                                     ("test_q1_hidden", True)]
    assert q.solution_lines == ["answer = 42"]


@pytest.mark.parametrize("heading, hidden, config, message", [
    ("### q1 the answer", HIDDEN, CONFIG, "prompt must start with"),
    ("### q1 · the answer (≈5 min)", "", CONFIG, "at least one public and one hidden test"),
    ("### q1 · the answer (≈5 min)", HIDDEN, "# forbids: []\n", "q1 must declare kind"),
    ("### q1 · the answer (≈5 min)", HIDDEN, "# kind: compute\n", "q1 must declare forbids"),
    ("### q1 · the answer (≈5 min)", HIDDEN, "# kind: guess\n# forbids: []\n",
     "kind: must be one of compute, predict, explain, got 'guess'"),
])
def test_a_master_breaking_the_conventions_is_refused_with_the_reason(
        tmp_path, heading, hidden, config, message):
    path = _write_master(tmp_path, QUESTION.format(heading=heading, hidden=hidden, config=config))
    with pytest.raises(AssignmentError, match=message):
        read_master(path)


def test_an_unknown_section_lists_the_assignments():
    with pytest.raises(AssignmentError, match="no single assignment matches '9_9'.*7_2_conv"):
        find_masters(["9_9"])
    assert find_masters(["7.2"]) == find_masters(["7_2_conv_images"])
