"""The live stage comparison (8.1): its front-end's compute() under Node against Python's.

Headless: no browser, no kernel. The page's compute() runs the shipped networks with
onnxruntime-web; here a stand-in ``CNNNetworks`` answers with PyTorch's own outputs for the
image it is given (and refuses an image that is not exactly one of Python's inputs), so
everything compute() builds from them (the stages, the kernels, the shapes, the words of
the status line, the errors) is held to the Python class for every image and stage. The
real networks in Chromium are tested in tests/browser/test_web_explorers_compare_stages.py.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest
import torch
from live_harness import NODE, check_esm_module, front_end_scripts, needs_node

from cnnlib.models.pretrained import build
from cnnlib.viz.compare_stages import KERNELS
from cnnlib.widgets.compare_stages import StageComparisonExplorer

N = 3

# Runs compute() for each case with a stand-in CNNNetworks; prints the results as JSON.
RUNNER = """
const vm = require('vm'); const fs = require('fs');
const [scriptsPath, name, casesPath, commonPath, outputsPath] = process.argv.slice(2);
const OUT = JSON.parse(fs.readFileSync(outputsPath, 'utf8'));
const loads = [];
const CNNNetworks = {
  load(key) {
    loads.push(key);
    if (!OUT[key]) return Promise.reject(new Error('no network ' + key));
    return Promise.resolve({ run(image, options) {
      const list = OUT[key];
      const k = list.findIndex((o) => o.image.length === image.length &&
        o.image.every((v, i) => Math.fround(v) === image[i]));
      if (k < 0) return Promise.reject(new Error(`${key} was fed an image that is none of ` +
        "Python's inputs"));
      const maps = {};
      for (const m of options.maps) {
        maps[m] = { shape: list[k].maps[m].shape, data: Float32Array.from(list[k].maps[m].data) };
      }
      return Promise.resolve({ probabilities: Float32Array.from(list[k].probabilities), maps });
    } });
  },
};
const context = vm.createContext({ console, atob, CNNNetworks, queueMicrotask });
for (const f of JSON.parse(fs.readFileSync(scriptsPath, 'utf8'))) {
  vm.runInContext(fs.readFileSync(f, 'utf8'), context, { filename: f });
}
const explorer = vm.runInContext(`CNNExplorers.get(${JSON.stringify(name)})`, context);
const cases = JSON.parse(fs.readFileSync(casesPath, 'utf8'));
const common = JSON.parse(fs.readFileSync(commonPath, 'utf8'));
(async () => {
  const results = [];
  for (const c of cases) {
    try {
      const answer = explorer.compute({ ...common, ...c });
      const settled = answer && typeof answer.then === 'function';
      results.push({ error: '', promise: settled, ...(await answer) });
    } catch (e) {
      results.push({ error: e.message });
    }
  }
  console.log(JSON.stringify({ results, loads }));
})();
"""


def node_compute_with_networks(explorer: str, script: str, cases: list[dict], common: dict,
                               outputs: dict) -> dict:
    """``compute({...common, ...case})`` of a network explorer's front-end under Node.

    Args:
        explorer, script: the name the front-end defines and its file.
        cases: the settings, one per call (awaited in turn).
        common: the page state every call shares (the data from Python).
        outputs: ``{network key: [per example: {"image": [...], "probabilities": [...],
            "maps": {name: {"shape", "data"}}}]}``, PyTorch's answers.

    Returns:
        ``{"results": [{"error": "", "promise": bool, **derived} or {"error": message}],
        "loads": [the keys CNNNetworks.load was asked for]}``.
    """
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for key, value in (("scripts", [str(p) for p in front_end_scripts(script)]),
                           ("cases", cases), ("common", common), ("outputs", outputs)):
            paths[key] = Path(folder) / f"{key}.json"
            paths[key].write_text(json.dumps(value), encoding="utf-8")
        program = Path(folder) / "run.js"
        program.write_text(RUNNER, encoding="utf-8")
        out = subprocess.run(
            [NODE, str(program), str(paths["scripts"]), explorer, str(paths["cases"]),
             str(paths["common"]), str(paths["outputs"])],
            check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def torch_outputs(model: torch.nn.Module, X: torch.Tensor, names: list[str]) -> list[dict]:
    """PyTorch's probabilities and the named modules' outputs, per image of ``X``."""
    modules = dict(model.named_modules())
    answers = []
    for image in X:
        seen: dict[str, torch.Tensor] = {}
        hooks = [modules[name].register_forward_hook(
            lambda _m, _a, output, name=name, seen=seen: seen.__setitem__(name, output))
            for name in names]
        try:
            with torch.no_grad():
                probabilities = torch.softmax(model(image[None]), dim=1)[0]
        finally:
            for hook in hooks:
                hook.remove()
        answers.append({
            "image": image.flatten().tolist(),
            "probabilities": probabilities.tolist(),
            "maps": {name: {"shape": list(seen[name].shape), "data": seen[name].flatten().tolist()}
                     for name in names}})
    return answers


@pytest.fixture(scope="module")
def explorer():
    torch.manual_seed(1)
    generator = torch.Generator().manual_seed(2)
    images = torch.randint(0, 256, (N, 28, 28), generator=generator, dtype=torch.uint8)
    return StageComparisonExplorer(lenet=build("lenet").eval(), alexnet=build("alexnet").eval(),
                                   images=images, labels=torch.tensor([3, 0, 7]))


@pytest.fixture(scope="module")
def outputs(explorer):
    return {network["key"]: torch_outputs(explorer.models[network["title"]],
                                          explorer.X[network["title"]],
                                          [s["map"] for s in network["stages"]])
            for network in explorer.networks}


@needs_node
def test_the_esm_module_is_anywidgets(tmp_path):
    check_esm_module(StageComparisonExplorer, tmp_path)


@needs_node
def test_compute_in_node_equals_python_for_every_image_and_stage(explorer, outputs):
    common = explorer.page_state() | {"visible": True}
    cases = [{"example": k, "stage": stage} for k in range(N) for stage in explorer.stages_menu]
    answer = node_compute_with_networks("StageComparisonExplorer", explorer.script, cases,
                                        common, outputs)
    assert sorted(set(answer["loads"])) == ["alexnet", "lenet"]
    for case, got in zip(cases, answer["results"], strict=True):
        explorer.example, explorer.stage = case["example"], case["stage"]
        assert got["error"] == "" and got["promise"], (case, got["error"])
        assert got["shown"] == explorer.shown and got["summary"] == explorer.summary, case
        for mine, theirs in zip(got["columns"], explorer.columns, strict=True):
            values = torch.tensor(mine.pop("values")), torch.tensor(theirs["values"])
            # The stand-in hands over PyTorch's float32 values, so they arrive unchanged.
            torch.testing.assert_close(*values, rtol=0, atol=1e-6)
            assert mine["probability"] == pytest.approx(theirs["probability"], abs=1e-6)
            assert {k: v for k, v in mine.items() if k != "probability"} == {
                k: v for k, v in theirs.items() if k not in ("values", "probability")}, case


@needs_node
def test_bad_settings_give_pythons_words_and_nothing_loads_off_screen(explorer, outputs):
    common = explorer.page_state()
    cases = [{"example": N, "stage": KERNELS}, {"example": 0, "stage": "conv 9"},
             {"example": "0", "stage": KERNELS}, {"example": 1, "stage": "conv 2"}]
    answer = node_compute_with_networks("StageComparisonExplorer", explorer.script, cases,
                                        common, outputs)
    words = []
    for case in cases[:2]:
        explorer.example, explorer.stage = case["example"], case["stage"]
        words.append(explorer.error)
    explorer.example, explorer.stage = 0, KERNELS
    got = answer["results"]
    assert [g["error"] for g in got[:2]] == words and all(words)
    assert got[2]["error"] == "example must be a whole number in 0..2, got '0'"
    # Off screen (no `visible`), a good setting derives nothing and loads no network.
    assert got[3] == {"error": "", "promise": False} and answer["loads"] == []


@needs_node
def test_an_image_that_is_not_pythons_is_refused(explorer, outputs):
    """The stand-in network refuses any image but Python's: this is what holds the page's
    pixels (base64 bytes / 255) to Python's inputs in the test above."""
    network = dict(explorer.networks[0], pixels=explorer.networks[1]["pixels"])  # AlexNet's
    common = explorer.page_state() | {"visible": True,
                                      "networks": [network, explorer.networks[1]]}
    answer = node_compute_with_networks("StageComparisonExplorer", explorer.script,
                                        [{"example": 0, "stage": KERNELS}], common, outputs)
    assert "none of Python's inputs" in answer["results"][0]["error"]
