"""8.3's NiN explorers on pages opened from file://, running the shipped NiN in the browser.

A page in tmp_path loads cnnlib/web/cnn-ops.js, cnn-host.js, cnn-networks.js and the
explorer's front-end by file:// script tags and mounts it with the state Python gives
(``page_state()``: the gallery's pixels, the 1x1 kernels, the export's map names). The
network comes from ``_build/web-vendor/`` (``make web-deps``: onnxruntime-web and
``models/nin.onnx.js``), which the page names as ``CNNNetworks.base``. Settings are made
through the page's real controls with the keyboard (and one click); every number the page
shows is compared with PyTorch (the explorer's Python side, which computes with
``cnnlib.explain.nin_maps``) to 1e-4. Any request that is not for a file is refused and
recorded: none may happen.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from live_page import check_readable_on_a_phone, lab_page, phone_page, set_menu, set_slider

from cnnlib.models.pretrained import pretrained
from cnnlib.widgets.nin_maps import NiNClassMapExplorer, NiNPixelExplorer, decode
from cnnlib.widgets.page import live_html

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "_build" / "web-vendor"
TOLERANCE = 1e-4
PIXEL = ".cnnx-nin-pixel"
CLASS = ".cnnx-ninc"


@pytest.fixture(scope="module")
def vendor() -> str:
    """The file:// URL of the runtime and the exported networks (``make web-deps``)."""
    needed = [VENDOR / "onnxruntime" / "ort.iife.js", VENDOR / "models" / "nin.onnx.js"]
    missing = [str(path) for path in needed if not path.is_file()]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run `make web-deps`")
    return VENDOR.as_uri() + "/"


@pytest.fixture(scope="module")
def model():
    return pretrained("nin")


@pytest.fixture(scope="module")
def pixel(model):
    return NiNPixelExplorer(model=model)


@pytest.fixture(scope="module")
def classes(model):
    return NiNClassMapExplorer(model=model)


class Watched:
    """A page whose requests other than file:, data: and blob: are refused and recorded."""

    def __init__(self, page):
        self.page = page
        self.refused: list[str] = []
        self.errors: list[str] = []
        page.set_default_timeout(60_000)
        page.route("**/*", self._route)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(
            f"console: {msg.text}"))

    def _route(self, route):
        if urlparse(route.request.url).scheme in ("file", "data", "blob"):
            route.continue_()
        else:
            self.refused.append(route.request.url)
            route.abort("internetdisconnected")

    def clean(self) -> None:
        assert self.refused == [], "the page asked the network for something"
        assert self.errors == []


def _base_script(vendor: str) -> str:
    return f"<script>window.CNNNetworks = {{base: {json.dumps(vendor)}}};</script>"


def standalone(tmp_path: Path, widget, vendor: str, before: str = "") -> str:
    """The explorer's test page (``standalone_html``), told where the network is; its URL.

    ``before``: HTML put in front of the explorer (a tall block pushes it off the screen).
    """
    text = widget.standalone_html(widget.explorer_name).replace(
        "<body>", "<body>" + _base_script(vendor) + before, 1)
    path = tmp_path / f"{widget.explorer_name}.html"
    path.write_text(text, encoding="utf-8")
    return path.as_uri()


def website_form(tmp_path: Path, widget, vendor: str, before: str = "") -> str:
    """The explorer as the website shows it (``page.live_html``: Python's picture, the
    scripts inline, the mount); its URL."""
    scripts = [path.read_text(encoding="utf-8") for path in widget.page_scripts()]
    png = base64.b64encode(widget.picture_png()).decode("ascii")
    form = live_html(widget.explorer_name, png, widget.picture_alt(), scripts,
                     widget.page_state())
    path = tmp_path / f"{widget.explorer_name}-site.html"
    path.write_text(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>site form</title>
</head><body>{_base_script(vendor)}{before}<main>{form}</main></body></html>""",
                    encoding="utf-8")
    return path.as_uri()


def settle(page, root: str) -> None:
    """Wait until the latest compute has been applied and drawn."""
    page.evaluate("() => window.mounted ? window.mounted.model.settled() : null")
    page.wait_for_function(
        f"""() => {{ const r = document.querySelector('{root}');
          return r && !r.querySelector('.cnnx-loading:not([hidden])'); }}""")
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")


def model_state(page) -> dict:
    """The page model's values, arrays as plain lists."""
    return page.evaluate("""() => {
      const s = window.mounted.model.state();
      const out = {};
      for (const [k, v] of Object.entries(s)) {
        out[k] = v && ArrayBuffer.isView(v.data)
          ? {shape: v.shape, values: Array.from(v.data)} : v;
      }
      delete out.images; delete out.layers;
      return out;
    }""")


def _array(value) -> np.ndarray:
    if "values" in value:
        return np.asarray(value["values"], dtype=np.float64).reshape(value["shape"])
    return decode(value).astype(np.float64)


def close(got, want, what: str) -> None:
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64),
                               np.asarray(want, dtype=np.float64), atol=TOLERANCE, rtol=0,
                               err_msg=what)


