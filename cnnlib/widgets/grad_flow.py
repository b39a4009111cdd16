"""The gradient-flow explorer: how big the gradient is at every block, with and without shortcuts.

A plain deep CNN and its residual twin (same weights, the shortcut is the only
difference; see :mod:`cnnlib.explain.grad_flow`) are built at initialisation, and one
fixed batch of Fashion-MNIST images gives, for every block, the norm of the loss's
gradient with respect to its weights and its output. Controls choose the depth,
batch norm, the initialisation and the random seed.

One front-end (``cnnlib/web/explorers/grad-flow.js``) draws it. In JupyterLab this class
computes every number with PyTorch, each setting once, on one PyTorch thread, and keeps it:
going back to a setting only redraws. On the website the front-end reads the same numbers
from a table PyTorch recorded for every setting its controls allow
(``cnnlib/weights/grad_flow_table.json``, made by ``scripts/record_grad_flow.py``): a
browser cannot reproduce PyTorch's random initialisation, so it cannot backpropagate
through the same networks. The page computes the ratios, counts and status line itself.
"""

from __future__ import annotations

import html
import math
from typing import Any, ClassVar

import torch
import traitlets

from cnnlib.explain.grad_flow import (
    BATCH_SIZE,
    DEPTHS,
    INITS,
    SEEDS,
    SIDE,
    TABLE_PATH,
    GradientFlow,
    batch_fingerprint,
    gradient_flow,
    load_table,
    training_batch,
    twin_networks,
)
from cnnlib.training.parallel import torch_threads
from cnnlib.viz.common import figure_to_png
from cnnlib.viz.grad_flow import show_gradient_flow
from cnnlib.widgets.live import Control, LiveExplorer

__all__ = ["BATCH_SIZE", "DEPTHS", "INIT_LABELS", "SIDE", "GradientFlowExplorer",
           "format_ratio", "status_lines", "training_batch"]

#: What the init menu shows for each of :data:`~cnnlib.explain.grad_flow.INITS`.
INIT_LABELS = {"default": "PyTorch default", "kaiming": "He (Kaiming) normal"}


def format_ratio(value: float) -> str:
    """A first/last gradient ratio as the status line writes it (``0/0`` when both are 0)."""
    if value != value:  # nan: both ends are zero
        return "0/0"
    if value == float("inf"):
        return "∞ (the last block's gradient is 0)"
    return f"{value:.3g}"


def status_lines(depth: int, seed: int, shape: dict[str, int], plain: GradientFlow,
                 residual: GradientFlow) -> list[str]:
    """The status line's three lines, in plain text: the setting, then each twin's ratios,
    loss and count of blocks whose weight gradient is exactly zero.

    Args:
        depth, seed: the setting; shape: ``images``, ``channels``, ``height``, ``width``
            (:attr:`GradientFlowExplorer.shape`).
        plain, residual: the twins' numbers.
    """
    def line(name: str, flow: GradientFlow) -> str:
        zeros = int((flow.weight_norms == 0).sum())
        text = (f"{name}: first/last block ‖∂loss/∂W‖ = {format_ratio(flow.ratio('weight'))}, "
                f"‖∂loss/∂H‖ = {format_ratio(flow.ratio('output'))}; "
                f"loss at init {flow.loss:.3g}")
        if zeros:
            text += f"; {zeros} blocks get exactly zero gradient"
        return text

    return [f"{depth} blocks of {shape['channels']} channels at "
            f"{shape['height']}×{shape['width']} px, {shape['images']} images, at "
            f"initialisation (seed {seed})",
            line("plain", plain), line("residual", residual)]


def _numbers(values: torch.Tensor) -> list[float | None]:
    """Norms as JSON-safe numbers: a non-finite norm (an overflow) travels as None."""
    return [v if math.isfinite(v) else None for v in values.double().tolist()]


def _flow_json(flow: GradientFlow) -> dict[str, Any]:
    return {"weight": _numbers(flow.weight_norms), "output": _numbers(flow.output_norms),
            "loss": flow.loss if math.isfinite(flow.loss) else None}


