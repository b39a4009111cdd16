"""Read the assignment masters in ``assignments/`` without running them.

A master is a Jupytext percent-format notebook with otter-grader's block markers as raw
cells (``# BEGIN QUESTION`` with a YAML ``name:``/``points:``, ``# BEGIN TESTS``,
``# END TESTS``, ``# END QUESTION``; ``# BEGIN SOLUTION``/``# END SOLUTION`` or a trailing
``# SOLUTION`` inside code). Each question's prompt starts with a heading of the form::

    ### q1 · corr2d with padding and stride (≈20 min)

which gives the instructors' guide its "covers" and "time" columns. This module reads all of
that (for the build, the grader, the guide's table and the tests) and refuses a master that
breaks the conventions, with the file and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import yaml

ROOT = Path(__file__).resolve().parent.parent
MASTERS = ROOT / "assignments"
HEADING = re.compile(r"^### (q\d+) · (.+) \(≈(\d+) min\)\s*$")
_DEF = re.compile(r"^def (test_\w+)\(")
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
# What a question asks: work a computation out in code, predict what code will do before
# running it, or explain why (a choice among reasons, or a number whose reasoning is graded).
KINDS = ("compute", "predict", "explain")


class AssignmentError(ValueError):
    """A master breaks the conventions, or a build step failed; the message says which."""


@dataclass
class Test:
    name: str  # the test function's name
    hidden: bool
    source: str  # the cell's code


@dataclass
class Question:
    name: str  # q1, q2, ...
    points: float
    title: str  # what it covers, from the heading
    minutes: int  # the time a student needs, from the heading
    tests: list[Test] = field(default_factory=list)
    solution_lines: list[str] = field(default_factory=list)
    forbids: list[str] = field(default_factory=list)  # dotted names its answer may not call
    kind: str = "compute"  # compute, predict or explain (KINDS)
    exercises: list[int] = field(default_factory=list)  # the section's exercises it asks


@dataclass
class Master:
    path: Path
    stem: str  # e.g. 7_2_conv_images
    title: str  # the notebook's first heading
    questions: list[Question]

    @property
    def section(self) -> str:
        """'7.2' for 7_2_conv_images."""
        chapter, section = self.stem.split("_")[:2]
        return f"{chapter}.{section}"

    @property
    def points(self) -> float:
        return sum(q.points for q in self.questions)

    @property
    def minutes(self) -> int:
        return sum(q.minutes for q in self.questions)


def find_masters(sections: list[str] | None = None) -> list[Path]:
    """The masters, sorted; ``sections`` ('7_2', '7.2' or a full stem) narrows them."""
    paths = sorted(MASTERS.glob("[0-9]_[0-9]_*.py"))
    if not sections:
        return paths
    chosen = []
    for wanted in sections:
        key = wanted.replace(".", "_").removesuffix(".py").split("/")[-1]
        matches = [p for p in paths if p.stem == key or p.stem.startswith(key + "_")]
        if len(matches) != 1:
            names = ", ".join(p.stem for p in paths)
            raise AssignmentError(f"no single assignment matches {wanted!r}; there are: {names}")
        chosen += matches
    return chosen


def _raw_marker(cell) -> str | None:
    if cell.cell_type != "raw":
        return None
    first = cell.source.strip().split("\n", 1)[0].strip()
    return first.lstrip("#").strip().upper() if first.startswith("#") else None


def _solution_lines(source: str) -> list[str]:
    lines, inside = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == "# BEGIN SOLUTION":
            inside = True
        elif stripped == "# END SOLUTION":
            inside = False
        elif inside or stripped.endswith("# SOLUTION"):
            lines.append(stripped.removesuffix("# SOLUTION").strip())
    return [line for line in lines if line]


def read_master(path: Path) -> Master:
    """Parse one master; raise AssignmentError naming the file and what is wrong."""
    notebook = jupytext.read(path)
    title, questions = "", []
    question: Question | None = None
    in_tests = False
    for cell in notebook.cells:
        marker = _raw_marker(cell)
        if cell.cell_type == "markdown" and not title and cell.source.startswith("# "):
            title = cell.source.split("\n", 1)[0][2:].strip()
        if marker == "BEGIN QUESTION":
            config = yaml.safe_load(cell.source.split("\n", 1)[1]) or {}
            if "name" not in config or "points" not in config:
                raise AssignmentError(f"{path.name}: a question needs name: and points: {config}")
            # Every question says what it asks of the student and which library calls would
            # answer it for them (an empty list when none would): the guide's table shows the
            # kind, and the grader scores 0 for a call that the question forbids.
            missing = [key for key in ("kind", "forbids") if key not in config]
            if missing:
                raise AssignmentError(
                    f"{path.name}: {config['name']} must declare {' and '.join(missing)}: "
                    f"(kind: one of {', '.join(KINDS)}; forbids: a list of dotted names, "
                    "[] when no library call answers it)")
            if config["kind"] not in KINDS:
                raise AssignmentError(
                    f"{path.name}: {config['name']}'s kind: must be one of {', '.join(KINDS)}, "
                    f"got {config['kind']!r}")
            forbids = config["forbids"]
            if not (isinstance(forbids, list) and all(
                    isinstance(n, str) and _DOTTED.match(n) for n in forbids)):
                raise AssignmentError(
                    f"{path.name}: {config['name']}'s forbids: must be a list of dotted names "
                    f"(torch.nn.functional.conv2d), got {forbids!r}")
            # The chapter's own Exercises that this question grades (its closing paragraph
            # names them; tests/test_assignment_masters.py holds the two to each other).
            exercises = config.get("exercises", [])
            if not (isinstance(exercises, list) and all(
                    isinstance(n, int) and n > 0 for n in exercises)):
                raise AssignmentError(
                    f"{path.name}: {config['name']}'s exercises: must be a list of the "
                    f"section's exercise numbers ([1, 4]), got {exercises!r}")
            question = Question(str(config["name"]), float(config["points"]), "", 0,
                                forbids=list(forbids), kind=config["kind"],
                                exercises=list(exercises))
        elif marker == "END QUESTION":
            if question is None or not question.title:
                raise AssignmentError(f"{path.name}: END QUESTION without a headed question")
            questions.append(question)
            question = None
        elif marker in ("BEGIN TESTS", "END TESTS"):
            in_tests = marker == "BEGIN TESTS"
        elif question is not None and cell.cell_type == "markdown" and not question.title:
            match = HEADING.match(cell.source.split("\n", 1)[0])
            if not match or match.group(1) != question.name:
                raise AssignmentError(
                    f"{path.name}: question {question.name}'s prompt must start with "
                    f"'### {question.name} · <what it covers> (≈<minutes> min)', "
                    f"got {cell.source.splitlines()[0]!r}"
                )
            question.title, question.minutes = match.group(2), int(match.group(3))
        elif question is not None and cell.cell_type == "code" and in_tests:
            lines = cell.source.strip().splitlines()
            hidden = bool(lines) and lines[0].strip().upper() == "# HIDDEN"
            names = [m.group(1) for line in lines if (m := _DEF.match(line))]
            if len(names) != 1:
                raise AssignmentError(f"{path.name}: a test cell of {question.name} must define "
                                      f"exactly one test_ function, found {names}")
            question.tests.append(Test(names[0], hidden, cell.source))
        elif question is not None and cell.cell_type == "code":
            question.solution_lines += _solution_lines(cell.source)
    for q in questions:
        if not any(t.hidden for t in q.tests) or not any(not t.hidden for t in q.tests):
            raise AssignmentError(f"{path.name}: {q.name} needs at least one public and one "
                                  "hidden test")
        if not q.solution_lines:
            raise AssignmentError(f"{path.name}: {q.name} has no solution lines")
    return Master(path, path.stem, title, questions)


def leaks(master: Master, student_notebook) -> list[str]:
    """Solution lines and hidden-test names that appear anywhere in the student notebook.

    Every code and raw cell is searched, and the metadata as JSON text, so the public tests
    embedded there count too; markdown prompts may name a function the solution calls. A
    solution line also found in the master's given code (outside every solution block) is
    not a leak: ``return Y`` may be both.
    """
    import json

    code = [c.source for c in student_notebook.cells if c.cell_type != "markdown"]
    metadata = [json.dumps(student_notebook.metadata, ensure_ascii=False)] + [
        json.dumps(c.get("metadata", {}), ensure_ascii=False) for c in student_notebook.cells
    ]
    text = "\n".join(code + metadata)
    given = _given_code(master)
    found = []
    for q in master.questions:
        for line in q.solution_lines:
            if len(line) >= 12 and line not in given and (
                line in text or json.dumps(line)[1:-1] in text
            ):
                found.append(f"{q.name} solution: {line}")
        for test in q.tests:
            if test.hidden and test.name in text:
                found.append(f"{q.name} hidden test: {test.name}")
    return found


def _given_code(master: Master) -> str:
    notebook = jupytext.read(master.path)
    given = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            solution = set(_solution_lines(cell.source))
            given += [line.strip() for line in cell.source.splitlines()
                      if line.strip() not in solution]
    return "\n".join(given)


def guide_table(masters: list[Master]) -> str:
    """A Markdown table of every question: assignment, question, what it covers, its kind,
    points and time."""
    lines = [
        "| assignment | question | covers | kind | points | time |",
        "|---|---|---|---|---:|---:|",
    ]
    for master in masters:
        for k, q in enumerate(master.questions):
            # Raw HTML: the student notebook is a built file Sphinx does not know about.
            name = (f'<a href="../assignments/{master.stem}.ipynb" download>{master.section}</a>'
                    if k == 0 else "")
            lines.append(f"| {name} | {q.name} | {q.title} | {q.kind} | {q.points:g} | "
                         f"{q.minutes} min |")
        lines.append(f"| | **all of {master.section}** | {len(master.questions)} questions | | "
                     f"**{master.points:g}** | **{master.minutes} min** |")
    total_q = sum(len(m.questions) for m in masters)
    kinds = ", ".join(f"{sum(q.kind == k for m in masters for q in m.questions)} {k}"
                      for k in KINDS)
    lines.append(f"| **all** | | **{total_q} questions** | {kinds} | "
                 f"**{sum(m.points for m in masters):g}** "
                 f"| **{sum(m.minutes for m in masters) / 60:.1f} h** |")
    return "\n".join(lines) + "\n"
