"""Saving a section in JupyterLab leaves its files as committed.

JupyterLab reads and writes `chapters/*.py` through Jupytext's contents manager, which
takes its settings from the repository's `jupytext.toml`. Without a metadata filter there,
every save adds a `text_representation` block (with the Jupytext version) to the `.py`
header, so each student's first save is a diff. These tests open every section and every
assignment master the way Lab does, save it unchanged into a copy of the repository, and
compare the written files with the committed ones byte for byte.
"""

import asyncio
import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from jupytext import AsyncTextFileContentsManager, TextFileContentsManager
from jupytext.config import find_jupytext_configuration_file, load_jupytext_config

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "jupytext.toml"
SOURCES = sorted((ROOT / "chapters").glob("*.py")) + sorted((ROOT / "assignments").glob("*.py"))
_spec = importlib.util.spec_from_file_location("check_pairs", ROOT / "scripts" / "check_pairs.py")
check_pairs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_pairs)


def _save_as_lab_does(
    tmp_path: Path, source: Path, config: Path = CONFIG, asynchronous: bool = False
) -> dict[Path, Path]:
    """Copy `source` (and its .ipynb, if any) and `config` into a fresh repository root,
    open the source with Jupytext's contents manager and save the same model back.
    Returns {committed file: file written by the save}. JupyterLab 4's server uses the
    asynchronous manager; both share Jupytext's reading and writing."""
    shutil.copy(config, tmp_path / "jupytext.toml")
    folder = tmp_path / source.parent.name
    folder.mkdir()
    files = [source] + [p for p in [source.with_suffix(".ipynb")] if p.exists()]
    for path in files:
        shutil.copy(path, folder / path.name)
    relative = f"{source.parent.name}/{source.name}"
    if asynchronous:
        manager = AsyncTextFileContentsManager(root_dir=str(tmp_path))

        async def get_and_save():
            model = await manager.get(relative)
            await manager.save(model, relative)
            return model

        model = asyncio.run(get_and_save())
    else:
        manager = TextFileContentsManager(root_dir=str(tmp_path))
        model = manager.get(relative)
        manager.save(model, relative)
    assert model["type"] == "notebook", f"Lab would not open {relative} as a notebook"
    return {path: folder / path.name for path in files}


def test_the_repository_config_is_the_one_lab_finds():
    """Lab looks for jupytext.toml from the notebook's folder upwards: ours is the first."""
    for folder in ("chapters", "assignments"):
        assert Path(find_jupytext_configuration_file(str(ROOT / folder))) == CONFIG
    config = load_jupytext_config(str(ROOT / "chapters" / "7_3_padding_stride.py"))
    assert "-jupytext.text_representation" in config.notebook_metadata_filter.split(",")


def _assert_unchanged(source: Path, saved: dict[Path, Path]) -> None:
    """The .py byte for byte; the .ipynb byte for byte too when its cells match the .py
    (a pair that drifted apart is rewritten by any save: tests/test_notebook_pairs.py
    reports that), and otherwise at least its notebook metadata."""
    for committed, written in saved.items():
        if committed.suffix == ".ipynb" and check_pairs.compare_pair(source):
            metadata = [json.loads(f.read_text())["metadata"] for f in (committed, written)]
            assert metadata[0] == metadata[1], f"saving {source.name} changes the .ipynb metadata"
            continue
        assert written.read_bytes() == committed.read_bytes(), (
            f"saving {source.name} in JupyterLab changes {committed.name}:\n"
            + "\n".join(written.read_text().splitlines()[:12])
        )


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_saving_in_lab_rewrites_nothing(tmp_path, source):
    _assert_unchanged(source, _save_as_lab_does(tmp_path, source))


def test_the_asynchronous_manager_rewrites_nothing(tmp_path):
    source = ROOT / "chapters" / "7_3_padding_stride.py"
    _assert_unchanged(source, _save_as_lab_does(tmp_path, source, asynchronous=True))


def test_the_header_keeps_formats_and_kernelspec(tmp_path):
    """The filter removes Jupytext's bookkeeping, not the metadata the header carries."""
    source = ROOT / "chapters" / "7_3_padding_stride.py"
    header = _save_as_lab_does(tmp_path, source)[source].read_text().split("# ---\n")[1]
    assert "#     formats: ipynb,py:percent\n" in header
    assert "#   kernelspec:\n" in header and "#     name: python3\n" in header
    assert "text_representation" not in header and "jupytext_version" not in header


def test_without_the_filter_a_save_adds_the_jupytext_version(tmp_path):
    """The failure this config prevents: jupytext.toml without notebook_metadata_filter."""
    bare = tmp_path / "bare.toml"
    bare.write_text('formats = "ipynb,py:percent"\n')
    root = tmp_path / "repo"
    root.mkdir()
    source = ROOT / "chapters" / "7_3_padding_stride.py"
    written = _save_as_lab_does(root, source, config=bare)[source].read_text()
    assert "text_representation" in written and "jupytext_version" in written
