"""The live (anywidget) receptive-field explorer: traitlets in, autograd's regions out.

Headless: no browser, no kernel. The region a unit depends on is checked against autograd on
real layers of the same geometry (the pixels with a nonzero gradient), and the front-end's own
compute() is run under Node against Python's values for the same settings.
"""

from __future__ import annotations

import base64
import json
import random
import re

import pytest
import torch
from live_harness import check_esm_module, needs_node, node_compute
from torch import nn

from cnnlib.ops import input_region, layer_output_sizes
from cnnlib.widgets.receptive_field import STACKS, ReceptiveFieldExplorer

UNPADDED, PADDED = list(STACKS)


def gradient_region(stack: str, n: int, layer: int, row: int, col: int):
    """The input box whose pixels get a gradient from the unit: positive weights and average
    pooling, so no gradient is zero by accident (the chapter's check)."""
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
    rows, cols = torch.nonzero(X.grad[0, 0], as_tuple=True)
    return ((int(rows.min()), int(rows.max()) + 1), (int(cols.min()), int(cols.max()) + 1))


def random_settings(count: int, seed: int) -> list[dict]:
    """Settings across every control's range, edge cases first."""
    edges = [
        dict(stack=UNPADDED, input_size=12, layer=3, row=1, col=0),  # the chapter's
        dict(stack=UNPADDED, input_size=12, layer=3, row=2, col=2),  # issue 22: row 2 -> 1
        dict(stack=UNPADDED, input_size=12, layer=1, row=2, col=7),  # row 2 exists here
        dict(stack=UNPADDED, input_size=7, layer=3, row=0, col=0),  # conv3 does not fit
        dict(stack=UNPADDED, input_size=8, layer=3, row=0, col=0),  # 1x1 output
        dict(stack=UNPADDED, input_size=1, layer=0, row=0, col=0),  # kernel larger than input
        dict(stack=PADDED, input_size=1, layer=3, row=0, col=0),  # padding fits one pixel
        dict(stack=PADDED, input_size=16, layer=2, row=7, col=7),  # the far corner
        dict(stack=PADDED, input_size=16, layer=0, row=0, col=15),  # a field cut by padding
        dict(stack=UNPADDED, input_size=16, layer=2, row=9, col=9),  # past the output
    ]
    rng = random.Random(seed)
    return edges + [
        dict(stack=rng.choice(list(STACKS)), input_size=rng.randint(1, 16),
             layer=rng.randint(0, 3), row=rng.randint(0, 15), col=rng.randint(0, 15))
        for _ in range(count)
    ]


def made(settings: dict) -> ReceptiveFieldExplorer:
    """A fresh explorer set one control at a time, as a reader moves them."""
    explorer = ReceptiveFieldExplorer()
    for name in ("stack", "input_size", "layer", "row", "col"):
        setattr(explorer, name, settings[name])
    return explorer


@pytest.mark.parametrize("settings", random_settings(20, seed=22))
def test_the_region_is_where_autograd_sends_a_gradient(settings):
    explorer = made(settings)
    layers, n, layer = STACKS[settings["stack"]], settings["input_size"], settings["layer"]
    try:
        sizes = layer_output_sizes(list(layers), n)
    except ValueError as err:
        assert explorer.error == str(err) == explorer.status_text
        assert explorer.trace is None and explorer.picture_png() is None
        for name in explorer.derived_names():
            assert getattr(explorer, name) == explorer.trait_defaults(name), name
        return
    out_h, out_w = sizes[layer + 1]
    row, col = min(settings["row"], out_h - 1), min(settings["col"], out_w - 1)
    assert (explorer.row, explorer.col, explorer.error) == (row, col, "")
    assert explorer.region == gradient_region(settings["stack"], n, layer, row, col)
    assert explorer.map_sizes == [list(size) for size in sizes]
    for m in range(layer + 1):  # every earlier map: what layers m..layer make of the unit
        assert explorer.regions[m] == [list(b) for b in input_region(
            list(layers[m: layer + 1]), (row, col), sizes[m])]
    assert len(explorer.regions) == layer + 1


def test_the_chapters_unit_and_the_fields_line():
    explorer = ReceptiveFieldExplorer(input_size=12)
    explorer.row, explorer.col = 1, 0
    (r0, r1), (c0, c1) = explorer.region
    assert explorer.rf_size == [r1 - r0, c1 - c0]  # no padding: the whole field is input
    assert explorer.summary == explorer.trace.describe()
    assert explorer.status_text == (
        f"{explorer.trace.describe()}\nreceptive field after each layer: "
        "conv1 3×3 → conv2 5×5 → pool 6×6 → conv3 10×10")
    assert explorer.titles == ["input 12×12", "conv1 10×10", "conv2 8×8", "pool 4×4",
                               "conv3 2×2"]


def test_row_and_col_follow_the_output():
    """Issue 22: the page's unit row 2 snapped to 1; the range is the chosen output now."""
    explorer = ReceptiveFieldExplorer(input_size=12, layer=1)
    explorer.row, explorer.col = 2, 7
    assert (explorer.row, explorer.col) == (2, 7)  # conv2's output is 8x8
    explorer.layer = 3  # conv3's is 2x2: the unit moves to its last row and column
    assert (explorer.row, explorer.col) == (1, 1)
    explorer.input_size = 16  # 16 -> 14 -> 12 -> 6 -> 4
    explorer.row = 3
    assert explorer.row == 3 and explorer.map_sizes[-1] == [4, 4]


