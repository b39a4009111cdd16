"""The feature-map explorer's front-end on a page opened from file://, running LeNet in the
browser.

A tiny page in tmp_path loads cnnlib/web/cnn-ops.js, cnn-host.js, cnn-networks.js and
explorers/feature-maps.js by file:// script tags (``CNNNetworks.base`` is the file:// URL of
``_build/web-vendor/``, which ``make web-deps`` fills with onnxruntime-web and the exported
networks) and mounts the explorer with the state Python gives. The page's probabilities and
feature maps are compared with PyTorch's trained LeNet on the gallery's images, on what a
mouse and a finger draw (the canvas's own 28×28 pixels, read back from the page) and on an
uploaded PNG (with Python's conversion of the same file).
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import ROOT
from live_page import check_readable_on_a_phone, lab_page, phone_page, set_menu
from PIL import Image

from cnnlib import data
from cnnlib.widgets.feature_maps import FeatureMapExplorer, image_from_bytes, trained_lenet

pytestmark = pytest.mark.browser

VENDOR = ROOT / "_build" / "web-vendor"
ROOT_SELECTOR = ".cnnx-fmap"
# Resolves once the page's latest input has its answer from the browser's network.
ANSWERED = """() => { const m = window.mounted && window.mounted.model;
  return m && m.get('engine') === 'browser' && m.get('answered') === m.get('request')
    && !m.get('error'); }"""


@pytest.fixture(scope="module")
def lenet():
    return trained_lenet()


@pytest.fixture(scope="module")
def widget(lenet):
    """The explorer over the Fashion-MNIST test split (the chapter's), else 40 of its
    images stood in for by noise."""
    try:
        images, labels = data.load_split(train=False)
    except data.DatasetNotFoundError:
        generator = torch.Generator().manual_seed(0)
        images = torch.randint(0, 256, (40, 28, 28), dtype=torch.uint8, generator=generator)
        labels = torch.arange(40) % 10
    return FeatureMapExplorer(lenet, images, labels)


def needs_vendor() -> None:
    if not (VENDOR / "models" / "lenet.onnx.js").exists():
        pytest.skip("the exported networks are missing: run `make web-deps`")


def page_html(widget, before: str = "") -> str:
    """The explorer's test page; ``before`` runs first (it may set up ``CNNNetworks``)."""
    base = json.dumps(VENDOR.as_uri() + "/")
    setup = before or f"window.CNNNetworks = {{base: {base}}};"
    return widget.standalone_html("Feature maps").replace(
        "<main>", f"<main><script>{setup}</script>", 1)


def open_page(page, tmp_path, widget, before: str = "", name: str = "fmap.html") -> None:
    path = tmp_path / name
    path.write_text(page_html(widget, before), encoding="utf-8")
    page.goto(path.as_uri())


def answered(page) -> dict:
    """Wait for the latest input's answer; the page's values and what it shows."""
    page.wait_for_function(ANSWERED, timeout=30_000)
    return page.evaluate("""() => {
      const m = window.mounted.model;
      const root = document.querySelector('.cnnx-fmap');
      const c = root.querySelector('canvas.cnnx-draw');
      const ink = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      return {
        probabilities: m.get('probabilities'), maps: m.get('maps'), status: m.get('status'),
        drawing: m.get('drawing'), example: m.get('example'), label: m.get('label'),
        ink: Array.from({length: ink.length / 4}, (_, i) => ink[4 * i] / 255),
        shownStatus: root.querySelector('[role=status]').innerText.trim(),
        rows: [...root.querySelectorAll('.cnnx-probs tbody tr')].map((r) =>
          [r.querySelector('th').textContent, r.querySelector('.cnnx-value').textContent]),
        figures: [...root.querySelectorAll('figure[data-layer]')].map((f) => f.dataset.layer),
      };
    }""")


def torch_outputs(lenet, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """PyTorch's probabilities and every shown layer's output for one (28, 28) image."""
    X = image.reshape(1, 1, 28, 28).float()
    maps = {}
    with torch.no_grad():
        for i, layer in enumerate(lenet.net):
            X = layer(X)
            maps[f"net.{i}"] = X[0]
    return F.softmax(X[0], dim=0), maps


def check_with_torch(lenet, shown: dict, image: torch.Tensor, classes: list[str]) -> None:
    """The page's probabilities (values and table) and maps are PyTorch's to 1e-4."""
    probs, maps = torch_outputs(lenet, image)
    np.testing.assert_allclose(shown["probabilities"], probs.numpy(), atol=1e-4)
    assert set(shown["maps"]) == {name for name in maps if name != "net.6"} - {"net.11"}
    for name, value in shown["maps"].items():
        assert value["shape"] == list(maps[name].shape), name
        np.testing.assert_allclose(value["data"], maps[name].flatten().numpy(), atol=1e-4,
                                   err_msg=name)
    assert [name for name, _ in shown["rows"]] == classes
    assert [text for _, text in shown["rows"]] == [f"{p:.2f}" for p in shown["probabilities"]]
    top = int(probs.argmax())
    assert f"predicted {classes[top]} with probability {float(probs[top]):.2f}" in \
        shown["shownStatus"]


def test_gallery_images_match_pytorch(watched, tmp_path, widget, lenet):
    needs_vendor()
    open_page(watched, tmp_path, widget)
    first = answered(watched)
    check_with_torch(lenet, first, torch.tensor(first["ink"]), widget.classes)
    # The first answer is the browser's for the first test image: the same as Python's.
    np.testing.assert_allclose(first["probabilities"], widget.probabilities, atol=1e-4)
    entries, start = widget.gallery, widget.example
    try:
        for entry in [entries[1], entries[5], entries[-1]]:
            set_menu(watched, ROOT_SELECTOR, "example", str(entry["index"]))
            shown = answered(watched)
            image = torch.tensor(entry["pixels"], dtype=torch.float32) / entry["scale"]
            check_with_torch(lenet, shown, image, widget.classes)
            # The canvas shows the chosen image's own pixels.
            np.testing.assert_allclose(shown["ink"], image.numpy(), atol=1e-6)
            assert shown["status"].startswith(f"test image #{entry['index']}: ")
            widget.show_example(entry["index"])
            assert shown["status"] == widget.status  # Python's sentence, word for word
    finally:
        widget.show_example(start)  # the other tests start where Python did
    assert watched.problems == []


def stroke_points(box: dict) -> list[tuple[float, float]]:
    """A zigzag across the middle of the drawing pad, in page coordinates."""
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    return [(x + w * (0.2 + 0.03 * i), y + h * (0.3 + (0.4 if i % 8 < 4 else 0.1)))
            for i in range(20)]


def check_drawing(page, lenet, before: dict, classes: list[str]) -> dict:
    shown = answered(page)
    assert shown["example"] == -1 and shown["label"] is None
    assert shown["status"].startswith("your drawing: predicted ")
    # The network got exactly the canvas's pixels, and PyTorch agrees on them.
    np.testing.assert_allclose(shown["drawing"], shown["ink"], atol=1e-7)
    assert shown["ink"] != before["ink"]
    check_with_torch(lenet, shown, torch.tensor(shown["ink"]), classes)
    assert shown["probabilities"] != before["probabilities"]
    assert shown["maps"]["net.0"]["data"] != before["maps"]["net.0"]["data"]
    return shown


def test_a_mouse_stroke_changes_the_maps_as_pytorch_says(watched, tmp_path, widget, lenet):
    needs_vendor()
    open_page(watched, tmp_path, widget)
    before = answered(watched)
    points = stroke_points(watched.locator("canvas.cnnx-draw").bounding_box())
    watched.mouse.move(*points[0])
    watched.mouse.down()
    # Mid-stroke the page answers already: drawing is followed, not waited for.
    for point in points[1:10]:
        watched.mouse.move(*point)
    middle = check_drawing(watched, lenet, before, widget.classes)
    for point in points[10:]:
        watched.mouse.move(*point)
    watched.mouse.up()
    check_drawing(watched, lenet, middle, widget.classes)
    # Clear, by keyboard: a black input, which PyTorch scores too.
    watched.get_by_role("button", name="Clear the drawing").focus()
    watched.keyboard.press("Enter")
    cleared = answered(watched)
    assert set(cleared["ink"]) == {0.0} and set(cleared["drawing"]) == {0.0}
    check_with_torch(lenet, cleared, torch.zeros(28, 28), widget.classes)
    assert watched.problems == []


def test_a_touch_drag_draws_too(browser, tmp_path, widget, lenet):
    needs_vendor()
    page = phone_page(browser)
    try:
        open_page(page, tmp_path, widget)
        before = answered(page)
        pad = page.locator("canvas.cnnx-draw")
        pad.scroll_into_view_if_needed()
        points = stroke_points(pad.bounding_box())
        cdp = page.context.new_cdp_session(page)

        def touch(kind: str, point=None) -> None:
            spots = [] if point is None else [{"x": point[0], "y": point[1], "id": 1}]
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": spots})

        touch("touchStart", points[0])
        for point in points[1:]:
            touch("touchMove", point)
        touch("touchEnd")
        check_drawing(page, lenet, before, widget.classes)
    finally:
        page.context.close()


def _png(pixels: np.ndarray, mode: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["RGB, light background", "RGBA, transparent border"])
def test_an_uploaded_png_equals_python_s_conversion(watched, tmp_path, widget, lenet, kind):
    needs_vendor()
    rng = np.random.default_rng(5)
    if kind.startswith("RGB,"):
        pixels = np.full((64, 40, 3), 235, dtype=np.uint8)
        pixels[8:56, 6:34] = rng.integers(0, 140, (48, 28, 3))
        content, mode = _png(pixels, "RGB"), "RGB"
    else:  # alpha only 0 or 255: a browser's canvas keeps such pixels exactly
        pixels = np.zeros((50, 80, 4), dtype=np.uint8)
        pixels[10:40, 20:60] = np.concatenate(
            [rng.integers(0, 256, (30, 40, 3)), np.full((30, 40, 1), 255)], axis=2)
        content, mode = _png(pixels, "RGBA"), "RGBA"
    path = tmp_path / "garment.png"
    path.write_bytes(content)
    expected, steps = image_from_bytes(content)
    open_page(watched, tmp_path, widget)
    answered(watched)
    watched.get_by_label("upload a picture").set_input_files(str(path))
    watched.wait_for_function("() => window.mounted.model.get('input_name') !== ''")
    shown = answered(watched)
    np.testing.assert_allclose(np.array(shown["drawing"]).reshape(28, 28), expected.numpy(),
                               atol=1e-7, err_msg=mode)
    check_with_torch(lenet, shown, expected, widget.classes)
    assert shown["status"].startswith("upload 'garment.png': predicted ")
    assert shown["status"].endswith("; ".join(["read a PNG of " + steps[0].split(" of ")[1]
                                               .split(" (")[0], *steps[1:]]) + ".")
    # A file that is not a picture: said in the status line; the picture stays.
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    watched.get_by_label("upload a picture").set_input_files(str(notes))
    error = watched.locator(f"{ROOT_SELECTOR} [role=status] .cnnx-error")
    error.wait_for()
    assert error.inner_text().startswith("'notes.txt': its 13 bytes are not in an image format")
    assert watched.evaluate("() => window.mounted.model.get('input_name')") == \
        "upload 'garment.png'"
    assert watched.problems == []


def test_every_control_is_labelled_and_reachable_by_keyboard(watched, tmp_path, widget):
    needs_vendor()
    open_page(watched, tmp_path, widget)
    answered(watched)
    controls = watched.evaluate("""() => [...document.querySelectorAll(
        '.cnnx-fmap input, .cnnx-fmap select, .cnnx-fmap button')].map((c) => ({
          name: c.name, label: c.labels && c.labels.length ? c.labels[0].textContent
                                                           : c.textContent}))""")
    assert {c["name"]: c["label"] for c in controls} == {
        "example": "test image", "upload": "upload a picture",
        "stages_only": "stage outputs only", "clear": "Clear the drawing"}
    reached = []
    watched.locator(f"{ROOT_SELECTOR} select").focus()
    for _ in range(4):
        reached.append(watched.evaluate("() => document.activeElement.name"))
        watched.keyboard.press("Tab")
    assert set(reached) == {"example", "upload", "stages_only", "clear"}
    status = watched.locator(f"{ROOT_SELECTOR} [role=status]")
    assert status.get_attribute("aria-live") == "polite"
    # The stages checkbox, by keyboard: only the stage outputs stay.
    watched.locator(f"{ROOT_SELECTOR} input[name=stages_only]").focus()
    watched.keyboard.press("Space")
    shown = answered(watched)
    stages = [layer["name"] for layer in widget.layers if layer["stage"]]
    assert shown["figures"] == stages
    pad = watched.locator("canvas.cnnx-draw")
    assert pad.get_attribute("role") == "img" and pad.get_attribute("aria-label")
    for label in watched.locator(f"{ROOT_SELECTOR} figure[data-layer] canvas").evaluate_all(
            "(cs) => cs.map((c) => c.getAttribute('aria-label'))"):
        assert label.startswith("Output of layer ")


def test_readable_on_a_phone(browser, tmp_path, widget, artifacts):
    needs_vendor()
    page = phone_page(browser)
    try:
        open_page(page, tmp_path, widget)
        page.wait_for_function(ANSWERED, timeout=30_000)
        check_readable_on_a_phone(page, ROOT_SELECTOR)
        page.screenshot(path=str(artifacts / "feature-maps-phone.png"), full_page=True)
    finally:
        page.context.close()


def test_while_loading_the_page_shows_python_s_picture(watched, tmp_path, widget):
    # A network that never arrives: the page draws Python's answer and says it is loading.
    open_page(watched, tmp_path, widget,
              "window.CNNNetworks = {load: () => new Promise(() => {})};")
    note = watched.locator(f"{ROOT_SELECTOR} .cnnx-note")
    assert note.inner_text().startswith("Loading LeNet into this page")
    assert watched.locator(ROOT_SELECTOR).get_attribute("aria-busy") == "true"
    model = "window.mounted.model"
    assert watched.evaluate(f"() => {model}.get('probabilities')") == widget.probabilities
    assert watched.evaluate(f"() => {model}.get('engine')") == "python"
    rows = watched.locator(f"{ROOT_SELECTOR} .cnnx-probs tbody tr")
    assert rows.count() == 10
    assert watched.locator(f"{ROOT_SELECTOR} figure[data-layer]").count() == len(widget.layers)
    assert watched.problems == []


def test_a_browser_that_cannot_run_it_says_so_and_keeps_the_picture(watched, tmp_path, widget):
    # The network's files are not where the page looks: CNNNetworks' own error.
    empty = tmp_path / "empty"
    empty.mkdir()
    base = json.dumps(empty.as_uri() + "/")
    open_page(watched, tmp_path, widget, f"window.CNNNetworks = {{base: {base}}};")
    error = watched.locator(f"{ROOT_SELECTOR} [role=status] .cnnx-error")
    error.wait_for()
    assert error.inner_text().startswith("this browser cannot run the network: could not load")
    assert watched.locator(ROOT_SELECTOR).get_attribute("aria-busy") == "false"
    status = watched.locator(f"{ROOT_SELECTOR} [role=status]").inner_text()
    assert widget.status in status
    assert watched.evaluate("() => window.mounted.model.get('probabilities')") == \
        widget.probabilities
    # The requests were for the missing files, all file:// (none left the machine).
    assert [p for p in watched.problems if not p.startswith("console:")] == []


def test_lab_path_draws_python_s_values_and_sends_the_reader_s_input(page, tmp_path, widget):
    page.goto(lab_page(tmp_path, widget))
    rows = page.locator(f"{ROOT_SELECTOR} .cnnx-probs tbody tr")
    rows.first.wait_for()
    texts = rows.evaluate_all("(rs) => rs.map((r) => r.querySelector('.cnnx-value').textContent)")
    assert texts == [f"{p:.2f}" for p in widget.probabilities]
    assert page.locator(f"{ROOT_SELECTOR} [role=status]").inner_text().strip() == widget.status
    assert page.locator(f"{ROOT_SELECTOR} .cnnx-note").is_hidden()  # Python answers in Lab
    entry = widget.gallery[3]
    page.locator(f"{ROOT_SELECTOR} select").select_option(str(entry["index"]))
    box = page.locator("canvas.cnnx-draw").bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 30)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 90, steps=8)
    page.mouse.up()
    page.wait_for_function("() => window.sets.some(([n]) => n === 'drawing')")
    sets = page.evaluate("() => window.sets")
    assert ["example", entry["index"]] in sets
    assert ["drawing", []] in sets  # a test image is no drawing
    drawings = [value for name, value in sets if name == "drawing" and value]
    assert drawings and all(len(d) == 784 and 0 <= min(d) and max(d) <= 1 for d in drawings)
    # Coalesced: far fewer passes than pointer moves would ask for.
    assert len(drawings) <= 9


