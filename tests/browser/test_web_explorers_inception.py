"""The Inception explorer's front-end on a page opened from file://, computing in the browser.

A page in tmp_path loads the host, cnn-networks.js and explorers/inception.js by file://
script tags and mounts the explorer with the state Python gives (pixels, blocks, menus).
The browser runs the shipped GoogLeNet (``CNNNetworks.load``, from ``_build/web-vendor/``,
which ``make web-deps`` builds). Settings are made through the page's menus with the
keyboard, and every number the page shows is compared with PyTorch's branches
(``cnnlib.explain.inception.branch_outputs``, each branch run on its own) to 1e-4.
"""

from __future__ import annotations

import pytest
import torch
from live_page import check_readable_on_a_phone, lab_page, phone_page, set_menu
from test_web_explorers_grad_cam import form_page, network_page

from cnnlib.explain.inception import block_inputs, branch_outputs, inception_blocks
from cnnlib.models.pretrained import pretrained
from cnnlib.widgets.inception import InceptionExplorer

pytestmark = pytest.mark.browser

ROOT = ".cnnx-incep"
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def widget():
    return InceptionExplorer(model=pretrained("googlenet"))


def settled(page) -> None:
    page.evaluate("() => window.mounted.model.settled()")
    page.wait_for_function("() => !document.querySelector('.cnnx-incep .cnnx-loading')")


def shown(page) -> dict:
    return page.evaluate("""() => {
      const root = document.querySelector('.cnnx-incep');
      return {
        status: root.querySelector('[role=status]').innerText.trim(),
        title: root.querySelector('.cnnx-title').textContent,
        view: !root.querySelector('.cnnx-view').hidden,
        branches: [...root.querySelectorAll('.cnnx-branch')].map((b) => ({
          heading: b.querySelector('h4').textContent,
          channels: [...b.querySelectorAll('figure[data-channel]')].map((f) => ({
            channel: Number(f.dataset.channel),
            caption: f.querySelector('figcaption').textContent,
            values: [...f.querySelectorAll('rect')].map((r) => Number(r.dataset.value))}))})),
        shares: [...root.querySelectorAll('.cnnx-share')].map((s) => ({
          values: [...s.querySelectorAll('span[data-value]')].map((p) => Number(p.dataset.value)),
          texts: [...s.querySelectorAll('span[data-value]')].map((p) => p.textContent)})),
        high: window.mounted.model.get('high'),
        values: Object.fromEntries([...root.querySelectorAll('select')].map(
          (s) => [s.name, s.value])),
      };
    }""")


def check_against_pytorch(got: dict, widget: InceptionExplorer, example: int, block: str,
                          pick: str) -> None:
    (label, module), = [(lb, b) for n, lb, b in inception_blocks(widget.model) if n == block]
    X = block_inputs(widget.model, widget.images[example, 0])[block]
    r = branch_outputs(module, X, block, label)
    torch.testing.assert_close(torch.tensor(float(got["high"])), torch.cat(r.branches).max(),
                               rtol=0, atol=TOLERANCE)
    for b, (branch, out) in enumerate(zip(got["branches"], r.branches, strict=True)):
        assert branch["heading"] == r.kernels[b]
        count = min(4, out.shape[0])
        if pick == "first":
            expected = list(range(count))
        else:
            expected = torch.argsort(out.mean(dim=(1, 2)), descending=True,
                                     stable=True)[:count].tolist()
        assert [c["channel"] for c in branch["channels"]] == expected, (b, pick)
        for c in branch["channels"]:
            assert c["caption"] == f"ch {c['channel']}"
            torch.testing.assert_close(torch.tensor(c["values"], dtype=out.dtype),
                                       out[c["channel"]].flatten(), rtol=0, atol=TOLERANCE)
    channels, flops = got["shares"]
    assert channels["values"] == pytest.approx(r.channel_shares, abs=1e-12)
    assert flops["values"] == pytest.approx(r.flop_shares, abs=1e-12)
    assert flops["texts"] == [f"{s:.0%}" if s >= 0.07 else "" for s in r.flop_shares]
    python = InceptionExplorer(widget.model, widget.images, widget.labels, widget.indices,
                               block=block, pick=pick)
    python.example = example
    assert got["status"] == python.status_text and got["title"] == python.title


SETTINGS = [(0, "2.0", "strongest"), (4, "2.1", "first"), (9, "3.0", "strongest"),
            (2, "3.3", "strongest"), (6, "3.4", "first"), (8, "4.1", "strongest")]


