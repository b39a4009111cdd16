"""Explorer front-ends on a page opened from file://, computing in the browser.

Each test builds a tiny page in tmp_path that loads cnnlib/web/cnn-ops.js, cnn-host.js and
the explorer's front-end by file:// script tags and mounts it with the state Python gives
(``PaddingStrideExplorer.page_state()``); no built book is needed. Settings are made through
the page's real controls (the keyboard, as a reader without a mouse would), and what the
page shows is compared with Python's explorer for the same settings.
"""

from __future__ import annotations

import random

import pytest
from live_page import check_readable_on_a_phone, explorer_page, phone_page, set_slider

from cnnlib.ops import SlidingWindow
from cnnlib.viz.padding_stride import input_title, kernel_title
from cnnlib.widgets.padding_stride import PaddingStrideExplorer

pytestmark = pytest.mark.browser

CONTROLS = ("input_size", "kernel_size", "padding", "stride", "dilation")
ROOT = ".cnnx-ps"


def shown(page) -> dict:
    """What the page shows: status text, captions, controls and the cells of each picture."""
    return page.evaluate("""() => {
      const root = document.querySelector('.cnnx-ps');
      const cells = (sel) => [...root.querySelectorAll(sel)].map(
        (r) => [Number(r.dataset.row), Number(r.dataset.col), r.dataset.role || '']);
      const size = (sel) => {
        const [, , w, h] = root.querySelector(sel).getAttribute('viewBox').split(' ');
        return [Number(h) / 10, Number(w) / 10];
      };
      const panels = root.querySelector('.cnnx-panels');
      return {
        status: root.querySelector('[role=status]').innerText.trim(),
        message: root.querySelector('.cnnx-message').hidden ? '' :
          root.querySelector('.cnnx-message').textContent,
        pictures: !panels.hidden,
        captions: [...root.querySelectorAll('figcaption')].map((c) => c.textContent),
        values: Object.fromEntries([...root.querySelectorAll('input')].map(
          (i) => [i.name, Number(i.value)])),
        inputCells: panels.hidden ? [] : cells('.cnnx-input rect[data-role]'),
        dots: root.querySelectorAll('.cnnx-input circle').length,
        kernel: panels.hidden ? null : size('.cnnx-kernel svg'),
        output: panels.hidden ? null : size('.cnnx-output svg'),
        outputCells: root.querySelectorAll('.cnnx-output rect[data-row]').length,
        chosen: cells('.cnnx-output rect[data-chosen]'),
      };
    }""")


def python_status(settings: dict) -> tuple[bool, str]:
    """Python's explorer (numbers from cnnlib) for the same controls: (valid, status)."""
    explorer = PaddingStrideExplorer(**{n: settings[n] for n in CONTROLS})
    return explorer.error == "", explorer.status_text


def check_against_python(page, settings: dict) -> None:
    got = shown(page)
    valid, status = python_status(settings)
    assert got["status"] == status
    if not valid:
        assert got["message"] == status and not got["pictures"]
        return
    window = SlidingWindow.create(*(settings[n] for n in CONTROLS))
    out_h, out_w = window.output_size
    row, col = min(settings["row"], out_h - 1), min(settings["col"], out_w - 1)
    assert (got["values"]["row"], got["values"]["col"]) == (row, col)
    assert got["captions"] == [input_title(window), kernel_title(window), f"output {out_h}×{out_w}"]
    assert got["output"] == [out_h, out_w] and got["outputCells"] == out_h * out_w
    assert got["kernel"] == list(window.kernel_size)
    assert got["dots"] == out_h * out_w
    assert got["chosen"] == [[row, col, ""]]
    rows, cols = window.window(row, col)
    assert sorted((r, c) for r, c, role in got["inputCells"] if role == "window") == sorted(
        (r, c) for r in rows for c in cols)
    (Hp, Wp), (left_h, left_w) = window.padded_size, window.leftover
    unread = {(r, c) for r, c, role in got["inputCells"] if role == "unread"}
    assert unread == {(r, c) for r in range(Hp) for c in range(Wp)
                      if (r >= Hp - left_h or c >= Wp - left_w)
                      and not (r in rows and c in cols)}
    assert len(got["inputCells"]) == Hp * Wp


