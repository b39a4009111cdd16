"""Where a sliding window lands: the geometry behind padding, stride and dilation.

Pure arithmetic on sizes (no tensors). The output size itself comes from
:func:`cnnlib.ops.conv_output_shape`; this module adds what a picture of the
sliding needs: which cells of the padded input one output cell reads, and how
many rows/columns at the bottom/right no window ever reaches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cnnlib.ops import conv_output_shape
from cnnlib.viz.cell_grid import pair


@dataclass(frozen=True)
class SlidingWindow:
    """A ``kernel_size`` window sliding over a zero-padded ``input_size`` grid.

    Every field is a ``(height, width)`` pair, as ``nn.Conv2d`` takes them.
    Construct with :meth:`create`, which validates and accepts plain ints.
    """

    input_size: tuple[int, int]
    kernel_size: tuple[int, int]
    padding: tuple[int, int] = (0, 0)
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)

    @classmethod
    def create(
        cls,
        input_size: int | Sequence[int],
        kernel_size: int | Sequence[int],
        padding: int | Sequence[int] = 0,
        stride: int | Sequence[int] = 1,
        dilation: int | Sequence[int] = 1,
    ) -> SlidingWindow:
        """Validate the settings and build the geometry.

        Raises:
            TypeError: if a setting is not an int or a pair of ints.
            ValueError: if a size is out of range, or the (dilated) kernel is
                larger than the padded input so that no window fits.
        """
        window = cls(
            pair(input_size, "input_size", 1),
            pair(kernel_size, "kernel_size", 1),
            pair(padding, "padding", 0),
            pair(stride, "stride", 1),
            pair(dilation, "dilation", 1),
        )
        # conv_output_shape raises a ValueError naming the numbers when no window fits.
        conv_output_shape(
            window.input_size, window.kernel_size, window.padding, window.stride, window.dilation
        )
        return window

    @property
    def padded_size(self) -> tuple[int, int]:
        """Size of the input after padding: ``n + 2p`` per axis."""
        return self._per_axis(lambda axis: self.input_size[axis] + 2 * self.padding[axis])

    @property
    def span(self) -> tuple[int, int]:
        """Cells one dilated window stretches over: ``d·(k − 1) + 1`` per axis."""
        return self._per_axis(lambda axis: self.dilation[axis] * (self.kernel_size[axis] - 1) + 1)

    @property
    def output_size(self) -> tuple[int, int]:
        """Output ``(height, width)``, from :func:`cnnlib.ops.conv_output_shape`."""
        return tuple(
            conv_output_shape(
                self.input_size, self.kernel_size, self.padding, self.stride, self.dilation
            )
        )  # type: ignore[return-value]

    @property
    def leftover(self) -> tuple[int, int]:
        """Rows and columns at the bottom/right that no window reaches.

        ``(n + 2p − d(k − 1) − 1) mod s`` per axis: nonzero exactly when the
        stride does not tile the padded input.
        """
        return self._per_axis(
            lambda axis: (self.padded_size[axis] - self.span[axis]) % self.stride[axis]
        )

    @property
    def lost_input(self) -> tuple[int, int]:
        """How many of the leftover rows/columns are real input, not padding."""
        return self._per_axis(lambda axis: max(0, self.leftover[axis] - self.padding[axis]))

    @staticmethod
    def _per_axis(value) -> tuple[int, int]:
        return (value(0), value(1))

    def window(self, row: int, col: int) -> tuple[list[int], list[int]]:
        """Rows and columns (padded coordinates) that output cell ``(row, col)`` reads.

        Raises:
            ValueError: if ``(row, col)`` is outside the output.
        """
        out_h, out_w = self.output_size
        if not (0 <= row < out_h and 0 <= col < out_w):
            raise ValueError(
                f"output position ({row}, {col}) is outside the {out_h}x{out_w} output"
            )
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        rows = [row * sh + dh * a for a in range(kh)]
        cols = [col * sw + dw * b for b in range(kw)]
        return rows, cols


def size_formula(
    input_size: int,
    kernel_size: int,
    padding: int = 0,
    stride: int = 1,
    dilation: int = 1,
) -> str:
    """The output-size formula for one axis with the numbers filled in.

    ``⌊(8 + 2·1 − 3)/2⌋ + 1 = 4`` without dilation, and with it
    ``⌊(8 + 2·1 − 2·(3 − 1) − 1)/2⌋ + 1 = 3``. Stride 1 drops the floor.
    """
    n, k, p, s, d = input_size, kernel_size, padding, stride, dilation
    if d == 1:
        numerator = f"{n} + 2·{p} − {k}"
        value = n + 2 * p - k
    else:
        numerator = f"{n} + 2·{p} − {d}·({k} − 1) − 1"
        value = n + 2 * p - d * (k - 1) - 1
    result = value // s + 1
    if s == 1:
        return f"({numerator}) + 1 = {result}"
    return f"⌊({numerator})/{s}⌋ + 1 = {result}"
