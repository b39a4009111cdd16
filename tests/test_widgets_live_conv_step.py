"""The live (anywidget) convolution step-through: traitlets in, PyTorch's numbers out.

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

from cnnlib.viz.cell_grid import format_value
from cnnlib.widgets.conv_steps import NOTES_K, NOTES_X, ConvStepExplorer

NUMBERS = ("padded", "products", "running", "total", "output")


def integer_matrix(rng: random.Random, h: int, w: int) -> torch.Tensor:
    """Whole numbers from -5 to 5: every sum is exact in float32, so the texts agree."""
    return torch.tensor([[float(rng.randint(-5, 5)) for _ in range(w)] for _ in range(h)])


def random_cases(count: int, seed: int) -> list[dict]:
    """Inputs, kernels and settings, edge cases first (X and K as tensors)."""
    rng = random.Random(seed)
    edges = [
        dict(X=NOTES_X, K=NOTES_K, padding=1, stride=2, step=3),  # the chapter's
        dict(X=NOTES_X, K=NOTES_K, padding=0, stride=1, step=0),  # zero padding
        dict(X=torch.ones(2, 2), K=torch.ones(3, 3), padding=0, stride=1, step=0),  # k > n
        dict(X=torch.ones(2, 2), K=torch.ones(3, 3), padding=1, stride=1, step=0),  # fits again
        dict(X=NOTES_X, K=NOTES_K, padding=2, stride=3, step=9),  # stride > kernel
        dict(X=integer_matrix(rng, 4, 4), K=torch.ones(2, 2), padding=0, stride=2, step=3),
        dict(X=integer_matrix(rng, 1, 3), K=integer_matrix(rng, 2, 2), padding=0, stride=1,
             step=0),  # too tall a kernel: the message names the padded input
        dict(X=integer_matrix(rng, 5, 4), K=integer_matrix(rng, 1, 3), padding=2, stride=3,
             step=40),  # a step past the output: its last cell
        dict(X=integer_matrix(rng, 4, 4), K=integer_matrix(rng, 4, 4), padding=0, stride=1,
             step=0),  # 16 products: the equation names the sum
    ]
    return edges + [
        dict(X=integer_matrix(rng, rng.randint(1, 5), rng.randint(1, 5)),
             K=integer_matrix(rng, rng.randint(1, 3), rng.randint(1, 3)),
             padding=rng.randint(0, 2), stride=rng.randint(1, 3), step=rng.randint(0, 30))
        for _ in range(count)
    ]


def made(case: dict) -> ConvStepExplorer:
    """The explorer on X and K, then set one control at a time, as a reader moves them."""
    explorer = ConvStepExplorer(case["X"], case["K"], padding=0, stride=1) if fits(
        case["X"], case["K"], 0) else ConvStepExplorer(case["X"], case["K"], padding=2)
    for name in ("padding", "stride", "step"):
        setattr(explorer, name, case[name])
    return explorer


def fits(X: torch.Tensor, K: torch.Tensor, padding: int) -> bool:
    return all(k <= n + 2 * padding for n, k in zip(X.shape, K.shape, strict=True))


def torch_says(case: dict) -> dict:
    """What F.conv2d says: the output, and this step's cell, window and products."""
    X, K, p, s = case["X"], case["K"], case["padding"], case["stride"]
    if not fits(X, K, p):
        return {"error": (f"kernel K.shape={tuple(K.shape)} is larger than input X.shape="
                          f"{(X.shape[0] + 2 * p, X.shape[1] + 2 * p)} in at least one "
                          "dimension; pad the input or use a smaller kernel")}
    Y = F.conv2d(X[None, None], K[None, None], padding=p, stride=s)[0, 0]
    step = min(case["step"], Y.numel() - 1)
    i, j = divmod(step, Y.shape[1])
    padded = F.pad(X, (p, p, p, p))
    kh, kw = K.shape
    window = padded[i * s: i * s + kh, j * s: j * s + kw]
    return {"error": "", "Y": Y, "step": step, "position": (i, j), "padded": padded,
            "products": window * K, "window": window}


