"""scripts/export_onnx.py: the shipped networks as ONNX models inside classic scripts.

The graph is run here by onnx's own reference evaluator (pure NumPy, part of the `onnx`
package the export needs) and, when it is installed, by onnxruntime; the real check, in
the browser with onnxruntime-web, is tests/browser/test_web_networks.py.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx.reference import ReferenceEvaluator

from cnnlib.models.pretrained import pretrained

ROOT = Path(__file__).resolve().parents[1]


def _load_script(name: str):
    """The module ``scripts/<name>.py`` (registered, as dataclasses need)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


export_onnx = _load_script("export_onnx")


@pytest.fixture(scope="module")
def lenet():
    return export_onnx.export_network("lenet")


def _pytorch_outputs(name: str, X: torch.Tensor, maps: list[str]) -> dict[str, np.ndarray]:
    """PyTorch's logits and the outputs of the named modules for the batch ``X``."""
    model = pretrained(name)
    modules = dict(model.named_modules())
    seen: dict[str, np.ndarray] = {}
    hooks = [modules[key].register_forward_hook(
        lambda _m, _a, output, key=key: seen.__setitem__(key, output.numpy().copy()))
        for key in maps]
    try:
        with torch.no_grad():
            seen["logits"] = model(X).numpy()
    finally:
        for hook in hooks:
            hook.remove()
    return seen


def _images(side: int, count: int = 2) -> torch.Tensor:
    return torch.rand((count, 1, 1, side, side), generator=torch.Generator().manual_seed(1))


def _check_against_pytorch(exported, run) -> None:
    """``run(x) -> list of outputs`` must give PyTorch's logits and maps, in the meta's order."""
    side = exported.meta["side"]
    names = [output["name"] for output in exported.meta["outputs"]]
    assert names == ["logits", *exported.meta["maps"]]
    for x in _images(side):
        got = run(x.numpy())
        want = _pytorch_outputs(exported.name, x, exported.meta["maps"])
        for name, value, meta in zip(names, got, exported.meta["outputs"], strict=True):
            assert list(value.shape) == meta["shape"] == list(want[name].shape)
            np.testing.assert_allclose(value, want[name], atol=1e-4, rtol=0, err_msg=name)


@pytest.mark.parametrize("name", ["lenet", "bn_lenet"])
def test_export_computes_what_pytorch_computes(name):
    exported = export_onnx.export_network(name)
    evaluator = ReferenceEvaluator(onnx.load_from_string(exported.onnx))
    _check_against_pytorch(exported, lambda x: evaluator.run(None, {"image": x}))


def test_lenet_shows_every_layer_in_order(lenet):
    net = pretrained("lenet").net
    layers = [(f"net.{i}", type(layer).__name__) for i, layer in enumerate(net)]
    # Flatten (a reshape) and the last layer (the logits) have no map of their own.
    expected = [(path, kind) for path, kind in layers[:-1] if kind != "Flatten"]
    assert [(out["name"], out["layer"]) for out in lenet.meta["outputs"][1:]] == expected
    ops = [node.op_type for node in onnx.load_from_string(lenet.onnx).graph.node]
    # FastAvgPool2d went out as the one AveragePool node it equals.
    assert ops.count("AveragePool") == 2 and "Gather" not in ops


def test_weights_stay_float16_and_batch_norm_unfolded():
    exported = export_onnx.export_network("bn_lenet")
    graph = onnx.load_from_string(exported.onnx).graph
    assert "BatchNormalization" in [node.op_type for node in graph.node]
    state = torch.load(export_onnx.shipped.weights_path("bn_lenet"),
                       weights_only=True)["model"]
    stored = sum(t.numel() for t in state.values() if t.dtype == torch.float16 and t.numel() >= 16)
    halves = sum(int(np.prod(init.dims)) for init in graph.initializer
                 if init.data_type == onnx.TensorProto.FLOAT16)
    assert exported.float16_values == halves == stored