def test_a_too_small_input_is_a_message_and_the_padded_stack_fixes_it():
    explorer = ReceptiveFieldExplorer(input_size=12)
    explorer.input_size = 7  # 7 -> 5 -> 3 -> 1: the last conv3 does not fit
    with pytest.raises(ValueError) as err:
        layer_output_sizes(list(STACKS[UNPADDED]), 7)
    assert explorer.error == str(err.value) and "'conv3'" in explorer.error
    explorer.stack = PADDED  # padded convs fit in 7 cells
    assert explorer.error == "" and explorer.layer == 3
    assert explorer.map_sizes == [[7, 7], [7, 7], [7, 7], [3, 3], [3, 3]]


def test_values_no_menu_offers_are_messages():
    explorer = ReceptiveFieldExplorer()
    explorer.stack = "conv5"
    assert explorer.error == f"unknown stack 'conv5'; choose one of {list(STACKS)}"
    explorer.stack = UNPADDED
    explorer.layer = 4
    assert explorer.error == "layer must be in [0, 4), got 4"
    explorer.layer = 0
    assert explorer.error == ""


@pytest.mark.parametrize(("make", "error", "match"), [
    (lambda: ReceptiveFieldExplorer(stack="conv5"), ValueError, "unknown stack 'conv5'"),
    (lambda: ReceptiveFieldExplorer(layer=4), ValueError, r"layer must be in \[0, 4\)"),
    (lambda: ReceptiveFieldExplorer(row=-1), ValueError, "row must be at least 0"),
    (lambda: ReceptiveFieldExplorer(col=1.0), TypeError, "col must be a whole number"),
    (lambda: ReceptiveFieldExplorer(input_size=0), ValueError, "input_size must be at least 1"),
])
def test_impossible_start_values_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_an_input_past_the_slider_widens_it():
    explorer = ReceptiveFieldExplorer(input_size=40)
    assert explorer.input_size == 40 and explorer.controls[0]["max"] >= 40
    assert explorer.map_sizes[0] == [40, 40]


def test_the_page_gets_pythons_stacks():
    explorer = ReceptiveFieldExplorer(stack=PADDED, layer=2)
    state = json.loads(json.dumps(explorer.page_state()))
    assert list(state["stacks"]) == list(STACKS)
    for name, layers in STACKS.items():
        assert [(d["name"], tuple(d["kernel"]), tuple(d["stride"]), tuple(d["padding"]),
                 tuple(d["dilation"])) for d in state["stacks"][name]] == [
            (s.name, s.kernel_size, s.stride, s.padding, s.dilation) for s in layers]
    assert (state["stack"], state["layer"]) == (PADDED, 2)
    assert [c["name"] for c in state["controls"]] == ["input_size"]


@needs_node
def test_esm_is_a_valid_module_exporting_render(tmp_path):
    check_esm_module(ReceptiveFieldExplorer, tmp_path)


@needs_node
def test_browser_compute_matches_python():
    """The website's compute(), run under Node, gives Python's values for every setting."""
    cases = random_settings(80, seed=3) + [
        dict(stack="conv5", input_size=12, layer=0, row=0, col=0),
        dict(stack=UNPADDED, input_size=12, layer=4, row=0, col=0),
        dict(stack=PADDED, input_size=0, layer=0, row=0, col=0),
    ]
    results = node_compute("ReceptiveFieldExplorer", "receptive-field.js", cases,
                           common={"stacks": ReceptiveFieldExplorer().stacks})
    assert any(r["error"] for r in results) and any(not r["error"] for r in results)
    for settings, values in zip(cases, results, strict=True):
        explorer = made(settings)
        assert values["error"] == explorer.error, settings
        for name, value in values.items():
            assert value == getattr(explorer, name), (name, settings)


def test_the_output_carries_a_picture_and_the_website_form(monkeypatch):
    from cnnlib.widgets.page import PAGE_FORMS_VARIABLE

    monkeypatch.delenv(PAGE_FORMS_VARIABLE, raising=False)
    data, _ = ReceptiveFieldExplorer()._repr_mimebundle_()
    assert data["text/plain"] == "ReceptiveFieldExplorer: run this cell for the live explorer"
    assert base64.b64decode(data["image/png"])[:4] == b"\x89PNG"
    assert "text/html" not in data
    monkeypatch.setenv(PAGE_FORMS_VARIABLE, "1")
    widget = ReceptiveFieldExplorer(input_size=12)
    form = widget._repr_mimebundle_()[0]["text/html"]
    state = json.loads(re.search(r"CNNExplorers\.mount\(mount, \"ReceptiveFieldExplorer\", "
                                 r"(\{.*\})\);", form).group(1))
    assert state == json.loads(json.dumps(widget.page_state()))
    assert 'alt="ReceptiveFieldExplorer: conv3 unit (0, 0): receptive field 10×10' in form
    assert not re.search(r'(src|href)="https?:', form)
