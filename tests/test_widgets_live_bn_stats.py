"""The live (anywidget) batch-norm explorers of section 8.5: Python's numbers and the
front-ends' own compute() under Node, held to each other and to the recorded run / PyTorch.

Headless: no browser, no kernel (the browser tests are tests/browser/
test_web_explorers_bn_stats.py).
"""

from __future__ import annotations

import itertools
import math
import random
import re

import pytest
import torch
from live_harness import check_esm_module, needs_node, node_compute

from cnnlib.explain import bn_stats
from cnnlib.models.pretrained import build
from cnnlib.viz.bn_stats import KINDS
from cnnlib.widgets.bn_stats import (
    ActivationStatsExplorer,
    BatchStatsExplorer,
    encode_images,
    snapshot_data,
)


@pytest.fixture(scope="module")
def snapshots():
    return bn_stats.load_snapshots()


@pytest.fixture(scope="module")
def activation(snapshots):
    return ActivationStatsExplorer(snapshots)


def every_setting(snapshots) -> list[dict]:
    labels = bn_stats.blocks(snapshots.nets["with_bn"])
    return [dict(step=i, layer=b, kind=k) for i, b, k in itertools.product(
        range(len(snapshots.steps)), range(len(labels)), KINDS)]


def test_activation_numbers_are_the_recorded_run_s(snapshots, activation):
    for setting in every_setting(snapshots)[::7]:
        for name, value in setting.items():
            setattr(activation, name, value)
        assert activation.error == ""
        i, block, kind = setting["step"], setting["layer"], setting["kind"]
        for name in bn_stats.NET_NAMES:
            record = snapshots.nets[name]
            b = bn_stats.blocks(record)[block]
            point = b.sigmoid_in if kind == KINDS[0] else b.sigmoid_out
            shown = activation.stats[name]
            assert shown["point"] == record.points[point]
            assert shown["mean"] == float(record.mean[i, point])
            assert shown["std"] == float(record.std[i, point])
            assert shown["saturated"] == float(record.saturated[i, b.sigmoid_out])
            assert shown["hist"] == record.hist[i, point].tolist()
            assert shown["probe_loss"] == float(record.probe_loss[i])
            points = [getattr(bb, "sigmoid_in" if kind == KINDS[0] else "sigmoid_out")
                      for bb in bn_stats.blocks(record)]
            assert activation.depth[name]["mean"] == record.mean[i, points].tolist()
            assert activation.depth[name]["std"] == record.std[i, points].tolist()
            words = "with BN" if name == "with_bn" else "without BN"
            assert (f"{words}: mean {float(record.mean[i, point]):.2f}, "
                    f"std {float(record.std[i, point]):.2f}, "
                    f"{100 * float(record.saturated[i, b.sigmoid_out]):.0f}% of sigmoid outputs"
                    ) in activation.status_text
        before = activation.panels["sigmoid_in"][-1]
        assert before["net"] == "before_bn"
        b = bn_stats.blocks(snapshots.nets["with_bn"])[block]
        assert before["hist"] == snapshots.nets["with_bn"].hist[i, b.layer].tolist()
        assert activation.status_text.startswith(
            f"After {snapshots.steps[i]} SGD steps, {b.label}'s {kind}s. ")


def test_activation_bad_settings_are_messages_and_the_next_change_fixes_them(activation):
    activation.kind = "gradient"
    assert activation.error == ("kind must be one of ['sigmoid input', 'sigmoid output'], "
                                "got 'gradient'")
    assert activation.status_text == activation.error and activation.stats == {}
    assert activation.picture_png() is None
    activation.kind = KINDS[1]
    assert activation.error == "" and activation.stats
    with pytest.raises(ValueError, match="snapshot must be"):
        ActivationStatsExplorer(snapshot=99)
    with pytest.raises(ValueError, match="layer must be"):
        ActivationStatsExplorer(layer=4)


def test_activation_page_state_carries_the_record(activation, snapshots):
    state = activation.page_state()
    assert set(state) == {"step", "layer", "kind", "controls", "record"}
    assert state["record"] == snapshot_data(snapshots)
    assert state["record"]["steps"] == list(snapshots.steps)
    assert activation.picture_png().startswith(b"\x89PNG")


