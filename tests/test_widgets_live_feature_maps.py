"""The live (anywidget) feature-map explorer: traitlets in, PyTorch's numbers out.

Headless: no browser, no kernel. The front-end's own code is run under Node for what needs no
network: its checks (Python's words) and its conversion of an upload, held to
:func:`cnnlib.widgets.feature_maps.image_from_bytes` pixel for pixel on pixels Pillow decoded.
The browser half (the network in onnxruntime-web, drawing, uploading) is
tests/browser/test_web_explorers_feature_maps.py.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from live_harness import NODE, check_esm_module, front_end_scripts, needs_node, node_compute
from PIL import Image

from cnnlib.explain.activations import stage_indices
from cnnlib.models.lenet import LeNet
from cnnlib.widgets.feature_maps import (
    NO_EXAMPLE,
    FeatureMapExplorer,
    image_from_bytes,
)

NAME, SCRIPT = "FeatureMapExplorer", "feature-maps.js"


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return LeNet().eval()


@pytest.fixture(scope="module")
def images():
    """Forty random 28x28 uint8 images with labels: fast, no data files needed."""
    generator = torch.Generator().manual_seed(0)
    X = torch.randint(0, 256, (40, 28, 28), dtype=torch.uint8, generator=generator)
    return X, torch.arange(40) % 10


@pytest.fixture
def explorer(model, images):
    return FeatureMapExplorer(model, *images)


def layer_outputs(model, image: torch.Tensor) -> list[torch.Tensor]:
    """Every layer's output for one (28, 28) image, by running ``model.net`` by hand."""
    X = image[None, None].float()
    outputs = []
    with torch.no_grad():
        for layer in model.net:
            X = layer(X)
            outputs.append(X[0])
    return outputs


def check_against_torch(explorer, model, image: torch.Tensor) -> None:
    """The explorer's synced maps and probabilities are PyTorch's for ``image``."""
    outputs = layer_outputs(model, image)
    probs = F.softmax(outputs[-1], dim=0)
    assert explorer.error == ""
    np.testing.assert_allclose(explorer.probabilities, probs.numpy(), atol=1e-6)
    assert explorer.predicted == int(probs.argmax())
    names = [f"net.{i}" for i, layer in enumerate(model.net)
             if i < len(model.net) - 1 and not isinstance(layer, torch.nn.Flatten)]
    assert list(explorer.maps) == names
    for name in names:
        expected = outputs[int(name.split(".")[1])]
        assert explorer.maps[name]["shape"] == list(expected.shape)
        np.testing.assert_allclose(explorer.maps[name]["data"], expected.flatten().numpy(),
                                   atol=1e-6)


def test_a_test_image_gives_every_layer_of_the_forward_pass(explorer, model, images):
    X, y = images
    check_against_torch(explorer, model, X[0].float() / 255)
    assert explorer.label == int(y[0]) and explorer.answered == explorer.request
    assert explorer.source == "test image #0"
    for entry in explorer.gallery[:4]:
        explorer.show_example(entry["index"])
        check_against_torch(explorer, model, X[entry["index"]].float() / 255)
        assert explorer.status.startswith(f"test image #{entry['index']}: predicted ")
        assert explorer.status.endswith(("so the prediction is right.",
                                         "so the prediction is wrong."))


def test_a_drawing_is_probed_without_a_label(explorer, model):
    generator = torch.Generator().manual_seed(1)
    drawing = torch.rand(28, 28, generator=generator)
    explorer.input_name = "your drawing"
    explorer.drawing = drawing.flatten().tolist()
    check_against_torch(explorer, model, drawing)
    assert explorer.label is None and explorer.input_label is None
    top = int(np.argmax(explorer.probabilities))
    assert explorer.status == (
        f"your drawing: predicted {explorer.classes[top]} with probability "
        f"{max(explorer.probabilities):.2f}.")
    torch.testing.assert_close(explorer.input_image, drawing)


def test_the_gallery_sends_the_test_images_pixels(explorer, images):
    X, y = images
    assert explorer.gallery, "the menu offers no test image"
    for entry in explorer.gallery:
        assert entry["scale"] == 255
        assert entry["pixels"] == X[entry["index"]].flatten().tolist()
        assert entry["label"] == int(y[entry["index"]])
        assert entry["text"].startswith(f"#{entry['index']} ")
    # One per class first, then the misclassified ones.
    labels = [entry["label"] for entry in explorer.gallery[:10]]
    assert sorted(labels) == list(range(10))


