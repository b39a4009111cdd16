"""The gradient-flow explorer's front-end (8.6) on a page opened from file://.

A tiny page in tmp_path loads cnnlib/web/cnn-host.js and explorers/grad-flow.js by file://
script tags and mounts the explorer with the state Python gives
(``GradientFlowExplorer.page_state()``, the recorded table included). Settings are made
through the page's real controls with the keyboard, and what the page shows (status line,
the numbers each curve draws) is compared with Python's explorer, which computes them with
PyTorch.
"""

from __future__ import annotations

import random

import pytest
from live_page import check_readable_on_a_phone, explorer_page, lab_page, phone_page, set_menu

from cnnlib.explain import grad_flow as gf
from cnnlib.widgets.grad_flow import GradientFlowExplorer

pytestmark = pytest.mark.browser

ROOT = ".cnnx-gflow"


@pytest.fixture(scope="module")
def chapters() -> GradientFlowExplorer:
    return GradientFlowExplorer()  # as the chapter builds it; PyTorch computes each setting once


@pytest.fixture
def python(chapters) -> GradientFlowExplorer:
    """The chapter's explorer at its start setting (a test before may have moved it)."""
    chapters.depth, chapters.batch_norm, chapters.init, chapters.seed = 56, True, "kaiming", 0
    return chapters


def shown(page) -> dict:
    """What the page shows: status lines, controls, and each panel's curves and zeros."""
    return page.evaluate("""() => {
      const root = document.querySelector('.cnnx-gflow');
      const panels = root.querySelector('.cnnx-panels');
      const curves = (kind) => Object.fromEntries([...root.querySelectorAll(
        `.cnnx-${kind} path.gf-line`)].map((p) => [p.dataset.net,
          p.dataset.values.split(' ').map((v) => v === 'null' ? null : Number(v))]));
      const zeros = (kind) => [...root.querySelectorAll(`.cnnx-${kind} path.gf-zero`)].map(
        (p) => [p.dataset.net, Number(p.dataset.block)]);
      return {
        status: root.querySelector('[role=status]').innerText.trim(),
        pictures: !panels.hidden,
        depth: Number(root.querySelector('input[name=depth_index] + output').textContent),
        batch_norm: root.querySelector('input[name=batch_norm]').checked,
        init: root.querySelector('select[name=init]').value,
        seed: Number(root.querySelector('input[name=seed]').value),
        weight: curves('weight'), output: curves('output'),
        weight_zeros: zeros('weight'),
      };
    }""")


def set_index_slider(page, name: str, index: int) -> None:
    """Move the range input ``name`` to position index with the keyboard only."""
    control = page.locator(f'{ROOT} input[name="{name}"]')
    control.focus()
    page.keyboard.press("Home")
    for _ in range(index):
        page.keyboard.press("ArrowRight")


def set_all(page, depth: int, batch_norm: bool, init: str, seed: int) -> None:
    """Make a setting through the page's controls, as a reader with a keyboard would."""
    set_index_slider(page, "depth_index", list(gf.DEPTHS).index(depth))
    box = page.locator(f'{ROOT} input[name="batch_norm"]')
    if box.is_checked() != batch_norm:
        box.focus()
        page.keyboard.press("Space")
    set_menu(page, ROOT, "init", init)
    set_index_slider(page, "seed", seed)


def check_against_python(page, python: GradientFlowExplorer, setting) -> None:
    depth, batch_norm, init, seed = setting
    python.depth, python.batch_norm, python.init, python.seed = setting
    got = shown(page)
    assert (got["depth"], got["batch_norm"], got["init"], got["seed"]) == setting
    assert got["pictures"] and got["status"] == python.status_text
    # The numbers the curves draw: the recorded float32 values, which equal PyTorch's now
    # to float32 rounding (tests/test_widgets_live_grad_flow.py holds the table to PyTorch).
    for kind, field in (("weight", "weight_norms"), ("output", "output_norms")):
        for name in ("plain", "residual"):
            want = getattr(getattr(python, name), field).tolist()
            assert got[kind][name] == pytest.approx(want, rel=1e-5, abs=0), (kind, name)
    zeros = [[name, i + 1] for name in ("plain", "residual")
             for i, v in enumerate(getattr(python, name).weight_norms.tolist()) if v == 0]
    assert got["weight_zeros"] == zeros


