"""Run an assignment master's solution and grade it in this process, through the protocol.

Used by tests/test_assignment_masters.py to show, for every question, that the solution
scores full marks and that each plausible wrong answer (tests/wrong_answers/<stem>.py)
passes the public tests and is caught by grading under every seed. The master's code cells
run here, compiled as ``<cell N>`` like a submission's; the tests then run through
:class:`cnnlib.classroom.remote.LocalTransport`, so every value crosses the same encoding as
in the sandbox and a test that breaks the protocol's rules fails here, in seconds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import jupytext

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from assignment_masters import Master, Question, _raw_marker  # noqa: E402

from cnnlib.classroom.grading import QuestionResult, grade_question  # noqa: E402
from cnnlib.classroom.remote import Connection, LocalTransport  # noqa: E402
from cnnlib.classroom.runner import CELL_PREFIX  # noqa: E402
from cnnlib.classroom.static import without_magics  # noqa: E402

WRONG_ANSWERS = Path(__file__).resolve().parent / "wrong_answers"
WRONG_CELL = f"{CELL_PREFIX}1000>"  # a wrong answer is student code too


def solution_namespace(master: Master) -> dict:
    """Execute the master's code cells (not its tests) and return the global namespace."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__main__"}
    in_tests = False
    for index, cell in enumerate(jupytext.read(master.path).cells, start=1):
        marker = _raw_marker(cell)
        if marker in ("BEGIN TESTS", "END TESTS"):
            in_tests = marker == "BEGIN TESTS"
        if cell.cell_type != "code" or in_tests:
            continue
        exec(compile(without_magics(cell.source), f"{CELL_PREFIX}{index}>", "exec"), namespace)
    return namespace


def grade(master: Master, namespace: dict, seed: int,
          questions: list[Question] | None = None) -> dict[str, QuestionResult]:
    """Grade the namespace as the grader would (tests here, answers behind the protocol)."""
    forbids = {q.name: q.forbids for q in master.questions if q.forbids}
    conn = Connection(LocalTransport(namespace, forbids))
    return {q.name: grade_question(q, conn, seed) for q in (questions or master.questions)}


def caught(result: QuestionResult) -> bool:
    """Grading takes points for it: a hidden test fails, or it calls a forbidden function."""
    return bool(result.forbidden) or any(not t.passed for t in result.tests if t.hidden)


def wrong_answers(master: Master) -> dict[str, list[str]]:
    """The WRONG dict of tests/wrong_answers/<stem>.py: question name -> list of code."""
    path = WRONG_ANSWERS / f"{master.stem}.py"
    if not path.exists():
        return {}
    defined: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), defined)
    return {name: [code] if isinstance(code, str) else list(code)
            for name, code in defined["WRONG"].items()}


def with_answer(namespace: dict, code: str) -> dict:
    """A copy of the namespace in which ``code`` (a wrong answer) has been run."""
    changed = dict(namespace)
    exec(compile(code, WRONG_CELL, "exec"), changed)
    return changed


def question(master: Master, name: str) -> Question:
    return next(q for q in master.questions if q.name == name)
