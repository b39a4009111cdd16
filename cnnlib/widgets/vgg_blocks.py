"""VGG block by block (section 8.2): one output unit's receptive field, and the block's maps.

Choose a test image, a block and a unit of the block's output. The input is drawn with the
unit's receptive field on it (dashed: the whole field, padding included; solid: the pixels
it reads), and beside it the block's first feature maps with the unit marked.

One front-end (``cnnlib/web/explorers/vgg-blocks.js``) draws it. In JupyterLab this class
computes every number with PyTorch and cnnlib's receptive-field arithmetic
(:func:`cnnlib.viz.vgg_blocks.block_field`) and syncs them; on the website the same
front-end runs the shipped VGG-11 in the reader's browser (``cnnlib/web/cnn-networks.js``)
on the pixels Python resized, and the field arithmetic with ``cnn-ops.js``, from the
blocks' layer geometry Python sends.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, ClassVar

import torch
import traitlets
from torch import nn
from torch.nn import functional as F

from cnnlib import data
from cnnlib.ops import layer_specs
from cnnlib.viz.common import figure_to_png
from cnnlib.viz.style import DPI
from cnnlib.viz.vgg_blocks import (
    SHOWN_CHANNELS,
    BlockField,
    block_field,
    vgg_block_figure,
    vgg_blocks,
)
from cnnlib.widgets.compare_stages import (
    NETWORKS_SCRIPT,
    example_options,
    palettes,
    pixels_base64,
    whole_number,
)
from cnnlib.widgets.examples import given_or_examples
from cnnlib.widgets.live import Control, LiveExplorer

#: The unit menu: named positions of a block's ``h × w`` output, and the sliders' own choice.
UNITS = {
    "centre": lambda h, w: (h // 2, w // 2),
    "top edge, middle": lambda h, w: (0, w // 2),
    "top-left corner": lambda h, w: (0, 0),
}
SLIDERS = "row/col sliders"


def _block_summary(block: nn.Sequential) -> str:
    """``2 × (3×3 conv + ReLU), 2×2 max pool``."""
    convs = [m for m in block if isinstance(m, nn.Conv2d)]
    pools = [m for m in block if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d))]
    k = convs[0].kernel_size
    text = f"{len(convs)} × ({k[0]}×{k[1]} conv + ReLU)"
    for pool in pools:
        size = pool.kernel_size if isinstance(pool.kernel_size, int) else pool.kernel_size[0]
        text += f", {size}×{size} max pool"
    return text


def _block_maps_name(model: nn.Module, index: int) -> str:
    """The exported output that is block ``index``'s (0-based) output: its last layer's,
    ``"net.<index>.<last>"`` (scripts/export_onnx.py names one output per layer inside a
    sequential block)."""
    net = model.net
    names = list(net._modules)
    block = net[index]
    return f"net.{names[index]}.{list(block._modules)[-1]}"


class VGGBlockExplorer(LiveExplorer):
    """A VGG's blocks one at a time: a unit's receptive field and the block's feature maps.

    Drawn by its one front-end (``cnnlib/web/explorers/vgg-blocks.js``): a menu of example
    images, a block slider, a unit menu and, for ``"row/col sliders"``, the unit's row and
    column; the input with the unit's field, the block's first maps with the unit marked.

    Attributes:
        example, block, unit, row, col: the controls (``row``/``col`` follow ``unit`` unless
            it is ``"row/col sliders"``; they are pulled into the block's output).
        examples, units, classes, palettes: the menus' options, the class names and the
            colour maps; labels_shown: each example's true class.
        network: what the page runs: ``key`` (``CNNNetworks.load``), ``side`` and the inputs'
            ``pixels`` (base64 of uint8 ``(N, side, side)``).
        blocks: per block its ``summary``, its exported output's name ``map`` and the
            ``layers`` (``kernel``, ``stride``, ``padding``) the field arithmetic walks.
        field_info: the derived field: ``block``, ``position``, ``output``, ``size``, ``box``,
            ``region``, ``padding_fraction``; maps_shown: ``shape`` (the block's whole
            output), ``tiles`` and ``values`` of its first channels; predicted, probability;
            summary: the status lines; shown: the ``example`` and ``block`` they belong to.
        model: the network; X: its inputs ``(N, 1, side, side)``; labels, indices.
        probs: class probabilities for every example ``(N, num_classes)``.
        field: the :class:`~cnnlib.viz.vgg_blocks.BlockField` on screen.
        region: the input pixels the unit reads, ``((r0, r1), (c0, c1))`` (exclusive stops).
        maps: the block's output for the image, ``(C, h, w)``.
    """

    explorer_name: ClassVar[str] = "VGGBlockExplorer"
    script: ClassVar[str] = "vgg-blocks.js"
    CONTROLS: ClassVar[tuple[Control, ...]] = (
        Control("block", "block", 1, 5),
        Control("row", "unit row", 0, 0),
        Control("col", "unit col", 0, 0),
    )
    #: The menus have no slider in CONTROLS.
    EXTRA_CONTROLS: ClassVar[tuple[str, ...]] = ("example", "unit")
    #: The shipped network the page runs.
    KEY: ClassVar[str] = "vgg11"

    example = traitlets.Int(0).tag(sync=True)
    block = traitlets.Int(1).tag(sync=True)
    unit = traitlets.Unicode("centre").tag(sync=True)
    row = traitlets.Int(0).tag(sync=True)
    col = traitlets.Int(0).tag(sync=True)
    examples = traitlets.List(traitlets.Unicode()).tag(sync=True)
    labels_shown = traitlets.List(traitlets.Int()).tag(sync=True)
    units = traitlets.List(traitlets.Unicode()).tag(sync=True)
    classes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    palettes = traitlets.Dict().tag(sync=True)
    network = traitlets.Dict().tag(sync=True)
    blocks = traitlets.List(traitlets.Dict()).tag(sync=True)

    field_info = traitlets.Dict().tag(sync=True)
    maps_shown = traitlets.Dict().tag(sync=True)
    predicted = traitlets.Int(-1).tag(sync=True)
    probability = traitlets.Float(0.0).tag(sync=True)
    summary = traitlets.List(traitlets.Unicode()).tag(sync=True)
    shown = traitlets.Dict().tag(sync=True)

    def __init__(self, model: nn.Module | None = None, images: torch.Tensor | None = None,
                 labels: torch.Tensor | None = None, side: int = 32, block: int = 1,
                 unit: str = "centre", example: int = 0, row: int = 0, col: int = 0,
                 dpi: int | None = None) -> None:
        """Run every example through the network and show the first.

        Args:
            model: a VGG (blocks of convolutions first in ``model.net``); default: the
                shipped ``pretrained("vgg11")``, the one the page runs.
            images: uint8 test images ``(N, 28, 28)`` with their ``labels``; default: the
                first test image of each class (:func:`~cnnlib.widgets.examples.example_images`).
            side: the image side the network was trained on.
            block: the block shown first (1-based); unit: one of :data:`UNITS` or
                ``"row/col sliders"``; example, row, col: the other start values.
            dpi: the resolution of :meth:`picture_png` (default the figure style's).

        Raises:
            TypeError: a model whose ``net`` does not start with blocks of convolutions.
            ValueError: an unknown ``unit``, a ``block`` out of range, labels that do not
                match the images, or a ``side`` the network does not take.
        """
        from cnnlib.models.pretrained import pretrained

        self.model = pretrained("vgg11") if model is None else model
        self._blocks = vgg_blocks(self.model)
        if unit not in (*UNITS, SLIDERS):
            raise ValueError(f"unknown unit {unit!r}; choose one of {[*UNITS, SLIDERS]}")
        whole_number(block, "block", 1, len(self._blocks))
        self.side = side
        self.dpi = DPI if dpi is None else dpi
        self.X, self.labels, self.indices = given_or_examples(images, labels, side)
        whole_number(example, "example", 0, len(self.labels) - 1)
        try:
            with torch.no_grad():
                self.probs = F.softmax(self.model.eval()(self.X), dim=1)
        except (RuntimeError, ValueError) as err:
            raise ValueError(f"the model does not take 1×{side}×{side} images: {err}") from None
        self._outputs: dict[int, list[torch.Tensor]] = {}
        self.field: BlockField | None = None
        self.region = None
        self.maps: torch.Tensor | None = None
        super().__init__(example=example, block=block, unit=unit, row=row, col=col)
        # The block slider ends at this network's last block.
        self.controls = [dict(c, max=len(self._blocks)) if c["name"] == "block" else c
                         for c in self.controls]

    # -- data the page computes from -------------------------------------------------------

    @traitlets.default("examples")
    def _default_examples(self) -> list[str]:
        return example_options(self.labels, self.indices)

    @traitlets.default("labels_shown")
    def _default_labels_shown(self) -> list[int]:
        return [int(y) for y in self.labels]

    @traitlets.default("units")
    def _default_units(self) -> list[str]:
        return [*UNITS, SLIDERS]

    @traitlets.default("classes")
    def _default_classes(self) -> list[str]:
        return list(data.LABELS)

    @traitlets.default("palettes")
    def _default_palettes(self) -> dict[str, str]:
        return palettes()

    @traitlets.default("network")
    def _default_network(self) -> dict[str, Any]:
        return {"key": self.KEY, "side": self.side, "pixels": pixels_base64(self.X)}

    @traitlets.default("blocks")
    def _default_blocks(self) -> list[dict[str, Any]]:
        out = []
        for index, block in enumerate(self._blocks):
            layers = [{"kernel": s.kernel_size[0], "stride": s.stride[0],
                       "padding": s.padding[0]} for s in layer_specs(block)]
            out.append({"summary": _block_summary(block),
                        "map": _block_maps_name(self.model, index), "layers": layers})
        return out

    # -- the numbers, from PyTorch and cnnlib ----------------------------------------------

    def block_outputs(self, k: int) -> list[torch.Tensor]:
        """Every block's output ``(C, h, w)`` for example ``k`` (computed once)."""
        if k not in self._outputs:
            outputs, X = [], self.X[k: k + 1]
            with torch.no_grad():
                for block in self._blocks:
                    X = block(X)
                    outputs.append(X[0])
            self._outputs[k] = outputs
        return self._outputs[k]

    def derived_names(self) -> tuple[str, ...]:
        return ("field_info", "maps_shown", "predicted", "probability", "summary", "shown")

    def compute(self) -> dict[str, Any]:
        self.field = self.region = self.maps = None
        k = whole_number(self.example, "example", 0, len(self.labels) - 1)
        b = whole_number(self.block, "block", 1, len(self._blocks))
        if self.unit not in (*UNITS, SLIDERS):
            raise ValueError(f"unknown unit {self.unit!r}; choose one of {[*UNITS, SLIDERS]}")
        maps = self.block_outputs(k)[b - 1]
        c, h, w = maps.shape
        if self.unit in UNITS:
            row, col = UNITS[self.unit](h, w)
        else:  # the sliders, pulled into the block's output (clamp_slider)
            row, col = min(max(self.row, 0), h - 1), min(max(self.col, 0), w - 1)
        field = block_field(self.model, b, (row, col), self.side)
        self.field, self.region, self.maps = field, field.region, maps
        p = self.probs[k]
        predicted = int(p.argmax())
        probability = float(p[predicted])
        shown = min(c, SHOWN_CHANNELS)
        summary = [
            f"block {b}: {_block_summary(self._blocks[b - 1])} → {c}×{h}×{w}",
            field.describe(),
            f"predicted {data.LABELS[predicted]} with probability {probability:.2f} "
            f"(true {data.LABELS[int(self.labels[k])]})",
        ]
        return {
            "row": row, "col": col,
            "field_info": {
                "block": b, "position": [row, col], "output": list(field.output_size),
                "size": list(field.size), "box": [list(a) for a in field.box],
                "region": [list(a) for a in field.region],
                "padding_fraction": field.padding_fraction,
            },
            "maps_shown": {"shape": [c, h, w], "tiles": [shown, h, w],
                           "values": maps[:shown].float().flatten().tolist()},
            "predicted": predicted, "probability": probability,
            "summary": summary, "shown": {"example": k, "block": b},
        }

    # -- the picture and the page ----------------------------------------------------------

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it (three lines)."""
        return self.error or "\n".join(self.summary)

    def picture_png(self) -> bytes | None:
        """Python's drawing of the same picture (matplotlib), for a page that cannot run the
        front-end and for the page while its network loads."""
        if self.error or self.field is None:
            return None
        figure = vgg_block_figure(self.X[self.example, 0], self.field, self.maps)
        return figure_to_png(figure, dpi=self.dpi)

    def page_state(self) -> dict[str, Any]:
        """The controls, the data the page computes from, and Python's picture (shown while
        the network loads, and kept where the browser cannot run it)."""
        png = self.picture_png()
        names = ("examples", "labels_shown", "units", "classes", "palettes", "network",
                 "blocks")
        return super().page_state() | {name: getattr(self, name) for name in names} | {
            "picture": None if png is None else base64.b64encode(png).decode("ascii"),
            "picture_alt": self.picture_alt()}

    def page_scripts(self) -> list[Path]:
        """The host's scripts and this front-end, with the networks' loader before it."""
        scripts = super().page_scripts()
        return [*scripts[:-1], NETWORKS_SCRIPT, scripts[-1]]
