"""The live VGG block explorer (8.2): its front-end's compute() under Node against Python's.

Headless: no browser, no kernel. A stand-in ``CNNNetworks`` answers with PyTorch's outputs
for the image it is given (see tests/test_widgets_live_compare_stages.py), so the page's own
receptive-field arithmetic (``cnn-ops.js``), its named units, its clamped row and column and
the words of its status line are held to the Python class (cnnlib.ops, PyTorch) for random
settings and edge cases. The real VGG-11 in Chromium is tested in
tests/browser/test_web_explorers_vgg_blocks.py.
"""

from __future__ import annotations

import random

import pytest
import torch
from live_harness import check_esm_module, needs_node
from test_widgets_live_compare_stages import node_compute_with_networks, torch_outputs

from cnnlib.models.pretrained import build
from cnnlib.widgets.vgg_blocks import SLIDERS, UNITS, VGGBlockExplorer

N = 2
UNIT_NAMES = [*UNITS, SLIDERS]


@pytest.fixture(scope="module")
def explorer():
    torch.manual_seed(3)
    generator = torch.Generator().manual_seed(4)
    images = torch.randint(0, 256, (N, 28, 28), generator=generator, dtype=torch.uint8)
    return VGGBlockExplorer(model=build("vgg11").eval(), images=images,
                            labels=torch.tensor([5, 9]))


@pytest.fixture(scope="module")
def outputs(explorer):
    return {"vgg11": torch_outputs(explorer.model, explorer.X,
                                   [b["map"] for b in explorer.blocks])}


def settings(count: int, seed: int) -> list[dict]:
    """Edge cases (corners, rows past the output, the 1×1 last block), then random ones."""
    edges = [
        dict(example=0, block=1, unit=SLIDERS, row=0, col=0),
        dict(example=1, block=1, unit=SLIDERS, row=15, col=15),
        dict(example=0, block=2, unit=SLIDERS, row=15, col=3),  # row past the 8×8 output
        dict(example=1, block=3, unit=SLIDERS, row=1, col=3),
        dict(example=0, block=5, unit=SLIDERS, row=9, col=9),  # 1×1: one unit
        dict(example=1, block=4, unit="top edge, middle", row=0, col=0),
        dict(example=0, block=5, unit="centre", row=0, col=0),
        dict(example=1, block=2, unit="top-left corner", row=5, col=5),
    ]
    rng = random.Random(seed)
    return edges + [dict(example=rng.randrange(N), block=rng.randint(1, 5),
                         unit=rng.choice(UNIT_NAMES), row=rng.randint(0, 17),
                         col=rng.randint(0, 17)) for _ in range(count)]


@needs_node
def test_the_esm_module_is_anywidgets(tmp_path):
    check_esm_module(VGGBlockExplorer, tmp_path)


@needs_node
def test_compute_in_node_equals_python(explorer, outputs):
    cases = settings(24, seed=21)
    common = explorer.page_state() | {"visible": True}
    answer = node_compute_with_networks("VGGBlockExplorer", explorer.script, cases, common,
                                        outputs)
    assert set(answer["loads"]) == {"vgg11"}
    for case, got in zip(cases, answer["results"], strict=True):
        for name in ("unit", "example", "block", "row", "col"):  # the menu first, as a reader
            setattr(explorer, name, case[name])
        assert got["error"] == "" and got["promise"], (case, got["error"])
        assert (got["row"], got["col"]) == (explorer.row, explorer.col), case
        field = dict(got["field_info"])
        assert field.pop("padding_fraction") == pytest.approx(
            explorer.field_info["padding_fraction"], abs=1e-12)
        assert field == {k: v for k, v in explorer.field_info.items()
                         if k != "padding_fraction"}, case
        assert got["summary"] == explorer.summary, case
        assert got["shown"] == explorer.shown and got["predicted"] == explorer.predicted
        assert got["probability"] == pytest.approx(explorer.probability, abs=1e-6)
        maps = got["maps_shown"]
        assert maps["shape"] == explorer.maps_shown["shape"]
        assert maps["tiles"] == explorer.maps_shown["tiles"]
        torch.testing.assert_close(torch.tensor(maps["values"]),
                                   torch.tensor(explorer.maps_shown["values"]), rtol=0, atol=1e-6)


@needs_node
def test_bad_settings_give_pythons_words_and_nothing_loads_off_screen(explorer, outputs):
    cases = [dict(example=0, block=6, unit="centre", row=0, col=0),
             dict(example=2, block=1, unit="centre", row=0, col=0),
             dict(example=0, block=1, unit="middle", row=0, col=0),
             dict(example=0, block=3, unit="centre", row=0, col=0)]
    answer = node_compute_with_networks("VGGBlockExplorer", explorer.script, cases,
                                        explorer.page_state(), outputs)
    words = []
    for case in cases[:3]:
        for name, value in case.items():
            setattr(explorer, name, value)
        words.append(explorer.error)
        explorer.example, explorer.block, explorer.unit = 0, 1, "centre"
    got = answer["results"]
    assert [g["error"] for g in got[:3]] == words and all(words)
    # Off screen (no `visible`), a good setting derives nothing and loads no network.
    assert got[3] == {"error": "", "promise": False} and answer["loads"] == []
