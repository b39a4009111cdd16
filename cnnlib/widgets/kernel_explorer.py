"""The kernel explorer: pick or type a kernel, pick an image, see the cross-correlation.

Its static form, for readers without a running kernel, is
:func:`cnnlib.viz.kernels.preset_gallery`.
"""

from __future__ import annotations

import html
import math
import re

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from cnnlib import data
from cnnlib.ops import corr2d_vectorized
from cnnlib.viz.kernels import KERNEL_PRESETS, as_image, show_corr2d
from cnnlib.widgets import page
from cnnlib.widgets.base import Explorer

#: The dropdown entry that means "whatever is typed in the box".
CUSTOM = "custom"
#: Largest kernel the box accepts, per side: bigger ones leave almost nothing of a 28x28 image.
MAX_KERNEL_SIZE = 7
#: The input choices that need no data: the notes' 6x8 image and its transpose.
STRIPES = "notes: 6x8 stripes"
STRIPES_T = "notes: 6x8 stripes, transposed"

#: The largest magnitude a float32 kernel can hold.
FLOAT32_MAX = float(torch.finfo(torch.float32).max)

_ROW_SEPARATOR = re.compile(r"[;\n]")
_NUMBER_SEPARATOR = re.compile(r"[,\s]+")


def stripes_image() -> torch.Tensor:
    """The notes' 6x8 image: ones with columns 2 to 5 set to zero, shape ``(6, 8)``."""
    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    return X


def _parse_number(token: str, row: int) -> float:
    try:
        if "/" in token:  # allow fractions such as 1/9 for a box blur
            numerator, denominator = token.split("/", 1)
            value = float(numerator) / float(denominator)
        else:
            value = float(token)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"'{token}' in row {row} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"'{token}' in row {row} is not a finite number")
    if abs(value) > FLOAT32_MAX:
        raise ValueError(
            f"'{token}' in row {row} is too large for float32 (at most about 3.4e38 in size)"
        )
    return value


def parse_kernel(text: str, max_size: int = MAX_KERNEL_SIZE) -> torch.Tensor:
    """Read a kernel typed by the reader.

    Rows are separated by ``;`` or new lines, numbers within a row by spaces
    or commas; fractions such as ``1/9`` are allowed. Blank rows are skipped.

    Args:
        text: e.g. ``"1 -1"`` or ``"1 0 -1; 1 0 -1; 1 0 -1"``.
        max_size: the largest number of rows and of columns accepted.

    Returns:
        The kernel, float32 of shape ``(kh, kw)``.

    Raises:
        ValueError: with a message for the reader when the text is empty, holds
            something that is not a number, has rows of different lengths, or
            is larger than ``max_size`` in either direction.
    """
    rows = [row.strip() for row in _ROW_SEPARATOR.split(text)]
    rows = [row for row in rows if row]
    if not rows:
        raise ValueError("the kernel box is empty: type numbers such as 1 -1, or 1 0 -1; 1 0 -1")
    values = []
    for r, row in enumerate(rows, start=1):
        tokens = [token for token in _NUMBER_SEPARATOR.split(row) if token]
        values.append([_parse_number(token, r) for token in tokens])
    height, width = len(values), max(len(row) for row in values)
    if height > max_size or width > max_size:
        raise ValueError(
            f"the kernel has {height} rows and up to {width} columns; "
            f"the explorer takes at most {max_size}x{max_size}"
        )
    for r, row in enumerate(values, start=1):
        if len(row) != len(values[0]):
            raise ValueError(
                f"row {r} has {len(row)} numbers but row 1 has {len(values[0])}; "
                "every row needs the same count"
            )
    return torch.tensor(values, dtype=torch.float32)


def kernel_to_text(K: torch.Tensor) -> str:
    """Write a kernel ``(kh, kw)`` as text that :func:`parse_kernel` reads back.

    One line per row, numbers separated by spaces, 4 significant digits
    (so a box blur's 1/9 shows as 0.1111).
    """
    return "\n".join(" ".join(f"{float(v) + 0.0:.4g}" for v in row) for row in K.tolist())


