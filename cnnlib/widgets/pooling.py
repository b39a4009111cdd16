"""The pooling explorer: max or average, window, stride and padding, one output at a time.

Its static form, for readers without a running kernel, is
:func:`cnnlib.viz.pooling.pooling_gallery`.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from cnnlib.ops import size_formula
from cnnlib.viz.pooling import Pooling, pool, pooling_figure
from cnnlib.widgets import page
from cnnlib.widgets.guarded import (
    GuardedExplorer,
    clamp_slider,
    position_slider,
    start_slider,
)

ARANGE = "notes: arange(16) as 4×4"
RANDOM = "random digits 6×6"


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


class PoolingExplorer(GuardedExplorer):
    """Choose the pooling and an output cell; see the window and what it takes.

    Attributes:
        mode, input_choice, kernel_size, stride, padding, row, col: the controls.
        inputs: input name -> tensor ``(H, W)``.
        pooling: the :class:`~cnnlib.viz.pooling.Pooling` on screen.
        output_shape: ``(H', W')``.
        chosen: for max pooling, the input ``(row, col)`` the chosen output
            takes (unpadded coordinates, as ``F.max_pool2d``'s indices count);
            ``None`` for average pooling.
        window: the input cells pooled for the chosen output, shape ``(kh, kw)``
            (padding included).
    """

    def __init__(
        self,
        mode: str = "max",
        input_name: str = RANDOM,
        kernel_size: int = 2,
        stride: int = 2,
        padding: int = 0,
        dpi: int | None = None,
    ) -> None:
        """Build the controls and draw the first picture (arguments are start values).

        Raises:
            ValueError: for an unknown ``mode`` or ``input_name``.
        """
        self.inputs = example_inputs()
        if input_name not in self.inputs:
            raise ValueError(f"unknown input {input_name!r}; choose one of {list(self.inputs)}")
        if mode not in ("max", "avg"):
            raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
        self.mode = widgets.ToggleButtons(options=["max", "avg"], value=mode, description="pool")
        self.input_choice = widgets.Dropdown(
            options=list(self.inputs), value=input_name, description="input"
        )
        self.kernel_size = start_slider("kernel_size", kernel_size, 1, 4, "window")
        self.stride = start_slider("stride", stride, 1, 4, "stride")
        self.padding = start_slider("padding", padding, 0, 2, "padding")
        self.row = position_slider("output row")
        self.col = position_slider("output col")
        self.pooling: Pooling | None = None
        self.output_shape: tuple[int, int] | None = None
        self.chosen: tuple[int, int] | None = None
        self.window: torch.Tensor | None = None
        super().__init__(
            [
                self.mode,
                self.input_choice,
                self.kernel_size,
                self.stride,
                self.padding,
                self.row,
                self.col,
            ],
            dpi=dpi,
        )

    @property
    def X(self) -> torch.Tensor:
        """The selected input, shape ``(H, W)``."""
        return self.inputs[self.input_choice.value]

    def _pool(self) -> Pooling:
        return pool(
            self.X,
            self.kernel_size.value,
            self.mode.value,
            self.padding.value,
            self.stride.value,
        )

    def page_controls(self) -> list:
        # Both modes and inputs; windows and strides 1-3, with and without padding.
        return [
            page.menu(self, "mode"),
            page.menu(self, "input_choice"),
            page.slider(self, "kernel_size", range(1, 4)),
            page.slider(self, "stride", range(1, 4)),
            page.slider(self, "padding", (0, 1)),
        ]

    def sync_controls(self) -> None:
        try:
            out_h, out_w = self._pool().Y.shape
        except ValueError:
            return  # update() reports it
        clamp_slider(self.row, out_h - 1)
        clamp_slider(self.col, out_w - 1)

    def update(self) -> None:
        self.pooling = self.output_shape = self.chosen = self.window = None
        pooling = self._pool()
        position = (self.row.value, self.col.value)
        pooling.geometry.window(*position)  # validates the position
        self.pooling = pooling
        self.output_shape = tuple(pooling.Y.shape)
        self.window = pooling.window_values(*position)
        if pooling.chosen is not None:
            ph, pw = pooling.geometry.padding
            r, c = pooling.chosen[position].tolist()
            self.chosen = (r - ph, c - pw)

    def draw(self) -> Figure:
        return pooling_figure(self.pooling, (self.row.value, self.col.value))

    def describe(self) -> str:
        n = self.X.shape[0]
        k, p, s = self.kernel_size.value, self.padding.value, self.stride.value
        out_h, out_w = self.output_shape
        line = (
            f"output size {size_formula(n, k, p, s)} per side: {out_h}×{out_w} "
            f"(nn.{'MaxPool2d' if self.mode.value == 'max' else 'AvgPool2d'}"
            f"({k}, stride={s}, padding={p}))"
        )
        if self.mode.value == "max" and self.chosen is not None:
            line += f"; this output takes input cell {self.chosen}"
        elif p:
            line += f"; the mean divides by all {k * k} cells, padding zeros included"
        return html.escape(line)
