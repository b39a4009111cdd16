"""The padding / stride / dilation explorer: where a window lands and how big the output is.

Its static form, for readers without a running kernel, is
:func:`cnnlib.viz.padding_stride.padding_stride_gallery`.
"""

from __future__ import annotations

import html

from matplotlib.figure import Figure

from cnnlib.ops import SlidingWindow
from cnnlib.viz.padding_stride import formulas, padding_stride_figure
from cnnlib.widgets import page
from cnnlib.widgets.guarded import (
    GuardedExplorer,
    clamp_slider,
    position_slider,
    start_slider,
)


def tiling_warning(geometry: SlidingWindow) -> str:
    """Why some rows/columns are never read, or "" when the stride tiles the input.

    The last ``(n + 2p − d(k − 1) − 1) mod s`` rows (and columns) of the padded
    input lie past the last window; the message says whether any of them are
    real input rather than padding.
    """
    parts, lost = [], 0
    for axis, (name, side) in enumerate((("row", "bottom"), ("column", "right"))):
        left = geometry.leftover[axis]
        if left:
            parts.append(f"{left} {name}{'s' if left > 1 else ''} at the {side}")
            lost += geometry.lost_input[axis]
    if not parts:
        return ""
    verb = "is" if len(parts) == 1 and parts[0].startswith("1 ") else "are"
    loss = "real input cells among them are skipped" if lost else "padding only, no input lost"
    stride = geometry.stride[0] if geometry.stride[0] == geometry.stride[1] else geometry.stride
    return (
        f"stride {stride} does not tile the padded input: {' and '.join(parts)} "
        f"{verb} never read ({loss})"
    )


class PaddingStrideExplorer(GuardedExplorer):
    """Square input and kernel; choose padding, stride, dilation and an output cell.

    The picture shows the padded input (padding grey, a dot where each window
    starts, the chosen output's window in orange, never-read rows/columns in
    red), the kernel and the output. The status line gives the output-size
    formula with the current numbers and warns when the stride does not tile.

    Attributes:
        input_size, kernel_size, padding, stride, dilation, row, col: the controls.
        geometry: the :class:`~cnnlib.ops.SlidingWindow` behind the picture.
        output_shape: ``(height, width)`` of the output.
        window: padded-input ``(rows, cols)`` the chosen output cell reads.
        formula: the height formula with the numbers filled in (the width's is equal).
        warning: the tiling warning, or "" when the stride tiles the input.
    """

    def __init__(
        self,
        input_size: int = 8,
        kernel_size: int = 3,
        padding: int = 1,
        stride: int = 2,
        dilation: int = 1,
        dpi: int | None = None,
    ) -> None:
        """Build the controls and draw the first picture (arguments are the start values)."""
        self.input_size = start_slider("input_size", input_size, 1, 12, "input n")
        self.kernel_size = start_slider("kernel_size", kernel_size, 1, 7, "kernel k")
        self.padding = start_slider("padding", padding, 0, 4, "padding p")
        self.stride = start_slider("stride", stride, 1, 4, "stride s")
        self.dilation = start_slider("dilation", dilation, 1, 3, "dilation d")
        self.row = position_slider("output row")
        self.col = position_slider("output col")
        self.geometry: SlidingWindow | None = None
        self.output_shape: tuple[int, int] | None = None
        self.window: tuple[list[int], list[int]] | None = None
        self.formula = ""
        self.warning = ""
        super().__init__(
            [
                self.input_size,
                self.kernel_size,
                self.padding,
                self.stride,
                self.dilation,
                self.row,
                self.col,
            ],
            dpi=dpi,
        )

    def page_controls(self) -> list:
        # Kernel, padding and stride: the three knobs of the output-size formula.
        return [
            page.slider(self, "kernel_size", range(1, 6)),
            page.slider(self, "padding", range(0, 4)),
            page.slider(self, "stride", range(1, 4)),
        ]

    def _geometry(self) -> SlidingWindow:
        return SlidingWindow.create(
            self.input_size.value,
            self.kernel_size.value,
            self.padding.value,
            self.stride.value,
            self.dilation.value,
        )

    def sync_controls(self) -> None:
        try:
            geometry = self._geometry()
        except ValueError:
            return  # update() reports it
        out_h, out_w = geometry.output_size
        clamp_slider(self.row, out_h - 1)
        clamp_slider(self.col, out_w - 1)

    def update(self) -> None:
        # Cleared first, so after an invalid setting no stale numbers remain.
        self.geometry = self.output_shape = self.window = None
        self.formula = self.warning = ""
        geometry = self._geometry()
        self.geometry = geometry
        self.output_shape = geometry.output_size
        self.window = geometry.window(self.row.value, self.col.value)
        self.formula = formulas(geometry)[0]
        self.warning = tiling_warning(geometry)

    def draw(self) -> Figure:
        return padding_stride_figure(
            self.input_size.value,
            self.kernel_size.value,
            self.padding.value,
            self.stride.value,
            self.dilation.value,
            (self.row.value, self.col.value),
        )

    def describe(self) -> str:
        out_h, out_w = self.output_shape
        line = (
            f"output size {html.escape(self.formula)} per side, so the output is {out_h}×{out_w}"
            f" (nn.Conv2d(1, 1, kernel_size={self.kernel_size.value}, "
            f"padding={self.padding.value}, stride={self.stride.value}, "
            f"dilation={self.dilation.value}))"
        )
        if self.warning:
            line += f'<br><span style="color:#a63603">⚠ {html.escape(self.warning)}</span>'
        return line
