"""cnnlib.widgets.page: what a website page and a saved notebook show of an explorer.

The website form itself (the front-end with its scripts inline) is tested with each live
explorer (tests/test_widgets_live*.py) and on the built site (tests/browser).
"""

from __future__ import annotations

import io
import re

import numpy as np
from PIL import Image

from cnnlib.viz.cell_grid import message_figure
from cnnlib.viz.common import figure_to_png
from cnnlib.widgets import page


def pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"))


def test_compress_png_keeps_the_picture():
    original = figure_to_png(message_figure("a flat-colour picture: 4 × 4 output"))
    compressed = page.compress_png(original)
    assert len(compressed) < len(original)
    difference = np.abs(pixels(compressed).astype(int) - pixels(original).astype(int))
    assert difference.mean() < 1.0  # out of 255: no visible change


def test_a_saved_picture_says_it_is_not_live_and_needs_no_script():
    form = page.picture_html("KernelExplorer", "iVBORw0KGgo=")
    assert "<script" not in form and "<style" not in form  # kept whole in untrusted Lab
    assert page.NOTICE in form and 'src="data:image/png;base64,iVBORw0KGgo="' in form
    assert re.search(r'data-explorer="KernelExplorer"', form)
    assert page.not_live_text("KernelExplorer") == (
        "KernelExplorer: run this cell for the live explorer")


def test_a_website_form_cannot_be_ended_early_by_its_own_scripts():
    form = page.live_html("X", None, "x", ["var a = '</script><!-- x';"], {"k": "</script>"})
    scripts = re.findall(r"<script>(.*?)</script>", form, re.S)
    assert len(scripts) == 2  # the front-end's text and the mount, each whole
    assert "</" not in scripts[0] and "<!--" not in scripts[0]
    assert "</" not in scripts[1]
