"""The convolution step-through: a Play button walks the kernel over the input.

Its static form, for readers without a running kernel, is
:func:`cnnlib.viz.conv_steps.conv_step_animation`.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from cnnlib.viz.cell_grid import format_value
from cnnlib.viz.conv_steps import ConvStep, conv_step, conv_step_figure, strided_corr2d
from cnnlib.widgets import page
from cnnlib.widgets.guarded import GuardedExplorer, clamp_slider, start_slider

#: The notes' 7.2 example: a 3x3 input and a 2x2 kernel, whose output is 19 25 / 37 43.
NOTES_X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
NOTES_K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])


class ConvStepExplorer(GuardedExplorer):
    """Step through ``Y = X ⋆ K`` one output cell at a time, with padding and stride.

    Each step shows the window on the (padded) input, the kernel, the
    elementwise products and their sum, and the output filled in so far.
    The Play button advances the step slider in the browser; every step is
    a redraw from Python, so it needs a running kernel.

    Attributes:
        step, padding, stride: the controls (``step`` counts output cells row by row).
        play: the Play button, linked to ``step`` in the browser.
        X: input ``(H, W)``; K: kernel ``(kh, kw)``.
        current: the :class:`~cnnlib.viz.conv_steps.ConvStep` on screen.
        products: ``current.products``, shape ``(kh, kw)``; total: their sum.
        filled: the output cells computed so far (the rest are NaN), shape ``(H', W')``.
    """

    def __init__(
        self,
        X: torch.Tensor | None = None,
        K: torch.Tensor | None = None,
        padding: int = 0,
        stride: int = 1,
        interval: int = 1200,
        dpi: int | None = None,
    ) -> None:
        """Build the controls and draw step 0.

        Args:
            X: input ``(H, W)``; the notes' 3x3 example by default.
            K: kernel ``(kh, kw)``; the notes' 2x2 example by default.
            padding, stride: start values of the sliders.
            interval: milliseconds per step while playing.
            dpi: resolution of the PNG (default: the figure style's, cnnlib.viz.style).
        """
        self.X = NOTES_X.clone() if X is None else X
        self.K = NOTES_K.clone() if K is None else K
        for name, T in (("X", self.X), ("K", self.K)):
            if not isinstance(T, torch.Tensor) or T.dim() != 2:
                raise ValueError(
                    f"{name} must be one 2-D matrix (H, W); got {getattr(T, 'shape', type(T))}. "
                    f"Pass X[0, 0] for a (1, 1, H, W) batch"
                )
        strided_corr2d(self.X, self.K, (padding, padding), (stride, stride))  # fail early
        self.step = widgets.IntSlider(0, min=0, max=0, description="step")
        self.play = widgets.Play(value=0, min=0, max=0, step=1, interval=interval)
        widgets.jslink((self.play, "value"), (self.step, "value"))
        self.padding = start_slider("padding", padding, 0, 2, "padding")
        self.stride = start_slider("stride", stride, 1, 3, "stride")
        self.current: ConvStep | None = None
        self.products: torch.Tensor | None = None
        self.total = float("nan")
        self.filled: torch.Tensor | None = None
        super().__init__([self.step, self.padding, self.stride], dpi=dpi)
        self.controls.children = (widgets.HBox([self.play, self.step]), self.padding, self.stride)

    def page_controls(self) -> list:
        # Padding 0-1 and stride 1-2, and every step of the longest of those walks.
        settings = [(p, s) for p in (0, 1) for s in (1, 2)]
        steps = max(strided_corr2d(self.X, self.K, (p, p), (s, s))[1].numel() for p, s in settings)
        return [
            page.slider(self, "step", range(steps), play=True),
            page.slider(self, "padding", (0, 1)),
            page.slider(self, "stride", (1, 2)),
        ]

    def sync_controls(self) -> None:
        p, s = self.padding.value, self.stride.value
        try:
            _, Y = strided_corr2d(self.X, self.K, (p, p), (s, s))
        except ValueError:
            return  # update() reports it
        clamp_slider(self.step, Y.numel() - 1)
        self.play.max = self.step.max

    def update(self) -> None:
        self.current = self.products = self.filled = None
        self.total = float("nan")
        step = conv_step(self.X, self.K, self.step.value, self.padding.value, self.stride.value)
        self.current = step
        self.products = step.products
        self.total = step.total
        done = torch.arange(step.num_steps).reshape(step.Y.shape) <= step.step
        self.filled = torch.where(done, step.Y, torch.nan)

    def draw(self) -> Figure:
        return conv_step_figure(self.current)

    def describe(self) -> str:
        step = self.current
        i, j = step.position
        return html.escape(
            f"step {step.step + 1} of {step.num_steps}: output cell ({i}, {j}) reads the "
            f"window at rows {step.top_left[0]}–{step.top_left[0] + step.K.shape[0] - 1}, "
            f"columns {step.top_left[1]}–{step.top_left[1] + step.K.shape[1] - 1} of the "
            f"padded input; the {step.K.numel()} products sum to {format_value(step.total)}"
        )
