"""Every renderer the notebooks use keeps the one figure style (cnnlib.viz.style).

A figure reaches the website as a PNG in the content column (CONTENT_WIDTH_PX wide); a PNG
wider than that is scaled down, and its text with it. For each renderer, drawn with the
inputs its section uses, we make the PNG the notebook stores (the inline backend crops to
the drawing: ``bbox_inches="tight"``), then walk every string the figure draws and ask what
a reader sees: each string at least the page's code font (CODE_FONT_PX) once scaled, and no
figure scaled below 3/4 of its width. tests/browser/test_site_layout.py checks that the two
page measurements still hold on the built site.
"""

from __future__ import annotations

import io
import re
import struct
from base64 import b64decode

import pytest
import torch
from matplotlib.figure import Figure
from matplotlib.text import Text

from cnnlib.data import LABELS
from cnnlib.explain.activations import probe
from cnnlib.models import get_model
from cnnlib.ops import LayerSpec
from cnnlib.training.history import History
from cnnlib.viz import style
from cnnlib.viz.architecture import show_architecture
from cnnlib.viz.bitmap_text import BitmapText
from cnnlib.viz.cell_grid import CellCanvas
from cnnlib.viz.channels import (
    channel_breakdown,
    channel_breakdown_figure,
    channels_overview_figure,
)
from cnnlib.viz.common import figure_to_png, new_figure
from cnnlib.viz.conv_steps import conv_step, conv_step_animation, conv_step_figure, to_page_html
from cnnlib.viz.explain import show_grad_cam
from cnnlib.viz.feature_maps import feature_map_gallery, show_conv_kernels, show_probe
from cnnlib.viz.images import CellNumbers, show_feature_maps, show_images, show_matrix
from cnnlib.viz.kernels import KERNEL_PRESETS, preset_gallery, show_corr2d, show_kernels
from cnnlib.viz.padding_stride import padding_stride_figure, padding_stride_gallery
from cnnlib.viz.pooling import pool, pooling_figure, pooling_gallery
from cnnlib.viz.receptive import (
    SMALL_STACK,
    receptive_field_figure,
    receptive_field_gallery,
    trace_unit,
)
from cnnlib.viz.training import (
    LivePlot,
    plot_confusion_matrix,
    plot_history,
    show_most_confident_mistakes,
)

# The smallest fraction of its natural width a figure may be shown at.
MIN_SCALE = 0.75


def _png_width(png: bytes) -> int:
    return struct.unpack(">I", png[16:20])[0]  # the IHDR chunk: width, then height


