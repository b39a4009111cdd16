"""The assignment masters: conventions, and a wrong answer for every question.

For each question of each master, tests/wrong_answers/<stem>.py holds a plausible wrong
answer (an off-by-one size, padding on one side, the unbiased variance, a hard-coded
tensor...). Run on top of the master's own solution, it must pass every public test, so
the public checks alone cannot tell it apart, and fail at least one hidden test, so
grading does. The solution itself must pass every test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from assignment_harness import run_test, solution_namespace, with_answer, wrong_answers
from assignment_masters import find_masters, read_master

ROOT = Path(__file__).resolve().parent.parent
MASTERS = [read_master(path) for path in find_masters()]
IDS = [m.stem for m in MASTERS]


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
def test_solution_passes_and_each_wrong_answer_is_caught_only_by_hidden_tests(master):
    namespace = solution_namespace(master)
    wrong = wrong_answers(master)
    assert set(wrong) == {q.name for q in master.questions}, (
        f"tests/wrong_answers/{master.stem}.py must give one wrong answer per question")
    for q in master.questions:
        for test in q.tests:
            assert run_test(test, namespace) is None, f"the solution fails {test.name}"
        changed = with_answer(namespace, wrong[q.name])
        for test in q.tests:
            if not test.hidden:
                failure = run_test(test, changed)
                assert failure is None, (
                    f"{q.name}'s wrong answer should pass public {test.name}: {failure}")
        caught = [t.name for t in q.tests if t.hidden and run_test(t, changed) is not None]
        assert caught, f"{q.name}'s wrong answer passes every hidden test"
