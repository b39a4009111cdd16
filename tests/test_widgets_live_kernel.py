"""The live (anywidget) kernel explorer's front-end, run under Node, against Python and PyTorch.

Headless: no browser, no kernel. The website's compute() (kernel.js) is run on random typed
kernels, every preset and every gallery image, and held to the Python class and to
F.conv2d to 1e-4; its kernel parser, its number formatting and its picture conversion (the
steps of Pillow that feature_maps.image_from_bytes takes) are held to Python's word for word
and pixel for pixel.
"""

from __future__ import annotations

import base64
import io
import json
import random
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from live_harness import NODE, check_esm_module, front_end_scripts, needs_node, node_compute
from PIL import Image

from cnnlib.viz.kernels import KERNEL_PRESETS
from cnnlib.widgets.feature_maps import image_from_bytes
from cnnlib.widgets.kernel_explorer import (
    CUSTOM,
    STRIPES,
    STRIPES_T,
    KernelExplorer,
    parse_kernel,
)
from cnnlib.widgets.page import PAGE_FORMS_VARIABLE

SCRIPT = "kernel.js"


@pytest.fixture(scope="module")
def explorer() -> KernelExplorer:
    """The chapter's explorer: the notes' images and, where installed, six Fashion-MNIST ones."""
    return KernelExplorer()