# ----------------------------------------------------------------------------- the pixel


def pixel_shown(page) -> dict:
    return page.evaluate(f"""() => {{
      const root = document.querySelector('{PIXEL}');
      const bars = (sel) => [...root.querySelectorAll(sel + ' rect[data-value]')];
      return {{
        status: root.querySelector('[role=status]').innerText.trim(),
        header: root.querySelector('.cnnx-header').textContent,
        x: bars('.cnnx-x').map((r) => Number(r.dataset.value)),
        out: bars('.cnnx-out').map((r) => Number(r.dataset.value)),
        pre: bars('.cnnx-out').map((r) => Number(r.dataset.pre)),
        b: JSON.parse(root.querySelector('.cnnx-W svg').dataset.b),
        region: [...root.querySelectorAll('.cnnx-region')].map((r) =>
          ['y', 'x', 'height', 'width'].map((a) => Number(r.getAttribute(a)))),
        values: Object.fromEntries([...root.querySelectorAll('input, select')].map(
          (i) => [i.name, i.value])),
        rowMax: Number(root.querySelector('input[name=row]').max),
      }};
    }}""")


def check_pixel(page, python: NiNPixelExplorer) -> None:
    """Everything the page shows equals Python's explorer set the same way."""
    got = pixel_shown(page)
    state = model_state(page)
    assert state["error"] == "" and python.error == ""
    assert got["status"] == python.summary
    assert got["header"] == python.header
    assert got["values"] == {"example": str(python.example), "layer": python.layer,
                             "row": str(python.row), "col": str(python.col)}
    r = python.result
    close(got["x"], r.x, "x")
    close(got["pre"], r.pre, "W x + b")
    close(got["out"], r.out, "ReLU(W x + b)")
    close(got["b"], r.b, "b")
    (r0, r1), (c0, c1) = r.region
    assert got["region"] == [[r0, c0, r1 - r0, c1 - c0]]
    assert got["rowMax"] == r.maps_in.shape[1] - 1
    close(_array(state["maps_in"]), r.maps_in, "maps in")
    close(_array(state["maps_out"]), r.maps_out, "maps out")
    close(_array(state["W"]), r.W, "W")
    close(_array(state["image"]), python.images[python.example, 0], "image")


@pytest.fixture
def watched(browser):
    context = browser.new_context()
    page = Watched(context.new_page())
    yield page
    context.close()


def test_pixel_explorer_equals_pytorch_for_images_layers_and_pixels(watched, tmp_path, vendor,
                                                                    model, pixel):
    page = watched.page
    page.goto(standalone(tmp_path, pixel, vendor))
    settle(page, PIXEL)
    check_pixel(page, pixel)
    python = NiNPixelExplorer(model=model)
    # Several images, every block's 1×1 convolutions, pixels at the edges and inside.
    for example, layer, row, col in ((3, "0.4", 0, 25), (9, "2.2", 11, 0), (5, "4.4", 2, 3),
                                     (1, "7.2", 1, 0), (7, "7.4", 0, 1)):
        set_menu(page, PIXEL, "example", str(example))
        set_menu(page, PIXEL, "layer", layer)
        settle(page, PIXEL)
        set_slider(page, PIXEL, "row", row)
        set_slider(page, PIXEL, "col", col)
        settle(page, PIXEL)
        python.example, python.layer = example, layer
        python.row, python.col = row, col
        check_pixel(page, python)
    watched.clean()