@pytest.mark.parametrize("case", random_cases(20, seed=22), ids=lambda c: "case")
def test_every_number_follows_pytorch(case):
    explorer = made(case)
    want = torch_says(case)
    assert explorer.error == want["error"]
    if want["error"]:
        assert explorer.status_text == want["error"]
        for name in explorer.derived_names():
            assert getattr(explorer, name) == explorer.trait_defaults(name) or name == "total"
        assert explorer.current is None and explorer.picture_png() is None
        return
    Y, (i, j) = want["Y"], want["position"]
    torch.testing.assert_close(torch.tensor(explorer.output), Y, rtol=0, atol=1e-6)
    assert explorer.step == want["step"] and explorer.num_steps == Y.numel()
    assert explorer.position == (i, j) and explorer.geometry["output"] == list(Y.shape)
    assert torch.equal(torch.tensor(explorer.padded), want["padded"])
    torch.testing.assert_close(torch.tensor(explorer.products), want["products"])
    torch.testing.assert_close(torch.tensor(explorer.running),
                               torch.cumsum(want["products"].flatten(), 0))
    assert explorer.total == pytest.approx(Y[i, j].item(), abs=1e-5)
    filled = ~torch.isnan(explorer.filled)
    assert filled.sum() == explorer.step + 1
    torch.testing.assert_close(explorer.filled[filled], Y[filled])
    kh, kw = case["K"].shape
    s = case["stride"]
    assert explorer.geometry["window"] == [[i * s + u for u in range(kh)],
                                           [j * s + v for v in range(kw)]]
    assert explorer.status_text == (
        f"step {explorer.step + 1} of {Y.numel()}: output cell ({i}, {j}) reads the window at "
        f"rows {i * s}–{i * s + kh - 1}, columns {j * s}–{j * s + kw - 1} of the padded "
        f"input; the {kh * kw} products sum to {format_value(Y[i, j].item())}")


def test_the_chapters_steps_equal_conv2d():
    explorer = ConvStepExplorer(NOTES_X, NOTES_K, padding=1, stride=2)
    Y = F.conv2d(NOTES_X[None, None], NOTES_K[None, None], padding=1, stride=2)[0, 0]
    assert explorer.num_steps == Y.numel() == 4
    for index in range(Y.numel()):
        explorer.step = index
        assert explorer.total == Y[explorer.position].item()
    assert explorer.equation == "Y[1, 1] = 4·0 + 5·1 + 7·2 + 8·3 = 43"
    assert explorer.header == f"step 4 of 4:  {explorer.equation}"
    assert explorer.titles == ["padded input X", "kernel K", "products", "output Y"]


def test_a_step_past_the_output_moves_to_its_last_cell():
    """Issue 22: the page's step slider ran 0-15 at stride 2 and snapped back."""
    explorer = ConvStepExplorer(padding=2, stride=1)
    explorer.step = 30  # 6x6 output: 36 steps
    assert explorer.step == 30
    explorer.stride = 2  # 3x3: the step is pulled back to the last of 9
    assert (explorer.step, explorer.num_steps) == (8, 9)
    explorer.padding = 0  # 1x1: one step
    assert (explorer.step, explorer.num_steps, explorer.total) == (0, 1, 19.0)
    assert "sum to 19" in explorer.status_text


def test_a_kernel_larger_than_the_input_is_a_message_and_padding_fixes_it():
    explorer = ConvStepExplorer(torch.ones(1, 3), torch.ones(2, 2), padding=1)
    explorer.padding = 0
    assert explorer.error.startswith("kernel K.shape=(2, 2) is larger than input X.shape=(1, 3)")
    assert explorer.output == [] and explorer.filled is None and explorer.position is None
    explorer.padding = 1
    Y = F.conv2d(torch.ones(1, 1, 1, 3), torch.ones(1, 1, 2, 2), padding=1)
    assert explorer.error == "" and explorer.num_steps == Y.numel()


@pytest.mark.parametrize(("make", "error", "match"), [
    (lambda: ConvStepExplorer(torch.ones(1, 1, 3, 3)), ValueError, "one 2-D matrix"),
    (lambda: ConvStepExplorer(K=torch.ones(2, 2, dtype=torch.int64)), TypeError, "K.float()"),
    (lambda: ConvStepExplorer(torch.full((2, 2), float("nan"))), ValueError, "finite"),
    (lambda: ConvStepExplorer(torch.ones(1, 3), torch.ones(2, 2)), ValueError, "larger than"),
    (lambda: ConvStepExplorer(padding=-1), ValueError, "padding must be at least 0"),
    (lambda: ConvStepExplorer(stride=1.5), TypeError, "stride must be a whole number"),
    (lambda: ConvStepExplorer(step=-1), ValueError, "step must be a whole number >= 0"),
    (lambda: ConvStepExplorer(interval=10), ValueError, "interval"),
])
def test_impossible_start_values_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_start_values_past_a_slider_widen_it():
    explorer = ConvStepExplorer(padding=4, stride=5)
    spec = {c["name"]: c for c in explorer.controls}
    assert (explorer.padding, explorer.stride) == (4, 5)
    assert spec["padding"]["max"] >= 4 and spec["stride"]["max"] >= 5
    Y = F.conv2d(NOTES_X[None, None], NOTES_K[None, None], padding=4, stride=5)[0, 0]
    assert explorer.geometry["output"] == list(Y.shape)