EDGE_CASES = [
    # kernel larger than the padded input: an error message, the same as Python's
    dict(input_size=2, kernel_size=7, padding=0, stride=1, dilation=1, row=0, col=0),
    dict(input_size=8, kernel_size=2, padding=0, stride=4, dilation=1, row=1, col=1),  # s > k
    dict(input_size=7, kernel_size=3, padding=0, stride=2, dilation=2, row=1, col=0),  # p = 0
    dict(input_size=1, kernel_size=1, padding=0, stride=1, dilation=1, row=0, col=0),  # n = 1
    dict(input_size=1, kernel_size=3, padding=2, stride=3, dilation=1, row=0, col=0),
]


def random_cases(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    spans = dict(input_size=(1, 12), kernel_size=(1, 7), padding=(0, 4), stride=(1, 4),
                 dilation=(1, 3), row=(0, 6), col=(0, 6))
    return [{name: rng.randint(*span) for name, span in spans.items()} for _ in range(count)]


def test_settings_made_with_the_keyboard_match_python(watched, tmp_path):
    watched.goto(explorer_page(tmp_path, PaddingStrideExplorer(), "Padding and stride"))
    check_against_python(watched, dict(input_size=8, kernel_size=3, padding=1, stride=2,
                                       dilation=1, row=0, col=0))
    for settings in EDGE_CASES + random_cases(8, seed=21):
        for name in CONTROLS:
            set_slider(watched, ROOT, name, settings[name])
        for name in ("row", "col"):
            control = watched.locator(f'.cnnx-ps input[name="{name}"]')
            if shown(watched)["pictures"] and control.is_enabled():
                set_slider(watched, ROOT, name, settings[name])
        check_against_python(watched, settings)
    assert watched.problems == []


def test_a_bad_setting_keeps_the_controls_usable(watched, tmp_path):
    watched.goto(explorer_page(tmp_path, PaddingStrideExplorer(input_size=1, padding=0,
                                                           kernel_size=1), "Padding and stride"))
    set_slider(watched, ROOT, "kernel_size", 4)
    got = shown(watched)
    assert "larger than the padded input 1" in got["status"] and not got["pictures"]
    set_slider(watched, ROOT, "padding", 2)  # 1 + 2·2 = 5 ≥ 4: fits again
    got = shown(watched)
    assert got["pictures"] and got["status"].startswith("output size")
    assert watched.problems == []


def test_keyboard_only_with_labels_and_a_polite_status(watched, tmp_path):
    watched.goto(explorer_page(tmp_path, PaddingStrideExplorer(), "Padding and stride"))
    order = []
    for _ in range(7):
        watched.keyboard.press("Tab")
        order.append(watched.evaluate(
            "() => [document.activeElement.name, document.activeElement.labels[0].textContent]"))
    assert order == [[c.name, c.label] for c in PaddingStrideExplorer.CONTROLS] + [
        ["row", "output row"], ["col", "output col"]]
    status = watched.locator(".cnnx-ps [role=status]")
    assert status.get_attribute("aria-live") == "polite"
    before = status.inner_text()
    for _ in range(5):  # from the output col back to the kernel
        watched.keyboard.press("Shift+Tab")
    assert watched.evaluate("() => document.activeElement.name") == "kernel_size"
    watched.keyboard.press("ArrowRight")
    assert status.inner_text() != before and "kernel_size=4" in status.inner_text()
    for svg in watched.locator(".cnnx-ps svg").all():
        label = svg.get_attribute("aria-label")
        assert svg.get_attribute("role") == "img" and len(label) > 10
        assert svg.locator("title").text_content() == label
    assert watched.problems == []


def test_clicking_an_output_cell_picks_it(watched, tmp_path):
    explorer = PaddingStrideExplorer(input_size=8, kernel_size=3, padding=1, stride=2)
    watched.goto(explorer_page(tmp_path, explorer, "Padding and stride"))
    watched.locator('.cnnx-output rect[data-row="2"][data-col="3"]').click()
    got = shown(watched)
    assert (got["values"]["row"], got["values"]["col"]) == (2, 3)
    check_against_python(watched, dict(input_size=8, kernel_size=3, padding=1, stride=2,
                                       dilation=1, row=2, col=3))
    assert watched.problems == []


def test_readable_on_a_phone(browser, tmp_path, artifacts):
    page = phone_page(browser)
    explorer = PaddingStrideExplorer(input_size=12, kernel_size=3, padding=4, stride=1)
    page.goto(explorer_page(tmp_path, explorer, "Padding and stride"))
    check_readable_on_a_phone(page, ROOT)
    page.screenshot(path=str(artifacts / "web-explorer-padding-stride-phone.png"), full_page=True)
    page.context.close()
