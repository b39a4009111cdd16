"""LeNet next to AlexNet (section 8.1): the first layer's kernels and each stage's maps.

Both networks get the same test image, each at the resolution it was trained on (LeNet 28
pixels, the quick AlexNet 67), and the explorer shows one stage of both side by side:
their stages are lined up by name (``conv 1``, ``pool 1``, ...), so the reader sees where
AlexNet keeps convolving after LeNet has handed its maps to the dense layers.

One front-end (``cnnlib/web/explorers/compare-stages.js``) draws it. In JupyterLab this
class computes every number with PyTorch (:func:`cnnlib.explain.activations.probe`) and
syncs them; on the website the same front-end runs the shipped networks in the reader's
browser (``cnnlib/web/cnn-networks.js``) on the pixels Python resized, so both see the
same input bit for bit. Only what does not depend on the image travels as data: the
stages' names and descriptions, the first layers' kernels, the colour maps.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, ClassVar

import torch
import traitlets
from matplotlib import colormaps, colors
from torch import nn

from cnnlib import data
from cnnlib.explain.activations import Probe, probe, sequential_net
from cnnlib.viz.common import figure_to_png
from cnnlib.viz.compare_stages import (
    KERNELS,
    Column,
    Stage,
    aligned_stage_names,
    compare_stages_figure,
    first_conv,
    network_stages,
    stage_heading,
)
from cnnlib.viz.images import DIVERGING_CMAP
from cnnlib.viz.style import DPI
from cnnlib.widgets.examples import example_labels, given_or_examples
from cnnlib.widgets.live import WEB_DIR, LiveExplorer

#: The script that loads and runs the shipped networks on a page.
NETWORKS_SCRIPT = WEB_DIR / "cnn-networks.js"
#: The colour maps the front-ends draw maps with, as matplotlib has them (256 levels).
PALETTE_NAMES = ("viridis", DIVERGING_CMAP)


def palettes() -> dict[str, str]:
    """Each colour map of :data:`PALETTE_NAMES` as 256 ``rrggbb`` hex colours, run together.

    The front-ends colour a value as matplotlib does (``cmap(norm(v))`` with 256 levels),
    so the page and Python's picture use the same colours.
    """
    out = {}
    for name in PALETTE_NAMES:
        cmap = colormaps[name].resampled(256)
        out[name] = "".join(colors.to_hex(cmap(i))[1:] for i in range(256))
    return out


def pixels_base64(X: torch.Tensor) -> str:
    """Images in [0, 1] ``(N, 1, side, side)`` that came from uint8, as base64 of the bytes.

    The explorers' inputs are uint8 images resized by the data module and divided by 255
    (:func:`~cnnlib.widgets.examples.resize_images`); the page divides the same bytes by
    255 again, so it feeds its network exactly Python's input.

    Raises:
        ValueError: when a value is not a whole number of 255ths (not an image from uint8).
    """
    levels = torch.round(X * 255)
    if not torch.equal(levels / 255, X):
        raise ValueError("the images must be uint8 images divided by 255, as "
                         "cnnlib.widgets.examples.resize_images makes them")
    raw = levels.to(torch.uint8).contiguous().numpy().tobytes()
    return base64.b64encode(raw).decode("ascii")


def floats_base64(values: torch.Tensor) -> str:
    """A tensor's values as base64 of float32 little-endian bytes (a quarter of JSON's size)."""
    array = values.detach().cpu().to(torch.float32).contiguous().numpy().astype("<f4")
    return base64.b64encode(array.tobytes()).decode("ascii")


def example_options(labels: torch.Tensor, indices: list[int]) -> list[str]:
    """The example menu's labels, ``'#i coat'`` (:func:`~.examples.example_labels`)."""
    return example_labels(labels, indices)