def test_settings_made_with_the_keyboard_match_python(watched, tmp_path, python):
    watched.goto(explorer_page(tmp_path, python, "Gradient flow"))
    check_against_python(watched, python, (56, True, "kaiming", 0))
    rng = random.Random()
    settings = [(56, False, "default", 0), (4, True, "default", 9)] + [
        (rng.choice(gf.DEPTHS), rng.random() < 0.5, rng.choice(gf.INITS), rng.randint(0, 9))
        for _ in range(3)]
    for setting in settings:
        set_all(watched, *setting)
        check_against_python(watched, python, setting)
    assert watched.problems == []


def test_keyboard_only_with_labels_and_a_polite_status(watched, tmp_path, python):
    watched.goto(explorer_page(tmp_path, python, "Gradient flow"))
    order = []
    for _ in range(4):
        watched.keyboard.press("Tab")
        order.append(watched.evaluate(
            "() => [document.activeElement.name, document.activeElement.labels[0].textContent]"))
    assert order == [["depth_index", "depth"], ["batch_norm", "batch norm"], ["init", "init"],
                     ["seed", "seed"]]
    status = watched.locator(f"{ROOT} [role=status]")
    assert status.get_attribute("aria-live") == "polite"
    before = status.inner_text()
    watched.keyboard.press("ArrowRight")  # seed 1
    assert status.inner_text() != before and "(seed 1)" in status.inner_text()
    watched.keyboard.press("Shift+Tab")
    watched.keyboard.press("Shift+Tab")
    watched.keyboard.press("Space")  # batch norm off
    assert watched.locator(f'{ROOT} input[name="batch_norm"]').is_checked() is False
    depth = watched.locator(f'{ROOT} input[name="depth_index"]')
    assert depth.get_attribute("aria-valuetext") == "56 blocks"
    for svg in watched.locator(f"{ROOT} svg").all():
        label = svg.get_attribute("aria-label")
        assert svg.get_attribute("role") == "img" and "log scale" in label
        assert svg.locator("title").text_content() == label
    assert watched.problems == []


def test_readable_on_a_phone(browser, tmp_path, artifacts, python):
    page = phone_page(browser)
    page.goto(explorer_page(tmp_path, python, "Gradient flow"))
    check_readable_on_a_phone(page, ROOT)
    set_all(page, 56, False, "default", 0)  # exact zeros: the triangles and the longest status
    check_readable_on_a_phone(page, ROOT)
    page.screenshot(path=str(artifacts / "web-explorer-grad-flow-phone.png"), full_page=True)
    page.context.close()


def test_in_lab_it_draws_pythons_numbers_without_computing(watched, tmp_path):
    """JupyterLab's path: the class's _esm renders a synced model whose values all come
    from Python (no table is synced); compute() is never called."""
    X, y = gf.training_batch(16)
    widget = GradientFlowExplorer(X, y, depth=8, batch_norm=False, init="default", seed=2)
    watched.goto(lab_page(tmp_path, widget))
    watched.locator(f"{ROOT} [role=status]").wait_for()
    got = shown(watched)
    assert got["status"] == widget.status_text
    assert got["weight"]["plain"] == widget.plain.weight_norms.tolist()
    assert got["output"]["residual"] == widget.residual.output_norms.tolist()
    set_menu(watched, ROOT, "init", "kaiming")
    watched.locator(f'{ROOT} input[name="batch_norm"]').focus()
    watched.keyboard.press("Space")
    assert watched.evaluate("() => window.sets") == [["init", "kaiming"], ["batch_norm", True]]
    assert watched.problems == []


def test_the_named_controls_set_a_python_explorer_to_the_same_setting(watched, tmp_path, python):
    """tests/browser/test_site_explorers.py reads every named slider and menu of a live
    explorer and sets the Python attribute of that name: the depth slider's name
    (depth_index) and value must mean in Python what they mean on the page."""
    watched.goto(explorer_page(tmp_path, python, "Gradient flow"))
    set_all(watched, 8, True, "default", 7)
    settings = dict(watched.locator(f"{ROOT} input[type=range][name], {ROOT} select[name]")
                    .evaluate_all("all => all.map((c) => [c.name, c.type === 'range' ? "
                                  "Number(c.value) : c.value])"))
    assert settings == {"depth_index": 1, "init": "default", "seed": 7}
    for name, value in settings.items():
        setattr(python, name, type(getattr(python, name))(value))
    assert (python.depth, python.init, python.seed) == (8, "default", 7)
    assert shown(watched)["status"] == python.status_text
    assert watched.problems == []
