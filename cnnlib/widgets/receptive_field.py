"""The receptive-field explorer: pick a unit of a small conv/pool stack, see what it sees.

One front-end (``cnnlib/web/explorers/receptive-field.js``) draws it in JupyterLab, where
this class computes every region with :func:`cnnlib.viz.receptive.trace_unit` (that is
:func:`cnnlib.ops.input_region` and :func:`cnnlib.ops.receptive_field`), and on the website,
where the front-end computes the same regions in the reader's browser with ``CNNOps`` from
the stacks Python sends (see :mod:`cnnlib.widgets.live`). Its static form, for readers
without a running kernel, is :func:`cnnlib.viz.receptive.receptive_field_gallery`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import traitlets

from cnnlib.ops import LayerSpec, receptive_field
from cnnlib.viz.common import figure_to_png
from cnnlib.viz.receptive import (
    SMALL_STACK,
    SMALL_STACK_PADDED,
    UnitTrace,
    map_sizes,
    receptive_field_figure,
    trace_unit,
)
from cnnlib.widgets.live import Control, LiveExplorer

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


def _layer_json(spec: LayerSpec) -> dict[str, Any]:
    """A layer as ``CNNOps`` reads it: ``{name, kernel, stride, padding, dilation}`` pairs."""
    return {"name": spec.name, "kernel": list(spec.kernel_size), "stride": list(spec.stride),
            "padding": list(spec.padding), "dilation": list(spec.dilation)}


class ReceptiveFieldExplorer(LiveExplorer):
    """Choose a stack, an input size, a layer and a unit of its output.

    Drawn by its one front-end (``cnnlib/web/explorers/receptive-field.js``): menus for the
    stack and the layer, sliders for the input size and the unit's row and column (their
    range is the chosen layer's output), or a click on a unit. Every earlier map shows, in
    orange, the region the unit depends on; the region in the input is the unit's receptive
    field (cut off where it would reach into padding).

    Attributes:
        stack, input_size, layer, row, col: the controls (``layer`` indexes the stack; a row
            or column past the chosen output moves to its last unit).
        stacks: stack name -> its layers as ``{name, kernel, stride, padding, dilation}``
            (synced: the page computes from these).
        map_sizes: ``(h, w)`` of the input and of every layer's output.
        regions: for the input and each map up to the unit's layer, the
            ``[[row_start, row_stop], [col_start, col_stop]]`` the unit depends on.
        rf_size: the receptive field's ``(h, w)``, padding included.
        titles: the maps' captions (``conv1 10×10``).
        summary: the unit, its field and its input region; fields: the field after each
            layer. The status line is the two.
    """

    explorer_name: ClassVar[str] = "ReceptiveFieldExplorer"
    script: ClassVar[str] = "receptive-field.js"
    CONTROLS: ClassVar[tuple[Control, ...]] = (Control("input_size", "input n", 1, 16),)
    #: The menus (stack, layer) and the unit's row and column, whose range follows the output.
    EXTRA_CONTROLS: ClassVar[tuple[str, ...]] = ("stack", "layer", "row", "col")

    stack = traitlets.Unicode(next(iter(STACKS))).tag(sync=True)
    input_size = traitlets.Int(12).tag(sync=True)
    layer = traitlets.Int(len(SMALL_STACK) - 1).tag(sync=True)
    row = traitlets.Int(0).tag(sync=True)
    col = traitlets.Int(0).tag(sync=True)
    stacks = traitlets.Dict().tag(sync=True)

    map_sizes = traitlets.List().tag(sync=True)
    regions = traitlets.List().tag(sync=True)
    rf_size = traitlets.List().tag(sync=True)
    titles = traitlets.List(traitlets.Unicode()).tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    fields = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        stack: str = next(iter(STACKS)),
        input_size: int = 12,
        layer: int | None = None,
        row: int = 0,
        col: int = 0,
        dpi: int | None = None,
    ) -> None:
        """Start from these settings and compute the first state (arguments are start values;
        an input size past its slider widens it).

        Args:
            stack: a key of :data:`STACKS`.
            input_size: the input's height and width.
            layer: the unit's layer (index into the stack); its last layer by default.
            row, col: the unit (one past the output moves to its last unit).
            dpi: resolution of the fallback PNG (default: the figure style's).

        Raises:
            ValueError: an unknown ``stack``, a layer outside it, a negative row or column,
                or an input size below 1.
            TypeError: a start value that is not a whole number.
        """
        if stack not in STACKS:
            raise ValueError(f"unknown stack {stack!r}; choose one of {list(STACKS)}")
        last = len(STACKS[stack]) - 1
        layer = last if layer is None else layer
        for name, value in (("layer", layer), ("row", row), ("col", col)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be a whole number, got {value!r}")
            if value < 0:
                raise ValueError(f"{name} must be at least 0, got {value}")
        if layer > last:
            raise ValueError(f"layer must be in [0, {last + 1}), got {layer}")
        self._dpi = dpi
        self._trace: UnitTrace | None = None
        super().__init__(stack=stack, input_size=input_size, layer=layer, row=row, col=col)

    @traitlets.default("stacks")
    def _default_stacks(self) -> dict[str, list[dict[str, Any]]]:
        return {name: [_layer_json(spec) for spec in layers] for name, layers in STACKS.items()}

    # -- the regions, from cnnlib ------------------------------------------------------------

    def derived_names(self) -> tuple[str, ...]:
        return ("map_sizes", "regions", "rf_size", "titles", "summary", "fields")

    def compute(self) -> dict[str, Any]:
        self._trace = None
        # Checked in the order the front-end checks them, so both say the same first.
        if self.stack not in STACKS:
            raise ValueError(f"unknown stack {self.stack!r}; choose one of {list(STACKS)}")
        layers = STACKS[self.stack]
        if not 0 <= self.layer < len(layers):
            raise ValueError(f"layer must be in [0, {len(layers)}), got {self.layer}")
        sizes = map_sizes(layers, (self.input_size, self.input_size))
        out_h, out_w = sizes[self.layer + 1]
        # A row/col past the chosen layer's output moves to its last unit (issue 22).
        row = min(max(self.row, 0), out_h - 1)
        col = min(max(self.col, 0), out_w - 1)
        trace = trace_unit(layers, self.input_size, self.layer, (row, col))
        self._trace = trace
        names = ["input"] + [spec.name for spec in layers]
        return {
            "row": row,
            "col": col,
            "map_sizes": [list(size) for size in trace.map_sizes],
            "regions": [[list(rows), list(cols)] for rows, cols in trace.regions],
            "rf_size": list(trace.info.size),
            "titles": [f"{name} {h}×{w}" for name, (h, w) in zip(names, trace.map_sizes,
                                                                 strict=True)],
            "summary": trace.describe(),
            "fields": f"receptive field after each layer: {_stack_summary(layers)}",
        }

    # -- the old attributes, read from the current state ------------------------------------

    @property
    def layers(self) -> tuple[LayerSpec, ...]:
        """The chosen stack."""
        return STACKS[self.stack]

    @property
    def trace(self) -> UnitTrace | None:
        """The :class:`~cnnlib.viz.receptive.UnitTrace` on screen, or None for a bad setting."""
        return self._trace if not self.error else None

    @property
    def region(self) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """``((row_start, row_stop), (col_start, col_stop))`` in the input, or None."""
        return self.trace.input_region if self.trace else None

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it: the unit, then the fields (two lines)."""
        return self.error or f"{self.summary}\n{self.fields}"

    def picture_png(self) -> bytes | None:
        """The matplotlib drawing of the same picture, for a page that cannot run the
        front-end (see :meth:`LiveExplorer.picture_png`)."""
        if self.trace is None:
            return None
        figure = receptive_field_figure(self.trace)
        return figure_to_png(figure) if self._dpi is None else figure_to_png(figure, self._dpi)

    def page_state(self) -> dict[str, Any]:
        """The controls and the stacks' layers: the page traces Python's stacks."""
        return super().page_state() | {"stacks": self.stacks}