def whole_number(value: object, name: str, low: int, high: int) -> int:
    """``value`` if it is a whole number in ``low..high``.

    Raises:
        ValueError: saying the allowed range, for anything else.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number in {low}..{high}, got {value!r}")
    return value


def _input_side(model: nn.Module, name: str, side: int) -> None:
    """Check that ``model`` is a sequential conv net that accepts ``side``-pixel images."""
    sequential_net(model)
    first_conv(model)
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, 1, side, side))
    except (RuntimeError, ValueError) as err:
        raise ValueError(f"{name} does not take 1×{side}×{side} images: {err}") from None


class StageComparisonExplorer(LiveExplorer):
    """The same test image through LeNet and AlexNet, one stage at a time, side by side.

    Drawn by its one front-end (``cnnlib/web/explorers/compare-stages.js``): a menu of
    example images and one of stages; per network its input, what the stage computes and
    its maps (or the first layer's kernels) on one colour scale; the status line gives each
    network's channels and prediction.

    Attributes:
        example: the example shown (position 0..N-1); stage: ``"first-layer kernels"`` or
            a stage's name. The two controls.
        examples: the example menu's labels; stages_menu: the stage menu's options.
        networks: what the page needs of each network, besides the image: its ``title``,
            its ``key`` (the shipped name ``CNNNetworks.load`` takes), input ``side``, the
            inputs as ``pixels`` (base64 of uint8 ``(N, side, side)``), its ``stages``
            (``name``, ``what``, the exported ``map`` name ``"net.<index>"``) and its first
            layer's ``kernels`` (``shape``, ``data``: :func:`floats_base64`).
        classes: the class names; palettes: the colour maps (:func:`palettes`).
        columns: the derived values, one per network: ``title``, ``side``, ``kind``
            (``"maps"``, ``"kernels"`` or ``"missing"``), ``heading``, ``shape`` (None when
            missing), ``tiles`` (the ``(n, h, w)`` the values are tiled as), ``values``
            (flat), ``predicted``, ``probability``, ``line`` (its status line).
        shown: the ``example`` and ``stage`` the derived values belong to.
        summary: the status lines.
        models: ``{"LeNet": ..., "AlexNet": ...}``; sides: the image side each network
            takes; X: each network's inputs ``(N, 1, side, side)``; labels: ``(N,)``;
            indices: test indices.
        stages: each network's stages, name -> :class:`~cnnlib.viz.compare_stages.Stage`.
        probes: the probes on screen, one per network (input, activations, probabilities).
        shapes: the shown stage's output shape per network (None: no such stage).
    """

    explorer_name: ClassVar[str] = "StageComparisonExplorer"
    script: ClassVar[str] = "compare-stages.js"
    #: Both controls are menus.
    EXTRA_CONTROLS: ClassVar[tuple[str, ...]] = ("example", "stage")
    #: The shipped network each column runs on the page.
    KEYS: ClassVar[dict[str, str]] = {"LeNet": "lenet", "AlexNet": "alexnet"}

    example = traitlets.Int(0).tag(sync=True)
    stage = traitlets.Unicode(KERNELS).tag(sync=True)
    examples = traitlets.List(traitlets.Unicode()).tag(sync=True)
    stages_menu = traitlets.List(traitlets.Unicode()).tag(sync=True)
    networks = traitlets.List(traitlets.Dict()).tag(sync=True)
    classes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    palettes = traitlets.Dict().tag(sync=True)

    columns = traitlets.List(traitlets.Dict()).tag(sync=True)
    shown = traitlets.Dict().tag(sync=True)
    summary = traitlets.List(traitlets.Unicode()).tag(sync=True)

    def __init__(self, lenet: nn.Module | None = None, alexnet: nn.Module | None = None,
                 images: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                 lenet_side: int = 28, alexnet_side: int = 67, stage: str = KERNELS,
                 example: int = 0, dpi: int | None = None) -> None:
        """Run every example through both networks and show the first.

        Args:
            lenet, alexnet: the two networks; default: their shipped weights,
                ``pretrained("lenet")`` and ``pretrained("alexnet")``. The page runs the
                shipped ones, so give others only for tests or the notebook.
            images: uint8 test images ``(N, 28, 28)`` (default: the first test image of each
                class, :func:`~cnnlib.widgets.examples.example_images`), with ``labels``.
            lenet_side, alexnet_side: the image side each network was trained on.
            stage: the stage shown first; example: the image shown first.
            dpi: the resolution of :meth:`picture_png` (default the figure style's).

        Raises:
            TypeError: a model without a sequential ``net``, or images that are not uint8.
            ValueError: a model without convolutions or that refuses its side, labels that
                do not match the images, an unknown ``stage`` or ``example``.
        """
        from cnnlib.models.pretrained import pretrained

        self.models = {"LeNet": pretrained("lenet") if lenet is None else lenet,
                       "AlexNet": pretrained("alexnet") if alexnet is None else alexnet}
        self.sides = {"LeNet": lenet_side, "AlexNet": alexnet_side}
        self.dpi = DPI if dpi is None else dpi
        for name, model in self.models.items():
            _input_side(model, name, self.sides[name])
        self.X, self.labels, self.indices = {}, None, None
        for name, side in self.sides.items():
            self.X[name], self.labels, self.indices = given_or_examples(images, labels, side)
        self.stages: dict[str, dict[str, Stage]] = {
            name: {s.name: s for s in network_stages(model)}
            for name, model in self.models.items()}
        names = aligned_stage_names(list(self.stages["LeNet"]), list(self.stages["AlexNet"]))
        self._options = [KERNELS, *names]
        if stage not in self._options:
            raise ValueError(f"unknown stage {stage!r}; choose one of {self._options}")
        whole_number(example, "example", 0, len(self.labels) - 1)
        # Every probe once: ten images through two small networks take well under a second.
        self._probes = {
            name: [probe(model, self.X[name][k, 0], int(self.labels[k]))
                   for k in range(self.X[name].shape[0])]
            for name, model in self.models.items()}
        self.probes: dict[str, Probe] = {}
        self.shapes: dict[str, tuple[int, ...] | None] = {}
        self._columns: list[Column] = []
        super().__init__(example=example, stage=stage)

    # -- data the page computes from -------------------------------------------------------

    @traitlets.default("examples")
    def _default_examples(self) -> list[str]:
        return example_options(self.labels, self.indices)

    @traitlets.default("stages_menu")
    def _default_stages_menu(self) -> list[str]:
        return list(self._options)

    @traitlets.default("classes")
    def _default_classes(self) -> list[str]:
        return list(data.LABELS)

    @traitlets.default("palettes")
    def _default_palettes(self) -> dict[str, str]:
        return palettes()

    @traitlets.default("networks")
    def _default_networks(self) -> list[dict[str, Any]]:
        out = []
        for name, model in self.models.items():
            weight = first_conv(model).weight.detach().float().cpu()
            out.append({
                "title": name,
                "key": self.KEYS[name],
                "side": self.sides[name],
                "pixels": pixels_base64(self.X[name]),
                "stages": [{"name": s.name, "what": s.what, "map": f"net.{s.index}"}
                           for s in self.stages[name].values()],
                "kernels": {"shape": list(weight.shape), "data": floats_base64(weight)},
            })
        return out

    # -- the numbers, from PyTorch ---------------------------------------------------------

    def derived_names(self) -> tuple[str, ...]:
        return ("columns", "shown", "summary")

    def _column(self, name: str) -> Column:
        model, probe_ = self.models[name], self.probes[name]
        if self.stage == KERNELS:
            return Column(name, probe_, kernels=first_conv(model).weight.detach().cpu())
        stage = self.stages[name].get(self.stage)
        if stage is not None:
            return Column(name, probe_, stage=stage)
        last = list(self.stages[name].values())[-1]
        shape = "×".join(map(str, probe_.activations[last.index].value.shape))
        return Column(name, probe_, missing=(
            f"{name} has no {self.stage}: its {last.name} maps ({shape}) "
            "go to the dense layers."))

    def compute(self) -> dict[str, Any]:
        self._columns, self.probes, self.shapes = [], {}, {}
        k = whole_number(self.example, "example", 0, len(self.labels) - 1)
        if self.stage not in self._options:
            raise ValueError(f"unknown stage {self.stage!r}; choose one of {self._options}")
        self.probes = {name: probes[k] for name, probes in self._probes.items()}
        columns, lines = [], []
        for name in self.models:
            column = self._column(name)
            p = column.probe
            if column.stage is not None:
                value = p.activations[column.stage.index].value
                kind, values, tiles = "maps", value, tuple(value.shape)
            elif column.kernels is not None:
                value = column.kernels
                kind, values = "kernels", value
                tiles = (value.shape[0] * value.shape[1], *value.shape[2:])
            else:
                kind, value, values, tiles = "missing", None, None, ()
            shape = None if value is None else tuple(value.shape)
            self.shapes[name] = shape
            heading = stage_heading(column)
            channels = "" if shape is None else f" ({shape[0]} channels)"
            predicted = p.predicted
            probability = float(p.probs[predicted])
            line = (f"{name} on {p.image.shape[0]}×{p.image.shape[1]}: {heading}{channels}; "
                    f"predicted {data.LABELS[predicted]} with probability {probability:.2f}")
            lines.append(line)
            columns.append({
                "title": name, "side": int(p.image.shape[0]), "kind": kind,
                "heading": heading, "shape": None if shape is None else list(shape),
                "tiles": list(tiles),
                "values": [] if values is None else values.detach().float().flatten().tolist(),
                "missing": column.missing, "predicted": predicted, "probability": probability,
                "line": line,
            })
            self._columns.append(column)
        return {"columns": columns, "shown": {"example": k, "stage": self.stage},
                "summary": lines}

    # -- the picture and the page ----------------------------------------------------------

    @property
    def figure_columns(self) -> list[Column]:
        """The :class:`~cnnlib.viz.compare_stages.Column` of each network on screen ([] for
        a bad setting)."""
        return [] if self.error else list(self._columns)

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it (one line per network)."""
        return self.error or "\n".join(self.summary)

    def picture_png(self) -> bytes | None:
        """Python's drawing of the same picture (matplotlib), for a page that cannot run the
        front-end and for the page while its networks load."""
        if not self.figure_columns:
            return None
        return figure_to_png(compare_stages_figure(self.figure_columns), dpi=self.dpi)

    def page_state(self) -> dict[str, Any]:
        """The controls, the data the page computes from, and Python's picture (shown while
        the networks load, and kept where the browser cannot run them)."""
        png = self.picture_png()
        return super().page_state() | {
            name: getattr(self, name)
            for name in ("examples", "stages_menu", "networks", "classes", "palettes")
        } | {"picture": None if png is None else base64.b64encode(png).decode("ascii"),
             "picture_alt": self.picture_alt()}

    def page_scripts(self) -> list[Path]:
        """The host's scripts and this front-end, with the networks' loader before it."""
        scripts = super().page_scripts()
        return [*scripts[:-1], NETWORKS_SCRIPT, scripts[-1]]
