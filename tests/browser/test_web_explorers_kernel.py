"""The kernel explorer's front-end on a page opened from file://, computing in the browser.

As tests/browser/test_web_explorers_pooling.py does for pooling: a tiny page in tmp_path loads
cnnlib/web/cnn-ops.js, cnn-host.js and explorers/kernel.js by file:// script tags and mounts
the explorer with the state Python gives (``KernelExplorer.page_state()``: the gallery's
pixels and the presets included). The kernel menu, the box and the input menu are used with
the keyboard only; a PNG is uploaded through the file input; what the page shows is compared
with Python's explorer, with torch.nn.functional and with Python's conversion of the file.
"""

from __future__ import annotations

import io
import random

import pytest
import torch
import torch.nn.functional as F
from live_page import check_readable_on_a_phone, explorer_page, lab_page, phone_page, set_menu
from PIL import Image

from cnnlib.viz.kernels import KERNEL_PRESETS
from cnnlib.widgets.feature_maps import image_from_bytes
from cnnlib.widgets.kernel_explorer import (
    CUSTOM,
    STRIPES,
    STRIPES_T,
    UPLOAD_PREFIX,
    KernelExplorer,
    parse_kernel,
)

pytestmark = pytest.mark.browser

ROOT = ".cnnx-kernel"


@pytest.fixture(scope="module")
def widget() -> KernelExplorer:
    """The chapter's explorer (its gallery holds Fashion-MNIST images where installed)."""
    return KernelExplorer()


def shown(page) -> dict:
    """What the page shows: status, message, controls, captions and each panel's cells."""
    return page.evaluate("""() => {
      const root = document.querySelector('.cnnx-kernel');
      const panels = root.querySelector('.cnnx-panels');
      const cells = (kind) => {
        const svg = root.querySelector('.cnnx-panel-' + kind + ' svg');
        if (svg.dataset.values) return JSON.parse(svg.dataset.values);  // a bitmap
        const rows = [];
        for (const g of svg.querySelectorAll('g[data-row]')) {
          const r = Number(g.dataset.row);
          (rows[r] = rows[r] || [])[Number(g.dataset.col)] = Number(g.dataset.value);
        }
        return rows;
      };
      return {
        status: root.querySelector('[role=status]').innerText.trim(),
        message: root.querySelector('.cnnx-message').hidden ? '' :
          root.querySelector('.cnnx-message').textContent,
        pictures: !panels.hidden,
        captions: [...root.querySelectorAll('figcaption')].map((c) => c.textContent),
        preset: root.querySelector('select[name=preset]').value,
        box: root.querySelector('textarea[name=kernel_text]').value,
        input: root.querySelector('select[name=input_choice]').value,
        inputs: [...root.querySelectorAll('select[name=input_choice] option')].map(
          (o) => o.value),
        X: panels.hidden ? [] : cells('input'),
        K: panels.hidden ? [] : cells('kernel'),
        Y: panels.hidden ? [] : cells('output'),
      };
    }""")


def type_kernel(page, text: str) -> None:
    """Replace the box's text with the keyboard, as a reader types."""
    box = page.locator(f'{ROOT} textarea[name="kernel_text"]')
    box.focus()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    for line_number, line in enumerate(text.split("\n")):
        if line_number:
            page.keyboard.press("Enter")
        page.keyboard.type(line)


def python_for(preset: str, text: str, input_name: str) -> KernelExplorer:
    """A Python explorer set as the page is."""
    python = KernelExplorer()
    python.input_choice = input_name
    if preset == CUSTOM:
        python.kernel_text = text
    python.preset = preset
    return python


def check(page, preset: str, text: str, input_name: str, X: torch.Tensor) -> None:
    """The page against Python's explorer and F.conv2d (1e-4)."""
    got = shown(page)
    python = python_for(preset, text, input_name)
    assert (got["preset"], got["input"]) == (preset, input_name)
    if python.error:
        assert got["status"] == got["message"] == python.status_text and not got["pictures"]
        return
    assert got["status"] == python.status_text and got["captions"] == python.titles
    K = parse_kernel(text) if preset == CUSTOM else KERNEL_PRESETS[preset]
    assert torch.equal(torch.tensor(got["K"], dtype=torch.float32), K)
    assert torch.equal(torch.tensor(got["X"], dtype=torch.float32), X)
    reference = F.conv2d(X[None, None], K[None, None])[0, 0]
    torch.testing.assert_close(torch.tensor(got["Y"], dtype=torch.float32), reference,
                               rtol=0, atol=1e-4)


