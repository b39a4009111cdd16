"""The live (anywidget) channels explorer of 7.4: traitlets in, PyTorch's numbers out.

Headless: no browser, no kernel. The front-end's own compute() is run under Node against
the same settings, so the website's numbers are held to Python's (and F.conv2d's) here too.
"""

from __future__ import annotations

import base64
import json
import random
import re

import pytest
import torch
import torch.nn.functional as F
from live_harness import check_esm_module, needs_node, node_compute

from cnnlib import ops
from cnnlib.viz.cell_grid import format_value
from cnnlib.widgets.channels import (
    MAX_CHANNELS,
    MAX_KERNEL,
    OVERFLOW,
    ChannelsExplorer,
    notes_tensors,
)

CONTROLS = ("in_channels", "out_channels", "kernel_size", "out_channel")
DATA = ("inputs", "weights", "biases")


def random_data(rng: random.Random, size: tuple[int, int] = (3, 3)) -> dict:
    """Every number the explorer holds, random (one decimal, as a reader types them)."""
    def numbers(*shape):
        return torch.tensor([round(rng.uniform(-9, 9), 1) for _ in range(
            torch.Size(shape).numel())]).reshape(shape).tolist()

    return {"inputs": numbers(MAX_CHANNELS, *size),
            "weights": numbers(MAX_CHANNELS, MAX_CHANNELS, MAX_KERNEL, MAX_KERNEL),
            "biases": numbers(MAX_CHANNELS)}


def random_settings(count: int, seed: int) -> list[dict]:
    """Settings across every control's range, edge cases first."""
    rng = random.Random(seed)
    edges = [
        dict(in_channels=1, out_channels=1, kernel_size=2, out_channel=0),  # one channel
        dict(in_channels=3, out_channels=3, kernel_size=3, out_channel=2),  # 1×1 output
        dict(in_channels=3, out_channels=2, kernel_size=1, out_channel=1),  # the 1×1 conv
        dict(in_channels=2, out_channels=3, kernel_size=4, out_channel=0),  # k > input
        dict(in_channels=2, out_channels=1, kernel_size=2, out_channel=2),  # clamped to 0
    ]
    cases = [edge | random_data(rng) for edge in edges]
    for _ in range(count):
        cases.append(dict(in_channels=rng.randint(1, 3), out_channels=rng.randint(1, 3),
                          kernel_size=rng.randint(1, 4), out_channel=rng.randint(0, 2))
                     | random_data(rng))
    return cases


def made(settings: dict) -> ChannelsExplorer:
    """A fresh explorer set to settings one value at a time, as a reader changes them."""
    explorer = ChannelsExplorer()
    for name in (*DATA, *CONTROLS):
        if name in settings:
            setattr(explorer, name, settings[name])
    return explorer


