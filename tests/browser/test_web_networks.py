"""The trained networks run in the reader's browser, from file://, and compute what PyTorch does.

The networks are exported afresh into ``tmp_path`` by ``scripts/export_onnx.py`` (a few
seconds for all seven), beside the runtime ``make web-deps`` built from package-lock.json
(``_build/web-vendor/onnxruntime``) and the loader ``cnnlib/web/cnn-networks.js``. A tiny
page opened from ``file://`` loads every network through ``CNNNetworks.load`` and runs
test images through it; its logits and every feature map must equal PyTorch's
``pretrained(name)`` on the same images to 1e-4. Any request that is not for a file is
aborted and recorded, and none may happen: the site works offline.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
import torch

from cnnlib.models.pretrained import SHIPPED, image_side, pretrained
from cnnlib.widgets.examples import example_images

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "_build" / "web-vendor" / "onnxruntime"
LOADER = ROOT / "cnnlib" / "web" / "cnn-networks.js"
#: Test images per network: first of their class, classes spread over the ten.
CLASSES = (0, 4, 9)
TOLERANCE = 1e-4


def _load_script(name: str):
    """The module ``scripts/<name>.py`` (registered, as dataclasses need)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


export_onnx = _load_script("export_onnx")

pytestmark = pytest.mark.browser

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>networks</title>
<script src="cnn-networks.js"></script></head>
<body><p>networks test page</p></body></html>
"""

# Runs `images` (lists of floats) through network `name`; returns every output as base64 of
# its float32 bytes (far quicker to hand back than JSON numbers), and the maps' shapes.
RUN_IN_PAGE = """async ([name, images]) => {
  const net = await CNNNetworks.load(name);
  const b64 = (array) => {
    const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(text);
  };
  const results = [];
  for (const image of images) {
    const out = await net.run(new Float32Array(image));
    const maps = {};
    for (const [key, value] of Object.entries(out.maps)) {
      maps[key] = {shape: value.shape, data: b64(value.data)};
    }
    results.push({logits: b64(out.logits), probabilities: b64(out.probabilities), maps});
  }
  return {results, inputShape: net.inputShape, classes: net.classes, maps: net.maps};
}"""


def _floats(text: str) -> np.ndarray:
    import base64

    return np.frombuffer(base64.b64decode(text), dtype=np.float32)


class FileOnlyPage:
    """A page on which every request that is not for a ``file:`` or ``data:`` URL is aborted."""

    def __init__(self, page):
        self.page = page
        self.refused: list[str] = []
        self.errors: list[str] = []
        page.set_default_timeout(60_000)
        page.route("**/*", self._route)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(
            f"console: {msg.text}"))

    def _route(self, route):
        if urlparse(route.request.url).scheme in ("file", "data", "blob"):
            route.continue_()
        else:
            self.refused.append(route.request.url)
            route.abort("internetdisconnected")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A folder laid out as the site's _static/: the loader, the runtime, fresh models."""
    missing = [name for name in export_onnx.RUNTIME_FILES if not (RUNTIME / name).is_file()]
    if missing:
        pytest.fail(f"{RUNTIME} lacks {', '.join(missing)}: run `make web-deps`")
    folder = tmp_path_factory.mktemp("web-networks")
    shutil.copytree(RUNTIME, folder / "onnxruntime")
    shutil.copy(LOADER, folder / "cnn-networks.js")
    export_onnx.export_all(folder / "models")
    (folder / "index.html").write_text(PAGE)
    return folder


@pytest.fixture(scope="module")
def network_page(browser, site):
    """One page for every network, so the runtime loads once."""
    context = browser.new_context()
    page = FileOnlyPage(context.new_page())
    page.page.goto((site / "index.html").as_uri())
    yield page
    context.close()


def _pytorch_outputs(model: torch.nn.Module, X: torch.Tensor, maps: list[str]
                     ) -> dict[str, np.ndarray]:
    """PyTorch's logits and the outputs of the named modules for the batch ``X``."""
    modules = dict(model.named_modules())
    seen: dict[str, np.ndarray] = {}
    hooks = [modules[key].register_forward_hook(
        lambda _module, _args, output, key=key: seen.__setitem__(key, output.numpy().copy()))
        for key in maps]
    try:
        with torch.no_grad():
            seen["logits"] = model(X).numpy()
    finally:
        for hook in hooks:
            hook.remove()
    return seen


def _references(name: str, images: torch.Tensor, maps: list[str]) -> list[dict[str, np.ndarray]]:
    """PyTorch's logits and maps, per image."""
    model = pretrained(name)
    return [_pytorch_outputs(model, image[None], maps) for image in images]


