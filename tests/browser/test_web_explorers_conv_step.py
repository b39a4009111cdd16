"""The convolution step-through's front-end on a page opened from file://, computing in the
browser.

As tests/browser/test_web_explorers_pooling.py does for pooling: a tiny page in tmp_path loads
cnnlib/web/cnn-ops.js, cnn-host.js and explorers/conv-step.js by file:// script tags and
mounts the explorer with the state Python gives (``ConvStepExplorer.page_state()``, X and K
included); settings are made through the page's real controls with the keyboard, and what
the page shows is compared with Python's explorer and with torch.nn.functional.conv2d.
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
    set_slider,
)

from cnnlib.viz.cell_grid import format_value
from cnnlib.widgets.conv_steps import NOTES_K, NOTES_X, ConvStepExplorer

pytestmark = pytest.mark.browser

ROOT = ".cnnx-step"


def shown(page) -> dict:
    """What the page shows: texts, controls, buttons and each picture's cells."""
    return page.evaluate("""() => {
      const root = document.querySelector('.cnnx-step');
      const panels = root.querySelector('.cnnx-panels');
      const cells = (sel) => [...root.querySelectorAll(sel + ' g[data-row]')].map((g) => ({
        row: Number(g.dataset.row), col: Number(g.dataset.col), role: g.dataset.role || '',
        current: g.dataset.current === 'true',
        value: g.dataset.value === undefined ? null : Number(g.dataset.value),
        text: g.querySelector('text').textContent}));
      const running = root.querySelector('.cnnx-running');
      return {
        status: root.querySelector('[role=status]').innerText.trim(),
        message: root.querySelector('.cnnx-message').hidden ? '' :
          root.querySelector('.cnnx-message').textContent,
        pictures: !panels.hidden,
        header: root.querySelector('.cnnx-header').textContent,
        note: root.querySelector('.cnnx-note').textContent,
        captions: [...root.querySelectorAll('figcaption')].map((c) => c.textContent),
        values: Object.fromEntries([...root.querySelectorAll('input')].map(
          (i) => [i.name, Number(i.value)])),
        stepMax: Number(root.querySelector('input[name=step]').max),
        stepText: root.querySelector('input[name=step]').getAttribute('aria-valuetext'),
        play: root.querySelector('button[name=play]').textContent,
        running: panels.hidden ? null : JSON.parse(running.dataset.values),
        runningText: running.textContent,
        input: panels.hidden ? [] : cells('.cnnx-input'),
        products: panels.hidden ? [] : cells('.cnnx-products'),
        output: panels.hidden ? [] : cells('.cnnx-output'),
      };
    }""")


def set_all(page, settings: dict) -> None:
    """Padding, stride, then the step, through the page's sliders, with the keyboard."""
    for name in ("padding", "stride"):
        set_slider(page, ROOT, name, settings[name])
    got = shown(page)
    if got["pictures"] and got["stepMax"] > 0:
        set_slider(page, ROOT, "step", settings["step"])


