"""Run an assignment master's solution and its tests in this process, without otter.

Used by tests/test_assignment_masters.py to show, for every question, that a plausible wrong
answer (tests/wrong_answers/<stem>.py) passes the public tests and fails a hidden one. The
tests are called the way otter calls exception-based tests: each parameter of the test
function is looked up by name in the notebook's global namespace.
"""

from __future__ import annotations

import ast
import inspect
import os
import sys
from pathlib import Path

import jupytext

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from assignment_masters import Master, Question, Test, _raw_marker  # noqa: E402

WRONG_ANSWERS = Path(__file__).resolve().parent / "wrong_answers"


def solution_namespace(master: Master) -> dict:
    """Execute the master's code cells (not its tests) and return the global namespace."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__main__"}
    in_tests = False
    for cell in jupytext.read(master.path).cells:
        marker = _raw_marker(cell)
        if marker in ("BEGIN TESTS", "END TESTS"):
            in_tests = marker == "BEGIN TESTS"
        if cell.cell_type != "code" or in_tests:
            continue
        source = "\n".join(line for line in cell.source.splitlines()
                           if not line.lstrip().startswith(("%", "!")))
        exec(compile(source, f"{master.path.name}", "exec"), namespace)
    return namespace


def run_test(test: Test, namespace: dict) -> str | None:
    """Run one test against the namespace; return None if it passes, else the message."""
    # Like otter: keep the function definition, drop the call that follows it in the cell.
    tree = ast.parse(test.source)
    tree.body = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    defined: dict = {}
    exec(compile(tree, test.name, "exec"), defined)
    function = defined[test.name]
    arguments = {name: (namespace if name == "env" else namespace.get(name))
                 for name in inspect.signature(function).parameters}
    try:
        function(**arguments)
    except Exception as error:  # a test fails by raising anything, as under otter
        return f"{type(error).__name__}: {error}"
    return None


def wrong_answers(master: Master) -> dict[str, str]:
    """The WRONG dict of tests/wrong_answers/<stem>.py: question name -> code."""
    path = WRONG_ANSWERS / f"{master.stem}.py"
    if not path.exists():
        return {}
    defined: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), defined)
    return defined["WRONG"]


def with_answer(namespace: dict, code: str) -> dict:
    """A copy of the namespace in which ``code`` (a wrong answer) has been run."""
    changed = dict(namespace)
    exec(compile(code, "<wrong answer>", "exec"), changed)
    return changed


def question(master: Master, name: str) -> Question:
    return next(q for q in master.questions if q.name == name)
