"""Check that every chapters/*.py and its .ipynb hold the same cells.

The .py (jupytext percent format) is the source a person edits; the .ipynb is
generated from it by `make notebooks` and committed with outputs. If someone
edits one and not the other, the website and nbval would check stale code.
`jupytext --diff` exits 0 even when the files differ, hence this script.

Usage: python scripts/check_pairs.py [DIR_OR_FILES...]   (default: chapters)
Exit status 1 and a message per mismatch when any pair disagrees.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import nbformat


def _cells(notebook) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def compare_pair(py_path: Path) -> list[str]:
    """Problems with one pair; an empty list when the .py and .ipynb agree."""
    ipynb_path = py_path.with_suffix(".ipynb")
    if not ipynb_path.exists():
        return [f"{py_path}: no {ipynb_path.name} beside it (run `make notebooks`)"]
    source = _cells(jupytext.read(py_path))
    stored = _cells(nbformat.read(ipynb_path, as_version=4))
    problems = []
    if len(source) != len(stored):
        problems.append(
            f"{py_path}: {len(source)} cells in the .py but {len(stored)} in the .ipynb"
        )
    for index, (a, b) in enumerate(zip(source, stored, strict=False)):
        if a != b:
            kind = "type" if a[0] != b[0] else "source"
            first = a[1].splitlines()[0] if a[1] else "(empty)"
            problems.append(f"{py_path}: cell {index} ({first!r}) differs in {kind}")
            break  # the first difference is enough to say "re-execute it"
    return problems


def find_sources(args: list[str]) -> list[Path]:
    paths: list[Path] = []
    for arg in args or ["chapters"]:
        path = Path(arg)
        paths.extend(sorted(path.glob("*.py")) if path.is_dir() else [path])
    orphans = [
        nb for arg in (args or ["chapters"]) if Path(arg).is_dir()
        for nb in sorted(Path(arg).glob("*.ipynb")) if not nb.with_suffix(".py").exists()
    ]
    for nb in orphans:
        print(f"{nb}: no .py source beside it", file=sys.stderr)
    if orphans:
        raise SystemExit(1)
    return paths


def main(argv: list[str]) -> int:
    sources = find_sources(argv)
    problems = [p for py in sources for p in compare_pair(py)]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("Fix: edit the .py, then `make notebooks NB=chapters/FILE.py`", file=sys.stderr)
        return 1
    print(f"pairs: {len(sources)} notebook pairs hold the same cells")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
