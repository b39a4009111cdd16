"""The pooling explorer's front-end on a page opened from file://, computing in the browser.

As tests/browser/test_web_explorers.py does for padding/stride: a tiny page in tmp_path loads
cnnlib/web/cnn-ops.js, cnn-host.js and explorers/pooling.js by file:// script tags and mounts
the explorer with the state Python gives (``PoolingExplorer.page_state()``, the inputs'
values included); settings are made through the page's real controls with the keyboard, and
what the page shows is compared with Python's explorer and with torch.nn.functional.
"""

from __future__ import annotations

import random

import pytest
import torch
import torch.nn.functional as F
from live_page import (
    check_readable_on_a_phone,
    explorer_page,
    lab_page,
    phone_page,
    set_menu,
    set_slider,
)

from cnnlib.viz.cell_grid import format_value
from cnnlib.widgets.pooling import ARANGE, RANDOM, PoolingExplorer, example_inputs

pytestmark = pytest.mark.browser

SLIDERS = ("kernel_size", "stride", "padding")
ROOT = ".cnnx-pool"


def shown(page) -> dict:
    """What the page shows: status, header, captions, controls and each picture's cells."""
    return page.evaluate("""() => {
      const root = document.querySelector('.cnnx-pool');
      const panels = root.querySelector('.cnnx-panels');
      const cells = (sel) => [...root.querySelectorAll(sel)].map((g) => ({
        row: Number(g.dataset.row), col: Number(g.dataset.col), role: g.dataset.role || '',
        picked: g.dataset.picked === 'true', chosen: g.dataset.chosen === 'true',
        value: g.dataset.value === undefined ? null : Number(g.dataset.value),
        text: g.querySelector('text').textContent}));
      return {
        status: root.querySelector('[role=status]').innerText.trim(),
        message: root.querySelector('.cnnx-message').hidden ? '' :
          root.querySelector('.cnnx-message').textContent,
        pictures: !panels.hidden,
        header: root.querySelector('.cnnx-header').textContent,
        captions: [...root.querySelectorAll('figcaption')].map((c) => c.textContent),
        values: Object.fromEntries([...root.querySelectorAll('input, select')].map(
          (i) => [i.name, i.type === 'range' ? Number(i.value) : i.value])),
        input: panels.hidden ? [] : cells('.cnnx-input g[data-row]'),
        output: panels.hidden ? [] : cells('.cnnx-output g[data-row]'),
      };
    }""")


def set_all(page, settings: dict) -> None:
    """Make settings through the page's controls, as a reader with a keyboard would."""
    set_menu(page, ROOT, "mode", settings["mode"])
    set_menu(page, ROOT, "input_choice", settings["input_choice"])
    for name in SLIDERS:
        set_slider(page, ROOT, name, settings[name])
    for name in ("row", "col"):
        control = page.locator(f'.cnnx-pool input[name="{name}"]')
        if shown(page)["pictures"] and control.is_enabled():
            set_slider(page, ROOT, name, settings[name])