def test_script_registers_the_model(tmp_path, lenet):
    path = export_onnx.write_script(lenet, tmp_path)
    assert path == tmp_path / "lenet.onnx.js"
    entry, onnx_bytes = export_onnx.read_script(path)
    assert onnx_bytes == lenet.onnx
    assert entry["classes"][0] == "t-shirt" and len(entry["classes"]) == 10
    assert entry["inputs"] == [{"name": "image", "shape": [1, 1, 28, 28], "type": "float32"}]
    assert entry["weights"]["sha256"] == export_onnx.sha256_file(ROOT / entry["weights"]["file"])
    assert 'networks.models["lenet"]' in path.read_text()
    path.write_text(path.read_text()[:-200])  # a cut file is named, not misread
    with pytest.raises(ValueError, match="cut short"):
        export_onnx.read_script(path)


def test_bad_name_is_refused_before_anything_is_written(tmp_path, capsys):
    with pytest.raises(ValueError, match=r"no shipped network called 'lenet5'.*'alexnet'"):
        export_onnx.export_all(tmp_path, ["lenet", "lenet5"])
    assert list(tmp_path.iterdir()) == []
    assert export_onnx.main([str(tmp_path), "lenet5"]) == 1
    assert "no shipped network called 'lenet5'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="no shipped network"):
        export_onnx.export_network("resnet50")


def test_a_failing_export_names_the_network_and_writes_nothing(tmp_path, monkeypatch, lenet):
    old = tmp_path / "bn_lenet.onnx.js"
    old.write_text("// the previous export\n")

    def failing(name, weights=None):
        if name == "bn_lenet":
            raise export_onnx.ExportError("could not export bn_lenet: broken on purpose")
        return lenet

    monkeypatch.setattr(export_onnx, "export_network", failing)
    with pytest.raises(export_onnx.ExportError, match="could not export bn_lenet"):
        export_onnx.export_all(tmp_path, ["bn_lenet", "lenet"])
    assert old.read_text() == "// the previous export\n"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bn_lenet.onnx.js", "lenet.onnx.js"]


def test_a_write_that_fails_halfway_leaves_no_file(tmp_path, monkeypatch, lenet):
    def half_then_fail(exported):
        raise OSError("disk full")

    monkeypatch.setattr(export_onnx, "script_text", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        export_onnx.write_script(lenet, tmp_path)
    assert list(tmp_path.iterdir()) == []  # neither the file nor a .part


def test_an_exporter_error_is_reported_with_the_network(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(torch.onnx, "export", broken)
    with pytest.raises(export_onnx.ExportError,
                       match="could not export nin: RuntimeError: unsupported operator"):
        export_onnx.export_network("nin")


def test_float16_storage_keeps_the_file_small():
    exported = export_onnx.export_network("alexnet")
    text = export_onnx.script_text(exported)
    assert exported.float16_values > 0.99 * (exported.float16_values + exported.float32_values)
    # base64 of float16 weights plus metadata: about two thirds of float32's size.
    as_float32 = 4 * (exported.float16_values + exported.float32_values) * 4 / 3
    assert len(text) < 0.55 * as_float32


def test_page_totals_are_reported_against_the_budget(tmp_path, capsys):
    runtime = tmp_path / "onnxruntime"
    runtime.mkdir()
    for name in export_onnx.RUNTIME_FILES:
        (runtime / name).write_bytes(b"x" * 1000)
    assert export_onnx.main([str(tmp_path / "models"), "lenet"]) == 0
    size = (tmp_path / "models" / "lenet.onnx.js").stat().st_size
    line = capsys.readouterr().out.strip()
    assert f"with the runtime {(size + 2000) / 1e6:.2f} MB, within the 6 MB page budget" in line
    assert export_onnx.runtime_bytes(runtime) == 2000
    assert export_onnx.runtime_bytes(tmp_path) is None