def check_against_python_and_torch(page, X: torch.Tensor, K: torch.Tensor,
                                   settings: dict) -> None:
    got = shown(page)
    python = ConvStepExplorer(X, K, padding=2)
    for name in ("padding", "stride", "step"):
        setattr(python, name, settings[name])
    if python.error:
        assert got["status"] == got["message"] == python.error and not got["pictures"]
        return
    p, s = settings["padding"], settings["stride"]
    Y = F.conv2d(X[None, None], K[None, None], padding=p, stride=s)[0, 0]
    step = min(settings["step"], Y.numel() - 1)  # a step past the output: its last cell
    i, j = divmod(step, Y.shape[1])
    assert got["values"]["step"] == step and got["stepMax"] == Y.numel() - 1
    assert got["stepText"] == f"step {step + 1} of {Y.numel()}"
    assert got["status"] == python.status_text and got["header"] == python.header
    assert got["captions"] == python.titles
    # The output so far, against F.conv2d to 1e-4, and its labels as Python writes them.
    done = [c for c in got["output"] if c["value"] is not None]
    assert [(c["row"], c["col"]) for c in done] == [divmod(t, Y.shape[1])
                                                    for t in range(step + 1)]
    torch.testing.assert_close(torch.tensor([c["value"] for c in done], dtype=Y.dtype),
                               Y.flatten()[: step + 1], rtol=0, atol=1e-4)
    assert [c["text"] for c in done] == [format_value(v) for v in Y.flatten()[: step + 1]]
    assert all(c["text"] == "" for c in got["output"] if c["value"] is None)
    assert [(c["row"], c["col"]) for c in got["output"] if c["current"]] == [(i, j)]
    # The window on the padded input, its products and their running sum.
    kh, kw = K.shape
    padded = F.pad(X, (p, p, p, p))
    assert [c["text"] for c in got["input"]] == [format_value(v)
                                                  for v in padded.flatten().tolist()]
    window = {(i * s + u, j * s + v) for u in range(kh) for v in range(kw)}
    assert {(c["row"], c["col"]) for c in got["input"] if c["role"] == "window"} == window
    products = padded[i * s: i * s + kh, j * s: j * s + kw] * K
    torch.testing.assert_close(torch.tensor([c["value"] for c in got["products"]], dtype=Y.dtype),
                               products.flatten(), rtol=0, atol=1e-4)
    torch.testing.assert_close(torch.tensor(got["running"], dtype=Y.dtype),
                               torch.cumsum(products.flatten(), 0), rtol=0, atol=1e-4)
    assert abs(got["running"][-1] - Y[i, j].item()) <= 1e-4


def integer_matrix(rng: random.Random, h: int, w: int) -> torch.Tensor:
    return torch.tensor([[float(rng.randint(-5, 5)) for _ in range(w)] for _ in range(h)])


EDGE_CASES = [
    dict(padding=1, stride=2, step=3),  # the chapter's setting
    dict(padding=0, stride=1, step=8),  # zero padding
    dict(padding=0, stride=3, step=5),  # stride larger than the kernel
    dict(padding=2, stride=3, step=8),
    dict(padding=2, stride=1, step=40),  # a step past the slider's end stops at its end
]


def test_settings_made_with_the_keyboard_match_python_and_torch(watched, tmp_path):
    rng = random.Random(21)
    X, K = integer_matrix(rng, 4, 5), integer_matrix(rng, 2, 2)
    watched.goto(explorer_page(tmp_path, ConvStepExplorer(X, K), "Step through"))
    cases = EDGE_CASES + [dict(padding=rng.randint(0, 2), stride=rng.randint(1, 3),
                               step=rng.randint(0, 20)) for _ in range(8)]
    for settings in cases:
        set_all(watched, settings)
        check_against_python_and_torch(watched, X, K, settings)
    assert watched.problems == []


def test_a_kernel_larger_than_the_input_is_pythons_message_and_padding_fixes_it(watched,
                                                                               tmp_path):
    X, K = torch.arange(4.0).reshape(2, 2), torch.ones(3, 3)
    watched.goto(explorer_page(tmp_path, ConvStepExplorer(X, K, padding=1), "Step through"))
    set_slider(watched, ROOT, "padding", 0)
    check_against_python_and_torch(watched, X, K, dict(padding=0, stride=1, step=0))
    got = shown(watched)
    assert got["status"].startswith("kernel K.shape=(3, 3) is larger than input X.shape=(2, 2)")
    for settings in (dict(padding=1, stride=1, step=3), dict(padding=2, stride=2, step=1)):
        set_all(watched, settings)
        check_against_python_and_torch(watched, X, K, settings)
    assert watched.problems == []


