"""Section 8.5's live batch-norm explorers on a page opened from file://.

The page loads cnnlib/web/cnn-ops.js, cnn-host.js and the front-end by file:// script tags
and mounts the explorer with Python's page state (the recorded run travels in it); settings
are made through the page's real controls with the keyboard, and every number the page shows
is compared with the recorded run as cnnlib reads it (cnnlib.explain.bn_stats.load_snapshots,
whose recording tests/test_widgets_bn_stats.py holds to PyTorch) and with Python's explorer.
"""

from __future__ import annotations

import json
import random
import re

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

from cnnlib.explain import bn_stats
from cnnlib.models.pretrained import build
from cnnlib.viz.bn_stats import KINDS
from cnnlib.widgets.bn_stats import ActivationStatsExplorer, BatchStatsExplorer

pytestmark = pytest.mark.browser

ROOT = ".cnnx-act"


@pytest.fixture(scope="module")
def snapshots():
    return bn_stats.load_snapshots()


def shown(page) -> dict:
    """What the page shows: status, heading, controls, every curve and every error bar."""
    return page.evaluate("""() => {
      const root = document.querySelector('.cnnx-act');
      return {
        status: root.querySelector('[role=status]').textContent.trim(),
        message: root.querySelector('.cnnx-message').hidden ? '' :
          root.querySelector('.cnnx-message').textContent,
        heading: root.querySelector('.cnnx-heading').textContent,
        step: Number(root.querySelector('input[name=step]').value),
        stepText: root.querySelector('output').textContent,
        layer: Number(root.querySelector('select[name=layer]').value),
        kind: (root.querySelector('input[name=kind]:checked') || {}).value,
        curves: [0, 1].map((k) => [...root.querySelectorAll(`.cnnx-panel-${k} path`)].map(
          (p) => ({net: p.dataset.net, counts: JSON.parse(p.dataset.counts),
                   range: JSON.parse(p.dataset.range)}))),
        bars: [...root.querySelectorAll('.cnnx-panel-2 g.cnnx-bar')].map((g) => ({
          net: g.dataset.net, block: Number(g.dataset.block), mean: Number(g.dataset.mean),
          std: Number(g.dataset.std)})),
      };
    }""")


def set_step(page, value: int) -> None:
    slider = page.locator(f'{ROOT} input[name="step"]')
    slider.focus()
    page.keyboard.press("Home")
    for _ in range(value):
        page.keyboard.press("ArrowRight")


def set_kind(page, kind: str) -> None:
    radio = page.locator(f'{ROOT} input[name="kind"][value="{kind}"]')
    if not radio.is_checked():
        page.locator(f'{ROOT} input[name="kind"]:checked').focus()
        page.keyboard.press("ArrowRight" if kind == KINDS[1] else "ArrowLeft")
    assert radio.is_checked()


def check_against_the_record(got: dict, snapshots, i: int, block: int, kind: str) -> None:
    field = "sigmoid_in" if kind == KINDS[0] else "sigmoid_out"
    python = ActivationStatsExplorer(snapshots, snapshot=i, layer=block, kind=kind)
    assert got["status"] == python.status_text and got["heading"] == python.heading
    assert (got["step"], got["layer"], got["kind"]) == (i, block, kind)
    assert got["stepText"] == str(snapshots.steps[i])
    for k, panel in enumerate(("sigmoid_in", "sigmoid_out")):
        want = []
        for name in bn_stats.NET_NAMES:
            record = snapshots.nets[name]
            p = getattr(bn_stats.blocks(record)[block], panel)
            want.append({"net": name, "counts": record.hist[i, p].tolist(),
                         "range": list(record.ranges[p])})
        if panel == "sigmoid_in":
            record = snapshots.nets["with_bn"]
            p = bn_stats.blocks(record)[block].layer
            want.append({"net": "before_bn", "counts": record.hist[i, p].tolist(),
                         "range": list(record.ranges[p])})
        assert got["curves"][k] == want
    for bar in got["bars"]:
        record = snapshots.nets[bar["net"]]
        p = getattr(bn_stats.blocks(record)[bar["block"]], field)
        assert abs(bar["mean"] - float(record.mean[i, p])) <= 1e-4
        assert abs(bar["std"] - float(record.std[i, p])) <= 1e-4
    assert len(got["bars"]) == 2 * len(bn_stats.blocks(snapshots.nets["with_bn"]))


