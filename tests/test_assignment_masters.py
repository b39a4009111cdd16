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
import re
from pathlib import Path

import pytest
from assignment_harness import (
    WRONG_CELL,
    caught,
    grade,
    solution_namespace,
    with_answer,
    wrong_answers,
)
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


def test_at_least_48_questions_and_one_that_predicts_or_explains_per_assignment():
    assert sum(len(m.questions) for m in MASTERS) >= 48
    for master in MASTERS:
        kinds = {q.kind for q in master.questions}
        assert kinds & {"predict", "explain"}, (
            f"{master.stem} asks no question of kind predict or explain: {sorted(kinds)}")


# A call of each name that a question forbids, as a student would write it (valid
# arguments, so the function really runs). Every name a master forbids must be here: the
# test below shows that calling it costs the question its points.
PROBES = {
    "cnnlib.explain.equivariance": "cnnlib.explain.equivariance.layer_counts(8, 3, 1, 1)",
    "cnnlib.explain.equivariance.layer_counts":
        "cnnlib.explain.equivariance.layer_counts(8, 3, 1, 1)",
    "cnnlib.layers": "cnnlib.layers.batch_norm(torch.ones(2, 3), torch.ones(3), torch.zeros(3), "
                     "torch.zeros(3), torch.ones(3), 1e-5, 0.1, True)",
    "cnnlib.models": "cnnlib.models.vgg.vgg_block(1, 1, 2)",
    "cnnlib.models.cost": "cnnlib.models.cost.count_flops(torch.nn.Conv2d(1, 1, 3), (1, 1, 8, 8))",
    "cnnlib.models.googlenet": "cnnlib.models.googlenet.googlenet(10, 8)",
    "cnnlib.models.nin": "cnnlib.models.nin.nin_block(1, 4, 3, 1, 1)",
    "cnnlib.models.resnet": "cnnlib.models.resnet.conv3x3(1, 4)",
    "cnnlib.models.vgg": "cnnlib.models.vgg.vgg_block(1, 1, 2)",
    "cnnlib.ops": "cnnlib.ops.corr2d(torch.ones(3, 3), torch.ones(2, 2))",
    "cnnlib.ops.conv_output_shape": "cnnlib.ops.conv_output_shape(8, 3)",
    "cnnlib.ops.corr2d_multi_in":
        "cnnlib.ops.corr2d_multi_in(torch.ones(2, 3, 3), torch.ones(2, 2, 2))",
    "cnnlib.ops.corr2d_multi_in_out":
        "cnnlib.ops.corr2d_multi_in_out(torch.ones(2, 3, 3), torch.ones(1, 2, 2, 2))",
    "cnnlib.ops.corr2d_multi_in_out_1x1":
        "cnnlib.ops.corr2d_multi_in_out_1x1(torch.ones(2, 3, 3), torch.ones(1, 2, 1, 1))",
    "cnnlib.ops.input_region": "cnnlib.ops.input_region([], (0, 0), 4)",
    "cnnlib.ops.layer_output_sizes": "cnnlib.ops.layer_output_sizes([], 4)",
    "cnnlib.ops.receptive_field": "cnnlib.ops.receptive_field([], 4)",
    "cnnlib.viz.pooling": "cnnlib.viz.pooling.pool(torch.ones(4, 4), 2)",
    "cnnlib.viz.receptive": "cnnlib.viz.receptive.map_sizes([], (4, 4))",
    "torch.batch_norm": "torch.batch_norm(torch.ones(2, 3), None, None, None, None, True, 0.1, "
                        "1e-5, False)",
    "torch.conv2d": "torch.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2))",
    "torch.dropout": "torch.dropout(torch.ones(4), 0.5, True)",
    "torch.max_pool2d": "torch.max_pool2d(torch.ones(1, 1, 4, 4), 2)",
    "torch.native_batch_norm": "torch.native_batch_norm(torch.ones(2, 3), None, None, None, None, "
                               "True, 0.1, 1e-5)",
    "torch.native_dropout": "torch.native_dropout(torch.ones(4), 0.5, True)",
    "torch.nn.functional.avg_pool2d": "torch.nn.functional.avg_pool2d(torch.ones(1, 1, 4, 4), 2)",
    "torch.nn.functional.batch_norm":
        "torch.nn.functional.batch_norm(torch.ones(2, 3), None, None, training=True)",
    "torch.nn.functional.conv2d":
        "torch.nn.functional.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2))",
    "torch.nn.functional.dropout": "torch.nn.functional.dropout(torch.ones(4), 0.5)",
    "torch.nn.functional.dropout1d": "torch.nn.functional.dropout1d(torch.ones(2, 4), 0.5)",
    "torch.nn.functional.dropout2d": "torch.nn.functional.dropout2d(torch.ones(1, 2, 4, 4), 0.5)",
    "torch.nn.functional.dropout3d":
        "torch.nn.functional.dropout3d(torch.ones(1, 2, 2, 2, 2), 0.5)",
    "torch.nn.functional.max_pool2d": "torch.nn.functional.max_pool2d(torch.ones(1, 1, 4, 4), 2)",
    "torch.nn.functional.max_pool2d_with_indices":
        "torch.nn.functional.max_pool2d_with_indices(torch.ones(1, 1, 4, 4), 2)",
    "torch.nn.functional.unfold": "torch.nn.functional.unfold(torch.ones(1, 1, 4, 4), 2)",
    "torch.utils.flop_counter": "torch.utils.flop_counter.FlopCounterMode(display=False)",
}
# Layer classes: constructing one is the call.
PROBES.update({f"torch.nn.{name}": f"torch.nn.{name}({args})" for name, args in {
    "AvgPool2d": "2", "MaxPool2d": "2", "Unfold": "2", "Conv2d": "1, 1, 3", "LazyConv2d": "1, 3",
    "Linear": "2, 2", "LazyLinear": "2", "BatchNorm1d": "2", "BatchNorm2d": "2",
    "BatchNorm3d": "2", "LazyBatchNorm1d": "", "LazyBatchNorm2d": "", "LazyBatchNorm3d": "",
    "Dropout": "0.5", "Dropout1d": "0.5", "Dropout2d": "0.5", "Dropout3d": "0.5"}.items()})


