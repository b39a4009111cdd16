"""Two explorers over a trained NiN (section 8.3), each with one front-end.

* :class:`NiNPixelExplorer`: pick an image, one of NiN's 1x1 convolutions and a pixel; see the
  channel vector that goes in, the kernel as a matrix and what comes out, ``ReLU(W x + b)``.
* :class:`NiNClassMapExplorer`: pick an image and an input size; see the ten class maps that
  reach global average pooling, their means (the scores) and the probabilities.

Each is drawn by one front-end (``cnnlib/web/explorers/nin-pixel.js`` and
``nin-class-map.js``). In JupyterLab this module computes every number with
:mod:`cnnlib.explain.nin_maps` (PyTorch) and syncs it; on the website the same front-end runs
the shipped NiN in the reader's browser (``cnnlib/web/cnn-networks.js``, onnxruntime-web) on
the gallery images Python sends in the page state, and derives the same values.

Arrays travel as ``{"shape": [...], "dtype": "float32" | "uint8", "data": base64}`` (little
endian): far smaller than JSON numbers, and exact. The gallery images are sent as ``uint8``
when they are exactly ``k / 255`` (the resized test images are), else as ``float32``.
"""

from __future__ import annotations

import base64
import gzip
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import traitlets
from torch import nn
from torch.nn import functional as F

from cnnlib import ops
from cnnlib.data import LABELS
from cnnlib.explain.activations import sequential_net
from cnnlib.explain.nin_maps import (
    ClassMaps,
    PixelDense,
    class_maps,
    conv_maps,
    one_by_one_convs,
    pixel_dense,
)
from cnnlib.viz.common import figure_to_png
from cnnlib.viz.nin_maps import class_maps_figure, pixel_dense_figure
from cnnlib.widgets.examples import check_images, example_images, example_labels
from cnnlib.widgets.live import WEB_DIR, LiveExplorer
from cnnlib.widgets.page import compress_png

#: The shipped network the website's version runs (``CNNNetworks.load``).
NETWORK = "nin"
#: Layers the ONNX export gives no output of (``scripts/export_onnx.py``'s ``_SKIPPED``).
_NO_OUTPUT = (nn.Flatten, nn.Dropout, nn.Identity)
#: The network's web component needs the page's CNNNetworks (cnnlib/web/cnn-networks.js).
_NETWORKS_SCRIPT = "cnn-networks.js"


def _default_model() -> nn.Module:
    from cnnlib.models.pretrained import pretrained

    return pretrained(NETWORK)


def encode(values: torch.Tensor | np.ndarray, dtype: str = "float32",
           compress: bool = False) -> dict[str, Any]:
    """An array as ``{"shape", "dtype", "data"}``, its bytes base64 (what the front-end reads).

    Args:
        values: the numbers.
        dtype: ``"float32"``, or ``"uint8"`` for values that are whole numbers 0..255.
        compress: gzip the bytes first (then ``"gzip": true``; the page un-gzips them with
            its own ``DecompressionStream``): the gallery's images shrink to a third.

    Raises:
        ValueError: for another dtype, or ``uint8`` values that are not whole numbers 0..255.
    """
    array = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else values
    array = np.asarray(array)
    if dtype == "float32":
        raw = array.astype("<f4")
    elif dtype == "uint8":
        if array.size and (array.min() < 0 or array.max() > 255
                           or not np.array_equal(np.round(array), array)):
            raise ValueError("uint8 values must be whole numbers 0..255")
        raw = array.astype(np.uint8)
    else:
        raise ValueError(f"dtype must be 'float32' or 'uint8', got {dtype!r}")
    data = raw.tobytes()
    payload: dict[str, Any] = {"shape": list(array.shape), "dtype": dtype}
    if compress:
        # mtime=0: the same images give the same bytes, so a rebuilt page does not change.
        data = gzip.compress(data, compresslevel=9, mtime=0)
        payload["gzip"] = True
    payload["data"] = base64.b64encode(data).decode("ascii")
    return payload


def decode(payload: dict[str, Any]) -> np.ndarray:
    """The array :func:`encode` made (``float32`` or ``uint8``)."""
    dtype = {"float32": "<f4", "uint8": np.uint8}[payload["dtype"]]
    data = base64.b64decode(payload["data"])
    if payload.get("gzip"):
        data = gzip.decompress(data)
    flat = np.frombuffer(data, dtype=dtype)
    return flat.reshape(payload["shape"])


