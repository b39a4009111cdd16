"""The receptive-field explorer: pick a unit of a small conv/pool stack, see what it sees.

Its static form, for readers without a running kernel, is
:func:`cnnlib.viz.receptive.receptive_field_gallery`.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
from matplotlib.figure import Figure

from cnnlib.ops import LayerSpec, receptive_field
from cnnlib.viz.receptive import (
    SMALL_STACK,
    SMALL_STACK_PADDED,
    UnitTrace,
    map_sizes,
    receptive_field_figure,
    trace_unit,
)
from cnnlib.widgets import page
from cnnlib.widgets.guarded import (
    GuardedExplorer,
    clamp_slider,
    position_slider,
    start_slider,
)

#: Stack name -> layers, first layer first.
STACKS: dict[str, tuple[LayerSpec, ...]] = {
    "conv3 → conv3 → maxpool2 → conv3": SMALL_STACK,
    "the same, convs padded by 1": SMALL_STACK_PADDED,
}


def _stack_summary(layers: tuple[LayerSpec, ...]) -> str:
    """``conv1 3×3 → conv2 5×5 → ...``: the receptive field after each layer."""
    return " → ".join(
        f"{info.name} {info.size[0]}×{info.size[1]}" for info in receptive_field(list(layers))
    )


class ReceptiveFieldExplorer(GuardedExplorer):
    """Choose a stack, an input size, a layer and a unit of its output.

    Every earlier map shows, in orange, the region the unit depends on; the
    region in the input is the unit's receptive field (cut off where it
    would reach into padding).

    Attributes:
        stack, input_size, layer, row, col: the controls.
        layers: the chosen stack.
        trace: the :class:`~cnnlib.viz.receptive.UnitTrace` on screen.
        region: ``((row_start, row_stop), (col_start, col_stop))`` in the input.
        rf_size: the receptive field's ``(h, w)``, padding included.
    """

    def __init__(
        self, stack: str = next(iter(STACKS)), input_size: int = 12, dpi: int | None = None
    ) -> None:
        """Build the controls and draw the last layer's unit (0, 0).

        Raises:
            ValueError: for an unknown ``stack``.
        """
        if stack not in STACKS:
            raise ValueError(f"unknown stack {stack!r}; choose one of {list(STACKS)}")
        self.stack = widgets.Dropdown(
            options=list(STACKS),
            value=stack,
            description="stack",
            layout=widgets.Layout(width="max-content"),
        )
        self.input_size = start_slider("input_size", input_size, 1, 16, "input n")
        last = len(STACKS[stack]) - 1
        self.layer = widgets.Dropdown(
            options=[(spec.name, k) for k, spec in enumerate(STACKS[stack])],
            value=last,
            description="unit of",
        )
        self.row = position_slider("unit row")
        self.col = position_slider("unit col")
        self.trace: UnitTrace | None = None
        self.region: tuple[tuple[int, int], tuple[int, int]] | None = None
        self.rf_size: tuple[int, int] | None = None
        super().__init__([self.stack, self.input_size, self.layer, self.row, self.col], dpi=dpi)

    @property
    def layers(self) -> tuple[LayerSpec, ...]:
        """The chosen stack."""
        return STACKS[self.stack.value]

    def page_controls(self) -> list:
        # Both stacks, every layer, and the units in the top-left 3x3 of its output.
        return [
            page.menu(self, "stack"),
            page.menu(self, "layer"),
            page.slider(self, "row", range(3)),
            page.slider(self, "col", range(3)),
        ]

    def sync_controls(self) -> None:
        names = [(spec.name, k) for k, spec in enumerate(self.layers)]
        if list(self.layer.options) != names:
            self.layer.options = names
            self.layer.value = len(names) - 1
        try:
            sizes = map_sizes(self.layers, (self.input_size.value,) * 2)
        except ValueError:
            return  # update() reports it
        out_h, out_w = sizes[self.layer.value + 1]
        clamp_slider(self.row, out_h - 1)
        clamp_slider(self.col, out_w - 1)

    def update(self) -> None:
        self.trace = self.region = self.rf_size = None
        trace = trace_unit(
            self.layers,
            self.input_size.value,
            self.layer.value,
            (self.row.value, self.col.value),
        )
        self.trace = trace
        self.region = trace.input_region
        self.rf_size = trace.info.size

    def draw(self) -> Figure:
        return receptive_field_figure(self.trace)

    def describe(self) -> str:
        return (
            html.escape(self.trace.describe())
            + "<br>receptive field after each layer: "
            + html.escape(_stack_summary(self.layers))
        )
