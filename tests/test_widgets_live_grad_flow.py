"""The live (anywidget) gradient-flow explorer (8.6) and the table the website reads.

Headless: no browser, no kernel. The recorded table (cnnlib/weights/grad_flow_table.json,
made by scripts/record_grad_flow.py) is held to fresh PyTorch, must hold every setting the
controls allow, and the front-end's own compute() (what the website runs) is run under Node
for every one of them and compared with Python's status line and numbers.
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import random
import re
import subprocess

import numpy as np
import pytest
import torch
from live_harness import NODE, check_esm_module, front_end_scripts, needs_node, node_compute

from cnnlib.explain import grad_flow as gf
from cnnlib.training.parallel import torch_threads
from cnnlib.widgets.grad_flow import GradientFlowExplorer, format_ratio, status_lines

ALL_SETTINGS = list(itertools.product(gf.DEPTHS, (False, True), gf.INITS, gf.SEEDS))


@pytest.fixture(scope="module")
def table() -> dict:
    return gf.load_table()


@pytest.fixture(scope="module")
def explorer() -> GradientFlowExplorer:
    return GradientFlowExplorer()  # as the chapter builds it


def _fresh(depth, batch_norm, init, seed, X, y):
    """PyTorch's numbers for one setting now, as the recording script computes them."""
    with torch_threads(1):
        plain, residual = gf.twin_networks(depth, batch_norm, init, seed, width=8)
        return gf.gradient_flow(plain, X, y), gf.gradient_flow(residual, X, y)


def _close(got: gf.GradientFlow, want: gf.GradientFlow) -> None:
    torch.testing.assert_close(got.weight_norms, want.weight_norms, rtol=1e-5, atol=0)
    torch.testing.assert_close(got.output_norms, want.output_norms, rtol=1e-5, atol=0)
    assert got.loss == pytest.approx(want.loss, rel=1e-5, abs=0)


def test_the_table_holds_every_setting_the_controls_allow(table):
    wanted = {gf.setting_key(*s) for s in ALL_SETTINGS}
    assert len(wanted) == 200
    missing = wanted - set(table["flows"])
    assert not missing, f"{len(missing)} settings missing, e.g. {sorted(missing)[:3]}; " \
        "remake the table with python scripts/record_grad_flow.py"
    assert set(table["flows"]) == wanted  # and nothing else
    settings = table["settings"]
    assert (tuple(settings["depths"]), tuple(settings["inits"]), tuple(settings["seeds"])) == (
        gf.DEPTHS, gf.INITS, gf.SEEDS)
    assert table["command"].startswith("python scripts/record_grad_flow.py")
    assert table["torch"] and table["threads"] == 1
    for depth, batch_norm, init, seed in ALL_SETTINGS:
        plain, residual = gf.decode_flows(table["flows"][gf.setting_key(depth, batch_norm,
                                                                        init, seed)])
        assert plain.weight_norms.numel() == residual.output_norms.numel() == depth
    # The explorer the chapter builds uses the batch the table was made on.
    X, y = gf.training_batch()
    assert table["batch_sha256"] == gf.batch_fingerprint(X, y)


def test_the_table_is_what_pytorch_computes(table):
    """Several settings drawn at random each run, and the two deepest extremes, recomputed."""
    X, y = gf.training_batch()
    rng = random.Random()
    picks = rng.sample(ALL_SETTINGS, 4) + [(56, False, "default", 0), (56, True, "kaiming", 9)]
    for setting in picks:
        recorded = gf.decode_flows(table["flows"][gf.setting_key(*setting)])
        for got, want in zip(recorded, _fresh(*setting, X, y), strict=True):
            _close(got, want)


def test_encoding_keeps_float32_values_exactly():
    flows = (gf.GradientFlow(torch.tensor([0.0, 1e-30, 3.5, float("inf")]),
                             torch.tensor([1.0, 2.0, 0.1, 7.0]), float(np.float32(2.3))),
             gf.GradientFlow(torch.rand(4), torch.rand(4), float(np.float32(1e5))))
    back = gf.decode_flows(gf.encode_flows(*flows))
    for a, b in zip(flows, back, strict=True):
        assert torch.equal(a.weight_norms, b.weight_norms)
        assert torch.equal(a.output_norms, b.output_norms)
        assert a.loss == b.loss
    with pytest.raises(ValueError, match="not a float32 value"):
        gf.encode_flows(gf.GradientFlow(torch.ones(4), torch.ones(4), 0.1), flows[1])
    with pytest.raises(ValueError, match="4 \\* depth \\+ 2"):
        gf.decode_flows(base64.b64encode(b"\0" * 12).decode())