def test_every_setting_made_with_the_keyboard_shows_the_recorded_numbers(watched, tmp_path,
                                                                           snapshots):
    watched.goto(explorer_page(tmp_path, ActivationStatsExplorer(snapshots), "Activations"))
    labels = [b.label for b in bn_stats.blocks(snapshots.nets["with_bn"])]
    rng = random.Random(21)
    cases = [(0, 0, KINDS[0]), (len(snapshots.steps) - 1, 3, KINDS[1])] + [
        (rng.randrange(len(snapshots.steps)), rng.randrange(len(labels)), rng.choice(KINDS))
        for _ in range(8)]
    for i, block, kind in cases:
        set_step(watched, i)
        set_menu(watched, ROOT, "layer", str(block))
        set_kind(watched, kind)
        check_against_the_record(shown(watched), snapshots, i, block, kind)
    assert watched.problems == []


def test_keyboard_labels_play_and_a_polite_status(watched, tmp_path, snapshots):
    watched.goto(explorer_page(tmp_path, ActivationStatsExplorer(snapshots, snapshot=0),
                               "Activations"))
    order = []
    for _ in range(4):
        watched.keyboard.press("Tab")
        order.append(watched.evaluate("""() => {const e = document.activeElement;
          return [e.name, e.labels && e.labels.length ? e.labels[0].textContent
                  : e.textContent];}"""))
    assert order == [["step", "step"], ["play", "▶ play"], ["layer", "layer"],
                     ["kind", "inputs"]]
    status = watched.locator(f"{ROOT} [role=status]")
    assert status.get_attribute("aria-live") == "polite"
    watched.keyboard.press("ArrowRight")  # the toggle: outputs
    assert "sigmoid outputs" in status.inner_text()
    assert watched.locator(f"{ROOT} .cnnx-panel-2 figcaption").inner_text() == \
        "output mean ± std"
    # ▶ plays the run: the step moves on by itself, and pausing stops it.
    watched.locator(f'{ROOT} button[name="play"]').press("Enter")
    watched.wait_for_function("() => Number(document.querySelector("
                              "'.cnnx-act input[name=step]').value) >= 2", timeout=5000)
    watched.locator(f'{ROOT} button[name="play"]').press("Enter")
    assert watched.locator(f'{ROOT} button[name="play"]').get_attribute("aria-pressed") == \
        "false"
    got = shown(watched)
    check_against_the_record(got, snapshots, got["step"], 0, KINDS[1])
    for svg in watched.locator(f"{ROOT} svg").all():
        label = svg.get_attribute("aria-label")
        assert svg.get_attribute("role") == "img" and len(label) > 20
        assert svg.locator("title").text_content() == label
    assert watched.problems == []


def test_readable_at_390_px(browser, tmp_path, snapshots):
    page = phone_page(browser)
    try:
        page.goto(explorer_page(tmp_path, ActivationStatsExplorer(snapshots), "Activations"))
        check_readable_on_a_phone(page, ROOT)
    finally:
        page.context.close()


def test_the_lab_path_draws_python_s_values(watched, tmp_path, snapshots):
    widget = ActivationStatsExplorer(snapshots, snapshot=3, layer=2, kind=KINDS[1])
    watched.goto(lab_page(tmp_path, widget))
    got = shown(watched)
    check_against_the_record(got, snapshots, 3, 2, KINDS[1])
    set_menu(watched, ROOT, "layer", "1")  # JupyterLab: the change goes to Python
    assert ["layer", 1] in watched.evaluate("() => window.sets")
    assert json.dumps(got["status"]) and watched.problems == []


def test_the_website_form_mounts_and_replays_from_a_folder(watched, tmp_path, snapshots,
                                                          monkeypatch):
    # What `make notebooks` writes into 8.5 (CNNLIB_EXPLORER_PAGES=1): scripts inline,
    # the recorded run in the state; opened from file://, it must compute with no request.
    monkeypatch.setenv("CNNLIB_EXPLORER_PAGES", "1")
    widget = ActivationStatsExplorer(snapshots)
    data, _ = widget._repr_mimebundle_()
    page = tmp_path / "form.html"
    page.write_text(f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>8.5'
                    f'</title></head><body>{data["text/html"]}</body></html>', encoding="utf-8")
    watched.goto(page.as_uri())
    root = watched.locator(".cnn-explorer")
    assert "cnnx-live" in root.get_attribute("class").split()
    assert root.locator(".cnnx-fallback").count() == 0
    set_menu(watched, ROOT, "layer", "3")
    check_against_the_record(shown(watched), snapshots, widget.step, 3, KINDS[0])
    assert watched.problems == []


# ----------------------------------------------------------------------------- batch statistics

BATCH = ".cnnx-bst"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?")