def test_the_step_slider_runs_over_this_outputs_steps_only(watched, tmp_path):
    """Issue 22: at stride 2 the page's step slider ran 0-15 where there are 4 steps, and
    snapped back. Its range is the output's cells now, and its end is the last step."""
    watched.goto(explorer_page(tmp_path, ConvStepExplorer(NOTES_X, NOTES_K, padding=1,
                                                          stride=1), "Step through"))
    Y = F.conv2d(NOTES_X[None, None], NOTES_K[None, None], padding=1, stride=2)
    set_slider(watched, ROOT, "stride", 2)
    slider = watched.locator('.cnnx-step input[name="step"]')
    assert int(slider.get_attribute("max")) == Y.numel() - 1
    slider.focus()
    watched.keyboard.press("End")
    got = shown(watched)
    assert got["values"]["step"] == Y.numel() - 1 and got["stepText"] == "step 4 of 4"
    assert got["status"].startswith(f"step {Y.numel()} of {Y.numel()}:")
    watched.keyboard.press("ArrowRight")  # past the end: stays on the last step
    assert shown(watched)["values"]["step"] == Y.numel() - 1
    assert watched.problems == []


def test_play_at_the_last_step_restarts_and_says_so(watched, tmp_path):
    """Issue 22: ▶ at the last step did nothing. It starts again from step 1 now, says so,
    plays to the end and stops there, saying that too."""
    # A second per step: the page is read before the first tick even on a busy machine.
    widget = ConvStepExplorer(NOTES_X, NOTES_K, padding=1, stride=2, step=3, interval=1000)
    watched.goto(explorer_page(tmp_path, widget, "Step through"))
    play = watched.locator('.cnnx-step button[name="play"]')
    assert play.evaluate("(b) => b.tagName") == "BUTTON"
    play.focus()
    watched.keyboard.press("Enter")
    got = shown(watched)
    assert got["values"]["step"] == 0 and got["note"] == "Restarted from step 1 of 4."
    assert "Pause" in got["play"]
    watched.wait_for_function(
        "() => document.querySelector('.cnnx-step .cnnx-note').textContent"
        ".startsWith('Stopped at the last step')", timeout=15000)
    got = shown(watched)
    assert got["values"]["step"] == 3 and "Play" in got["play"]
    assert got["note"] == "Stopped at the last step, 4 of 4; press Play to start again from step 1."
    check_against_python_and_torch(watched, NOTES_X, NOTES_K, dict(padding=1, stride=2, step=3))
    assert watched.problems == []


def test_pause_and_the_step_buttons(watched, tmp_path):
    widget = ConvStepExplorer(NOTES_X, NOTES_K, padding=2, stride=1, interval=100)
    watched.goto(explorer_page(tmp_path, widget, "Step through"))
    buttons = {name: watched.locator(f'.cnnx-step button[name="{name}"]')
               for name in ("back", "play", "next")}
    buttons["play"].focus()
    watched.keyboard.press("Space")
    watched.wait_for_function("() => Number(document.querySelector("
                              "'.cnnx-step input[name=step]').value) >= 2", timeout=5000)
    watched.keyboard.press("Space")  # pause
    got = shown(watched)
    paused = got["values"]["step"]
    assert got["note"] == f"Paused at step {paused + 1} of {widget.num_steps}."
    watched.wait_for_timeout(350)  # three intervals: nothing moves while paused
    assert shown(watched)["values"]["step"] == paused
    buttons["next"].focus()
    watched.keyboard.press("Enter")
    assert shown(watched)["values"]["step"] == paused + 1
    buttons["back"].focus()
    watched.keyboard.press("Enter")
    watched.keyboard.press("Enter")
    check_against_python_and_torch(watched, NOTES_X, NOTES_K,
                                   dict(padding=2, stride=1, step=paused - 1))
    # At step 0 Back does nothing and says it cannot (aria-disabled), keeping the focus.
    set_slider(watched, ROOT, "step", 0)
    buttons["back"].focus()
    watched.keyboard.press("Enter")
    assert shown(watched)["values"]["step"] == 0
    assert buttons["back"].get_attribute("aria-disabled") == "true"
    assert watched.evaluate("() => document.activeElement.name") == "back"
    assert watched.problems == []