def test_the_page_gets_pythons_input_kernel_and_interval():
    X = torch.arange(16.0).reshape(4, 4)
    explorer = ConvStepExplorer(X, torch.ones(2, 2), stride=2, interval=800)
    state = json.loads(json.dumps(explorer.page_state()))
    assert torch.equal(torch.tensor(state["input_values"]), X)
    assert state["kernel_values"] == [[1.0, 1.0], [1.0, 1.0]] and state["interval"] == 800
    assert (state["step"], state["padding"], state["stride"]) == (0, 0, 2)
    assert [c["name"] for c in state["controls"]] == ["padding", "stride"]


@needs_node
def test_esm_is_a_valid_module_exporting_render(tmp_path):
    check_esm_module(ConvStepExplorer, tmp_path)


@needs_node
def test_browser_compute_matches_python():
    """The website's compute(), run under Node, gives Python's values for every setting."""
    cases = random_cases(60, seed=3)
    states = [dict(input_values=c["X"].tolist(), kernel_values=c["K"].tolist(),
                   padding=c["padding"], stride=c["stride"], step=c["step"]) for c in cases]
    results = node_compute("ConvStepExplorer", "conv-step.js", states)
    assert any(r["error"] for r in results) and any(not r["error"] for r in results)
    for case, values in zip(cases, results, strict=True):
        explorer = made(case)
        assert values["error"] == explorer.error, case
        if explorer.error:
            continue
        for name in NUMBERS:  # float32 on both sides; compared to the last bits
            torch.testing.assert_close(torch.tensor(values.pop(name), dtype=torch.float64),
                                       torch.tensor(getattr(explorer, name),
                                                    dtype=torch.float64), rtol=0, atol=1e-6)
        for name, value in values.items():
            assert value == getattr(explorer, name), (name, case)


@needs_node
def test_browser_compute_writes_values_as_python_does():
    """Non-integer values: the labels round as format_value does (ties to even)."""
    X = torch.tensor([[0.125, -0.375, 2.5], [1.005, 0.5, -0.0]])
    K = torch.tensor([[0.5, 1.0], [0.25, -1.0]])
    explorer = ConvStepExplorer(X, K, padding=1)
    [values] = node_compute("ConvStepExplorer", "conv-step.js", [dict(
        input_values=explorer.input_values, kernel_values=explorer.kernel_values,
        padding=1, stride=1, step=5)])
    explorer.step = 5
    assert values["equation"] == explorer.equation and values["summary"] == explorer.summary


def test_the_output_carries_a_picture_and_the_website_form(monkeypatch):
    from cnnlib.widgets.page import PAGE_FORMS_VARIABLE

    monkeypatch.delenv(PAGE_FORMS_VARIABLE, raising=False)
    data, _ = ConvStepExplorer()._repr_mimebundle_()
    assert data["text/plain"] == "ConvStepExplorer: run this cell for the live explorer"
    assert base64.b64decode(data["image/png"])[:4] == b"\x89PNG"
    assert "text/html" not in data
    monkeypatch.setenv(PAGE_FORMS_VARIABLE, "1")
    widget = ConvStepExplorer(NOTES_X, NOTES_K, padding=1, stride=2)
    form = widget._repr_mimebundle_()[0]["text/html"]
    state = json.loads(re.search(r"CNNExplorers\.mount\(mount, \"ConvStepExplorer\", "
                                 r"(\{.*\})\);", form).group(1))
    assert state == json.loads(json.dumps(widget.page_state()))
    assert 'alt="ConvStepExplorer: step 1 of 4: output cell (0, 0)' in form
    assert not re.search(r'(src|href)="https?:', form)
