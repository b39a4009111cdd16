"""The Grad-CAM explorer's front-end on a page opened from file://, computing in the browser.

A page in tmp_path loads cnnlib/web/cnn-ops.js, cnn-host.js, cnn-networks.js and
explorers/grad-cam.js by file:// script tags and mounts the explorer with the state Python
gives (``GradCamExplorer.page_state()``: pixels, linear head, autograd weights of the
earlier stages). The browser runs the shipped ResNet-18 (``CNNNetworks.load``, from
``_build/web-vendor/``, which ``make web-deps`` builds). Settings are made through the
page's menus with the keyboard, and every number the page shows is compared with
PyTorch's ``cnnlib.explain.grad_cam`` (autograd) to 1e-4.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from live_page import check_readable_on_a_phone, lab_page, phone_page, set_menu

from cnnlib.data import LABELS
from cnnlib.explain import grad_cam
from cnnlib.models.pretrained import pretrained
from cnnlib.widgets.grad_cam import GradCamExplorer

pytestmark = pytest.mark.browser

ROOT = ".cnnx-gcam"
VENDOR = Path(__file__).resolve().parents[2] / "_build" / "web-vendor"
TOLERANCE = 1e-4


def network_page(tmp_path, widget, title: str, base: str | None = None) -> str:
    """A page that mounts widget's front-end from file:// scripts, its networks found in
    ``base`` (default ``_build/web-vendor/``); its URL."""
    if not (VENDOR / "models" / "resnet18.onnx.js").is_file():
        pytest.fail(f"{VENDOR} has no models: run `make web-deps` first")
    base = VENDOR.as_uri() + "/" if base is None else base
    html = widget.standalone_html(title).replace(
        "<body>", f"<body><script>window.CNNNetworks = {{base: {base!r}}};</script>", 1)
    page = tmp_path / f"{type(widget).__name__}.html"
    page.write_text(html, encoding="utf-8")
    return page.as_uri()


@pytest.fixture(scope="module")
def widget():
    return GradCamExplorer(model=pretrained("resnet18"))


def settled(page) -> None:
    """Wait until the latest compute's answer (the network runs asynchronously) is drawn."""
    page.evaluate("() => window.mounted.model.settled()")
    page.wait_for_function("() => !document.querySelector('.cnnx-gcam .cnnx-loading')")
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")


def shown(page) -> dict:
    """What the page shows, and the full numbers behind it."""
    return page.evaluate("""() => {
      const root = document.querySelector('.cnnx-gcam');
      const model = window.mounted.model;
      return {
        status: root.querySelector('[role=status]').innerText.trim(),
        panels: !root.querySelector('.cnnx-panels').hidden,
        python: !root.querySelector('.cnnx-python').hidden,
        captions: [...root.querySelectorAll('figcaption')].map((c) => c.textContent),
        coarse: [...root.querySelectorAll('.cnnx-coarse g[data-row]')].map((g) => ({
          row: Number(g.dataset.row), col: Number(g.dataset.col),
          value: Number(g.dataset.value), text: g.textContent})),
        bars: [...root.querySelectorAll('ol.cnnx-probs li')].map((li) => ({
          cls: Number(li.dataset.class), value: Number(li.dataset.value),
          text: li.querySelector('.cnnx-p').textContent,
          explained: li.classList.contains('cnnx-explained')})),
        cam: model.get('cam'), raw: model.get('raw_cam'), cls: model.get('class_idx'),
        probabilities: model.get('probabilities_shown'),
        values: Object.fromEntries([...root.querySelectorAll('select')].map(
          (s) => [s.name, s.value])),
      };
    }""")


