"""The live (anywidget) Grad-CAM explorer: Python's numbers, and the browser's formula.

Headless: no browser. What the website computes is checked twice here:

- the shortcut the front-end takes at the last stage (Grad-CAM's channel weights are the
  linear layer's row divided by h*w, because ResNet-18's head is global average pooling
  then one linear layer) equals cnnlib's own Grad-CAM, PyTorch's autograd, to 1e-4;
- the front-end's ``compute()`` runs under Node on a stand-in network that returns
  PyTorch's feature maps and probabilities, and equals Python's explorer to 1e-4, word for
  word in the status line. (Chromium runs it on the real exported network in
  tests/browser/test_web_explorers_grad_cam.py.)
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest
import torch
from live_harness import NODE, check_esm_module, front_end_scripts, needs_node
from torch import nn

from cnnlib.explain import grad_cam
from cnnlib.models.pretrained import pretrained
from cnnlib.widgets.grad_cam import (
    LAYERS,
    TARGETS,
    GradCamExplorer,
    channel_weights,
    image_payload,
    map_name,
    pooled_linear_head,
)
from cnnlib.widgets.live import WEB_DIR

TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def model():
    return pretrained("resnet18").eval()


@pytest.fixture(scope="module")
def batch():
    """Five images of whole 255ths (as the test split resized is) and their classes."""
    generator = torch.Generator().manual_seed(3)
    X = torch.randint(0, 256, (5, 1, 64, 64), generator=generator).float() / 255
    return X, torch.tensor([0, 3, 5, 8, 9])


@pytest.fixture(scope="module")
def explorer(model, batch):
    return GradCamExplorer(model, *batch, indices=[11, 12, 13, 14, 15])


def test_the_last_stages_weights_are_the_linear_layers_rows_over_h_w(model, batch):
    """d score_c / d A[k, i, j] = W[c, k] / (h*w) at every position: the head is global
    average pooling then one linear layer, so Grad-CAM's weights need no gradient."""
    X, _ = batch
    linear = pooled_linear_head(model, "net.b5")
    assert linear is model.net.last[2]
    assert pooled_linear_head(model, "net.b4") is None  # residual blocks lie between
    for k in range(X.shape[0]):
        classes = list(range(10))
        by_autograd = channel_weights(model, X[k:k + 1], "net.b5", classes)
        result = grad_cam(model, X[k:k + 1], "net.b5", class_idx=0)
        _, _, h, w = result.activations_shape
        by_weights = linear.weight.detach()[classes] / (h * w)
        torch.testing.assert_close(by_autograd, by_weights, rtol=0, atol=1e-7)
        # And the map formed from them is cnnlib's Grad-CAM, for every class.
        with torch.no_grad():
            A = model.net[:5](X[k:k + 1])[0]
        for c in classes:
            expected = grad_cam(model, X[k:k + 1], "net.b5", class_idx=c)
            raw = torch.relu((by_weights[c][:, None, None] * A).sum(dim=0))
            torch.testing.assert_close(raw, expected.raw_cam[0], rtol=0, atol=TOLERANCE)