def check_against_python_and_torch(page, settings: dict) -> None:
    got = shown(page)
    python = PoolingExplorer(mode=settings["mode"], input_name=settings["input_choice"],
                             **{n: settings[n] for n in SLIDERS})
    if python.error:
        assert got["status"] == got["message"] == python.error and not got["pictures"]
        return
    out_h, out_w = python.output_shape
    row, col = min(settings["row"], out_h - 1), min(settings["col"], out_w - 1)
    assert (got["values"]["row"], got["values"]["col"]) == (row, col)
    python.row, python.col = row, col
    assert got["status"] == python.status_text  # with the cell the chosen output takes
    assert got["header"] == python.header and got["captions"] == python.titles
    # The output against torch.nn.functional, to 1e-4, and its labels as Python writes them.
    k, s, p = (settings[n] for n in SLIDERS)
    X = example_inputs()[settings["input_choice"]][None, None]
    if settings["mode"] == "max":
        Y, indices = F.max_pool2d(X, k, s, p, return_indices=True)
    else:
        Y, indices = F.avg_pool2d(X, k, s, p), None
    Y = Y[0, 0]
    assert [(c["row"], c["col"]) for c in got["output"]] == [
        (i, j) for i in range(out_h) for j in range(out_w)]
    torch.testing.assert_close(torch.tensor([c["value"] for c in got["output"]], dtype=Y.dtype),
                               Y.flatten(), rtol=0, atol=1e-4)
    assert [c["text"] for c in got["output"]] == [format_value(v) for v in Y.flatten().tolist()]
    assert [(c["row"], c["col"]) for c in got["output"] if c["chosen"]] == [(row, col)]
    # The padded input: its values, the window, and (max) the cell each output takes.
    Hp, Wp = python.geometry["padded"]
    assert len(got["input"]) == Hp * Wp
    padded = F.pad(X[0, 0], (p, p, p, p), value=float("-inf") if indices is not None else 0.0)
    assert [c["text"] for c in got["input"]] == [format_value(v)
                                                  for v in padded.flatten().tolist()]
    rows, cols = python.geometry["window"]
    window = {(r, c) for r in rows for c in cols}
    for c in got["input"]:
        here = (c["row"], c["col"])
        assert (c["role"] in ("window", "source")) == (here in window), here
    if indices is None:
        assert not any(c["picked"] or c["role"] == "source" for c in got["input"])
        return
    width = X.shape[-1]
    takes = {(i // width + p, i % width + p) for i in indices.flatten().tolist()}
    assert {(c["row"], c["col"]) for c in got["input"] if c["picked"]} == takes
    source = divmod(int(indices[0, 0, row, col]), width)
    assert [(c["row"], c["col"]) for c in got["input"] if c["role"] == "source"] == [
        (source[0] + p, source[1] + p)]


EDGE_CASES = [
    # window larger than the padded input (the slider goes to 6: the page starts there)
    dict(mode="max", input_choice=ARANGE, kernel_size=6, stride=1, padding=0, row=0, col=0),
    dict(mode="avg", input_choice=ARANGE, kernel_size=5, stride=2, padding=0, row=0, col=0),
    dict(mode="max", input_choice=RANDOM, kernel_size=2, stride=4, padding=0, row=1, col=1),  # s>k
    dict(mode="avg", input_choice=RANDOM, kernel_size=3, stride=1, padding=0, row=3, col=2),  # p=0
    # padding 2 above half the window 3: PyTorch's rule, an error
    dict(mode="max", input_choice=RANDOM, kernel_size=3, stride=2, padding=2, row=0, col=0),
    dict(mode="avg", input_choice=ARANGE, kernel_size=4, stride=4, padding=0, row=0, col=0),  # 1×1
    dict(mode="max", input_choice=RANDOM, kernel_size=6, stride=6, padding=0, row=0, col=0),  # 1×1
    dict(mode="avg", input_choice=RANDOM, kernel_size=4, stride=3, padding=2, row=1, col=2),
    dict(mode="max", input_choice=ARANGE, kernel_size=3, stride=2, padding=1, row=1, col=0),
]


def random_cases(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [dict(mode=rng.choice(["max", "avg"]), input_choice=rng.choice([ARANGE, RANDOM]),
                 kernel_size=rng.randint(1, 6), stride=rng.randint(1, 6),
                 padding=rng.randint(0, 2), row=rng.randint(0, 5), col=rng.randint(0, 5))
            for _ in range(count)]


def test_settings_made_with_the_keyboard_match_python_and_torch(watched, tmp_path):
    # Start values past the sliders widen them (window and stride up to 6), as in Python.
    widget = PoolingExplorer(kernel_size=6, stride=6, padding=0)
    watched.goto(explorer_page(tmp_path, widget, "Pooling"))
    check_against_python_and_torch(watched, dict(mode="max", input_choice=RANDOM, kernel_size=6,
                                                 stride=6, padding=0, row=0, col=0))
    maxima = watched.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
      '.cnnx-pool input[type=range]')].slice(0, 3).map((i) => [i.name, Number(i.max)]))""")
    assert maxima == {c["name"]: c["max"] for c in widget.controls} == dict(
        kernel_size=6, stride=6, padding=2)
    for settings in EDGE_CASES + random_cases(10, seed=21):
        set_all(watched, settings)
        check_against_python_and_torch(watched, settings)
    assert watched.problems == []


def test_the_error_words_are_pythons_and_the_controls_stay_usable(watched, tmp_path):
    watched.goto(explorer_page(tmp_path, PoolingExplorer(kernel_size=2, padding=0), "Pooling"))
    set_slider(watched, ROOT, "padding", 2)
    got = shown(watched)
    assert got["status"] == "padding (2, 2) must be at most half of pool_size (2, 2)"
    assert got["message"] == got["status"] and not got["pictures"]
    set_slider(watched, ROOT, "kernel_size", 4)  # half of 4 is 2: PyTorch allows it again
    got = shown(watched)
    assert got["pictures"] and got["status"].startswith("output size ⌊(6 + 2·2 − 4)/2⌋ + 1")
    assert watched.problems == []


def test_keyboard_only_with_labels_and_a_polite_status(watched, tmp_path):
    watched.goto(explorer_page(tmp_path, PoolingExplorer(), "Pooling"))
    order = []
    for _ in range(7):
        watched.keyboard.press("Tab")
        order.append(watched.evaluate(
            "() => [document.activeElement.name, document.activeElement.labels[0].textContent]"))
    assert order == [["mode", "pool"], ["input_choice", "input"]] + [
        [c.name, c.label] for c in PoolingExplorer.CONTROLS] + [
        ["row", "output row"], ["col", "output col"]]
    status = watched.locator(".cnnx-pool [role=status]")
    assert status.get_attribute("aria-live") == "polite"
    before = status.inner_text()
    for _ in range(6):  # from the output col back to the mode menu
        watched.keyboard.press("Shift+Tab")
    assert watched.evaluate("() => document.activeElement.name") == "mode"
    watched.keyboard.press("ArrowDown")  # avg
    assert status.inner_text() != before and "AvgPool2d" in status.inner_text()
    for svg in watched.locator(".cnnx-pool svg").all():
        label = svg.get_attribute("aria-label")
        assert svg.get_attribute("role") == "img" and len(label) > 10
        assert svg.locator("title").text_content() == label
    assert watched.problems == []


def test_clicking_an_output_cell_picks_it(watched, tmp_path):
    watched.goto(explorer_page(tmp_path, PoolingExplorer(kernel_size=2, stride=1), "Pooling"))
    watched.locator('.cnnx-output g[data-row="3"][data-col="4"]').click()
    got = shown(watched)
    assert (got["values"]["row"], got["values"]["col"]) == (3, 4)
    check_against_python_and_torch(watched, dict(mode="max", input_choice=RANDOM, kernel_size=2,
                                                 stride=1, padding=0, row=3, col=4))
    assert watched.problems == []


def test_readable_on_a_phone(browser, tmp_path, artifacts):
    page = phone_page(browser)
    # The largest picture the sliders allow: 6×6 digits, window 4, padding 2 (10×10 cells).
    page.goto(explorer_page(tmp_path, PoolingExplorer(mode="avg", kernel_size=4, stride=1,
                                                      padding=2), "Pooling"))
    check_readable_on_a_phone(page, ROOT)
    page.screenshot(path=str(artifacts / "web-explorer-pooling-phone.png"), full_page=True)
    page.context.close()


def test_in_lab_it_draws_pythons_numbers_without_computing(watched, tmp_path):
    """JupyterLab's path: anywidget's module (the class's _esm) renders a synced model whose
    values all come from Python; compute() is never called, so what it shows is Python's."""
    widget = PoolingExplorer(mode="max", input_name=ARANGE, kernel_size=3, stride=2, padding=1)
    widget.row, widget.col = 1, 0
    watched.goto(lab_page(tmp_path, widget))
    watched.locator(".cnnx-pool [role=status]").wait_for()
    got = shown(watched)
    assert got["status"] == widget.status_text and got["header"] == widget.header
    assert got["captions"] == widget.titles
    assert [c["text"] for c in got["output"]] == [format_value(v)
                                                  for row in widget.output for v in row]
    assert [(c["row"], c["col"]) for c in got["input"] if c["role"] == "source"] == [
        tuple(widget.source)]
    watched.locator('.cnnx-output g[data-row="0"][data-col="1"]').click()
    assert watched.evaluate("() => window.sets") == [["row", 0], ["col", 1]]
    assert watched.problems == []
