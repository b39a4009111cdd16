"""The live NiN explorers' front-ends without a browser: Node runs their compute().

On the website ``nin-pixel.js`` and ``nin-class-map.js`` run the shipped NiN with
onnxruntime-web (``tests/browser/test_web_explorers_nin.py`` does that in Chromium). Here a
stand-in network answers with PyTorch's own maps for the image it is given, so what the
front-end derives from them (x, W x + b, the window, the means, the probabilities, every
text) is held to Python's explorer, and the pixels the page feeds the network (decoded
from the page state Python writes) are held to Python's images bit for bit. Also: the
class's ``_esm`` is a valid anywidget module, and the page state names maps the ONNX export
really has.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from live_harness import NODE, check_esm_module, needs_node

from cnnlib.explain.nin_maps import conv_maps
from cnnlib.models.pretrained import build
from cnnlib.widgets.live import WEB_DIR
from cnnlib.widgets.nin_maps import (
    NiNClassMapExplorer,
    NiNPixelExplorer,
    decode,
    encode,
    encode_images,
    export_steps,
)

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build("nin").eval()


@pytest.fixture(scope="module")
def images():
    """Three images as the test split gives them: whole levels k / 255 (sent as uint8)."""
    generator = torch.Generator().manual_seed(2)
    X = torch.randint(0, 256, (3, 1, 112, 112), generator=generator).float() / 255
    return X, torch.tensor([0, 4, 9])


def _b64(values: torch.Tensor) -> str:
    return base64.b64encode(values.detach().numpy().astype("<f4").tobytes()).decode("ascii")


# The stand-in network: run(pixels) answers with the maps Python computed for the image whose
# pixels these are (the runner sets `answers` per image), and records the pixels it got.
RUNNER = r"""
const vm = require("vm"); const fs = require("fs");
const input = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const floats = (text) => { const b = Buffer.from(text, "base64");
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };
const fed = [];
const network = {
  inputShape: [1, 1, input.side, input.side], meta: { anySide: input.anySide },
  run(pixels, options) {
    const side = options.side === undefined ? input.side : options.side;
    if (pixels.length !== side * side) return Promise.reject(new Error("wrong side"));
    const key = Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength).toString("base64");
    const answer = input.answers[key];
    if (!answer) return Promise.reject(new Error("the stand-in network got unknown pixels"));
    fed.push(key);
    const maps = {};
    for (const name of options.maps) {
      if (!answer.maps[name]) return Promise.reject(new Error("no map " + name));
      maps[name] = { shape: answer.maps[name].shape, data: floats(answer.maps[name].data) };
    }
    return Promise.resolve({ logits: floats(answer.logits), maps });
  },
};
const context = vm.createContext({ console, atob, Blob, Response, DecompressionStream,
  queueMicrotask, CNNNetworks: { load: () => Promise.resolve(network) } });
for (const f of input.scripts) {
  vm.runInContext(fs.readFileSync(f, "utf8"), context, { filename: f });
}
const explorer = vm.runInContext(`CNNExplorers.get(${JSON.stringify(input.name)})`, context);
const plain = (v) => v && ArrayBuffer.isView(v.data)
  ? { shape: v.shape, values: Array.from(v.data) } : v;
