"""Export the shipped networks to ONNX, wrapped in classic scripts the website's pages load.

Usage (from the repository root; ``make web-deps`` runs it into ``_build/web-vendor/models``)::

    python scripts/export_onnx.py OUT_DIR [lenet alexnet ...]     # default: every shipped one

For each network with shipped weights (:data:`cnnlib.models.pretrained.SHIPPED`) this
writes ``OUT_DIR/<name>.onnx.js``, which sets ``globalThis.CNNNetworks.models[name]``: the
ONNX model packed as text (``packed``: gzip, seven bits to a character, by
``scripts/web_pack.py``), its input, its outputs, the class names and the SHA-256 of the
weights file it came from. ``cnnlib/web/cnn-networks.js`` loads such a file and runs it
with onnxruntime-web. Pages opened from ``file://`` cannot fetch a ``.onnx`` file, but they
can load a ``<script>``: hence the model inside JavaScript.

What the exported graph computes:

* ``logits``: the network's output ``(1, 10)``, equal to PyTorch's ``pretrained(name)``;
* one output per layer of ``model.net``, in order, named by its path in the model
  (``"net.0"``, ``"net.2.1"``, ``"net.b3.0"``, as ``model.get_submodule`` takes it): the
  feature maps an explorer draws. Layers inside a block that is
  an ``nn.Sequential`` (VGG's blocks, NiN's, GoogLeNet's stages) give one output each
  and the block itself none (its output is its last layer's); other modules (an
  ``Inception``, a ``Residual``) give one output. Flatten, Dropout and the last layer
  (the logits) give none.

The weights are stored as float16 initializers with a ``Cast`` to float32 in the graph,
which halves the download and changes nothing: the shipped weights are float16 already,
and ``pretrained()`` computes with exactly these values in float32. An initializer that is
not exactly a float16 number (LeNet's weights predate float16 shipping) stays float32.
Batch norm stays a ``BatchNormalization`` node (no constant folding): folding it into the
convolution would make weights that are not float16 numbers. ``FastAvgPool2d``, LeNet's
pooling, is swapped for the ``nn.AvgPool2d`` it is equal to, which exports as one
``AveragePool`` node (the export of its fast path is a tangle of Gather/Reshape nodes).

Every file is written atomically (:mod:`cnnlib._atomic`): a failed export leaves the old
file, or none, never half of one.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import hashlib
import io
import json
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnlib._atomic import atomic_open
from cnnlib.data import LABELS
from cnnlib.models import pretrained as shipped
from cnnlib.models.fastpool import FastAvgPool2d

sys.path.insert(0, str(Path(__file__).resolve().parent))
import web_pack  # noqa: E402  (scripts/web_pack.py, beside this file)

ROOT = Path(__file__).resolve().parents[1]
#: ONNX opset of the export; onnxruntime-web runs opsets up to 21 at least.
OPSET = 17
#: Name of the graph's input: a batch of one grayscale image (1, 1, side, side) in [0, 1].
INPUT_NAME = "image"
#: Name of the graph's class scores.
LOGITS_NAME = "logits"
#: Smallest initializer (in elements) worth a float16 copy and a Cast node.
MIN_FLOAT16_SIZE = 16
#: What a page with one trained network may download in all (runtime + model), in bytes.
PAGE_BUDGET_BYTES = 6_000_000
#: The runtime files ``make web-deps`` builds (beside OUT_DIR, in ``../onnxruntime``).
RUNTIME_FILES = ("ort.iife.js", "ort-wasm.packed.js")
#: Layers whose output is not worth a map: identity at inference, or a reshape.
_SKIPPED = (nn.Flatten, nn.Dropout, nn.Identity)
#: Networks whose layers before global average pooling are all convolutions and poolings:
#: their export takes an image of any side (at least the smallest its layers allow), so a
#: page can run them on a size they were not trained on (8.3's class maps at 224 px).
ANY_SIDE = ("nin",)
#: How far the export-ready copy (FastAvgPool2d swapped out) may differ from the model.
_SWAP_TOLERANCE = 1e-5


class ExportError(RuntimeError):
    """A network could not be exported; the message names it and says why."""


@dataclass
class Exported:
    """One exported network.

    Attributes:
        name: the registry name (``"lenet"``, ``"resnet18"``, ...).
        onnx: the serialized ONNX model.
        meta: everything the page needs besides the bytes (input, outputs, classes, ...).
        float16_values: weight values stored as float16; float32_values: those kept float32.
    """

    name: str
    onnx: bytes
    meta: dict[str, Any] = field(default_factory=dict)
    float16_values: int = 0
    float32_values: int = 0


class _Taps(nn.Module):
    """``model.net`` run layer by layer, returning the logits and every layer's output.

    Args:
        model: a classifier whose layers are in the ``nn.Sequential`` ``model.net``.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        net = getattr(model, "net", None)
        if not isinstance(net, nn.Sequential):
            raise TypeError(f"{type(model).__name__} keeps no nn.Sequential in `net`")
        self.net = net
        self.names: list[str] = []  # filled by forward: the map outputs, in order

    def steps(self) -> list[tuple[str, nn.Module]]:
        """``(path in the model, layer)`` in order, one level into sequential blocks.

        The paths start with ``net.``: ONNX exports refuse a bare number as a name.
        """
        out = []
        for name, layer in self.net.named_children():
            if isinstance(layer, nn.Sequential):
                out.extend((f"net.{name}.{sub}", inner) for sub, inner in layer.named_children())
            else:
                out.append((f"net.{name}", layer))
        return out

    def forward(self, X: torch.Tensor) -> tuple[torch.Tensor, ...]:
        taps: list[tuple[str, torch.Tensor]] = []
        for path, layer in self.steps():
            X = layer(X)
            if not isinstance(layer, _SKIPPED):
                taps.append((path, X))
        kept = [(path, value) for path, value in taps if value is not X]  # not the logits
        self.names = [path for path, _ in kept]
        return (X, *(value for _, value in kept))


