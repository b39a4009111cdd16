"""Make an executed chapter notebook readable without a kernel: page forms, no dead widgets.

`make notebooks` runs this on every notebook it has just executed. A live ipywidgets
output only works while its kernel runs; saved in the notebook it shows, on a fresh
open in JupyterLab, "Error displaying widget: model not found" (or, elsewhere, the
text ``VBox(children=...)``), and a progress bar frozen at ``0%|``. So, in every
code cell's outputs:

* an explorer's output keeps its page form (the ``text/html`` that the explorer adds
  when ``CNNLIB_EXPLORER_PAGES=1``, see cnnlib/widgets/page.py) and loses the live
  view; its plain-text form says what it is;
* any other widget output (tqdm's progress bar) is dropped: the trainer prints a
  summary line per epoch, which stays;

and the notebook's saved widget state goes. Running the notebook brings the live
widgets back. The website and JupyterLab before Run All both show the page forms.

Usage: python scripts/publish_notebook.py chapters/7_3_padding_stride.ipynb [...]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnlib._atomic import atomic_open  # noqa: E402

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_EXPLORER_NAME = re.compile(r'class="cnn-explorer"[^>]*data-explorer="(\w+)"')


def publish(notebook: nbformat.NotebookNode) -> dict[str, int]:
    """Rewrite ``notebook``'s widget outputs in place; count what was done."""
    counts = {"page forms": 0, "dropped": 0}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                kept.append(output)
                continue
            page = data.get("text/html", "")
            match = _EXPLORER_NAME.search(page)
            if match is None:
                counts["dropped"] += 1
                continue
            del data[WIDGET_VIEW]
            data["text/plain"] = f"{match.group(1)}: run this cell for the live explorer"
            counts["page forms"] += 1
            kept.append(output)
        cell["outputs"] = kept
    notebook.metadata.pop("widgets", None)
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
        print(f"{path}: {counts['page forms']} page forms, "
              f"{counts['dropped']} widget outputs dropped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