def test_every_number_equals_pytorchs_for_settings_made_with_the_keyboard(watched, widget,
                                                                          tmp_path):
    watched.goto(network_page(tmp_path, widget, "Inception"))
    settled(watched)
    check_against_pytorch(shown(watched), widget, 0, "2.0", "strongest")
    for example, block, pick in SETTINGS:
        set_menu(watched, ROOT, "example", str(example))
        set_menu(watched, ROOT, "block", block)
        set_menu(watched, ROOT, "pick", pick)
        settled(watched)
        got = shown(watched)
        assert got["values"] == {"example": str(example), "block": block, "pick": pick}
        check_against_pytorch(got, widget, example, block, pick)
    assert watched.problems == []


def test_while_loading_it_shows_pythons_picture_and_says_so(watched, widget, tmp_path):
    watched.goto(network_page(tmp_path, widget, "Inception", base=tmp_path.as_uri() + "/none/"))
    watched.wait_for_function(
        "() => document.querySelector('.cnnx-incep [role=status]').innerText.includes("
        "'cannot run')")
    root = watched.locator(ROOT)
    text = root.locator("[role=status]").inner_text()
    assert "this browser cannot run the network" in text
    assert "The picture is Python's, for the first setting." in text
    assert root.locator(".cnnx-python img").is_visible()
    assert not root.locator(".cnnx-view").is_visible()


def test_keyboard_labels_and_a_polite_status(watched, widget, tmp_path):
    watched.goto(network_page(tmp_path, widget, "Inception"))
    status = watched.locator(f"{ROOT} [role=status]")
    assert status.get_attribute("aria-live") == "polite"
    settled(watched)
    order = []
    for _ in range(3):
        watched.keyboard.press("Tab")
        order.append(watched.evaluate(
            "() => [document.activeElement.name, document.activeElement.labels[0].textContent]"))
    assert order == [["example", "image"], ["block", "block"], ["pick", "channels"]]
    watched.keyboard.press("Shift+Tab")  # back to the block menu
    before = status.inner_text()
    watched.keyboard.press("ArrowDown")
    settled(watched)
    assert status.inner_text() != before and status.inner_text().startswith("Inception 3b")
    for node in watched.locator(f"{ROOT} [role=img]").all():
        assert len(node.get_attribute("aria-label")) > 10
    assert watched.problems == []


def test_readable_on_a_phone(browser, widget, tmp_path, artifacts):
    page = phone_page(browser)
    requests = []
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:"))
            else requests.append(r.url))
    page.goto(network_page(tmp_path, widget, "Inception"))
    page.evaluate("() => window.mounted.model.settled()")
    page.wait_for_selector(f"{ROOT} .cnnx-branch")
    check_readable_on_a_phone(page, ROOT)
    page.screenshot(path=str(artifacts / "web-explorer-inception-phone.png"), full_page=True)
    assert requests == []
    page.context.close()


def test_in_lab_it_draws_pythons_numbers_without_computing(watched, widget, tmp_path):
    widget.example, widget.block = 3, "3.1"
    try:
        watched.goto(lab_page(tmp_path, widget))
        watched.locator(f"{ROOT} [role=status]").wait_for()
        got = watched.evaluate("""() => ({
          status: document.querySelector('.cnnx-incep [role=status]').innerText.trim(),
          channels: [...document.querySelectorAll('.cnnx-branch')].map((b) =>
            [...b.querySelectorAll('figure[data-channel]')].map((f) => Number(f.dataset.channel)))
        })""")
        assert got["status"] == widget.status_text
        assert got["channels"] == widget.shown
        watched.locator(f'{ROOT} select[name="pick"]').select_option("first")
        assert watched.evaluate("() => window.sets") == [["pick", "first"]]
        assert watched.problems == []
    finally:
        widget.example, widget.block = 0, "2.0"


def test_the_website_form_loads_the_network_only_when_the_reader_gets_there(watched, widget,
                                                                           tmp_path):
    loads = []
    watched.on("request", lambda r: loads.append(r.url) if ".onnx.js" in r.url
               or "onnxruntime" in r.url else None)
    watched.goto(form_page(tmp_path, widget, spacer_px=6000))
    root = watched.locator(".cnn-explorer")
    assert "cnnx-live" in root.get_attribute("class").split()
    status = root.locator("[role=status]")
    assert status.inner_text().startswith("Loading the trained network")
    assert "The picture is Python's, for the first setting." in status.inner_text()
    assert root.locator(".cnnx-python img").get_attribute("alt") == widget.picture_alt()
    watched.wait_for_timeout(1000)
    assert loads == []
    root.scroll_into_view_if_needed()
    watched.wait_for_function(
        "() => document.querySelector('.cnn-explorer .cnnx-summary') !== null")
    assert status.inner_text() == widget.status_text
    assert any("googlenet.onnx.js" in url for url in loads)
    assert watched.problems == []
