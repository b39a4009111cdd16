"""Pictures of what a classifier computes for one image: feature maps, kernels, probabilities.

:class:`ProbeFigure` (and :func:`show_probe`) draws a :class:`~cnnlib.explain.activations.Probe`:
the input, the class probabilities as bars, and one row per layer, with
convolution and pooling outputs as mosaics of their maps and flat (dense)
outputs as bar strips. :func:`show_conv_kernels` draws every convolution's
learned kernels, and :func:`feature_map_gallery` is the feature-map explorer's
static form: a few chosen images, one row each, with their feature maps and
probabilities.

Speed, because the explorer redraws on every slider step: each layer is ONE
image (its maps tiled into a mosaic with blank gaps) rather than one axes per
map; axes are placed by hand, with no layout engine; a new image only changes
the data of existing artists; and the text is drawn by
:class:`~cnnlib.viz.bitmap_text.BitmapText` from cached bitmaps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn

from cnnlib.data import LABELS
from cnnlib.explain.activations import Activation, Probe, probe, sequential_net, stage_indices
from cnnlib.viz import style
from cnnlib.viz.bitmap_text import BitmapText
from cnnlib.viz.common import NotebookFigure
from cnnlib.viz.images import DIVERGING_CMAP, hide_axes, symmetric_limits

#: Maps per mosaic row in the explorer's one-row-per-layer picture.
MAX_MAP_COLUMNS = 8
_CORRECT_COLOR = "tab:blue"
_WRONG_COLOR = "tab:red"
_OTHER_COLOR = "0.75"
#: Inches per line of text at the style's font.
_LINE = style.FONT / 72
#: Class names beside probability bars: one line each, a little apart.
_NAME_PITCH = 1.1 * _LINE


def tile(maps: np.ndarray, ncols: int, pad: int = 1) -> np.ndarray:
    """Arrange ``N`` maps ``(N, H, W)`` in a grid, row-major, as one 2-D array.

    The gaps and unused cells hold NaN, which ``imshow`` leaves blank.

    Returns:
        ``(rows * (H + pad) - pad, ncols * (W + pad) - pad)`` with ``rows = ceil(N / ncols)``.
    """
    if maps.ndim != 3 or maps.shape[0] == 0 or ncols < 1:
        raise ValueError(f"tile takes (N, H, W) with N >= 1 and ncols >= 1; got "
                         f"{tuple(maps.shape)}, ncols={ncols}")
    n, h, w = maps.shape
    ncols = min(ncols, n)
    rows = math.ceil(n / ncols)
    mosaic = np.full((rows * (h + pad) - pad, ncols * (w + pad) - pad), np.nan)
    for k in range(n):
        r, c = divmod(k, ncols)
        mosaic[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = maps[k]
    return mosaic


def kernel_mosaic(weight: torch.Tensor) -> np.ndarray:
    """A convolution weight ``(C_out, C_in, kh, kw)`` as one grid of its 2-D kernels.

    Row ``i`` holds what input channel ``i`` contributes; column ``o`` is
    output channel ``o`` (so a column is one output map's whole kernel stack).

    Returns:
        ``(C_in * (kh + 1) - 1, C_out * (kw + 1) - 1)``, NaN in the gaps.
    """
    if weight.ndim != 4:
        raise ValueError(f"a conv weight is (C_out, C_in, kh, kw); got {tuple(weight.shape)}")
    c_out, c_in, kh, kw = weight.shape
    by_input = weight.detach().cpu().double().transpose(0, 1)  # (C_in, C_out, kh, kw)
    return tile(by_input.reshape(c_in * c_out, kh, kw).numpy(), ncols=c_out)


def _map_style(values: np.ndarray) -> tuple[str, float, float]:
    """Colormap and limits shared by all maps of one layer.

    Signed values (a convolution before its activation) get the diverging
    colormap centred on 0, as in ``show_feature_maps``. Non-negative values
    (after a sigmoid or ReLU) get viridis over the layer's own min..max rather
    than 0..max: sigmoid outputs of a LeNet sit in a narrow band around 0.5,
    and a scale starting at 0 would paint every map the same green.
    """
    finite = values[np.isfinite(values)]
    if not finite.size:
        return "viridis", 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    if low < 0:
        return (DIVERGING_CMAP, *symmetric_limits(finite))
    return "viridis", low, max(high, low + 1e-12)


def _draw_mosaic(ax: Axes, mosaic: np.ndarray, cmap: str | None = None) -> None:
    style = _map_style(mosaic)
    ax.imshow(mosaic, cmap=cmap or style[0], vmin=style[1], vmax=style[2],
              interpolation="nearest", aspect="equal")
    hide_axes(ax)


def _mosaic_columns(channels: int, square: bool) -> int:
    if square:
        return math.ceil(math.sqrt(channels))
    return min(channels, MAX_MAP_COLUMNS)


def _names(class_names: Sequence[str], k: int) -> list[str]:
    """``class_names`` when it has one name per class, else ``"0"``, ``"1"``, ..."""
    return list(class_names) if len(class_names) == k else [str(c) for c in range(k)]


def _bar_colors(probe_: Probe) -> list[str]:
    colors = [_OTHER_COLOR] * probe_.probs.numel()
    colors[probe_.predicted] = _WRONG_COLOR if probe_.correct is False else _CORRECT_COLOR
    return colors


def probe_title(probe_: Probe, class_names: Sequence[str] = LABELS) -> str:
    """``"predicted coat (0.62), true shirt: wrong"`` for one probe."""
    names = _names(class_names, probe_.probs.numel())
    p = probe_.predicted
    text = f"predicted {names[p]} ({float(probe_.probs[p]):.2f})"
    if probe_.label is None:
        return text
    verdict = "right" if probe_.correct else "wrong"
    return f"{text}, true {names[probe_.label]}: {verdict}"


def _update_strip(ax: Axes, patch, values: np.ndarray) -> None:
    """Set a bar strip (a ``StepPatch``) to ``values`` ``(F,)`` and rescale its axes."""
    patch.set_data(values, np.arange(values.size + 1), baseline=0.0)
    patch.set_facecolor("tab:purple" if float(values.min()) < 0 else "tab:green")
    low = min(float(values.min()), 0.0)
    high = max(float(values.max()), 0.0)
    span = (high - low) or 1.0
    ax.set_xlim(0, values.size)
    ax.set_ylim(low - 0.05 * span, high + 0.05 * span)


class ProbeFigure:
    """The input, its class probabilities, then one row per layer's output.

    Spatial outputs ``(C, H, W)`` are drawn as a mosaic of their ``C`` maps on
    one colour scale per layer (see :func:`_map_style`); flat outputs ``(F,)``
    as bar strips (green when non-negative, purple when signed). The predicted
    class's bar is blue when right and red when wrong; the true class is named
    in black with "(true)".

    The layout depends only on the layers' output shapes, so an explorer
    builds this once and calls :meth:`update` for each new image: changing
    the data of existing artists is far cheaper than creating axes again.

    Attributes:
        figure: the drawing; its axes are labelled ``"input"``,
            ``"probabilities"`` and ``"layer <i>"`` for each drawn layer
            (labels are for tests; they are not drawn).
        layers: the positions in ``model.net`` that are drawn.
        probe: the probe shown now.
        text: the strings that change with the image (title, class names).
    """

    def __init__(
        self,
        probe_: Probe,
        layers: Sequence[int] | None = None,
        class_names: Sequence[str] = LABELS,
        width: float = style.MAX_WIDTH,
        title: str | None = None,
    ) -> None:
        """Lay out and draw ``probe_`` (see :func:`show_probe` for the arguments)."""
        by_index = {a.index: a for a in probe_.activations}
        self.layers = list(by_index) if layers is None else list(layers)
        missing = [i for i in self.layers if i not in by_index]
        if missing:
            raise ValueError(
                f"layers {missing} are not in the probe (it has 0..{len(by_index) - 1})"
            )
        self.class_names = class_names
        self._fixed_title = title
        self._shapes = {i: tuple(by_index[i].value.shape) for i in self.layers}
        # Sizes in inches; rows are laid out from the top. The header holds the input
        # and one probability bar per class, each class name a line of text.
        k = probe_.probs.numel()
        margin, label_width, gap = 0.08, 1.25, 0.06
        maps_width = width - 2 * margin - label_width
        side, bars_height = 1.25, k * _NAME_PITCH
        header = max(side + 0.35, bars_height + 0.55)
        strip_height, max_row = 0.4, 1.25
        sizes = []  # (height, width) per drawn layer
        for i in self.layers:
            if len(self._shapes[i]) == 3:
                h_px, w_px = self._mosaic(by_index[i]).shape
                w_in = min(maps_width, max_row * w_px / h_px)
                sizes.append((w_in * h_px / w_px, w_in))
            else:
                sizes.append((strip_height, maps_width))
        self._height = height = 2 * margin + header + sum(h + gap for h, _ in sizes)
        self._width = width
        # Not cnnlib.viz.common.new_figure: with any layout engine set, even the
        # placeholder that set_layout_engine("none") leaves, savefig draws twice.
        self.figure = fig = NotebookFigure(figsize=(width, height), layout="none")

        def place(x: float, top: float, w: float, h: float, label: str) -> Axes:
            return fig.add_axes(
                (x / width, 1 - (top + h) / height, w / width, h / height), label=label
            )

        fixed_text = BitmapText()
        self.text = BitmapText()
        for artist in (fixed_text, self.text):
            artist.set_transform(fig.dpi_scale_trans)  # coordinates in inches, from bottom-left
            fig.add_artist(artist)
        ax = place(margin + 0.2, margin + 0.25, side, side, "input")
        self._input = ax.imshow(probe_.image.numpy(), cmap="gray", vmin=0, vmax=1,
                                interpolation="nearest")
        hide_axes(ax)
        self._title_at = (margin + 0.05, height - margin)
        # Probability bars: class names are written left of the bars (right-aligned),
        # in room for the widest name marked "(true)".
        names_width = max(style.text_width(f"{name} (true)")
                          for name in _names(class_names, k)) + 0.1
        bars_left, bars_top = margin + 0.3 + side + names_width, margin + 0.3
        bars_width = width - bars_left - margin - 0.1
        self._probs_ax = ax = place(bars_left, bars_top, bars_width, bars_height,
                                    "probabilities")
        self._bars = list(ax.barh(np.arange(k), np.zeros(k), height=0.8, color=_OTHER_COLOR))
        ax.set_xlim(0, 1)
        ax.set_ylim(k - 0.5, -0.5)
        hide_axes(ax)
        ax.vlines([0, 0.5, 1], -0.5, k - 0.5, colors=["0.3", "0.85", "0.85"], linewidth=0.8,
                  zorder=0)
        for p in (0, 0.5, 1):
            fixed_text.add(bars_left + p * bars_width, height - bars_top - bars_height - 0.03,
                           f"{p:g}", fontsize=style.FONT, ha="center", va="top")
        self._name_at = [(bars_left - 0.06, height - bars_top - (c + 0.5) * bars_height / k)
                         for c in range(k)]
        top = margin + header
        self._artists: dict[int, object] = {}  # layer -> AxesImage or StepPatch
        self._axes: dict[int, Axes] = {}
        for i, (h, w) in zip(self.layers, sizes, strict=True):
            a = by_index[i]
            fixed_text.add(margin, height - top - h / 2, a.label.replace(" · ", "\n"),
                           fontsize=style.FONT, ha="left", va="center")
            ax = self._axes[i] = place(margin + label_width, top, w, h, f"layer {i}")
            hide_axes(ax)
            if len(self._shapes[i]) == 3:
                # Created with the real mosaic: the image's extent is fixed here.
                self._artists[i] = ax.imshow(self._mosaic(a), interpolation="nearest")
            else:
                self._artists[i] = ax.stairs(np.zeros(self._shapes[i][0]), fill=True)
                ax.axhline(0.0, color="0.5", linewidth=0.5)
            top += h + gap
        self.probe = probe_
        self.update(probe_)

    @staticmethod
    def _mosaic(activation: Activation) -> np.ndarray:
        values = activation.value.double().numpy()  # (C, H, W)
        return tile(values, _mosaic_columns(values.shape[0], square=False))

    def update(self, probe_: Probe) -> Figure:
        """Show another probe of the same model (same output shapes); returns the figure.

        Raises:
            ValueError: when a drawn layer's output shape differs from the first probe's.
        """
        by_index = {a.index: a for a in probe_.activations}
        for i in self.layers:
            got = tuple(by_index[i].value.shape) if i in by_index else None
            if got != self._shapes[i]:
                raise ValueError(
                    f"layer {i} output is {got} but this figure was laid out for "
                    f"{self._shapes[i]}; build a new ProbeFigure for another model"
                )
        self.probe = probe_
        self._input.set_data(probe_.image.numpy())
        for bar, p, color in zip(self._bars, probe_.probs.tolist(), _bar_colors(probe_),
                                 strict=True):
            bar.set_width(p)
            bar.set_facecolor(color)
        self.text.items.clear()
        self.text.add(*self._title_at, self._fixed_title or probe_title(probe_, self.class_names),
                      fontsize=style.TITLE_FONT, ha="left", va="top",
                      color=_WRONG_COLOR if probe_.correct is False else "black")
        for c, (name, (x, y)) in enumerate(zip(_names(self.class_names, len(self._bars)),
                                               self._name_at, strict=True)):
            true = c == probe_.label
            self.text.add(x, y, f"{name} (true)" if true else name, fontsize=style.FONT, ha="right",
                          color="black" if true else "0.35")
        for i in self.layers:
            a, artist = by_index[i], self._artists[i]
            if len(self._shapes[i]) == 3:
                mosaic = self._mosaic(a)
                cmap, vmin, vmax = _map_style(mosaic)
                artist.set_data(mosaic)
                artist.set_cmap(cmap)
                artist.set_clim(vmin, vmax)
            else:
                _update_strip(self._axes[i], artist, a.value.double().numpy())
        return self.figure


def show_probe(
    probe_: Probe,
    layers: Sequence[int] | None = None,
    class_names: Sequence[str] = LABELS,
    width: float = style.MAX_WIDTH,
    title: str | None = None,
) -> Figure:
    """Draw one probe: input, class probabilities, one row per layer (see :class:`ProbeFigure`).

    Args:
        probe_: what :func:`cnnlib.explain.activations.probe` returned.
        layers: positions in ``model.net`` to draw; default every layer
            (:func:`cnnlib.explain.activations.stage_indices` gives a shorter list).
        class_names: one name per class, for the probability bars.
        width: figure width in inches.
        title: text over the input (default: :func:`probe_title`).
    """
    return ProbeFigure(probe_, layers, class_names, width, title).figure


def show_conv_kernels(model: nn.Module, width: float = style.MAX_WIDTH) -> Figure:
    """Every learned kernel of every ``Conv2d`` in ``model.net``, one mosaic per layer.

    In each mosaic, column ``o`` is output channel ``o`` and row ``i`` input
    channel ``i`` (see :func:`kernel_mosaic`); one diverging colour scale per
    layer, centred on 0 (red positive, blue negative).

    Returns:
        A figure with one axes per conv layer, labelled ``"kernels <i>"``.

    Raises:
        ValueError: when ``model.net`` holds no ``Conv2d``.
    """
    convs = [(i, layer) for i, layer in enumerate(sequential_net(model))
             if isinstance(layer, nn.Conv2d)]
    if not convs:
        raise ValueError(f"{type(model).__name__}.net has no Conv2d layer to show kernels of")
    margin, gap = 0.1, 0.15
    usable = width - 2 * margin
    panels = []
    for i, conv in convs:
        mosaic = kernel_mosaic(conv.weight)
        h_px, w_px = mosaic.shape
        pixel = min(0.09, usable / w_px)  # inches per kernel entry
        c_out, c_in, kh, kw = conv.weight.shape
        title = style.wrap(
            f"layer {i} Conv2d: {c_out} output channels (columns) × {c_in} input "
            f"channel{'s' if c_in > 1 else ''} (rows), {kh}×{kw} each", usable)
        title_room = (title.count("\n") + 1) * 1.25 * _LINE + 0.08
        panels.append((i, title, title_room, mosaic, w_px * pixel, h_px * pixel))
    fig_height = 2 * margin + sum(room + h + gap for _, _, room, _, _, h in panels)
    fig = NotebookFigure(figsize=(width, fig_height), layout="none")
    top = margin
    for i, title, title_room, mosaic, w, h in panels:
        top += title_room
        ax = fig.add_axes((margin / width, 1 - (top + h) / fig_height, w / width,
                           h / fig_height), label=f"kernels {i}")
        vmin, vmax = symmetric_limits(mosaic[np.isfinite(mosaic)])
        ax.imshow(mosaic, cmap=DIVERGING_CMAP, vmin=vmin, vmax=vmax, interpolation="nearest")
        hide_axes(ax)
        ax.set_title(title, fontsize=style.FONT, loc="left")
        top += h + gap
    return fig


def feature_map_gallery(
    model: nn.Module,
    images: torch.Tensor,
    labels: Sequence[int] | torch.Tensor | None = None,
    class_names: Sequence[str] = LABELS,
    scale: float = 1.25,
) -> Figure:
    """The feature-map explorer's static form: one row per image.

    Each row shows the input, the output of every spatial stage (see
    :func:`stage_indices`; for LeNet: sigmoid after conv 1, pooling, sigmoid
    after conv 2, pooling) as a square mosaic of its maps, and the class
    probabilities, with the predicted class coloured (blue right, red wrong).

    Args:
        model: a classifier with ``model.net`` an ``nn.Sequential``.
        images: ``(N, H, W)``, e.g. a few Fashion-MNIST test images (uint8 or float).
        labels: the true classes (``N``), or None.
        class_names: one name per class.
        scale: inches per panel, at most what the style's ``MAX_WIDTH`` leaves.

    Returns:
        A figure whose axes are labelled ``"input <r>"``, ``"stage <r> <i>"``
        and ``"probabilities <r>"`` for row ``r`` and layer ``i``.
    """
    if images.ndim != 3 or images.shape[0] == 0:
        raise ValueError(f"images must be a non-empty stack (N, H, W); got {tuple(images.shape)}")
    n = images.shape[0]
    if labels is not None and len(labels) != n:
        raise ValueError(f"got {len(labels)} labels for {n} images; pass one per image or None")
    probes = [probe(model, images[r], None if labels is None else int(labels[r]))
              for r in range(n)]
    stages = [i for i in stage_indices(model) if probes[0].activations[i].value.ndim == 3]
    names = _names(class_names, probes[0].probs.numel())
    # Sizes in inches. The probabilities take the right: class names, one line each,
    # then bars; the input and the stages share what is left of the widest figure.
    width, gap, bars_width = style.MAX_WIDTH, 0.08, 1.0
    names_width = max(style.text_width(name) for name in names) + 0.12
    scale = min(scale, (width - names_width - bars_width - 0.1) / (1 + len(stages)) - gap)
    # Stage titles once, above the first row; each row then has one line of its own:
    # the true class over the input and the prediction over the bars.
    stage_titles = [style.wrap(probes[0].activations[i].label.replace(" · ", "\n"), scale + gap)
                    for i in stages]
    heading = 1.25 * _LINE + 0.08
    stage_band = max((t.count("\n") + 1 for t in stage_titles), default=0) * 1.25 * _LINE
    bars_height = len(names) * _NAME_PITCH
    content = max(scale, bars_height + 1.6 * _LINE)  # the bars and their 0 / 0.5 / 1
    row_height = heading + content + 0.15
    fig_height = stage_band + row_height * n
    fig = NotebookFigure(figsize=(width, fig_height), layout="none")

    def place(x: float, row: int, w: float, h: float, label: str) -> Axes:
        top = stage_band + row * row_height + heading
        return fig.add_axes((x / width, 1 - (top + h) / fig_height, w / width, h / fig_height),
                            label=label)

    for r, p in enumerate(probes):
        x = 0.02
        ax = place(x, r, scale, scale, f"input {r}")
        ax.imshow(p.image.numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        hide_axes(ax)
        truth = "" if p.label is None else f"true: {names[p.label]}"
        ax.set_title(truth, fontsize=style.FONT, loc="left")
        for i, stage_title in zip(stages, stage_titles, strict=True):
            x += scale + gap
            values = p.activations[i].value.double().numpy()
            ax = place(x, r, scale, scale, f"stage {r} {i}")
            _draw_mosaic(ax, tile(values, _mosaic_columns(values.shape[0], square=True)))
            if r == 0:  # above the row's own line
                ax.set_title(stage_title, fontsize=style.FONT, pad=heading * 72 + 2)
        ax = place(width - bars_width - 0.1, r, bars_width, bars_height, f"probabilities {r}")
        _gallery_probs(ax, p, names, _verdict(p, names))
    return fig


def _verdict(probe_: Probe, names: list[str]) -> str:
    """``predicted coat (0.62): wrong``, the title over a row's probabilities."""
    p = probe_.predicted
    verdict = {None: "", True: ": right", False: ": wrong"}[probe_.correct]
    return f"predicted {names[p]} ({float(probe_.probs[p]):.2f}){verdict}"


def _gallery_probs(ax: Axes, probe_: Probe, names: list[str], title: str) -> None:
    """Probability bars with class names as tick labels (the true one in bold)."""
    k = len(names)
    ax.barh(np.arange(k), probe_.probs.numpy(), color=_bar_colors(probe_), height=0.8)
    ax.set_xlim(0, 1)
    ax.set_ylim(k - 0.5, -0.5)
    ax.set_yticks(np.arange(k), names, fontsize=style.FONT)
    ax.set_xticks([0, 0.5, 1], ["0", "0.5", "1"], fontsize=style.FONT)
    ax.tick_params(length=2, pad=1)
    ax.spines[["top", "right"]].set_visible(False)
    if probe_.label is not None:
        ax.get_yticklabels()[probe_.label].set_fontweight("bold")
    # Right-aligned: the title reaches left over the class names and the maps.
    ax.set_title(title, fontsize=style.FONT, loc="right",
                 color=_WRONG_COLOR if probe_.correct is False else "black")
