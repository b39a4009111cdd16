"""cnnlib/lab: a reader's JupyterLab save never rewrites a built notebook, for every section.

The contents manager is driven as JupyterLab drives it, through Jupytext's manager derived
from it (as the Jupytext server extension derives it), on a copy of each section. The
browser walk (tests/browser/test_lab.py) does the same through a real JupyterLab for two
sections.
"""

from __future__ import annotations

import asyncio
import copy
import shutil
from pathlib import Path

import nbformat
import pytest
from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class

from cnnlib.lab.contents import READER_COPIES, ChapterContentsManager, reader_copy_path
from cnnlib.lab.offline import BUILT_KEY, WIDGET_VIEW, is_built, keep_offline, mark_built

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.py"))
VIEW = {"model_id": "0123abcd", "version_major": 2, "version_minor": 0}
PNG = "iVBORw0KGgo="  # any base64 text: the picture is carried, not decoded
LabManager = build_async_jupytext_contents_manager_class(ChapterContentsManager)


def _manager(root: Path) -> ChapterContentsManager:
    return LabManager(root_dir=str(root))


def _section(tmp_path: Path, source: Path) -> Path:
    """A root holding one section (.py and its built .ipynb) and the Jupytext settings."""
    (tmp_path / "chapters").mkdir()
    for suffix in (".py", ".ipynb"):
        shutil.copy(source.with_suffix(suffix), tmp_path / "chapters")
    shutil.copy(ROOT / "jupytext.toml", tmp_path)
    return tmp_path


def _as_after_a_run(content: dict) -> dict:
    """The notebook JupyterLab holds after Run All: live explorers, a live progress bar."""
    content = copy.deepcopy(content)
    code = [cell for cell in content["cells"] if cell["cell_type"] == "code"]
    code[0]["outputs"].append(nbformat.v4.new_output("display_data", data={
        WIDGET_VIEW: VIEW, "text/plain": "  0%|          | 0/469 [00:00<?, ?batch/s]"}))
    code[-1]["outputs"].append(nbformat.v4.new_output("display_data", data={
        WIDGET_VIEW: VIEW, "image/png": PNG,
        "text/plain": "PoolingExplorer: run this cell for the live explorer"}))
    content["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    return content


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_saving_a_run_section_keeps_the_built_notebook_and_copies_the_run(source, tmp_path):
    root = _section(tmp_path, source)
    manager = _manager(root)
    py, ipynb = f"chapters/{source.name}", f"chapters/{source.stem}.ipynb"
    built = (root / ipynb).read_bytes()
    built_mtime = (root / ipynb).stat().st_mtime_ns
    code_before = (root / py).read_bytes()

    opened = asyncio.run(manager.get(py))  # what Lab loads: the .py's cells, the .ipynb's outputs
    assert is_built(opened["content"]), f"{ipynb}: run `make notebooks NB={py}`"
    saved = asyncio.run(manager.save({"type": "notebook", "format": "json",
                                      "content": _as_after_a_run(opened["content"])}, py))

    assert (root / ipynb).read_bytes() == built, "the save rewrote the built notebook"
    assert (root / ipynb).stat().st_mtime_ns == built_mtime
    assert (root / py).read_bytes() == code_before, "Jupytext changed the reader's code"
    assert saved["path"] == py and saved.get("content") is None
    run = nbformat.read(root / reader_copy_path(ipynb), as_version=4)
    nbformat.validate(run)
    text = (root / reader_copy_path(ipynb)).read_text()
    assert WIDGET_VIEW not in text and "0%|" not in text and BUILT_KEY not in run.metadata
    pictures = [o for cell in run.cells if cell.cell_type == "code" for o in cell.outputs
                if PNG in o.get("data", {}).get("text/html", "")]
    assert len(pictures) == 1
    assert "Run this cell to use the explorer" in pictures[0]["data"]["text/html"]
    assert pictures[0]["data"]["text/plain"] == (
        "PoolingExplorer: run this cell for the live explorer")
    # Reopened, the section shows the built outputs again, and opens without a conflict.
    reopened = asyncio.run(manager.get(py))
    assert WIDGET_VIEW not in str(reopened["content"])


def test_saving_the_reader_copy_or_any_other_notebook_writes_it(tmp_path):
    root = _section(tmp_path, ROOT / "chapters" / "7_3_padding_stride.py")
    manager = _manager(root)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    asyncio.run(manager.save({"type": "notebook", "content": notebook}, "mine.ipynb"))
    assert nbformat.read(root / "mine.ipynb", as_version=4).cells[0].source == "1 + 1"
    ipynb = "chapters/7_3_padding_stride.ipynb"
    opened = asyncio.run(manager.get(ipynb))
    asyncio.run(manager.save({"type": "notebook", "content": opened["content"]}, ipynb))
    copy_path = reader_copy_path(ipynb)
    assert copy_path.startswith(f"{READER_COPIES}/")
    # The copy is the reader's own notebook: saving it again writes it, edits included.
    mine = asyncio.run(manager.get(copy_path))
    mine["content"]["cells"][0]["source"] = "# my notes"
    asyncio.run(manager.save({"type": "notebook", "content": mine["content"]}, copy_path))
    assert nbformat.read(root / copy_path, as_version=4).cells[0].source == "# my notes"


def test_a_notebook_not_marked_built_is_saved_as_usual(tmp_path):
    root = _section(tmp_path, ROOT / "chapters" / "7_3_padding_stride.py")
    ipynb = root / "chapters/7_3_padding_stride.ipynb"
    notebook = nbformat.read(ipynb, as_version=4)
    notebook.metadata.pop(BUILT_KEY)
    nbformat.write(notebook, ipynb)
    manager = _manager(root)
    opened = asyncio.run(manager.get("chapters/7_3_padding_stride.py"))
    opened["content"]["cells"][-1]["outputs"] = []
    asyncio.run(manager.save({"type": "notebook", "content": opened["content"]},
                             "chapters/7_3_padding_stride.py"))
    assert nbformat.read(ipynb, as_version=4).cells[-1].outputs == []
    assert not (root / READER_COPIES).exists()


def test_keep_offline_prefers_the_page_form_then_the_picture_and_drops_the_rest():
    form = '<div class="cnn-explorer" id="cnnx-1" data-explorer="PoolingExplorer">'
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={
            WIDGET_VIEW: VIEW, "text/html": form, "image/png": PNG, "text/plain": "VBox("}),
        nbformat.v4.new_output("display_data", data={
            WIDGET_VIEW: VIEW, "image/png": PNG,
            "text/plain": "KernelExplorer: run this cell for the live explorer"}),
        nbformat.v4.new_output("display_data", data={WIDGET_VIEW: VIEW, "text/plain": "0%|"}),
        nbformat.v4.new_output("stream", name="stdout", text="epoch 1\n"),
    ]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    notebook.metadata["widgets"] = {}
    assert keep_offline(notebook) == {"page forms": 1, "pictures": 1, "dropped": 1}
    page, picture, log = cell.outputs
    assert set(page.data) == {"text/html", "text/plain"}
    assert page.data["text/plain"] == "PoolingExplorer: run this cell for the live explorer"
    assert set(picture.data) == {"text/html", "text/plain"}
    assert f"base64,{PNG}" in picture.data["text/html"]
    assert 'data-explorer="KernelExplorer"' in picture.data["text/html"]
    assert picture.data["text/plain"].startswith("KernelExplorer: ")
    assert log.text == "epoch 1\n" and "widgets" not in notebook.metadata
    assert not is_built(notebook)
    mark_built(notebook)
    assert is_built(notebook) and is_built(dict(notebook))