def encode_images(images: torch.Tensor) -> dict[str, Any]:
    """Images ``(N, 1, H, W)`` in [0, 1] as sent to the page, gzipped: ``uint8`` (the value
    times 255) when every pixel is exactly ``k / 255`` in float32, which dividing by 255
    restores bit for bit; otherwise ``float32``."""
    X = images[:, 0].float()
    levels = (X * 255).round()
    if torch.equal(levels / 255, X):
        return encode(levels, "uint8", compress=True)
    return encode(X, compress=True)


def export_steps(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``(output name, layer)`` of every layer whose output the ONNX export gives, in order.

    Mirrors ``scripts/export_onnx.py``: one level into ``nn.Sequential`` blocks, named by the
    path in the model (``"net.0.2"``); Flatten, Dropout and Identity give no output.
    """
    steps = []
    for name, layer in sequential_net(model).named_children():
        inner = (list(layer.named_children()) if isinstance(layer, nn.Sequential)
                 else [(None, layer)])
        for sub, module in inner:
            if not isinstance(module, _NO_OUTPUT):
                steps.append((f"net.{name}" if sub is None else f"net.{name}.{sub}", module))
    return steps


def _input_map(model: nn.Module, layer: str) -> str:
    """The export's output that feeds ``model.net``'s layer ``layer`` (``"0.2"``: ``"net.0.1"``)."""
    names = [name for name, _ in export_steps(model)]
    index = names.index(f"net.{layer}")
    if index == 0:
        raise ValueError(f"layer {layer} reads the image itself, not a map")
    return names[index - 1]


def layer_label(model: nn.Module, name: str) -> str:
    """``"block 1, first 1×1 conv"`` for the 1x1 convolution ``name`` of a NiN."""
    net = sequential_net(model)
    blocks = [k for k, (_, layer) in enumerate(net.named_children())
              if isinstance(layer, nn.Sequential)]
    block_index, _ = name.split(".")
    number = blocks.index(int(block_index)) + 1
    in_block = [n for n, _ in one_by_one_convs(model) if n.split(".")[0] == block_index]
    order = ("first", "second", "third", "fourth")[in_block.index(name)]
    extra = " (class block)" if number == len(blocks) else ""
    return f"block {number}{extra}, {order} 1×1 conv"


def _example_options(labels: torch.Tensor | None, indices: list[int] | None,
                     count: int) -> list[list]:
    """``[label, position]`` per image (:func:`cnnlib.widgets.examples.example_labels`)."""
    return [[label, k] for k, label in enumerate(example_labels(labels, indices, count))]


def _check_example(example: int, count: int) -> None:
    """Refuse an image position outside the gallery (the front-ends say the same words)."""
    if isinstance(example, bool) or not isinstance(example, int) or not 0 <= example < count:
        raise ValueError(f"example must be an image's position 0..{count - 1}, got {example!r}")


def _with_networks(scripts: list[Path]) -> list[Path]:
    """A live explorer's page scripts with the networks' loader ``cnn-networks.js`` before
    its front-end (it adds onnxruntime-web and the network only when the front-end asks)."""
    *first, front_end = scripts
    return [*first, WEB_DIR / _NETWORKS_SCRIPT, front_end]


class NiNPixelExplorer(LiveExplorer):
    """A 1x1 convolution of a trained NiN, taken apart at one pixel.

    Drawn by ``cnnlib/web/explorers/nin-pixel.js``: menus for the image and the 1x1
    convolution, sliders for the pixel's row and column (or a click on a map); the image with
    the window the pixel sees, the convolution's input and output maps with the pixel marked,
    and the dense layer at that pixel: ``x`` above the columns of ``W``, ``ReLU(W x + b)``
    beside its rows.

    Attributes:
        model: the network; convs: name -> 1x1 convolution (names in ``model.net``).
        images: ``(N, 1, H, H)`` in [0, 1]; labels: ``(N,)`` or None.
        example, layer, row, col: the controls (``layer`` names a convolution in ``model.net``).
        result: the :class:`~cnnlib.explain.nin_maps.PixelDense` shown now (None for a bad
            setting).
        Synced for the front-end: ``layer_options`` (``[label, name]``), ``maps_in``,
        ``maps_out`` (after the ReLU), ``W`` (encoded arrays), ``x``, ``b``, ``pre``, ``out``
        (lists), ``region``, ``header``, ``summary``.
    """

    explorer_name: ClassVar[str] = "NiNPixelExplorer"
    script: ClassVar[str] = "nin-pixel.js"
    EXTRA_CONTROLS: ClassVar[tuple[str, ...]] = ("example", "layer", "row", "col")

    example = traitlets.Int(0).tag(sync=True)
    #: ``[label, position]`` of each image, for the image menu.
    example_options = traitlets.List().tag(sync=True)
    #: The chosen image as it enters the network (``(side, side)``, float32), to draw.
    image = traitlets.Dict().tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)

    layer = traitlets.Unicode("").tag(sync=True)
    row = traitlets.Int(0).tag(sync=True)
    col = traitlets.Int(0).tag(sync=True)
    layer_options = traitlets.List().tag(sync=True)

    maps_in = traitlets.Dict().tag(sync=True)
    maps_out = traitlets.Dict().tag(sync=True)
    W = traitlets.Dict().tag(sync=True)
    x = traitlets.List().tag(sync=True)
    b = traitlets.List().tag(sync=True)
    pre = traitlets.List().tag(sync=True)
    out = traitlets.List().tag(sync=True)
    region = traitlets.List().tag(sync=True)
    header = traitlets.Unicode("").tag(sync=True)

    def __init__(self, model: nn.Module | None = None, images: torch.Tensor | None = None,
                 labels: torch.Tensor | None = None, indices: list[int] | None = None,
                 layer: str | None = None, row: int | None = None, col: int | None = None,
                 example: int = 0) -> None:
        """Start from these settings and compute the first state.

        Args:
            model: a NiN; default ``pretrained("nin")``.
            images: ``(N, 1, H, H)`` in [0, 1] at the network's side; default the ten
                example test images (``cnnlib.widgets.examples``) at 112 px.
            labels: their classes ``(N,)``; indices: their test-split indices (for the menu).
            layer: the 1x1 convolution, by name in ``model.net``; default the first.
            row, col: the pixel; default the middle of the map.
            example: the image's position.

        Raises:
            TypeError, ValueError: for images that are not ``(N, 1, H, H)``, labels that
                do not match, an unknown layer or example, or a pixel outside the map.
        """
        self.model = _default_model() if model is None else model
        self.convs = dict(one_by_one_convs(self.model))
        if images is None:
            images, labels, indices = example_images(112)
        check_images(images, labels)
        self.images, self.labels, self._indices = images, labels, indices
        layer = next(iter(self.convs)) if layer is None else layer
        if layer not in self.convs:
            raise ValueError(f"layer must name a 1x1 convolution of model.net, one of "
                             f"{list(self.convs)}; got {layer!r}")
        _check_example(example, images.shape[0])
        self._maps: dict[int, dict] = {}
        self.result: PixelDense | None = None
        h, w = self._maps_for(example)[layer][0].shape[1:]
        row = h // 2 if row is None else row
        col = w // 2 if col is None else col
        for name, value, size in (("row", row, h), ("col", col, w)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be a whole number, got {value!r}")
            if not 0 <= value < size:
                raise ValueError(f"{name} must be in 0..{size - 1} for the {h}×{w} map of "
                                 f"layer {layer}; got {value}")
        super().__init__(example=example, layer=layer, row=row, col=col)

    @traitlets.default("example_options")
    def _default_example_options(self) -> list[list]:
        return _example_options(self.labels, self._indices, self.images.shape[0])

    @traitlets.default("layer_options")
    def _default_layer_options(self) -> list[list]:
        return [[f"{layer_label(self.model, name)} (net.{name})", name] for name in self.convs]

    def _maps_for(self, k: int) -> dict:
        if k not in self._maps:
            self._maps[k] = conv_maps(self.model, self.images[k, 0])
        return self._maps[k]

    # -- the numbers, from cnnlib ---------------------------------------------------------------

    def derived_names(self) -> tuple[str, ...]:
        return ("image", "maps_in", "maps_out", "W", "x", "b", "pre", "out", "region",
                "header", "summary")

    def compute(self) -> dict[str, Any]:
        self.result = None
        _check_example(self.example, self.images.shape[0])
        if self.layer not in self.convs:
            raise ValueError(f"layer must name a 1x1 convolution of model.net, one of "
                             f"{list(self.convs)}; got {self.layer!r}")
        maps = self._maps_for(self.example)
        h, w = maps[self.layer][0].shape[1:]
        # A pixel past a smaller map moves to its last row or column, as a slider clamps.
        row, col = min(max(self.row, 0), h - 1), min(max(self.col, 0), w - 1)
        r = pixel_dense(self.model, self.images[self.example, 0], self.layer, (row, col),
                        maps=maps)
        self.result = r
        return {
            "row": row, "col": col,
            "image": encode(self.images[self.example, 0]),
            "maps_in": encode(r.maps_in), "maps_out": encode(r.maps_out), "W": encode(r.W),
            "x": r.x.tolist(), "b": r.b.tolist(), "pre": r.pre.tolist(), "out": r.out.tolist(),
            "region": [list(r.region[0]), list(r.region[1])],
            "header": (f"{layer_label(self.model, r.layer)}: pixel (row {row}, col {col}), "
                       "marked in every map"),
            "summary": self._describe(r),
        }

    def _describe(self, r: PixelDense) -> str:
        c_out, c_in = r.W.shape
        _, h, w = r.maps_in.shape
        kernel = tuple(self.convs[r.layer].weight.shape)
        return (
            f"out = ReLU(W x + b) at pixel ({r.position[0]}, {r.position[1]}) of net."
            f"{r.layer}: x is the {c_in} input channels there, shape ({c_in},); W is the "
            f"1×1 kernel {kernel} reshaped to ({c_out}, {c_in}); b has shape ({c_out},); "
            f"out has shape ({c_out},). The same W and b serve all {h}×{w} = {h * w} pixels. "
            f"{int((r.out > 0).sum())} of the {c_out} outputs are positive here."
        )

    # -- the website's page ---------------------------------------------------------------------

    def page_state(self) -> dict[str, Any]:
        """The controls, the menus, and what the browser computes from: the gallery images,
        each 1x1 convolution's weights, the export's map names around it, its map's size
        (the sliders' range before the first answer) and the layers in front of it (for the
        window the pixel sees)."""
        chain = ops.layer_specs(sequential_net(self.model))
        names = [spec.name for spec in chain]
        layers = {}
        for name, conv in self.convs.items():
            weight = conv.weight.detach().cpu().float()
            bias = (conv.bias.detach().cpu().float() if conv.bias is not None
                    else torch.zeros(weight.shape[0]))
            layers[name] = {
                "W": encode(weight.reshape(weight.shape[0], weight.shape[1])),
                "b": bias.tolist(),
                "kernel": list(weight.shape),
                "maps": [_input_map(self.model, name), f"net.{name}"],
                "map": list(self._maps_for(self.example)[name][0].shape[1:]),
                "label": layer_label(self.model, name),
                "chain": [{"kernel": list(s.kernel_size), "stride": list(s.stride),
                           "padding": list(s.padding), "dilation": list(s.dilation)}
                          for s in chain[: names.index(name) + 1]],
            }
        return super().page_state() | {
            "network": NETWORK, "images": encode_images(self.images),
            "example_options": self.example_options, "layer_options": self.layer_options,
            "layers": layers,
        }

    def picture_png(self) -> bytes | None:
        """Python's drawing of the same setting: shown while the page loads the network, and
        where the front-end cannot run."""
        if self.result is None:
            return None
        figure = pixel_dense_figure(self.result, self.images[self.example, 0],
                                    layer_label(self.model, self.layer))
        return compress_png(figure_to_png(figure))

    def picture_alt(self) -> str:
        return f"{self.header}. {self.status_text}" if self.result else self.status_text

    def page_scripts(self) -> list[Path]:
        """``cnn-ops.js`` (the receptive-field arithmetic), the host, ``cnn-networks.js``
        and this front-end."""
        return _with_networks(super().page_scripts())

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it."""
        return self.error or self.summary


class NiNClassMapExplorer(LiveExplorer):
    """The class maps of a trained NiN before global average pooling, and their scores.

    Drawn by ``cnnlib/web/explorers/nin-class-map.js``: menus for the image and the input
    size; the image, the class block's ten maps on one colour scale, each with its mean, and
    the probabilities softmax makes of those means.

    Attributes:
        model: the network; sizes: the input sides offered (the first is the trained one).
        images_by_size: side -> images ``(N, 1, side, side)``; labels: ``(N,)`` or None.
        example, size: the controls.
        result: the :class:`~cnnlib.explain.nin_maps.ClassMaps` shown now (None for a bad
            setting).
        Synced for the front-end: ``size_options`` (``[label, side]``), ``maps`` (encoded),
        ``averages``, ``logits``, ``probs`` (lists), ``predicted``, ``label`` (-1 for none),
        ``note``, ``summary``.
    """

    explorer_name: ClassVar[str] = "NiNClassMapExplorer"
    script: ClassVar[str] = "nin-class-map.js"
    EXTRA_CONTROLS: ClassVar[tuple[str, ...]] = ("example", "size")

    example = traitlets.Int(0).tag(sync=True)
    #: ``[label, position]`` of each image, for the image menu.
    example_options = traitlets.List().tag(sync=True)
    #: The chosen image as it enters the network (``(side, side)``, float32), to draw.
    image = traitlets.Dict().tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)

    size = traitlets.Int(112).tag(sync=True)
    size_options = traitlets.List().tag(sync=True)
    class_names = traitlets.List(traitlets.Unicode()).tag(sync=True)

    maps = traitlets.Dict().tag(sync=True)
    averages = traitlets.List().tag(sync=True)
    logits = traitlets.List().tag(sync=True)
    probs = traitlets.List().tag(sync=True)
    predicted = traitlets.Int(-1).tag(sync=True)
    label = traitlets.Int(-1).tag(sync=True)
    note = traitlets.Unicode("").tag(sync=True)

    def __init__(self, model: nn.Module | None = None, images: torch.Tensor | None = None,
                 labels: torch.Tensor | None = None, indices: list[int] | None = None,
                 sizes: tuple[int, ...] = (112, 224), example: int = 0,
                 size: int | None = None) -> None:
        """Start from these settings and compute the first state.

        Args:
            model: a NiN; default ``pretrained("nin")``.
            images: ``(N, 1, side, side)`` in [0, 1] at ``sizes[0]``; default the ten
                example test images, resized for every size as training resized them.
                Given images are resized to the other sizes with bilinear interpolation.
            labels, indices: their classes and test-split indices.
            sizes: input sides offered; the first is the one the network was trained on.
            example, size: the start image (position) and side (default ``sizes[0]``).

        Raises:
            TypeError, ValueError: for malformed images or sizes.
        """
        self.model = _default_model() if model is None else model
        if not sizes or any(isinstance(s, bool) or not isinstance(s, int) or s < 1
                            for s in sizes):
            raise ValueError(f"sizes must be positive whole numbers, got {sizes!r}")
        self.sizes = tuple(sizes)
        if images is None:
            images, labels, indices = example_images(self.sizes[0])
            self.images_by_size = {self.sizes[0]: images}
            for side in self.sizes[1:]:
                self.images_by_size[side] = example_images(side)[0]
        else:
            check_images(images, labels)
            if images.shape[-1] != self.sizes[0]:
                raise ValueError(f"images are {images.shape[-1]} px but sizes[0] is "
                                 f"{self.sizes[0]}; give images at the first size")
            self.images_by_size = {
                side: images if side == self.sizes[0] else F.interpolate(
                    images.float(), size=(side, side), mode="bilinear", antialias=True,
                    align_corners=False).clamp(0, 1)
                for side in self.sizes}
        self.labels, self._indices = labels, indices
        self.images = images
        class_maps(self.model, images[0, 0])  # fail early for a model without global pooling
        _check_example(example, images.shape[0])
        size = self.sizes[0] if size is None else size
        if size not in self.sizes:
            raise ValueError(f"size must be one of {list(self.sizes)}, got {size!r}")
        self.result: ClassMaps | None = None
        super().__init__(example=example, size=size)

    @traitlets.default("example_options")
    def _default_example_options(self) -> list[list]:
        return _example_options(self.labels, self._indices, self.images.shape[0])

    @traitlets.default("size_options")
    def _default_size_options(self) -> list[list]:
        return [[f"{s} px" + (" (trained size)" if s == self.sizes[0]
                              else " (not the trained size)"), s] for s in self.sizes]

    @traitlets.default("class_names")
    def _default_class_names(self) -> list[str]:
        return list(LABELS)

    # -- the numbers, from cnnlib ---------------------------------------------------------------

    def derived_names(self) -> tuple[str, ...]:
        return ("image", "maps", "averages", "logits", "probs", "predicted", "label", "note",
                "summary")

    def _label(self) -> int | None:
        return None if self.labels is None else int(self.labels[self.example])

    def compute(self) -> dict[str, Any]:
        self.result = None
        _check_example(self.example, self.images.shape[0])
        if self.size not in self.sizes:
            raise ValueError(f"size must be one of {list(self.sizes)}, got {self.size!r}")
        X = self.images_by_size[self.size][self.example, 0]
        r = class_maps(self.model, X, self._label())
        self.result = r
        return {
            "image": encode(X), "maps": encode(r.maps), "averages": r.averages.tolist(),
            "logits": r.logits.tolist(), "probs": r.probs.tolist(), "predicted": r.predicted,
            "label": -1 if r.label is None else r.label, "note": self._note(),
            "summary": self._describe(r),
        }

    def _note(self) -> str:
        return "" if self.size == self.sizes[0] else "(not the trained size)"

    def _describe(self, r: ClassMaps) -> str:
        k, h, w = r.maps.shape
        p = r.predicted
        verdict = "" if r.label is None else (
            f", true {LABELS[r.label]}: " + ("right" if p == r.label else "wrong"))
        side = self.size
        if side == self.sizes[0]:
            size_note = (f"At {side} px, the size the network was trained on, each class map "
                         f"is {h}×{w}: averaging takes the mean of {h * w} numbers per class.")
        else:
            size_note = (f"At {side} px the network was never trained: it still runs, "
                         f"because every layer before the averaging is a convolution or a "
                         f"pooling, and the maps grow to {h}×{w}; its scores may be worse.")
        return (f"{size_note} The {k} means are the scores (logits); softmax turns them into "
                f"probabilities: predicted {LABELS[p] if k == len(LABELS) else p} "
                f"({float(r.probs[p]):.2f}){verdict}.")

    # -- the website's page ---------------------------------------------------------------------

    def page_state(self) -> dict[str, Any]:
        """The controls, the menus, and what the browser computes from: the gallery images at
        every size, their labels, the trained size and the export's name of the maps that
        reach global average pooling."""
        steps = export_steps(self.model)
        pools = [k for k, (_, layer) in enumerate(steps)
                 if isinstance(layer, nn.AdaptiveAvgPool2d)]
        return super().page_state() | {
            "network": NETWORK,
            "images": {str(side): encode_images(X) for side, X in self.images_by_size.items()},
            "labels": None if self.labels is None else [int(y) for y in self.labels],
            "example_options": self.example_options, "size_options": self.size_options,
            "class_names": self.class_names, "trained_size": self.sizes[0],
            "maps_name": steps[pools[-1] - 1][0],
        }

    def picture_png(self) -> bytes | None:
        """Python's drawing of the same setting: shown while the page loads the network, and
        where the front-end cannot run."""
        if self.result is None:
            return None
        X = self.images_by_size[self.size][self.example, 0]
        return compress_png(figure_to_png(class_maps_figure(self.result, X, note=self._note())))

    def picture_alt(self) -> str:
        return self.status_text

    def page_scripts(self) -> list[Path]:
        """``cnn-ops.js`` (the receptive-field arithmetic), the host, ``cnn-networks.js``
        and this front-end."""
        return _with_networks(super().page_scripts())

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it."""
        return self.error or self.summary


__all__ = ["NiNClassMapExplorer", "NiNPixelExplorer", "decode", "encode", "encode_images",
           "export_steps", "layer_label"]
