"""The receptive-field explorer's front-end on a page opened from file://, computing in the
browser.

As tests/browser/test_web_explorers_pooling.py does for pooling: a tiny page in tmp_path loads
cnnlib/web/cnn-ops.js, cnn-host.js and explorers/receptive-field.js by file:// script tags and
mounts the explorer with the state Python gives (``ReceptiveFieldExplorer.page_state()``, the
stacks included); settings are made through the page's real controls with the keyboard, and
what the page shows is compared with Python's explorer and with autograd on real PyTorch
layers of the same geometry (the pixels that get a gradient from the unit).
"""

from __future__ import annotations

import random

import pytest
import torch
from live_page import (
    check_readable_on_a_phone,
    explorer_page,
    lab_page,
    phone_page,
    set_menu,
    set_slider,
)
from torch import nn

from cnnlib.ops import layer_output_sizes
from cnnlib.widgets.receptive_field import STACKS, ReceptiveFieldExplorer

pytestmark = pytest.mark.browser

ROOT = ".cnnx-rf"
UNPADDED, PADDED = list(STACKS)


def shown(page) -> dict:
    """What the page shows: status, captions, controls, and each map's orange cells."""
    return page.evaluate("""() => {
      const root = document.querySelector('.cnnx-rf');
      const panels = root.querySelector('.cnnx-panels');
      const maps = [...root.querySelectorAll('figure[data-map]')].map((f) => {
        const [, , w, h] = f.querySelector('svg').getAttribute('viewBox').split(' ');
        const marked = (attr) => [...f.querySelectorAll(`rect[${attr}]`)].map(
          (r) => [Number(r.dataset.row), Number(r.dataset.col)]);
        return {size: [Number(h) / 10, Number(w) / 10], region: marked('data-region'),
                unit: marked('data-unit'), caption: f.querySelector('figcaption').textContent,
                label: f.querySelector('svg').getAttribute('aria-label')};
      });
      const control = (name) => root.querySelector(`[name=${name}]`);
      return {
        status: root.querySelector('[role=status]').innerText.trim(),
        message: root.querySelector('.cnnx-message').hidden ? '' :
          root.querySelector('.cnnx-message').textContent,
        pictures: !panels.hidden,
        values: Object.fromEntries([...root.querySelectorAll('input, select')].map(
          (i) => [i.name, i.tagName === 'SELECT' && i.name === 'stack' ? i.value
                  : Number(i.value)])),
        maxima: {row: Number(control('row').max), col: Number(control('col').max)},
        layers: [...control('layer').options].map((o) => o.textContent),
        maps,
      };
    }""")


def gradient_box(stack: str, n: int, layer: int, row: int, col: int) -> set[tuple[int, int]]:
    """The input pixels that get a gradient from the unit (positive weights, average pooling,
    so no gradient is zero by accident), as a set of (row, col)."""
    modules = []
    for spec in STACKS[stack][: layer + 1]:
        if spec.name.startswith("pool"):
            modules.append(nn.AvgPool2d(spec.kernel_size, spec.stride, spec.padding))
        else:
            conv = nn.Conv2d(1, 1, spec.kernel_size, spec.stride, spec.padding, bias=False)
            nn.init.constant_(conv.weight, 1.0)
            modules.append(conv)
    X = torch.ones((1, 1, n, n), requires_grad=True)
    nn.Sequential(*modules)(X)[0, 0, row, col].backward()
    return {tuple(rc) for rc in torch.nonzero(X.grad[0, 0]).tolist()}


def set_all(page, settings: dict) -> None:
    """Make settings through the page's controls, as a reader with a keyboard would."""
    set_menu(page, ROOT, "stack", settings["stack"])
    set_slider(page, ROOT, "input_size", settings["input_size"])
    layers = page.locator(f'{ROOT} select[name="layer"]')
    layers.focus()
    page.keyboard.press("Home")
    for _ in range(settings["layer"]):
        page.keyboard.press("ArrowDown")
    for name in ("row", "col"):
        control = page.locator(f'{ROOT} input[name="{name}"]')
        if shown(page)["pictures"] and control.is_enabled():
            set_slider(page, ROOT, name, settings[name])


