"""Helpers shared by every renderer."""

from __future__ import annotations

import io

from matplotlib.figure import Figure


def new_figure(width: float, height: float) -> Figure:
    """A figure that is not registered with pyplot.

    Renderers build figures this way so that redrawing an explorer a hundred
    times never piles figures up in pyplot's global state (and never needs
    ``plt.close``). A notebook shows one by making it the cell's last value.
    """
    return Figure(figsize=(width, height), layout="constrained")


def figure_to_png(fig: Figure, dpi: int = 100) -> bytes:
    """Encode a figure as PNG bytes (what an ``ipywidgets.Image`` displays)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
