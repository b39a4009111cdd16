"""The website's configuration: one repository URL, every notebook in the table of contents."""

import re
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
CHAPTERS = sorted((ROOT / "chapters").glob("*.py"))


def _toc_files(node) -> list[str]:
    found = []
    if isinstance(node, dict):
        if "file" in node:
            found.append(node["file"])
        for value in node.values():
            found += _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            found += _toc_files(item)
    return found


def test_launch_buttons_point_at_the_repository():
    assert CONFIG["repository"]["url"].startswith("https://github.com/")
    assert CONFIG["launch_buttons"]["binderhub_url"]
    assert CONFIG["launch_buttons"]["colab_url"]
    assert CONFIG["execute"]["execute_notebooks"] == "off"


@pytest.mark.parametrize("py", CHAPTERS, ids=lambda p: p.name)
def test_colab_cell_installs_from_the_configured_repository(py):
    """The URL lives in _config.yml; each notebook's hidden Colab cell must agree."""
    cells = jupytext.read(py).cells
    colab = [c for c in cells if c.cell_type == "code" and "google.colab" in c.source]
    assert len(colab) == 1, f"{py.name} needs exactly one Colab install cell"
    urls = re.findall(r"git\+(https://\S+?)[\"']", colab[0].source)
    assert urls == [CONFIG["repository"]["url"]]
    assert "remove-cell" in colab[0].metadata.get("tags", [])


def test_toc_lists_every_notebook_and_only_existing_pages():
    files = [TOC["root"], *_toc_files(TOC.get("parts", []))]
    for name in files:
        assert any((ROOT / f"{name}{ext}").exists() for ext in (".md", ".ipynb")), name
    for py in CHAPTERS:
        assert f"chapters/{py.stem}" in files, f"{py.stem} is missing from _toc.yml"


@pytest.mark.parametrize("py", sorted((ROOT / "assignments").glob("*.py")), ids=lambda p: p.name)
def test_assignment_colab_cell_installs_otter_and_cnnlib_from_the_repository(py):
    """Students on Colab get cnnlib from the configured repository and the pinned otter."""
    cells = jupytext.read(py).cells
    colab = [c for c in cells if c.cell_type == "code" and "google.colab" in c.source]
    assert len(colab) == 1, f"{py.name} needs exactly one Colab install cell"
    assert re.findall(r"git\+(https://\S+?)[\"']", colab[0].source) == [CONFIG["repository"]["url"]]
    pinned = re.search(r"^otter-grader==(\S+)$", (ROOT / "requirements.in").read_text(), re.M)
    assert f"otter-grader=={pinned.group(1)}" in colab[0].source