def test_the_earlier_stages_weights_are_autograds(explorer, model, batch):
    X, _ = batch
    assert sorted(explorer.gradients) == ["net.b3", "net.b4"]
    for layer in ("net.b4", "net.b3"):
        for k in range(X.shape[0]):
            stored = explorer.gradients[layer][str(k)]
            classes = [int(c) for c in stored]
            assert set(classes) == set(explorer._reachable(k))
            for c in classes:
                expected = grad_cam(model, X[k:k + 1], layer, class_idx=c)
                with torch.no_grad():
                    A = model.get_submodule(layer)(model.net[:int(layer[-1]) - 1](X[k:k + 1]))
                raw = torch.relu((torch.tensor(stored[str(c)])[:, None, None] * A[0]).sum(0))
                torch.testing.assert_close(raw, expected.raw_cam[0], rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("layer", LAYERS)
def test_every_control_gives_grad_cams_numbers(explorer, model, batch, layer):
    X, y = batch
    for k in (0, 4):
        for _, rank in TARGETS:
            explorer.example, explorer.target, explorer.layer = k, rank, layer
            order = torch.argsort(explorer.probabilities[k], descending=True, stable=True)
            cls = int(y[k]) if rank < 0 else int(order[rank])
            expected = grad_cam(model, X[k:k + 1], layer, class_idx=cls)
            assert explorer.error == "" and explorer.class_idx == cls
            torch.testing.assert_close(torch.tensor(explorer.raw_cam), expected.raw_cam[0])
            torch.testing.assert_close(torch.tensor(explorer.cam), expected.cam[0])
            h, w = expected.raw_cam.shape[1:]
            assert explorer.status_text.startswith(f"test image #{11 + k}, ")
            assert f"at {layer}, a {h}×{w} grid of {expected.activations_shape[1]} channels" \
                in explorer.status_text
            assert explorer.explained == {"example": k, "layer": layer}


def test_a_bad_setting_is_a_message_and_the_next_change_fixes_it(explorer):
    explorer.layer = "net.b2"
    assert explorer.error == "layer must be one of ['net.b5', 'net.b4', 'net.b3'], got 'net.b2'"
    assert explorer.status_text == explorer.error and explorer.raw_cam == []
    assert explorer.picture_png() is None
    explorer.layer = "net.b5"
    assert explorer.error == "" and explorer.picture_png()[:4] == b"\x89PNG"
    explorer.target = 5
    assert explorer.error.startswith("target must be one of [0, 1, 2, -1]")
    explorer.target = 0
    explorer.example = 5
    assert explorer.error == "example must be an image position in 0..4, got 5"
    explorer.example = 0
    assert explorer.error == ""


def test_the_page_gets_pixels_head_maps_and_the_networks_loader(explorer, batch):
    X, _ = batch
    state = explorer.page_state()
    assert state["network"] == "resnet18" and state["side"] == 64
    assert state["maps"] == {"net.b5": "net.b5.1", "net.b4": "net.b4.1", "net.b3": "net.b3.1"}
    assert state["head"]["layer"] == "net.b5" and len(state["head"]["weight"]) == 10
    assert state["images"][0]["pixels"]["dtype"] == "uint8"
    assert state["picture"] and state["picture_alt"].startswith("GradCamExplorer: test image")
    assert [p.name for p in explorer.page_scripts()] == [
        "cnn-ops.js", "cnn-host.js", "cnn-networks.js", "grad-cam.js"]
    assert image_payload(X[0] * 0.5 + 1e-3)["dtype"] == "float32"  # not whole 255ths


def test_map_names_follow_the_export(model):
    assert [map_name(model, layer) for layer in LAYERS] == ["net.b5.1", "net.b4.1", "net.b3.1"]
    assert map_name(model, "net.b2.0") == "net.b2.0"


@needs_node
def test_esm_module_loads(tmp_path):
    check_esm_module(GradCamExplorer, tmp_path)


# ------------------------------------------------------------------ the front-end under Node

# A stand-in for cnn-networks.js: load(name) gives a network whose run(pixels) finds the
# image among the ones Python gave (the pixels must match exactly, so the decoding is
# checked too) and returns PyTorch's probabilities and feature maps for it.
_FAKE_NETWORKS = """
const fake = %s;
context.CNNNetworks = {
  load: async (name) => {
    if (name !== fake.name) throw new Error('no network ' + name);
    return {run: async (pixels, options) => {
      const k = fake.images.findIndex((image) => image.length === pixels.length &&
        image.every((v, i) => Math.fround(v) === pixels[i]));
      if (k < 0) throw new Error('pixels differ from every image Python sent');
      const maps = {};
      for (const mapName of options.maps) {
        const m = fake.maps[k][mapName];
        maps[mapName] = {shape: m.shape, data: Float32Array.from(m.data)};
      }
      return {probabilities: Float32Array.from(fake.probabilities[k]), maps};
    }};
  },
};
"""


def node_network_compute(explorer: str, script: str, cases: list[dict], common: dict,
                         fake: dict) -> list[dict]:
    """``await compute({...common, ...case})`` of a front-end whose network is ``fake``
    (``{name, images, probabilities, maps}``), under Node; ``{"error": message}`` when it
    throws or rejects."""
    scripts = [str(path) for path in front_end_scripts(script)]
    runner = (
        "const vm = require('vm'); const fs = require('fs');"
        "const context = vm.createContext({console, atob, Math});"
        + _FAKE_NETWORKS % json.dumps(fake) +
        f"for (const f of {json.dumps(scripts)})"
        "  vm.runInContext(fs.readFileSync(f, 'utf8'), context, {filename: f});"
        f"const explorer = vm.runInContext('CNNExplorers.get({json.dumps(explorer)})', context);"
        f"const common = {json.dumps(common)};"
        "(async () => { const out = [];"
        f"  for (const c of {json.dumps(cases)}) {{"
        "    try { out.push({error: '', ...(await explorer.compute({...common, ...c}))}); }"
        "    catch (e) { out.push({error: e.message}); } }"
        "  console.log(JSON.stringify(out)); })();"
    )
    with tempfile.TemporaryDirectory() as folder:
        program = Path(folder) / "compute.js"
        program.write_text(runner, encoding="utf-8")
        out = subprocess.run([NODE, str(program)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def pytorch_outputs(model: nn.Module, X: torch.Tensor, names: list[str]) -> tuple[list, list]:
    """Per image: softmax probabilities and the named layers' outputs, as JSON."""
    seen: dict[str, torch.Tensor] = {}
    handles = [model.get_submodule(n).register_forward_hook(
        lambda _m, _i, out, n=n: seen.__setitem__(n, out.detach())) for n in names]
    probabilities, maps = [], []
    try:
        with torch.no_grad():
            for k in range(X.shape[0]):
                probabilities.append(torch.softmax(model(X[k:k + 1]), dim=1)[0].tolist())
                maps.append({n: {"shape": list(seen[n].shape),
                                 "data": seen[n].flatten().tolist()} for n in names})
    finally:
        for handle in handles:
            handle.remove()
    return probabilities, maps


@needs_node
def test_the_front_ends_compute_equals_python(explorer, model, batch):
    X, _ = batch
    state = explorer.page_state()
    probabilities, maps = pytorch_outputs(model, X, sorted(set(state["maps"].values())))
    fake = {"name": "resnet18", "images": X[:, 0].flatten(1).tolist(),
            "probabilities": probabilities, "maps": maps}
    cases = [dict(example=k, target=rank, layer=layer)
             for k in range(X.shape[0]) for _, rank in TARGETS for layer in LAYERS]
    cases += [dict(example=9, target=0, layer="net.b5"),
              dict(example=0, target=7, layer="net.b5"),
              dict(example=0, target=0, layer="net.b1")]
    got = node_network_compute("GradCamExplorer", "grad-cam.js", cases, state, fake)
    python = GradCamExplorer(model, *batch, indices=explorer.indices)
    for case, result in zip(cases, got, strict=True):
        for name, value in case.items():
            setattr(python, name, value)
        assert result["error"] == python.error, case
        if python.error:
            continue
        assert result["class_idx"] == python.class_idx, case
        for name in ("raw_cam", "cam", "probabilities_shown"):
            torch.testing.assert_close(torch.tensor(result[name], dtype=torch.float32),
                                       torch.tensor(getattr(python, name)), rtol=0,
                                       atol=TOLERANCE)
        assert result["summary"] == python.summary, case
        assert result["activations_shape"] == python.activations_shape
        assert result["explained"] == python.explained


def test_the_front_end_states_the_formula():
    """The comment that explains the exact last-stage weights is in the shipped file."""
    source = (WEB_DIR / "explorers" / "grad-cam.js").read_text(encoding="utf-8")
    assert "W[c][k] / (h*w)" in source and "global average" in source
