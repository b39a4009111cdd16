"""The pooling explorer: max or average, window, stride and padding, one output at a time.

One front-end (``cnnlib/web/explorers/pooling.js``) draws it in JupyterLab, where this class
computes every number with :func:`cnnlib.viz.pooling.pool` (PyTorch and
:func:`cnnlib.ops.pool2d`), and on the website, where the front-end computes the same numbers
in the reader's browser from the inputs Python sends (see :mod:`cnnlib.widgets.live`). Its
static form, for readers without a running kernel, is :func:`cnnlib.viz.pooling.pooling_gallery`.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
import traitlets

from cnnlib.ops import size_formula
from cnnlib.viz.common import figure_to_png
from cnnlib.viz.pooling import Pooling, input_title, pool, pooling_figure, settings_text
from cnnlib.widgets.live import Control, LiveExplorer, clamp_cell

ARANGE = "notes: arange(16) as 4×4"
RANDOM = "random digits 6×6"
#: The pooling modes, as the menu offers them.
MODES = ("max", "avg")


def example_inputs() -> dict[str, torch.Tensor]:
    """The explorer's inputs: the notes' 4x4 ``arange`` and a fixed 6x6 of random digits.

    The digits come from their own seeded generator, so they are the same in
    every session and do not disturb the notebook's global random state.
    """
    generator = torch.Generator().manual_seed(7)
    return {
        ARANGE: torch.arange(16, dtype=torch.float32).reshape(4, 4),
        RANDOM: torch.randint(0, 10, (6, 6), generator=generator).float(),
    }


def _cells(values: torch.Tensor) -> list[list[float | None]]:
    """A 2-D tensor as JSON-safe rows: ``-inf`` (max pooling's padding) becomes None."""
    return [[None if math.isinf(v) else v for v in row] for row in values.tolist()]


class PoolingExplorer(LiveExplorer):
    """Choose the pooling and an output cell; see the window and what it takes.

    Drawn by its one front-end (``cnnlib/web/explorers/pooling.js``): a menu for the mode
    and one for the input, sliders for the window, stride, padding and the output row and
    column (or a click on an output cell); the padded input with the chosen window and, for
    max pooling, the cell each output takes; the output; the equation of the chosen output.

    Attributes:
        mode, input_choice, kernel_size, stride, padding, row, col: the controls.
        inputs: input name -> its values as rows (synced: the page computes from these, so
            the browser never regenerates the seeded digits).
        geometry: ``input``, ``kernel``, ``padding``, ``stride``, ``padded``, ``output`` as
            ``(height, width)`` pairs, the chosen ``position`` and the padded-input
            ``window`` ``[rows, cols]`` it pools.
        output: the pooled output Y as rows.
        window_values: the padded-input values the chosen output pools (None for a padded
            cell of max pooling, whose value is -inf).
        source: for max pooling, the padded-input ``[row, col]`` the chosen output takes;
            ``[]`` for average pooling.
        sources: for max pooling, the padded-input cell every output takes (row-major).
        equation: ``Y[0, 1] = max(1, 2, 5, 6) = 6`` for the chosen output.
        header: the picture's header, the settings and the equation.
        summary: the status line.
        titles: the captions of the two panels (input, output).
    """

    explorer_name: ClassVar[str] = "PoolingExplorer"
    script: ClassVar[str] = "pooling.js"
    CONTROLS: ClassVar[tuple[Control, ...]] = (
        Control("kernel_size", "window", 1, 4),
        Control("stride", "stride", 1, 4),
        Control("padding", "padding", 0, 2),
    )
    #: The menus (mode, input) and the output cell have no slider in CONTROLS.
    EXTRA_CONTROLS: ClassVar[tuple[str, ...]] = ("mode", "input_choice", "row", "col")

    mode = traitlets.Unicode("max").tag(sync=True)
    input_choice = traitlets.Unicode(RANDOM).tag(sync=True)
    kernel_size = traitlets.Int(2).tag(sync=True)
    stride = traitlets.Int(2).tag(sync=True)
    padding = traitlets.Int(0).tag(sync=True)
    row = traitlets.Int(0).tag(sync=True)
    col = traitlets.Int(0).tag(sync=True)
    inputs = traitlets.Dict().tag(sync=True)

    geometry = traitlets.Dict().tag(sync=True)
    output = traitlets.List().tag(sync=True)
    window_values = traitlets.List().tag(sync=True)
    source = traitlets.List().tag(sync=True)
    sources = traitlets.List().tag(sync=True)
    equation = traitlets.Unicode("").tag(sync=True)
    header = traitlets.Unicode("").tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    titles = traitlets.List(traitlets.Unicode()).tag(sync=True)

    def __init__(
        self,
        mode: str = "max",
        input_name: str = RANDOM,
        kernel_size: int = 2,
        stride: int = 2,
        padding: int = 0,
        row: int = 0,
        col: int = 0,
    ) -> None:
        """Start from these settings and compute the first state (arguments are start values;
        one past a slider's range widens it).

        Raises:
            ValueError: for an unknown ``mode`` or ``input_name``, or a start value below its
                slider's minimum.
            TypeError: for a start value that is not a whole number.
        """
        self._tensors = example_inputs()
        self._pooling: Pooling | None = None
        if input_name not in self._tensors:
            raise ValueError(
                f"unknown input {input_name!r}; choose one of {list(self._tensors)}")
        if mode not in MODES:
            raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
        super().__init__(mode=mode, input_choice=input_name, kernel_size=kernel_size,
                         stride=stride, padding=padding, row=row, col=col)

    @traitlets.default("inputs")
    def _default_inputs(self) -> dict[str, list[list[float]]]:
        return {name: X.tolist() for name, X in self._tensors.items()}

    # -- the numbers, from cnnlib ----------------------------------------------------------

    def derived_names(self) -> tuple[str, ...]:
        return ("geometry", "output", "window_values", "source", "sources", "equation",
                "header", "summary", "titles")

    def compute(self) -> dict[str, Any]:
        self._pooling = None
        if self.input_choice not in self._tensors:
            raise ValueError(
                f"unknown input {self.input_choice!r}; choose one of {list(self._tensors)}")
        pooling = pool(self.X, self.kernel_size, self.mode, self.padding, self.stride)
        out_h, out_w = pooling.Y.shape
        row, col = clamp_cell(self.row, self.col, (out_h, out_w))
        rows, cols = pooling.geometry.window(row, col)
        g = pooling.geometry
        self._pooling = pooling
        source, sources = [], []
        if pooling.chosen is not None:
            source = pooling.chosen[row, col].tolist()
            sources = pooling.chosen.reshape(-1, 2).tolist()
        n = self.X.shape[0]
        k, p, s = self.kernel_size, self.padding, self.stride
        summary = (
            f"output size {size_formula(n, k, p, s)} per side: {out_h}×{out_w} "
            f"(nn.{'MaxPool2d' if self.mode == 'max' else 'AvgPool2d'}"
            f"({k}, stride={s}, padding={p}))"
        )
        if source:
            summary += f"; this output takes input cell {(source[0] - p, source[1] - p)}"
        elif p:
            summary += f"; the mean divides by all {k * k} cells, padding zeros included"
        equation = pooling.equation(row, col)
        return {
            "row": row,
            "col": col,
            "geometry": {
                "input": list(g.input_size),
                "kernel": list(g.kernel_size),
                "padding": list(g.padding),
                "stride": list(g.stride),
                "padded": list(g.padded_size),
                "output": [out_h, out_w],
                "position": [row, col],
                "window": [rows, cols],
            },
            "output": pooling.Y.tolist(),
            "window_values": _cells(pooling.window_values(row, col)),
            "source": source,
            "sources": sources,
            "equation": equation,
            "header": f"{settings_text(pooling)}:   {equation}",
            "summary": summary,
            "titles": [input_title(pooling), "output Y"],
        }

    # -- the old attributes, read from the current state ------------------------------------

    @property
    def X(self) -> torch.Tensor:
        """The selected input, shape ``(H, W)``."""
        return self._tensors[self.input_choice]

    @property
    def pooling(self) -> Pooling | None:
        """The :class:`~cnnlib.viz.pooling.Pooling` on screen, or None for a bad setting."""
        return self._pooling if not self.error else None

    @property
    def output_shape(self) -> tuple[int, int] | None:
        """``(H', W')``, or None when the settings do not fit."""
        return tuple(self.geometry["output"]) if self.geometry else None

    @property
    def chosen(self) -> tuple[int, int] | None:
        """For max pooling, the input ``(row, col)`` the chosen output takes (unpadded
        coordinates, as ``F.max_pool2d``'s indices count); None for average pooling."""
        if not self.source:
            return None
        return (self.source[0] - self.padding, self.source[1] - self.padding)

    @property
    def window(self) -> torch.Tensor | None:
        """The input cells pooled for the chosen output, shape ``(kh, kw)`` (padding
        included: -inf for max, 0 for avg); None when the settings do not fit."""
        if self.pooling is None:
            return None
        return self.pooling.window_values(self.row, self.col)

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it."""
        return self.error or self.summary

    def picture_png(self) -> bytes | None:
        """The matplotlib drawing of the same picture, for a page that cannot run the
        front-end (see :meth:`LiveExplorer.picture_png`)."""
        if self.pooling is None:
            return None
        return figure_to_png(pooling_figure(self.pooling, (self.row, self.col)))

    def page_state(self) -> dict[str, Any]:
        """The controls and the inputs' values: the page pools Python's numbers."""
        return super().page_state() | {"inputs": self.inputs}
