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

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import traitlets

from cnnlib.ops import SlidingWindow
from cnnlib.viz.padding_stride import formulas, input_title, kernel_title
from cnnlib.widgets.padding_stride import tiling_warning

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
    lost in the kernel log, as :class:`~cnnlib.widgets.guarded.GuardedExplorer` does.

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
        clamped, as :func:`~cnnlib.widgets.guarded.start_slider` does.

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

    def page_scripts(self) -> list[Path]:
        """The scripts a page loads, in order, before it mounts this explorer."""
        return [WEB_DIR / "cnn-ops.js", HOST_SCRIPT, WEB_DIR / "explorers" / self.script]


class LivePaddingStride(LiveExplorer):
    """Section 7.3's padding / stride / dilation explorer, drawn by its one front-end.

    The same controls and numbers as :class:`~cnnlib.widgets.padding_stride
    .PaddingStrideExplorer`: square input and kernel; the picture shows the padded input
    (padding grey, a dot where each window starts, the chosen output cell's window in
    orange, never-read rows/columns in red), the kernel and the output; the reader picks the
    output cell with the row/col sliders or by clicking it.

    Attributes:
        input_size, kernel_size, padding, stride, dilation, row, col: the controls.
        geometry: the :class:`~cnnlib.ops.SlidingWindow` as ``(height, width)`` pairs
            (``input``, ``kernel``, ``padding``, ``stride``, ``dilation``, ``padded``,
            ``span``, ``output``, ``leftover``, ``lost_input``), the chosen ``position`` and
            the padded-input ``window`` ``[rows, cols]`` it reads.
        formula: the height formula with the numbers filled in (the width's is equal).
        warning: the tiling warning, or "" when the stride tiles the input.
        summary: the status line's first line, as ``PaddingStrideExplorer.describe`` writes it.
        titles: the captions of the three panels (input, kernel, output).
    """

    explorer_name: ClassVar[str] = "PaddingStrideExplorer"
    script: ClassVar[str] = "padding-stride.js"
    CONTROLS: ClassVar[tuple[Control, ...]] = (
        Control("input_size", "input n", 1, 12),
        Control("kernel_size", "kernel k", 1, 7),
        Control("padding", "padding p", 0, 4),
        Control("stride", "stride s", 1, 4),
        Control("dilation", "dilation d", 1, 3),
    )
    EXTRA_CONTROLS: ClassVar[tuple[str, ...]] = ("row", "col")

    input_size = traitlets.Int(8).tag(sync=True)
    kernel_size = traitlets.Int(3).tag(sync=True)
    padding = traitlets.Int(1).tag(sync=True)
    stride = traitlets.Int(2).tag(sync=True)
    dilation = traitlets.Int(1).tag(sync=True)
    row = traitlets.Int(0).tag(sync=True)
    col = traitlets.Int(0).tag(sync=True)

    geometry = traitlets.Dict().tag(sync=True)
    formula = traitlets.Unicode("").tag(sync=True)
    warning = traitlets.Unicode("").tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    titles = traitlets.List(traitlets.Unicode()).tag(sync=True)

    def derived_names(self) -> tuple[str, ...]:
        return ("geometry", "formula", "warning", "summary", "titles")

    def compute(self) -> dict[str, Any]:
        window = SlidingWindow.create(
            self.input_size, self.kernel_size, self.padding, self.stride, self.dilation
        )
        out_h, out_w = window.output_size
        # An output row/col past the new output moves to its last cell (clamp_slider).
        row = min(max(self.row, 0), out_h - 1)
        col = min(max(self.col, 0), out_w - 1)
        rows, cols = window.window(row, col)
        formula = formulas(window)[0]
        return {
            "row": row,
            "col": col,
            "geometry": {
                "input": list(window.input_size),
                "kernel": list(window.kernel_size),
                "padding": list(window.padding),
                "stride": list(window.stride),
                "dilation": list(window.dilation),
                "padded": list(window.padded_size),
                "span": list(window.span),
                "output": [out_h, out_w],
                "leftover": list(window.leftover),
                "lost_input": list(window.lost_input),
                "position": [row, col],
                "window": [rows, cols],
            },
            "formula": formula,
            "warning": tiling_warning(window),
            "summary": (
                f"output size {formula} per side, so the output is {out_h}×{out_w} "
                f"(nn.Conv2d(1, 1, kernel_size={self.kernel_size}, padding={self.padding}, "
                f"stride={self.stride}, dilation={self.dilation}))"
            ),
            "titles": [input_title(window), kernel_title(window), f"output {out_h}×{out_w}"],
        }

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it (the warning on a second line)."""
        if self.error:
            return self.error
        return self.summary + (f"\n⚠ {self.warning}" if self.warning else "")