def _probing(namespace: dict, answers: list[str], forbidden: str) -> dict:
    """The solution, with each of the question's answers first calling ``forbidden``."""
    wrapped = dict(namespace)
    exec(compile("import torch, cnnlib.explain.equivariance, cnnlib.layers, cnnlib.models.cost, "
                 "cnnlib.models.googlenet, cnnlib.models.nin, cnnlib.models.resnet, "
                 "cnnlib.models.vgg, cnnlib.ops, cnnlib.viz.pooling, cnnlib.viz.receptive, "
                 "torch.utils.flop_counter\n"
                 f"def _forbidden_call():\n    {PROBES[forbidden]}\n", WRONG_CELL, "exec"), wrapped)
    for name in answers:
        original = namespace.get(name)
        if isinstance(original, type):
            code = (f"class {name}(_original):\n"
                    "    def __init__(self, *args, **kwargs):\n"
                    "        _forbidden_call()\n"
                    "        super().__init__(*args, **kwargs)\n")
        elif callable(original):
            code = (f"def {name}(*args, **kwargs):\n"
                    "    _forbidden_call()\n"
                    "    return _original(*args, **kwargs)\n")
        else:
            continue
        scope = dict(wrapped, _original=original)
        exec(compile(code, WRONG_CELL, "exec"), scope)
        wrapped[name] = scope[name]
    return wrapped


