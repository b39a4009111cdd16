"""The assignment masters: conventions, full marks for the solution, and wrong answers caught.

For each question of each master, tests/wrong_answers/<stem>.py holds plausible wrong
answers (an off-by-one size, padding on one side, the unbiased variance, a forbidden
library call, a training run shorter than asked...). Run on top of the master's own
solution, each must pass every public test, so the public checks alone cannot tell it
apart, and be caught in every one of 20 gradings with different build seeds: a hidden test
fails, or it calls a function the question forbids. The solution must pass every test
under every one of those seeds and call nothing forbidden. Everything goes through the
grading protocol in this process (tests/assignment_harness.py), as the sandboxed grader
does it.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import pytest
from assignment_harness import caught, grade, solution_namespace, with_answer, wrong_answers
from assignment_masters import find_masters, read_master

from cnnlib.classroom.grading import grade_question
from cnnlib.classroom.remote import Connection, LocalTransport

ROOT = Path(__file__).resolve().parent.parent
MASTERS = [read_master(path) for path in find_masters()]
IDS = [m.stem for m in MASTERS]
# 20 build seeds, as 20 `make assignments` would draw them (fixed here, so failures repeat).
SEEDS = [int.from_bytes(hashlib.sha256(f"build {i}".encode()).digest()[:8], "big") >> 2
         for i in range(20)]


@functools.cache
def _namespace(stem: str) -> dict:
    return solution_namespace(next(m for m in MASTERS if m.stem == stem))


def test_every_section_has_an_assignment_named_like_its_chapter():
    chapters = sorted(path.stem for path in (ROOT / "chapters").glob("[78]_*.py"))
    assert len(chapters) == 12
    assert [m.stem for m in MASTERS] == chapters


def test_at_least_36_questions_and_3_per_assignment():
    assert sum(len(m.questions) for m in MASTERS) >= 36
    for master in MASTERS:
        assert len(master.questions) >= 3, master.stem
        assert all(q.points > 0 and q.minutes > 0 for q in master.questions), master.stem


@pytest.mark.parametrize("master", MASTERS, ids=IDS)
def test_solution_scores_full_marks_under_every_seed(master):
    namespace = _namespace(master.stem)
    for seed in SEEDS[:3]:
        results = grade(master, namespace, seed)
        for name, result in results.items():
            failures = [f"{t.name}: {t.failure}" for t in result.tests if not t.passed]
            assert not failures, f"the solution fails {name} (seed {seed}): {failures}"
            assert not result.forbidden, (
                f"the solution calls what {name} forbids: {result.forbidden}")
            assert result.score == result.points


@pytest.mark.parametrize("master", MASTERS, ids=IDS)
def test_each_wrong_answer_passes_public_tests_and_is_caught_in_20_gradings(master):
    wrong = wrong_answers(master)
    assert set(wrong) == {q.name for q in master.questions}, (
        f"tests/wrong_answers/{master.stem}.py must give wrong answers for every question")
    forbids = {q.name: q.forbids for q in master.questions if q.forbids}
    for q in master.questions:
        assert wrong[q.name], f"{q.name} has no wrong answer"
        for k, code in enumerate(wrong[q.name]):
            changed = with_answer(_namespace(master.stem), code)
            conn = Connection(LocalTransport(changed, forbids))
            public = type(q)(q.name, q.points, q.title, q.minutes,
                             [t for t in q.tests if not t.hidden], forbids=[])
            result = grade_question(public, conn, SEEDS[0])
            failures = [f"{t.name}: {t.failure}" for t in result.tests if not t.passed]
            assert not failures, (
                f"{q.name} wrong answer {k} should pass the public tests: {failures}")
            hidden = type(q)(q.name, q.points, q.title, q.minutes,
                             [t for t in q.tests if t.hidden], forbids=q.forbids)
            escaped = [seed for seed in SEEDS if not caught(grade_question(
                hidden, Connection(LocalTransport(changed, forbids)), seed,
                first_failure_only=True))]
            assert not escaped, (
                f"{q.name} wrong answer {k} escapes grading with {len(escaped)} of {len(SEEDS)} "
                f"build seeds (first {escaped[0]}):\n{code}")