def test_menu_box_and_gallery_with_the_keyboard_match_python_and_torch(watched, tmp_path,
                                                                      widget):
    watched.goto(explorer_page(tmp_path, widget, "Kernels"))
    tensors = widget.tensors
    check(watched, "vertical edge 1x2", "", STRIPES, tensors[STRIPES])
    rng = random.Random(7)
    for input_name in tensors:  # every gallery image, a preset and a typed kernel on each
        set_menu(watched, ROOT, "input_choice", input_name)
        preset = rng.choice(list(KERNEL_PRESETS))
        set_menu(watched, ROOT, "preset", preset)
        check(watched, preset, "", input_name, tensors[input_name])
        kh, kw = rng.randint(1, 5), rng.randint(1, 5)
        text = "\n".join(" ".join(f"{rng.uniform(-2, 2):.3f}" for _ in range(kw))
                         for _ in range(kh))
        type_kernel(watched, text)
        assert shown(watched)["box"] == text
        check(watched, CUSTOM, text, input_name, tensors[input_name])
    assert watched.problems == []


def test_bad_text_is_explained_kept_and_the_next_keys_fix_it(watched, tmp_path, widget):
    watched.goto(explorer_page(tmp_path, widget, "Kernels"))
    for text in ["1 2; 3", "1 two", "1 1 1 1 1 1 1 1", "9 9 9 9 9 9 9\n" * 7]:
        type_kernel(watched, text)
        got = shown(watched)
        python = python_for(CUSTOM, text, STRIPES)
        assert python.error and got["status"] == got["message"] == python.status_text
        assert not got["pictures"] and got["box"] == text  # nothing the reader typed is lost
        assert got["preset"] == CUSTOM
    type_kernel(watched, "1 0; 0 -1")
    check(watched, CUSTOM, "1 0; 0 -1", STRIPES, widget.tensors[STRIPES])
    set_menu(watched, ROOT, "preset", "box blur 3x3")  # a preset writes its numbers in the box
    assert shown(watched)["box"] == widget.presets["box blur 3x3"]["text"]
    check(watched, "box blur 3x3", "", STRIPES, widget.tensors[STRIPES])
    assert watched.problems == []


def _png() -> bytes:
    """A colour picture on a light background, wider than tall: the conversion pads,
    resizes with Lanczos, turns colours grey and inverts."""
    picture = Image.new("RGB", (50, 35), (240, 236, 230))
    picture.paste((200, 30, 60), (8, 6, 40, 28))
    picture.paste((20, 90, 30), (14, 12, 24, 20))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_uploaded_png_is_converted_as_python_converts_it(watched, tmp_path, widget):
    content = _png()
    path = tmp_path / "my garment.png"
    path.write_bytes(content)
    watched.goto(explorer_page(tmp_path, widget, "Kernels"))
    set_menu(watched, ROOT, "preset", "sharpen 3x3")
    watched.locator(f'{ROOT} input[type=file][name="upload"]').set_input_files(str(path))
    key = UPLOAD_PREFIX + "my garment.png"
    watched.wait_for_function(f"() => document.querySelector('{ROOT} select[name=input_choice]')"
                              f".value === {key!r}")
    want, steps = image_from_bytes(content, 28)
    got = shown(watched)
    assert got["inputs"][-1] == key and got["input"] == key
    assert torch.equal(torch.tensor(got["X"], dtype=torch.float32), want)  # pixel for pixel
    reference = F.conv2d(want[None, None], KERNEL_PRESETS["sharpen 3x3"][None, None])[0, 0]
    torch.testing.assert_close(torch.tensor(got["Y"], dtype=torch.float32), reference,
                               rtol=0, atol=1e-4)
    python = KernelExplorer()
    python.preset = "sharpen 3x3"
    python.load_image_bytes(content, "my garment.png")
    # The same sentence but the first step, where Pillow also names the mode ("(RGB)").
    assert got["status"].split(" The upload was ")[0] == python.summary.split(
        " The upload was ")[0]
    assert got["status"].endswith(f"resized to 28×28; {steps[-1]}.")
    # The uploaded picture is one more gallery image: a typed kernel works on it too.
    type_kernel(watched, "1 -1")
    check_values = shown(watched)
    torch.testing.assert_close(torch.tensor(check_values["Y"], dtype=torch.float32),
                               F.conv2d(want[None, None], torch.tensor([[[[1.0, -1.0]]]]))[0, 0],
                               rtol=0, atol=1e-4)
    # A file that is not a picture: said once, and the next change works.
    (tmp_path / "notes.png").write_bytes(b"not a picture at all")
    watched.locator(f'{ROOT} input[type=file]').set_input_files(str(tmp_path / "notes.png"))
    watched.wait_for_function(f"() => document.querySelector('{ROOT} [role=status]')"
                              ".innerText.includes('notes.png')")
    assert shown(watched)["status"] == ("'notes.png': the browser could not read it as a "
                                        "picture; upload a PNG or JPEG picture")
    set_menu(watched, ROOT, "input_choice", STRIPES_T)
    got = shown(watched)
    assert got["pictures"] and got["status"] == python_for(CUSTOM, "1 -1", STRIPES_T).status_text
    assert watched.problems == []


