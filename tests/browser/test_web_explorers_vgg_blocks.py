"""8.2's VGG block explorer on a page opened from file://, running VGG-11 in Chromium.

As tests/browser/test_web_explorers_compare_stages.py (whose page helpers this uses): the
explorer is mounted from file:// scripts with the state Python gives, ``CNNNetworks.base``
points at the runtime and networks ``make web-deps`` built, settings are made with the
keyboard, and every number the page shows (the status line, the field drawn on the input,
the maps and the colour scale) is compared with PyTorch and cnnlib through the Python
explorer built from the same shipped weights.
"""

from __future__ import annotations

import numpy as np
import pytest
from live_page import check_readable_on_a_phone, lab_page, phone_page, set_menu, set_slider
from test_web_explorers_compare_stages import (
    TOLERANCE,
    WAIT_FIRST,
    check_picture,
    decode_png,
    mosaic,
    network_page,
    settle,
    vendor_base,
)

from cnnlib.viz.vgg_blocks import SHOWN_CHANNELS
from cnnlib.widgets.vgg_blocks import SLIDERS, UNITS, VGGBlockExplorer

pytestmark = pytest.mark.browser

ROOT = ".cnnx-vgg"


@pytest.fixture(scope="module")
def python():
    """Python's explorer on the shipped VGG-11: PyTorch's and cnnlib's numbers."""
    return VGGBlockExplorer()


def shown(page) -> dict:
    return page.evaluate("""() => {
      const root = document.querySelector('.cnnx-vgg');
      const rect = (sel) => { const r = root.querySelector(sel); return r ? ['x', 'y', 'width',
        'height'].map((a) => Number(r.getAttribute(a))) : null; };
      return {
        status: [...root.querySelectorAll('[role=status] .cnnx-line')].map((l) => l.textContent),
        waiting: root.querySelector('[role=status]').innerText.trim(),
        captions: [...root.querySelectorAll('.cnnx-panels figcaption')].map((c) => c.textContent),
        values: Object.fromEntries([...root.querySelectorAll('input, select')].map(
          (i) => [i.name, i.type === 'range' ? Number(i.value) : i.value])),
        disabled: Object.fromEntries([...root.querySelectorAll('input')].map(
          (i) => [i.name, i.disabled])),
        maxima: Object.fromEntries([...root.querySelectorAll('input')].map(
          (i) => [i.name, Number(i.max)])),
        box: rect('rect.cnnx-box'), region: rect('rect.cnnx-region'),
        units: [...root.querySelectorAll('rect.cnnx-unit')].map((r) => [Number(r.getAttribute('y')),
          Number(r.getAttribute('x'))]),
        scale: [Number(root.querySelector('.cnnx-low').dataset.value),
                Number(root.querySelector('.cnnx-high').dataset.value)],
        input: root.querySelector('svg.cnnx-input image').getAttribute('href'),
        python: !root.querySelector('.cnnx-python').hidden,
        maps: window.mounted.model.get('maps_shown'),
      };
    }""")


def set_all(page, settings: dict) -> None:
    """Make settings through the page's controls with the keyboard, as a reader would."""
    set_menu(page, ROOT, "example", str(settings["example"]))
    set_slider(page, ROOT, "block", settings["block"])
    settle(page)
    set_menu(page, ROOT, "unit", settings["unit"])
    settle(page)
    if settings["unit"] == SLIDERS:
        for name in ("row", "col"):
            if page.locator(f'{ROOT} input[name="{name}"]').is_enabled():
                set_slider(page, ROOT, name, settings[name])
                settle(page)