def test_the_explorer_computes_the_tables_numbers_with_pytorch(explorer, table):
    # The chapter's start setting, then two others, all computed by PyTorch in Python.
    for depth, batch_norm, init, seed in ((56, True, "kaiming", 0), (8, False, "default", 3),
                                          (32, True, "default", 9)):
        explorer.depth, explorer.batch_norm, explorer.init, explorer.seed = (
            depth, batch_norm, init, seed)
        assert explorer.error == ""
        recorded = gf.decode_flows(table["flows"][gf.setting_key(depth, batch_norm, init,
                                                                 seed)])
        for got, want in zip((explorer.plain, explorer.residual), recorded, strict=True):
            _close(got, want)
        assert explorer.summary == status_lines(depth, seed, explorer.shape, explorer.plain,
                                                explorer.residual)
        assert explorer.status_text == "\n".join(explorer.summary)
        assert explorer.describe() == "<br>".join(html.escape(line) for line in explorer.summary)
    explorer.depth, explorer.batch_norm, explorer.init, explorer.seed = 56, True, "kaiming", 0


def test_the_status_line_reads_as_before():
    X, y = gf.training_batch(16)
    explorer = GradientFlowExplorer(X, y, depth=4, batch_norm=False, init="default", seed=1)
    plain = explorer.plain
    first = explorer.summary[0]
    assert first == "4 blocks of 8 channels at 14×14 px, 16 images, at initialisation (seed 1)"
    assert explorer.summary[1].startswith(
        f"plain: first/last block ‖∂loss/∂W‖ = {plain.ratio('weight'):.3g}, "
        f"‖∂loss/∂H‖ = {plain.ratio('output'):.3g}; loss at init {plain.loss:.3g}")
    assert format_ratio(float("nan")) == "0/0"
    assert format_ratio(float("inf")) == "∞ (the last block's gradient is 0)"


def test_a_bad_setting_is_a_message_and_the_next_change_fixes_it():
    X, y = gf.training_batch(8)
    explorer = GradientFlowExplorer(X, y, depth=4)
    explorer.depth = 0
    assert explorer.error == "depth must be a whole number >= 1, got 0"
    assert explorer.flows == {} and explorer.summary == [] and explorer.plain is None
    assert explorer.status_text == explorer.error and explorer.picture_png() is None
    explorer.depth = 4
    assert explorer.error == "" and len(explorer.flows["plain"]["weight"]) == 4
    explorer.init = "xavier"
    assert explorer.error == "init must be one of ('default', 'kaiming'), got 'xavier'"
    explorer.init = "default"
    explorer.seed = -1
    assert explorer.error == "seed must be a whole number >= 0, got -1"


def test_start_values_are_checked():
    X, y = gf.training_batch(4)
    with pytest.raises(ValueError, match="seed must be"):
        GradientFlowExplorer(X, y, seed=-2)
    with pytest.raises(ValueError, match="width must be"):
        GradientFlowExplorer(X, y, width=0)
    widened = GradientFlowExplorer(X, y, depth=6, seed=12)
    assert widened.depths == [4, 6, 8, 16, 32, 56]
    assert widened.controls == [{"name": "seed", "label": "seed", "min": 0, "max": 12}]


def test_the_page_gets_the_table_only_for_the_batch_it_was_made_on(explorer, table):
    state = json.loads(json.dumps(explorer.page_state()))
    assert state["table"]["flows"] == table["flows"]
    assert state["depths"] == list(gf.DEPTHS) and state["shape"] == {
        "images": 64, "channels": 8, "height": 14, "width": 14}
    assert [value for _, value in state["inits"]] == list(gf.INITS)
    X, y = gf.training_batch(8)
    assert GradientFlowExplorer(X, y, depth=4).page_state()["table"] == {}


def _expected(table, shape, depth, batch_norm, init, seed) -> dict:
    plain, residual = gf.decode_flows(table["flows"][gf.setting_key(depth, batch_norm, init,
                                                                    seed)])
    as_json = {name: {"weight": [v if np.isfinite(v) else None for v in
                                 flow.weight_norms.double().tolist()],
                      "output": [v if np.isfinite(v) else None for v in
                                 flow.output_norms.double().tolist()],
                      "loss": flow.loss if np.isfinite(flow.loss) else None}
               for name, flow in (("plain", plain), ("residual", residual))}
    return {"error": "", "flows": as_json,
            "summary": status_lines(depth, seed, shape, plain, residual)}