def test_the_website_form_runs_inline_and_finds_the_network_under_static(
        watched, tmp_path, widget, monkeypatch):
    # As `make notebooks` writes it: every script inline, so cnn-networks.js has no folder of
    # its own and finds the network under <html data-content_root>_static/, as on the site.
    needs_vendor()
    monkeypatch.setenv("CNNLIB_EXPLORER_PAGES", "1")
    form = widget._repr_mimebundle_()[0]["text/html"]
    assert 'src="data:image/png;base64,' in form  # Python's picture, for a page without JS
    (tmp_path / "_static").symlink_to(VENDOR, target_is_directory=True)
    path = tmp_path / "section.html"
    path.write_text('<!doctype html><html lang="en" data-content_root="./"><head>'
                    '<meta charset="utf-8"><title>7.6</title></head><body>'
                    f"{form}</body></html>", encoding="utf-8")
    watched.goto(path.as_uri())
    rows = watched.locator(f"{ROOT_SELECTOR} .cnnx-probs tbody tr")
    rows.first.wait_for()
    assert watched.locator(".cnnx-fallback").count() == 0  # the front-end replaced it
    watched.locator(f"{ROOT_SELECTOR} .cnnx-note").wait_for(state="hidden", timeout=30_000)
    status = watched.locator(f"{ROOT_SELECTOR} [role=status]").inner_text().strip()
    assert status == widget.status  # the browser's answer, in Python's words
    assert watched.locator(ROOT_SELECTOR).get_attribute("aria-busy") == "false"
    assert watched.problems == []
