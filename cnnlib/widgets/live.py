"""Explorers with one front-end for JupyterLab and the website (issue 21, item 1).

The front-end is a JavaScript file in ``cnnlib/web/explorers/`` that registers itself with
``cnnlib/web/cnn-host.js`` (see ``cnnlib/web/explorers/README.md``). In JupyterLab it runs
under anywidget: this module sends it as the widget's ``_esm`` and computes every number in
Python with cnnlib and PyTorch, synced as traitlets. On the website the same file runs as a
classic script and its ``compute(state)`` derives the same values in the browser; the browser
tests (``tests/browser/test_web_explorers.py``) hold the two to each other.

Why anywidget and not an ipywidgets ``Image`` of a matplotlib PNG: the front-end draws SVG in
the page, so it is crisp at any width, redraws without a round trip through matplotlib, and is
the same code the website runs without a kernel.
"""

from __future__ import annotations

import base64
import html
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import traitlets

from cnnlib.widgets.page import PAGE_FORMS_VARIABLE, live_html, not_live_text

#: Where the front-end scripts live (shipped inside the package).
WEB_DIR = Path(__file__).resolve().parents[1] / "web"
#: The host every front-end registers with.
HOST_SCRIPT = WEB_DIR / "cnn-host.js"


def front_end_module(name: str, script: str) -> str:
    """The anywidget ``_esm`` of an explorer: the host, its front-end, and the export.

    Args:
        name: the name the front-end registers (``CNNExplorers.define(name, ...)``).
        script: its file name under ``cnnlib/web/explorers/``.

    Returns:
        The text of an ES module whose default export is the anywidget module object.

    Raises:
        FileNotFoundError: when the host or the front-end file is missing.
        ValueError: when the front-end file does not define ``name``.
    """
    source = (WEB_DIR / "explorers" / script).read_text(encoding="utf-8")
    if f'CNNExplorers.define("{name}"' not in source:
        raise ValueError(
            f"{script} does not define {name!r}: it must call "
            f'CNNExplorers.define("{name}", {{render, compute}})'
        )
    host = HOST_SCRIPT.read_text(encoding="utf-8")
    return f'{host}\n{source}\nexport default CNNExplorers.widget("{name}");\n'


@dataclass(frozen=True)
class Control:
    """One slider of a live explorer: the front-end builds a labelled range input from it.

    Attributes:
        name: the traitlet it sets.
        label: what the reader sees beside it.
        min, max: its range.
    """

    name: str
    label: str
    min: int
    max: int