def check_against_pytorch(got: dict, widget: GradCamExplorer, example: int, target: int,
                          layer: str) -> None:
    """Every number the page shows equals PyTorch's for this setting, to 1e-4."""
    k = example
    probabilities = widget.probabilities[k]
    if target < 0:
        cls = int(widget.y[k])
    else:
        cls = int(torch.argsort(probabilities, descending=True, stable=True)[target])
    assert got["cls"] == cls
    expected = grad_cam(widget.model, widget.X[k:k + 1], layer, class_idx=cls)
    torch.testing.assert_close(torch.tensor(got["probabilities"]), probabilities,
                               rtol=0, atol=TOLERANCE)
    for name, want in (("raw", expected.raw_cam[0]), ("cam", expected.cam[0])):
        torch.testing.assert_close(torch.tensor(got[name], dtype=torch.float32), want,
                                   rtol=0, atol=TOLERANCE)
    raw = expected.raw_cam[0]
    h, w = raw.shape
    assert [(c["row"], c["col"]) for c in got["coarse"]] == [
        (i, j) for i in range(h) for j in range(w)]
    torch.testing.assert_close(torch.tensor([c["value"] for c in got["coarse"]], dtype=raw.dtype),
                               raw.flatten(), rtol=0, atol=TOLERANCE)
    # The bars: the top 3, then the true class if it is not among them.
    rows = torch.argsort(probabilities, descending=True, stable=True)[:3].tolist()
    if int(widget.y[k]) not in rows:
        rows.append(int(widget.y[k]))
    assert [b["cls"] for b in got["bars"]] == rows
    torch.testing.assert_close(torch.tensor([b["value"] for b in got["bars"]]),
                               probabilities[rows], rtol=0, atol=TOLERANCE)
    assert [b["text"] for b in got["bars"]] == [f"{float(probabilities[c]):.2f}" for c in rows]
    assert [b["cls"] for b in got["bars"] if b["explained"]] == ([cls] if cls in rows else [])
    # The captions and the status line, word for word as Python's.
    assert got["captions"][:3] == [f"true: {LABELS[int(widget.y[k])]}", f"for: {LABELS[cls]}",
                                   f"{layer}: {h}×{w}"]
    python = GradCamExplorer(model=widget.model, X=widget.X, y=widget.y, indices=widget.indices)
    python.example, python.target, python.layer = example, target, layer
    assert got["status"] == python.status_text
    assert got["panels"] and not got["python"]


# Several gallery images and classes at every stage: examples, then the mistakes (10..12).
SETTINGS = [(0, 0, "net.b5"), (3, 1, "net.b5"), (10, -1, "net.b5"), (7, 2, "net.b4"),
            (11, 0, "net.b4"), (5, -1, "net.b3"), (12, 1, "net.b3"), (9, 0, "net.b3")]


def test_every_number_equals_pytorchs_for_settings_made_with_the_keyboard(watched, widget,
                                                                          tmp_path):
    watched.goto(network_page(tmp_path, widget, "Grad-CAM"))
    settled(watched)
    check_against_pytorch(shown(watched), widget, 0, 0, "net.b5")
    for example, target, layer in SETTINGS:
        set_menu(watched, ROOT, "example", str(example))
        set_menu(watched, ROOT, "target", str(target))
        set_menu(watched, ROOT, "layer", layer)
        settled(watched)
        got = shown(watched)
        assert got["values"] == {"example": str(example), "target": str(target),
                                 "layer": layer}
        check_against_pytorch(got, widget, example, target, layer)
    assert watched.problems == []


def test_while_loading_it_shows_pythons_picture_and_says_so(watched, widget, tmp_path):
    # A page whose network files are elsewhere: the load fails, the picture stays.
    watched.goto(network_page(tmp_path, widget, "Grad-CAM", base=tmp_path.as_uri() + "/none/"))
    root = watched.locator(ROOT)
    status = root.locator("[role=status]")
    watched.wait_for_function(
        "() => document.querySelector('.cnnx-gcam [role=status]').innerText.includes("
        "'cannot run')")
    assert "this browser cannot run the network" in status.inner_text()
    assert "The picture is Python's, for the first setting." in status.inner_text()
    image = root.locator(".cnnx-python img")
    assert image.is_visible() and image.get_attribute("alt") == widget.picture_alt()
    assert not root.locator(".cnnx-panels").is_visible()
    # The problems are the failed script loads only.
    assert all("none/" in p or "Failed to load" in p for p in watched.problems), \
        watched.problems


def test_keyboard_labels_and_a_polite_status(watched, widget, tmp_path):
    watched.goto(network_page(tmp_path, widget, "Grad-CAM"))
    status = watched.locator(f"{ROOT} [role=status]")
    assert status.get_attribute("aria-live") == "polite"
    settled(watched)
    order = []
    for _ in range(3):
        watched.keyboard.press("Tab")
        order.append(watched.evaluate(
            "() => [document.activeElement.name, document.activeElement.labels[0].textContent]"))
    assert order == [["example", "image"], ["target", "class"], ["layer", "stage"]]
    before = status.inner_text()
    watched.keyboard.press("ArrowDown")  # the stage menu: net.b4
    settled(watched)
    assert status.inner_text() != before and "at net.b4, a 4×4 grid" in status.inner_text()
    for node in watched.locator(f"{ROOT} [role=img]").all():
        assert len(node.get_attribute("aria-label")) > 10
    svg = watched.locator(f"{ROOT} svg")
    assert svg.locator("title").text_content() == svg.get_attribute("aria-label")
    assert watched.problems == []


