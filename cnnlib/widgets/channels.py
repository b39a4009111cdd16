"""The multi-channel explorer: one output channel taken apart into its input channels.

One front-end (``cnnlib/web/explorers/channels.js``) draws it in JupyterLab, where this class
computes every number with :func:`cnnlib.viz.channels.channel_breakdown` (that is
:func:`cnnlib.ops.corr2d` per input channel, and :func:`cnnlib.ops.corr2d_multi_in_out` for
the whole layer), and on the website, where the front-end computes the same numbers in the
reader's browser with ``CNNOps`` (see :mod:`cnnlib.widgets.live`). Where the front-end
cannot run, the output shows :func:`cnnlib.viz.channels.channel_breakdown_figure` of the
same setting (:meth:`ChannelsExplorer.picture_png`).

The explorer keeps every number it was given, and every number the reader types, in arrays
of the largest size its sliders reach (:attr:`ChannelsExplorer.inputs`, ``weights``,
``biases``): the channel counts and the kernel size choose which part is in use. So each
output channel keeps its own kernel and its own bias when the reader switches between
channels, and a channel taken away and added back comes back as it was.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import traitlets

from cnnlib.viz.cell_grid import format_value
from cnnlib.viz.channels import ChannelBreakdown, channel_breakdown, channel_breakdown_figure
from cnnlib.viz.common import figure_to_png
from cnnlib.widgets.live import Control, LiveExplorer

#: The channel counts and kernel size the sliders reach at least (the lesson's examples
#: have up to 3 input and 3 output channels; a kernel one larger than the notes' 3 × 3
#: input shows what happens when the kernel does not fit).
MAX_CHANNELS = 3
MAX_KERNEL = 4
#: Why typed numbers that are each finite can still give no picture.
OVERFLOW = ("the output overflows float32 (a value beyond about ±3.4e38); type smaller "
            "numbers")


def notes_tensors() -> tuple[torch.Tensor, torch.Tensor]:
    """The notes' 7.4 example: X ``(2, 3, 3)`` and K stacked as ``(K, K + 1, K + 2)``.

    Returns:
        X of shape ``(2, 3, 3)`` and K of shape ``(3, 2, 2, 2)``.
    """
    X = torch.tensor(
        [
            [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
            [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
        ]
    )
    K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
    return X, torch.stack((K, K + 1, K + 2), 0)


def signed(value: float) -> str:
    """``+ 2`` or ``− 2.5``: a bias written after a sum (cnnlib's two-decimal labels)."""
    return f"− {format_value(-value)}" if value < 0 else f"+ {format_value(value)}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _grid(values: Any, name: str, shape: tuple[int | None, ...], axes: str = "") -> torch.Tensor:
    """``values`` (nested lists) as a float32 tensor of ``shape`` (None: any size), or a
    reader-facing error.

    The front-end (``channels.js``, ``grid``) makes the same checks with the same words.

    Raises:
        ValueError: values that are not a regular, non-empty grid of that shape, or hold a
            number that is not finite in float32.
    """
    tensor = None
    try:
        tensor = torch.tensor(values, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        pass
    fits = (tensor is not None and tensor.dim() == len(shape) and tensor.numel() > 0
            and all(want in (None, got) for want, got in zip(shape, tensor.shape, strict=True)))
    if not fits:
        axes = axes or " × ".join(str(n) for n in shape)
        raise ValueError(f"{name} must be a grid of {axes} numbers; the values sent to the "
                         "explorer have another shape")
    as_float32 = tensor.to(torch.float32)
    if not torch.isfinite(as_float32).all():
        raise ValueError(f"{name} holds a value that is not a finite float32 number "
                         "(NaN, infinite, or beyond about ±3.4e38); give finite numbers")
    return as_float32


class ChannelsExplorer(LiveExplorer):
    """Choose the layer's channels and kernel size, an output channel, its kernels and bias;
    see each input channel's share of that output channel.

    Drawn by its one front-end (``cnnlib/web/explorers/channels.js``): sliders for the
    numbers of input and output channels, the kernel size and the output channel shown; a
    number box for that channel's bias and a text box for each of its kernel slices and
    each input channel; one row ``X[c] ⋆ K[o, c] = partial`` per input channel, then
    ``sum + bias = Y[o]``, then every output channel of the layer. A kernel size of 1 is the
    1 × 1 convolution: each partial is its input channel times one weight.

    Attributes:
        in_channels, out_channels, kernel_size, out_channel: the sliders.
        inputs: every input channel the explorer holds, ``(n_in, H, W)`` as lists; the first
            ``in_channels`` are in use.
        weights: every kernel slice it holds, ``(n_out, n_in, n_k, n_k)``; the layer uses
            ``weights[:out_channels, :in_channels, :kernel_size, :kernel_size]``.
        biases: every output channel's bias, ``(n_out,)``; the first ``out_channels`` are
            in use. Each output channel keeps its own.
        layer: what is on screen: the counts, ``out_channel``, ``input_size``,
            ``output_size``, the shown channel's ``bias``, the ``biases`` in use, the
            ``input`` in use and the shown channel's ``kernel`` ``(in_channels, k, k)``.
        partial_maps: ``X[c] ⋆ K[o, c]`` for each input channel ``c``.
        total_map: their sum; output_map: the sum plus the bias, output channel ``o``.
        outputs: every output channel of the layer, ``F.conv2d(X, K, bias)``.
        header: the picture's header; summary: the status line.
    """

    explorer_name: ClassVar[str] = "ChannelsExplorer"
    script: ClassVar[str] = "channels.js"
    CONTROLS: ClassVar[tuple[Control, ...]] = (
        Control("in_channels", "input channels", 1, MAX_CHANNELS),
        Control("out_channels", "output channels", 1, MAX_CHANNELS),
        Control("kernel_size", "kernel size", 1, MAX_KERNEL),
        Control("out_channel", "output channel shown", 0, MAX_CHANNELS - 1),
    )
    #: The numbers the reader types (text and number boxes, not sliders).
    EXTRA_CONTROLS: ClassVar[tuple[str, ...]] = ("inputs", "weights", "biases")

    in_channels = traitlets.Int(2).tag(sync=True)
    out_channels = traitlets.Int(3).tag(sync=True)
    kernel_size = traitlets.Int(2).tag(sync=True)
    out_channel = traitlets.Int(0).tag(sync=True)
    inputs = traitlets.List().tag(sync=True)
    weights = traitlets.List().tag(sync=True)
    biases = traitlets.List().tag(sync=True)

    layer = traitlets.Dict().tag(sync=True)
    partial_maps = traitlets.List().tag(sync=True)
    total_map = traitlets.List().tag(sync=True)
    output_map = traitlets.List().tag(sync=True)
    outputs = traitlets.List().tag(sync=True)
    header = traitlets.Unicode("").tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        X: torch.Tensor | None = None,
        K: torch.Tensor | None = None,
        bias: torch.Tensor | list[float] | None = None,
    ) -> None:
        """Start from a layer and show its output channel 0.

        Args:
            X: input ``(C_in, H, W)`` (or a batch of one); the notes' 7.4 tensor by default.
            K: kernel ``(C_out, C_in, k, k)``, square; the notes' stacked kernel by default.
            bias: ``(C_out,)`` numbers; zeros by default.

        The sliders reach at least 3 input and output channels and a kernel of 4; the
        channels and weights beyond the ones given start at zero (type them in).

        Raises:
            TypeError: X or K is not a floating-point tensor.
            ValueError: shapes that do not fit together (cnnlib's messages), a kernel that
                is not square, or a bias that is not finite.
        """
        default_X, default_K = notes_tensors()
        X = default_X if X is None else X
        K = default_K if K is None else K
        if isinstance(X, torch.Tensor) and X.dim() == 4 and X.shape[0] == 1:
            X = X[0]  # a batch of one image: explore the image (C_in, H, W)
        c_out = K.shape[0] if isinstance(K, torch.Tensor) and K.dim() == 4 else 0
        given_bias = (torch.zeros(c_out) if bias is None
                      else torch.as_tensor(bias, dtype=torch.float32).clone())
        channel_breakdown(X, K, 0, given_bias)  # fail early, in cnnlib's words
        if not torch.isfinite(given_bias).all():
            raise ValueError(f"bias must be finite numbers, got {given_bias.tolist()}")
        c_out, c_in, kh, kw = K.shape
        if kh != kw:
            raise ValueError(f"the explorer's kernels are square (k × k), got {kh} × {kw}; "
                             "use channel_breakdown_figure for another shape")
        n_in, n_out, n_k = max(MAX_CHANNELS, c_in), max(MAX_CHANNELS, c_out), max(MAX_KERNEL, kh)
        inputs = torch.zeros(n_in, *X.shape[1:])
        inputs[:c_in] = X
        weights = torch.zeros(n_out, n_in, n_k, n_k)
        weights[:c_out, :c_in, :kh, :kw] = K
        biases = torch.zeros(n_out)
        biases[:c_out] = given_bias
        self._breakdown: ChannelBreakdown | None = None
        self._outputs: torch.Tensor | None = None
        super().__init__(in_channels=c_in, out_channels=c_out, kernel_size=kh, out_channel=0,
                         inputs=inputs.tolist(), weights=weights.tolist(),
                         biases=biases.tolist())
        # The output channel slider reaches every channel the explorer holds.
        self.controls = [spec | {"max": n_out - 1} if spec["name"] == "out_channel" else spec
                         for spec in self.controls]

    # -- the numbers, from cnnlib ----------------------------------------------------------

    def derived_names(self) -> tuple[str, ...]:
        return ("layer", "partial_maps", "total_map", "output_map", "outputs", "header",
                "summary")

    def compute(self) -> dict[str, Any]:
        # The checks, in the order channels.js makes them, with the same words.
        self._breakdown = self._outputs = None
        X_all = _grid(self.inputs, "inputs", (None, None, None),
                      "input channels × height × width")
        n_in, H, W = X_all.shape
        W_all = _grid(self.weights, "weights", (None, n_in, None, None),
                      f"output channels × {n_in} input channels × k × k")
        n_out, _, n_k, n_k2 = W_all.shape
        if n_k != n_k2:
            raise ValueError(f"weights must be a grid of output channels × {n_in} input "
                             "channels × k × k numbers; the values sent to the explorer have "
                             "another shape")
        B_all = _grid(self.biases, "biases", (n_out,))
        c_i, c_o, k = self.in_channels, self.out_channels, self.kernel_size
        for name, value, top in (("in_channels", c_i, n_in), ("out_channels", c_o, n_out),
                                 ("kernel_size", k, n_k)):
            if not 1 <= value <= top:
                raise ValueError(f"{name} must be between 1 and {top}, got {value}")
        if k > H or k > W:
            raise ValueError(
                f"a {k}×{k} kernel does not fit in the {H}×{W} input: without padding a "
                f"kernel can be at most as large as the input, so choose a kernel size of at "
                f"most {min(H, W)} (padding, section 7.3, lets a kernel reach past the edge)")
        # An output channel past the new count moves to the last one (clamp_slider).
        o = min(max(self.out_channel, 0), c_o - 1)
        X, K, bias = X_all[:c_i], W_all[:c_o, :c_i, :k, :k], B_all[:c_o]
        breakdown = channel_breakdown(X, K, o, bias)
        outputs = breakdown.all_outputs
        if not all(torch.isfinite(T).all() for T in (breakdown.partials, breakdown.total,
                                                     breakdown.output, outputs)):
            raise ValueError(OVERFLOW)
        self._breakdown, self._outputs = breakdown, outputs
        b = float(self.biases[o])
        h, w = breakdown.output.shape
        terms = " + ".join(f"X[{c}] ⋆ K[{o}, {c}]" for c in range(c_i))
        summary = (f"Y[{o}] = {terms} {signed(b)}: {_plural(c_i, 'input channel')} × "
                   f"{k}×{k} weights = {_plural(c_i * k * k, 'weight')} per output value")
        if k == 1:
            summary += (" (a 1×1 convolution: each output value mixes the "
                        f"{_plural(c_i, 'input value')} at its own pixel, one weight each)")
        return {
            "out_channel": o,
            "layer": {
                "in_channels": c_i, "out_channels": c_o, "kernel_size": k, "out_channel": o,
                "input_size": [H, W], "output_size": [h, w], "bias": b,
                "biases": [float(v) for v in self.biases[:c_o]],
                "input": X.tolist(), "kernel": K[o].tolist(),
            },
            "partial_maps": breakdown.partials.tolist(),
            "total_map": breakdown.total.tolist(),
            "output_map": breakdown.output.tolist(),
            "outputs": outputs.tolist(),
            "header": (f"output channel {o} of {c_o}: the sum over "
                       f"{_plural(c_i, 'input channel')}, plus bias {format_value(b)}"),
            "summary": summary,
        }

    # -- setting the typed numbers from Python ----------------------------------------------

    def set_bias(self, out_channel: int, value: float) -> None:
        """Give output channel ``out_channel`` the bias ``value`` (the others keep theirs).

        Raises:
            IndexError: for a channel the explorer does not hold.
        """
        biases = list(self.biases)
        biases[_index(out_channel, len(biases), "out_channel")] = float(value)
        self.biases = biases

    def set_kernel(self, out_channel: int, in_channel: int, values: Any) -> None:
        """Type the kernel slice ``K[out_channel, in_channel]``: a ``k × k`` grid, for the
        current kernel size ``k`` (the weights past it are kept for a larger kernel).

        Raises:
            IndexError: for a channel the explorer does not hold.
            ValueError: for values that are not a ``k × k`` grid of finite numbers.
        """
        k = self.kernel_size
        grid = _grid(_as_lists(values), f"K[{out_channel}, {in_channel}]", (k, k))
        weights = [[list(map(list, s)) for s in row] for row in self.weights]
        o = _index(out_channel, len(weights), "out_channel")
        c = _index(in_channel, len(weights[0]), "in_channel")
        for i in range(k):
            weights[o][c][i][:k] = grid[i].tolist()
        self.weights = weights

    def set_input(self, in_channel: int, values: Any) -> None:
        """Type input channel ``X[in_channel]``: an ``H × W`` grid.

        Raises:
            IndexError: for a channel the explorer does not hold.
            ValueError: for values that are not an ``H × W`` grid of finite numbers.
        """
        inputs = [list(map(list, channel)) for channel in self.inputs]
        c = _index(in_channel, len(inputs), "in_channel")
        shape = (len(inputs[0]), len(inputs[0][0]))
        inputs[c] = _grid(_as_lists(values), f"X[{in_channel}]", shape).tolist()
        self.inputs = inputs

    # -- the old attributes, read from the current state ------------------------------------

    @property
    def X(self) -> torch.Tensor:
        """The input in use, shape ``(in_channels, H, W)``."""
        return torch.tensor(self.inputs[: self.in_channels], dtype=torch.float32)

    @property
    def K(self) -> torch.Tensor:
        """The kernel in use, shape ``(out_channels, in_channels, k, k)``."""
        k = self.kernel_size
        return torch.tensor([[[line[:k] for line in s[:k]] for s in row[: self.in_channels]]
                             for row in self.weights[: self.out_channels]], dtype=torch.float32)

    @property
    def bias(self) -> torch.Tensor:
        """The biases in use, shape ``(out_channels,)``."""
        return torch.tensor(self.biases[: self.out_channels], dtype=torch.float32)

    @property
    def bias_value(self) -> float:
        """The bias of the output channel shown (setting it changes only that channel's)."""
        return float(self.biases[self.out_channel])

    @bias_value.setter
    def bias_value(self, value: float) -> None:
        self.set_bias(self.out_channel, value)

    @property
    def breakdown(self) -> ChannelBreakdown | None:
        """The :class:`~cnnlib.viz.channels.ChannelBreakdown` on screen (None for a bad
        setting)."""
        return self._breakdown if not self.error else None

    @property
    def partials(self) -> torch.Tensor | None:
        """``X[c] ⋆ K[o, c]`` per input channel, shape ``(in_channels, H', W')``."""
        return None if self.breakdown is None else self.breakdown.partials

    @property
    def output(self) -> torch.Tensor | None:
        """The output channel shown, with its bias, shape ``(H', W')``."""
        return None if self.breakdown is None else self.breakdown.output

    @property
    def all_outputs(self) -> torch.Tensor | None:
        """Every output channel of the layer, shape ``(out_channels, H', W')``."""
        return self._outputs if not self.error else None

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it."""
        return self.error or self.summary

    def picture_png(self) -> bytes | None:
        """The matplotlib drawing of the channel breakdown, for a page that cannot run the
        front-end (see :meth:`LiveExplorer.picture_png`)."""
        if self.breakdown is None:
            return None
        return figure_to_png(channel_breakdown_figure(self.breakdown))



def _as_lists(values: Any) -> Any:
    """A tensor as nested lists; anything else as it is (``_grid`` checks it)."""
    return values.tolist() if isinstance(values, torch.Tensor) else values


def _index(value: int, size: int, name: str) -> int:
    """``value`` when it is a whole number in ``[0, size)``; an IndexError that says so."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < size:
        raise IndexError(f"{name} must be a whole number from 0 to {size - 1}, got {value!r}")
    return value
