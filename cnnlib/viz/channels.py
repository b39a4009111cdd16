"""Multiple input and output channels, taken apart.

One output channel of a convolution is the sum, over input channels, of each
input channel cross-correlated with its own kernel slice, plus that output
channel's bias. :func:`channel_breakdown` computes those pieces with
:mod:`cnnlib.ops`; :func:`channel_breakdown_figure` draws them for one output
channel and :func:`channels_overview_figure` for all of them at once (the
static form of the channels explorer).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from matplotlib.figure import Figure

from cnnlib.ops import corr2d, corr2d_multi_in_out
from cnnlib.viz.cell_grid import (
    FILLED_COLOR,
    INPUT_COLOR,
    OUTPUT_COLOR,
    WINDOW_COLOR,
    CellCanvas,
    as_matrix,
    cell_for,
    fill,
    format_value,
    header_block,
    text_width,
    title_room,
    value_labels,
)


@dataclass(frozen=True)
class ChannelBreakdown:
    """The pieces that add up to one output channel.

    Attributes:
        X: input, shape ``(C_in, H, W)``.
        K: kernel, shape ``(C_out, C_in, kh, kw)``.
        bias: one bias per output channel, shape ``(C_out,)``.
        out_channel: which output channel is taken apart.
        partials: ``corr2d(X[c], K[out_channel, c])`` for each input channel
            ``c``, shape ``(C_in, H', W')``.
        total: the partials summed over input channels, shape ``(H', W')``.
        output: ``total + bias[out_channel]``, shape ``(H', W')``.
    """

    X: torch.Tensor
    K: torch.Tensor
    bias: torch.Tensor
    out_channel: int
    partials: torch.Tensor
    total: torch.Tensor
    output: torch.Tensor

    @property
    def all_outputs(self) -> torch.Tensor:
        """Every output channel with its bias, shape ``(C_out, H', W')``."""
        return corr2d_multi_in_out(self.X, self.K) + self.bias[:, None, None]


def channel_breakdown(
    X: torch.Tensor,
    K: torch.Tensor,
    out_channel: int = 0,
    bias: torch.Tensor | None = None,
) -> ChannelBreakdown:
    """Take output channel ``out_channel`` of a multi-channel convolution apart.

    Args:
        X: input, shape ``(C_in, H, W)`` (a leading batch axis of 1 is dropped,
            as the notes' 7.4 tensors have one).
        K: kernel, shape ``(C_out, C_in, kh, kw)``, the layout of ``nn.Conv2d.weight``.
        out_channel: ``0 <= out_channel < C_out``.
        bias: shape ``(C_out,)``; zeros when ``None``.

    Raises:
        TypeError: if X or K is not a floating-point tensor.
        ValueError: for mismatched shapes or an out-of-range ``out_channel``.
    """
    if isinstance(X, torch.Tensor) and X.dim() == 4 and X.shape[0] == 1:
        X = X[0]  # (C_in, H, W)
    if not isinstance(K, torch.Tensor) or K.dim() != 4:
        raise ValueError(
            f"K must be a (C_out, C_in, kh, kw) tensor, got {getattr(K, 'shape', type(K))}"
        )
    if not isinstance(X, torch.Tensor) or X.dim() != 3 or X.shape[0] != K.shape[1]:
        raise ValueError(
            f"X must be (C_in, H, W) with C_in = K.shape[1] = {K.shape[1]}, "
            f"got {getattr(X, 'shape', type(X))}"
        )
    c_out = K.shape[0]
    if not 0 <= out_channel < c_out:
        raise ValueError(f"out_channel must be in [0, {c_out}), got {out_channel}")
    if bias is None:
        bias = torch.zeros(c_out, dtype=K.dtype)
    if bias.shape != (c_out,):
        raise ValueError(f"bias must have shape ({c_out},), got {tuple(bias.shape)}")
    partials = torch.stack([corr2d(x, k) for x, k in zip(X, K[out_channel], strict=True)])
    total = partials.sum(dim=0)  # (H', W')
    return ChannelBreakdown(
        X=X,
        K=K,
        bias=bias,
        out_channel=out_channel,
        partials=partials,
        total=total,
        output=total + bias[out_channel],
    )


def channel_breakdown_figure(breakdown: ChannelBreakdown) -> Figure:
    """One row per input channel (``X[c] ⋆ K[o, c] = partial``), then their sum plus the bias.

    Args:
        breakdown: from :func:`channel_breakdown`.
    """
    X, K, o = breakdown.X, breakdown.K, breakdown.out_channel
    c_in = X.shape[0]
    x_shape, k_shape = tuple(X.shape[1:]), tuple(K.shape[2:])
    y_shape = tuple(breakdown.total.shape)
    bias = float(breakdown.bias[o])
    cell = cell_for(
        *(value_labels(as_matrix(T)) for T in (*X, *K[o], *breakdown.partials, breakdown.total,
                                               breakdown.output)),
        [[format_value(bias)]],
    )
    header, header_height, header_width = header_block(
        f"output channel {o} of {K.shape[0]}: the sum over {c_in} input channels, "
        f"plus bias {format_value(bias)}",
        cell,
    )
    canvas = CellCanvas(
        [[x_shape, k_shape, y_shape]] * c_in + [[y_shape, (1, 1), y_shape]],
        title_height=title_room(["X[0]"], cell=cell),
        header=header_height,
        min_width=header_width,
        slots=[[0.0, 0.0, text_width(f"X[{c_in}] ⋆ K[{o}, {c_in}]", cell=cell)]] * c_in
        + [[text_width("sum over c", cell=cell), 0.0, 0.0]],
        cell=cell,
    )
    for c in range(c_in):
        panel_x, panel_k, panel_p = canvas.panels[c]
        panel_x.cells(fill(x_shape, INPUT_COLOR), value_labels(as_matrix(X[c])))
        panel_x.title(f"X[{c}]")
        panel_k.cells(fill(k_shape, WINDOW_COLOR), value_labels(as_matrix(K[o, c])))
        panel_k.title(f"K[{o}, {c}]")
        panel_p.cells(fill(y_shape, FILLED_COLOR), value_labels(as_matrix(breakdown.partials[c])))
        panel_p.title(f"X[{c}] ⋆ K[{o}, {c}]")
        canvas.between(panel_x, panel_k, "⋆")
        canvas.between(panel_k, panel_p, "=")
    panel_sum, panel_b, panel_y = canvas.panels[c_in]
    panel_sum.cells(fill(y_shape, FILLED_COLOR), value_labels(as_matrix(breakdown.total)))
    panel_sum.title("sum over c")
    panel_b.cells(fill((1, 1), OUTPUT_COLOR), [[format_value(bias)]])
    panel_b.title("bias")
    panel_y.cells(fill(y_shape, WINDOW_COLOR), value_labels(as_matrix(breakdown.output)))
    panel_y.title(f"Y[{o}]")
    canvas.between(panel_sum, panel_b, "+")
    canvas.between(panel_b, panel_y, "=")
    canvas.header(header)
    return canvas.figure


def channels_overview_figure(
    X: torch.Tensor, K: torch.Tensor, bias: torch.Tensor | None = None
) -> Figure:
    """Every output channel as ``partial_0 + partial_1 + ... + bias = Y[o]``, one row each.

    Args:
        X: input, shape ``(C_in, H, W)``.
        K: kernel, shape ``(C_out, C_in, kh, kw)``.
        bias: shape ``(C_out,)``; zeros when ``None``.
    """
    breakdowns = [channel_breakdown(X, K, o, bias) for o in range(K.shape[0])]
    first = breakdowns[0]
    c_in = first.X.shape[0]
    y_shape = tuple(first.total.shape)
    cell = cell_for(*(
        value_labels(as_matrix(T)) for b in breakdowns for T in (*b.partials, b.output)
    ), [[format_value(float(b)) for b in first.bias]])
    partial_slot = text_width("X[0] ⋆ K[0, 0]", cell=cell)
    canvas = CellCanvas(
        [[y_shape] * c_in + [(1, 1), y_shape]] * len(breakdowns),
        gap=1.4,
        title_height=title_room(["X[0]"], cell=cell),
        slots=[[partial_slot] * c_in + [0.0, 0.0]] * len(breakdowns),
        cell=cell,
    )
    for breakdown, panels in zip(breakdowns, canvas.panels, strict=True):
        o = breakdown.out_channel
        for c in range(c_in):
            labels = value_labels(as_matrix(breakdown.partials[c]))
            panels[c].cells(fill(y_shape, FILLED_COLOR), labels)
            panels[c].title(f"X[{c}] ⋆ K[{o}, {c}]")
            canvas.between(panels[c], panels[c + 1], "+")
        bias = float(breakdown.bias[o])
        panels[c_in].cells(fill((1, 1), OUTPUT_COLOR), [[format_value(bias)]])
        panels[c_in].title(f"b[{o}]")
        labels = value_labels(as_matrix(breakdown.output))
        panels[c_in + 1].cells(fill(y_shape, WINDOW_COLOR), labels)
        panels[c_in + 1].title(f"Y[{o}]")
        canvas.between(panels[c_in], panels[c_in + 1], "=")
    return canvas.figure
