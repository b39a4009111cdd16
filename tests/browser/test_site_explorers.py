"""The explorers on the built website respond with no kernel, as the Python explorer would.

For every explorer on every chapter page we move two of its controls in Chromium, then
build the same explorer in Python (as the notebook does), set the same values, and
compare the status line and the picture. The site is served from its folder; the
offline suite checks separately that nothing is fetched from another host.

A page form is also opened on its own, with and without JavaScript: only its script
(which JupyterLab drops from an untrusted notebook) may show controls.
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"


def _make(page_stem: str, cls: str):
    """The explorer as its chapter builds it (cnnlib/widgets/registry.py)."""
    from cnnlib.widgets import registry

    entry = registry.entry(cls)
    assert page_stem in entry.sections, f"{cls} on {page_stem}: not in its registry entry"
    return entry.build()


def _text(status_html: str) -> str:
    """What a reader reads of a status line: tags dropped, entities decoded, spaces folded."""
    text = re.sub(r"<br\s*/?>", "\n", status_html)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return " ".join(text.split())


def _pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB")).astype(int)


def _explorer_pages() -> list[str]:
    return sorted(p.stem for p in (SITE / "chapters").glob("*.html")
                  if 'class="cnn-explorer"' in p.read_text())


def test_the_sections_with_explorers_show_them():
    from cnnlib.widgets import registry

    expected = sorted({stem for e in registry.EXPLORERS for stem in e.sections})
    assert _explorer_pages() == expected


@pytest.mark.parametrize("stem", _explorer_pages() or ["(site not built)"])
def test_two_controls_changed_match_the_python_explorer(stem, page, site_url, artifacts):
    from cnnlib.widgets.page import compress_png

    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site_url}/chapters/{stem}.html")
    page.wait_for_load_state("load")
    from cnnlib.widgets import registry

    roots = page.locator(".cnn-explorer")
    shown = [roots.nth(n).get_attribute("data-explorer") for n in range(roots.count())]
    assert shown == [e.name for e in registry.in_section(stem)], "page and registry differ"
    for n in range(roots.count()):
        root = roots.nth(n)
        cls = root.get_attribute("data-explorer")
        if root.get_attribute("data-live"):
            _check_live(root, stem, cls)
            continue
        # The script ran: the controls and the note are in, the "run this cell" notice out.
        assert "cnnx-live" in root.get_attribute("class").split(), f"{cls}: script did not run"
        assert root.locator(".cnnx-notice").count() == 0, f"{cls} shows the notice"
        assert re.fullmatch(r"This form offers \d+ settings, .*", root.locator(
            ".cnnx-note").inner_text()), f"{cls}: note missing"
        start_state = root.get_attribute("data-state")
        start_src = root.locator("img.cnnx-image").get_attribute("src")
        start_text = root.locator(".cnnx-status").inner_text()
        inputs = root.locator("[data-control]")
        # Move the first two controls that offer a choice, as a reader would.
        moved = 0
        for i in range(inputs.count()):
            control = inputs.nth(i)
            tag = control.evaluate("e => e.tagName")
            count = (control.locator("option").count() if tag == "SELECT"
                     else int(control.get_attribute("max")) + 1)
            if count < 2 or moved == 2:
                continue
            current = int(control.evaluate("e => e.value"))
            target = count - 1 if current < count - 1 else 0
            if tag == "SELECT":
                control.select_option(value=str(target))
            else:
                control.fill(str(target))  # a range input: sets the value, fires input/change
            moved += 1
        assert moved == 2, f"{cls} on {stem} has fewer than two controls to move"
        state = root.get_attribute("data-state")
        src = root.locator("img.cnnx-image").get_attribute("src")
        text = root.locator(".cnnx-status").inner_text()
        assert state != start_state, f"{cls}: the page did not change state"
        assert src != start_src and text != start_text, f"{cls}: picture or numbers unchanged"
        # Python: the same explorer, the same settings.
        explorer = _make(stem, cls)
        controls = explorer.page_controls()
        for _ in range(2):
            for control, index in zip(controls, state.split(","), strict=True):
                getattr(explorer, control.name).value = control.values[int(index)]
        assert " ".join(text.split()) == _text(explorer.status.value), f"{cls} status differs"
        shown = _pixels(base64.b64decode(src.split(",", 1)[1]))
        expected = _pixels(compress_png(explorer.image.value))
        assert shown.shape == expected.shape, f"{cls}: picture size differs"
        # Identical code draws identical pictures up to anti-aliasing: a model's sums may
        # differ in the last bit between thread counts and processors (the page forms were
        # made on an AMD EPYC; on an Intel Xeon every edge of 8.5's figure shifted by a
        # fraction of a pixel, by at most 38 of 255). A different picture (another batch, a
        # moved point or bar) changes pixels by far more, so count only those.
        change = np.abs(shown.astype(int) - expected.astype(int)).max(axis=-1)
        differing = (change > 64).mean()
        assert differing < 0.002, f"{cls}: {differing:.2%} of the pixels differ"
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
    """A small page form (stride x padding, 6 settings) of a stand-in ipywidgets explorer
    (7.3's step-through, once the example here, computes in the browser now)."""
    import ipywidgets as widgets

    from cnnlib.viz.cell_grid import message_figure
    from cnnlib.widgets import page as forms
    from cnnlib.widgets.guarded import GuardedExplorer

    class Stand(GuardedExplorer):
        def __init__(self) -> None:
            self.stride = widgets.IntSlider(2, min=1, max=3, description="stride")
            self.padding = widgets.IntSlider(1, min=0, max=1, description="padding")
            super().__init__([self.stride, self.padding])

        def update(self) -> None:
            pass

        def draw(self):
            return message_figure(self.describe())

        def describe(self) -> str:
            return f"stride {self.stride.value}, padding {self.padding.value}"

    explorer = Stand()
    return forms.page_html(explorer, [forms.slider(explorer, "stride", (1, 2, 3)),
                                      forms.slider(explorer, "padding", (0, 1))])


def _form_payload(form: str) -> dict:
    import json

    return json.loads(re.search(r'class="cnnx-states">(.*?)</script>', form, re.S).group(1))


def test_a_form_without_its_script_shows_no_controls(form, browser, artifacts):
    from cnnlib.widgets.page import NOTICE

    context = browser.new_context(java_script_enabled=False,
                                  viewport={"width": 1280, "height": 1000})
    try:
        page = context.new_page()
        page.set_content(f"<!doctype html><html><body>{form}</body></html>")
        root = page.locator(".cnn-explorer")
        assert root.locator("input, select, button, output").count() == 0
        assert root.locator(".cnnx-notice").inner_text() == NOTICE
        assert root.locator(".cnnx-notice").is_visible()
        assert root.locator("img.cnnx-image").is_visible()
        assert root.locator(".cnnx-note").inner_text() == ""
        root.screenshot(path=str(artifacts / "page_form_without_script.png"))
    finally:
        context.close()


def test_a_form_with_its_script_works_and_drops_the_notice(form, page):
    data = _form_payload(form)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content(f"<!doctype html><html><body>{form}</body></html>")
    root = page.locator(".cnn-explorer")
    assert "cnnx-live" in root.get_attribute("class").split()
    assert root.locator(".cnnx-notice").count() == 0
    assert root.locator(".cnnx-note").inner_text() == data["note"]
    sliders = root.locator("input[type=range][data-control]")
    assert sliders.count() == len(data["labels"])
    assert all(sliders.nth(i).is_visible() for i in range(sliders.count()))
    before = root.locator("img.cnnx-image").get_attribute("src")
    start = [int(i) for i in data["start"].split(",")]
    target = 0 if start[0] else len(data["labels"][0]) - 1
    sliders.first.fill(str(target))
    state = root.get_attribute("data-state")
    assert int(state.split(",")[0]) == target
    image_index = data["states"][state][0]
    src = root.locator("img.cnnx-image").get_attribute("src")
    assert src == f"data:image/png;base64,{data['images'][image_index]}" and src != before
    assert not errors, errors
