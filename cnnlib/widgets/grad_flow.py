"""The gradient-flow explorer: how big the gradient is at every block, with and without shortcuts.

A plain deep CNN and its residual twin (same weights, the shortcut is the only
difference; see :mod:`cnnlib.explain.grad_flow`) are built at initialisation, and one
fixed batch of Fashion-MNIST images gives, for every block, the norm of the loss's
gradient with respect to its weights and its output. Controls choose the depth,
batch norm, the initialisation and the random seed. Each setting is computed once, on
one PyTorch thread, and kept: going back to it only redraws the plot.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure
from torch.nn import functional as F

from cnnlib.explain.grad_flow import INITS, GradientFlow, gradient_flow, twin_networks
from cnnlib.training.parallel import torch_threads
from cnnlib.viz.grad_flow import show_gradient_flow
from cnnlib.widgets import page
from cnnlib.widgets.guarded import GuardedExplorer

#: Depths the slider offers (56 is the depth of the ResNet-56 of He et al.'s CIFAR study).
DEPTHS = (4, 8, 16, 32, 56)
#: Images in the fixed batch.
BATCH_SIZE = 64
#: Side of the images: Fashion-MNIST's 28 pixels averaged 2x2, to keep 56 blocks fast.
SIDE = 14
#: Seeds the page form offers.
PAGE_SEEDS = (0, 1)
_INIT_LABELS = {"default": "PyTorch default", "kaiming": "He (Kaiming) normal"}


def training_batch(size: int = BATCH_SIZE, root: str | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``size`` Fashion-MNIST training images at 14x14 (2x2 averages) and labels.

    Returns:
        ``(X, y)``: float32 ``(size, 1, 14, 14)`` in [0, 1] and int64 ``(size,)``.
    """
    from cnnlib import data

    images, labels = data.load_split(train=True, root=root)
    X = images[:size].float().div(255).unsqueeze(1)  # (size, 1, 28, 28)
    return F.avg_pool2d(X, 2), labels[:size].long()


def _format_ratio(value: float) -> str:
    if value != value:  # nan: both ends are zero
        return "0/0"
    if value == float("inf"):
        return "∞ (the last block's gradient is 0)"
    return f"{value:.3g}"


class GradientFlowExplorer(GuardedExplorer):
    """Gradient norms per block of a plain deep network and its residual twin, at initialisation.

    Attributes:
        depth: slider over :data:`DEPTHS`; batch_norm: checkbox; init: dropdown of
            :data:`~cnnlib.explain.grad_flow.INITS`; seed: slider of the weights' seed.
        X, y: the fixed batch ``(N, 1, h, w)`` and its classes ``(N,)``.
        width: channels of every block.
        plain_net, residual_net: the twins for the current settings.
        plain, residual: their :class:`~cnnlib.explain.grad_flow.GradientFlow`.
    """

    def __init__(
        self,
        X: torch.Tensor | None = None,
        y: torch.Tensor | None = None,
        depth: int = 56,
        batch_norm: bool = True,
        init: str = "kaiming",
        seed: int = 0,
        width: int = 8,
        dpi: int | None = None,
    ) -> None:
        """Build the controls and draw the first picture.

        Args:
            X: images ``(N, C, h, w)`` float (default: :func:`training_batch`).
            y: their classes ``(N,)``, required with ``X``.
            depth: blocks per network (a depth outside :data:`DEPTHS` is added to the slider).
            batch_norm: batch norm in every block; init: ``"default"`` or ``"kaiming"``.
            seed: seed of the weights (both twins get the same weights).
            width: channels of every block.
            dpi: resolution of the PNG (default: the figure style's).

        Raises:
            ValueError/TypeError: for images that are not ``(N, C, h, w)`` floats, labels
                that do not match them, or settings out of range.
        """
        if X is None:
            if y is not None:
                raise ValueError("y was given without X; pass both or neither")
            X, y = training_batch()
        if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
            raise TypeError("X and y must be tensors: images (N, C, h, w) and classes (N,)")
        if X.ndim != 4 or not X.is_floating_point():
            raise ValueError(f"X must be float images (N, C, h, w); got {X.dtype} "
                             f"{tuple(X.shape)}")
        if y.shape != X.shape[:1]:
            raise ValueError(f"y must be ({X.shape[0]},), one class per image; got "
                             f"{tuple(y.shape)}")
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"depth must be a whole number >= 1, got {depth!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(f"width must be a whole number >= 1, got {width!r}")
        self.X, self.y = X.detach().float(), y.detach().long()
        self.num_classes = max(10, int(self.y.max()) + 1)
        self.width = width
        self._cache: dict[tuple, tuple] = {}
        self.depth = widgets.SelectionSlider(options=sorted({*DEPTHS, depth}), value=depth,
                                             description="depth")
        self.batch_norm = widgets.Checkbox(value=bool(batch_norm), description="batch norm")
        self.init = widgets.Dropdown(options=[(_INIT_LABELS[k], k) for k in INITS], value=init,
                                     description="init")
        self.seed = widgets.IntSlider(value=seed, min=0, max=max(9, seed), description="seed")
        super().__init__([self.depth, self.batch_norm, self.init, self.seed], dpi=dpi)

    def page_controls(self) -> list:
        return [
            page.slider(self, "depth", DEPTHS),
            page.checkbox(self, "batch_norm"),
            page.menu(self, "init"),
            page.slider(self, "seed", PAGE_SEEDS),
        ]

    def update(self) -> None:
        key = (self.depth.value, self.batch_norm.value, self.init.value, self.seed.value)
        if key not in self._cache:
            # One thread: the operations are tiny (8 channels at 14 x 14), too small for a
            # second thread to help, and a reader's kernel shares the cores with the
            # browser. With two threads on two busy cores, each of the few hundred small
            # operations of a redraw waits until both threads have run: on this project's
            # shared 2-core machine with one busy process alongside
            # (benchmarks/grad_flow_redraws.py --load 1), new settings took seconds to
            # draw. The numbers agree with a computation on more threads to float32
            # rounding (tests/test_widgets_grad_flow.py).
            with torch_threads(1):
                plain_net, residual_net = twin_networks(
                    key[0], key[1], key[2], key[3], width=self.width,
                    in_channels=self.X.shape[1], num_classes=self.num_classes)
                self._cache[key] = (plain_net, residual_net,
                                    gradient_flow(plain_net, self.X, self.y),
                                    gradient_flow(residual_net, self.X, self.y))
        self.plain_net, self.residual_net, self.plain, self.residual = self._cache[key]

    def draw(self) -> Figure:
        return show_gradient_flow(self.plain, self.residual)

    def describe(self) -> str:
        def line(name: str, flow: GradientFlow) -> str:
            zeros = int((flow.weight_norms == 0).sum())
            text = (f"{name}: first/last block ‖∂loss/∂W‖ = {_format_ratio(flow.ratio('weight'))}, "
                    f"‖∂loss/∂H‖ = {_format_ratio(flow.ratio('output'))}; "
                    f"loss at init {flow.loss:.3g}")
            if zeros:
                text += f"; {zeros} blocks get exactly zero gradient"
            return html.escape(text)

        return (f"{self.depth.value} blocks of {self.width} channels at "
                f"{self.X.shape[2]}×{self.X.shape[3]} px, {self.X.shape[0]} images, at "
                f"initialisation (seed {self.seed.value})<br>"
                f"{line('plain', self.plain)}<br>{line('residual', self.residual)}")
