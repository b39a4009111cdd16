"""VGG block by block (section 8.2): one output unit's receptive field, and the block's maps.

Choose a test image, a block and a unit of the block's output. The input is drawn with the
unit's receptive field on it (dashed: the whole field, padding included; solid: the pixels
it reads), and beside it the block's first feature maps with the unit marked.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure
from torch import nn
from torch.nn import functional as F

from cnnlib import data
from cnnlib.viz.vgg_blocks import BlockField, block_field, vgg_block_figure, vgg_blocks
from cnnlib.widgets import page
from cnnlib.widgets.examples import example_menu, given_or_examples
from cnnlib.widgets.guarded import GuardedExplorer, clamp_slider, position_slider

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


class VGGBlockExplorer(GuardedExplorer):
    """A VGG's blocks one at a time: a unit's receptive field and the block's feature maps.

    Attributes:
        example, block, unit, row, col: the controls (``row``/``col`` follow ``unit`` unless
            it is ``"row/col sliders"``; they are clamped to the block's output).
        model: the network; X: its inputs ``(N, 1, side, side)``; labels, indices.
        probs: class probabilities for every example ``(N, num_classes)``.
        field: the :class:`~cnnlib.viz.vgg_blocks.BlockField` on screen.
        region: the input pixels the unit reads, ``((r0, r1), (c0, c1))`` (exclusive stops).
        maps: the block's output for the image, ``(C, h, w)``.
    """

    def __init__(self, model: nn.Module | None = None, images: torch.Tensor | None = None,
                 labels: torch.Tensor | None = None, side: int = 32, block: int = 1,
                 unit: str = "centre", dpi: int | None = None) -> None:
        """Build the controls and draw the first image.

        Args:
            model: a VGG (blocks of convolutions first in ``model.net``); default: the
                shipped ``pretrained("vgg11")``.
            images: uint8 test images ``(N, 28, 28)`` with their ``labels``; default: the
                first test image of each class (:func:`~cnnlib.widgets.examples.example_images`).
            side: the image side the network was trained on.
            block: the block shown first (1-based).
            unit: one of :data:`UNITS` or ``"row/col sliders"``.

        Raises:
            TypeError: a model whose ``net`` does not start with blocks of convolutions.
            ValueError: an unknown ``unit``, a ``block`` out of range, labels that do not
                match the images, or a ``side`` the network does not take.
        """
        from cnnlib.models.pretrained import pretrained

        self.model = pretrained("vgg11") if model is None else model
        blocks = vgg_blocks(self.model)
        if unit not in (*UNITS, SLIDERS):
            raise ValueError(f"unknown unit {unit!r}; choose one of {[*UNITS, SLIDERS]}")
        if isinstance(block, bool) or not isinstance(block, int) or not 1 <= block <= len(
                blocks):
            raise ValueError(f"block must be a whole number in 1..{len(blocks)}, got {block!r}")
        self.side = side
        self.X, self.labels, self.indices = given_or_examples(images, labels, side)
        try:
            with torch.no_grad():
                self.probs = F.softmax(self.model.eval()(self.X), dim=1)
        except (RuntimeError, ValueError) as err:
            raise ValueError(f"the model does not take 1×{side}×{side} images: {err}") from None
        self._outputs: dict[int, list[torch.Tensor]] = {}
        self.example = example_menu(self.labels, self.indices)
        self.block = widgets.IntSlider(block, min=1, max=len(blocks), description="block")
        self.unit = widgets.Dropdown(options=[*UNITS, SLIDERS], value=unit, description="unit")
        self.row = position_slider("unit row")
        self.col = position_slider("unit col")
        self.field: BlockField | None = None
        self.region = None
        self.maps: torch.Tensor | None = None
        super().__init__([self.example, self.block, self.unit, self.row, self.col], dpi=dpi)

    def page_controls(self) -> list:
        # Every example, every block, three named units: 10 × 5 × 3 = 150 pictures.
        return [page.menu(self, "example"), page.slider(self, "block"),
                page.menu(self, "unit", list(UNITS))]

    def block_outputs(self, k: int) -> list[torch.Tensor]:
        """Every block's output ``(C, h, w)`` for example ``k`` (computed once)."""
        if k not in self._outputs:
            outputs, X = [], self.X[k: k + 1]
            with torch.no_grad():
                for block in vgg_blocks(self.model):
                    X = block(X)
                    outputs.append(X[0])
            self._outputs[k] = outputs
        return self._outputs[k]

    def sync_controls(self) -> None:
        h, w = self.block_outputs(self.example.value)[self.block.value - 1].shape[1:]
        clamp_slider(self.row, h - 1)
        clamp_slider(self.col, w - 1)
        named = self.unit.value in UNITS
        self.row.disabled = self.col.disabled = named
        if named:
            self.row.value, self.col.value = UNITS[self.unit.value](h, w)

    def update(self) -> None:
        self.field = self.region = self.maps = None
        self.maps = self.block_outputs(self.example.value)[self.block.value - 1]
        self.field = block_field(self.model, self.block.value, (self.row.value, self.col.value),
                                 self.side)
        self.region = self.field.region

    def draw(self) -> Figure:
        return vgg_block_figure(self.X[self.example.value, 0], self.field, self.maps)

    def describe(self) -> str:
        k = self.example.value
        p = self.probs[k]
        predicted = int(p.argmax())
        block = vgg_blocks(self.model)[self.block.value - 1]
        c, h, w = self.maps.shape
        return (f"<b>block {self.block.value}</b>: {html.escape(_block_summary(block))} → "
                f"{c}×{h}×{w}<br>{html.escape(self.field.describe())}<br>"
                f"predicted {data.LABELS[predicted]} with probability "
                f"{float(p[predicted]):.2f} (true {data.LABELS[int(self.labels[k])]})")
