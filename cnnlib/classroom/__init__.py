"""Classroom support: what the assignments' tests call to say clearly what is wrong.

The assignment masters live in ``assignments/`` (one per section); ``make assignments``
turns them into student and autograder notebooks with otter-grader, and ``make grade``
grades a folder of submissions (see ``scripts/build_assignments.py`` and
``scripts/grade_assignments.py``). The tests inside those notebooks import
:mod:`cnnlib.classroom.checks`, so every question reports a wrong answer the same way:
the expected shape against the one received, the first element that differs and by how much.
"""