def test_python_formats_ties_as_the_front_end_must():
    # The reason pyFixed exists in the front-end: toFixed rounds exact ties up.
    assert f"{0.125:.2f}" == "0.12" and f"{100 * 0.125:.0f}" == "12"
    assert f"{0.375:.2f}" == "0.38" and f"{-0.125:.2f}" == "-0.12"


@needs_node
def test_activation_front_end_compute_equals_python(activation, snapshots):
    settings = every_setting(snapshots)
    bad = [dict(step=len(snapshots.steps), layer=0, kind=KINDS[0]),
           dict(step=0, layer=4, kind=KINDS[0]), dict(step=0, layer=0, kind="gradient"),
           dict(step=-1, layer=0, kind=KINDS[0])]
    got = node_compute("ActivationStatsExplorer", "activation-stats.js", settings + bad,
                       {"record": activation.record})
    for setting, result in zip(settings + bad, got, strict=True):
        for name, value in setting.items():
            setattr(activation, name, value)
        if activation.error:
            assert result == {"error": activation.error}, setting
            continue
        assert result["error"] == "", setting
        for name in activation.derived_names():
            assert result[name] == getattr(activation, name), (setting, name)


@needs_node
def test_front_end_formats_ties_as_python_does(activation):
    # A record whose numbers are exact ties of Python's rounding (and -0.0, nan-free).
    record = snapshot_data(bn_stats.load_snapshots())
    ties = [0.125, 0.375, -0.125, 0.005, 2.675, 1.0, -0.0, 0.115]
    for name in bn_stats.NET_NAMES:
        net = record["nets"][name]
        b = net["blocks"][0]
        net["mean"][0][b["sigmoid_in"]] = ties[0]
        net["std"][0][b["sigmoid_in"]] = ties[1]
        net["saturated"][0][b["sigmoid_out"]] = 0.125 if name == "with_bn" else 0.375
        net["probe_loss"][0] = ties[2] if name == "with_bn" else ties[6]
        net["probe_acc"][0] = ties[4]
    got = node_compute("ActivationStatsExplorer", "activation-stats.js",
                       [dict(step=0, layer=0, kind=KINDS[0])], {"record": record})[0]
    parts = []
    for name, words in (("with_bn", "with BN"), ("without_bn", "without BN")):
        net = record["nets"][name]
        b = net["blocks"][0]
        m, s = net["mean"][0][b["sigmoid_in"]], net["std"][0][b["sigmoid_in"]]
        sat = net["saturated"][0][b["sigmoid_out"]]
        parts.append(f"{words}: mean {m:.2f}, std {s:.2f}, {100 * sat:.0f}% of sigmoid outputs "
                     f"saturated; probe loss {net['probe_loss'][0]:.2f}, accuracy "
                     f"{net['probe_acc'][0]:.2f}")
    assert not math.isnan(record["nets"]["with_bn"]["mean"][0][0])
    assert got["summary"] == (f"After {record['steps'][0]} SGD steps, conv 1's sigmoid inputs. "
                              + ". ".join(parts) + ".")


@needs_node
def test_activation_esm_is_a_module(tmp_path):
    check_esm_module(ActivationStatsExplorer, tmp_path)


def test_a_menu_s_text_value_sets_the_layer(activation):
    # The site test and a page's <select> give "2", not 2: the traitlets take either.
    activation.layer, activation.step = "2", "1"
    assert (activation.layer, activation.step) == (2, 1) and activation.error == ""


# ----------------------------------------------------------------------------- batch statistics

CONTROLS = ("batch_size", "mode", "layer", "channel")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?")


@pytest.fixture(scope="module")
def batch_explorer():
    """A seeded BN-LeNet whose running statistics moved away from 0 and 1, on 64 images."""
    torch.manual_seed(5)
    model = build("bn_lenet")
    model.train()
    with torch.no_grad():
        for _ in range(5):
            model(torch.rand(16, 1, 28, 28) * 2)
    images = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(6))
    return BatchStatsExplorer(model.eval(), images, batch_sizes=(2, 4, 8), num_batches=6)


def same_text(got: str, want: str) -> None:
    """The same words, and each number within 1e-4 or within the last of 3 digits shown."""
    assert NUMBER.sub("#", got) == NUMBER.sub("#", want), (got, want)
    for a, b in zip(NUMBER.findall(got), NUMBER.findall(want), strict=True):
        assert abs(float(a) - float(b)) <= max(1e-4, 5e-3 * abs(float(b))), (a, b, want)