def test_keyboard_only_with_labels_and_a_polite_status(watched, tmp_path):
    watched.goto(explorer_page(tmp_path, ConvStepExplorer(NOTES_X, NOTES_K, padding=1,
                                                          stride=2), "Step through"))
    order = []
    for _ in range(6):
        watched.keyboard.press("Tab")
        order.append(watched.evaluate("""() => {
          const e = document.activeElement;
          return [e.tagName, e.name, e.labels && e.labels.length ? e.labels[0].textContent
                  : e.textContent];
        }"""))
    assert order == [["BUTTON", "back", "◀ Back"], ["BUTTON", "play", "▶ Play"],
                     ["BUTTON", "next", "Next ▶"], ["INPUT", "step", "step"]] + [
        ["INPUT", c.name, c.label] for c in ConvStepExplorer.CONTROLS]
    # A screen reader names each button by its word alone (the symbols are aria-hidden).
    for word in ("Back", "Play", "Next"):
        assert watched.get_by_role("button", name=word, exact=True).count() == 1
    assert watched.get_by_role("slider", name="step", exact=True).get_attribute(
        "aria-valuetext") == "step 1 of 4"
    status = watched.locator(".cnnx-step [role=status]")
    assert status.get_attribute("aria-live") == "polite"
    assert watched.locator(".cnnx-step .cnnx-note").get_attribute("aria-live") == "polite"
    before = status.inner_text()
    watched.keyboard.press("Shift+Tab")
    watched.keyboard.press("ArrowLeft")  # padding 1 -> 0
    assert status.inner_text() != before and "step 1 of 1" in status.inner_text()
    for svg in watched.locator(".cnnx-step svg").all():
        label = svg.get_attribute("aria-label")
        assert svg.get_attribute("role") == "img" and len(label) > 10
        assert svg.locator("title").text_content() == label
    assert watched.problems == []


@pytest.mark.parametrize("motion", ["reduce", "no-preference"])
def test_the_only_animation_honours_reduced_motion(watched, tmp_path, motion):
    watched.emulate_media(reduced_motion=motion)
    watched.goto(explorer_page(tmp_path, ConvStepExplorer(padding=1, stride=1),
                               "Step through"))
    watched.locator('.cnnx-step button[name="next"]').click()
    names = watched.evaluate("""() => [...document.querySelectorAll('.cnnx-step *')]
      .map((e) => getComputedStyle(e).animationName).filter((n) => n !== 'none')""")
    transitions = watched.evaluate("""() => [...document.querySelectorAll('.cnnx-step *')]
      .filter((e) => parseFloat(getComputedStyle(e).transitionDuration) > 0).length""")
    assert transitions == 0
    assert names == ([] if motion == "reduce" else ["cnnx-step-in"])
    assert watched.problems == []


def test_readable_on_a_phone(browser, tmp_path, artifacts):
    page = phone_page(browser)
    # Exercise 4's input at the largest padding: the widest picture the lesson asks for.
    widget = ConvStepExplorer(torch.arange(16.0).reshape(4, 4), torch.ones(2, 2), padding=2,
                              stride=1, step=5)
    page.goto(explorer_page(tmp_path, widget, "Step through"))
    check_readable_on_a_phone(page, ROOT)
    page.screenshot(path=str(artifacts / "web-explorer-conv-step-phone.png"), full_page=True)
    page.context.close()


def test_in_lab_it_draws_pythons_numbers_without_computing(watched, tmp_path):
    """JupyterLab's path: anywidget's module (the class's _esm) renders a synced model whose
    values all come from Python; compute() is never called, so what it shows is Python's."""
    widget = ConvStepExplorer(NOTES_X, NOTES_K, padding=1, stride=2, step=2)
    watched.goto(lab_page(tmp_path, widget))
    watched.locator(".cnnx-step [role=status]").wait_for()
    got = shown(watched)
    assert got["status"] == widget.status_text and got["header"] == widget.header
    assert got["captions"] == widget.titles and got["running"] == widget.running
    assert [c["value"] for c in got["output"] if c["value"] is not None] == [
        v for line in widget.output for v in line][: widget.step + 1]
    assert got["stepMax"] == widget.num_steps - 1
    watched.locator('.cnnx-step button[name="next"]').click()
    watched.locator('.cnnx-step button[name="back"]').click()
    assert watched.evaluate("() => window.sets") == [["step", 3], ["step", 1]]
    assert watched.problems == []