def test_keyboard_only_with_labels_and_a_polite_status(watched, tmp_path, widget):
    watched.goto(explorer_page(tmp_path, widget, "Kernels"))
    order = []
    for _ in range(4):
        watched.keyboard.press("Tab")
        order.append(watched.evaluate(
            "() => [document.activeElement.name, document.activeElement.labels[0].textContent]"))
    assert order == [["preset", "kernel"], ["kernel_text", "kernel values"],
                     ["input_choice", "input"], ["upload", "your own picture"]]
    upload = watched.locator(f"{ROOT} input[name=upload]")
    assert upload.get_attribute("type") == "file" and upload.get_attribute("accept") == "image/*"
    hint = watched.evaluate("""() => document.getElementById(document.querySelector(
      '.cnnx-kernel textarea').getAttribute('aria-describedby')).textContent""")
    assert "Type your own numbers" in hint
    status = watched.locator(f"{ROOT} [role=status]")
    assert status.get_attribute("aria-live") == "polite"
    before = status.inner_text()
    watched.keyboard.press("Shift+Tab")  # back to the input menu
    watched.keyboard.press("ArrowDown")  # the transposed stripes
    assert status.inner_text() != before and status.inner_text().startswith("X is 8×6")
    for svg in watched.locator(f"{ROOT} svg").all():
        label = svg.get_attribute("aria-label")
        assert svg.get_attribute("role") == "img" and len(label) > 10
        assert svg.locator("title").text_content() == label
    assert watched.problems == []


@pytest.mark.parametrize("input_name", [STRIPES, "last"])
def test_readable_on_a_phone(browser, tmp_path, artifacts, widget, input_name):
    page = phone_page(browser)
    page.goto(explorer_page(tmp_path, widget, "Kernels"))
    name = list(widget.inputs)[-1] if input_name == "last" else input_name
    set_menu(page, ROOT, "input_choice", name)
    set_menu(page, ROOT, "preset", "box blur 3x3")  # two-decimal numbers in every cell
    check_readable_on_a_phone(page, ROOT)
    page.screenshot(path=str(artifacts / f"web-explorer-kernel-phone-{input_name}.png"),
                    full_page=True)
    page.context.close()


def test_in_lab_it_draws_pythons_numbers_and_sends_the_upload(watched, tmp_path):
    """JupyterLab's path: anywidget's module (the class's _esm) renders a synced model whose
    values all come from Python; compute() is never called. An upload's bytes go to Python
    in the model's ``upload`` value, as ipywidgets' FileUpload sends them."""
    widget = KernelExplorer(preset="sharpen 3x3", input_name=STRIPES_T)
    watched.goto(lab_page(tmp_path, widget))
    watched.locator(f"{ROOT} [role=status]").wait_for()
    got = shown(watched)
    assert got["status"] == widget.status_text and got["captions"] == widget.titles
    assert got["Y"] == widget.output_values and got["K"] == widget.kernel_values
    type_kernel(watched, "1 2")
    sets = watched.evaluate("() => window.sets")
    assert sets[-1] == ["preset", CUSTOM] and ["kernel_text", "1 2"] in sets
    path = tmp_path / "shoe.png"
    path.write_bytes(_png())
    watched.locator(f"{ROOT} input[type=file]").set_input_files(str(path))
    watched.wait_for_function("() => window.sets.some(([name]) => name === 'upload')")
    upload = watched.evaluate("""() => { const [, v] = window.sets.find(([n]) => n === 'upload');
      return {name: v.name, type: v.type, view: v.content instanceof DataView,
              bytes: Array.from(new Uint8Array(v.content.buffer))}; }""")
    assert upload["name"] == "shoe.png" and upload["type"] == "image/png" and upload["view"]
    assert bytes(upload["bytes"]) == _png()
    # What Python does with it (widget.upload, as the kernel receives it).
    widget.upload = {"name": "shoe.png", "content": memoryview(bytes(upload["bytes"]))}
    assert widget.input_choice == UPLOAD_PREFIX + "shoe.png" and widget.error == ""
    assert torch.equal(widget.input, image_from_bytes(_png(), 28)[0])
    assert watched.problems == []