def test_nothing_loads_until_a_network_is_asked_for(browser, site):
    context = browser.new_context()
    try:
        page = FileOnlyPage(context.new_page())
        page.page.goto((site / "index.html").as_uri())
        state = page.page.evaluate("""() => ({
          scripts: Array.from(document.scripts, s => s.src.split("/").pop()),
          ort: typeof ort, models: Object.keys(CNNNetworks.models),
          packed: typeof CNNNetworks.packed})""")
        assert state == {"scripts": ["cnn-networks.js"], "ort": "undefined", "models": [],
                         "packed": "undefined"}
        # Asking for one network adds the runtime's two scripts and that network's only.
        page.page.evaluate("CNNNetworks.load('bn_lenet').then(() => true)")
        scripts = page.page.evaluate("Array.from(document.scripts, s => s.src.split('/').pop())")
        assert scripts == ["cnn-networks.js", "ort.iife.js", "ort-wasm.packed.js",
                           "bn_lenet.onnx.js"]
        assert page.refused == [] and page.errors == []
    finally:
        context.close()


@pytest.mark.parametrize("name", list(SHIPPED))
def test_network_matches_pytorch_in_the_browser(network_page, name):
    side = image_side(name)
    X, _, _ = example_images(side)
    images = X[list(CLASSES)]  # (3, 1, side, side)
    answer = network_page.page.evaluate(
        RUN_IN_PAGE, [name, [image.flatten().tolist() for image in images]])
    assert answer["inputShape"] == [1, 1, side, side]
    assert len(answer["classes"]) == 10
    references = _references(name, images, answer["maps"])
    assert answer["maps"], f"{name} exported no feature maps"
    for got, want in zip(answer["results"], references, strict=True):
        logits = _floats(got["logits"])
        np.testing.assert_allclose(logits, want["logits"].ravel(), atol=TOLERANCE, rtol=0,
                                   err_msg=f"{name}: logits")
        expected = torch.softmax(torch.from_numpy(want["logits"].ravel()), 0).numpy()
        np.testing.assert_allclose(_floats(got["probabilities"]), expected, atol=TOLERANCE,
                                   err_msg=f"{name}: probabilities")
        assert set(got["maps"]) == set(answer["maps"])
        for key, value in got["maps"].items():
            assert value["shape"] == list(want[key].shape), f"{name}: shape of {key}"
            np.testing.assert_allclose(_floats(value["data"]), want[key].ravel(),
                                       atol=TOLERANCE, rtol=0, err_msg=f"{name}: map {key}")
    assert network_page.refused == [], "the page asked the network for something"
    assert network_page.errors == []


def test_run_refuses_a_wrong_image_and_unknown_map(network_page):
    message = network_page.page.evaluate("""async () => {
      const net = await CNNNetworks.load("lenet");
      const errors = [];
      for (const [image, options] of [[new Float32Array(10), undefined], [[0, 1], undefined],
                                      [new Float32Array(784), {maps: ["nope"]}]]) {
        try { await net.run(image, options); errors.push("no error"); }
        catch (err) { errors.push(err.message); }
      }
      const only = await net.run(new Float32Array(784), {maps: false});
      return {errors, mapsWhenNone: Object.keys(only.maps).length, logits: only.logits.length};
    }""")
    first, second, third = message["errors"]
    assert "takes a Float32Array of 784 pixels" in first and "got a Float32Array of 10" in first
    assert "got Array" in second
    assert 'no map called "nope"' in third
    assert message["mapsWhenNone"] == 0 and message["logits"] == 10


def test_a_missing_model_gives_a_message_a_page_can_show(network_page):
    message = network_page.page.evaluate("""async () => {
      try { await CNNNetworks.load("no_such_network"); return "loaded"; }
      catch (err) { return err.message; }
    }""")
    assert message.startswith("this browser cannot run the network: could not load ")
    assert "models/no_such_network.onnx.js" in message
    network_page.errors.clear()  # the failed <script> load is logged; that is the point here


@pytest.mark.parametrize("missing", ["WebAssembly", "DecompressionStream"])
def test_a_browser_without_what_it_needs_is_told_why(browser, site, missing):
    context = browser.new_context()
    try:
        page = FileOnlyPage(context.new_page())
        page.page.add_init_script(f"delete globalThis.{missing};")
        page.page.goto((site / "index.html").as_uri())
        message = page.page.evaluate("""async () => {
          try { await CNNNetworks.load("lenet"); return "loaded"; }
          catch (err) { return err.message; }
        }""")
        assert message == f"this browser cannot run the network: it has no {missing}"
        assert page.refused == []
    finally:
        context.close()


def test_exported_files_record_their_weights(site):
    for name in SHIPPED:
        meta, _ = export_onnx.read_script(site / "models" / f"{name}.onnx.js")
        weights = ROOT / meta["weights"]["file"]
        assert meta["weights"]["sha256"] == export_onnx.sha256_file(weights)


def test_the_built_runtime_and_lenet_fit_the_page_budget():
    """What `make web-deps` built (make test runs it before the browser tests): LeNet's page,
    the signature page, downloads at most the issue's 6 MB of runtime and model."""
    total = export_onnx.runtime_bytes(RUNTIME)
    assert total is not None, f"no runtime in {RUNTIME}: run `make web-deps`"
    total += len(export_onnx.script_text(export_onnx.export_network("lenet")))
    assert total <= export_onnx.PAGE_BUDGET_BYTES, total