def _swap_fast_pools(module: nn.Module) -> None:
    """Replace every ``FastAvgPool2d`` in ``module`` by the ``nn.AvgPool2d`` it equals."""
    for child_name, child in module.named_children():
        if isinstance(child, FastAvgPool2d):
            plain = nn.AvgPool2d(child.kernel_size, child.stride, child.padding,
                                 child.ceil_mode, child.count_include_pad,
                                 child.divisor_override)
            setattr(module, child_name, plain)
        else:
            _swap_fast_pools(child)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of the file at ``path``."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _probe_input(side: int) -> torch.Tensor:
    """A fixed, non-trivial image in [0, 1] for the equality checks."""
    generator = torch.Generator().manual_seed(0)
    return torch.rand((1, 1, side, side), generator=generator)


def _float16_initializers(model: Any) -> tuple[int, int]:
    """Store float32 initializers that are exact float16 numbers as float16 + a Cast.

    Returns:
        ``(float16 values, float32 values)``: how many weight values went each way.
    """
    import numpy as np
    from onnx import helper, numpy_helper

    graph = model.graph
    casts, kept = [], []
    halves = floats = 0
    for init in graph.initializer:
        array = numpy_helper.to_array(init)
        if array.dtype != np.float32:
            kept.append(init)
            continue
        half = array.astype(np.float16)
        if array.size < MIN_FLOAT16_SIZE or not np.array_equal(half.astype(np.float32), array):
            kept.append(init)
            floats += array.size
            continue
        stored = f"{init.name}__float16"
        kept.append(numpy_helper.from_array(half, stored))
        # The graph's nodes keep reading the float32 name, now the Cast's output.
        casts.append(helper.make_node("Cast", [stored], [init.name], to=1,
                                      name=f"{init.name}__to_float32"))
        halves += array.size
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)
    return halves, floats


