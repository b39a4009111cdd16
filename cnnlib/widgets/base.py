"""The base class every explorer builds on."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import ipywidgets as widgets
from matplotlib.figure import Figure

from cnnlib.viz.common import figure_to_png
from cnnlib.viz.style import DPI
from cnnlib.widgets.page import not_live_text, page_html


class Explorer:
    """Controls wired to a renderer, shown as a PNG image below them.

    Subclasses build their controls, pass them to ``__init__`` and implement
    :meth:`render`. Why an ``Image`` widget and not an ``Output`` widget with a
    live figure: the PNG is plain widget state, so (1) a test can read it after
    setting a control, with no kernel; (2) the executed notebook stores it in
    its widget state and the static website shows the first picture.

    Attributes:
        widget: the whole explorer (display this, or the explorer itself).
        image: the rendered picture.
        status: a one-line HTML message under the picture (formulas, warnings).
        figure: the last figure :meth:`render` returned.
        renders: how many times the picture has been drawn.
        last_render_ms: milliseconds the last redraw took (render + PNG encode).
        busy_style: a hidden HTML widget holding :data:`BUSY_CSS`.
    """

    def __init__(self, controls: Sequence[widgets.Widget], dpi: int | None = None) -> None:
        self.dpi = DPI if dpi is None else dpi  # None: the one figure style's
        self.image = widgets.Image(format="png")
        self.image.add_class(PICTURE_CLASS)
        self.status = widgets.HTML()
        self.figure: Figure | None = None
        self.renders = 0
        self.last_render_ms = 0.0
        for control in controls:
            control.observe(self._on_change, names="value")
        self.controls = widgets.VBox(list(controls))
        # The busy style travels with the explorer (an output can carry no stylesheet of
        # its own); a <style> applies even inside an element that is not displayed.
        self.busy_style = widgets.HTML(BUSY_CSS, layout=widgets.Layout(display="none"))
        self.widget = widgets.VBox([self.controls, self.image, self.status, self.busy_style])
        self.widget.add_class(EXPLORER_CLASS)
        self.refresh()

    def render(self) -> Figure:
        """Draw the picture for the current control values."""
        raise NotImplementedError

    def refresh(self) -> None:
        """Redraw now (controls call this on every change).

        While it runs, the explorer carries the :data:`BUSY_CLASS` class; the page's
        style (:data:`BUSY_CSS`) shows "drawing…" over a dimmed picture once a redraw has
        taken :data:`BUSY_DELAY_MS`, and nothing for a faster one. The class is removed
        when the new picture is in place, or when drawing fails.
        """
        start = time.perf_counter()
        with self.busy():
            self.figure = self.render()
            self.image.value = figure_to_png(self.figure, dpi=self.dpi)
        self.last_render_ms = (time.perf_counter() - start) * 1000
        self.renders += 1

    @property
    def is_busy(self) -> bool:
        """Whether a redraw is under way (the explorer carries :data:`BUSY_CLASS`)."""
        return BUSY_CLASS in self.widget._dom_classes

    @contextmanager
    def busy(self) -> Iterator[None]:
        """Mark the explorer as drawing for the duration of the block, even if it raises.

        Why a class with a delayed CSS transition and not a timer thread that shows a
        message after 300 ms: the delay is kept by the browser, so a fast redraw never
        flickers; no second thread races the end of the redraw (a timer that fires just as
        the picture arrives would leave the message up); and nothing depends on a
        kernel thread getting the interpreter lock while matplotlib draws. The class goes
        out in the kernel's output channel before the redraw starts, like every widget
        change made in a callback.
        """
        if self.is_busy:  # a redraw inside a redraw: the outer one takes the class off
            yield
            return
        self.widget.add_class(BUSY_CLASS)
        try:
            yield
        finally:
            self.widget.remove_class(BUSY_CLASS)

    def _on_change(self, change: dict) -> None:
        self.refresh()

    def hidden_state(self) -> object:
        """State the controls do not show (e.g. every channel's bias).

        The page-form sweep moves the controls through many settings; this and
        :meth:`restore_hidden_state` let it put the explorer back exactly as it was.
        """
        return None

    def restore_hidden_state(self, state: object) -> None:
        """Put back what :meth:`hidden_state` returned."""

    def page_controls(self) -> list:
        """The controls and values of the website's form (see :mod:`cnnlib.widgets.page`).

        Returns:
            a list of :class:`~cnnlib.widgets.page.PageControl`, or ``[]`` for no page form.
        """
        return []

    def _repr_mimebundle_(self, **kwargs):
        # Lets a notebook cell end in the explorer itself. Beside the live view, the output
        # carries the picture drawn at display time (already encoded: free) and a plain
        # text naming the explorer, so a notebook saved without its kernel still shows
        # something true (cnnlib/lab/offline.py keeps them, JupyterLab saves of the
        # chapters go through it). `make notebooks` sets CNNLIB_EXPLORER_PAGES=1, and then
        # the output also carries the page form, which the website shows; a reader's kernel
        # skips that sweep, so displaying stays instant.
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = not_live_text(type(self).__name__)
        if self.image.value:
            bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        if os.environ.get(PAGE_FORMS_VARIABLE) == "1" and self.page_controls():
            bundle["text/html"] = page_html(self)
        return bundle


#: Set to "1" to add the website's form to every explorer's output (see ``page_controls``).
PAGE_FORMS_VARIABLE = "CNNLIB_EXPLORER_PAGES"

#: CSS class of every live explorer's outer box (the page form uses ``cnn-explorer``).
EXPLORER_CLASS = "cnn-live-explorer"
#: CSS class of the picture of a live explorer.
PICTURE_CLASS = "cnn-live-picture"
#: CSS class the outer box carries while a redraw runs (see :meth:`Explorer.busy`).
BUSY_CLASS = "cnn-drawing"
#: A redraw shorter than this shows no sign of being busy (milliseconds).
BUSY_DELAY_MS = 300
#: The style of the busy sign. CSS takes the transition of the state being entered:
#: entering the busy state waits BUSY_DELAY_MS before dimming, leaving it is instant.
BUSY_CSS = (
    "<style>"
    f".{EXPLORER_CLASS}{{position:relative}}"
    f".{EXPLORER_CLASS} .{PICTURE_CLASS}{{transition:none}}"
    f".{EXPLORER_CLASS}.{BUSY_CLASS} .{PICTURE_CLASS}{{opacity:.35;"
    f"transition:opacity .15s linear {BUSY_DELAY_MS}ms}}"
    f'.{EXPLORER_CLASS}::after{{content:"drawing…";position:absolute;left:50%;top:50%;'
    "transform:translate(-50%,-50%);padding:.3em .8em;border:1px solid #999;"
    "border-radius:4px;background:#fff;color:#333;font-size:1.1em;pointer-events:none;"
    "visibility:hidden;opacity:0;transition:none}"
    f".{EXPLORER_CLASS}.{BUSY_CLASS}::after{{visibility:visible;opacity:1;"
    f"transition:opacity .15s linear {BUSY_DELAY_MS}ms,visibility 0s linear {BUSY_DELAY_MS}ms}}"
    "</style>"
)
