"""The live (anywidget) pooling explorer: traitlets in, PyTorch's numbers out.

Headless: no browser, no kernel. The front-end's own compute() is run under Node against
the same settings, so the website's numbers are held to Python's (and PyTorch's) here too.
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

from cnnlib.ops import pool2d, size_formula
from cnnlib.widgets.pooling import ARANGE, RANDOM, PoolingExplorer, example_inputs

SLIDERS = ("kernel_size", "stride", "padding")


def random_settings(count: int, seed: int) -> list[dict]:
    """Settings across every control's range, edge cases first."""
    edges = [
        dict(mode="max", input_choice=ARANGE, kernel_size=6, stride=1, padding=0),  # k > 4
        dict(mode="avg", input_choice=ARANGE, kernel_size=6, stride=1, padding=1),  # k > 4 + 2
        dict(mode="max", input_choice=RANDOM, kernel_size=2, stride=4, padding=0),  # s > k
        dict(mode="avg", input_choice=RANDOM, kernel_size=1, stride=3, padding=0),
        dict(mode="max", input_choice=RANDOM, kernel_size=2, stride=2, padding=2),  # p > k/2
        dict(mode="avg", input_choice=ARANGE, kernel_size=3, stride=1, padding=2),  # p > k/2
        dict(mode="max", input_choice=ARANGE, kernel_size=4, stride=4, padding=0),  # 1×1 output
        dict(mode="avg", input_choice=RANDOM, kernel_size=4, stride=2, padding=2),  # ties /16
        dict(mode="max", input_choice=ARANGE, kernel_size=3, stride=2, padding=1),  # the notes'
    ]
    rng = random.Random(seed)
    return edges + [
        dict(mode=rng.choice(["max", "avg"]), input_choice=rng.choice([ARANGE, RANDOM]),
             kernel_size=rng.randint(1, 4), stride=rng.randint(1, 4), padding=rng.randint(0, 2),
             row=rng.randint(0, 6), col=rng.randint(0, 6))
        for _ in range(count)
    ]


def made(settings: dict) -> PoolingExplorer:
    """A fresh explorer set to settings one control at a time, as a reader moves them."""
    explorer = PoolingExplorer()
    for name, value in settings.items():
        setattr(explorer, name, value)
    return explorer


def torch_says(settings: dict) -> dict:
    """What PyTorch (and cnnlib's checks, for the words) say for these settings."""
    X = example_inputs()[settings["input_choice"]]
    k, s, p, mode = (settings[n] for n in ("kernel_size", "stride", "padding", "mode"))
    try:
        pool2d(X, k, mode, p, s)  # cnnlib's own message for a bad setting
    except ValueError as err:
        return {"error": str(err)}
    x = X[None, None]
    if mode == "max":
        Y, indices = F.max_pool2d(x, k, s, p, return_indices=True)
    else:
        Y, indices = F.avg_pool2d(x, k, s, p), None
    Y = Y[0, 0]
    row = min(settings.get("row", 0), Y.shape[0] - 1)
    col = min(settings.get("col", 0), Y.shape[1] - 1)
    taken = None if indices is None else divmod(int(indices[0, 0, row, col]), X.shape[1])
    return {"error": "", "Y": Y, "row": row, "col": col, "taken": taken, "indices": indices,
            "X": X}


@pytest.mark.parametrize("settings", random_settings(30, seed=21))
def test_derived_values_follow_pytorch(settings):
    explorer = made(settings)
    want = torch_says(settings)
    assert explorer.error == want["error"]
    if want["error"]:
        assert explorer.status_text == want["error"]
        for name in explorer.derived_names():
            assert getattr(explorer, name) == explorer.trait_defaults(name), name
        assert explorer.pooling is None and explorer.picture_png() is None
        return
    Y, row, col, X = want["Y"], want["row"], want["col"], want["X"]
    k, s, p = (settings[n] for n in SLIDERS)
    torch.testing.assert_close(torch.tensor(explorer.output), Y, rtol=0, atol=1e-6)
    assert (explorer.row, explorer.col) == (row, col)
    assert explorer.geometry["output"] == list(Y.shape)
    assert explorer.geometry["window"] == [[row * s + a for a in range(k)],
                                           [col * s + a for a in range(k)]]
    padded = F.pad(X, (p, p, p, p), value=float("-inf") if settings["mode"] == "max" else 0.0)
    window = padded[row * s: row * s + k, col * s: col * s + k]
    assert explorer.window_values == [[None if v == float("-inf") else v for v in line]
                                      for line in window.tolist()]
    pool = "MaxPool2d" if settings["mode"] == "max" else "AvgPool2d"
    status = (f"output size {size_formula(X.shape[0], k, p, s)} per side: "
              f"{Y.shape[0]}×{Y.shape[1]} (nn.{pool}({k}, stride={s}, padding={p}))")
    if want["taken"] is not None:
        assert explorer.chosen == want["taken"]
        assert explorer.source == [want["taken"][0] + p, want["taken"][1] + p]
        every = [list(divmod(int(i), X.shape[1])) for i in want["indices"].flatten()]
        assert explorer.sources == [[r + p, c + p] for r, c in every]
        assert X[want["taken"]] == Y[row, col] == window.max()
        status += f"; this output takes input cell {want['taken']}"
    else:
        assert explorer.chosen is None and explorer.source == [] == explorer.sources
        torch.testing.assert_close(window.mean(), Y[row, col])
        if p:
            status += f"; the mean divides by all {k * k} cells, padding zeros included"
    assert explorer.status_text == status
    assert explorer.equation.startswith(f"Y[{row}, {col}] = ")
    assert explorer.header.endswith(explorer.equation)