def export_network(name: str, weights: str | Path | None = None) -> Exported:
    """Export the shipped network ``name`` to ONNX with its feature-map outputs.

    Args:
        name: one of :data:`cnnlib.models.pretrained.SHIPPED`.
        weights: another weights file for the same network; default the shipped one.

    Returns:
        The :class:`Exported` model and its metadata.

    Raises:
        ValueError: for a name without shipped weights (the message lists them).
        ExportError: when the export fails or does not compute what PyTorch computes.
    """
    try:
        import onnx
    except ImportError:
        raise ExportError("the `onnx` package is missing (torch.onnx.export needs it); "
                          "run `make venv`, which installs requirements.lock") from None
    if name not in shipped.SHIPPED:
        raise ValueError(f"no shipped network called {name!r}; choose from "
                         f"{sorted(shipped.SHIPPED)}")
    path = shipped.weights_path(name) if weights is None else Path(weights)
    model = shipped.pretrained(name, path)
    side = shipped.image_side(name)
    try:
        copied = copy.deepcopy(model)
        _swap_fast_pools(copied)
        taps = _Taps(copied).eval()
        X = _probe_input(side)
        with torch.no_grad():
            expected = model(X)
            outputs = taps(X)
        gap = float((outputs[0] - expected).abs().max())
        if gap > _SWAP_TOLERANCE:
            raise ExportError(f"{name}: the export-ready copy differs from the model by {gap:.3g}")
        buffer = io.BytesIO()
        # Height and width stay free in the graph (and in its maps) for ANY_SIDE networks.
        dynamic = None
        if name in ANY_SIDE:
            dynamic = {INPUT_NAME: {2: "height", 3: "width"}}
            dynamic.update({path: {2: f"{path} height", 3: f"{path} width"}
                            for path, value in zip(taps.names, outputs[1:], strict=True)
                            if value.ndim == 4})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TracerWarnings of the models' shape checks
            torch.onnx.export(
                taps, (X,), buffer, dynamo=False, external_data=False, opset_version=OPSET,
                input_names=[INPUT_NAME], output_names=[LOGITS_NAME, *taps.names],
                do_constant_folding=False,  # keeps batch norm apart (see module doc)
                dynamic_axes=dynamic,
            )
        proto = onnx.load_from_string(buffer.getvalue())
        halves, floats = _float16_initializers(proto)
        onnx.checker.check_model(proto)
        data = proto.SerializeToString()
    except ExportError:
        raise
    except Exception as err:  # any failure of the exporter: say which network
        raise ExportError(f"could not export {name}: {type(err).__name__}: {err}") from err
    out_meta = [{"name": LOGITS_NAME, "layer": "logits", "shape": list(outputs[0].shape)}]
    # The layers' names as the shipped model has them (LeNet's FastAvgPool2d, not the copy's).
    out_meta += [{"name": map_name, "layer": type(model.get_submodule(map_name)).__name__,
                  "shape": list(value.shape)}
                 for map_name, value in zip(taps.names, outputs[1:], strict=True)]
    try:
        source = str(path.resolve().relative_to(ROOT))
    except ValueError:
        source = str(path)
    meta = {
        "name": name,
        "section": shipped.SHIPPED[name],
        "inputs": [{"name": INPUT_NAME, "shape": [1, 1, side, side], "type": "float32"}],
        "outputs": out_meta,
        "maps": taps.names,
        "classes": list(LABELS),
        # The networks were trained on pixels / 255 with no further normalisation, the
        # image resized to `side` as FashionMNIST(resize=side) does (bilinear, antialiased).
        "side": side,
        "pixelRange": [0, 1],
        "mean": [0.0],
        "std": [1.0],
        "weights": {"file": source, "sha256": sha256_file(path)},
        "onnxBytes": len(data),
        "opset": OPSET,
        # The input's side may be other than `side` (the trained one): run(image, {side}).
        "anySide": name in ANY_SIDE,
        "torch": torch.__version__,
    }
    return Exported(name, data, meta, halves, floats)


def script_text(exported: Exported) -> str:
    """The classic script that registers ``exported`` in ``globalThis.CNNNetworks.models``."""
    # The metadata as JSON (valid JavaScript), then the packed model as a JavaScript literal.
    meta = json.dumps(exported.meta, separators=(",", ":"))
    body = f'{meta[:-1]},"packed":{web_pack.js_literal(exported.onnx)}}}'
    return (
        f"// {exported.name}: written by scripts/export_onnx.py from "
        f"{exported.meta['weights']['file']}; do not edit.\n"
        "(function (root) {\n"
        "  var networks = root.CNNNetworks = root.CNNNetworks || {};\n"
        "  networks.models = networks.models || {};\n"
        f"  networks.models[{json.dumps(exported.name)}] = {body};\n"
        "})(globalThis);\n"
    )


