"""Helpers shared by every renderer."""

from __future__ import annotations

import io

from matplotlib.figure import Figure

from cnnlib.viz.style import DPI


class NotebookFigure(Figure):
    """A matplotlib Figure that shows itself as a PNG when it is a cell's last value.

    IPython only knows how to display a bare ``Figure`` once the inline backend
    is active; with any other backend (``MPLBACKEND=Agg`` in CI, a script)
    the cell would show just ``<Figure size ...>``. ``_repr_png_`` makes the
    picture independent of the backend. Its resolution is the style's ``DPI``
    (``cnnlib.viz.style``) whatever matplotlib's settings say.
    """

    def __init__(self, *args, dpi: float = DPI, **kwargs) -> None:
        super().__init__(*args, dpi=dpi, **kwargs)

    def _repr_png_(self) -> bytes:
        return figure_to_png(self)


def new_figure(width: float, height: float) -> NotebookFigure:
    """A figure that is not registered with pyplot.

    Renderers build figures this way so that redrawing an explorer a hundred
    times never piles figures up in pyplot's global state (and never needs
    ``plt.close``). A notebook shows one by making it the cell's last value.
    Keep ``width`` at most ``cnnlib.viz.style.MAX_WIDTH`` inches: a wider figure is
    shrunk on the website, and its text with it.
    """
    return NotebookFigure(figsize=(width, height), layout="constrained")


def figure_to_png(fig: Figure, dpi: float = DPI) -> bytes:
    """Encode a figure as PNG bytes (what an ``ipywidgets.Image`` displays)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
