"""Two explorers over a trained NiN (section 8.3).

* :class:`NiNPixelExplorer`: pick an image, a 1x1 convolution and a pixel; see the channel
  vector that goes in, the kernel as a matrix and what comes out, ``ReLU(W x + b)``.
* :class:`NiNClassMapExplorer`: pick an image (and an input size); see the ten class maps
  that reach global average pooling, their means (the scores) and the probabilities.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure
from torch import nn
from torch.nn import functional as F

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
from cnnlib.viz.nin_maps import class_maps_figure, pixel_dense_figure
from cnnlib.widgets import page
from cnnlib.widgets.examples import check_images, example_images, example_menu
from cnnlib.widgets.guarded import GuardedExplorer, clamp_slider, position_slider

#: Images on the website's form of :class:`NiNPixelExplorer` (positions in the example menu).
PAGE_IMAGES = (0, 1, 9)
#: Pixel rows (and columns) the website's form offers per side: a coarse grid.
PAGE_POSITIONS = 3


def _default_model() -> nn.Module:
    from cnnlib.models.pretrained import pretrained

    return pretrained("nin")


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


class NiNPixelExplorer(GuardedExplorer):
    """A 1x1 convolution of a trained NiN, taken apart at one pixel.

    Attributes:
        model: the network.
        images: ``(N, 1, H, H)`` in [0, 1]; labels: ``(N,)`` or None.
        example: dropdown over the images (its value is the position).
        layer: dropdown over the 1x1 convolutions (values are names in ``model.net``).
        row, col: the pixel of the layer's map (ranges follow the map's size).
        result: the :class:`~cnnlib.explain.nin_maps.PixelDense` shown now
            (``x``, ``W``, ``b``, ``pre``, ``out``, the maps).
    """

    def __init__(self, model: nn.Module | None = None, images: torch.Tensor | None = None,
                 labels: torch.Tensor | None = None, indices: list[int] | None = None,
                 layer: str | None = None, row: int | None = None, col: int | None = None,
                 dpi: int | None = None) -> None:
        """Build the controls and draw the first picture.

        Args:
            model: a NiN; default ``pretrained("nin")``.
            images: ``(N, 1, H, H)`` in [0, 1] at the network's side; default the ten
                example test images (``cnnlib.widgets.examples``) at 112 px.
            labels: their classes ``(N,)``; indices: their test-split indices (for the menu).
            layer: the 1x1 convolution, by name in ``model.net``; default the first.
            row, col: the pixel; default the middle of the map.

        Raises:
            TypeError, ValueError: for images that are not ``(N, 1, H, H)``, labels that
                do not match, an unknown layer or a pixel outside the map.
        """
        self.model = _default_model() if model is None else model
        self.convs = dict(one_by_one_convs(self.model))
        if images is None:
            images, labels, indices = example_images(112)
        check_images(images, labels)
        self.images, self.labels = images, labels
        layer = next(iter(self.convs)) if layer is None else layer
        if layer not in self.convs:
            raise ValueError(f"layer must name a 1x1 convolution of model.net, one of "
                             f"{list(self.convs)}; got {layer!r}")
        self._maps: dict[int, dict] = {}
        self.example = example_menu(labels, indices, images.shape[0])
        self.layer = widgets.Dropdown(
            options=[(f"{layer_label(self.model, name)} (net.{name})", name)
                     for name in self.convs], value=layer, description="layer",
            layout=widgets.Layout(width="max-content"))
        self.row = position_slider("row")
        self.col = position_slider("column")
        h, w = self._map_size()
        row = h // 2 if row is None else row
        col = w // 2 if col is None else col
        for name, value, size in (("row", row, h), ("col", col, w)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be a whole number, got {value!r}")
            if not 0 <= value < size:
                raise ValueError(f"{name} must be in 0..{size - 1} for the {h}×{w} map of "
                                 f"layer {layer}; got {value}")
        self.row.max, self.col.max = h - 1, w - 1
        self.row.value, self.col.value = row, col
        self.result: PixelDense | None = None
        super().__init__([self.example, self.layer, self.row, self.col], dpi=dpi)

    def _maps_for(self, k: int) -> dict:
        if k not in self._maps:
            self._maps[k] = conv_maps(self.model, self.images[k, 0])
        return self._maps[k]

    def _map_size(self) -> tuple[int, int]:
        maps_in, _ = self._maps_for(self.example.value)[self.layer.value]
        return tuple(maps_in.shape[1:])

    def page_controls(self) -> list:
        h, w = self._map_size()
        rows = sorted({int((i + 0.5) * h / PAGE_POSITIONS) for i in range(PAGE_POSITIONS)})
        cols = sorted({int((i + 0.5) * w / PAGE_POSITIONS) for i in range(PAGE_POSITIONS)})
        images = [k for k in PAGE_IMAGES if k < self.images.shape[0]]
        return [page.menu(self, "example", images), page.slider(self, "row", rows),
                page.slider(self, "col", cols)]

    def sync_controls(self) -> None:
        h, w = self._map_size()
        clamp_slider(self.row, h - 1)
        clamp_slider(self.col, w - 1)

    def update(self) -> None:
        k = self.example.value
        self.result = pixel_dense(self.model, self.images[k, 0], self.layer.value,
                                  (self.row.value, self.col.value), maps=self._maps_for(k))

    def draw(self) -> Figure:
        return pixel_dense_figure(self.result, self.images[self.example.value, 0],
                                  layer_label(self.model, self.layer.value))

    def describe(self) -> str:
        r = self.result
        c_out, c_in = r.W.shape
        _, h, w = r.maps_in.shape
        kernel = tuple(self.convs[self.layer.value].weight.shape)
        return html.escape(
            f"out = ReLU(W x + b) at pixel ({r.position[0]}, {r.position[1]}) of net."
            f"{r.layer}: x is the {c_in} input channels there, shape ({c_in},); W is the "
            f"1×1 kernel {kernel} reshaped to ({c_out}, {c_in}); b has shape ({c_out},); "
            f"out has shape ({c_out},). The same W and b serve all {h}×{w} = {h * w} pixels. "
            f"{int((r.out > 0).sum())} of the {c_out} outputs are positive here."
        )


class NiNClassMapExplorer(GuardedExplorer):
    """The class maps of a trained NiN before global average pooling, and their scores.

    Attributes:
        model: the network.
        example: dropdown over the images; size: dropdown over the input sides.
        images_by_size: side -> images ``(N, 1, side, side)``.
        result: the :class:`~cnnlib.explain.nin_maps.ClassMaps` shown now (``maps``,
            ``averages``, ``logits``, ``probs``).
    """

    def __init__(self, model: nn.Module | None = None, images: torch.Tensor | None = None,
                 labels: torch.Tensor | None = None, indices: list[int] | None = None,
                 sizes: tuple[int, ...] = (112, 224), dpi: int | None = None) -> None:
        """Build the controls and draw the first picture.

        Args:
            model: a NiN; default ``pretrained("nin")``.
            images: ``(N, 1, side, side)`` in [0, 1] at ``sizes[0]``; default the ten
                example test images, resized for every size as training resized them.
                Given images are resized to the other sizes with bilinear interpolation.
            labels, indices: their classes and test-split indices.
            sizes: input sides offered; the first is the one the network was trained on.

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
        self.labels = labels
        class_maps(self.model, images[0, 0])  # fail early for a model without global pooling
        self.example = example_menu(labels, indices, images.shape[0])
        self.size = widgets.Dropdown(
            options=[(f"{s} px" + (" (trained size)" if s == self.sizes[0]
                                   else " (not the trained size)"), s) for s in self.sizes],
            value=self.sizes[0], description="input")
        self.result: ClassMaps | None = None
        super().__init__([self.example, self.size], dpi=dpi)

    def page_controls(self) -> list:
        return [page.menu(self, "example"), page.menu(self, "size")]

    def _label(self) -> int | None:
        return None if self.labels is None else int(self.labels[self.example.value])

    def update(self) -> None:
        X = self.images_by_size[self.size.value][self.example.value, 0]
        self.result = class_maps(self.model, X, self._label())

    def _note(self) -> str:
        if self.size.value == self.sizes[0]:
            return ""
        return "(not the trained size)"

    def draw(self) -> Figure:
        X = self.images_by_size[self.size.value][self.example.value, 0]
        return class_maps_figure(self.result, X, note=self._note())

    def describe(self) -> str:
        r = self.result
        k, h, w = r.maps.shape
        p = r.predicted
        verdict = "" if r.label is None else (
            f", true {LABELS[r.label]}: " + ("right" if p == r.label else "wrong"))
        side = self.size.value
        if side == self.sizes[0]:
            size_note = (f"At {side} px, the size the network was trained on, each class map "
                         f"is {h}×{w}: averaging takes the mean of {h * w} numbers per class.")
        else:
            size_note = (f"At {side} px the network was never trained: it still runs, "
                         f"because every layer before the averaging is a convolution or a "
                         f"pooling, and the maps grow to {h}×{w}; its scores may be worse.")
        return html.escape(
            f"{size_note} The {k} means are the scores (logits); softmax turns them into "
            f"probabilities: predicted {LABELS[p] if k == len(LABELS) else p} "
            f"({float(r.probs[p]):.2f}){verdict}."
        )