def test_the_first_image_joins_the_menu_when_it_is_not_in_it(model, images):
    explorer = FeatureMapExplorer(model, *images, index=39)
    assert explorer.gallery[0]["index"] == 39 and explorer.example == 39


def test_the_layers_name_the_maps_and_the_stages(explorer, model):
    stages = set(stage_indices(model))
    assert [layer["name"] for layer in explorer.layers] == list(explorer.maps)
    for layer in explorer.layers:
        assert layer["stage"] == (layer["index"] in stages)
        assert layer["layer"] == type(model.net[layer["index"]]).__name__


@pytest.mark.parametrize(("drawing", "words"), [
    ([0.5] * 783, "a drawing must be 28×28 = 784 values in [0, 1], row by row; got 783 values"),
    ([0.5] * 783 + [1.5], "a drawing's values must be numbers in [0, 1]"),
    ([0.5] * 783 + [-0.1], "a drawing's values must be numbers in [0, 1]"),
])
def test_a_bad_drawing_is_explained_and_clears_the_numbers(explorer, drawing, words):
    explorer.drawing = drawing
    assert explorer.error.startswith(words)
    assert explorer.probabilities == [] and explorer.maps == {}
    explorer.drawing = [0.0] * 784  # the next change fixes it
    assert explorer.error == "" and len(explorer.probabilities) == 10


def test_an_example_the_menu_does_not_offer_is_explained(explorer):
    missing = next(i for i in range(40) if i not in [g["index"] for g in explorer.gallery])
    explorer.example = missing
    assert explorer.error.startswith(f"test image #{missing} is not in the menu; choose one of")


