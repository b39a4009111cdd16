"""Section 7.1's explorers: shift an image through both layers; count both layers' weights.

Each has one front-end (``cnnlib/web/explorers/shift.js``, ``parameter-count.js``) that
draws it in JupyterLab, where these classes compute every number with
:mod:`cnnlib.explain.equivariance` (PyTorch), and on the website, where the front-end computes
the same numbers in the reader's browser (see :mod:`cnnlib.widgets.live`). Static forms, for
readers without a kernel: :func:`cnnlib.viz.equivariance.shift_figure` and
:func:`cnnlib.viz.equivariance.count_figure`.
"""

from __future__ import annotations

import base64
import math
from typing import Any, ClassVar

import torch
import traitlets

from cnnlib.data import LABELS
from cnnlib.explain.equivariance import (
    LayerCounts,
    ShiftComparison,
    compare_shift,
    conv_as_dense,
    layer_counts,
    random_dense,
    shift_image,
)
from cnnlib.viz.common import figure_to_png
from cnnlib.viz.equivariance import count_figure, count_text, moved_difference, shift_figure
from cnnlib.viz.images import DIVERGING_CMAP, symmetric_limits
from cnnlib.viz.kernels import KERNEL_PRESETS
from cnnlib.widgets.examples import example_images
from cnnlib.widgets.live import Control, LiveExplorer

#: The dense layers the shift explorer offers: untied random weights, or the convolution's.
DENSE_KINDS = ("random", "tied")
_DENSE_NAMES = {"random": "dense layer", "tied": "dense, tied"}


def _rows(values: torch.Tensor) -> list[list[float]]:
    """A 2-D tensor as JSON rows."""
    return values.tolist()


def _difference_rows(before: torch.Tensor, after: torch.Tensor, dy: int, dx: int
                     ) -> list[list[float | None]]:
    """``after`` minus ``before`` moved by (dy, dx) as JSON rows; None where the two maps do
    not see the same pixels (JSON has no NaN)."""
    diff = moved_difference(before, after, dy, dx)
    return [[None if math.isnan(v) else float(v) for v in row] for row in diff.tolist()]


def diverging_palette() -> list[str]:
    """The 256 colours of the figures' diverging colour map (matplotlib's).

    The front-end paints the maps with them, so page and figure use the same colours.

    Returns:
        ``"#rrggbb"`` strings, from the most negative value's colour to the most positive's.
    """
    import matplotlib

    colors = matplotlib.colormaps[DIVERGING_CMAP](range(256))
    return ["#" + "".join(f"{round(c * 255):02x}" for c in rgba[:3]) for rgba in colors]


def shift_summary(c: ShiftComparison, dense_kind: str) -> str:
    """The shift explorer's status line: both layers' largest difference from a moved map.

    Args:
        c: the comparison (only ``dy``, ``dx``, ``conv_error``, ``dense_error`` and ``scale``
            are read, so the tests can pass the page's numbers).
        dense_kind: ``"random"`` or ``"tied"``.

    Returns:
        Two lines (``\\n`` between them): the convolution's, then the dense layer's.
    """
    tied = dense_kind == "tied"
    share = c.dense_error / c.scale if c.scale else 0.0
    return (
        f"shift ({c.dy:+d}, {c.dx:+d}), where both outputs see the same pixels: the "
        f"convolution's largest difference from its moved map {c.conv_error:.3g}\n"
        f"dense layer ({'tied to the convolution' if tied else 'random weights'}): "
        f"largest difference {c.dense_error:.3g}, {share:.0%} of its largest output"
    )


