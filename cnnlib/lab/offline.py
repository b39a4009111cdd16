"""Notebook outputs that show without a kernel: website forms and pictures, never dead widgets.

A live ipywidgets output (``application/vnd.jupyter.widget-view+json``) only works while
its kernel runs. Saved in a notebook it shows, once the notebook is opened again in
JupyterLab, "Error displaying widget: model not found" (or, elsewhere, the text
``VBox(children=...)``), and a progress bar frozen at ``0%|``. :func:`keep_offline`
rewrites each code cell's widget outputs into what a reader can use with no kernel:

* an explorer's output keeps its website form (the ``text/html`` that an explorer adds
  when ``CNNLIB_EXPLORER_PAGES=1``, see :mod:`cnnlib.widgets.page`) or, failing that, the
  picture it showed (the ``image/png`` every explorer's output carries, see
  :meth:`cnnlib.widgets.live.LiveExplorer._repr_mimebundle_`) over the line "Run this cell
  to use the explorer" (:func:`cnnlib.widgets.page.picture_html`); its plain text says
  the same;
* any other widget output (tqdm's progress bar) is dropped: the trainer prints a summary
  line per epoch, which stays;

and the notebook's saved widget state goes. Running the cell brings the live widget back.
"""

from __future__ import annotations

import re

import nbformat

from cnnlib.widgets.page import not_live_text, picture_html

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: Notebook metadata key that marks a notebook `make notebooks` built (see :func:`mark_built`).
BUILT_KEY = "cnnlib"
_EXPLORER_NAME = re.compile(r'class="cnn-explorer"[^>]*data-explorer="(\w+)"')
_EXPLORER_TEXT = re.compile(r"^(\w+Explorer): ")


def keep_offline(notebook: nbformat.NotebookNode) -> dict[str, int]:
    """Rewrite ``notebook``'s widget outputs in place; count what was done.

    Returns:
        ``{"page forms": n, "pictures": n, "dropped": n}``: explorer outputs kept as their
        page form, kept as their picture, and widget outputs removed.
    """
    counts = {"page forms": 0, "pictures": 0, "dropped": 0}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                kept.append(output)
                continue
            del data[WIDGET_VIEW]
            form = _EXPLORER_NAME.search(data.get("text/html", ""))
            if form is not None:
                # The page form replaces the picture: it holds the same first picture.
                data.pop("image/png", None)
                name, kind = form.group(1), "page forms"
            elif "image/png" in data:
                name = _explorer_name(data.get("text/plain", "")) or "explorer"
                # The picture with a line saying to run the cell: a bare picture would not
                # tell the reader that the explorer is not live.
                data["text/html"] = picture_html(name, data.pop("image/png"))
                kind = "pictures"
            else:
                counts["dropped"] += 1
                continue
            data["text/plain"] = not_live_text(name)
            counts[kind] += 1
            kept.append(output)
        cell["outputs"] = kept
    notebook.metadata.pop("widgets", None)
    return counts


def _explorer_name(text: str) -> str | None:
    match = _EXPLORER_TEXT.match(text)
    return match.group(1) if match else None


def mark_built(notebook: nbformat.NotebookNode) -> None:
    """Mark ``notebook`` as built by ``make notebooks``: JupyterLab never overwrites it."""
    notebook.metadata[BUILT_KEY] = {"built_by": "make notebooks"}


def is_built(notebook: dict) -> bool:
    """Whether ``notebook`` (a notebook node or its JSON dict) carries :func:`mark_built`."""
    return isinstance(notebook.get("metadata", {}).get(BUILT_KEY), dict)