def _png(pixels: np.ndarray, mode: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_upload_is_converted_as_image_from_bytes_converts_it(explorer, model):
    picture = np.full((60, 40, 3), 250, dtype=np.uint8)  # light background, portrait
    picture[10:50, 8:32] = (30, 60, 20)  # a dark object
    content = _png(picture, "RGB")
    explorer.load_image_bytes(content, "coat.png")
    image, steps = image_from_bytes(content)
    check_against_torch(explorer, model, image)
    assert explorer.example == NO_EXAMPLE and explorer.source == "upload 'coat.png'"
    assert explorer.input_name == "upload 'coat.png'"
    assert explorer.upload_steps == steps
    assert explorer.status.endswith(" The upload was " + "; ".join(steps) + ".")
    with pytest.raises(ValueError, match="not in an image format Pillow knows"):
        explorer.load_image_bytes(b"not a picture", "notes.txt")
    assert explorer.source == "upload 'coat.png'"  # a failed upload changes nothing
    explorer.show_example(explorer.gallery[0]["index"])
    assert explorer.drawing == [] and explorer.upload_steps == []
    assert "upload" not in explorer.status


def test_the_learned_kernels_are_the_conv_weights_drawn_once(explorer, model):
    convs = {i: layer for i, layer in enumerate(model.net) if isinstance(layer, torch.nn.Conv2d)}
    assert set(explorer.kernels) == set(convs)
    for i, conv in convs.items():
        torch.testing.assert_close(explorer.kernels[i], conv.weight.detach())
    assert base64.b64decode(explorer.kernels_png).startswith(b"\x89PNG")
    assert explorer.page_state()["kernels_png"] == explorer.kernels_png


def test_stages_only_is_a_control_and_the_picture_follows_it(explorer):
    assert explorer.picture_png().startswith(b"\x89PNG")
    explorer.stages_only = True
    assert explorer.error == "" and explorer.picture_png().startswith(b"\x89PNG")


def test_bad_arguments_are_refused(model, images):
    X, y = images
    with pytest.raises(TypeError, match="nn.Sequential called `net`"):
        FeatureMapExplorer(torch.nn.Linear(784, 10), X, y)
    with pytest.raises(ValueError, match=r"images must be \(N, 28, 28\)"):
        FeatureMapExplorer(model, torch.zeros(3, 32, 32), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"labels must be \(40,\)"):
        FeatureMapExplorer(model, X, None)
    with pytest.raises(ValueError, match=r"index must be in 0\.\.39, got 40"):
        FeatureMapExplorer(model, X, y, index=40)


def test_the_page_gets_python_s_answer_and_the_network_loader(explorer):
    state = explorer.page_state()
    for name in ("example", "drawing", "stages_only", "request", "gallery", "layers",
                 "classes", "probabilities", "maps", "status", "engine", "answered"):
        assert name in state, name
    assert state["engine"] == "python" and state["answered"] == state["request"]
    json.dumps(state)  # JSON all through: the page's mount reads it inline
    scripts = [path.name for path in explorer.page_scripts()]
    assert scripts[-2:] == ["cnn-networks.js", SCRIPT]
    assert all(path.exists() for path in explorer.page_scripts())


@needs_node
def test_the_esm_module_is_valid(tmp_path):
    check_esm_module(FeatureMapExplorer, tmp_path)


@needs_node
def test_the_front_end_checks_inputs_with_python_s_words(explorer):
    common = explorer.page_state()
    cases = [
        {"drawing": [0.5] * 783},
        {"drawing": [0.5] * 783 + [1.5]},
        {"drawing": [], "example": next(i for i in range(40)
                                        if i not in [g["index"] for g in explorer.gallery])},
        {"drawing": [0.5] * 784},  # fits; but Node has no network loader
    ]
    results = node_compute(NAME, SCRIPT, cases, common)
    for case, result in zip(cases[:3], results[:3], strict=True):
        for name, value in case.items():
            setattr(explorer, name, value)
        assert explorer.error and result["error"] == explorer.error
    assert results[3]["error"].startswith("cnn-networks.js is not loaded")


def node_convert(rgba: np.ndarray, kind: str = "PNG") -> dict:
    """The front-end's convertUpload on RGBA pixels (H, W, 4) uint8, under Node."""
    scripts = [str(path) for path in front_end_scripts(SCRIPT)]
    height, width = rgba.shape[:2]
    runner = (
        "const vm = require('vm'); const fs = require('fs');"
        "const context = vm.createContext({console});"
        f"for (const f of {json.dumps(scripts)})"
        "  vm.runInContext(fs.readFileSync(f, 'utf8'), context, {filename: f});"
        f"const convert = vm.runInContext('CNNExplorers.get({json.dumps(NAME)}).convertUpload',"
        " context);"
        f"const rgba = Uint8ClampedArray.from({json.dumps(rgba.flatten().tolist())});"
        f"const out = convert(rgba, {width}, {height}, {json.dumps(kind)});"
        "console.log(JSON.stringify({pixels: Array.from(out.pixels), steps: out.steps}));"
    )
    with tempfile.TemporaryDirectory() as folder:
        program = Path(folder) / "convert.js"
        program.write_text(runner, encoding="utf-8")
        out = subprocess.run([NODE, str(program)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def _pictures() -> dict[str, tuple[np.ndarray, str]]:
    """Pictures of every kind an upload takes: (pixels, Pillow mode)."""
    rng = np.random.default_rng(3)
    light = np.full((45, 70, 3), 230, dtype=np.uint8)
    light[5:40, 20:50] = rng.integers(0, 120, (35, 30, 3))
    dark = np.zeros((28, 28), dtype=np.uint8)
    dark[4:24, 8:20] = rng.integers(80, 256, (20, 12))
    big = rng.integers(0, 256, (300, 200), dtype=np.uint8)
    rgba = rng.integers(0, 256, (50, 50, 4), dtype=np.uint8)  # every alpha, every colour
    small = rng.integers(0, 256, (9, 13, 3), dtype=np.uint8)  # enlarged, not shrunk
    return {"light background, wide": (light, "RGB"), "Fashion-MNIST-like": (dark, "L"),
            "large noise, tall": (big, "L"), "translucent": (rgba, "RGBA"),
            "smaller than 28": (small, "RGB")}


@needs_node
@pytest.mark.parametrize("name", list(_pictures()))
def test_the_front_end_converts_an_upload_as_pillow_does(name):
    pixels, mode = _pictures()[name]
    content = _png(pixels, mode)
    expected, steps = image_from_bytes(content)
    with Image.open(io.BytesIO(content)) as opened:  # what a browser's decoder hands over
        rgba = np.asarray(opened.convert("RGBA"))
    got = node_convert(rgba)
    np.testing.assert_allclose(np.array(got["pixels"]).reshape(28, 28), expected.numpy(),
                               atol=1e-7)
    # The same steps, but the first: the browser does not know Pillow's mode names.
    assert got["steps"][1:] == [s for s in steps[1:] if s != "converted to grayscale"
                                or mode != "L"]