@pytest.fixture(scope="module")
def small_batches():
    """A seeded BN-LeNet whose running statistics moved away from 0 and 1, 64 images, and
    the explorer over them (sizes 2, 4, 8; 6 batches): every setting quick to compute."""
    torch.manual_seed(5)
    model = build("bn_lenet")
    model.train()
    with torch.no_grad():
        for _ in range(5):
            model(torch.rand(16, 1, 28, 28) * 2)
    images = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(6))
    return model.eval(), images


def batch_explorer(small_batches, **kwargs) -> BatchStatsExplorer:
    model, images = small_batches
    return BatchStatsExplorer(model, images, batch_sizes=(2, 4, 8), num_batches=6, **kwargs)


def batch_shown(page) -> dict:
    return page.evaluate("""() => {
      const root = document.querySelector('.cnnx-bst');
      const values = (sel) => [...root.querySelectorAll(sel)].map((e) => Number(e.dataset.value));
      return {
        status: root.querySelector('[role=status]').textContent.trim(),
        heading: root.querySelector('.cnnx-heading').textContent,
        controls: Object.fromEntries([...root.querySelectorAll('select, input')].map(
          (c) => [c.name, c.value])),
        mean: values('.cnnx-panel-0 circle'), var: values('.cnnx-panel-1 circle'),
        running: [values('.cnnx-panel-0 line.cnnx-running')[0],
                  values('.cnnx-panel-1 line.cnnx-running')[0]],
        spread: [...root.querySelectorAll('.cnnx-panel-2 circle')].map(
          (c) => [Number(c.dataset.size), Number(c.dataset.value)]),
        hists: Object.fromEntries([...root.querySelectorAll('.cnnx-panel-3 path')].map(
          (p) => [p.dataset.mode, JSON.parse(p.dataset.counts)])),
      };
    }""")


def torch_reference(model, images, setting: dict) -> dict:
    """What PyTorch says for a setting: each batch's input mean and variance of the layer's
    channel (forward hooks on a fresh copy per batch), the running statistics, the spread of
    the batch means per size, and the output's histogram in both modes."""
    layers = bn_stats.batch_norm_layers(model)
    index, bn = layers[setting["layer"]]
    c = min(setting["channel"], bn.num_features - 1)

    def per_batch(B, train):
        idx = bn_stats.batch_indices(images.shape[0], B, 6, seed=0)
        means, variances, outs = [], [], []
        for rows in idx:
            X_in, Y = bn_stats.capture(model, images[rows], train)[index]
            axes = (0, 2, 3) if X_in.ndim == 4 else (0,)
            means.append(float(X_in.mean(dim=axes)[c]))
            variances.append(float(X_in.var(dim=axes, unbiased=False)[c]))
            outs.append(Y[:, c].reshape(-1))
        return means, variances, torch.cat(outs)

    train = setting["mode"] == "train"
    beta, gamma = float(bn.bias[c].detach()), abs(float(bn.weight[c].detach()))
    means, variances, _ = per_batch(setting["batch_size"], train)
    spread = {B: float(torch.tensor(per_batch(B, train)[0], dtype=torch.float64).std())
              for B in (2, 4, 8)}
    return {"c": c, "mean": means, "var": variances, "spread": spread,
            "running": [float(bn.running_mean[c]), float(bn.running_var[c])],
            "outputs": {m: per_batch(setting["batch_size"], m == "train")[2]
                        for m in ("train", "eval")},
            "range": (beta - 4.5 * gamma - 1e-6, beta + 4.5 * gamma + 1e-6)}


def check_batch_page(got: dict, small_batches, setting: dict) -> None:
    model, images = small_batches
    want = torch_reference(model, images, setting)
    python = batch_explorer(small_batches, **{**setting, "channel": want["c"]})
    assert got["heading"] == python.heading
    assert NUMBER.sub("#", got["status"]) == NUMBER.sub("#", python.status_text)
    for a, b in zip(NUMBER.findall(got["status"]), NUMBER.findall(python.status_text),
                    strict=True):
        assert abs(float(a) - float(b)) <= max(1e-4, 5e-3 * abs(float(b))), (a, b)
    assert got["controls"]["channel"] == str(want["c"])
    for key in ("mean", "var", "running"):
        torch.testing.assert_close(torch.tensor(got[key], dtype=torch.float64),
                                   torch.tensor(want[key], dtype=torch.float64),
                                   rtol=0, atol=1e-4)
    assert [b for b, _ in got["spread"]] == [2, 4, 8]
    for b, value in got["spread"]:
        assert abs(value - want["spread"][b]) <= 1e-4, b
    low, high = want["range"]
    for mode, values in want["outputs"].items():
        counts = got["hists"][mode]
        expected = torch.histc(values.double().clamp(low, high), bins=len(counts), min=low,
                               max=high)
        assert sum(counts) == values.numel()
        # A value within float rounding of a bin edge may fall either side.
        assert sum(abs(a - int(b)) for a, b in zip(counts, expected.tolist(), strict=True)) <= 4


