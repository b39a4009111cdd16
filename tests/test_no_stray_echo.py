"""No code cell ends in a seeding call whose return value the notebook would echo.

A cell's last bare expression is displayed: ``setup(0)`` shows the seed (a stray ``0``
under the cell) and ``torch.manual_seed(0)`` shows ``<torch._C.Generator object at
0x...>``. Neither teaches anything, and the second changes on every run. Checked on every
chapter and on every assignment master (so on the student notebooks built from them).
"""

from __future__ import annotations

import ast
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "chapters").glob("*.py")) + sorted((ROOT / "assignments").glob("*.py"))
# Calls that seed and return something (setup: the seed; manual_seed: a torch Generator).
ECHOING_SEEDERS = {"setup", "manual_seed"}


def _called_name(node: ast.expr) -> str | None:
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def stray_echoes(source: str) -> list[str]:
    """The last lines of the cells in ``source`` (a notebook's code) that echo a seed."""
    found = []
    for cell in jupytext.reads(source, fmt="py:percent").cells:
        if cell.cell_type != "code":
            continue
        try:
            body = ast.parse(cell.source).body
        except SyntaxError:
            continue  # magics, or a student's blank to fill in: not ours to judge here
        if not body or not isinstance(body[-1], ast.Expr):
            continue
        if cell.source.rstrip().endswith(";"):
            continue  # IPython shows nothing for a last line ending in ';'
        if _called_name(body[-1].value) in ECHOING_SEEDERS:
            found.append(ast.get_source_segment(cell.source, body[-1]))
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_cell_echoes_its_seed(path):
    echoes = stray_echoes(path.read_text())
    assert not echoes, (f"{path.name}: {echoes} would print the seed under the cell; "
                        "assign it (seed = setup(0)) or end the line with ';'")


def test_the_check_sees_a_bare_setup_call():
    assert stray_echoes("# %%\nfrom cnnlib import setup\nsetup(0)\n") == ["setup(0)"]
    assert stray_echoes("# %%\nimport torch\ntorch.manual_seed(1)\n") == ["torch.manual_seed(1)"]
    assert stray_echoes("# %%\nseed = setup(0)\n") == []
    assert stray_echoes("# %%\nsetup(0);\n") == []