def test_the_status_and_equation_of_the_notes_setting():
    explorer = PoolingExplorer(input_name=ARANGE, kernel_size=3, stride=2, padding=1)
    X = torch.arange(16.0).reshape(1, 1, 4, 4)
    Y = F.max_pool2d(X, 3, 2, 1)[0, 0]
    assert explorer.output == Y.tolist()
    assert explorer.equation == f"Y[0, 0] = max(-∞, -∞, -∞, -∞, 0, 1, -∞, 4, 5) = {int(Y[0, 0])}"
    assert explorer.titles == ["X padded (1, 1) with -∞", "output Y"]
    explorer.mode = "avg"
    assert explorer.titles == ["X padded (1, 1) with 0", "output Y"]
    assert explorer.status_text.endswith("; the mean divides by all 9 cells, padding zeros "
                                         "included")


def test_a_bad_setting_is_a_message_and_the_next_change_fixes_it():
    explorer = PoolingExplorer(kernel_size=2, padding=1)
    explorer.padding = 2
    with pytest.raises(ValueError) as err:
        pool2d(explorer.X, 2, "max", 2, 2)
    assert explorer.error == str(err.value) == explorer.status_text
    assert explorer.output == [] and explorer.geometry == {} and explorer.window is None
    explorer.kernel_size = 4  # padding 2 is half of 4: PyTorch allows it
    assert explorer.error == "" and explorer.output_shape == (4, 4)


def test_row_and_col_follow_the_output():
    explorer = PoolingExplorer(kernel_size=1, stride=1)
    explorer.row, explorer.col = 5, 4
    assert explorer.geometry["position"] == [5, 4]
    explorer.stride = 4  # output 2×2: the chosen cell moves to its last row/col
    assert (explorer.row, explorer.col) == (1, 1)


def test_start_values_and_menus_are_checked():
    with pytest.raises(ValueError, match="mode must be 'max' or 'avg', got 'min'"):
        PoolingExplorer(mode="min")
    with pytest.raises(ValueError, match="unknown input 'cat'"):
        PoolingExplorer(input_name="cat")
    with pytest.raises(ValueError, match="kernel_size must be at least 1"):
        PoolingExplorer(kernel_size=0)
    with pytest.raises(TypeError, match="whole number"):
        PoolingExplorer(stride=1.5)
    explorer = PoolingExplorer()
    explorer.mode = "median"  # a value no menu offers: a message, not an exception
    assert explorer.error == "mode must be 'max' or 'avg', got 'median'"
    explorer.mode = "avg"
    assert explorer.error == ""


def test_the_page_gets_pythons_inputs():
    explorer = PoolingExplorer(mode="avg", input_name=ARANGE)
    state = json.loads(json.dumps(explorer.page_state()))
    assert list(state["inputs"]) == [ARANGE, RANDOM]
    for name, X in example_inputs().items():
        assert torch.equal(torch.tensor(state["inputs"][name]), X)
    assert (state["mode"], state["input_choice"]) == ("avg", ARANGE)
    assert [c["name"] for c in state["controls"]] == list(SLIDERS)


@needs_node
def test_esm_is_a_valid_module_exporting_render(tmp_path):
    check_esm_module(PoolingExplorer, tmp_path)


@needs_node
def test_browser_compute_matches_python():
    """The website's compute(), run under Node, gives Python's values for every setting."""
    cases = random_settings(80, seed=3) + [
        dict(mode="max", input_choice="cat", kernel_size=2, stride=2, padding=0),
        dict(mode="min", input_choice=RANDOM, kernel_size=2, stride=2, padding=0),
    ]
    inputs = PoolingExplorer().inputs
    results = node_compute("PoolingExplorer", "pooling.js", cases,
                           common={"row": 0, "col": 0, "inputs": inputs})
    for settings, values in zip(cases, results, strict=True):
        explorer = made(settings)
        assert values["error"] == explorer.error, settings
        if explorer.error:
            continue
        torch.testing.assert_close(torch.tensor(values.pop("output"), dtype=torch.float64),
                                   torch.tensor(explorer.output, dtype=torch.float64),
                                   rtol=0, atol=1e-6)
        for name, value in values.items():
            assert value == getattr(explorer, name), (name, settings)


def test_the_output_carries_a_picture_and_the_website_form(monkeypatch):
    from cnnlib.widgets.page import PAGE_FORMS_VARIABLE

    monkeypatch.delenv(PAGE_FORMS_VARIABLE, raising=False)
    data, _ = PoolingExplorer()._repr_mimebundle_()
    assert data["text/plain"] == "PoolingExplorer: run this cell for the live explorer"
    assert base64.b64decode(data["image/png"])[:4] == b"\x89PNG"
    assert "text/html" not in data
    monkeypatch.setenv(PAGE_FORMS_VARIABLE, "1")
    widget = PoolingExplorer(mode="avg", kernel_size=3, stride=1, padding=1)
    data, _ = widget._repr_mimebundle_()
    form = data["text/html"]
    state = json.loads(re.search(r"CNNExplorers\.mount\(mount, \"PoolingExplorer\", "
                                 r"(\{.*\})\);", form).group(1))
    assert state == json.loads(json.dumps(widget.page_state()))
    assert 'alt="PoolingExplorer: output size (6 + 2·1 − 3) + 1 = 6 per side' in form
    assert not re.search(r'(src|href)="https?:', form)
