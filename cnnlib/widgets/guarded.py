"""An explorer whose redraws never raise: a bad combination of settings becomes a message.

The convolution explainers (padding/stride, step-through, channels, pooling,
receptive field) share one shape of update: read the controls, adjust the
ranges of dependent controls (an output-position slider cannot go past the
output), compute the numbers, then draw them and describe them in the status
line. Several control combinations are invalid (a window larger than the
padded input, pooling padding over half the window); those must show a clear
message, because an exception raised in a widget callback disappears into the
kernel log where the reader never sees it.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import ipywidgets as widgets
from matplotlib.figure import Figure

from cnnlib.viz.cell_grid import message_figure
from cnnlib.widgets.base import Explorer


def error_html(message: str) -> str:
    """A status line in red, HTML-escaped."""
    return f'<span style="color:#b00020">{html.escape(message)}</span>'


class GuardedExplorer(Explorer):
    """Base for explorers with dependent controls and invalid settings.

    Subclasses implement :meth:`update` (read the controls into attributes;
    raise ``ValueError`` with a reader-facing message for an invalid
    combination), :meth:`draw` and :meth:`describe`. They may override
    :meth:`sync_controls` to adjust other controls' ranges; changes made
    there do not trigger another redraw.

    Attributes:
        valid: whether the current settings could be drawn.
        message: why not ("" when valid).
    """

    def __init__(self, controls: Sequence[widgets.Widget], dpi: int | None = None) -> None:
        self.valid = True
        self.message = ""
        self._syncing = False
        super().__init__(controls, dpi=dpi)

    # -- what subclasses provide -------------------------------------------------------------

    def update(self) -> None:
        """Compute the state from the controls; raise ValueError if they do not fit together."""
        raise NotImplementedError

    def draw(self) -> Figure:
        """The figure for the (valid) current state."""
        raise NotImplementedError

    def describe(self) -> str:
        """The status line (HTML) for the (valid) current state."""
        raise NotImplementedError

    def sync_controls(self) -> None:
        """Adjust dependent controls (e.g. slider ranges) before :meth:`update`."""

    # -- the guarded cycle -----------------------------------------------------------------

    @contextmanager
    def syncing(self) -> Iterator[None]:
        """Change controls inside this block without each change causing a redraw."""
        previous, self._syncing = self._syncing, True
        try:
            yield
        finally:
            self._syncing = previous

    def render(self) -> Figure:
        """Update the state and draw it, or draw why the settings are invalid."""
        try:
            with self.syncing():
                self.sync_controls()
            self.update()
        except (ValueError, TypeError) as err:
            self.valid, self.message = False, str(err)
            self.status.value = error_html(self.message)
            return message_figure(self.message)
        self.valid, self.message = True, ""
        figure = self.draw()
        self.status.value = self.describe()
        return figure

    def _on_change(self, change: dict) -> None:
        if self._syncing:
            return
        try:
            self.refresh()
        except Exception as err:  # never let a callback raise; say what happened instead
            self.valid, self.message = False, f"could not redraw: {type(err).__name__}: {err}"
            self.status.value = error_html(self.message)


def start_slider(name: str, value: int, low: int, high: int, description: str
                 ) -> widgets.IntSlider:
    """An int slider from ``low`` to ``high`` starting on ``value``, grown to hold it.

    An explorer must show the settings its caller asked for: a start value past the
    usual range widens the range instead of being clamped into it.

    Raises:
        TypeError: when ``value`` is not a whole number.
        ValueError: when ``value`` is below ``low`` (no such convolution exists).
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")
    return widgets.IntSlider(value, min=low, max=max(high, value), description=description)


def position_slider(description: str) -> widgets.IntSlider:
    """An output-row or -column slider; its maximum follows the output size."""
    return widgets.IntSlider(value=0, min=0, max=0, description=description, continuous_update=True)


def clamp_slider(slider: widgets.IntSlider, maximum: int) -> None:
    """Set a slider's maximum (at least its minimum), pulling its value in range."""
    maximum = max(maximum, slider.min)
    if slider.value > maximum:
        slider.value = maximum
    slider.max = maximum
