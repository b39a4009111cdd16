"""The multi-channel explorer: one output channel taken apart into its input channels.

Its static form, for readers without a running kernel, is
:func:`cnnlib.viz.channels.channels_overview_figure`.
"""

from __future__ import annotations

import html
import math

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from cnnlib.viz.cell_grid import format_value
from cnnlib.viz.channels import ChannelBreakdown, channel_breakdown, channel_breakdown_figure
from cnnlib.widgets import page
from cnnlib.widgets.guarded import GuardedExplorer


def notes_tensors() -> tuple[torch.Tensor, torch.Tensor]:
    """The notes' 7.4 example: X ``(2, 3, 3)`` and K stacked as ``(K, K + 1, K + 2)``.

    Returns:
        X of shape ``(2, 3, 3)`` and K of shape ``(3, 2, 2, 2)``.
    """
    X = torch.tensor(
        [
            [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
            [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
        ]
    )
    K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
    return X, torch.stack((K, K + 1, K + 2), 0)


class ChannelsExplorer(GuardedExplorer):
    """Pick an output channel and its bias; see each input channel's share of it.

    Attributes:
        out_channel: slider over output channels.
        bias_value: the chosen output channel's bias (the slider follows the
            channel: each channel keeps its own bias).
        X: input ``(C_in, H, W)``; K: kernel ``(C_out, C_in, kh, kw)``.
        bias: all biases ``(C_out,)``.
        breakdown: the :class:`~cnnlib.viz.channels.ChannelBreakdown` on screen.
        partials: per input channel ``X[c] ⋆ K[o, c]``, shape ``(C_in, H', W')``.
        output: the chosen output channel, shape ``(H', W')``.
    """

    def __init__(
        self,
        X: torch.Tensor | None = None,
        K: torch.Tensor | None = None,
        bias: torch.Tensor | None = None,
        dpi: int | None = None,
    ) -> None:
        """Build the controls and draw output channel 0.

        Args:
            X: input ``(C_in, H, W)``; the notes' 7.4 tensor by default.
            K: kernel ``(C_out, C_in, kh, kw)``; the notes' stacked kernel by default.
            bias: ``(C_out,)``; zeros by default.
            dpi: resolution of the PNG (default: the figure style's, cnnlib.viz.style).
        """
        default_X, default_K = notes_tensors()
        self.X = default_X if X is None else X
        self.K = default_K if K is None else K
        if isinstance(self.X, torch.Tensor) and self.X.dim() == 4 and self.X.shape[0] == 1:
            self.X = self.X[0]  # a batch of one image: explore the image (C_in, H, W)
        if bias is None:
            self.bias = torch.zeros(self.K.shape[0])
        else:
            self.bias = torch.as_tensor(bias, dtype=torch.float32).clone()
        channel_breakdown(self.X, self.K, 0, self.bias)  # fail early on bad shapes
        if not torch.isfinite(self.bias).all():
            raise ValueError(f"bias must be finite numbers, got {self.bias.tolist()}")
        self.out_channel = widgets.IntSlider(
            0, min=0, max=self.K.shape[0] - 1, description="output ch."
        )
        # The slider reaches every given bias: it must never show another than the picture.
        low = min(-20.0, math.floor(float(self.bias.min())))
        high = max(20.0, math.ceil(float(self.bias.max())))
        self.bias_value = widgets.FloatSlider(
            float(self.bias[0]), min=low, max=high, step=0.5, description="its bias"
        )
        self.breakdown: ChannelBreakdown | None = None
        self.partials: torch.Tensor | None = None
        self.output: torch.Tensor | None = None
        self._shown_channel = 0  # whose bias the bias slider currently holds
        super().__init__([self.out_channel, self.bias_value], dpi=dpi)

    def hidden_state(self) -> object:
        # The bias slider shows one channel's bias; the others are kept here.
        return self.bias.clone(), self._shown_channel

    def restore_hidden_state(self, state: object) -> None:
        bias, shown = state
        self.bias.copy_(bias)
        self._shown_channel = shown
        self.refresh()

    def page_controls(self) -> list:
        # Every output channel; a few biases, including each channel's own.
        biases = sorted({-10.0, -5.0, 0.0, 5.0, 10.0} | {float(b) for b in self.bias})
        return [page.slider(self, "out_channel"), page.slider(self, "bias_value", biases)]

    def sync_controls(self) -> None:
        o = self.out_channel.value
        if o != self._shown_channel:
            # Switching channel: show that channel's own bias on the slider.
            self.bias_value.value = float(self.bias[o])
            self._shown_channel = o
        else:
            self.bias[o] = self.bias_value.value

    def update(self) -> None:
        self.breakdown = channel_breakdown(self.X, self.K, self.out_channel.value, self.bias)
        self.partials = self.breakdown.partials
        self.output = self.breakdown.output

    def draw(self) -> Figure:
        return channel_breakdown_figure(self.breakdown)

    def describe(self) -> str:
        o, c_in = self.out_channel.value, self.X.shape[0]
        kh, kw = self.K.shape[2:]
        return html.escape(
            f"Y[{o}] = "
            + " + ".join(f"X[{c}] ⋆ K[{o}, {c}]" for c in range(c_in))
            + f" + {format_value(float(self.bias[o]))}: {c_in} input channels × "
            f"{kh}×{kw} weights = {c_in * kh * kw} weights per output value"
        )