def test_readable_on_a_phone(browser, widget, tmp_path, artifacts):
    page = phone_page(browser)
    requests = []
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:"))
            else requests.append(r.url))
    page.goto(network_page(tmp_path, widget, "Grad-CAM"))
    page.evaluate("() => window.mounted.model.settled()")
    set_menu(page, ROOT, "layer", "net.b3")  # the largest coarse map, 8×8 values
    page.evaluate("() => window.mounted.model.settled()")
    page.wait_for_selector(f"{ROOT} .cnnx-coarse g[data-row='7']")
    check_readable_on_a_phone(page, ROOT)
    page.screenshot(path=str(artifacts / "web-explorer-grad-cam-phone.png"), full_page=True)
    assert requests == []
    page.context.close()


def test_in_lab_it_draws_pythons_numbers_without_computing(watched, widget, tmp_path):
    widget.example, widget.target, widget.layer = 11, -1, "net.b4"
    try:
        watched.goto(lab_page(tmp_path, widget))
        watched.locator(f"{ROOT} [role=status]").wait_for()
        got = watched.evaluate("""() => ({
          status: document.querySelector('.cnnx-gcam [role=status]').innerText.trim(),
          coarse: [...document.querySelectorAll('.cnnx-coarse g[data-row]')].map(
            (g) => Number(g.dataset.value)),
          python: !document.querySelector('.cnnx-gcam .cnnx-python').hidden})""")
        assert got["status"] == widget.status_text and not got["python"]
        assert got["coarse"] == [v for row in widget.raw_cam for v in row]
        watched.locator(f'{ROOT} select[name="layer"]').select_option("net.b3")
        assert watched.evaluate("() => window.sets") == [["layer", "net.b3"]]
        assert watched.problems == []
    finally:
        widget.example, widget.target, widget.layer = 0, 0, "net.b5"


def form_page(tmp_path, widget, spacer_px: int = 0) -> str:
    """The website's form of widget (``page.live_html``, scripts inline, as a built page
    holds it) below ``spacer_px`` of text, its networks in ``_build/web-vendor/``; its URL."""
    import os

    from cnnlib.widgets.page import PAGE_FORMS_VARIABLE

    old = os.environ.get(PAGE_FORMS_VARIABLE)
    os.environ[PAGE_FORMS_VARIABLE] = "1"
    try:
        bundle = widget._repr_mimebundle_()
    finally:
        if old is None:
            del os.environ[PAGE_FORMS_VARIABLE]
        else:
            os.environ[PAGE_FORMS_VARIABLE] = old
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    page = tmp_path / f"{type(widget).__name__}-form.html"
    page.write_text(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>form</title></head>
<body><script>window.CNNNetworks = {{base: {VENDOR.as_uri() + "/"!r}}};</script>
<div id="spacer" style="height:{spacer_px}px">text above the explorer</div>
{data["text/html"]}</body></html>""", encoding="utf-8")
    return page.as_uri()


def test_the_website_form_loads_the_network_only_when_the_reader_gets_there(watched, widget,
                                                                           tmp_path):
    loads = []
    watched.on("request", lambda r: loads.append(r.url) if ".onnx.js" in r.url
               or "onnxruntime" in r.url else None)
    watched.goto(form_page(tmp_path, widget, spacer_px=6000))
    root = watched.locator(".cnn-explorer")
    assert "cnnx-live" in root.get_attribute("class").split()  # mounted
    status = root.locator("[role=status]")
    assert status.inner_text().startswith("Loading the trained network")
    assert "The picture is Python's, for the first setting." in status.inner_text()
    assert root.locator(".cnnx-python img").get_attribute("alt") == widget.picture_alt()
    watched.wait_for_timeout(1000)
    assert loads == []  # out of sight: nothing loaded
    root.scroll_into_view_if_needed()
    watched.wait_for_function(
        "() => document.querySelector('.cnn-explorer .cnnx-summary') !== null")
    assert status.inner_text() == widget.status_text
    assert any("resnet18.onnx.js" in url for url in loads)
    assert not root.locator(".cnnx-python").is_visible()
    assert watched.problems == []
