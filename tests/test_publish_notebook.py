"""scripts/publish_notebook.py, and the committed notebooks it has been run on."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from publish_notebook import main, publish  # noqa: E402

from cnnlib.lab.offline import WIDGET_VIEW, is_built  # noqa: E402

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
MAX_FORM_BYTES = 1_500_000  # one explorer's page form, pictures included
_EXPLORER_CALL = re.compile(r"^(\w+) = (\w+Explorer)\(", re.M)


def _output(data: dict) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data=data)


def _notebook() -> nbformat.NotebookNode:
    view = {"model_id": "abc", "version_major": 2, "version_minor": 0}
    notebook = nbformat.v4.new_notebook()
    explorer = nbformat.v4.new_code_cell("explorer = PoolingExplorer()\nexplorer")
    explorer.outputs = [_output({
        WIDGET_VIEW: view,
        "text/plain": "VBox(children=(VBox(children=(ToggleButtons(",
        "text/html": '<div class="cnn-explorer" id="cnnx-1" data-explorer="PoolingExplorer">',
    })]
    training = nbformat.v4.new_code_cell("model = trainer.fit()")
    training.outputs = [
        _output({WIDGET_VIEW: view, "text/plain": "  0%|          | 0/1876 [00:00<?, ?batch/s]"}),
        nbformat.v4.new_output("stream", name="stdout", text="epoch 1: loss 0.52\n"),
    ]
    plain = nbformat.v4.new_code_cell("print(1)")
    plain.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    notebook.cells = [explorer, training, plain]
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return notebook


def test_publish_keeps_page_forms_and_drops_live_views():
    notebook = _notebook()
    counts = publish(notebook)
    assert counts == {"page forms": 1, "pictures": 0, "dropped": 1}
    explorer, training, plain = notebook.cells
    (form,) = explorer.outputs
    assert WIDGET_VIEW not in form.data
    assert form.data["text/html"].startswith('<div class="cnn-explorer"')
    assert form.data["text/plain"] == "PoolingExplorer: run this cell for the live explorer"
    assert [o.output_type for o in training.outputs] == ["stream"]
    assert plain.outputs[0].text == "1\n"
    assert "widgets" not in notebook.metadata
    assert is_built(notebook), "JupyterLab must know not to overwrite it"


def test_main_rewrites_the_file_and_it_stays_valid(tmp_path, capsys):
    path = tmp_path / "section.ipynb"
    nbformat.write(_notebook(), path)
    assert main([str(path)]) == 0
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert WIDGET_VIEW not in path.read_text()
    assert "1 page forms, 0 pictures, 1 widget outputs dropped" in capsys.readouterr().out
    assert main([]) == 2


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_committed_notebooks_are_published(path):
    """Each explorer shows its page form; no live view or saved widget state is left."""
    text = path.read_text()
    assert WIDGET_VIEW not in text, f"{path.name}: run `make notebooks NB=chapters/{path.stem}.py`"
    notebook = nbformat.reads(text, as_version=4)
    assert "widgets" not in notebook.metadata
    # Marked built: a reader's JupyterLab save goes to my-notebooks/ (cnnlib/lab/contents.py).
    assert is_built(notebook), f"{path.name}: run `make notebooks NB=chapters/{path.stem}.py`"
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for variable, cls in _EXPLORER_CALL.findall(cell.source):
            if cell.source.rstrip().splitlines()[-1].strip() != variable:
                continue  # built but not displayed in this cell
            forms = [o for o in cell.outputs if f'data-explorer="{cls}"'
                     in o.get("data", {}).get("text/html", "")]
            assert forms, f"{path.name}: the {cls} cell has no page form"
            # The website carries every form in its page: each stays under about 1.5 MB.
            size = len(forms[0]["data"]["text/html"].encode())
            assert size < MAX_FORM_BYTES, (
                f"{path.name}: the {cls} page form is {size / 1e6:.2f} MB; offer fewer "
                "settings in its page_controls() or draw a smaller picture")
