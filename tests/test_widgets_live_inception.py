"""The live (anywidget) Inception explorer: Python's numbers, and the browser's way to them.

Headless: no browser. The front-end takes each branch's maps as a slice of the block's
output and the block's input as the output of the layer before it (both outputs of the
exported network); both facts are checked against PyTorch here, and the front-end's
``compute()`` runs under Node on a stand-in network that returns PyTorch's layer outputs,
compared with Python's explorer to 1e-4 and word for word. (Chromium runs it on the real
exported network in tests/browser/test_web_explorers_inception.py.)
"""

from __future__ import annotations

import pytest
import torch
from live_harness import check_esm_module, needs_node
from test_widgets_live_grad_cam import node_network_compute, pytorch_outputs

from cnnlib.data import LABELS
from cnnlib.explain.inception import block_inputs, branch_outputs, inception_blocks
from cnnlib.models.pretrained import pretrained
from cnnlib.widgets.inception import PICKS, InceptionExplorer, network_outputs

TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def model():
    return pretrained("googlenet").eval()


@pytest.fixture(scope="module")
def images():
    generator = torch.Generator().manual_seed(4)
    X = torch.randint(0, 256, (3, 1, 64, 64), generator=generator).float() / 255
    return X, torch.tensor([1, 6, 7])


@pytest.fixture(scope="module")
def explorer(model, images):
    return InceptionExplorer(model, *images, indices=[40, 41, 42])


def test_the_browsers_inputs_and_slices_are_the_blocks(explorer, model, images):
    """The layer before a block outputs its input, and the block's output, cut at the
    branches' channel counts, is each branch (so the page needs no branch of its own)."""
    X, _ = images
    assert network_outputs(model)[:3] == ["net.0.0", "net.0.1", "net.0.2"]
    seen = {}
    handles = [model.get_submodule(n).register_forward_hook(
        lambda _m, _i, out, n=n: seen.__setitem__(n, out[0].detach()))
        for n in network_outputs(model)]
    try:
        with torch.no_grad():
            model(X[:1])
    finally:
        for handle in handles:
            handle.remove()
    inputs = block_inputs(model, X[0, 0])
    by_name = {name: (label, block) for name, label, block in inception_blocks(model)}
    for entry in explorer.blocks:
        torch.testing.assert_close(seen[entry["input"]], inputs[entry["name"]], rtol=0, atol=0)
        label, block = by_name[entry["name"]]
        r = branch_outputs(block, inputs[entry["name"]], entry["name"], label)
        assert entry["channels"] == r.channels and entry["flops"] == r.flops
        assert entry["kernels"] == r.kernels and entry["label"] == label
        output = seen[entry["output"]]
        for branch, part in zip(r.branches, output.split(r.channels), strict=True):
            torch.testing.assert_close(part, branch, rtol=0, atol=1e-6)


def test_every_control_gives_the_branches_numbers(explorer, model, images):
    X, _ = images
    for name, label, block in inception_blocks(model)[::4]:
        for k in range(X.shape[0]):
            for _, pick in PICKS:
                explorer.example, explorer.block, explorer.pick = k, name, pick
                r = branch_outputs(block, block_inputs(model, X[k, 0])[name], name, label)
                assert explorer.error == ""
                for b, out in enumerate(r.branches):
                    for channel, values in zip(explorer.shown[b], explorer.branch_maps[b],
                                               strict=True):
                        torch.testing.assert_close(torch.tensor(values), out[channel])
                assert explorer.high == pytest.approx(float(torch.cat(r.branches).max()))
                assert explorer.flop_shares == r.flop_shares
                assert explorer.explained == {"example": k, "block": name}
    explorer.example, explorer.block, explorer.pick = 0, "2.0", "strongest"


def test_the_page_gets_pixels_blocks_and_the_networks_loader(explorer):
    state = explorer.page_state()
    assert state["network"] == "googlenet" and len(state["blocks"]) == 9
    assert [g["menu"] for g in state["gallery"]] == [f"#{40 + k} {LABELS[c]}"
                                                      for k, c in enumerate((1, 6, 7))]
    assert state["gallery"][0]["pixels"]["dtype"] == "uint8" and state["picture"]
    assert [p.name for p in explorer.page_scripts()] == [
        "cnn-ops.js", "cnn-host.js", "cnn-networks.js", "inception.js"]


@needs_node
def test_esm_module_loads(tmp_path):
    check_esm_module(InceptionExplorer, tmp_path)


@needs_node
def test_the_front_ends_compute_equals_python(explorer, model, images):
    X, _ = images
    state = explorer.page_state()
    names = sorted({n for b in state["blocks"] for n in (b["input"], b["output"])})
    probabilities, maps = pytorch_outputs(model, X, names)
    fake = {"name": "googlenet", "images": X[:, 0].flatten(1).tolist(),
            "probabilities": probabilities, "maps": maps}
    cases = [dict(example=k, block=b["name"], pick=pick)
             for k in range(X.shape[0]) for b in state["blocks"] for _, pick in PICKS]
    cases += [dict(example=3, block="2.0", pick="first"),
              dict(example=0, block="2.2", pick="first"),
              dict(example=0, block="2.0", pick="loudest")]
    got = node_network_compute("InceptionExplorer", "inception.js", cases, state, fake)
    python = InceptionExplorer(model, *images, indices=explorer.indices)
    for case, result in zip(cases, got, strict=True):
        for name, value in case.items():
            setattr(python, name, value)
        assert result["error"] == python.error, case
        if python.error:
            continue
        assert result["shown"] == python.shown, case
        for mine, theirs in zip(result["branch_maps"], python.branch_maps, strict=True):
            torch.testing.assert_close(torch.tensor(mine, dtype=torch.float32),
                                       torch.tensor(theirs), rtol=0, atol=TOLERANCE)
        assert result["high"] == pytest.approx(python.high, abs=TOLERANCE)
        assert result["channel_shares"] == python.channel_shares
        assert result["flop_shares"] == python.flop_shares
        assert result["summary"] == python.summary and result["title"] == python.title, case
        assert result["input_shape"] == python.input_shape