def _fashion_inputs(count: int, root: str | None) -> dict[str, torch.Tensor]:
    """The first test image of ``count`` different classes, named by their text labels."""
    images, labels = data.load_split(train=False, root=root)  # (N, 28, 28) uint8, (N,)
    chosen: dict[int, int] = {}  # class -> index of its first test image
    for index, label in enumerate(labels.tolist()):
        if len(chosen) == count:
            break
        chosen.setdefault(label, index)
    names = data.text_labels(list(chosen))
    return {
        f"Fashion-MNIST test #{index}: {name}": as_image(images[index])
        for name, index in zip(names, chosen.values(), strict=True)
    }


class KernelExplorer(Explorer):
    """Choose a kernel (a preset or typed values) and an input; see ``Y = X ⋆ K``.

    The picture shows input, kernel and output side by side (numbers in the
    cells for the small synthetic inputs). Invalid text in the box leaves the
    last picture in place and explains the problem in :attr:`status`.

    Attributes:
        preset: dropdown of :data:`KERNEL_PRESETS` names plus ``"custom"``.
        kernel_text: the box holding the kernel's values.
        input_choice: dropdown of input images.
        inputs: input name -> image ``(H, W)`` float32.
        kernel: the kernel ``(kh, kw)`` behind the current picture.
        input: the input ``(H, W)`` behind the current picture.
        output: ``corr2d(input, kernel)``, shape ``(H - kh + 1, W - kw + 1)``.
        data_message: why the Fashion-MNIST inputs are missing ("" when present).
    """

    def __init__(
        self,
        preset: str = "vertical edge 1x2",
        input_name: str = STRIPES,
        num_fashion: int = 6,
        data_root: str | None = None,
        dpi: int | None = None,
    ) -> None:
        """Build the controls and draw the first picture.

        Args:
            preset: the starting kernel, a key of :data:`KERNEL_PRESETS`.
            input_name: the starting input, :data:`STRIPES`, :data:`STRIPES_T`
                or one of the Fashion-MNIST names in :attr:`inputs`.
            num_fashion: how many Fashion-MNIST test images (one per class) to offer.
            data_root: passed to :func:`cnnlib.data.load_split`.
            dpi: resolution of the PNG (default: the figure style's, cnnlib.viz.style).

        Raises:
            ValueError: for an unknown ``preset`` or ``input_name``, or a
                ``num_fashion`` outside 0..10.
        """
        if preset not in KERNEL_PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of {list(KERNEL_PRESETS)}")
        if not 0 <= num_fashion <= len(data.LABELS):
            raise ValueError(
                f"num_fashion must be between 0 and {len(data.LABELS)} (one image per class), "
                f"got {num_fashion}"
            )
        self.inputs: dict[str, torch.Tensor] = {STRIPES: stripes_image()}
        self.inputs[STRIPES_T] = self.inputs[STRIPES].t().contiguous()  # (8, 6)
        self.data_message = ""
        try:
            self.inputs.update(_fashion_inputs(num_fashion, data_root))
        except data.DatasetNotFoundError as err:
            first_line = str(err).splitlines()[0] if str(err) else type(err).__name__
            self.data_message = (
                f"Fashion-MNIST was not found, so only the synthetic inputs are offered "
                f"({first_line})."
            )
        if input_name not in self.inputs:
            raise ValueError(f"unknown input {input_name!r}; choose one of {list(self.inputs)}")
        self.preset = widgets.Dropdown(
            options=[*KERNEL_PRESETS, CUSTOM], value=preset, description="kernel"
        )
        self.kernel_text = widgets.Textarea(
            value=kernel_to_text(KERNEL_PRESETS[preset]),
            description="values",
            placeholder="rows on separate lines or split by ';', e.g. 1 0 -1; 1 0 -1; 1 0 -1",
            rows=4,
        )
        self.input_choice = widgets.Dropdown(
            options=list(self.inputs), value=input_name, description="input",
            layout=widgets.Layout(width="max-content"),
        )
        self.kernel = KERNEL_PRESETS[preset].clone()
        self.input = self.inputs[input_name]
        self.output = corr2d_vectorized(self.input, self.kernel)
        self._syncing = False  # True while one control writes into another
        super().__init__([self.preset, self.kernel_text, self.input_choice], dpi=dpi)
        self._describe()

    def page_controls(self) -> list:
        # Every preset on every input; typed kernels need the live explorer.
        return [page.menu(self, "preset", list(KERNEL_PRESETS)), page.menu(self, "input_choice")]

    def render(self) -> Figure:
        """Input, kernel and output side by side for the current state."""
        self.output = corr2d_vectorized(self.input, self.kernel)
        return show_corr2d(self.input, self.kernel, self.output)

    def _on_change(self, change: dict) -> None:
        if self._syncing:
            return
        # An exception in a widget callback vanishes into the kernel log where the
        # reader never sees it; report every failure in the status line instead.
        try:
            if change["owner"] is self.preset:
                self._preset_chosen(change["new"])
            elif change["owner"] is self.kernel_text:
                self._text_edited()
            self._update()
        except Exception as err:
            self._show_error(f"could not redraw: {type(err).__name__}: {err}")

    def _preset_chosen(self, name: str) -> None:
        if name == CUSTOM:
            return  # keep the typed values; "custom" just means "the box"
        self._syncing = True
        try:
            self.kernel_text.value = kernel_to_text(KERNEL_PRESETS[name])
        finally:
            self._syncing = False

    def _text_edited(self) -> None:
        if self.preset.value == CUSTOM:
            return
        if self.kernel_text.value == kernel_to_text(KERNEL_PRESETS[self.preset.value]):
            return
        self._syncing = True
        try:
            self.preset.value = CUSTOM
        finally:
            self._syncing = False

    def _update(self) -> None:
        """Validate the controls; redraw if they make a valid pair, else explain."""
        try:
            if self.preset.value == CUSTOM:
                K = parse_kernel(self.kernel_text.value)
            else:
                # The box shows the preset rounded to 4 digits; use the exact values.
                K = KERNEL_PRESETS[self.preset.value].clone()
        except ValueError as err:
            self._show_error(f"{err} (the picture still shows the last valid kernel)")
            return
        X = self.inputs[self.input_choice.value]
        if K.shape[0] > X.shape[0] or K.shape[1] > X.shape[1]:
            self._show_error(
                f"a {K.shape[0]}×{K.shape[1]} kernel does not fit inside the "
                f"{X.shape[0]}×{X.shape[1]} input; choose a smaller kernel or a larger input"
            )
            return
        Y = corr2d_vectorized(X, K)
        if not torch.isfinite(Y).all():
            self._show_error(
                f"the output overflows float32 (its sums exceed about 3.4e38) with kernel values "
                f"up to {K.abs().max().item():.3g}; use smaller numbers"
            )
            return
        self.kernel, self.input = K, X
        self.refresh()
        self._describe()

    def _describe(self) -> None:
        kh, kw = self.kernel.shape
        H, W = self.input.shape
        message = (
            f"X is {H}×{W}, K is {kh}×{kw}, so Y is {H - kh + 1}×{W - kw + 1}: "
            f"each output adds up {kh * kw} products. "
            f"Y ranges from {self.output.min().item():.3g} to {self.output.max().item():.3g}."
        )
        self.status.value = self._with_data_note(html.escape(message))

    def _show_error(self, message: str) -> None:
        self.status.value = self._with_data_note(
            f'<span style="color:#b00020">{html.escape(message)}</span>'
        )

    def _with_data_note(self, message_html: str) -> str:
        if not self.data_message:
            return message_html
        return f"{message_html}<br><i>{html.escape(self.data_message)}</i>"
