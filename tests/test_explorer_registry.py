"""cnnlib.widgets.registry: the one list of explorers is true to the code and the chapters."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import cnnlib.widgets
from cnnlib.models.pretrained import SHIPPED
from cnnlib.widgets import registry
from cnnlib.widgets.live import LiveExplorer

ROOT = Path(__file__).resolve().parent.parent


def _explorer_classes() -> set[type]:
    """Every explorer class defined in a module of cnnlib.widgets."""
    found = set()
    for info in pkgutil.iter_modules(cnnlib.widgets.__path__):
        module = importlib.import_module(f"cnnlib.widgets.{info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, LiveExplorer) and obj.__module__ == module.__name__:
                found.add(obj)
    return found - {LiveExplorer}


def _built_in_chapters() -> set[tuple[str, str]]:
    """(chapter stem, class name) for every ``name = SomeExplorer(...)`` in chapters/*.py."""
    pairs = set()
    for path in sorted((ROOT / "chapters").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                    and isinstance(node.value.func, ast.Name)
                    and node.value.func.id.endswith("Explorer")):
                pairs.add((path.stem, node.value.func.id))
    return pairs


def test_every_explorer_class_is_registered_once():
    registered = [e.cls for e in registry.EXPLORERS]
    assert len(registered) == len(set(registered)), "an explorer is registered twice"
    missing = {c.__name__ for c in _explorer_classes()} - {c.__name__ for c in registered}
    assert not missing, f"add these explorers to cnnlib/widgets/registry.py: {sorted(missing)}"
    assert set(registered) <= _explorer_classes()


def test_the_registry_names_exactly_the_sections_that_build_each_explorer():
    in_chapters = _built_in_chapters()
    in_registry = {(stem, e.name) for e in registry.EXPLORERS for stem in e.sections}
    assert in_chapters, "no chapter builds an explorer: the scan is broken"
    assert in_registry == in_chapters
    for stem, name in in_chapters:
        assert name in [e.name for e in registry.in_section(stem)]


def test_lookup_by_name_and_a_clear_error_for_a_wrong_one():
    assert registry.entry("KernelExplorer").cls.__name__ == "KernelExplorer"
    with pytest.raises(KeyError, match="no explorer called 'KernelExplorr'; registered: .*"
                                       "KernelExplorer"):
        registry.entry("KernelExplorr")


def test_what_the_website_computes_with_is_known():
    for e in registry.EXPLORERS:
        assert e.computes_with, e.name
        for need in e.computes_with:
            kind, _, name = need.partition(":")
            assert need in ("ops", "recorded") or (kind in ("network", "weights")
                                                   and name in SHIPPED), (e.name, need)
    assert set(registry.website_networks()) <= set(SHIPPED)


def test_an_explorer_without_a_front_end_is_refused():
    class PictureOnly:
        pass

    with pytest.raises(TypeError, match="is not a LiveExplorer"):
        registry.ExplorerEntry(PictureOnly, ("7_6_lenet",), PictureOnly, ("x", None), ("ops",))


def test_a_network_without_shipped_weights_is_refused(monkeypatch):
    base = registry.entry("PaddingStrideExplorer")
    wrong = registry.ExplorerEntry(base.cls, ("7_6_lenet",), base.cls, ("x", None),
                                   ("network:lenet5",))
    monkeypatch.setattr(registry, "EXPLORERS", (*registry.EXPLORERS, wrong))
    with pytest.raises(ValueError, match=r"without shipped weights: \['lenet5'\]"):
        registry.website_networks()


# The explorers that need no dataset or weights (quick to build here; the browser tests and
# the redraw benchmark build the others).
NEEDS_NOTHING = ("ParameterCountExplorer", "PaddingStrideExplorer", "ConvStepExplorer",
                 "ChannelsExplorer", "PoolingExplorer", "ReceptiveFieldExplorer")


@pytest.mark.parametrize("name", NEEDS_NOTHING)
def test_build_makes_the_explorer_and_its_redraw_control_exists(name):
    e = registry.entry(name)
    explorer = e.build()
    assert isinstance(explorer, e.cls)  # anywidget gives each instance a subclass of its own
    control, values = e.redraw
    for value in values or ():
        setattr(explorer, control, value)
        assert getattr(explorer, control) == value


def test_each_live_explorer_names_itself_and_its_scripts():
    for e in registry.EXPLORERS:
        widget = e.build()
        assert widget.explorer_name == e.name
        assert all(path.is_file() for path in widget.page_scripts()), e.name


def test_the_committed_website_forms_carry_todays_front_ends():
    """A live explorer's website form inlines its scripts (cnnlib/widgets/page.live_html),
    and nbval does not compare that output: a front-end changed without `make notebooks`
    would leave the website running yesterday's code."""
    import json
    import re

    forms = 0
    for e in registry.EXPLORERS:
        scripts = [path.read_text(encoding="utf-8") for path in e.build().page_scripts()]
        for stem in e.sections:
            notebook = json.loads((ROOT / "chapters" / f"{stem}.ipynb").read_text())
            for cell in notebook["cells"]:
                for output in cell.get("outputs", []):
                    form = "".join(output.get("data", {}).get("text/html", ""))
                    if f'data-explorer="{e.name}" data-live="1"' not in form:
                        continue
                    inline = re.findall(r"<script>(.*?)</script>", form, re.S)[:-1]  # - mount
                    shown = [s.replace("<\\/", "</").replace("<\\!--", "<!--") for s in inline]
                    assert shown == scripts, (
                        f"chapters/{stem}.ipynb carries an old front-end of {e.name}: run "
                        f"`make notebooks NB=chapters/{stem}.py`")
                    forms += 1
    assert forms == sum(len(e.sections) for e in registry.EXPLORERS)
