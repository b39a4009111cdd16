"""The padding / stride / dilation explorer: where a window lands and how big the output is.

One front-end (``cnnlib/web/explorers/padding-stride.js``) draws it in JupyterLab, where
this class computes every number with :class:`cnnlib.ops.SlidingWindow`, and on the
website, where the front-end computes the same numbers in the reader's browser (see
:mod:`cnnlib.widgets.live`). Its static form, for readers without a running kernel, is
:func:`cnnlib.viz.padding_stride.padding_stride_gallery`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import traitlets

from cnnlib.ops import SlidingWindow
from cnnlib.viz.common import figure_to_png
from cnnlib.viz.padding_stride import formulas, input_title, kernel_title, padding_stride_figure
from cnnlib.widgets.live import Control, LiveExplorer, clamp_cell


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


class PaddingStrideExplorer(LiveExplorer):
    """Section 7.3's padding / stride / dilation explorer, drawn by its one front-end
    (``cnnlib/web/explorers/padding-stride.js``).

    Square input and kernel; the picture shows the padded input
    (padding grey, a dot where each window starts, the chosen output cell's window in
    orange, never-read rows/columns in red), the kernel and the output; the reader picks the
    output cell with the row/col sliders or by clicking it.

    Attributes:
        input_size, kernel_size, padding, stride, dilation, row, col: the controls.
        geometry: the :class:`~cnnlib.ops.SlidingWindow` as ``(height, width)`` pairs
            (``input``, ``kernel``, ``padding``, ``stride``, ``dilation``, ``padded``,
            ``span``, ``output``, ``leftover``, ``lost_input``), the chosen ``position`` and
            the padded-input ``window`` ``[rows, cols]`` it reads.
        formula: the height formula with the numbers filled in (the width's is equal).
        warning: the tiling warning, or "" when the stride tiles the input.
        summary: the status line's first line.
        titles: the captions of the three panels (input, kernel, output).
    """

    explorer_name: ClassVar[str] = "PaddingStrideExplorer"
    script: ClassVar[str] = "padding-stride.js"
    CONTROLS: ClassVar[tuple[Control, ...]] = (
        Control("input_size", "input n", 1, 12),
        Control("kernel_size", "kernel k", 1, 7),
        Control("padding", "padding p", 0, 4),
        Control("stride", "stride s", 1, 4),
        Control("dilation", "dilation d", 1, 3),
    )
    EXTRA_CONTROLS: ClassVar[tuple[str, ...]] = ("row", "col")

    input_size = traitlets.Int(8).tag(sync=True)
    kernel_size = traitlets.Int(3).tag(sync=True)
    padding = traitlets.Int(1).tag(sync=True)
    stride = traitlets.Int(2).tag(sync=True)
    dilation = traitlets.Int(1).tag(sync=True)
    row = traitlets.Int(0).tag(sync=True)
    col = traitlets.Int(0).tag(sync=True)

    geometry = traitlets.Dict().tag(sync=True)
    formula = traitlets.Unicode("").tag(sync=True)
    warning = traitlets.Unicode("").tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    titles = traitlets.List(traitlets.Unicode()).tag(sync=True)

    def derived_names(self) -> tuple[str, ...]:
        return ("geometry", "formula", "warning", "summary", "titles")

    def compute(self) -> dict[str, Any]:
        window = SlidingWindow.create(
            self.input_size, self.kernel_size, self.padding, self.stride, self.dilation
        )
        out_h, out_w = window.output_size
        row, col = clamp_cell(self.row, self.col, (out_h, out_w))
        rows, cols = window.window(row, col)
        formula = formulas(window)[0]
        return {
            "row": row,
            "col": col,
            "geometry": {
                "input": list(window.input_size),
                "kernel": list(window.kernel_size),
                "padding": list(window.padding),
                "stride": list(window.stride),
                "dilation": list(window.dilation),
                "padded": list(window.padded_size),
                "span": list(window.span),
                "output": [out_h, out_w],
                "leftover": list(window.leftover),
                "lost_input": list(window.lost_input),
                "position": [row, col],
                "window": [rows, cols],
            },
            "formula": formula,
            "warning": tiling_warning(window),
            "summary": (
                f"output size {formula} per side, so the output is {out_h}×{out_w} "
                f"(nn.Conv2d(1, 1, kernel_size={self.kernel_size}, padding={self.padding}, "
                f"stride={self.stride}, dilation={self.dilation}))"
            ),
            "titles": [input_title(window), kernel_title(window), f"output {out_h}×{out_w}"],
        }

    @property
    def output_shape(self) -> tuple[int, int] | None:
        """``(height, width)`` of the output, or None when the settings do not fit."""
        return tuple(self.geometry["output"]) if self.geometry else None

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it (the warning on a second line)."""
        if self.error:
            return self.error
        return self.summary + (f"\n⚠ {self.warning}" if self.warning else "")

    def picture_png(self) -> bytes | None:
        """The matplotlib drawing of the same picture, for a page that cannot run the
        front-end (see :meth:`LiveExplorer.picture_png`)."""
        if self.error:
            return None
        figure = padding_stride_figure(self.input_size, self.kernel_size, self.padding,
                                       self.stride, self.dilation, (self.row, self.col))
        return figure_to_png(figure)