def check_batch_values(got: dict, explorer, close: float = 1e-4) -> None:
    """The front-end's values against Python's: every number to 1e-4, counts to a value or two
    (a value within float32 rounding of a bin edge may fall either side)."""
    assert got["error"] == "" and got["channel"] == explorer.channel
    assert got["heading"] == explorer.heading
    for name in ("batch_mean", "batch_var", "out_range"):
        torch.testing.assert_close(torch.tensor(got[name], dtype=torch.float64),
                                   torch.tensor(getattr(explorer, name), dtype=torch.float64),
                                   rtol=0, atol=close)
    for key in ("mean", "var"):
        assert abs(got["running"][key] - explorer.running[key]) <= close
    assert abs(got["sigma"] - explorer.sigma) <= close
    assert set(got["spreads"]) == set(explorer.spreads)
    for b, v in explorer.spreads.items():
        assert abs(got["spreads"][b] - v) <= close, b
    for mode, counts in explorer.hists.items():
        assert sum(got["hists"][mode]) == sum(counts)
        assert sum(abs(a - b) for a, b in zip(got["hists"][mode], counts, strict=True)) <= 4
    same_text(got["summary"], explorer.summary)


def batch_settings(count: int, seed: int) -> list[dict]:
    edges = [dict(batch_size=2, mode="train", layer=3, channel=83),  # B = 2 after a dense layer
             dict(batch_size=8, mode="eval", layer=0, channel=0),
             dict(batch_size=2, mode="eval", layer=2, channel=200)]  # past the last channel
    rng = random.Random(seed)
    return edges + [dict(batch_size=rng.choice([2, 4, 8]), mode=rng.choice(["train", "eval"]),
                         layer=rng.randrange(4), channel=rng.randrange(120))
                    for _ in range(count)]


def test_batch_values_are_the_sweeps(batch_explorer):
    e = batch_explorer
    for setting in batch_settings(6, seed=3):
        for name in CONTROLS:
            setattr(e, name, setting[name])
        index, c = e.bn_indices[e.layer], e.channel
        s = e.sweeps[(e.batch_size, e.mode == "train")][index]
        assert c == min(setting["channel"], s.channels - 1)
        assert e.batch_mean == s.batch_mean[:, c].tolist()
        assert e.batch_var == s.batch_var[:, c].tolist()
        assert e.sigma == float(s.image_mean_std[c])
        assert e.out_range == [float(s.out_low[c]), float(s.out_high[c])]


def test_batch_bad_settings_are_messages(batch_explorer):
    batch_explorer.batch_size = 16
    assert batch_explorer.error == "batch_size must be one of [2, 4, 8], got 16"
    assert batch_explorer.picture_png() is None and batch_explorer.batch_mean == []
    batch_explorer.batch_size = 8
    batch_explorer.mode = "test"
    assert batch_explorer.error == "mode must be 'train' or 'eval', got 'test'"
    batch_explorer.mode = "eval"
    assert batch_explorer.error == ""


def test_images_travel_exactly():
    exact = torch.randint(0, 256, (3, 1, 4, 4)).float() / 255
    assert encode_images(exact)["dtype"] == "uint8"
    assert encode_images(exact + 1e-3)["dtype"] == "float32"


@needs_node
def test_batch_front_end_compute_equals_pytorch(batch_explorer):
    state = batch_explorer.page_state()
    common = {k: v for k, v in state.items() if k not in CONTROLS}
    settings = batch_settings(12, seed=21)
    bad = [dict(batch_size=16, mode="train", layer=0, channel=0),
           dict(batch_size=2, mode="test", layer=0, channel=0),
           dict(batch_size=2, mode="train", layer=4, channel=0)]
    got = node_compute("BatchStatsExplorer", "batch-stats.js", settings + bad, common)
    for setting, result in zip(settings + bad, got, strict=True):
        for name in CONTROLS:
            setattr(batch_explorer, name, setting[name])
        if batch_explorer.error:
            assert result == {"error": batch_explorer.error}, setting
        else:
            check_batch_values(result, batch_explorer)


@needs_node
def test_batch_esm_is_a_module(tmp_path):
    check_esm_module(BatchStatsExplorer, tmp_path)
