"""Section 7.1's explorers: shift an image through both layers; count both layers' weights.

Static forms, for readers without a kernel: :func:`cnnlib.viz.equivariance.shift_figure`
and :func:`cnnlib.viz.equivariance.count_figure`.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from cnnlib.explain.equivariance import (
    ShiftComparison,
    compare_shift,
    conv_as_dense,
    layer_counts,
    random_dense,
)
from cnnlib.viz.equivariance import count_figure, shift_figure
from cnnlib.viz.kernels import KERNEL_PRESETS
from cnnlib.widgets import page
from cnnlib.widgets.examples import example_images, example_menu
from cnnlib.widgets.guarded import GuardedExplorer

#: The dense layers the shift explorer offers: untied random weights, or the convolution's.
DENSE_KINDS = ("random", "tied")
_DENSE_NAMES = {"random": "dense layer", "tied": "dense, tied"}


class ShiftExplorer(GuardedExplorer):
    """Shift a test image; the convolution's map moves with it, a dense layer's output does not.

    Both layers map the 28×28 image to a 26×26 map: the convolution with a 3×3 kernel,
    the dense layer with a 676×784 matrix. "random" is a dense layer as PyTorch
    initialises it (every weight its own); "tied" is the convolution written as a dense
    matrix (:func:`~cnnlib.explain.equivariance.conv_as_dense`): the same layer type, but
    every row holds the same kernel weights, placed over its output's 3×3 window (zeros
    elsewhere), and then it shifts too.

    Attributes:
        example: dropdown over the example test images (one of each class).
        dy, dx: the shift in rows (down) and columns (right).
        kernel: the 3×3 kernel preset.
        dense_kind: ``"random"`` or ``"tied"``.
        comparison: the :class:`~cnnlib.explain.equivariance.ShiftComparison` on screen.
        dense_weights: the random dense layer's matrix ``(676, 784)``.
    """

    MAX_SHIFT = 8

    def __init__(self, images: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                 seed: int = 0, dpi: int | None = None) -> None:
        """Build the controls and draw the first image unshifted.

        Args:
            images: ``(N, 28, 28)`` or ``(N, 1, 28, 28)`` float images in [0, 1]; default:
                the first test image of each class.
            labels: their classes (for the menu); default: the test labels.
            seed: seeds the random dense layer.
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
        self.images = images
        side = images.shape[-2:]
        self.dense_weights = random_dense(side.numel(), (side[0] - 2) * (side[1] - 2),
                                          seed).weight
        self.example = example_menu(labels, indices)
        self.dy = widgets.IntSlider(3, min=-self.MAX_SHIFT, max=self.MAX_SHIFT,
                                    description="rows (down)")
        self.dx = widgets.IntSlider(4, min=-self.MAX_SHIFT, max=self.MAX_SHIFT,
                                    description="cols (right)")
        three = [name for name, K in KERNEL_PRESETS.items() if K.shape == (3, 3)]
        self.kernel = widgets.Dropdown(options=three, value="vertical edge 3x3",
                                       description="kernel")
        self.dense_kind = widgets.ToggleButtons(
            options=[("random weights", "random"), ("tied: the conv's", "tied")],
            value="random", description="dense")
        self.comparison: ShiftComparison | None = None
        super().__init__([self.example, self.dy, self.dx, self.kernel, self.dense_kind], dpi=dpi)

    def page_controls(self) -> list:
        # One image (the live explorer offers ten): 5 x 5 shifts x 2 dense layers = 50 pictures.
        shifts = (-6, -3, 0, 3, 6)
        return [page.slider(self, "dy", shifts), page.slider(self, "dx", shifts),
                page.menu(self, "dense_kind")]

    def update(self) -> None:
        X = self.images[self.example.value]
        K = KERNEL_PRESETS[self.kernel.value]
        if self.dense_kind.value == "tied":
            dense = conv_as_dense(K, tuple(X.shape))
        else:
            dense = self.dense_weights
        self.comparison = compare_shift(X, K, dense, self.dy.value, self.dx.value)

    def draw(self) -> Figure:
        return shift_figure(self.comparison, _DENSE_NAMES[self.dense_kind.value])

    def describe(self) -> str:
        c = self.comparison
        tied = self.dense_kind.value == "tied"
        dense_line = (
            f"dense layer ({'tied to the convolution' if tied else 'random weights'}): "
            f"largest difference {c.dense_error:.3g}, "
            f"{c.dense_error / c.scale if c.scale else 0.0:.0%} of its largest output"
        )
        return html.escape(
            f"shift ({c.dy:+d}, {c.dx:+d}), where both outputs see the same pixels: the "
            f"convolution's largest difference from its moved map {c.conv_error:.3g}"
        ) + "<br>" + html.escape(dense_line)


#: The settings the parameter counter's sliders offer.
SIDES = (8, 28, 96, 224, 1000)
KERNELS = (1, 3, 5, 7, 11)
IN_CHANNELS = (1, 3, 16, 64)
OUT_CHANNELS = (1, 16, 64, 256)


class ParameterCountExplorer(GuardedExplorer):
    """Image size, kernel size and channels in; both layers' parameter counts out.

    Attributes:
        side, kernel, c_in, c_out: selection sliders over :data:`SIDES` and friends.
        counts: the :class:`~cnnlib.explain.equivariance.LayerCounts` on screen.
    """

    def __init__(self, side: int = 28, kernel: int = 3, c_in: int = 1, c_out: int = 16,
                 dpi: int | None = None) -> None:
        def choose(name: str, values: tuple[int, ...], value: int) -> widgets.SelectionSlider:
            if value not in values:
                raise ValueError(f"{name} must be one of {values}, got {value!r}")
            return widgets.SelectionSlider(options=list(values), value=value, description=name)

        self.side = choose("image side", SIDES, side)
        self.kernel = choose("kernel", KERNELS, kernel)
        self.c_in = choose("in channels", IN_CHANNELS, c_in)
        self.c_out = choose("out channels", OUT_CHANNELS, c_out)
        self.counts = None
        super().__init__([self.side, self.kernel, self.c_in, self.c_out], dpi=dpi)

    def page_controls(self) -> list:
        return [page.menu(self, "side"), page.menu(self, "kernel", (1, 3, 11)),
                page.menu(self, "c_in", (1, 3)), page.menu(self, "c_out", (1, 64))]

    def update(self) -> None:
        self.counts = layer_counts(self.side.value, self.kernel.value, self.c_in.value,
                                   self.c_out.value)

    def draw(self) -> Figure:
        return count_figure(self.counts)

    def describe(self) -> str:
        n = self.counts
        values = n.side * n.side
        return html.escape(
            f"dense: ({n.c_in}·{values:,}) inputs × ({n.c_out}·{values:,}) outputs + "
            f"{n.c_out * values:,} biases = {n.dense:,}; convolution: {n.c_out}·{n.c_in}·"
            f"{n.kernel}² + {n.c_out} = {n.conv:,}. The dense layer has {n.ratio:,.0f}× as "
            f"many, {n.dense * 4 / 1e9:,.3g} GB in float32"
        )
