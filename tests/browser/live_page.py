"""Shared steps for driving a live explorer's front-end on a page opened from file://.

Every explorer's browser tests open the explorer the same way, move its controls the way a
reader without a mouse does, measure its text on a phone and render it the way JupyterLab
does; those steps are written once here. What each explorer shows is checked in its own test.
"""

from __future__ import annotations

import json
from pathlib import Path

PHONE = {"width": 390, "height": 844}

# The on-screen font size of every element with text of its own under ``root``. Text inside
# an SVG is in viewBox units, so its size on screen is scaled with the picture.
_TEXT_SIZES = """(root) => [...document.querySelectorAll(root + ' *')]
  .filter((e) => [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())
                 && e.getClientRects().length && e.tagName !== 'STYLE'
                 && e.tagName !== 'title' && e.tagName !== 'OPTION')
  .map((e) => {
    const svg = e.closest('svg');
    const scale = svg ? svg.getBoundingClientRect().width / svg.viewBox.baseVal.width : 1;
    return [e.tagName, parseFloat(getComputedStyle(e).fontSize) * scale];
  })"""


def explorer_page(tmp_path: Path, widget, title: str) -> str:
    """A page in tmp_path that mounts widget's front-end from file:// scripts; its URL."""
    page = tmp_path / f"{type(widget).__name__}.html"
    page.write_text(widget.standalone_html(title), encoding="utf-8")
    return page.as_uri()


def set_slider(page, root: str, name: str, value: int) -> None:
    """Move the range input ``name`` under ``root`` to value with the keyboard only.

    A value past the slider's end stops at the end, as it does for a reader.
    """
    control = page.locator(f'{root} input[name="{name}"]')
    control.focus()
    page.keyboard.press("Home")
    for _ in range(value - int(control.get_attribute("min"))):
        page.keyboard.press("ArrowRight")


def set_menu(page, root: str, name: str, value: str) -> None:
    """Choose value in the menu ``name`` under ``root`` with the keyboard only."""
    menu = page.locator(f'{root} select[name="{name}"]')
    options = menu.evaluate("(s) => [...s.options].map((o) => o.value)")
    menu.focus()
    page.keyboard.press("Home")
    for _ in range(options.index(value)):
        page.keyboard.press("ArrowDown")
    assert menu.input_value() == value


def text_sizes(page, root: str) -> list[tuple[str, float]]:
    """(tag, on-screen font size in CSS px) of every text under ``root``."""
    return [tuple(item) for item in page.evaluate(_TEXT_SIZES, root)]


def phone_page(browser):
    """A new page in a 390 px wide touch-screen context (close its ``.context`` after)."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    return context.new_page()


def check_readable_on_a_phone(page, root: str) -> None:
    """No text under 11 px on screen and nothing wider than the phone."""
    sizes = text_sizes(page, root)
    assert sizes and all(size >= 11 for _, size in sizes), sizes
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]


def lab_page(tmp_path: Path, widget) -> str:
    """A page that renders widget the way JupyterLab does; its URL.

    anywidget's module (the class's ``_esm``) renders a fake model holding every value the
    kernel syncs, serialised as ipywidgets does; ``compute()`` is never called, so what the
    page shows is Python's. ``window.sets`` records each ``model.set(name, value)``.
    """
    synced = {name: value for name, value in widget.get_state().items()
              if not name.startswith("_")}
    # The module inline (a file:// page cannot fetch one), "</" escaped as live_html does.
    module = widget._esm.replace("export default CNNExplorers.widget(", "const widget = "
                                 "CNNExplorers.widget(").replace("</", "<\\/")
    state = json.dumps(synced).replace("</", "<\\/")
    page = tmp_path / f"{type(widget).__name__}-lab.html"
    page.write_text(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Lab path</title></head><body><div id="explorer"></div>
<script type="module">
{module}
const state = {state};
const sets = [];
const listeners = {{}};
const model = {{
  get: (name) => state[name],
  set: (name, value) => sets.push([name, value]),
  save_changes: () => {{}},
  on: (event, cb) => (listeners[event] = cb),
  off: () => {{}},
}};
widget.render({{model, el: document.getElementById("explorer")}});
window.sets = sets;
</script></body></html>""", encoding="utf-8")
    return page.as_uri()
