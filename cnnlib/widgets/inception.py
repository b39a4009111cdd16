"""The Inception explorer: one block of a trained GoogLeNet, branch by branch (section 8.4)."""

from __future__ import annotations

import html

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure
from torch import nn

from cnnlib.data import LABELS
from cnnlib.explain.inception import (
    BranchOutputs,
    block_inputs,
    branch_flops,
    branch_outputs,
    inception_blocks,
)
from cnnlib.viz.inception import inception_figure
from cnnlib.widgets import page
from cnnlib.widgets.examples import check_images, example_menu
from cnnlib.widgets.guarded import GuardedExplorer

#: Channels drawn per branch.
SHOWN = 4
#: The ``pick`` menu: which channels of each branch are drawn.
PICKS = (("the 4 strongest for this image", "strongest"), ("the first 4", "first"))
#: Images on the website's form (positions in the example menu).
PAGE_IMAGES = (0, 1, 5, 8, 9)  # 5 images x 9 blocks = 45 pictures, about 1.1 MB


def _default_model() -> nn.Module:
    from cnnlib.models.pretrained import pretrained

    return pretrained("googlenet")


class InceptionExplorer(GuardedExplorer):
    """Choose an image and an Inception block; see its four branches and their shares.

    Attributes:
        model: the network; blocks: ``[(name, label, block)]`` from ``inception_blocks``.
        images: ``(N, 1, H, H)`` in [0, 1]; labels: ``(N,)`` or None.
        example: dropdown over the images (value: position); block: dropdown over the
            blocks (value: name in ``model.net``); pick: which channels are drawn.
        result: the :class:`~cnnlib.explain.inception.BranchOutputs` shown now.
        shown: per branch, the channels drawn.
    """

    def __init__(self, model: nn.Module | None = None, images: torch.Tensor | None = None,
                 labels: torch.Tensor | None = None, indices: list[int] | None = None,
                 block: str | None = None, pick: str = "strongest", dpi: int | None = None
                 ) -> None:
        """Build the controls and draw the first picture.

        Args:
            model: a GoogLeNet; default ``pretrained("googlenet")``.
            images: ``(N, 1, H, H)`` in [0, 1] at the network's side; default the ten
                example test images (``cnnlib.widgets.examples``) at 64 px.
            labels, indices: their classes and test-split indices (for the menu).
            block: the block's name in ``model.net`` (e.g. ``"2.0"``); default the first.
            pick: ``"strongest"`` or ``"first"`` channels of each branch.

        Raises:
            TypeError, ValueError: for malformed images, an unknown block or pick.
        """

        self.model = _default_model() if model is None else model
        self.blocks = inception_blocks(self.model)
        if images is None:
            from cnnlib.models.pretrained import image_side
            from cnnlib.widgets.examples import example_images

            images, labels, indices = example_images(image_side("googlenet"))
        check_images(images, labels)
        self.images, self.labels = images, labels
        names = [name for name, _, _ in self.blocks]
        block = names[0] if block is None else block
        if block not in names:
            raise ValueError(f"block must name an Inception block of model.net, one of "
                             f"{names}; got {block!r}")
        if pick not in dict(PICKS).values():
            raise ValueError(f"pick must be one of {[v for _, v in PICKS]}, got {pick!r}")
        self._inputs: dict[int, dict[str, torch.Tensor]] = {}
        self._flops: dict[tuple, list[int]] = {}
        self.example = example_menu(labels, indices, images.shape[0])
        self.block = widgets.Dropdown(
            options=[(f"{label} (net.{name})", name) for name, label, _ in self.blocks],
            value=block, description="block")
        self.pick = widgets.Dropdown(options=list(PICKS), value=pick, description="channels",
                                     layout=widgets.Layout(width="max-content"))
        self.result: BranchOutputs | None = None
        self.shown: list[list[int]] = []
        super().__init__([self.example, self.block, self.pick], dpi=dpi)

    def page_controls(self) -> list:
        images = [k for k in PAGE_IMAGES if k < self.images.shape[0]]
        return [page.menu(self, "example", images), page.menu(self, "block")]

    def _inputs_for(self, k: int) -> dict[str, torch.Tensor]:
        if k not in self._inputs:
            self._inputs[k] = block_inputs(self.model, self.images[k, 0])
        return self._inputs[k]

    def update(self) -> None:
        name = self.block.value
        (label, block), = [(lb, b) for n, lb, b in self.blocks if n == name]
        X = self._inputs_for(self.example.value)[name]
        key = (name, tuple(X.shape))
        if key not in self._flops:
            self._flops[key] = branch_flops(block, (1, *X.shape))
        self.result = branch_outputs(block, X, name, label, flops=self._flops[key])
        self.shown = []
        for out in self.result.branches:
            n = min(SHOWN, out.shape[0])
            if self.pick.value == "first":
                self.shown.append(list(range(n)))
            else:  # the channels with the largest mean activation, strongest first
                means = out.mean(dim=(1, 2))
                self.shown.append(torch.argsort(means, descending=True, stable=True)[:n]
                                  .tolist())

    def draw(self) -> Figure:
        return inception_figure(self.result, self.images[self.example.value, 0], self.shown)

    def describe(self) -> str:
        r = self.result
        c_in, h, w = r.input.shape
        parts = ", ".join(f"b{b + 1} ({r.kernels[b]}) {r.channels[b]} channels, "
                          f"{r.flop_shares[b]:.0%} of the FLOPs" for b in range(4))
        image = ("" if self.labels is None
                 else f" for a {LABELS[int(self.labels[self.example.value])]}")
        return html.escape(
            f"Inception {r.label}{image}: {c_in} channels of {h}×{w} in; the four branches "
            f"keep {h}×{w} and are concatenated into {sum(r.channels)} channels: {parts}. "
            f"Maps on one colour scale from 0 to the block's largest value."
        )