class GradientFlowExplorer(LiveExplorer):
    """Gradient norms per block of a plain deep network and its residual twin, at initialisation.

    Drawn by its one front-end (``cnnlib/web/explorers/grad-flow.js``): a depth slider over
    :attr:`depths`, a batch-norm checkbox, an init menu and a seed slider; two log-scale
    panels (weight gradients, output gradients) with both networks' curves, exact zeros
    marked on the bottom edge; a three-line status line.

    Attributes:
        depth, batch_norm, init, seed: the controls (synced).
        depths: the depth slider's values; inits: the init menu's ``[label, value]`` pairs.
        depth_index: the depth slider's position in :attr:`depths` (what the page's range
            input named ``depth_index`` holds); setting it sets :attr:`depth`.
        shape: ``images``, ``channels`` (of every block), ``height``, ``width`` of the batch.
        flows: ``{"plain": ..., "residual": ...}``, each ``{"weight": [...], "output": [...],
            "loss": x}`` (a non-finite number as None), for the current settings.
        summary: the status line's three lines (as :meth:`describe` writes them).
        X, y: the fixed batch ``(N, 1, h, w)`` and its classes ``(N,)``.
        width: channels of every block.
        plain_net, residual_net: the twins for the current settings.
        plain, residual: their :class:`~cnnlib.explain.grad_flow.GradientFlow`.
    """

    explorer_name: ClassVar[str] = "GradientFlowExplorer"
    script: ClassVar[str] = "grad-flow.js"
    CONTROLS: ClassVar[tuple[Control, ...]] = (Control("seed", "seed", 0, max(SEEDS)),)
    #: The depth slider (over `depths`), the checkbox and the menu have no Control.
    EXTRA_CONTROLS: ClassVar[tuple[str, ...]] = ("depth", "batch_norm", "init")

    depth = traitlets.Int(56).tag(sync=True)
    batch_norm = traitlets.Bool(True).tag(sync=True)
    init = traitlets.Unicode("kaiming").tag(sync=True)
    seed = traitlets.Int(0).tag(sync=True)
    depths = traitlets.List(traitlets.Int()).tag(sync=True)
    inits = traitlets.List(traitlets.List()).tag(sync=True)
    shape = traitlets.Dict().tag(sync=True)

    flows = traitlets.Dict().tag(sync=True)
    summary = traitlets.List(traitlets.Unicode()).tag(sync=True)

    def __init__(
        self,
        X: torch.Tensor | None = None,
        y: torch.Tensor | None = None,
        depth: int = 56,
        batch_norm: bool = True,
        init: str = "kaiming",
        seed: int = 0,
        width: int = 8,
    ) -> None:
        """Start from these settings and compute the first state.

        Args:
            X: images ``(N, C, h, w)`` float (default:
                :func:`~cnnlib.explain.grad_flow.training_batch`).
            y: their classes ``(N,)``, required with ``X``.
            depth: blocks per network (a depth outside :data:`DEPTHS` is added to the slider).
            batch_norm: batch norm in every block; init: ``"default"`` or ``"kaiming"``.
            seed: seed of the weights (both twins get the same weights; one past 9 widens
                the slider).
            width: channels of every block.

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
        _check_depth(depth)
        _check_init(init)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(f"width must be a whole number >= 1, got {width!r}")
        self.X, self.y = X.detach().float(), y.detach().long()
        self.num_classes = max(10, int(self.y.max()) + 1)
        self.width = width
        self._start_depth = depth
        self._cache: dict[tuple, tuple] = {}
        self._current: tuple | None = None
        super().__init__(depth=depth, batch_norm=bool(batch_norm), init=init, seed=seed)

    @traitlets.default("depths")
    def _default_depths(self) -> list[int]:
        return sorted({*DEPTHS, self._start_depth})

    @traitlets.default("inits")
    def _default_inits(self) -> list[list[str]]:
        return [[INIT_LABELS[k], k] for k in INITS]

    @traitlets.default("shape")
    def _default_shape(self) -> dict[str, int]:
        return {"images": int(self.X.shape[0]), "channels": self.width,
                "height": int(self.X.shape[2]), "width": int(self.X.shape[3])}

    # -- the numbers, from PyTorch -----------------------------------------------------------

    def derived_names(self) -> tuple[str, ...]:
        return ("flows", "summary")

    def compute(self) -> dict[str, Any]:
        self._current = None
        _check_depth(self.depth)
        _check_init(self.init)
        if self.seed < 0:
            raise ValueError(f"seed must be a whole number >= 0, got {self.seed!r}")
        key = (self.depth, bool(self.batch_norm), self.init, self.seed)
        if key not in self._cache:
            # One thread: the operations are tiny (8 channels at 14 x 14), too small for a
            # second thread to help, and a reader's kernel shares the cores with the
            # browser. With two threads on two busy cores, each of the few hundred small
            # operations of a redraw waits until both threads have run: on this project's
            # shared 2-core machine with one busy process alongside
            # (benchmarks/grad_flow_redraws.py --load 1), new settings took seconds to
            # draw. The numbers agree with a computation on more threads to float32
            # rounding (tests/test_widgets_grad_flow.py). scripts/record_grad_flow.py
            # records the website's table the same way.
            with torch_threads(1):
                plain_net, residual_net = twin_networks(
                    key[0], key[1], key[2], key[3], width=self.width,
                    in_channels=self.X.shape[1], num_classes=self.num_classes)
                self._cache[key] = (plain_net, residual_net,
                                    gradient_flow(plain_net, self.X, self.y),
                                    gradient_flow(residual_net, self.X, self.y))
        self._current = key
        plain, residual = self._cache[key][2:]
        return {"flows": {"plain": _flow_json(plain), "residual": _flow_json(residual)},
                "summary": status_lines(self.depth, self.seed, self.shape, plain, residual)}

    def describe(self) -> str:
        """The status line as HTML, its lines joined by ``<br>`` (the explorer's words
        before it had one front-end; the page writes the same lines)."""
        if self.error:
            return html.escape(self.error)
        return "<br>".join(html.escape(line) for line in self.summary)

    @property
    def depth_index(self) -> int:
        """The depth slider's position: the index of :attr:`depth` in :attr:`depths` (the
        front-end's range input carries it, since the depths are not evenly spaced)."""
        return self.depths.index(self.depth) if self.depth in self.depths else -1

    @depth_index.setter
    def depth_index(self, index: int) -> None:
        if isinstance(index, bool) or not isinstance(index, int) or not (
                0 <= index < len(self.depths)):
            raise ValueError(f"depth_index must be a whole number from 0 to "
                             f"{len(self.depths) - 1} (a position of {self.depths}), got {index!r}")
        self.depth = self.depths[index]

    # -- the old attributes, read from the current state ---------------------------------------

    def _part(self, index: int) -> Any:
        if self.error or self._current is None:
            return None
        return self._cache[self._current][index]

    @property
    def plain_net(self):
        """The plain network of the current settings (None for a bad setting)."""
        return self._part(0)

    @property
    def residual_net(self):
        """Its residual twin (None for a bad setting)."""
        return self._part(1)

    @property
    def plain(self) -> GradientFlow | None:
        """The plain network's :class:`~cnnlib.explain.grad_flow.GradientFlow`."""
        return self._part(2)

    @property
    def residual(self) -> GradientFlow | None:
        """The residual twin's :class:`~cnnlib.explain.grad_flow.GradientFlow`."""
        return self._part(3)

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it, one line per network after the header."""
        return self.error or "\n".join(self.summary)

    def picture_png(self) -> bytes | None:
        """The matplotlib drawing of the same picture, for a page that cannot run the
        front-end (see :meth:`LiveExplorer.picture_png`)."""
        if self.plain is None:
            return None
        return figure_to_png(show_gradient_flow(self.plain, self.residual))

    # -- the website's data ------------------------------------------------------------------------

    def recorded_table(self) -> dict[str, Any]:
        """What the page computes from: the recorded settings and ``flows`` (key -> base64),
        or ``{}`` when this explorer's batch or width is not the one the table was made on
        (then the page says so instead of showing another batch's numbers).

        Raises:
            FileNotFoundError: when the table is missing (see
                :func:`~cnnlib.explain.grad_flow.load_table`).
        """
        table = load_table(TABLE_PATH)
        if (table["settings"]["width"] != self.width
                or table["batch_sha256"] != batch_fingerprint(self.X, self.y)):
            return {}
        settings = table["settings"]
        return {"depths": settings["depths"], "inits": settings["inits"],
                "seeds": settings["seeds"], "flows": table["flows"]}

    def page_scripts(self) -> list:
        """The host and the front-end: this explorer computes nothing with ``cnn-ops.js``,
        so a page does not carry its 28 kB."""
        return super().page_scripts()[1:]

    def page_state(self) -> dict[str, Any]:
        """The controls, the batch's shape and the recorded table: the page looks every
        setting up and computes the ratios and the status line itself."""
        return super().page_state() | {"depths": self.depths, "inits": self.inits,
                                       "shape": self.shape, "table": self.recorded_table()}


def _check_depth(depth: Any) -> None:
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a whole number >= 1, got {depth!r}")


def _check_init(init: Any) -> None:
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
