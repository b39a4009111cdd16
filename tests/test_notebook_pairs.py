"""The pair check (scripts/check_pairs.py) catches a .py and .ipynb that drifted apart."""

import importlib.util
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("check_pairs", ROOT / "scripts" / "check_pairs.py")
check_pairs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_pairs)

SOURCE = """# %% [markdown]
# # A title

# %%
x = 1 + 1
x
"""


def _write_pair(tmp_path: Path, py_text: str, nb_text: str) -> Path:
    py = tmp_path / "7_9_demo.py"
    py.write_text(py_text)
    nbformat.write(jupytext.reads(nb_text, fmt="py:percent"), tmp_path / "7_9_demo.ipynb")
    return py


def test_matching_pair_passes(tmp_path):
    py = _write_pair(tmp_path, SOURCE, SOURCE)
    assert check_pairs.compare_pair(py) == []


def test_edited_source_is_caught(tmp_path):
    py = _write_pair(tmp_path, SOURCE.replace("1 + 1", "1 + 2"), SOURCE)
    [problem] = check_pairs.compare_pair(py)
    assert "cell 1" in problem and "source" in problem


def test_added_cell_is_caught(tmp_path):
    py = _write_pair(tmp_path, SOURCE + "\n# %%\nprint(x)\n", SOURCE)
    assert any("3 cells in the .py but 2" in p for p in check_pairs.compare_pair(py))


def test_missing_notebook_is_caught(tmp_path):
    py = tmp_path / "7_9_demo.py"
    py.write_text(SOURCE)
    [problem] = check_pairs.compare_pair(py)
    assert "make notebooks" in problem


def test_orphan_notebook_fails(tmp_path):
    nbformat.write(jupytext.reads(SOURCE, fmt="py:percent"), tmp_path / "7_9_demo.ipynb")
    with pytest.raises(SystemExit):
        check_pairs.find_sources([str(tmp_path)])


@pytest.mark.parametrize("py", sorted((ROOT / "chapters").glob("*.py")), ids=lambda p: p.name)
def test_every_chapter_pair_matches(py):
    assert check_pairs.compare_pair(py) == []


def test_one_notebook_per_section():
    """DESIGN.md: a glob like chapters/7_2_*.ipynb finds exactly one notebook."""
    sections = [p.name.split("_")[:2] for p in (ROOT / "chapters").glob("*.ipynb")]
    assert len(sections) == len({tuple(s) for s in sections})