def test_a_smaller_map_pulls_the_pixel_in_and_a_click_picks_one(watched, tmp_path, vendor,
                                                                model, pixel):
    page = watched.page
    page.goto(standalone(tmp_path, pixel, vendor))
    settle(page, PIXEL)
    set_slider(page, PIXEL, "row", 25)
    settle(page, PIXEL)
    set_menu(page, PIXEL, "layer", "4.2")  # a 5×5 map: row 25 moves to 4
    settle(page, PIXEL)
    python = NiNPixelExplorer(model=model, row=25)
    python.layer = "4.2"
    assert python.row == 4
    check_pixel(page, python)
    # A click on the second map's cell (row 3, column 1) picks that pixel.
    svg = page.locator(f"{PIXEL} .cnnx-maps-in svg")
    box = svg.bounding_box()
    view = svg.evaluate("(s) => [s.viewBox.baseVal.width, s.viewBox.baseVal.height]")
    u, v = 6 + 1.5, 3.5  # the second map starts at column 6 (5 wide + 1 gap)
    page.mouse.click(box["x"] + u / view[0] * box["width"], box["y"] + v / view[1] * box["height"])
    settle(page, PIXEL)
    python.row, python.col = 3, 1
    check_pixel(page, python)
    watched.clean()


# ----------------------------------------------------------------------------- class maps


def classes_shown(page) -> dict:
    return page.evaluate(f"""() => {{
      const root = document.querySelector('{CLASS}');
      return {{
        status: root.querySelector('[role=status]').innerText.trim(),
        message: root.querySelector('.cnnx-message').hidden ? '' :
          root.querySelector('.cnnx-message').textContent,
        means: [...root.querySelectorAll('.cnnx-mean')].map((m) => Number(m.dataset.value)),
        meanText: [...root.querySelectorAll('.cnnx-mean')].map((m) => m.textContent),
        maps: [...root.querySelectorAll('.cnnx-map')].map((f) =>
          [...f.querySelectorAll('rect[data-value]')].map((r) => Number(r.dataset.value))),
        probs: [...root.querySelectorAll('.cnnx-probs output')].map((o) => Number(o.dataset.value)),
        probText: [...root.querySelectorAll('.cnnx-probs output')].map((o) => o.textContent),
        caption: root.querySelector('.cnnx-image figcaption').textContent,
        values: Object.fromEntries([...root.querySelectorAll('select')].map(
          (i) => [i.name, i.value])),
      }};
    }}""")


def check_classes(page, python: NiNClassMapExplorer) -> None:
    got = classes_shown(page)
    r = python.result
    assert got["message"] == ""
    assert got["status"] == python.summary
    assert got["values"] == {"example": str(python.example), "size": str(python.size)}
    close(got["means"], r.averages, "means")
    close(got["means"], r.logits, "means = logits")
    close(got["probs"], r.probs, "probabilities")
    close(np.asarray(got["maps"]).reshape(r.maps.shape), r.maps, "class maps")
    assert got["meanText"] == [f"mean {v:.2f}" for v in r.averages.tolist()]
    assert got["probText"] == [f"{v:.2f}" for v in r.probs.tolist()]
    state = model_state(page)
    close(state["logits"], r.logits, "logits")
    assert state["predicted"] == r.predicted and state["label"] == r.label


def test_class_maps_equal_pytorch_for_several_images(watched, tmp_path, vendor, model, classes):
    page = watched.page
    page.goto(standalone(tmp_path, classes, vendor))
    settle(page, CLASS)
    check_classes(page, classes)
    python = NiNClassMapExplorer(model=model)
    for example in (2, 6, 8):
        set_menu(page, CLASS, "example", str(example))
        settle(page, CLASS)
        python.example = example
        check_classes(page, python)
    watched.clean()


def test_class_maps_at_the_untrained_size(watched, tmp_path, vendor, model, classes):
    """The shipped NiN's export takes any side (scripts/export_onnx.py, ANY_SIDE), so the
    page computes the class maps at 224 px too, as the notebook does; 112 px works after."""
    page = watched.page
    page.goto(standalone(tmp_path, classes, vendor))
    settle(page, CLASS)
    assert page.evaluate("CNNNetworks.load('nin').then((n) => n.meta.anySide)") is True
    option = page.locator(f'{CLASS} select[name="size"] option[value="224"]')
    assert not option.is_disabled()
    set_menu(page, CLASS, "size", "224")
    settle(page, CLASS)
    check_classes(page, NiNClassMapExplorer(model=model, size=224))
    set_menu(page, CLASS, "size", "112")
    settle(page, CLASS)
    check_classes(page, NiNClassMapExplorer(model=model))
    watched.clean()


