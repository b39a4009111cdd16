"""The Inception explorer: one block of a trained GoogLeNet, branch by branch (section 8.4).

One front-end (``cnnlib/web/explorers/inception.js``) draws it. In JupyterLab this class
computes every number with PyTorch (:func:`cnnlib.explain.inception.branch_outputs`, the
four branches run one by one). On the website the front-end runs the shipped GoogLeNet in
the reader's browser (``CNNNetworks.load("googlenet")``, onnxruntime-web) on the pixels
Python sends. The exported network outputs each block's result, the concatenation of its
four branches along the channels (each branch ends in its own ReLU), so branch ``b``'s
maps are channels ``c_1 + ... + c_{b-1}`` up to ``c_1 + ... + c_b`` of it, exactly; and
the block's input is the output of the layer before it. The FLOPs depend on the
block's shape alone, not on the image: Python counts them (:mod:`cnnlib.models.cost`) and
sends them with each block.
"""

from __future__ import annotations

import base64
from typing import Any, ClassVar

import torch
import traitlets
from torch import nn

from cnnlib.data import LABELS
from cnnlib.explain.inception import (
    BranchOutputs,
    block_inputs,
    branch_flops,
    branch_kernels,
    branch_outputs,
    inception_blocks,
)
from cnnlib.viz.common import figure_to_png
from cnnlib.viz.inception import BRANCH_COLORS, inception_figure
from cnnlib.widgets.examples import check_images
from cnnlib.widgets.grad_cam import colormap, image_payload
from cnnlib.widgets.live import WEB_DIR, LiveExplorer

#: Channels drawn per branch.
SHOWN = 4
#: The ``pick`` menu: which channels of each branch are drawn.
PICKS = (("the 4 strongest for this image", "strongest"), ("the first 4", "first"))
#: The shipped network the website's front-end runs (``CNNNetworks.load``).
NETWORK = "googlenet"
#: Layers the exported network gives no output of (``scripts/export_onnx.py``).
_NO_OUTPUT = (nn.Flatten, nn.Dropout, nn.Identity)


def _default_model() -> nn.Module:
    from cnnlib.models.pretrained import pretrained

    return pretrained("googlenet")


def network_outputs(model: nn.Module) -> list[str]:
    """The exported network's feature-map outputs in order (as ``scripts/export_onnx.py``
    names them): each layer of ``model.net``, one level into sequential stages."""
    names = []
    for name, layer in model.net.named_children():
        inner = (list(layer.named_children()) if isinstance(layer, nn.Sequential)
                 else [(None, layer)])
        for sub, module in inner:
            if not isinstance(module, _NO_OUTPUT):
                names.append(f"net.{name}" if sub is None else f"net.{name}.{sub}")
    return names


