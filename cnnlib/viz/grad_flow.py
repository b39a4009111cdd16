"""The gradient's size at every block of a plain deep network and of its residual twin.

:func:`show_gradient_flow` draws what :func:`cnnlib.explain.grad_flow.gradient_flow`
measured: one panel for the gradient with respect to each block's weights, one for
the gradient with respect to each block's output, the plain network and the
residual one as two lines on a log scale. A gradient that is exactly zero cannot sit
on a log axis; such blocks are marked with a triangle on the bottom edge.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from cnnlib.explain.grad_flow import GradientFlow
from cnnlib.viz import style
from cnnlib.viz.common import NotebookFigure

#: Colours of the two networks, the same in both panels.
PLAIN_COLOR = "tab:red"
RESIDUAL_COLOR = "tab:blue"

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(value: float, _position: object = None) -> str:
    """``1e-3`` as ``10⁻³`` in plain text (mathtext would cost more than the whole plot)."""
    exponent = int(round(np.log10(value))) if value > 0 else 0
    return "1" if exponent == 0 else f"10{str(exponent).translate(_SUPERSCRIPT)}"


_PANELS = (
    ("weight_norms", "‖∂loss/∂W‖ per block"),
    ("output_norms", "‖∂loss/∂H‖ per block output"),
)


def show_gradient_flow(plain: GradientFlow, residual: GradientFlow,
                       title: str | None = None) -> Figure:
    """Two log-scale panels (weights, outputs) with one line per network.

    Args:
        plain: the plain network's gradient norms; residual: its residual twin's.
        title: a line over both panels (none by default).

    Raises:
        ValueError: when the two measurements have different depths.
    """
    depth = plain.weight_norms.numel()
    if residual.weight_norms.numel() != depth:
        raise ValueError(f"the plain network has {depth} blocks but the residual one has "
                         f"{residual.weight_norms.numel()}; compare twins of one depth")
    # Laid out by hand: a layout engine measures every log tick label, which costs
    # more than the rest of the redraw.
    fig = NotebookFigure(figsize=(style.MAX_WIDTH, 3.1), layout="none")
    axes = fig.subplots(1, 2, gridspec_kw={"left": 0.1, "right": 0.99, "bottom": 0.16,
                                           "top": 0.86 if title else 0.91, "wspace": 0.3})
    blocks = np.arange(1, depth + 1)
    for ax, (field, label) in zip(axes, _PANELS, strict=True):
        series = [(getattr(m, field).double().numpy(), name, color) for m, name, color in
                  ((plain, "plain", PLAIN_COLOR), (residual, "residual", RESIDUAL_COLOR))]
        positive = np.concatenate([values[values > 0] for values, _, _ in series])
        finite = positive[np.isfinite(positive)]
        low = float(finite.min()) if finite.size else 1e-3
        high = float(finite.max()) if finite.size else 1.0
        floor = low / 10  # where an exact zero is marked
        marker = "o" if depth <= 16 else None
        for values, name, color in series:
            shown = np.where(values > 0, values, np.nan)
            ax.plot(blocks, shown, color=color, marker=marker, markersize=3, label=name)
            zeros = blocks[values == 0]
            if zeros.size:
                ax.plot(zeros, np.full(zeros.shape, floor), linestyle="none", marker="v",
                        color=color, markersize=5, label=f"{name}: exactly 0")
        ax.set_yscale("log")
        ax.set_ylim(floor / 2, high * 3)
        ax.set_xlim(0.5, depth + 0.5)
        ax.set_xlabel("block (1 = nearest the input)")
        ax.set_title(label)
        ax.grid(True, which="major", alpha=0.3)
        ax.yaxis.set_major_locator(LogLocator(numticks=6))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_formatter(FuncFormatter(power_of_ten))
    axes[0].legend(loc="best", frameon=False)
    if title:
        fig.suptitle(title)
    return fig
