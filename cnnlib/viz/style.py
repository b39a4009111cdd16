"""The companion's one figure style: resolution, font sizes and the widest figure.

Every figure reaches the website as a PNG in the page's content column. A PNG wider than
the column is scaled down, and its text with it, so the style starts from two measurements
of the built site (``tests/browser/test_site_layout.py`` fails if the theme changes them):

- ``CONTENT_WIDTH_PX``: the content column in a 1280-px window;
- ``CODE_FONT_PX``: the page's code font (the computed font size of ``pre``), the
  smallest text a reader meets on the page, hence the smallest a figure may hold.

A figure at most ``MAX_WIDTH`` inches wide is shown at its natural size, so ``FONT`` points
come out as ``FONT * DPI / 72`` px on the page, at least the code font. Renderers lay out
to ``MAX_WIDTH`` (wrapping or stacking what does not fit) instead of shrinking their text;
``tests/test_viz_style.py`` checks every renderer the notebooks use.

Importing :mod:`cnnlib.viz` applies :data:`RC` to matplotlib, so that figures a chapter
draws itself with ``new_figure`` or pyplot get the same resolution and fonts.
"""

from __future__ import annotations

import functools
import math
import re

import matplotlib
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

#: Pixels per inch of every PNG (notebook outputs, explorers, animation frames).
DPI = 100
#: The website's content column in a 1280-px browser window, in CSS px (sphinx-book-theme):
#: 688 px where scrollbars overlay the page (macOS, phones), 676 px where the page's
#: scrollbar takes 15 px of the window (Windows, Linux). The narrower one.
CONTENT_WIDTH_PX = 676
#: The website's code font in CSS px: no text in a figure may be smaller.
CODE_FONT_PX = 14
#: The margin IPython's inline backend adds around a figure it crops to its drawing
#: (``bbox_inches="tight"``), in inches: matplotlib's ``savefig.pad_inches``.
PAD_INCHES = 0.1
#: The widest figure, in inches: its PNG, margin included, fills the content column.
MAX_WIDTH = CONTENT_WIDTH_PX / DPI - 2 * PAD_INCHES

#: Labels, tick labels, legends and numbers in cells: the code font, rounded up to half a point.
FONT = math.ceil(CODE_FONT_PX * 72 / DPI * 2) / 2
#: Axes and panel titles.
TITLE_FONT = FONT + 1
#: A figure-wide line (an equation above the panels, a figure title).
HEADER_FONT = FONT + 1.5

#: The matplotlib settings every figure gets (see the module docstring).
RC = {
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "savefig.pad_inches": PAD_INCHES,
    "font.size": FONT,
    "axes.titlesize": TITLE_FONT,
    "axes.labelsize": FONT,
    "xtick.labelsize": FONT,
    "ytick.labelsize": FONT,
    "legend.fontsize": FONT,
    "legend.title_fontsize": FONT,
    "figure.titlesize": HEADER_FONT,
}


def apply() -> None:
    """Set :data:`RC` in matplotlib's global settings."""
    matplotlib.rcParams.update(RC)


_TEXT_TO_PATH = TextToPath()


@functools.lru_cache(maxsize=4096)  # explorers lay out the same strings on every redraw
def text_width(text: str, fontsize: float = FONT) -> float:
    """Width in inches of the longest line of ``text`` in matplotlib's default font."""
    prop = FontProperties(size=fontsize)
    widths = [
        _TEXT_TO_PATH.get_text_width_height_descent(line, prop, ismath=False)[0]
        for line in text.split("\n")
    ]
    return max(widths) / 72  # points -> inches


def wrap(text: str, width: float, fontsize: float = FONT) -> str:
    """Break ``text`` at spaces into lines at most ``width`` inches wide.

    A word wider than ``width`` gets a line of its own, broken before its capitals
    (``FastAvgPool2d`` -> ``FastAvg`` / ``Pool2d``) where that makes it fit, so a
    layer's class name does not run into the next panel's title.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and text_width(candidate, fontsize) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
            if line == word and text_width(word, fontsize) > width:
                *whole, line = _break_camel(word, width, fontsize)
                lines += whole
        lines.append(line)
    return "\n".join(lines)


def _break_camel(word: str, width: float, fontsize: float) -> list[str]:
    """``word`` in pieces cut before capital letters, each piece as long as still fits."""
    parts = re.split(r"(?<=[a-z0-9])(?=[A-Z])", word)
    pieces = [parts[0]]
    for part in parts[1:]:
        if text_width(pieces[-1] + part, fontsize) <= width:
            pieces[-1] += part
        else:
            pieces.append(part)
    return pieces
