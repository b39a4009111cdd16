"""Make an executed chapter notebook readable without a kernel, and mark it built.

`make notebooks` runs this on every notebook it has just executed: each explorer's
output keeps its page form (the website's form, added under ``CNNLIB_EXPLORER_PAGES=1``)
and loses its live view, other widget outputs (progress bars) go, and so does the saved
widget state (see :mod:`cnnlib.lab.offline`). The notebook is then marked as built, so
that JupyterLab saves a reader's run to ``my-notebooks/`` and never over it
(:mod:`cnnlib.lab.contents`).

Usage: python scripts/publish_notebook.py chapters/7_3_padding_stride.ipynb [...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnlib._atomic import atomic_open  # noqa: E402
from cnnlib.lab.offline import keep_offline, mark_built  # noqa: E402


def publish(notebook: nbformat.NotebookNode) -> dict[str, int]:
    """Make ``notebook`` show without a kernel and mark it built, in place; count what was done."""
    counts = keep_offline(notebook)
    mark_built(notebook)
    return counts


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        counts = publish(notebook)
        with atomic_open(path, "w") as handle:
            nbformat.write(notebook, handle)
        print(f"{path}: {counts['page forms']} page forms, {counts['pictures']} pictures, "
              f"{counts['dropped']} widget outputs dropped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
