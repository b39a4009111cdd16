"""LeNet next to AlexNet (section 8.1): the first layer's kernels and each stage's maps.

Both networks get the same test image, each at the resolution it was trained on (LeNet 28
pixels, the quick AlexNet 67), and the explorer shows one stage of both side by side:
their stages are lined up by name (``conv 1``, ``pool 1``, ...), so the reader sees where
AlexNet keeps convolving after LeNet has handed its maps to the dense layers.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure
from torch import nn

from cnnlib import data
from cnnlib.explain.activations import Probe, probe, sequential_net
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
from cnnlib.widgets import page
from cnnlib.widgets.examples import example_menu, given_or_examples
from cnnlib.widgets.guarded import GuardedExplorer


def _input_side(model: nn.Module, name: str, side: int) -> None:
    """Check that ``model`` is a sequential conv net that accepts ``side``-pixel images."""
    sequential_net(model)
    first_conv(model)
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, 1, side, side))
    except (RuntimeError, ValueError) as err:
        raise ValueError(f"{name} does not take 1×{side}×{side} images: {err}") from None


class StageComparisonExplorer(GuardedExplorer):
    """The same test image through LeNet and AlexNet, one stage at a time, side by side.

    Attributes:
        example: dropdown of the example images (value: position 0..N-1).
        stage: dropdown: ``"first-layer kernels"``, then the stages by name.
        models: ``{"LeNet": ..., "AlexNet": ...}``.
        sides: the image side each network takes.
        X: each network's inputs ``(N, 1, side, side)``; labels: ``(N,)``; indices: test indices.
        stages: each network's stages, name -> :class:`~cnnlib.viz.compare_stages.Stage`.
        probes: the probes on screen, one per network (input, activations, probabilities).
        shapes: the shown stage's output shape per network (None: no such stage).
    """

    def __init__(self, lenet: nn.Module | None = None, alexnet: nn.Module | None = None,
                 images: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                 lenet_side: int = 28, alexnet_side: int = 67, stage: str = KERNELS,
                 dpi: int | None = None) -> None:
        """Build the controls and draw the first image's kernels.

        Args:
            lenet, alexnet: the two networks; default: their shipped weights,
                ``pretrained("lenet")`` and ``pretrained("alexnet")``.
            images: uint8 test images ``(N, 28, 28)`` (default: the first test image of each
                class, :func:`~cnnlib.widgets.examples.example_images`), with ``labels``.
            lenet_side, alexnet_side: the image side each network was trained on.
            stage: the stage shown first.

        Raises:
            TypeError: a model without a sequential ``net``, or images that are not uint8.
            ValueError: a model without convolutions or that refuses its side, labels that
                do not match the images, an unknown ``stage``.
        """
        from cnnlib.models.pretrained import pretrained

        self.models = {"LeNet": pretrained("lenet") if lenet is None else lenet,
                       "AlexNet": pretrained("alexnet") if alexnet is None else alexnet}
        self.sides = {"LeNet": lenet_side, "AlexNet": alexnet_side}
        for name, model in self.models.items():
            _input_side(model, name, self.sides[name])
        self.X, self.labels, self.indices = {}, None, None
        for name, side in self.sides.items():
            self.X[name], self.labels, self.indices = given_or_examples(images, labels, side)
        self.stages: dict[str, dict[str, Stage]] = {
            name: {s.name: s for s in network_stages(model)}
            for name, model in self.models.items()}
        names = aligned_stage_names(list(self.stages["LeNet"]), list(self.stages["AlexNet"]))
        options = [KERNELS, *names]
        if stage not in options:
            raise ValueError(f"unknown stage {stage!r}; choose one of {options}")
        # Every probe once: ten images through two small networks take well under a second.
        self._probes = {
            name: [probe(model, self.X[name][k, 0], int(self.labels[k]))
                   for k in range(self.X[name].shape[0])]
            for name, model in self.models.items()}
        self.example = example_menu(self.labels, self.indices)
        self.stage = widgets.Dropdown(options=options, value=stage, description="stage")
        self.probes: dict[str, Probe] = {}
        self.shapes: dict[str, tuple[int, ...] | None] = {}
        self.columns: list[Column] = []
        super().__init__([self.example, self.stage], dpi=dpi)

    def page_controls(self) -> list:
        # Every example image and every stage: 10 × 9 = 90 pictures for LeNet and AlexNet.
        return [page.menu(self, "example"), page.menu(self, "stage")]

    def _column(self, name: str) -> Column:
        model, probe_ = self.models[name], self.probes[name]
        if self.stage.value == KERNELS:
            return Column(name, probe_, kernels=first_conv(model).weight.detach().cpu())
        stage = self.stages[name].get(self.stage.value)
        if stage is not None:
            return Column(name, probe_, stage=stage)
        last = list(self.stages[name].values())[-1]
        shape = "×".join(map(str, probe_.activations[last.index].value.shape))
        return Column(name, probe_, missing=(
            f"{name} has no {self.stage.value}: its {last.name} maps ({shape}) "
            "go to the dense layers."))

    def update(self) -> None:
        k = self.example.value
        self.probes = {name: probes[k] for name, probes in self._probes.items()}
        self.columns = [self._column(name) for name in self.models]
        self.shapes = {}
        for column in self.columns:
            if column.stage is not None:
                value = column.probe.activations[column.stage.index].value
                self.shapes[column.title] = tuple(value.shape)
            elif column.kernels is not None:
                self.shapes[column.title] = tuple(column.kernels.shape)
            else:
                self.shapes[column.title] = None

    def draw(self) -> Figure:
        return compare_stages_figure(self.columns)

    def describe(self) -> str:
        parts = []
        for column in self.columns:
            p = column.probe
            shape = self.shapes[column.title]
            channels = "" if shape is None else f" ({shape[0]} channels)"
            parts.append(
                f"<b>{column.title}</b> on {p.image.shape[0]}×{p.image.shape[1]}: "
                f"{html.escape(stage_heading(column))}{channels}; predicted "
                f"{data.LABELS[p.predicted]} with probability {float(p.probs[p.predicted]):.2f}")
        return "<br>".join(parts)