def read_script(path: str | Path) -> tuple[dict, bytes]:
    """The metadata and the ONNX bytes of a script :func:`script_text` wrote.

    For tests and checks without a browser (the browser reads it with cnn-networks.js).

    Raises:
        ValueError: for a file this module did not write (or a cut one).
    """
    text = Path(path).read_text(encoding="ascii")
    start, packed = text.find("= {"), text.rfind(',"packed":{length: ')
    if start < 0 or packed < start or not text.rstrip().endswith("}};\n})(globalThis);"):
        raise ValueError(f"{path} is not a network script of scripts/export_onnx.py "
                         "(or it was cut short): run `make web-deps` again")
    meta = json.loads(text[start + 2: packed] + "}")
    literal = text[packed + len(',"packed":'): text.rindex("}};") + 1]
    length = int(literal[len("{length: "): literal.index(",")])
    packed_text = json.loads(literal[literal.index('"'): -1], strict=False)
    return meta, gzip.decompress(web_pack.from_text7(packed_text, length))


def write_script(exported: Exported, out_dir: str | Path) -> Path:
    """Write ``OUT_DIR/<name>.onnx.js`` atomically; returns its path."""
    target = Path(out_dir) / f"{exported.name}.onnx.js"
    with atomic_open(target, "w") as handle:
        handle.write(script_text(exported))
    return target


def runtime_bytes(runtime_dir: Path) -> int | None:
    """Bytes of the runtime files in ``runtime_dir``, or None when any is missing."""
    paths = [runtime_dir / name for name in RUNTIME_FILES]
    if not all(path.is_file() for path in paths):
        return None
    return sum(path.stat().st_size for path in paths)


def export_all(out_dir: str | Path, names: list[str] | None = None) -> list[Path]:
    """Export ``names`` (default every shipped network) into ``out_dir``.

    Every network is tried; the ones that fail are named together at the end.

    Raises:
        ValueError: for unknown names, before anything is written.
        ExportError: naming every network whose export failed (the others are written).
    """
    names = list(shipped.SHIPPED) if not names else list(names)
    unknown = [name for name in names if name not in shipped.SHIPPED]
    if unknown:
        raise ValueError(f"no shipped network called {', '.join(map(repr, unknown))}; "
                         f"choose from {sorted(shipped.SHIPPED)}")
    written, failures = [], []
    for name in names:
        try:
            exported = export_network(name)
        except ExportError as err:
            failures.append(str(err))
            continue
        written.append(write_script(exported, out_dir))
    if failures:
        raise ExportError("; ".join(failures))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder for the <name>.onnx.js files")
    parser.add_argument("names", nargs="*", metavar="name",
                        help=f"networks to export (default all: {' '.join(shipped.SHIPPED)})")
    parser.add_argument("--runtime-dir", type=Path, default=None,
                        help="folder of the built runtime, for the download totals "
                             "(default: OUT_DIR/../onnxruntime)")
    args = parser.parse_args(argv)
    try:
        written = export_all(args.out_dir, args.names)
    except (ValueError, ExportError) as err:
        print(f"export_onnx: {err}", file=sys.stderr)
        return 1
    runtime_dir = args.runtime_dir or args.out_dir.parent / "onnxruntime"
    runtime = runtime_bytes(runtime_dir)
    for path in written:
        size = path.stat().st_size
        line = f"export_onnx: {path} {size / 1e6:.2f} MB"
        if runtime is not None:
            total = size + runtime
            verdict = "within" if total <= PAGE_BUDGET_BYTES else "OVER"
            line += (f"; with the runtime {total / 1e6:.2f} MB, {verdict} the "
                     f"{PAGE_BUDGET_BYTES / 1e6:.0f} MB page budget")
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