def check_against_python_and_autograd(page, settings: dict) -> None:
    got = shown(page)
    python = ReceptiveFieldExplorer()
    for name in ("stack", "input_size", "layer", "row", "col"):
        setattr(python, name, settings[name])
    if python.error:
        assert got["status"] == got["message"] == python.error and not got["pictures"]
        return
    n, layer = settings["input_size"], settings["layer"]
    sizes = layer_output_sizes(list(STACKS[settings["stack"]]), n)
    out_h, out_w = sizes[layer + 1]
    row, col = min(settings["row"], out_h - 1), min(settings["col"], out_w - 1)
    assert (got["values"]["row"], got["values"]["col"]) == (row, col)
    assert got["maxima"] == {"row": out_h - 1, "col": out_w - 1}  # issue 22: the range
    assert got["status"] == python.status_text
    assert [m["size"] for m in got["maps"]] == [list(size) for size in sizes]
    assert [m["caption"] for m in got["maps"]] == python.titles
    # The region in the input is exactly the box of pixels autograd reaches (these stacks
    # have no dilation and no stride above the kernel: no pixel inside is skipped).
    assert set(map(tuple, got["maps"][0]["region"])) == gradient_box(
        settings["stack"], n, layer, row, col)
    for m, (rows, cols) in enumerate(python.regions):
        assert sorted(map(tuple, got["maps"][m]["region"])) == [
            (r, c) for r in range(*rows) for c in range(*cols)], m
    assert got["maps"][layer + 1]["unit"] == [[row, col]]
    for later in got["maps"][layer + 2:]:
        assert later["region"] == [] and later["unit"] == []


EDGE_CASES = [
    dict(stack=UNPADDED, input_size=12, layer=3, row=1, col=0),  # the chapter's
    dict(stack=UNPADDED, input_size=12, layer=3, row=2, col=2),  # issue 22: no row 2 here
    dict(stack=UNPADDED, input_size=12, layer=1, row=2, col=7),  # but here there is
    dict(stack=UNPADDED, input_size=7, layer=3, row=0, col=0),  # conv3 does not fit
    dict(stack=PADDED, input_size=7, layer=3, row=2, col=1),  # padding makes it fit
    dict(stack=UNPADDED, input_size=1, layer=0, row=0, col=0),  # kernel larger than input
    dict(stack=PADDED, input_size=1, layer=3, row=0, col=0),  # 1x1 everywhere
    dict(stack=PADDED, input_size=16, layer=0, row=0, col=15),  # a field cut by padding
    dict(stack=UNPADDED, input_size=16, layer=2, row=9, col=9),  # past the output: the last
]