def test_busy_while_the_network_computes(watched, tmp_path, vendor, pixel):
    page = watched.page
    page.goto(standalone(tmp_path, pixel, vendor))
    settle(page, PIXEL)
    assert page.locator(f"{PIXEL}[aria-busy=true]").count() == 0
    busy = page.evaluate(f"""() => {{
      const select = document.querySelector('{PIXEL} select[name="example"]');
      select.value = "4";
      select.dispatchEvent(new Event("change"));
      return document.querySelector('{PIXEL}').getAttribute("aria-busy");
    }}""")
    assert busy == "true"
    page.wait_for_selector(f"{PIXEL}[aria-busy=false]")
    watched.clean()


# ----------------------------------------------------------------------------- the page


@pytest.mark.parametrize("kind", ["pixel", "classes"])
def test_labels_keyboard_and_a_polite_status(watched, tmp_path, vendor, kind, pixel, classes):
    widget, root = (pixel, PIXEL) if kind == "pixel" else (classes, CLASS)
    page = watched.page
    page.goto(standalone(tmp_path, widget, vendor))
    settle(page, root)
    controls = page.evaluate(f"""() => [...document.querySelectorAll('{root} input, {root} select')]
      .map((c) => [c.name, document.querySelector(`label[for="${{c.id}}"]`)?.textContent || ''])""")
    assert controls and all(label for _, label in controls), controls
    status = page.locator(f"{root} [role=status]")
    assert status.get_attribute("aria-live") == "polite"
    # Tab reaches every control in order.
    page.locator(f"{root} select").first.focus()
    reached = []
    for _ in controls:
        reached.append(page.evaluate("document.activeElement.name"))
        page.keyboard.press("Tab")
    assert reached == [name for name, _ in controls]
    for svg in page.locator(f"{root} svg[role=img]").all():
        assert len(svg.get_attribute("aria-label")) > 20
    watched.clean()


@pytest.mark.parametrize("kind", ["pixel", "classes"])
def test_readable_on_a_phone(browser, tmp_path, vendor, kind, pixel, classes):
    widget, root = (pixel, PIXEL) if kind == "pixel" else (classes, CLASS)
    page = phone_page(browser)
    try:
        watched = Watched(page)
        page.goto(standalone(tmp_path, widget, vendor))
        settle(page, root)
        check_readable_on_a_phone(page, root)
        watched.clean()
    finally:
        page.context.close()


def test_the_network_loads_only_when_the_explorer_comes_near(watched, tmp_path, vendor, pixel):
    page = watched.page
    spacer = '<div style="height:6000px">text above the explorer</div>'
    page.goto(website_form(tmp_path, pixel, vendor, before=spacer))
    page.wait_for_timeout(300)
    scripts = page.evaluate("Array.from(document.scripts, (s) => s.src.split('/').pop())")
    assert not any(name.endswith((".onnx.js", "ort.iife.js")) for name in scripts), scripts
    # Meanwhile: Python's picture, and a box that says so.
    box = page.locator(f"{PIXEL} .cnnx-loading")
    assert box.is_visible()
    assert box.inner_text().startswith("The trained NiN loads to run in your browser when this "
                                       "explorer is on screen; until it answers, the picture "
                                       "is Python's drawing of the first setting.")
    assert box.locator("img").get_attribute("alt") == pixel.picture_alt()
    assert page.locator(f"{PIXEL}[aria-busy=true]").count() == 0  # waiting, not working
    page.locator(PIXEL).scroll_into_view_if_needed()
    page.wait_for_function(f"!document.querySelector('{PIXEL} .cnnx-loading:not([hidden])')")
    scripts = page.evaluate("Array.from(document.scripts, (s) => s.src.split('/').pop())")
    assert "nin.onnx.js" in scripts and "ort.iife.js" in scripts
    assert page.locator(f"{PIXEL} .cnnx-loading img").count() == 0  # the live picture took over
    assert page.locator(f"{PIXEL} [role=status]").inner_text().strip() == pixel.summary
    watched.clean()


