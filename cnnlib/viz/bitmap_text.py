"""Fast text for figures that redraw on every slider move.

Measured on the project's 2-core CPU, a matplotlib ``Text`` costs 0.5-6 ms per
draw (its layout runs twice per draw, and grows with the string's length), so
an explainer figure with ~60 cell values and a formula line spent most of its
100 ms budget on text. :class:`BitmapText` draws many strings as one artist,
each line rendered once by FreeType (the same font, size and hinting ``Text``
uses) and then cached as an RGBA bitmap: redrawing 100 labels costs ~5 ms.

Limits, acceptable for labels and titles: no rotation, no mathtext, and the
strings are raster images in vector output (PDF/SVG).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backend_bases import RendererBase
from matplotlib.colors import to_rgb
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.transforms import Bbox

#: Baseline-to-baseline distance, in ems, between the lines of one item.
LINE_PITCH = 1.25
#: Where the baseline sits below the top of a line box, in ems.
ASCENT = 0.8


@lru_cache(maxsize=4096)
def line_bitmap(text: str, fontsize: float, dpi: float, color: str) -> tuple[np.ndarray, float]:
    """One line of text as RGBA pixels, rendered once and cached.

    Args:
        text: a single line.
        fontsize: in points.
        dpi: pixels per inch of the target.
        color: a matplotlib colour.

    Returns:
        The pixels, shape ``(h, w, 4)`` uint8 with alpha = glyph coverage and
        row 0 at the top (read-only: shared by the cache), and the descent:
        how many pixels of the bitmap hang below the baseline.
    """
    font = get_font(findfont(FontProperties()))
    font.clear()
    font.set_size(fontsize, dpi)
    font.set_text(text, 0.0)
    descent = font.get_descent() / 64  # FreeType counts in 1/64 pixel
    font.draw_glyphs_to_bitmap(antialiased=True)
    coverage = np.asarray(font.get_image())  # (h, w) uint8
    rgba = np.empty((*coverage.shape, 4), dtype=np.uint8)
    rgba[..., :3] = np.round(np.array(to_rgb(color)) * 255).astype(np.uint8)
    rgba[..., 3] = coverage
    rgba.setflags(write=False)
    return rgba, descent


@dataclass(frozen=True)
class _Item:
    x: float
    y: float
    text: str
    fontsize: float
    ha: str
    va: str
    color: str


class BitmapText(Artist):
    """Many strings, each anchored at a point in the artist's coordinates.

    Use :meth:`add` for each string, set the transform (data, figure or any
    other), and add the artist to a figure or axes once.
    """

    def __init__(self) -> None:
        super().__init__()
        self.items: list[_Item] = []
        self.set_zorder(5)  # above cell fills and outlines

    def add(
        self,
        x: float,
        y: float,
        text: str,
        fontsize: float = 10,
        ha: str = "center",
        va: str = "center",
        color: str = "black",
    ) -> None:
        """Anchor ``text`` (``\\n`` separates lines) at ``(x, y)``.

        Args:
            x, y: the anchor in the artist's coordinates.
            text: the string.
            fontsize: in points.
            ha: ``'left'``, ``'center'`` or ``'right'``: which side of the
                text sits at ``x``.
            va: ``'top'``, ``'center'`` or ``'bottom'``: which edge of the
                block of lines sits at ``y``.
            color: a matplotlib colour.

        Raises:
            ValueError: for an unknown ``ha`` or ``va``.
        """
        if ha not in ("left", "center", "right") or va not in ("top", "center", "bottom"):
            raise ValueError(
                f"ha must be left/center/right and va top/center/bottom, got ha={ha!r}, va={va!r}"
            )
        self.items.append(_Item(x, y, text, fontsize, ha, va, color))

    @property
    def texts(self) -> list[str]:
        """Every string added, in order (what a test reads back)."""
        return [item.text for item in self.items]

    def _placements(self, renderer: RendererBase) -> Iterator[tuple[np.ndarray, int, int]]:
        """Each line's pixels and the display position of its bottom-left corner."""
        dpi = renderer.points_to_pixels(72)
        anchors = self.get_transform().transform([(item.x, item.y) for item in self.items])
        for item, (x, y) in zip(self.items, anchors, strict=True):  # display pixels, y up
            em = item.fontsize * dpi / 72
            lines = item.text.split("\n")
            block = em + LINE_PITCH * em * (len(lines) - 1)
            top = {"top": y, "center": y + block / 2, "bottom": y + block}[item.va]
            for k, line in enumerate(lines):
                if not line.strip():
                    continue
                rgba, descent = line_bitmap(line, item.fontsize, dpi, item.color)
                h, w = rgba.shape[:2]
                if h == 0 or w == 0:
                    continue
                left = {"left": x, "center": x - w / 2, "right": x - w}[item.ha]
                baseline = top - k * LINE_PITCH * em - ASCENT * em
                yield rgba, round(left), round(baseline - descent)

    def draw(self, renderer: RendererBase) -> None:
        if not self.get_visible() or not self.items:
            return
        gc = renderer.new_gc()
        for rgba, x, y in self._placements(renderer):
            # draw_image wants the bottom row first (display y grows upward).
            renderer.draw_image(gc, x, y, rgba[::-1])
        gc.restore()

    def get_window_extent(self, renderer: RendererBase | None = None) -> Bbox:
        """The box around every string, in display pixels.

        ``savefig(bbox_inches="tight")`` (what IPython's inline backend uses)
        crops a figure to its artists' extents; without this the text would be
        cut off.
        """
        if renderer is None:
            renderer = self.figure._get_renderer()  # what matplotlib's own Text does
        boxes = [
            Bbox.from_bounds(x, y, rgba.shape[1], rgba.shape[0])
            for rgba, x, y in self._placements(renderer)
        ]
        return Bbox.union(boxes) if boxes else Bbox.null()