def layer_of(settings: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """X, K and the bias of the layer the settings choose, straight from the numbers."""
    c_i, c_o, k = (settings[n] for n in CONTROLS[:3])
    X = torch.tensor(settings["inputs"])[:c_i]
    K = torch.tensor(settings["weights"])[:c_o, :c_i, :k, :k]
    return X, K, torch.tensor(settings["biases"])[:c_o]


@pytest.mark.parametrize("settings", random_settings(25, seed=21))
def test_derived_values_follow_pytorch(settings):
    explorer = made(settings)
    X, K, b = layer_of(settings)
    k = settings["kernel_size"]
    if k > X.shape[-1]:
        with pytest.raises(RuntimeError):  # PyTorch refuses it too
            F.conv2d(X[None], K, b)
        assert explorer.error == explorer.status_text == (
            f"a {k}×{k} kernel does not fit in the 3×3 input: without padding a kernel can be "
            "at most as large as the input, so choose a kernel size of at most 3 (padding, "
            "section 7.3, lets a kernel reach past the edge)")
        for name in explorer.derived_names():
            assert getattr(explorer, name) == explorer.trait_defaults(name), name
        assert explorer.breakdown is None and explorer.picture_png() is None
        return
    assert explorer.error == ""
    o = min(settings["out_channel"], settings["out_channels"] - 1)
    assert explorer.out_channel == o
    Y = F.conv2d(X[None], K, b)[0]
    torch.testing.assert_close(torch.tensor(explorer.outputs), Y, rtol=0, atol=1e-4)
    torch.testing.assert_close(torch.tensor(explorer.output_map), Y[o], rtol=0, atol=1e-4)
    for c in range(X.shape[0]):  # each input channel's share, as a one-channel convolution
        share = F.conv2d(X[None, c:c + 1], K[o:o + 1, c:c + 1])[0, 0]
        torch.testing.assert_close(torch.tensor(explorer.partial_maps[c]), share, rtol=0,
                                   atol=1e-4)
    torch.testing.assert_close(torch.tensor(explorer.total_map), Y[o] - b[o], rtol=0,
                               atol=1e-4)
    assert explorer.layer["bias"] == settings["biases"][o] == explorer.bias_value
    assert explorer.layer["kernel"] == K[o].tolist()
    c_i = X.shape[0]
    assert explorer.status_text.startswith(
        f"Y[{o}] = " + " + ".join(f"X[{c}] ⋆ K[{o}, {c}]" for c in range(c_i)))
    n = c_i * k * k
    assert f"= {n} weight{'s' if n > 1 else ''} per output value" in explorer.status_text
    assert explorer.header.endswith(f"plus bias {format_value(settings['biases'][o])}")


def test_the_notes_numbers_and_status():
    explorer = ChannelsExplorer(*notes_tensors())
    X, K = notes_tensors()
    assert explorer.output_map == F.conv2d(X[None], K)[0, 0].tolist() == [[56, 72], [104, 120]]
    assert explorer.status_text == ("Y[0] = X[0] ⋆ K[0, 0] + X[1] ⋆ K[0, 1] + 0: 2 input "
                                    "channels × 2×2 weights = 8 weights per output value")
    assert explorer.header == "output channel 0 of 3: the sum over 2 input channels, plus bias 0"
    explorer.out_channel = 2
    assert explorer.output_map == F.conv2d(X[None], K)[0, 2].tolist()
    explorer.bias_value = -2.5
    assert explorer.status_text.startswith("Y[2] = X[0] ⋆ K[2, 0] + X[1] ⋆ K[2, 1] − 2.5: ")


def test_each_output_channel_keeps_its_own_bias_and_kernel():
    """Issue 22: set channel 0's bias to 10, channel 1's to −10, go back to channel 0: it
    must show 10 (the page form showed −10). The same for a typed kernel."""
    explorer = ChannelsExplorer(*notes_tensors())
    X, K = notes_tensors()
    explorer.out_channel = 0
    explorer.bias_value = 10.0
    explorer.set_kernel(0, 1, [[1.0, -1.0], [0.5, 2.0]])
    explorer.out_channel = 1
    explorer.bias_value = -10.0
    explorer.out_channel = 0
    assert explorer.bias_value == 10.0 and explorer.layer["bias"] == 10.0
    assert explorer.layer["kernel"][1] == [[1.0, -1.0], [0.5, 2.0]]
    K[0, 1] = torch.tensor([[1.0, -1.0], [0.5, 2.0]])
    bias = torch.tensor([10.0, -10.0, 0.0])
    torch.testing.assert_close(explorer.output, F.conv2d(X[None], K, bias)[0, 0])
    assert explorer.summary.split(":")[0].endswith("+ 10")
    explorer.out_channel = 1
    assert explorer.bias_value == -10.0 and explorer.layer["kernel"] == K[1].tolist()
    torch.testing.assert_close(torch.tensor(explorer.outputs), F.conv2d(X[None], K, bias)[0])
    assert explorer.layer["biases"] == [10.0, -10.0, 0.0]


def test_channels_taken_away_come_back_as_they_were():
    explorer = ChannelsExplorer(*notes_tensors())
    explorer.set_bias(2, 3.0)
    explorer.out_channels, explorer.in_channels, explorer.kernel_size = 1, 1, 1
    assert explorer.layer["biases"] == [0.0] and explorer.out_channel == 0
    explorer.out_channels, explorer.in_channels, explorer.kernel_size = 3, 2, 2
    X, K = notes_tensors()
    torch.testing.assert_close(torch.tensor(explorer.outputs),
                               F.conv2d(X[None], K, torch.tensor([0.0, 0.0, 3.0]))[0])


def test_a_third_input_channel_starts_at_zero_and_can_be_typed():
    explorer = ChannelsExplorer(*notes_tensors())
    explorer.in_channels = 3
    assert explorer.layer["input"][2] == [[0.0] * 3] * 3
    explorer.set_input(2, torch.arange(9.0).reshape(3, 3))
    explorer.set_kernel(0, 2, [[1.0, 1.0], [1.0, 1.0]])
    torch.testing.assert_close(explorer.output,
                               F.conv2d(explorer.X[None], explorer.K, explorer.bias)[0, 0])
    assert explorer.X.shape == (3, 3, 3) and explorer.K.shape == (3, 3, 2, 2)


def test_the_1x1_convolution_is_a_matrix_product():
    """Kernel size 1 (the end of 7.4): each output pixel mixes the channels at that pixel."""
    explorer = ChannelsExplorer(*notes_tensors())
    explorer.in_channels, explorer.kernel_size = 3, 1
    explorer.set_input(2, [[1.0, -2.0, 0.5], [3.0, 0.0, 1.0], [2.0, 2.0, -1.0]])
    X, K = explorer.X, explorer.K
    torch.testing.assert_close(torch.tensor(explorer.outputs), ops.corr2d_multi_in_out_1x1(X, K))
    for c in range(3):  # each partial is its channel times one weight
        torch.testing.assert_close(torch.tensor(explorer.partial_maps[c]),
                                   X[c] * K[explorer.out_channel, c, 0, 0])
    assert explorer.status_text.endswith("(a 1×1 convolution: each output value mixes the 3 "
                                         "input values at its own pixel, one weight each)")


def test_bad_numbers_are_a_message_and_the_next_change_fixes_them():
    explorer = ChannelsExplorer()
    good = explorer.biases
    explorer.biases = [0.0, 1.0]  # one bias short
    assert explorer.error == ("biases must be a grid of 3 numbers; the values sent to the "
                              "explorer have another shape")
    assert explorer.outputs == [] and explorer.breakdown is None
    explorer.biases = [0.0, 1e39, 0.0]  # finite in Python, infinite in float32
    assert "not a finite float32 number" in explorer.error
    explorer.biases = good
    assert explorer.error == ""
    with pytest.raises(ValueError, match=r"K\[0, 0\] must be a grid of 2 × 2 numbers"):
        explorer.set_kernel(0, 0, [[1.0, 2.0, 3.0]])
    with pytest.raises(IndexError, match="out_channel must be a whole number from 0 to 2"):
        explorer.set_bias(3, 1.0)


def test_start_values_are_checked():
    X, K = notes_tensors()
    with pytest.raises(ValueError, match="finite"):
        ChannelsExplorer(bias=[float("inf"), 0.0, 0.0])
    with pytest.raises(ValueError, match="square"):
        ChannelsExplorer(X, torch.ones(3, 2, 2, 1))
    with pytest.raises(ValueError, match="C_in = K.shape"):
        ChannelsExplorer(X, torch.ones(3, 1, 2, 2))
    explorer = ChannelsExplorer(X[None], K, bias=[1.0, 2.0, 3.0])  # a batch of one
    assert explorer.X.shape == X.shape and "2 input channels" in explorer.status_text
    assert explorer.layer["biases"] == [1.0, 2.0, 3.0]
    wide = ChannelsExplorer(torch.ones(4, 5, 5), torch.ones(5, 4, 3, 3), bias=torch.zeros(5))
    spec = {c["name"]: c["max"] for c in wide.controls}
    assert spec == {"in_channels": 4, "out_channels": 5, "kernel_size": 4, "out_channel": 4}
    torch.testing.assert_close(torch.tensor(wide.outputs),
                               F.conv2d(torch.ones(1, 4, 5, 5), torch.ones(5, 4, 3, 3))[0])


def test_the_page_gets_every_number():
    explorer = ChannelsExplorer()
    explorer.set_bias(1, -4.0)
    state = json.loads(json.dumps(explorer.page_state()))
    assert [c["name"] for c in state["controls"]] == list(CONTROLS)
    for name in (*CONTROLS, *DATA):
        assert state[name] == getattr(explorer, name), name


@needs_node
def test_esm_is_a_valid_module_exporting_render(tmp_path):
    check_esm_module(ChannelsExplorer, tmp_path)


def _compare(values: dict, explorer: ChannelsExplorer, settings) -> None:
    assert values["error"] == explorer.error, settings
    if explorer.error:
        return
    for name in ("partial_maps", "total_map", "output_map", "outputs"):
        torch.testing.assert_close(torch.tensor(values.pop(name), dtype=torch.float64),
                                   torch.tensor(getattr(explorer, name), dtype=torch.float64),
                                   rtol=0, atol=1e-4, msg=f"{name} differs for {settings}")
    for name, value in values.items():
        assert value == getattr(explorer, name), (name, settings)


@needs_node
def test_browser_compute_matches_python():
    """The website's compute(), run under Node, gives Python's values (and F.conv2d's, held
    to Python's above) for random settings and edge cases, messages word for word."""
    cases = random_settings(60, seed=3)
    rng = random.Random(5)
    bad = random_data(rng)
    cases += [
        dict(in_channels=2, out_channels=3, kernel_size=2, out_channel=0, **bad,
             ) | {"biases": [1.0, 2.0]},
        dict(in_channels=2, out_channels=3, kernel_size=2, out_channel=0, **bad,
             ) | {"weights": [[[[1.0]]]]},
        dict(in_channels=2, out_channels=3, kernel_size=2, out_channel=0, **bad,
             ) | {"inputs": [[1.0, 2.0], [3.0]]},
        dict(in_channels=2, out_channels=3, kernel_size=2, out_channel=0, **bad,
             ) | {"biases": [0.0, 1e39, 0.0]},
        dict(in_channels=2, out_channels=3, kernel_size=2, out_channel=0, **bad,
             ) | {"inputs": [[[3e38] * 3] * 3] * 3},  # each finite, their sums are not
    ]
    results = node_compute("ChannelsExplorer", "channels.js", cases)
    for settings, values in zip(cases, results, strict=True):
        _compare(values, made(settings), settings)
    assert sum(1 for values in results if values["error"]) >= 6  # the edge cases were reached
    assert results[-1]["error"] == OVERFLOW


@needs_node
def test_browser_compute_matches_python_on_another_input_size():
    """A 5×4 input given to the explorer: every kernel size up to 4 fits (k = 4 leaves a
    2×1 output), and the input keeps its shape in both languages."""
    rng = random.Random(8)
    X = torch.tensor([[round(rng.uniform(-3, 3), 2) for _ in range(20)]]).reshape(1, 5, 4)
    base = ChannelsExplorer(X, torch.ones(2, 1, 3, 3), bias=[0.5, -0.25])
    common = {name: getattr(base, name) for name in DATA}
    cases = [dict(in_channels=1, out_channels=o, kernel_size=k, out_channel=o - 1)
             for o in (1, 2) for k in (1, 2, 3, 4)]
    results = node_compute("ChannelsExplorer", "channels.js", cases, common=common)
    for settings, values in zip(cases, results, strict=True):
        explorer = ChannelsExplorer(X, torch.ones(2, 1, 3, 3), bias=[0.5, -0.25])
        for name in CONTROLS:
            setattr(explorer, name, settings[name])
        _compare(values, explorer, settings)
    assert [values["error"] for values in results] == [""] * len(cases)
    assert results[3]["layer"]["output_size"] == [2, 1]


def test_the_output_carries_a_picture_and_the_website_form(monkeypatch):
    from cnnlib.widgets.page import PAGE_FORMS_VARIABLE

    monkeypatch.delenv(PAGE_FORMS_VARIABLE, raising=False)
    data, _ = ChannelsExplorer()._repr_mimebundle_()
    assert data["text/plain"] == "ChannelsExplorer: run this cell for the live explorer"
    assert base64.b64decode(data["image/png"])[:4] == b"\x89PNG"
    assert "text/html" not in data
    monkeypatch.setenv(PAGE_FORMS_VARIABLE, "1")
    widget = ChannelsExplorer()
    widget.set_bias(0, 1.5)
    data, _ = widget._repr_mimebundle_()
    form = data["text/html"]
    state = json.loads(re.search(r"CNNExplorers\.mount\(mount, \"ChannelsExplorer\", "
                                 r"(\{.*\})\);", form).group(1))
    assert state == json.loads(json.dumps(widget.page_state()))
    assert 'alt="ChannelsExplorer: Y[0] = X[0] ⋆ K[0, 0] + X[1] ⋆ K[0, 1] + 1.5' in form
    assert not re.search(r'(src|href)="https?:', form)