def test_a_browser_that_cannot_run_the_network_says_so_and_keeps_the_picture(
        watched, tmp_path, classes):
    page = watched.page
    page.goto(website_form(tmp_path, classes, (tmp_path / "nowhere").as_uri() + "/"))
    page.wait_for_function(f"document.querySelector('{CLASS} .cnnx-error')")
    box = page.locator(f"{CLASS} .cnnx-loading")
    assert box.is_visible()
    text = box.inner_text()
    assert text.startswith("this browser cannot run the network: could not load")
    assert "The picture is Python's drawing of the first setting" in text
    assert box.locator("img").is_visible()
    assert page.locator(f"{CLASS} [role=status]").inner_text().startswith(
        "this browser cannot run the network")
    watched.refused.clear()
    watched.errors = [e for e in watched.errors if "ERR_FILE_NOT_FOUND" not in e]
    watched.clean()


# ----------------------------------------------------------------------------- JupyterLab


@pytest.mark.parametrize("kind", ["pixel", "classes"])
def test_the_lab_path_draws_what_python_synced(page, tmp_path, model, kind):
    """In JupyterLab the front-end computes nothing: it draws Python's values."""
    if kind == "pixel":
        widget = NiNPixelExplorer(model=model, layer="2.4", row=3, col=7)
        widget.example = 4
    else:
        widget = NiNClassMapExplorer(model=model, example=5)
    page.goto(lab_page(tmp_path, widget))
    root = PIXEL if kind == "pixel" else CLASS
    page.wait_for_selector(f"{root} [role=status] .cnnx-summary")
    assert page.locator(f"{root} [role=status]").inner_text().strip() == widget.summary
    if kind == "pixel":
        got = pixel_shown(page)
        r = widget.result
        close(got["x"], r.x, "x")
        close(got["out"], r.out, "out")
        assert got["values"] == {"example": "4", "layer": "2.4", "row": "3", "col": "7"}
    else:
        got = classes_shown(page)
        close(got["probs"], widget.result.probs, "probabilities")
        close(got["means"], widget.result.averages, "means")
    # A reader's change goes to Python as model.set (the kernel computes).
    set_menu(page, root, "example", "1")
    assert page.evaluate("window.sets")[-1] == ["example", 1]


def test_both_explorers_on_one_page_share_one_network(watched, tmp_path, vendor, pixel, classes):
    """8.3's page shows both: each form inlines its scripts, the network loads once, and the
    two ask it at the same moment."""
    forms = []
    for widget in (pixel, classes):
        scripts = [path.read_text(encoding="utf-8") for path in widget.page_scripts()]
        png = base64.b64encode(widget.picture_png()).decode("ascii")
        forms.append(live_html(widget.explorer_name, png, widget.picture_alt(), scripts,
                               widget.page_state()))
    path = tmp_path / "both.html"
    path.write_text(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>both</title></head><body>{_base_script(vendor)}<main>{"".join(forms)}</main>
</body></html>""", encoding="utf-8")
    page = watched.page
    page.goto(path.as_uri())
    for root, widget in ((PIXEL, pixel), (CLASS, classes)):
        page.wait_for_selector(f"{root}[aria-busy=false] [role=status] .cnnx-summary")
        assert page.locator(f"{root} [role=status]").inner_text().strip() == widget.summary
    scripts = page.evaluate("Array.from(document.scripts, (s) => s.src.split('/').pop())")
    assert scripts.count("nin.onnx.js") == 1
    # Both change at once: each still gets its own answer.
    page.evaluate(f"""() => {{
      for (const root of ['{PIXEL}', '{CLASS}']) {{
        const select = document.querySelector(root + ' select[name="example"]');
        select.value = "6";
        select.dispatchEvent(new Event("change"));
      }}
    }}""")
    for root, widget in ((PIXEL, pixel), (CLASS, classes)):
        page.wait_for_selector(f"{root}[aria-busy=false]")
        python = type(widget)(model=widget.model, example=6)
        assert page.locator(f"{root} [role=status]").inner_text().strip() == python.summary
    watched.clean()