(async () => {
  const results = [];
  for (const c of input.cases) {
    try {
      const out = await explorer.compute({ ...input.common, ...c });
      results.push(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, plain(v)])));
    } catch (e) { results.push({ error: e.message }); }
  }
  console.log(JSON.stringify({ results, fed }));
})();
"""


def run_front_end(name: str, script: str, common: dict, cases: list[dict], answers: dict,
                  side: int, any_side: bool = False) -> dict:
    """compute() of a front-end under Node for each case, with the stand-in network."""
    scripts = [str(WEB_DIR / "cnn-ops.js"), str(WEB_DIR / "cnn-host.js"),
               str(WEB_DIR / "explorers" / script)]
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "input.json"
        data.write_text(json.dumps({"name": name, "scripts": scripts, "common": common,
                                    "cases": cases, "answers": answers, "side": side,
                                    "anySide": any_side}))
        program = Path(folder) / "run.js"
        program.write_text(RUNNER)
        out = subprocess.run([NODE, str(program), str(data)], check=True, capture_output=True,
                             text=True)
    return json.loads(out.stdout)


def _values(value) -> np.ndarray:
    return np.asarray(value["values"], dtype=np.float64).reshape(value["shape"])


def _pixel_key(image: torch.Tensor) -> str:
    return _b64(image.float().flatten())


# ----------------------------------------------------------------------------- 1x1 at a pixel


@needs_node
def test_pixel_front_end_computes_what_python_computes(model, images):
    X, y = images
    python = NiNPixelExplorer(model, X, y)
    common = python.page_state()
    answers = {}
    for k in range(X.shape[0]):
        maps = conv_maps(model, X[k, 0])
        named = {}
        for layer, (maps_in, pre) in maps.items():
            spec = common["layers"][layer]
            named[spec["maps"][0]] = {"shape": [1, *maps_in.shape], "data": _b64(maps_in)}
            named[spec["maps"][1]] = {"shape": [1, *pre.shape], "data": _b64(pre)}
        with torch.no_grad():
            logits = model(X[k:k + 1])[0]
        answers[_pixel_key(X[k, 0])] = {"maps": named, "logits": _b64(logits)}
    cases = [dict(example=0, layer="0.2", row=13, col=13), dict(example=1, layer="0.4", row=0,
             col=25), dict(example=2, layer="2.2", row=11, col=3),
             dict(example=2, layer="4.4", row=40, col=2),  # a row past the 5×5 map: pulled in
             dict(example=1, layer="7.2", row=1, col=0), dict(example=0, layer="7.4", row=0,
                                                               col=1)]
    out = run_front_end("NiNPixelExplorer", "nin-pixel.js", common, cases, answers, 112)
    # One network run per image, fed exactly Python's pixels (gzip + uint8 / 255 decoded).
    assert sorted(out["fed"]) == sorted(answers)
    for case, got in zip(cases, out["results"], strict=True):
        assert "error" not in got, got
        for name, value in case.items():
            setattr(python, name, value)
        r = python.result
        assert (got["row"], got["col"]) == (python.row, python.col)
        assert got["summary"] == python.summary
        assert got["header"] == python.header
        assert got["region"] == python.region
        for name in ("x", "b", "pre", "out"):
            np.testing.assert_allclose(got[name], getattr(r, name).numpy(), atol=TOLERANCE,
                                       rtol=0, err_msg=name)
        for name in ("maps_in", "maps_out", "W"):
            np.testing.assert_allclose(_values(got[name]), getattr(r, name).numpy(),
                                       atol=TOLERANCE, rtol=0, err_msg=name)
        assert np.array_equal(_values(got["image"]), X[python.example, 0].numpy())


@needs_node
def test_pixel_front_end_says_what_python_says_for_a_bad_setting(model, images):
    X, y = images
    python = NiNPixelExplorer(model, X, y)
    common = python.page_state()
    cases = [dict(layer="3.1"), dict(example=5), dict(example=-1)]
    out = run_front_end("NiNPixelExplorer", "nin-pixel.js", common, cases, {}, 112)
    for case, got in zip(cases, out["results"], strict=True):
        fresh = NiNPixelExplorer(model, X, y)
        for name, value in case.items():
            setattr(fresh, name, value)
        assert fresh.error and got == {"error": fresh.error}


# ----------------------------------------------------------------------------- class maps


@needs_node
def test_class_map_front_end_computes_what_python_computes(model, images):
    X, y = images
    python = NiNClassMapExplorer(model, X, y)
    common = python.page_state()
    answers = {}
    for batch in python.images_by_size.values():
        for k in range(batch.shape[0]):
            with torch.no_grad():
                maps = model.net[:8](batch[k:k + 1])
                logits = model(batch[k:k + 1])[0]
            answers[_pixel_key(batch[k, 0])] = {
                "maps": {common["maps_name"]: {"shape": list(maps.shape), "data": _b64(maps)}},
                "logits": _b64(logits)}
    cases = [dict(example=0, size=112), dict(example=1, size=112), dict(example=2, size=112),
             dict(example=1, size=224)]
    out = run_front_end("NiNClassMapExplorer", "nin-class-map.js", common, cases, answers, 112)
    for case, got in zip(cases[:3], out["results"][:3], strict=True):
        for name, value in case.items():
            setattr(python, name, value)
        r = python.result
        assert got["summary"] == python.summary
        assert (got["predicted"], got["label"], got["note"]) == (
            python.predicted, python.label, python.note)
        for name in ("averages", "logits", "probs"):
            np.testing.assert_allclose(got[name], getattr(r, name).numpy(), atol=TOLERANCE,
                                       rtol=0, err_msg=name)
        np.testing.assert_allclose(_values(got["maps"]), r.maps.numpy(), atol=TOLERANCE, rtol=0)
    # The shipped export takes its trained side only (the stand-in says so as it does).
    assert out["results"][3] == {"error": "this page's copy of the network takes 112-pixel "
                                 "images only, so it cannot show 224 px here; run the notebook "
                                 "to see that size"}
    # A network exported for any side (meta.anySide) is run at 224 px with {side: 224}.
    out = run_front_end("NiNClassMapExplorer", "nin-class-map.js", common, cases[3:], answers,
                        112, any_side=True)
    python.example, python.size = 1, 224
    (got,) = out["results"]
    assert got["summary"] == python.summary and "never trained" in got["summary"]
    np.testing.assert_allclose(_values(got["maps"]), python.result.maps.numpy(), atol=TOLERANCE,
                               rtol=0)
    np.testing.assert_allclose(got["probs"], python.result.probs.numpy(), atol=TOLERANCE, rtol=0)


@needs_node
def test_class_map_front_end_says_what_python_says_for_a_bad_setting(model, images):
    X, y = images
    python = NiNClassMapExplorer(model, X, y)
    cases = [dict(size=100), dict(example=3)]
    out = run_front_end("NiNClassMapExplorer", "nin-class-map.js", python.page_state(), cases,
                        {}, 112)
    for case, got in zip(cases, out["results"], strict=True):
        fresh = NiNClassMapExplorer(model, X, y)
        for name, value in case.items():
            setattr(fresh, name, value)
        assert fresh.error and got == {"error": fresh.error}


# ----------------------------------------------------------------------------- the page state


def _export_onnx():
    spec = importlib.util.spec_from_file_location("export_onnx", ROOT / "scripts" /
                                                  "export_onnx.py")
    if "export_onnx" not in sys.modules:
        module = importlib.util.module_from_spec(spec)
        sys.modules["export_onnx"] = module
        spec.loader.exec_module(module)
    return sys.modules["export_onnx"]


def test_the_page_names_maps_the_onnx_export_has():
    pytest.importorskip("onnx")
    exported = _export_onnx().export_network("nin")
    model = build("nin")
    assert [name for name, _ in export_steps(model)] == exported.meta["maps"]
    X = torch.rand(1, 1, 112, 112)
    pixel = NiNPixelExplorer(model, X)
    for spec in pixel.page_state()["layers"].values():
        assert set(spec["maps"]) <= set(exported.meta["maps"])
    classes = NiNClassMapExplorer(model, X)
    assert classes.page_state()["maps_name"] == "net.7.5"
    assert "net.7.5" in exported.meta["maps"]
    assert exported.meta["inputs"][0]["shape"] == [1, 1, 112, 112]


def test_page_state_is_json_and_light(model):
    pixel = NiNPixelExplorer(model)
    classes = NiNClassMapExplorer(model)
    for explorer, limit in ((pixel, 300_000), (classes, 300_000)):
        state = explorer.page_state()
        text = json.dumps(state)
        assert len(text) < limit, (type(explorer).__name__, len(text))
        assert state["network"] == "nin"
    # The gallery's images are whole levels: they travel as uint8, gzipped.
    assert pixel.page_state()["images"]["dtype"] == "uint8"
    assert pixel.page_state()["images"]["gzip"] is True
    assert pixel.page_scripts()[2].name == "cnn-networks.js"


def test_arrays_travel_exactly():
    values = torch.randn(3, 4, 5)
    assert np.array_equal(decode(encode(values)), values.numpy())
    assert np.array_equal(decode(encode(values, compress=True)), values.numpy())
    levels = torch.randint(0, 256, (2, 1, 6, 6)).float() / 255
    packed = encode_images(levels)
    assert packed["dtype"] == "uint8"
    assert np.array_equal(decode(packed) / np.float32(255), levels[:, 0].numpy())
    assert encode_images(torch.rand(2, 1, 6, 6))["dtype"] == "float32"
    with pytest.raises(ValueError, match="whole numbers 0..255"):
        encode(torch.tensor([0.5]), "uint8")
    with pytest.raises(ValueError, match="dtype must be"):
        encode(values, "float64")


@needs_node
def test_esm_modules_are_valid_anywidget_modules(tmp_path):
    check_esm_module(NiNPixelExplorer, tmp_path)
    check_esm_module(NiNClassMapExplorer, tmp_path)