def check_against_pytorch(page, python, settings: dict) -> None:
    for name in ("unit", "example", "block", "row", "col"):
        setattr(python, name, settings[name])
    got = shown(page)
    assert got["status"] == python.status_text.split("\n")
    assert not got["python"]
    assert (got["values"]["row"], got["values"]["col"]) == (python.row, python.col)
    h, w = python.field.output_size
    assert (got["maxima"]["row"], got["maxima"]["col"]) == (h - 1, w - 1)
    named = settings["unit"] in UNITS
    assert got["disabled"]["row"] == (named or h == 1)
    # The field drawn on the input: cnnlib's box (dashed) and region (solid).
    (b0, b1), (d0, d1) = python.field.box
    (r0, r1), (c0, c1) = python.field.region
    assert got["box"] == [d0, b0, d1 - d0, b1 - b0]
    assert got["region"] == [c0, r0, c1 - c0, r1 - r0]
    side = python.side
    grey = decode_png(got["input"])
    assert np.array_equal(grey[..., 0], (python.X[settings["example"], 0] * 255).round().numpy())
    assert got["captions"][0] == (
        f"input {side}×{side}: field {python.field.size[0]}×{python.field.size[1]}, "
        f"{100 * python.field.padding_fraction:.0f}% padding (grey)")
    # The maps: PyTorch's block output, to 1e-4, drawn in matplotlib's colours.
    c = python.maps.shape[0]
    n = min(c, SHOWN_CHANNELS)
    want = python.maps[:n].flatten().numpy()
    np.testing.assert_allclose(got["maps"]["values"], want, atol=TOLERANCE, rtol=0)
    assert got["maps"]["shape"] == list(python.maps.shape)
    low, high = check_picture(page.locator(f"{ROOT} svg.cnnx-maps"),
                              mosaic(want, (n, h, w), 4, 1), False)
    assert abs(got["scale"][0] - low) <= TOLERANCE and abs(got["scale"][1] - high) <= TOLERANCE
    i, j = python.row, python.col
    assert got["units"] == [[(m // 4) * (h + 1) + i, (m % 4) * (w + 1) + j] for m in range(n)]


SETTINGS = [
    dict(example=0, block=1, unit="centre", row=0, col=0),
    dict(example=2, block=2, unit=SLIDERS, row=7, col=3),
    dict(example=2, block=3, unit=SLIDERS, row=0, col=3),
    dict(example=5, block=4, unit="top edge, middle", row=0, col=0),
    dict(example=8, block=5, unit="top-left corner", row=0, col=0),
    dict(example=9, block=1, unit=SLIDERS, row=15, col=0),
]


def test_every_number_the_page_shows_is_pytorchs(watched, tmp_path, python):
    base = vendor_base(("vgg11",))
    watched.set_default_timeout(120_000)
    watched.goto(network_page(tmp_path, VGGBlockExplorer(), base))
    watched.wait_for_function(WAIT_FIRST % "summary")
    assert watched.evaluate("window.mounted.model.get('error')") == ""
    for settings in SETTINGS:
        set_all(watched, settings)
        check_against_pytorch(watched, python, settings)
    assert watched.problems == []


def test_keyboard_only_with_labels_and_a_polite_status(watched, tmp_path, python):
    base = vendor_base(("vgg11",))
    watched.set_default_timeout(120_000)
    watched.goto(network_page(tmp_path, VGGBlockExplorer(unit=SLIDERS), base))
    watched.wait_for_function(WAIT_FIRST % "summary")
    settle(watched)
    order = []
    for _ in range(5):
        watched.keyboard.press("Tab")
        order.append(watched.evaluate(
            "() => [document.activeElement.name, document.activeElement.labels[0].textContent]"))
    assert order == [["example", "image"], ["block", "block"], ["unit", "unit"],
                     ["row", "unit row"], ["col", "unit col"]]
    status = watched.locator(f"{ROOT} [role=status]")
    assert status.get_attribute("aria-live") == "polite"
    before = status.inner_text()
    watched.keyboard.press("ArrowRight")  # the unit's column: 0 → 2
    watched.keyboard.press("ArrowRight")
    settle(watched)
    assert status.inner_text() != before
    check_against_pytorch(watched, python, dict(example=0, block=1, unit=SLIDERS, row=0, col=2))
    for svg in watched.locator(f"{ROOT} svg").all():
        label = svg.get_attribute("aria-label")
        assert svg.get_attribute("role") == "img" and len(label) > 10
        assert svg.locator("title").text_content() == label
    assert watched.problems == []


def test_pythons_picture_while_off_screen_and_loading_nothing_until_seen(watched, tmp_path):
    base = vendor_base(("vgg11",))
    watched.set_default_timeout(120_000)
    widget = VGGBlockExplorer()
    watched.goto(network_page(tmp_path, widget, base, spacer=True))
    got = watched.evaluate("""() => [document.querySelector('.cnnx-vgg [role=status]')
      .innerText.trim(), !document.querySelector('.cnnx-vgg .cnnx-python').hidden,
      document.querySelector('.cnnx-vgg .cnnx-python img').getAttribute('src')]""")
    assert got == ["VGG-11 loads when the explorer is on screen. The picture is Python's.", True,
                   f"data:image/png;base64,{widget.page_state()['picture']}"]
    scripts = watched.evaluate("() => [...document.scripts].map((s) => s.src.split('/').pop())")
    assert not any(s.endswith(".onnx.js") or s.startswith("ort") for s in scripts), scripts
    assert watched.locator(ROOT).get_attribute("aria-busy") == "true"  # no answer yet
    watched.locator(ROOT).scroll_into_view_if_needed()
    watched.wait_for_function(WAIT_FIRST % "summary")
    settle(watched)
    assert watched.locator(ROOT).get_attribute("aria-busy") == "false"
    scripts = watched.evaluate("() => [...document.scripts].map((s) => s.src.split('/').pop())")
    assert [s for s in scripts if s.endswith(".onnx.js")] == ["vgg11.onnx.js"]
    assert watched.problems == []


def test_a_browser_that_cannot_run_the_network_keeps_pythons_picture(watched, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    watched.goto(network_page(tmp_path, VGGBlockExplorer(), empty.as_uri() + "/"))
    watched.wait_for_function("() => window.mounted.model.get('error')")
    settle(watched)
    got = watched.evaluate("""() => [document.querySelector('.cnnx-vgg [role=status]')
      .innerText.trim(), !document.querySelector('.cnnx-vgg .cnnx-python').hidden,
      document.querySelector('.cnnx-vgg .cnnx-panels').hidden]""")
    assert got[0].startswith("this browser cannot run the network: could not load ")
    assert got[0].endswith(". The picture is Python's.") and got[1:] == [True, True]
    assert all(p.startswith("console: Failed to load resource") for p in watched.problems)


def test_readable_on_a_phone(browser, tmp_path, artifacts):
    base = vendor_base(("vgg11",))
    page = phone_page(browser)
    page.set_default_timeout(120_000)
    page.goto(network_page(tmp_path, VGGBlockExplorer(block=2, unit=SLIDERS), base))
    page.wait_for_function(WAIT_FIRST % "summary")
    settle(page)
    check_readable_on_a_phone(page, ROOT)
    page.screenshot(path=str(artifacts / "web-explorer-vgg-blocks-phone.png"), full_page=True)
    page.context.close()


def test_in_lab_it_draws_pythons_numbers_without_computing(watched, tmp_path, python):
    """JupyterLab's path: anywidget's module (the class's _esm) renders a synced model whose
    values all come from Python; compute() is never called and no network is loaded."""
    for name, value in dict(unit=SLIDERS, example=3, block=3, row=1, col=2).items():
        setattr(python, name, value)
    watched.goto(lab_page(tmp_path, python))
    watched.locator(f"{ROOT} [role=status] .cnnx-line").first.wait_for()
    lines = watched.evaluate("""() => [...document.querySelectorAll(
      '.cnnx-vgg [role=status] .cnnx-line')].map((l) => l.textContent)""")
    assert lines == python.status_text.split("\n")
    (r0, r1), (c0, c1) = python.field.region
    region = watched.evaluate("""() => ['x', 'y', 'width', 'height'].map((a) => Number(
      document.querySelector('.cnnx-vgg rect.cnnx-region').getAttribute(a)))""")
    assert region == [c0, r0, c1 - c0, r1 - r0]
    scripts = watched.evaluate("() => [...document.scripts].map((s) => s.src)")
    assert not any("onnx" in s or "ort" in s.split("/")[-1] for s in scripts)
    watched.locator(f'{ROOT} input[name="row"]').focus()
    watched.keyboard.press("ArrowRight")
    assert watched.evaluate("() => window.sets") == [["row", 2]]
    assert watched.problems == []