def node_call(function: str, calls: list[list]) -> list[dict]:
    """``CNNExplorers.get("KernelExplorer")[function](...args)`` under Node, per args list.

    Returns ``{"value": result}`` or ``{"error": message}`` for each call.
    """
    scripts = [str(path) for path in front_end_scripts(SCRIPT)]
    runner = (
        "const vm = require('vm'); const fs = require('fs');"
        "const context = vm.createContext({console});"
        f"for (const f of {json.dumps(scripts)})"
        "  vm.runInContext(fs.readFileSync(f, 'utf8'), context, {filename: f});"
        "const explorer = vm.runInContext('CNNExplorers.get(\"KernelExplorer\")', context);"
        f"const calls = {json.dumps(calls)};"
        f"const results = calls.map((args) => {{ try {{ return {{value: "
        f"explorer[{json.dumps(function)}](...args)}}; }}"
        "  catch (e) { return {error: e.message}; } });"
        "console.log(JSON.stringify(results));"
    )
    with tempfile.TemporaryDirectory() as folder:
        program = Path(folder) / "call.js"
        program.write_text(runner, encoding="utf-8")
        out = subprocess.run([NODE, str(program)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def random_kernel_text(rng: random.Random) -> str:
    """A kernel as a reader might type it: 1 to 5 per side, integers, decimals and fractions,
    rows split by ';' or new lines, numbers by spaces or commas."""
    kh, kw = rng.randint(1, 5), rng.randint(1, 5)

    def number() -> str:
        kind = rng.random()
        if kind < 0.4:
            return str(rng.randint(-9, 9))
        if kind < 0.7:
            return f"{rng.uniform(-3, 3):.{rng.randint(1, 6)}f}"
        if kind < 0.85:
            return f"{rng.randint(-4, 4)}/{rng.randint(1, 9)}"
        return f"{rng.uniform(-2, 2):.3e}"

    separator = rng.choice([" ", ", ", ",", "  "])
    rows = [separator.join(number() for _ in range(kw)) for _ in range(kh)]
    return rng.choice(["; ", "\n", ";"]).join(rows)


def cases_for(explorer: KernelExplorer, count: int, seed: int) -> list[dict]:
    """Every preset on every input, then random typed kernels on random inputs, then the
    messages (a typed kernel larger than an input, overflow, unknown menu values)."""
    rng = random.Random(seed)
    names = list(explorer.inputs)
    cases = [dict(preset=p, kernel_text="", input_choice=n) for p in KERNEL_PRESETS
             for n in names]
    cases += [dict(preset=CUSTOM, kernel_text=random_kernel_text(rng),
                   input_choice=rng.choice(names)) for _ in range(count)]
    cases += [
        dict(preset=CUSTOM, kernel_text="; ".join(["1 1 1 1 1 1 1"] * 7), input_choice=STRIPES),
        dict(preset=CUSTOM, kernel_text="1 1 1 1 1 1 1", input_choice=STRIPES_T),  # 7 > 6 wide
        dict(preset=CUSTOM, kernel_text="3e38 3e38", input_choice=STRIPES),
        dict(preset=CUSTOM, kernel_text="1 2; 3", input_choice=STRIPES),
        dict(preset=CUSTOM, kernel_text="1 two", input_choice=STRIPES),
        dict(preset=CUSTOM, kernel_text="", input_choice=STRIPES),
        dict(preset="emboss", kernel_text="1", input_choice=STRIPES),
        dict(preset=CUSTOM, kernel_text="1", input_choice="cat"),
    ]
    return cases


def python_says(explorer: KernelExplorer, case: dict) -> dict:
    """The Python explorer's values for a case, set as the front-end sets them."""
    explorer.set_trait("preset", "custom")  # a neutral start: no preset rewrites the box
    explorer.kernel_text = case["kernel_text"]
    explorer.input_choice = case["input_choice"]
    explorer.preset = case["preset"]
    values = {name: getattr(explorer, name) for name in explorer.derived_names()}
    return {"error": explorer.error, "kernel_text": explorer.kernel_text, **values}


@needs_node
def test_browser_compute_matches_python_and_pytorch(explorer):
    """The website's compute(), run under Node, gives Python's values, and F.conv2d's output
    to 1e-4, for every preset on every input and random typed kernels."""
    cases = cases_for(explorer, 120, seed=21)
    common = json.loads(json.dumps(explorer.page_state()))
    results = node_compute("KernelExplorer", SCRIPT, cases, common=common)
    checked = 0
    for case, got in zip(cases, results, strict=True):
        want = python_says(explorer, case)
        assert got["error"] == want["error"], case
        if want["error"]:
            continue
        X = torch.tensor(explorer.inputs[case["input_choice"]], dtype=torch.float32)
        K = torch.tensor(got["kernel_values"], dtype=torch.float32)
        if case["preset"] == CUSTOM:
            assert torch.equal(K, parse_kernel(case["kernel_text"])), case
        else:
            assert torch.equal(K, KERNEL_PRESETS[case["preset"]]), case
            assert got["kernel_text"] == want["kernel_text"]
        reference = F.conv2d(X[None, None], K[None, None])[0, 0]
        for values in (got["output_values"], want["output_values"]):  # the page's, Python's
            torch.testing.assert_close(torch.tensor(values, dtype=torch.float32), reference,
                                       rtol=0, atol=1e-4)
        for name in ("shown_input", "kernel_values", "titles", "summary"):
            assert got[name] == want[name], (name, case)
        checked += 1
    assert checked >= 100


KERNEL_TEXTS = [
    "1 -1", "1,0,-1;1,0,-1", "1\n-1\n\n", "1/9 1/9;  0.5 2e-1 ;", "", " ;\n ", "1 2; 3",
    "1 x", "1; 1/0", "nan 1", "1 " * 8, "1;" * 8, "1e39 0; 0 0", "-4e38", "1_000 2",
    "1__0", "_1", ".5 5. +3", "-.5e-3 1E+2", "inf", "-Infinity 1", "1/2/3", "1/-0.0",
    "0x10", "1e", "e5", "--1", "1/inf", "inf/inf", "3.4028234663852886e38",
    "3.402823466385289e38", "1\t2\r\n3 4", "1,,2;3,4", "١ 2", "١.٥e١ 𝟙𝟚", "٣/٤",
]


@needs_node
def test_the_browser_reads_a_typed_kernel_as_python_does():
    results = node_call("parseKernel", [[text] for text in KERNEL_TEXTS])
    for text, got in zip(KERNEL_TEXTS, results, strict=True):
        try:
            want = parse_kernel(text).tolist()
        except ValueError as err:
            assert got == {"error": str(err)}, text
        else:
            assert got == {"value": want}, text


@needs_node
def test_numbers_are_written_as_python_writes_them():
    rng = random.Random(5)
    values = [0.0, -0.0, 1.0, -1.0, 0.125, 1.125, 2.675, 0.0005, 0.00012345, 123456.0, 999.5,
              1e-5, 9.995e-5, 3e38, 1 / 3, 0.6666666865348816, 1e16, 12345.0, 100.0, 0.1]
    values += [rng.uniform(-1000, 1000) * 10 ** rng.randint(-8, 8) for _ in range(300)]
    values += [k / 8 for k in range(-80, 80)]  # exact ties
    calls = [[v, d] for v in values for d in (3, 4)]
    results = node_call("formatG", calls)
    for (v, d), got in zip(calls, results, strict=True):
        assert got == {"value": f"{v:.{d}g}"}, (v, d)


def _rgba(picture: Image.Image) -> tuple[list[int], int, int]:
    rgba = picture.convert("RGBA")
    return list(rgba.tobytes()), rgba.width, rgba.height


def _pictures() -> dict[str, Image.Image]:
    """Pictures a reader might upload: each takes a different branch of image_from_bytes."""
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    boxed = Image.new("RGB", (90, 60), (245, 240, 235))
    boxed.paste((30, 60, 200), (20, 10, 70, 50))
    alpha = np.zeros((30, 30, 4), dtype=np.uint8)
    alpha[..., :3] = rng.integers(0, 256, (30, 30, 3), dtype=np.uint8)
    alpha[8:22, 8:22, 3] = 255  # opaque square, transparent elsewhere
    alpha[12:18, 12:18, 3] = rng.integers(1, 255, (6, 6), dtype=np.uint8)  # partly transparent
    return {
        "colour noise, wide": Image.fromarray(noise),
        "light background, wide (inverted)": boxed,
        "grey, tall, small (upscaled)": Image.fromarray(
            rng.integers(0, 256, (20, 9), dtype=np.uint8), mode="L"),
        "exactly 28x28": Image.fromarray(rng.integers(0, 256, (28, 28, 3), dtype=np.uint8)),
        "transparent": Image.fromarray(alpha, mode="RGBA"),
        "large photo-like": Image.fromarray(
            np.clip(rng.normal(128, 60, (301, 217, 3)), 0, 255).astype(np.uint8)),
    }


@needs_node
def test_the_browser_converts_an_upload_as_pillow_does():
    """kernel.js's grayscaleImage, given the pixels the browser decodes, equals
    feature_maps.image_from_bytes on the same file: alpha over white, Pillow's grey, the
    border median, the padding, Pillow's Lanczos filter and the inversion."""
    pictures = _pictures()
    calls = []
    for picture in pictures.values():
        rgba, width, height = _rgba(picture)
        calls.append([rgba, width, height, 28, "PNG"])
    results = node_call("grayscaleImage", calls)
    for (name, picture), got in zip(pictures.items(), results, strict=True):
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        want, steps = image_from_bytes(buffer.getvalue(), 28)
        assert "error" not in got, (name, got)
        assert torch.equal(torch.tensor(got["value"]["image"], dtype=torch.float32), want), name
        # The same steps, in the same words, but the first (Pillow names the mode).
        assert got["value"]["steps"][0] == f"read a PNG of {picture.width}×{picture.height} pixels"
        browser = [s for s in got["value"]["steps"][1:] if s != "converted to grayscale"]
        assert browser == [s for s in steps[1:] if s != "converted to grayscale"], name


def test_the_page_gets_pythons_inputs_and_presets(explorer):
    state = json.loads(json.dumps(explorer.page_state()))
    assert list(state["inputs"]) == list(explorer.tensors)
    for name, X in explorer.tensors.items():
        assert torch.equal(torch.tensor(state["inputs"][name], dtype=torch.float32), X)
    for name, K in KERNEL_PRESETS.items():
        assert torch.equal(torch.tensor(state["presets"][name]["values"], dtype=torch.float32), K)
    assert {"preset", "kernel_text", "input_choice", "upload", "upload_size"} <= set(state)
    assert state["upload"] == {} and state["upload_size"] == 28


@needs_node
def test_esm_is_a_valid_module_exporting_render(tmp_path):
    check_esm_module(KernelExplorer, tmp_path)


def test_the_output_carries_a_picture_and_the_website_form(monkeypatch):
    monkeypatch.delenv(PAGE_FORMS_VARIABLE, raising=False)
    data, _ = KernelExplorer(num_fashion=0)._repr_mimebundle_()
    assert data["text/plain"] == "KernelExplorer: run this cell for the live explorer"
    assert base64.b64decode(data["image/png"])[:4] == b"\x89PNG"
    assert "text/html" not in data
    monkeypatch.setenv(PAGE_FORMS_VARIABLE, "1")
    widget = KernelExplorer(preset="sharpen 3x3", num_fashion=0)
    data, _ = widget._repr_mimebundle_()
    form = data["text/html"]
    state = json.loads(re.search(r"CNNExplorers\.mount\(mount, \"KernelExplorer\", "
                                 r"(\{.*\})\);", form).group(1))
    assert state == json.loads(json.dumps(widget.page_state()))
    assert 'alt="KernelExplorer: X is 6×8, K is 3×3, so Y is 4×6' in form
    assert not re.search(r'(src|href)="https?:', form)