class LiveExplorer(anywidget.AnyWidget):
    """Base of the explorers whose front-end is a file in ``cnnlib/web/explorers/``.

    Subclasses set :attr:`explorer_name` and :attr:`script`, declare their controls and
    derived values as synced traitlets, list the controls in :attr:`CONTROLS` and implement
    :meth:`compute`. A change of any control runs :meth:`compute`; a setting that does not
    fit together becomes :attr:`error` (shown in the status line) instead of an exception
    lost in the kernel log.

    Attributes:
        controls: the sliders' specifications, for the front-end.
        error: why the current settings cannot be drawn ("" when they can).
    """

    explorer_name: ClassVar[str] = ""
    script: ClassVar[str] = ""
    CONTROLS: ClassVar[tuple[Control, ...]] = ()
    #: Controls the reader moves that have no slider in CONTROLS (set by clicks, say).
    EXTRA_CONTROLS: ClassVar[tuple[str, ...]] = ()

    controls = traitlets.List(traitlets.Dict()).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Only where the class names its explorer: traitlets' add_traits (which anywidget
        # uses for _esm) makes a subclass of each instance's class, whose _esm is the trait.
        if "explorer_name" in cls.__dict__:
            cls._esm = front_end_module(cls.explorer_name, cls.script)

    def __init__(self, **values: int) -> None:
        """Start from ``values`` (control name -> start value) and compute the first state.

        A start value past a control's usual range widens the range instead of being
        clamped: the reader asked for it.

        Raises:
            TypeError: an unknown control, or a start value that is not a whole number.
            ValueError: a start value below its control's minimum.
        """
        known = {control.name: control for control in self.CONTROLS}
        unknown = set(values) - set(known) - set(self.EXTRA_CONTROLS)
        if unknown:
            raise TypeError(
                f"{type(self).__name__} has no control {sorted(unknown)}; "
                f"its controls are {sorted(known) + list(self.EXTRA_CONTROLS)}"
            )
        specs = []
        for control in self.CONTROLS:
            value = values.get(control.name, self.trait_defaults(control.name))
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{control.name} must be a whole number, got {value!r}")
            if value < control.min:
                raise ValueError(f"{control.name} must be at least {control.min}, got {value}")
            specs.append(asdict(control) | {"max": max(control.max, value)})
        self._computing = False
        super().__init__(**values, controls=specs)
        self.observe(self._on_control, names=[c.name for c in self.CONTROLS]
                     + list(self.EXTRA_CONTROLS))
        self.recompute()

    # -- what subclasses provide ---------------------------------------------------------------

    def compute(self) -> dict[str, Any]:
        """The derived values (and corrected controls) for the current controls.

        Raises:
            ValueError or TypeError: with a reader-facing message, when the controls do not
                fit together.
        """
        raise NotImplementedError

    def derived_names(self) -> tuple[str, ...]:
        """The traitlets :meth:`compute` sets (cleared when the settings are invalid)."""
        raise NotImplementedError

    # -- the guarded cycle ---------------------------------------------------------------------

    def recompute(self) -> None:
        """Compute the derived values now, or set :attr:`error` to why they cannot be."""
        if self._computing:  # a control corrected inside compute: one pass is enough
            return
        self._computing = True
        try:
            with self.hold_sync():  # one message to the front-end per change
                try:
                    values = self.compute()
                except (ValueError, TypeError) as err:
                    # Cleared, so after an invalid setting no stale numbers remain.
                    for name in self.derived_names():
                        self.set_trait(name, self.trait_defaults(name))
                    self.error = str(err)
                    return
                for name, value in values.items():
                    self.set_trait(name, value)
                self.error = ""
        finally:
            self._computing = False

    def _on_control(self, change: dict) -> None:
        self.recompute()

    def page_state(self) -> dict[str, Any]:
        """The controls' values and specifications, for ``CNNExplorers.mount`` on a page.

        The page computes everything else from them in the browser.
        """
        names = [c.name for c in self.CONTROLS] + list(self.EXTRA_CONTROLS) + ["controls"]
        return {name: getattr(self, name) for name in names}

    def picture_png(self) -> bytes | None:
        """A PNG of the current picture, drawn in Python, or None: shown where the front-end
        cannot run (a notebook opened without its kernel, a browser that cannot run it)."""
        return None

    def _repr_mimebundle_(self, **kwargs: Any):
        # Beside anywidget's live view: a plain text naming the explorer and the picture,
        # so a notebook saved without its kernel still shows something true
        # (cnnlib/lab/offline.py keeps them, as for every explorer). `make notebooks` sets
        # CNNLIB_EXPLORER_PAGES=1: then the output also carries the website's form, the
        # front-end that computes in the reader's browser (cnnlib.widgets.page.live_html).
        data, metadata = _split_bundle(super()._repr_mimebundle_(**kwargs))
        data["text/plain"] = not_live_text(self.explorer_name)
        png = self.picture_png()
        if png is not None:
            data["image/png"] = base64.b64encode(png).decode("ascii")
        if os.environ.get(PAGE_FORMS_VARIABLE) == "1":
            scripts = [path.read_text(encoding="utf-8") for path in self.page_scripts()]
            data["text/html"] = live_html(self.explorer_name, data.get("image/png"),
                                          self.picture_alt(), scripts, self.page_state())
        return data, metadata

    def picture_alt(self) -> str:
        """What the fallback picture shows, in words (its alt text)."""
        return f"{self.explorer_name}: {self.error or self.status_text}"

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it."""
        return self.error

    def standalone_html(self, title: str = "", network_base: str | None = None) -> str:
        """A whole page that mounts this explorer's front-end from its scripts on disk
        (``file://`` script tags), computing in the browser: what the browser tests and
        ``benchmarks/web_explorer_redraw.py`` open. The explorer's root is ``#explorer``,
        and ``window.mounted`` what ``CNNExplorers.mount`` returned.

        Args:
            title: the page's heading.
            network_base: for an explorer that runs a trained network, the URL of the
                folder holding ``onnxruntime/`` and ``models/`` (``make web-deps`` builds
                them in ``_build/web-vendor``); set as ``CNNNetworks.base`` before any
                script runs.
        """
        tags = "\n".join(f'<script src="{path.as_uri()}"></script>'
                          for path in self.page_scripts())
        if network_base is not None:
            base = json.dumps(network_base.rstrip("/") + "/")
            tags = f"<script>window.CNNNetworks = {{base: {base}}};</script>\n{tags}"
        state = json.dumps(self.page_state()).replace("</", "<\\/")
        name = json.dumps(self.explorer_name)
        heading = f"<h1>{html.escape(title)}</h1>" if title else ""
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title or self.explorer_name)}</title></head>
<body><main>{heading}<div id="explorer"></div></main>
{tags}
<script>
window.mounted = CNNExplorers.mount(document.getElementById("explorer"), {name}, {state});
</script></body></html>"""

    def page_scripts(self) -> list[Path]:
        """The scripts a page loads, in order, before it mounts this explorer."""
        return [WEB_DIR / "cnn-ops.js", HOST_SCRIPT, WEB_DIR / "explorers" / self.script]


def clamp_cell(row: int, col: int, shape: tuple[int, int]) -> tuple[int, int]:
    """An output cell ``(row, col)`` moved into an output of ``shape`` ``(rows, cols)``.

    When a change shrinks the output, a chosen cell past it moves to the last row/column,
    as a slider's value does when its range shrinks.
    """
    rows, cols = shape
    return min(max(row, 0), rows - 1), min(max(col, 0), cols - 1)


def _split_bundle(bundle: Any) -> tuple[dict, dict]:
    """(data, metadata) of a ``_repr_mimebundle_`` result, which may be either or both."""
    if isinstance(bundle, tuple):
        data, metadata = bundle
        return dict(data), dict(metadata or {})
    return dict(bundle), {}