class InceptionExplorer(LiveExplorer):
    """Choose an image and an Inception block; see its four branches and their shares.

    Drawn by its one front-end (``cnnlib/web/explorers/inception.js``): three menus (the
    image, the block, which channels); the image, four maps of each branch on one colour
    scale, and each branch's share of the channels and of the FLOPs.

    Attributes:
        model: the network; blocks_found: ``[(name, label, block)]`` from
            ``inception_blocks``.
        images: ``(N, 1, H, H)`` in [0, 1]; labels: ``(N,)`` or None.
        example, block, pick: the controls (image position; block name in ``model.net``;
            ``"strongest"`` or ``"first"``).
        result: the :class:`~cnnlib.explain.inception.BranchOutputs` shown now.
        shown: per branch, the channels drawn.
        gallery, blocks, picks, colors: the page's data (pixels and menu texts; per block
            its label, kernels, channels, FLOPs and the network outputs holding its input
            and output; the channel menu; the colour scale).
        title, summary, branch_maps, high, channel_shares, flop_shares, input_shape,
            explained: the derived values.
    """

    explorer_name: ClassVar[str] = "InceptionExplorer"
    script: ClassVar[str] = "inception.js"
    EXTRA_CONTROLS: ClassVar[tuple[str, ...]] = ("example", "block", "pick")

    # CInt: a page menu's value (the text "3") sets it too.
    example = traitlets.CInt(0).tag(sync=True)
    block = traitlets.Unicode("").tag(sync=True)
    pick = traitlets.Unicode("strongest").tag(sync=True)

    network = traitlets.Unicode(NETWORK).tag(sync=True)
    gallery = traitlets.List().tag(sync=True)
    blocks = traitlets.List().tag(sync=True)
    picks = traitlets.List().tag(sync=True)
    classes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    colors = traitlets.List(traitlets.Unicode()).tag(sync=True)
    branch_colors = traitlets.List(traitlets.Unicode()).tag(sync=True)

    input_shape = traitlets.List().tag(sync=True)
    shown = traitlets.List().tag(sync=True)
    branch_maps = traitlets.List().tag(sync=True)
    high = traitlets.Float(0.0).tag(sync=True)
    channel_shares = traitlets.List().tag(sync=True)
    flop_shares = traitlets.List().tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    explained = traitlets.Dict().tag(sync=True)

    def __init__(self, model: nn.Module | None = None, images: torch.Tensor | None = None,
                 labels: torch.Tensor | None = None, indices: list[int] | None = None,
                 block: str | None = None, pick: str = "strongest") -> None:
        """Prepare the images, the menus and the page's data; compute the first picture.

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
        self.model = (_default_model() if model is None else model).eval()
        self.blocks_found = inception_blocks(self.model)
        if images is None:
            from cnnlib.models.pretrained import image_side
            from cnnlib.widgets.examples import example_images

            images, labels, indices = example_images(image_side("googlenet"))
        check_images(images, labels)
        self.images, self.labels = images, labels
        self.indices = list(range(images.shape[0])) if indices is None else list(indices)
        if len(self.indices) != images.shape[0]:
            raise ValueError(f"indices must hold {images.shape[0]} entries, one per image; "
                             f"got {len(self.indices)}")
        names = [name for name, _, _ in self.blocks_found]
        block = names[0] if block is None else block
        if block not in names:
            raise ValueError(f"block must name an Inception block of model.net, one of "
                             f"{names}; got {block!r}")
        if pick not in dict(PICKS).values():
            raise ValueError(f"pick must be one of {[v for _, v in PICKS]}, got {pick!r}")
        self._inputs: dict[int, dict[str, torch.Tensor]] = {}
        self._flops: dict[tuple, list[int]] = {}
        self.result: BranchOutputs | None = None
        super().__init__(block=block, pick=pick)

    # -- the page's data, from Python ----------------------------------------------------------

    @traitlets.default("gallery")
    def _default_gallery(self) -> list[dict[str, Any]]:
        out = []
        for k in range(self.images.shape[0]):
            label = None if self.labels is None else int(self.labels[k])
            menu = f"#{self.indices[k]}" + ("" if label is None else f" {LABELS[label]}")
            out.append({"menu": menu, "label": label, "index": self.indices[k],
                        "pixels": image_payload(self.images[k].float())})
        return out

    @traitlets.default("blocks")
    def _default_blocks(self) -> list[dict[str, Any]]:
        outputs = network_outputs(self.model)
        first = self._inputs_for(0)
        out = []
        for name, label, block in self.blocks_found:
            path = f"net.{name}"
            shape = (1, *first[name].shape)
            out.append({
                "name": name, "label": label, "menu": f"{label} (net.{name})",
                "kernels": branch_kernels(block),
                "channels": [block.b1_1.out_channels, block.b2_2.out_channels,
                             block.b3_2.out_channels, block.b4_2.out_channels],
                "flops": self._flops_for(name, block, shape),
                "output": path,
                # What reaches the block is the output of the layer before it.
                "input": outputs[outputs.index(path) - 1],
            })
        return out

    @traitlets.default("picks")
    def _default_picks(self) -> list[list[str]]:
        return [[label, value] for label, value in PICKS]

    @traitlets.default("classes")
    def _default_classes(self) -> list[str]:
        return list(LABELS)

    @traitlets.default("colors")
    def _default_colors(self) -> list[str]:
        return colormap("viridis")

    @traitlets.default("branch_colors")
    def _default_branch_colors(self) -> list[str]:
        return list(BRANCH_COLORS)

    def _inputs_for(self, k: int) -> dict[str, torch.Tensor]:
        if k not in self._inputs:
            self._inputs[k] = block_inputs(self.model, self.images[k, 0])
        return self._inputs[k]

    def _flops_for(self, name: str, block: nn.Module, shape: tuple[int, ...]) -> list[int]:
        key = (name, tuple(shape))
        if key not in self._flops:
            self._flops[key] = branch_flops(block, shape)
        return self._flops[key]

    # -- the numbers, from cnnlib --------------------------------------------------------------

    def derived_names(self) -> tuple[str, ...]:
        return ("input_shape", "shown", "branch_maps", "high", "channel_shares",
                "flop_shares", "title", "summary", "explained")

    def compute(self) -> dict[str, Any]:
        self.result = None
        n = self.images.shape[0]
        if not 0 <= self.example < n:
            raise ValueError(f"example must be an image position in 0..{n - 1}, got "
                             f"{self.example}")
        names = [name for name, _, _ in self.blocks_found]
        if self.block not in names:
            raise ValueError(f"block must name an Inception block of model.net, one of "
                             f"{names}; got {self.block!r}")
        if self.pick not in dict(PICKS).values():
            raise ValueError(f"pick must be one of {[v for _, v in PICKS]}, got {self.pick!r}")
        (label, block), = [(lb, b) for nm, lb, b in self.blocks_found if nm == self.block]
        X = self._inputs_for(self.example)[self.block]
        flops = self._flops_for(self.block, block, (1, *X.shape))
        r = branch_outputs(block, X, self.block, label, flops=flops)
        self.result = r
        shown = []
        for out in r.branches:
            count = min(SHOWN, out.shape[0])
            if self.pick == "first":
                shown.append(list(range(count)))
            else:  # the channels with the largest mean activation, strongest first
                means = out.mean(dim=(1, 2))
                shown.append(torch.argsort(means, descending=True, stable=True)[:count]
                             .tolist())
        c_in, h, w = r.input.shape
        high = float(torch.cat(r.branches).max())
        return {
            "input_shape": [c_in, h, w],
            "shown": shown,
            "branch_maps": [[r.branches[b][c].tolist() for c in shown[b]] for b in range(4)],
            "high": high,
            "channel_shares": r.channel_shares,
            "flop_shares": r.flop_shares,
            "title": (f"Inception {r.label} (net.{r.name}): {c_in} channels in, "
                      f"{sum(r.channels)} out, {h}×{w}"),
            "summary": self.describe(r),
            "explained": {"example": self.example, "block": self.block},
        }

    def describe(self, r: BranchOutputs) -> str:
        """The status line: the block, its input, each branch's channels and FLOP share."""
        c_in, h, w = r.input.shape
        parts = ", ".join(f"b{b + 1} ({r.kernels[b]}) {r.channels[b]} channels, "
                          f"{r.flop_shares[b]:.0%} of the FLOPs" for b in range(4))
        name = None if self.labels is None else LABELS[int(self.labels[self.example])]
        image = "" if name is None else f" for {'an' if name[0] in 'aeiou' else 'a'} {name}"
        return (
            f"Inception {r.label}{image}: {c_in} channels of {h}×{w} in; the four branches "
            f"keep {h}×{w} and are concatenated into {sum(r.channels)} channels: {parts}. "
            f"Maps on one colour scale from 0 to the block's largest value."
        )

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it."""
        return self.error or self.summary

    # -- the picture for a page that cannot compute ------------------------------------------

    def picture_png(self) -> bytes | None:
        if self.result is None or self.error:
            return None
        fig = inception_figure(self.result, self.images[self.example, 0], self.shown)
        return figure_to_png(fig)

    def page_state(self) -> dict[str, Any]:
        """The controls and everything the page computes from (pixels, blocks, menus,
        colours), and Python's picture, shown while the network loads (or if it cannot)."""
        png = self.picture_png()
        return super().page_state() | {
            name: getattr(self, name)
            for name in ("network", "gallery", "blocks", "picks", "classes", "colors",
                         "branch_colors")
        } | {"picture": None if png is None else base64.b64encode(png).decode("ascii"),
             "picture_alt": self.picture_alt()}

    def page_scripts(self):
        """The host's scripts, then the networks' loader, then the front-end."""
        scripts = super().page_scripts()
        return [*scripts[:-1], WEB_DIR / "cnn-networks.js", scripts[-1]]
