"""The explorers on the built website compute with no kernel, as the Python explorer would.

For every explorer on every chapter page we move two of its controls (sliders or menus)
in Chromium, wait for its answer (a network runs asynchronously), then build the same
explorer in Python (as the notebook does), set the same values, and compare the status
line. The site is served from its folder; the offline suite checks separately that
nothing is fetched from another host. Each explorer's own browser test
(tests/browser/test_web_explorers*.py) compares every number it shows with PyTorch.

A website form is also opened on its own, with and without JavaScript: only its scripts
(which JupyterLab drops from an untrusted notebook) may show controls.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"


def _make(page_stem: str, cls: str):
    """The explorer as its chapter builds it (cnnlib/widgets/registry.py)."""
    from cnnlib.widgets import registry

    entry = registry.entry(cls)
    assert page_stem in entry.sections, f"{cls} on {page_stem}: not in its registry entry"
    return entry.build()


def _explorer_pages() -> list[str]:
    return sorted(p.stem for p in (SITE / "chapters").glob("*.html")
                  if 'class="cnn-explorer"' in p.read_text())


def test_the_sections_with_explorers_show_them():
    from cnnlib.widgets import registry

    expected = sorted({stem for e in registry.EXPLORERS for stem in e.sections})
    assert _explorer_pages() == expected


@pytest.mark.parametrize("stem", _explorer_pages() or ["(site not built)"])
def test_two_controls_changed_match_the_python_explorer(stem, page, site_url, artifacts):
    from cnnlib.widgets import registry

    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site_url}/chapters/{stem}.html")
    page.wait_for_load_state("load")
    roots = page.locator(".cnn-explorer")
    shown = [roots.nth(n).get_attribute("data-explorer") for n in range(roots.count())]
    assert shown == [e.name for e in registry.in_section(stem)], "page and registry differ"
    for n in range(roots.count()):
        root = roots.nth(n)
        assert root.get_attribute("data-live") == "1", "every explorer computes on the page"
        _check_live(root, stem, root.get_attribute("data-explorer"))
    page.screenshot(path=str(artifacts / f"site_explorers_{stem}.png"), full_page=False)
    assert not errors, f"console errors on {stem}: {errors}"


def _wait_until_idle(root, timeout_s: float = 30) -> None:
    """Wait while the explorer computes (a network answers asynchronously; aria-busy)."""
    root.page.wait_for_function(
        "(r) => !r.matches('[aria-busy=true]') && !r.querySelector('[aria-busy=true]')",
        arg=root.element_handle(), timeout=timeout_s * 1000)


def _move(control) -> bool:
    """Move a range input to the other end of its range, or a menu to another option, as a
    reader would; False when it offers no other choice."""
    if control.evaluate("e => e.tagName") == "SELECT":
        options = control.evaluate(
            "s => [...s.options].filter((o) => !o.disabled).map((o) => o.value)")
        if len(options) < 2:
            return False
        control.select_option(options[-1] if control.input_value() != options[-1]
                              else options[0])
        return True
    low, high = int(control.get_attribute("min")), int(control.get_attribute("max"))
    if low == high:
        return False
    control.fill(str(high if int(control.input_value()) < high else low))
    return True


def _check_live(root, stem: str, cls: str) -> None:
    """An explorer that computes in the browser: its front-end is mounted, the picture it
    replaces and the notice are gone, and after two controls (sliders or menus) moved, what
    it shows is what Python computes for the same settings."""
    assert "cnnx-live" in root.get_attribute("class").split(), f"{cls}: front-end not mounted"
    assert root.locator(".cnnx-notice, .cnnx-fallback").count() == 0, f"{cls} shows the notice"
    root.scroll_into_view_if_needed()  # an explorer's network loads when the reader gets there
    _wait_until_idle(root)
    status = root.locator("[role=status]").first
    assert status.get_attribute("aria-live") == "polite"
    start_text = status.inner_text()
    controls = root.locator("input[type=range][name]:not([disabled]), select[name]:not([disabled])")
    moved = 0
    for i in range(controls.count()):
        if moved < 2 and _move(controls.nth(i)):
            moved += 1
            _wait_until_idle(root)
    assert moved >= 1, f"{cls}: no control to move"
    settings = dict(root.locator("input[type=range][name], select[name]").evaluate_all(
        "all => all.map((c) => [c.name, c.type === 'range' ? Number(c.value) : c.value])"))
    text = status.inner_text()
    assert text != start_text, f"{cls}: the status did not change"
    explorer = _make(stem, cls)
    for name, value in settings.items():  # page order: menus before the rows they move
        setattr(explorer, name, type(getattr(explorer, name))(value))
    assert " ".join(text.split()) == " ".join(explorer.status_text.split()), cls


@pytest.fixture(scope="module")
def form() -> str:
    """7.3's padding/stride explorer's website form (cnnlib.widgets.page.live_html)."""
    import os

    from cnnlib.widgets.padding_stride import PaddingStrideExplorer
    from cnnlib.widgets.page import PAGE_FORMS_VARIABLE

    before = os.environ.get(PAGE_FORMS_VARIABLE)
    os.environ[PAGE_FORMS_VARIABLE] = "1"
    try:
        data, _ = PaddingStrideExplorer()._repr_mimebundle_()
    finally:
        if before is None:
            del os.environ[PAGE_FORMS_VARIABLE]
        else:
            os.environ[PAGE_FORMS_VARIABLE] = before
    return data["text/html"]


def test_a_form_without_its_scripts_shows_no_controls(form, browser, artifacts):
    """Where no script runs (JavaScript off; an untrusted notebook in JupyterLab), the form
    shows Python's picture and says how to use the explorer: no dead controls."""
    from cnnlib.widgets.page import NOTICE

    context = browser.new_context(java_script_enabled=False,
                                  viewport={"width": 1280, "height": 1000})
    try:
        page = context.new_page()
        page.set_content(f"<!doctype html><html><body>{form}</body></html>")
        root = page.locator(".cnn-explorer")
        assert root.locator("input, select, button, output, svg").count() == 0
        assert root.locator(".cnnx-notice").inner_text() == NOTICE
        assert root.locator(".cnnx-notice").is_visible()
        assert root.locator("img.cnnx-image").is_visible()
        root.screenshot(path=str(artifacts / "website_form_without_script.png"))
    finally:
        context.close()


def test_a_form_with_its_scripts_computes_and_drops_the_picture(form, page):
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content(f"<!doctype html><html><body>{form}</body></html>")
    root = page.locator(".cnn-explorer")
    assert "cnnx-live" in root.get_attribute("class").split()
    assert root.locator(".cnnx-notice, img.cnnx-image").count() == 0
    _check_live(root, "7_3_padding_stride", "PaddingStrideExplorer")
    assert errors == []