def set_batch(page, setting: dict) -> None:
    set_menu(page, BATCH, "batch_size", str(setting["batch_size"]))
    set_menu(page, BATCH, "mode", setting["mode"])
    set_menu(page, BATCH, "layer", str(setting["layer"]))
    set_slider(page, BATCH, "channel", setting["channel"])


def test_batch_settings_made_with_the_keyboard_match_pytorch(watched, tmp_path, small_batches):
    watched.goto(explorer_page(tmp_path, batch_explorer(small_batches, batch_size=4),
                               "Batch statistics"))
    rng = random.Random(21)
    cases = [dict(batch_size=2, mode="train", layer=3, channel=83),  # B = 2 after dense 2
             dict(batch_size=8, mode="eval", layer=0, channel=5),
             dict(batch_size=2, mode="eval", layer=2, channel=119)] + [
        dict(batch_size=rng.choice([2, 4, 8]), mode=rng.choice(["train", "eval"]),
             layer=rng.randrange(4), channel=rng.randrange(6)) for _ in range(5)]
    for setting in cases:
        set_batch(watched, setting)
        check_batch_page(batch_shown(watched), small_batches, setting)
    assert watched.problems == []


def test_batch_keyboard_labels_and_a_polite_status(watched, tmp_path, small_batches):
    watched.goto(explorer_page(tmp_path, batch_explorer(small_batches), "Batch statistics"))
    order = []
    for _ in range(4):
        watched.keyboard.press("Tab")
        order.append(watched.evaluate(
            "() => [document.activeElement.name, document.activeElement.labels[0].textContent]"))
    assert order == [["batch_size", "batch size"], ["mode", "mode"], ["layer", "layer"],
                     ["channel", "channel"]]
    status = watched.locator(f"{BATCH} [role=status]")
    assert status.get_attribute("aria-live") == "polite"
    watched.keyboard.press("Shift+Tab")
    watched.keyboard.press("Shift+Tab")
    watched.keyboard.press("ArrowDown")  # eval
    assert status.inner_text().startswith("Evaluation mode")
    for svg in watched.locator(f"{BATCH} svg").all():
        label = svg.get_attribute("aria-label")
        assert svg.get_attribute("role") == "img" and len(label) > 20
        assert svg.locator("title").text_content() == label
    assert watched.problems == []


def test_batch_readable_at_390_px(browser, tmp_path, small_batches):
    page = phone_page(browser)
    try:
        page.goto(explorer_page(tmp_path, batch_explorer(small_batches), "Batch statistics"))
        check_readable_on_a_phone(page, BATCH)
    finally:
        page.context.close()


def test_batch_lab_path_draws_python_s_values(watched, tmp_path, small_batches):
    setting = dict(batch_size=8, mode="eval", layer=1, channel=9)
    watched.goto(lab_page(tmp_path, batch_explorer(small_batches, **setting)))
    check_batch_page(batch_shown(watched), small_batches, setting)
    set_menu(watched, BATCH, "mode", "train")  # JupyterLab: the change goes to Python
    assert ["mode", "train"] in watched.evaluate("() => window.sets")
    assert watched.problems == []


def test_the_chapter_s_explorer_from_a_folder(watched, tmp_path):
    """The explorer as 8.5 builds it (the shipped BN-LeNet, 1024 test images): its first
    answer on a file:// page, against Python's, and how long the page took (printed)."""
    python = BatchStatsExplorer()
    start = watched.evaluate("() => performance.now()")
    watched.goto(explorer_page(tmp_path, python, "8.5"))
    loaded = watched.evaluate("() => performance.now()")
    got = batch_shown(watched)
    assert NUMBER.sub("#", got["status"]) == NUMBER.sub("#", python.status_text)
    torch.testing.assert_close(torch.tensor(got["mean"], dtype=torch.float64),
                               torch.tensor(python.batch_mean, dtype=torch.float64),
                               rtol=0, atol=1e-4)
    t0 = watched.evaluate("() => performance.now()")
    set_menu(watched, BATCH, "mode", "eval")
    t1 = watched.evaluate("() => performance.now()")
    python.mode = "eval"
    assert NUMBER.sub("#", batch_shown(watched)["status"]) == NUMBER.sub("#", python.status_text)
    print(f"8.5 batch explorer: page with first answer {loaded - start:.0f} ms, "
          f"switch to eval {t1 - t0:.0f} ms")
    assert watched.problems == []