def random_cases(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [dict(stack=rng.choice(list(STACKS)), input_size=rng.randint(1, 16),
                 layer=rng.randint(0, 3), row=rng.randint(0, 12), col=rng.randint(0, 12))
            for _ in range(count)]


def test_settings_made_with_the_keyboard_match_python_and_autograd(watched, tmp_path):
    watched.goto(explorer_page(tmp_path, ReceptiveFieldExplorer(input_size=12),
                               "Receptive field"))
    check_against_python_and_autograd(watched, dict(stack=UNPADDED, input_size=12, layer=3,
                                                    row=0, col=0))
    for settings in EDGE_CASES + random_cases(8, seed=21):
        set_all(watched, settings)
        check_against_python_and_autograd(watched, settings)
    assert watched.problems == []


def test_row_2_is_there_where_the_output_has_it_and_only_there(watched, tmp_path):
    """Issue 22: the page offered unit row 2 for conv3's 2×2 output and snapped it to 1.
    Now each slider's range is the chosen layer's output."""
    watched.goto(explorer_page(tmp_path, ReceptiveFieldExplorer(input_size=12),
                               "Receptive field"))
    sizes = layer_output_sizes(list(STACKS[UNPADDED]), 12)
    for layer in range(len(sizes) - 1):
        set_all(watched, dict(stack=UNPADDED, input_size=12, layer=layer, row=2, col=0))
        got = shown(watched)
        out_h = sizes[layer + 1][0]
        assert got["maxima"]["row"] == out_h - 1
        assert got["values"]["row"] == min(2, out_h - 1)
        watched.locator(f'{ROOT} input[name="row"]').focus()
        watched.keyboard.press("End")
        assert shown(watched)["values"]["row"] == out_h - 1  # the end is a real unit
        check_against_python_and_autograd(watched, dict(stack=UNPADDED, input_size=12,
                                                        layer=layer, row=out_h - 1, col=0))
    assert watched.problems == []


def test_clicking_a_unit_picks_it(watched, tmp_path):
    watched.goto(explorer_page(tmp_path, ReceptiveFieldExplorer(input_size=12, layer=1),
                               "Receptive field"))
    watched.locator(f'{ROOT} .cnnx-unit-map rect[data-row="5"][data-col="2"]').click()
    check_against_python_and_autograd(watched, dict(stack=UNPADDED, input_size=12, layer=1,
                                                    row=5, col=2))
    assert watched.problems == []


def test_keyboard_only_with_labels_and_a_polite_status(watched, tmp_path):
    watched.goto(explorer_page(tmp_path, ReceptiveFieldExplorer(input_size=12),
                               "Receptive field"))
    order = []
    for _ in range(5):
        watched.keyboard.press("Tab")
        order.append(watched.evaluate(
            "() => [document.activeElement.name, document.activeElement.labels[0].textContent]"))
    assert order == [["stack", "stack"], ["layer", "unit of"], ["input_size", "input n"],
                     ["row", "unit row"], ["col", "unit col"]]
    status = watched.locator(f"{ROOT} [role=status]")
    assert status.get_attribute("aria-live") == "polite"
    before = status.inner_text()
    watched.keyboard.press("Shift+Tab")  # back to the unit row
    watched.keyboard.press("ArrowRight")
    assert status.inner_text() != before and "conv3 unit (1, 0)" in status.inner_text()
    assert shown(watched)["layers"] == [spec.name for spec in STACKS[UNPADDED]]
    for svg in watched.locator(f"{ROOT} svg").all():
        label = svg.get_attribute("aria-label")
        assert svg.get_attribute("role") == "img" and len(label) > 10
        assert svg.locator("title").text_content() == label
    assert watched.problems == []


def test_nothing_moves_on_its_own(watched, tmp_path):
    """No animation or transition anywhere, so reduced motion has nothing to turn off."""
    watched.emulate_media(reduced_motion="no-preference")
    watched.goto(explorer_page(tmp_path, ReceptiveFieldExplorer(input_size=12),
                               "Receptive field"))
    set_slider(watched, ROOT, "row", 1)
    moving = watched.evaluate("""() => [...document.querySelectorAll('.cnnx-rf *')].filter(
      (e) => getComputedStyle(e).animationName !== 'none'
             || parseFloat(getComputedStyle(e).transitionDuration) > 0).length""")
    assert moving == 0


def test_readable_on_a_phone(browser, tmp_path, artifacts):
    page = phone_page(browser)
    # The largest input the slider offers, padded stack: five 16×16 or 8×8 maps.
    page.goto(explorer_page(tmp_path, ReceptiveFieldExplorer(stack=PADDED, input_size=16,
                                                             layer=1), "Receptive field"))
    check_readable_on_a_phone(page, ROOT)
    page.screenshot(path=str(artifacts / "web-explorer-receptive-field-phone.png"),
                    full_page=True)
    page.context.close()


def test_in_lab_it_draws_pythons_regions_without_computing(watched, tmp_path):
    """JupyterLab's path: anywidget's module (the class's _esm) renders a synced model whose
    values all come from Python; compute() is never called, so what it shows is Python's."""
    widget = ReceptiveFieldExplorer(stack=PADDED, input_size=9, layer=2, row=3, col=1)
    watched.goto(lab_page(tmp_path, widget))
    watched.locator(f"{ROOT} [role=status]").wait_for()
    got = shown(watched)
    assert got["status"] == widget.status_text
    assert [m["caption"] for m in got["maps"]] == widget.titles
    for m, (rows, cols) in enumerate(widget.regions):
        assert sorted(map(tuple, got["maps"][m]["region"])) == [
            (r, c) for r in range(*rows) for c in range(*cols)]
    watched.locator(f'{ROOT} .cnnx-unit-map rect[data-row="0"][data-col="2"]').click()
    assert watched.evaluate("() => window.sets") == [["row", 0], ["col", 2]]
    assert watched.problems == []