def notebook_png_width(fig: Figure) -> int:
    """Width in px of the PNG a notebook stores for ``fig`` (saved as the inline backend does)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight")
    return _png_width(buffer.getvalue())


def drawn_strings(fig: Figure) -> list[tuple[str, float]]:
    """``(text, font size in points)`` of every visible string the figure draws.

    Three kinds of artist draw text: matplotlib's ``Text`` (titles, tick labels, legends),
    ``BitmapText`` (the explainers' labels) and ``CellNumbers`` (numbers in matrix cells).
    """
    strings = []
    for artist in fig.findobj():
        if not artist.get_visible():
            continue
        if isinstance(artist, Text) and artist.get_text().strip():
            strings.append((artist.get_text(), artist.get_fontsize()))
        elif isinstance(artist, BitmapText):
            strings.extend((item.text, item.fontsize) for item in artist.items)
        elif isinstance(artist, CellNumbers):
            strings.extend((text, artist.fontsize) for text in artist.texts)
    return strings


def reader_view(fig: Figure, width_px: int) -> list[str]:
    """What breaks the style in a figure shown ``width_px`` wide at its natural size."""
    scale = min(1.0, style.CONTENT_WIDTH_PX / width_px)  # the page never enlarges an image
    problems = []
    if scale < MIN_SCALE:
        problems.append(
            f"{width_px} px wide: shown at {scale:.2f} of its width in a "
            f"{style.CONTENT_WIDTH_PX}-px column"
        )
    strings = drawn_strings(fig)
    if not strings:
        problems.append("no text found: the walk over the figure's artists missed it")
    too_small: dict[float, list[str]] = {}
    for text, size in strings:
        if size * fig.dpi / 72 * scale < style.CODE_FONT_PX - 1e-6:
            too_small.setdefault(size, []).append(text)
    for size, texts in sorted(too_small.items()):
        problems.append(f"{len(texts)} strings at {size:g} pt show as "
                        f"{size * fig.dpi / 72 * scale:.1f} px, e.g. {texts[:3]}")
    return problems


def _images(n: int, size: int = 28) -> torch.Tensor:
    return torch.randint(0, 256, (n, size, size), dtype=torch.uint8)


def _history(epochs: int) -> History:
    history = History()
    for e in range(epochs):
        history.append(train_loss=1 / (e + 1), val_loss=1.1 / (e + 1), train_acc=0.5 + e / 20,
                       val_acc=0.45 + e / 20, seconds=1.0, images_per_s=1000.0)
    return history


def _probs(n: int) -> torch.Tensor:
    return torch.softmax(torch.randn(n, len(LABELS)) * 3, dim=1)


def _vgg_specs() -> list[LayerSpec]:
    names = ["b1 conv1", "b1 conv2", "b1 pool", "b2 conv1", "b2 conv2", "b2 pool"]
    kinds = [(3, 1, 1), (3, 1, 1), (2, 2, 0), (3, 1, 1), (3, 1, 1), (2, 2, 0)]
    return [LayerSpec(name, k, stride=s, padding=p)
            for name, (k, s, p) in zip(names, kinds, strict=True)]


def _lenet():
    return get_model("lenet").eval()


X3 = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
K2 = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
X_CHANNELS = torch.stack([X3, X3 + 1])  # (2, 3, 3), the notes' 7.4 input
K_CHANNELS = torch.stack([K2, K2 + 1])  # (2, 2, 2)
EDGES = torch.ones(6, 8)
EDGES[:, 2:6] = 0

# name -> a function drawing the figure as a section (or an explorer) draws it.
RENDERERS = {
    # 7.1
    "show_images 8 labelled": lambda: show_images(_images(8), titles=list(LABELS[:8]), ncols=8),
    "show_images 2 large": lambda: show_images(_images(2).float() / 255,
                                               titles=["original", "shifted by (3, 4)"], scale=2.2),
    "show_feature_maps 2": lambda: show_feature_maps(
        torch.randn(2, 26, 26), titles=["edges of original", "edges of shifted"], scale=2.2),
    "show_feature_maps 4": lambda: show_feature_maps(
        torch.randn(4, 26, 26), titles=list(KERNEL_PRESETS)[:4], scale=2),
    "show_matrix": lambda: show_matrix(torch.randn(4, 5), title="a matrix"),
    # 7.2 and the kernel explorer
    "show_corr2d 3x3": lambda: show_corr2d(X3, K2),
    "show_corr2d edges": lambda: show_corr2d(EDGES, torch.tensor([[1.0, -1.0]])),
    "show_corr2d image": lambda: show_corr2d(_images(1)[0], KERNEL_PRESETS["sharpen 3x3"]),
    "show_kernels": lambda: show_kernels(torch.randn(1, 1, 1, 2)),
    "preset_gallery": lambda: preset_gallery(_images(1)[0], title="input: ankle boot"),
    # 7.3 and its explorers
    "padding_stride_gallery": padding_stride_gallery,
    "padding_stride_figure": lambda: padding_stride_figure(8, 3, padding=1, stride=2),
    "padding_stride_figure dilated": lambda: padding_stride_figure(9, 3, 2, 2, dilation=2),
    "conv_step_figure": lambda: conv_step_figure(conv_step(X3, K2, 3, padding=1, stride=2)),
    "conv_step_figure 4x4": lambda: conv_step_figure(
        conv_step(torch.arange(16.0).reshape(4, 4), torch.ones(2, 2), 1, stride=2)),
    # 7.4 and its explorer
    "channel_breakdown_figure": lambda: channel_breakdown_figure(
        channel_breakdown(X_CHANNELS, K_CHANNELS[None], out_channel=0)),
    "channels_overview_figure": lambda: channels_overview_figure(
        X_CHANNELS, torch.stack([K_CHANNELS, K_CHANNELS + 1, K_CHANNELS + 2])),
    "channel_breakdown_figure decimals": lambda: channel_breakdown_figure(channel_breakdown(
        torch.randn(3, 3, 3).round(decimals=1), torch.randn(2, 3, 1, 1).round(decimals=1), 0)),
    # 7.5, 8.2 and their explorers
    "pooling_gallery": lambda: pooling_gallery(torch.arange(16.0).reshape(4, 4)),
    "pooling_figure": lambda: pooling_figure(
        pool(torch.arange(16.0).reshape(4, 4), 3, "max", padding=1, stride=2), (1, 1)),
    "pooling_figure avg": lambda: pooling_figure(
        pool(torch.arange(16.0).reshape(4, 4), 3, "avg", padding=1, stride=2), (0, 1)),
    "receptive_field_gallery": lambda: receptive_field_gallery(SMALL_STACK, input_size=12),
    "receptive_field_gallery vgg": lambda: receptive_field_gallery(_vgg_specs(), input_size=16),
    "receptive_field_figure": lambda: receptive_field_figure(
        trace_unit(SMALL_STACK, 12, 3, (1, 1))),
    # 7.6 and the feature-map explorer
    "show_images 20 classes": lambda: show_images(_images(20), titles=list(LABELS) * 2, ncols=10),
    "plot_history": lambda: plot_history(_history(4)),
    "plot_history two runs": lambda: plot_history({"LeNet": _history(4),
                                                   "modern LeNet": _history(3)}),
    "plot_confusion_matrix": lambda: plot_confusion_matrix(
        torch.randint(0, 900, (10, 10)), LABELS, title="LeNet on the validation set"),
    "show_most_confident_mistakes": lambda: show_most_confident_mistakes(
        _images(200), torch.randint(0, 10, (200,)), _probs(200), LABELS, k=8),
    "feature_map_gallery": lambda: feature_map_gallery(_lenet(), _images(4),
                                                       torch.tensor([0, 1, 2, 3])),
    "show_probe": lambda: show_probe(probe(_lenet(), _images(1)[0], 9)),
    "show_conv_kernels": lambda: show_conv_kernels(_lenet()),
    # 8.1-8.6
    "architecture alexnet": lambda: show_architecture(
        get_model("alexnet"), (1, 1, 224, 224), title="AlexNet (D2L's version) on a 224×224 image"),
    "architecture vgg11": lambda: show_architecture(
        get_model("vgg11"), (1, 1, 224, 224), title="VGG-11 on a 224×224 image"),
    "architecture nin": lambda: show_architecture(
        get_model("nin"), (1, 1, 224, 224), title="NiN on 224×224 Fashion-MNIST"),
    "architecture googlenet": lambda: show_architecture(
        get_model("googlenet"), (1, 1, 96, 96), title="GoogLeNet on 96×96 Fashion-MNIST"),
    "architecture bn_lenet": lambda: show_architecture(
        get_model("bn_lenet"), (1, 1, 28, 28), title="BN-LeNet on 28×28 Fashion-MNIST"),
    "architecture resnet18": lambda: show_architecture(
        get_model("resnet18"), (1, 1, 96, 96), title="ResNet-18 on 96×96 Fashion-MNIST"),
    "show_grad_cam": lambda: show_grad_cam(
        _images(6, 64), torch.rand(6, 64, 64), labels=torch.arange(6), probabilities=_probs(6)),
}


@pytest.mark.parametrize("name", RENDERERS)
def test_renderer_is_readable_in_the_content_column(name):
    fig = RENDERERS[name]()
    assert fig.dpi == style.DPI, f"{name}: drawn at {fig.dpi} dpi, the style says {style.DPI}"
    problems = reader_view(fig, notebook_png_width(fig))
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


def test_live_plot_is_readable_as_displayed():
    plot = LivePlot(epochs=4, show=False)
    plot.add_epoch(1, {"train_loss": 1.0, "val_loss": 1.1, "train_acc": 0.6, "val_acc": 0.55})
    # Training shows it through figure_to_png (an IPython Image), not the inline backend.
    width = _png_width(figure_to_png(plot.figure))
    problems = reader_view(plot.figure, width)
    assert not problems, "\n".join(problems)


def _clipped_markers(fig: Figure) -> list[str]:
    """Markers that reach past their axes' left or right edge, where the axes cut them."""
    figure_to_png(fig)  # lays the figure out as the notebook's picture has it
    problems = []
    for n, ax in enumerate(fig.axes):
        box = ax.get_window_extent()
        for line in ax.lines:
            if line.get_marker() in (None, "", " ", "None", "none"):
                continue
            radius = (line.get_markersize() + line.get_markeredgewidth()) / 2 * fig.dpi / 72
            for x, y in line.get_xydata():
                px = ax.transData.transform((x, y))[0]
                if px - radius < box.x0 or px + radius > box.x1:
                    problems.append(f"axes {n}, {line.get_label()} at epoch {x:g}")
    return problems


def _live_plot(epochs: int) -> LivePlot:
    plot = LivePlot(epochs=epochs, show=False)
    history = _history(epochs)
    for e in range(1, epochs + 1):
        plot.add_train_point(e - 0.5, history.train_loss[e - 1])
        plot.add_epoch(e, history.row(e))
    plot.finish()
    return plot


@pytest.mark.parametrize("epochs", [1, 4, 30])
def test_live_plot_shows_its_first_and_last_markers_whole(epochs):
    plot = _live_plot(epochs)
    assert plot.lines["val_acc"].get_xdata()[-1] == epochs  # the last marker is at the edge
    assert not _clipped_markers(plot.figure)


@pytest.mark.parametrize("epochs", [1, 4])
def test_history_plot_shows_every_marker_whole(epochs):
    assert not _clipped_markers(plot_history(_history(epochs)))


def test_animation_frames_are_readable():
    """7.3's step-through animation: every frame is a PNG shown at its natural width."""
    anim = conv_step_animation(X3, K2, padding=1, stride=2)
    html = to_page_html(anim)
    frames = re.findall(r'"data:image/png;base64,([^"]+)"', html)
    assert len(frames) == 4
    for frame in frames:
        problems = reader_view(anim._fig, _png_width(b64decode(frame)))
        assert not problems, "\n".join(problems)


def test_the_style_reaches_figures_a_chapter_draws_itself():
    """Chapters draw some figures with new_figure and plain matplotlib calls."""
    fig = new_figure(style.MAX_WIDTH, 2.5)
    ax = fig.add_subplot()
    ax.plot([0, 1], [1, 0], label="a line")
    ax.set_title("a title")
    ax.set_xlabel("x")
    ax.legend()
    assert not reader_view(fig, notebook_png_width(fig))
    assert _png_width(figure_to_png(fig)) == round(style.MAX_WIDTH * style.DPI)


def test_the_check_sees_small_text_and_wide_figures():
    """The walk above must catch what it is there for, or every test here passes vacuously."""
    fig = new_figure(style.MAX_WIDTH / 2, 2)
    fig.add_subplot().set_title("small", fontsize=style.FONT / 2)
    assert any("['small']" in p for p in reader_view(fig, notebook_png_width(fig)))
    wide = new_figure(style.MAX_WIDTH / MIN_SCALE + 1, 2)
    wide.add_subplot().set_title("readable once, shrunk now")
    problems = reader_view(wide, notebook_png_width(wide))
    assert any("shown at" in p for p in problems) and any("shrunk now'" in p for p in problems)


def test_a_row_too_wide_for_the_page_wraps_instead_of_shrinking():
    """CellCanvas shares a long row of panels out over lines, in order, at full cell size."""
    cell = 0.4
    canvas = CellCanvas([[(6, 6)] * 6], cell=cell)
    width, _ = canvas.figure.get_size_inches()
    assert 6 * 6 * cell > style.MAX_WIDTH >= width  # one line could not hold them
    lines = [panel.line for panel in canvas.panels[0]]
    assert lines == sorted(lines) and len(set(lines)) > 1
    assert len({lines.count(k) for k in set(lines)}) == 1  # shared out evenly
    assert canvas.cell == cell


def test_a_class_name_wider_than_its_panel_breaks_before_a_capital():
    from cnnlib.viz.style import text_width, wrap

    narrow = text_width("FastAvgPool2d") * 0.7
    assert wrap("2 FastAvgPool2d", narrow) == "2\nFastAvg\nPool2d"
    assert all(text_width(line) <= narrow for line in wrap("2 FastAvgPool2d", narrow).split("\n"))
    wide = text_width("2 FastAvgPool2d") + 0.1
    assert wrap("2 FastAvgPool2d", wide) == "2 FastAvgPool2d"