@needs_node
def test_browser_compute_matches_python_for_every_setting(explorer, table):
    """The website's compute(), under Node, writes Python's status line for all 200."""
    cases = [dict(depth=d, batch_norm=b, init=i, seed=s) for d, b, i, s in ALL_SETTINGS]
    common = {"table": explorer.page_state()["table"], "shape": explorer.shape}
    results = node_compute("GradientFlowExplorer", "grad-flow.js", cases, common=common)
    for case, got in zip(cases, results, strict=True):
        assert got == _expected(table, explorer.shape, **case), case
    # The page's words for what it cannot show; Python's words for a bad setting.
    bad = [dict(depth=0, batch_norm=True, init="kaiming", seed=0),
           dict(depth=8, batch_norm=True, init="xavier", seed=0),
           dict(depth=8, batch_norm=True, init="default", seed=-1)]
    errors = node_compute("GradientFlowExplorer", "grad-flow.js", bad, common=common)
    for case, got in zip(bad, errors, strict=True):
        X, y = gf.training_batch(4)
        python = GradientFlowExplorer(X, y, depth=4)
        for name, value in case.items():
            setattr(python, name, value)
        assert got == {"error": python.error}
    missing = node_compute("GradientFlowExplorer", "grad-flow.js",
                           [dict(depth=12, batch_norm=True, init="kaiming", seed=0),
                            dict(depth=8, batch_norm=True, init="kaiming", seed=10)],
                           common=common)
    for got in missing:
        assert got["error"].startswith("this page has PyTorch's numbers for depths "
                                       "4, 8, 16, 32, 56 and seeds 0–9, not depth ")
    other = node_compute("GradientFlowExplorer", "grad-flow.js", cases[:1],
                         common={"table": {}, "shape": explorer.shape})
    assert "run the notebook" in other[0]["error"]


@needs_node
def test_the_front_ends_number_format_is_pythons():
    """formatG(x, 3) against f"{x:.3g}": random magnitudes, exact ties, edges."""
    rng = random.Random(5)
    values = [0.0, -0.0, 1.0, 0.125, 1.125, 2.5, 0.0001, 0.00012345, 1e-5, 999.5, 9995.0,
              0.0009995, 100.0, 123456.0, 1e21, 5e-324, 1.7976931348623157e308,
              float("inf"), float("-inf"), float("nan"), -2.345, 2.345, 1.5e-7]
    values += [rng.uniform(0.5, 10) * 10.0 ** rng.randint(-12, 12) for _ in range(400)]
    values += [float(np.float32(rng.uniform(0, 5))) for _ in range(200)]
    scripts = [str(p) for p in front_end_scripts("grad-flow.js")]
    program = (
        "const vm = require('vm'); const fs = require('fs');"
        "const context = vm.createContext({console});"
        f"for (const f of {json.dumps(scripts)})"
        "  vm.runInContext(fs.readFileSync(f, 'utf8'), context, {filename: f});"
        "const g = vm.runInContext('CNNExplorers.get(\"GradientFlowExplorer\").formatG', context);"
        "const values = JSON.parse(fs.readFileSync(0, 'utf8')).map((v) => v === 'nan' ? NaN :"
        " v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === '-0' ? -0 : v);"
        "console.log(JSON.stringify(values.map((v) => g(v, 3))));"
    )
    encoded = ["nan" if v != v else "inf" if v == float("inf") else "-inf"
               if v == float("-inf") else "-0" if (v == 0 and str(v).startswith("-")) else v
               for v in values]
    out = subprocess.run([NODE, "-e", program], input=json.dumps(encoded), check=True,
                         capture_output=True, text=True).stdout
    assert json.loads(out) == [f"{v:.3g}" for v in values]


@needs_node
def test_esm_is_a_valid_module_exporting_render(tmp_path):
    check_esm_module(GradientFlowExplorer, tmp_path)


def test_the_output_carries_a_picture_and_the_website_form(monkeypatch, explorer):
    from cnnlib.widgets.page import PAGE_FORMS_VARIABLE

    monkeypatch.delenv(PAGE_FORMS_VARIABLE, raising=False)
    data, _ = explorer._repr_mimebundle_()
    assert data["text/plain"] == "GradientFlowExplorer: run this cell for the live explorer"
    assert base64.b64decode(data["image/png"])[:4] == b"\x89PNG"
    assert "text/html" not in data
    monkeypatch.setenv(PAGE_FORMS_VARIABLE, "1")
    data, _ = explorer._repr_mimebundle_()
    form = data["text/html"]
    state = json.loads(re.search(r"CNNExplorers\.mount\(mount, \"GradientFlowExplorer\", "
                                 r"(\{.*\})\);", form).group(1))
    assert state == json.loads(json.dumps(explorer.page_state()))
    assert 'alt="GradientFlowExplorer: 56 blocks of 8 channels' in form
    assert not re.search(r'(src|href)="https?:', form)


def test_depth_index_is_the_depth_sliders_position():
    X, y = gf.training_batch(4)
    explorer = GradientFlowExplorer(X, y, depth=4)
    assert explorer.depth_index == 0
    explorer.depth_index = 1
    assert explorer.depth == 8 and explorer.depth_index == 1
    with pytest.raises(ValueError, match=r"depth_index must be a whole number from 0 to 4"):
        explorer.depth_index = 5
    explorer.depth = 12  # a depth no slider position offers
    assert explorer.depth_index == -1 and explorer.error == ""
    assert GradientFlowExplorer(X, y, depth=4).page_scripts()[-1].name == "grad-flow.js"
    assert all(p.name != "cnn-ops.js" for p in explorer.page_scripts())