class ShiftExplorer(LiveExplorer):
    """Shift a test image; the convolution's map moves with it, a dense layer's output does not.

    Both layers map the 28×28 image to a 26×26 map: the convolution with a 3×3 kernel,
    the dense layer with a 676×784 matrix. "random" is a dense layer as PyTorch
    initialises it (every weight its own); "tied" is the convolution written as a dense
    matrix (:func:`~cnnlib.explain.equivariance.conv_as_dense`): the same layer type, but
    every row holds the same kernel weights, placed over its output's 3×3 window (zeros
    elsewhere), and then it shifts too.

    Drawn by its one front-end (``cnnlib/web/explorers/shift.js``): a menu for the image,
    sliders for the shift, a menu for the kernel and a choice of dense layer; three rows of
    pictures (input, convolution, dense layer), each the original, the shifted and (for the
    layers) the shifted output minus the original's moved by the same shift. On the website
    the browser convolves with ``CNNOps.conv2d``, multiplies by the dense matrix and draws
    PyTorch's random dense layer again from its seed (the same generator and initialisation,
    bit for bit).

    Attributes:
        example, dy, dx, kernel, dense_kind: the controls (the image's position in
            :attr:`images`, the shift in rows down and columns right, the kernel preset's
            name, ``"random"`` or ``"tied"``).
        images: the images ``(N, H, W)`` the menu offers.
        dense_weights: the random dense layer's matrix ``(H'·W', H·W)``.
        image_data, image_shape, image_names, kernels, seed, palette: what the page computes
            and draws from (the images as base64 float32, their shape and menu names, the 3×3
            presets, the random layer's seed, the diverging colours).
        X, X_shifted, conv, conv_shifted, dense, dense_shifted: the six maps as rows.
        conv_difference, dense_difference: each layer's shifted output minus its original
            moved by the shift (None where the two do not see the same pixels).
        conv_error, dense_error, scale: as in :class:`~cnnlib.explain.equivariance.
            ShiftComparison`.
        limits: each layer row's colour limit ``m`` (the colours run from ``-m`` to ``m``).
        summary: the status line; titles: the three rows' names.
    """

    explorer_name: ClassVar[str] = "ShiftExplorer"
    script: ClassVar[str] = "shift.js"
    MAX_SHIFT: ClassVar[int] = 8
    CONTROLS: ClassVar[tuple[Control, ...]] = (
        Control("dy", "rows (down)", -MAX_SHIFT, MAX_SHIFT),
        Control("dx", "cols (right)", -MAX_SHIFT, MAX_SHIFT),
    )
    #: The menus (image, kernel) and the choice of dense layer have no slider in CONTROLS.
    EXTRA_CONTROLS: ClassVar[tuple[str, ...]] = ("example", "kernel", "dense_kind")

    example = traitlets.Int(0).tag(sync=True)
    dy = traitlets.Int(3).tag(sync=True)
    dx = traitlets.Int(4).tag(sync=True)
    kernel = traitlets.Unicode("vertical edge 3x3").tag(sync=True)
    dense_kind = traitlets.Unicode("random").tag(sync=True)

    # What only the page computes from (page_state sends it; JupyterLab's front-end draws
    # Python's maps and never needs it, so it is not synced).
    image_data = traitlets.Unicode("")
    image_shape = traitlets.List(traitlets.Int())
    seed = traitlets.Int(0)
    # What the front-end draws with, on the page and in JupyterLab.
    image_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    kernels = traitlets.Dict().tag(sync=True)
    palette = traitlets.List(traitlets.Unicode()).tag(sync=True)

    X = traitlets.List().tag(sync=True)
    X_shifted = traitlets.List().tag(sync=True)
    conv = traitlets.List().tag(sync=True)
    conv_shifted = traitlets.List().tag(sync=True)
    dense = traitlets.List().tag(sync=True)
    dense_shifted = traitlets.List().tag(sync=True)
    conv_difference = traitlets.List().tag(sync=True)
    dense_difference = traitlets.List().tag(sync=True)
    conv_error = traitlets.Float(0.0).tag(sync=True)
    dense_error = traitlets.Float(0.0).tag(sync=True)
    scale = traitlets.Float(0.0).tag(sync=True)
    limits = traitlets.List(traitlets.Float()).tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    titles = traitlets.List(traitlets.Unicode()).tag(sync=True)

    def __init__(self, images: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                 seed: int = 0, example: int = 0, dy: int = 3, dx: int = 4,
                 kernel: str = "vertical edge 3x3", dense_kind: str = "random") -> None:
        """Start from these settings and compute the first state (a shift past a slider's
        range widens it).

        Args:
            images: ``(N, 28, 28)`` or ``(N, 1, 28, 28)`` float images in [0, 1]; default:
                the first test image of each class.
            labels: their classes (for the menu); default: the test labels.
            seed: seeds the random dense layer.
            example, dy, dx, kernel, dense_kind: the controls' start values.

        Raises:
            ValueError: for images that are not a stack ``(N, H, W)``, images without labels,
                an example past the images, an unknown kernel or dense layer, or a shift
                below the slider's minimum.
            TypeError: for a shift that is not a whole number.
        """
        if images is None:
            X, y, indices = example_images(28)
            images, labels = X[:, 0], y
        else:
            images = torch.as_tensor(images, dtype=torch.float32)
            if images.ndim == 4 and images.shape[1] == 1:
                images = images[:, 0]
            if images.ndim != 3 or images.shape[0] == 0:
                raise ValueError(f"images must be a stack (N, H, W) of at least one image, "
                                 f"got shape {tuple(images.shape)}")
            indices = list(range(images.shape[0]))
            if labels is None:
                raise ValueError("pass labels (N,) with your images (they name the menu entries)")
        if not 0 <= example < images.shape[0]:
            raise ValueError(f"example must be an image of the menu, 0 to "
                             f"{images.shape[0] - 1}; got {example}")
        if kernel not in _three_by_three():
            raise ValueError(f"unknown kernel {kernel!r}; choose one of {list(_three_by_three())}")
        if dense_kind not in DENSE_KINDS:
            raise ValueError(f"dense_kind must be 'random' or 'tied', got {dense_kind!r}")
        self.images = images.contiguous()
        side = images.shape[-2:]
        self.dense_weights = random_dense(side.numel(), (side[0] - 2) * (side[1] - 2),
                                          seed).weight
        self._names = [f"#{i} {LABELS[int(y)]}"
                       for i, y in zip(indices, torch.as_tensor(labels).tolist(), strict=True)]
        self._seed = seed
        self._comparison: ShiftComparison | None = None
        super().__init__(example=example, dy=dy, dx=dx, kernel=kernel, dense_kind=dense_kind)

    # -- data the page computes from ---------------------------------------------------------

    @traitlets.default("image_data")
    def _default_image_data(self) -> str:
        # float32, little-endian, row-major: exact, and a quarter of the size of JSON numbers.
        raw = self.images.numpy().astype("<f4").tobytes()
        return base64.b64encode(raw).decode("ascii")

    @traitlets.default("image_shape")
    def _default_image_shape(self) -> list[int]:
        return list(self.images.shape)

    @traitlets.default("image_names")
    def _default_image_names(self) -> list[str]:
        return list(self._names)

    @traitlets.default("kernels")
    def _default_kernels(self) -> dict[str, list[list[float]]]:
        return {name: K.tolist() for name, K in _three_by_three().items()}

    @traitlets.default("seed")
    def _default_seed(self) -> int:
        return self._seed

    @traitlets.default("palette")
    def _default_palette(self) -> list[str]:
        return diverging_palette()

    # -- the numbers, from cnnlib ------------------------------------------------------------

    def derived_names(self) -> tuple[str, ...]:
        return ("X", "X_shifted", "conv", "conv_shifted", "dense", "dense_shifted",
                "conv_difference", "dense_difference", "conv_error", "dense_error", "scale",
                "limits", "summary", "titles")

    def compute(self) -> dict[str, Any]:
        self._comparison = None
        count = self.images.shape[0]
        if not 0 <= self.example < count:
            raise ValueError(f"example must be an image of the menu, 0 to {count - 1}; "
                             f"got {self.example}")
        presets = _three_by_three()
        if self.kernel not in presets:
            raise ValueError(f"unknown kernel {self.kernel!r}; choose one of {list(presets)}")
        if self.dense_kind not in DENSE_KINDS:
            raise ValueError(f"dense_kind must be 'random' or 'tied', got {self.dense_kind!r}")
        X = self.images[self.example]
        K = presets[self.kernel]
        tied = self.dense_kind == "tied"
        dense = conv_as_dense(K, tuple(X.shape)) if tied else self.dense_weights
        shift_image(X, self.dy, self.dx)  # its checks and words first, as compare_shift's
        _check_overlap(X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1, self.dy,
                       self.dx)
        c = compare_shift(X, K, dense, self.dy, self.dx)
        self._comparison = c
        conv_limit = symmetric_limits(torch.stack([c.conv, c.conv_shifted]).numpy())[1]
        dense_limit = symmetric_limits(torch.stack([c.dense, c.dense_shifted]).numpy())[1]
        return {
            "X": _rows(c.X),
            "X_shifted": _rows(c.X_shifted),
            "conv": _rows(c.conv),
            "conv_shifted": _rows(c.conv_shifted),
            "dense": _rows(c.dense),
            "dense_shifted": _rows(c.dense_shifted),
            "conv_difference": _difference_rows(c.conv, c.conv_shifted, c.dy, c.dx),
            "dense_difference": _difference_rows(c.dense, c.dense_shifted, c.dy, c.dx),
            "conv_error": c.conv_error,
            "dense_error": c.dense_error,
            "scale": c.scale,
            "limits": [conv_limit, dense_limit],
            "summary": shift_summary(c, self.dense_kind),
            "titles": ["input", "convolution", _DENSE_NAMES[self.dense_kind]],
        }

    @property
    def comparison(self) -> ShiftComparison | None:
        """The :class:`~cnnlib.explain.equivariance.ShiftComparison` on screen, or None for a
        setting that does not fit."""
        return self._comparison if not self.error else None

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it."""
        return self.error or self.summary

    def picture_png(self) -> bytes | None:
        """The matplotlib drawing of the same comparison, for a page that cannot run the
        front-end (see :meth:`LiveExplorer.picture_png`)."""
        if self.comparison is None:
            return None
        return figure_to_png(shift_figure(self.comparison, _DENSE_NAMES[self.dense_kind]))

    def page_state(self) -> dict[str, Any]:
        """The controls and the data the page computes from (images, kernels, seed, colours)."""
        return super().page_state() | {
            name: getattr(self, name)
            for name in ("image_data", "image_shape", "image_names", "kernels", "seed",
                         "palette")
        }


def _check_overlap(height: int, width: int, dy: int, dx: int) -> None:
    """Refuse a shift that leaves the two maps no pixel in common.

    ``shift_image`` allows a shift up to the image's size less one, but a map is smaller
    than its image: past the map's size there is nothing left to compare (and
    ``cnnlib.explain.equivariance.overlap`` would slice from the wrong end).

    Raises:
        ValueError: naming the shift and the largest that still compares something.
    """
    for name, value, size in (("dy", dy, height), ("dx", dx, width)):
        if abs(value) >= size:
            raise ValueError(f"|{name}| = {abs(value)} moves the {height}×{width} maps past "
                             f"each other, with no pixel in common to compare; use a shift of "
                             f"at most {size - 1}")


def _three_by_three() -> dict[str, torch.Tensor]:
    """The kernel presets the shift explorer offers: the 3×3 ones (a 26×26 map)."""
    return {name: K for name, K in KERNEL_PRESETS.items() if K.shape == (3, 3)}


#: The settings the parameter counter's sliders offer.
SIDES = (8, 28, 96, 224, 1000)
KERNELS = (1, 3, 5, 7, 11)
IN_CHANNELS = (1, 3, 16, 64)
OUT_CHANNELS = (1, 16, 64, 256)
#: Each slider: its index traitlet, what it sets, the values it offers.
_CHOICES = (("side_index", "image side", SIDES), ("kernel_index", "kernel", KERNELS),
            ("c_in_index", "in channels", IN_CHANNELS),
            ("c_out_index", "out channels", OUT_CHANNELS))


def count_summary(n: LayerCounts) -> str:
    """The parameter counter's status line: both counts, their formulas and the ratio.

    Args:
        n: the counts (:func:`~cnnlib.explain.equivariance.layer_counts`).

    Returns:
        The line, numbers written with thousands separators.
    """
    values = n.side * n.side
    return (
        f"dense: ({n.c_in}·{values:,}) inputs × ({n.c_out}·{values:,}) outputs + "
        f"{n.c_out * values:,} biases = {n.dense:,}; convolution: {n.c_out}·{n.c_in}·"
        f"{n.kernel}² + {n.c_out} = {n.conv:,}. The dense layer has {n.ratio:,.0f}× as "
        f"many, {n.dense * 4 / 1e9:,.3g} GB in float32"
    )


class ParameterCountExplorer(LiveExplorer):
    """Image size, kernel size and channels in; both layers' parameter counts out.

    Drawn by its one front-end (``cnnlib/web/explorers/parameter-count.js``): four sliders,
    each over the values it offers (:data:`SIDES`, :data:`KERNELS`, :data:`IN_CHANNELS`,
    :data:`OUT_CHANNELS`), and both counts as bars on a log scale. Python counts with PyTorch's
    own layers (:func:`~cnnlib.explain.equivariance.layer_counts`); the page counts with the
    same formulas in whole numbers.

    A slider's position is its traitlet (``side_index``: 0 for 8 pixels, 3 for 224), as an
    ipywidgets ``SelectionSlider`` has an ``index``; the values are :attr:`side`,
    :attr:`kernel`, :attr:`c_in` and :attr:`c_out`, which may be set too.

    Attributes:
        side_index, kernel_index, c_in_index, c_out_index: the sliders' positions.
        choices: each slider's values (index traitlet -> values).
        counts: the :class:`~cnnlib.explain.equivariance.LayerCounts` on screen (None for a
            kernel larger than the image).
        dense_count, conv_count: both layers' parameters; labels: both as the bars write them
            (convolution first); title: the picture's title; summary: the status line.
    """

    explorer_name: ClassVar[str] = "ParameterCountExplorer"
    script: ClassVar[str] = "parameter-count.js"
    CONTROLS: ClassVar[tuple[Control, ...]] = tuple(
        Control(name, label, 0, len(values) - 1) for name, label, values in _CHOICES)

    side_index = traitlets.Int(SIDES.index(28)).tag(sync=True)
    kernel_index = traitlets.Int(KERNELS.index(3)).tag(sync=True)
    c_in_index = traitlets.Int(IN_CHANNELS.index(1)).tag(sync=True)
    c_out_index = traitlets.Int(OUT_CHANNELS.index(16)).tag(sync=True)
    choices = traitlets.Dict().tag(sync=True)

    dense_count = traitlets.Int(0).tag(sync=True)
    conv_count = traitlets.Int(0).tag(sync=True)
    labels = traitlets.List(traitlets.Unicode()).tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)

    def __init__(self, side: int = 28, kernel: int = 3, c_in: int = 1, c_out: int = 16) -> None:
        """Start from these values and count.

        Raises:
            ValueError: for a value its slider does not offer.
        """
        start = {}
        for (name, label, values), value in zip(_CHOICES, (side, kernel, c_in, c_out),
                                                strict=True):
            start[name] = _position(label, values, value)
        self._counts: LayerCounts | None = None
        super().__init__(**start)

    @traitlets.default("choices")
    def _default_choices(self) -> dict[str, list[int]]:
        return {name: list(values) for name, _, values in _CHOICES}

    def derived_names(self) -> tuple[str, ...]:
        return ("dense_count", "conv_count", "labels", "title", "summary")

    def compute(self) -> dict[str, Any]:
        self._counts = None
        chosen = []
        for name, label, values in _CHOICES:
            index = getattr(self, name)
            if not 0 <= index < len(values):
                raise ValueError(f"{name} must be 0 to {len(values) - 1}, a position of the "
                                 f"{label} slider {values}; got {index}")
            chosen.append(values[index])
        n = layer_counts(*chosen)  # PyTorch's layers; refuses a kernel larger than the image
        self._counts = n
        return {
            "dense_count": n.dense,
            "conv_count": n.conv,
            "labels": [count_text(n.conv), count_text(n.dense)],
            "title": f"{n.c_in}×{n.side}×{n.side} image → {n.c_out}×{n.side}×{n.side} "
                     "hidden values",
            "summary": count_summary(n),
        }

    @property
    def counts(self) -> LayerCounts | None:
        """The counts on screen, or None when the kernel does not fit the image."""
        return self._counts if not self.error else None

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it."""
        return self.error or self.summary

    def picture_png(self) -> bytes | None:
        """The matplotlib drawing of the same counts, for a page that cannot run the front-end
        (see :meth:`LiveExplorer.picture_png`)."""
        if self.counts is None:
            return None
        return figure_to_png(count_figure(self.counts))

    def page_state(self) -> dict[str, Any]:
        """The sliders' positions and the values they offer."""
        return super().page_state() | {"choices": self.choices}

    # The values behind the sliders, readable and settable by value.
    side = property(lambda self: SIDES[self.side_index],
                    lambda self, v: setattr(self, "side_index",
                                            _position("image side", SIDES, v)),
                    doc="The image side in pixels (one of :data:`SIDES`).")
    kernel = property(lambda self: KERNELS[self.kernel_index],
                      lambda self, v: setattr(self, "kernel_index",
                                              _position("kernel", KERNELS, v)),
                      doc="The kernel size (one of :data:`KERNELS`).")
    c_in = property(lambda self: IN_CHANNELS[self.c_in_index],
                    lambda self, v: setattr(self, "c_in_index",
                                            _position("in channels", IN_CHANNELS, v)),
                    doc="The input channels (one of :data:`IN_CHANNELS`).")
    c_out = property(lambda self: OUT_CHANNELS[self.c_out_index],
                     lambda self, v: setattr(self, "c_out_index",
                                             _position("out channels", OUT_CHANNELS, v)),
                     doc="The output channels (one of :data:`OUT_CHANNELS`).")


def _position(label: str, values: tuple[int, ...], value: int) -> int:
    """Where ``value`` sits on the slider offering ``values``.

    Raises:
        ValueError: for a value the slider does not offer.
    """
    if isinstance(value, bool) or value not in values:
        raise ValueError(f"{label} must be one of {values}, got {value!r}")
    return values.index(value)
