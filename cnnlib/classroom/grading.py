"""Scoring one submission: run each question's tests here, against the student's answers.

This is the grading process's half. The tests (public and hidden) and the reference
answers they compute stay in this process; the student's values arrive through a
:class:`~cnnlib.classroom.remote.Connection` as data or stand-ins. A question scores its
points times the share of its tests that pass, and 0 when its answer calls a function the
question forbids (seen by the sandbox while the tests ran).

Tests are the master's test cells: one ``def test_...(names...)`` each, called with the
notebook's globals of those names, exactly as otter calls them. Their random inputs come
from :func:`cnnlib.classroom.checks.fresh_generator`, seeded here from the build's seed and
the test's name (:func:`cnnlib.classroom.checks.seeded`), so the same submission gets the
same score every time.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass, field
from typing import Protocol

from cnnlib.classroom import checks
from cnnlib.classroom.remote import Connection, StudentError
from cnnlib.classroom.static import AST_LOCK


class CellTest(Protocol):
    name: str
    hidden: bool
    source: str


class GradedQuestion(Protocol):
    name: str
    points: float
    tests: list
    forbids: list


@dataclass
class Outcome:
    name: str
    hidden: bool
    failure: str | None  # None when it passed

    @property
    def passed(self) -> bool:
        return self.failure is None


@dataclass
class QuestionResult:
    name: str
    points: float  # the most it can score
    tests: list[Outcome] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)  # forbidden names it called

    @property
    def score(self) -> float:
        if self.forbidden or not self.tests:
            return 0.0
        return self.points * sum(t.passed for t in self.tests) / len(self.tests)


def define_test(test: CellTest):
    """The test's function, defined from its cell (the call that follows it is dropped)."""
    with AST_LOCK:  # see static.AST_LOCK: the grader parses on several threads
        tree = ast.parse(test.source)
        tree.body = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
        code = compile(tree, f"<test {test.name}>", "exec")
    defined: dict = {}
    exec(code, defined)  # noqa: S102 - instructor code
    return defined[test.name]


def parameters(test: CellTest) -> list[str]:
    return list(inspect.signature(define_test(test)).parameters)


def run_test(test: CellTest, conn: Connection, seed: int) -> str | None:
    """Run one test; None when it passes, else what a student should read."""
    try:
        function = define_test(test)
        arguments = {name: conn.lookup(name) for name in inspect.signature(function).parameters}
        with checks.seeded(seed, test.name):
            function(**arguments)
    except StudentError as error:
        return f"your code raised {error}"
    except Exception as error:  # a test fails by raising anything, as under otter
        return f"{type(error).__name__}: {error}"
    return None


def grade_question(question: GradedQuestion, conn: Connection, seed: int,
                   after_test=None, first_failure_only: bool = False) -> QuestionResult:
    """Run every test of one question against the connection; ``after_test(result)`` may
    restart a sandbox that a test ended. ``first_failure_only`` stops at the first failing
    test (the test suite asks only whether a wrong answer is caught)."""
    result = QuestionResult(question.name, question.points)
    conn.question = question.name
    try:
        for test in question.tests:
            outcome = Outcome(test.name, test.hidden, run_test(test, conn, seed))
            result.tests.append(outcome)
            if after_test is not None:
                after_test(outcome)
            if first_failure_only and not outcome.passed:
                break
    finally:
        conn.question = None
    result.forbidden = sorted(conn.forbidden.get(question.name, ()))
    return result


def answer_names(question: GradedQuestion) -> list[str]:
    """The notebook globals a question's tests read: what its answer is made of."""
    names: list[str] = []
    for test in question.tests:
        names += [n for n in parameters(test) if n not in names]
    return names

