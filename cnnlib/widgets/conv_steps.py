"""The convolution step-through: one output cell at a time, with padding and stride.

One front-end (``cnnlib/web/explorers/conv-step.js``) draws it in JupyterLab, where this
class computes every number with :func:`cnnlib.viz.conv_steps.conv_step` (built on
:func:`cnnlib.ops.corr2d_vectorized`), and on the website, where the front-end computes the
same numbers in the reader's browser from the input and kernel Python sends (see
:mod:`cnnlib.widgets.live`). Its static form, for readers without a running kernel, is
:func:`cnnlib.viz.conv_steps.conv_step_animation`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import traitlets

from cnnlib.viz.cell_grid import format_value
from cnnlib.viz.common import figure_to_png
from cnnlib.viz.conv_steps import ConvStep, conv_step, conv_step_figure, strided_corr2d
from cnnlib.widgets.live import Control, LiveExplorer

#: The notes' 7.2 example: a 3x3 input and a 2x2 kernel, whose output is 19 25 / 37 43.
NOTES_X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
NOTES_K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])


def _matrix(T: object, name: str) -> torch.Tensor:
    """``T`` as a float32 2-D matrix, or a ValueError that says how to pass one."""
    if not isinstance(T, torch.Tensor) or T.dim() != 2:
        raise ValueError(
            f"{name} must be one 2-D matrix (H, W); got {getattr(T, 'shape', type(T))}. "
            f"Pass X[0, 0] for a (1, 1, H, W) batch"
        )
    if not T.is_floating_point():
        raise TypeError(f"{name} has dtype {T.dtype}; convert it with {name}.float()")
    if not torch.isfinite(T).all():
        raise ValueError(f"{name} holds NaN or infinity; every value must be finite")
    # The page computes in float32, as cnn-ops.js does: the same numbers on both sides.
    return T.detach().to(torch.float32).cpu().clone()


class ConvStepExplorer(LiveExplorer):
    """Step through ``Y = X ⋆ K`` one output cell at a time, with padding and stride.

    Drawn by its one front-end (``cnnlib/web/explorers/conv-step.js``): a step slider whose
    range is the current output's cells, Back / Play / Next buttons (Play walks the steps in
    the page, in JupyterLab too), padding and stride sliders; the window on the (padded)
    input, the kernel, the elementwise products with their running sum, and the output
    filled in so far.

    Attributes:
        step, padding, stride: the controls (``step`` counts output cells row by row; one
            past the output moves to its last cell).
        interval: milliseconds per step while playing.
        input_values, kernel_values: X and K as rows (synced: the page computes from these).
        geometry: ``input``, ``kernel``, ``padding``, ``stride``, ``padded``, ``output`` as
            ``(height, width)`` pairs, the ``position`` of this step's output cell and the
            padded-input ``window`` ``[rows, cols]`` it reads.
        num_steps: output cells in all.
        padded: the zero-padded input as rows.
        products: ``window * K`` as rows.
        running: the running sum of the products, row by row (its last entry is ``total``).
        total: this step's sum, ``Y[position]``.
        output: the whole output Y as rows (the front-end writes only cells up to ``step``).
        equation, header, summary, titles: the texts the front-end shows.
    """

    explorer_name: ClassVar[str] = "ConvStepExplorer"
    script: ClassVar[str] = "conv-step.js"
    CONTROLS: ClassVar[tuple[Control, ...]] = (
        Control("padding", "padding", 0, 2),
        Control("stride", "stride", 1, 3),
    )
    #: The step's slider range follows the output, so it has no fixed spec in CONTROLS.
    EXTRA_CONTROLS: ClassVar[tuple[str, ...]] = ("step",)

    step = traitlets.Int(0).tag(sync=True)
    padding = traitlets.Int(0).tag(sync=True)
    stride = traitlets.Int(1).tag(sync=True)
    interval = traitlets.Int(1200).tag(sync=True)
    input_values = traitlets.List().tag(sync=True)
    kernel_values = traitlets.List().tag(sync=True)

    geometry = traitlets.Dict().tag(sync=True)
    num_steps = traitlets.Int(0).tag(sync=True)
    padded = traitlets.List().tag(sync=True)
    products = traitlets.List().tag(sync=True)
    running = traitlets.List().tag(sync=True)
    total = traitlets.Float(float("nan")).tag(sync=True)
    output = traitlets.List().tag(sync=True)
    equation = traitlets.Unicode("").tag(sync=True)
    header = traitlets.Unicode("").tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    titles = traitlets.List(traitlets.Unicode()).tag(sync=True)

    def __init__(
        self,
        X: torch.Tensor | None = None,
        K: torch.Tensor | None = None,
        padding: int = 0,
        stride: int = 1,
        step: int = 0,
        interval: int = 1200,
        dpi: int | None = None,
    ) -> None:
        """Start from these settings and compute the first step.

        Args:
            X: input ``(H, W)``; the notes' 3x3 example by default.
            K: kernel ``(kh, kw)``; the notes' 2x2 example by default.
            padding, stride: start values of the sliders (one past a slider's range
                widens it).
            step: the first step shown (one past the output moves to its last cell).
            interval: milliseconds per step while playing, at least 100.
            dpi: resolution of the fallback PNG (default: the figure style's).

        Raises:
            ValueError: X or K is not one 2-D matrix or holds NaN/infinity, a start value
                below its slider's minimum, an interval under 100 ms, or a kernel that does
                not fit the padded input.
            TypeError: an integer X or K, or a start value that is not a whole number.
        """
        self._X = _matrix(NOTES_X if X is None else X, "X")
        self._K = _matrix(NOTES_K if K is None else K, "K")
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 100:
            raise ValueError(f"interval must be a whole number of milliseconds >= 100, "
                             f"got {interval!r}")
        if isinstance(padding, int) and isinstance(stride, int) and padding >= 0 and stride >= 1:
            strided_corr2d(self._X, self._K, (padding, padding), (stride, stride))  # fail early
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"step must be a whole number >= 0, got {step!r}")
        self._interval = interval
        self._dpi = dpi
        self._current: ConvStep | None = None
        super().__init__(padding=padding, stride=stride, step=step)

    @traitlets.default("input_values")
    def _default_input_values(self) -> list[list[float]]:
        return self._X.tolist()

    @traitlets.default("kernel_values")
    def _default_kernel_values(self) -> list[list[float]]:
        return self._K.tolist()

    @traitlets.default("interval")
    def _default_interval(self) -> int:
        return self._interval

    # -- the numbers, from cnnlib ----------------------------------------------------------

    def derived_names(self) -> tuple[str, ...]:
        return ("geometry", "num_steps", "padded", "products", "running", "total", "output",
                "equation", "header", "summary", "titles")

    def compute(self) -> dict[str, Any]:
        self._current = None
        p, s = self.padding, self.stride
        _, Y = strided_corr2d(self._X, self._K, (p, p), (s, s))  # the kernel must fit
        # A step past the new output moves to its last cell (as clamp_slider did).
        step = min(max(self.step, 0), Y.numel() - 1)
        current = conv_step(self._X, self._K, step, p, s)
        self._current = current
        i, j = current.position
        top, left = current.top_left
        kh, kw = current.K.shape
        H, W = self._X.shape
        rows, cols = list(range(top, top + kh)), list(range(left, left + kw))
        return {
            "step": step,
            "geometry": {
                "input": [H, W],
                "kernel": [kh, kw],
                "padding": [p, p],
                "stride": [s, s],
                "padded": list(current.X_padded.shape),
                "output": list(current.Y.shape),
                "position": [i, j],
                "window": [rows, cols],
            },
            "num_steps": current.num_steps,
            "padded": current.X_padded.tolist(),
            "products": current.products.tolist(),
            "running": torch.cumsum(current.products.flatten(), 0).tolist(),
            "total": current.total,
            "output": current.Y.tolist(),
            "equation": current.equation(),
            "header": f"step {step + 1} of {current.num_steps}:  {current.equation()}",
            "summary": (
                f"step {step + 1} of {current.num_steps}: output cell ({i}, {j}) reads the "
                f"window at rows {top}–{top + kh - 1}, columns {left}–{left + kw - 1} of the "
                f"padded input; the {kh * kw} products sum to {format_value(current.total)}"
            ),
            "titles": ["padded input X" if p else "input X", "kernel K", "products",
                       "output Y"],
        }

    # -- the old attributes, read from the current state ------------------------------------

    @property
    def X(self) -> torch.Tensor:
        """The input, shape ``(H, W)`` (float32)."""
        return self._X

    @property
    def K(self) -> torch.Tensor:
        """The kernel, shape ``(kh, kw)`` (float32)."""
        return self._K

    @property
    def current(self) -> ConvStep | None:
        """The :class:`~cnnlib.viz.conv_steps.ConvStep` on screen, or None for a bad setting."""
        return self._current if not self.error else None

    @property
    def position(self) -> tuple[int, int] | None:
        """``(row, col)`` of this step's output cell, or None for a bad setting."""
        return tuple(self.geometry["position"]) if self.geometry else None

    @property
    def filled(self) -> torch.Tensor | None:
        """The output cells computed so far (the rest NaN), shape ``(H', W')``."""
        if self.current is None:
            return None
        Y = self.current.Y
        done = torch.arange(Y.numel()).reshape(Y.shape) <= self.step
        return torch.where(done, Y, torch.nan)

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it."""
        return self.error or self.summary

    def picture_png(self) -> bytes | None:
        """The matplotlib drawing of the same step, for a page that cannot run the
        front-end (see :meth:`LiveExplorer.picture_png`)."""
        if self.current is None:
            return None
        figure = conv_step_figure(self.current)
        return figure_to_png(figure) if self._dpi is None else figure_to_png(figure, self._dpi)

    def page_state(self) -> dict[str, Any]:
        """The controls, the play interval, X and K: the page steps through Python's
        numbers."""
        return super().page_state() | {"interval": self.interval,
                                       "input_values": self.input_values,
                                       "kernel_values": self.kernel_values}