def test_every_forbidden_name_has_a_probe_that_the_monitor_sees():
    from cnnlib.classroom.runner import ForbiddenMonitor

    used = {name for m in MASTERS for q in m.questions for name in q.forbids}
    assert used <= set(PROBES), f"add a probe call for {sorted(used - set(PROBES))}"
    for name in sorted(used):
        monitor = ForbiddenMonitor({"q": [name]})
        scope: dict = {}
        exec(compile("import torch, cnnlib.explain.equivariance, cnnlib.layers, cnnlib.models.cost,"
                     " cnnlib.models.googlenet, cnnlib.models.nin, cnnlib.models.resnet, "
                     "cnnlib.models.vgg, cnnlib.ops, cnnlib.viz.pooling, cnnlib.viz.receptive, "
                     "torch.utils.flop_counter", WRONG_CELL, "exec"), scope)
        monitor.start("q")
        try:
            exec(compile(PROBES[name], WRONG_CELL, "exec"), scope)
        finally:
            seen = monitor.stop()
        assert seen == [name], f"calling {PROBES[name]} was seen as {seen}, not {name}"


@pytest.mark.parametrize("master", MASTERS, ids=IDS)
def test_a_solution_that_calls_a_forbidden_name_scores_0_on_that_question(master):
    """Each question is answerable only with its allowed calls: its solution, changed only
    so that its answer also calls one forbidden name, loses every point of that question."""
    from cnnlib.classroom.grading import answer_names
    from cnnlib.classroom.runner import _import_dotted

    namespace = _namespace(master.stem)
    forbids = {q.name: q.forbids for q in master.questions if q.forbids}
    for q in master.questions:
        if not q.forbids:
            continue
        answers = answer_names(q)
        assert any(callable(namespace.get(n)) for n in answers), (
            f"{q.name} forbids {q.forbids}, but its answer is a value made when its cell runs, "
            "where grading's monitor cannot see calls: ask for a function, or forbid nothing")
        # The first test that calls the answer is enough: the monitor watches every test.
        first = type(q)(q.name, q.points, q.title, q.minutes, q.tests[:1], forbids=q.forbids)
        for name in q.forbids:
            conn = Connection(LocalTransport(_probing(namespace, answers, name), forbids))
            result = grade_question(first, conn, SEEDS[0])
            # Two spellings of one function (torch.conv2d is torch.nn.functional.conv2d)
            # are reported by the question's first.
            same = [seen for seen in result.forbidden
                    if _import_dotted(seen) is _import_dotted(name)]
            assert same and result.score == 0, (
                f"{q.name}: an answer that calls {name} scored {result.score} "
                f"(forbidden calls seen: {result.forbidden})")


_CLAIM = re.compile(r"exercises?\s+((?:\d+(?:,\s*|\s+and\s+|\s+to\s+))*\d+)\s+(?:is|are)\s+among"
                    r"\s+its\s+questions")


def _exercise_numbers(text: str) -> set[int]:
    """'1, 2 and 4' -> {1, 2, 4}; '1 to 4' -> {1, 2, 3, 4}."""
    numbers: set[int] = set()
    for part in re.split(r",\s*|\s+and\s+", text):
        low, _, high = part.partition(" to ")
        numbers |= set(range(int(low), int(high or low) + 1))
    return numbers


@pytest.mark.parametrize("master", MASTERS, ids=IDS)
def test_a_chapter_names_exactly_the_exercises_its_assignment_grades(master):
    """A question declares the chapter's exercises it asks (``exercises:`` in its YAML);
    the chapter's closing paragraph names those, and no others."""
    source = (ROOT / "chapters" / f"{master.stem}.py").read_text(encoding="utf-8")
    listed = re.search(r"^# ## Exercises\n(.*?)^# \*\*Graded assignment", source, re.S | re.M)
    assert listed, f"chapters/{master.stem}.py needs an Exercises list and the assignment note"
    count = len(re.findall(r"^# (\d+)\. ", listed.group(1), re.M))
    claims = _CLAIM.findall(" ".join(source[listed.end():].replace("#", " ").split()))
    claimed = set().union(*map(_exercise_numbers, claims)) if claims else set()
    graded = {n for q in master.questions for n in q.exercises}
    assert all(1 <= n <= count for n in graded), (
        f"{master.stem}: a question grades exercise {max(graded)}, the chapter lists {count}")
    assert claimed == graded, (
        f"chapters/{master.stem}.py says exercises {sorted(claimed)} are among the "
        f"assignment's questions; its questions' exercises: are {sorted(graded)}")
