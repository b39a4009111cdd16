"""The kernel explorer: pick or type a kernel, pick or upload an image, see the cross-correlation.

One front-end (``cnnlib/web/explorers/kernel.js``) draws it in JupyterLab, where this class
computes every number with :func:`cnnlib.ops.corr2d_vectorized` (PyTorch) and converts an
uploaded picture with Pillow, and on the website, where the front-end computes the same
numbers in the reader's browser from the images Python sends (see :mod:`cnnlib.widgets.live`).
Its static form, for readers without a running kernel, is
:func:`cnnlib.viz.kernels.preset_gallery`.
"""

from __future__ import annotations

import math
import re
from typing import Any, ClassVar

import torch
import traitlets

from cnnlib import data
from cnnlib.ops import corr2d_vectorized
from cnnlib.viz.common import figure_to_png
from cnnlib.viz.kernels import KERNEL_PRESETS, as_image, show_corr2d
from cnnlib.widgets.feature_maps import IMAGE_SIZE, image_from_bytes
from cnnlib.widgets.live import LiveExplorer

#: The menu entry that means "whatever is typed in the box".
CUSTOM = "custom"
#: Largest kernel the box accepts, per side: bigger ones leave almost nothing of a 28x28 image.
MAX_KERNEL_SIZE = 7
#: The input choices that need no data: the notes' 6x8 image and its transpose.
STRIPES = "notes: 6x8 stripes"
STRIPES_T = "notes: 6x8 stripes, transposed"
#: How an uploaded picture is named in the input menu: ``"upload: shoe.png"``.
UPLOAD_PREFIX = "upload: "

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


def _format_g(value: float, digits: int) -> str:
    return f"{value:.{digits}g}"


class KernelExplorer(LiveExplorer):
    """Choose a kernel (a preset or typed values) and an input; see ``Y = X ⋆ K``.

    Drawn by its one front-end (``cnnlib/web/explorers/kernel.js``): a menu of the preset
    kernels and "custom", a box for the kernel's numbers, a menu of the inputs and a file
    input for the reader's own picture; the input, the kernel and the output side by side
    (numbers in the cells of the small ones), and a status line. A preset writes its numbers
    into the box; typing in the box switches the menu to "custom". Text that is not a kernel
    stays in the box and becomes :attr:`error`, which the next change can fix.

    Attributes:
        preset, kernel_text, input_choice: the controls.
        upload: ``{"name": ..., "content": bytes}`` of a picture the reader chose, until it
            is converted (then ``{}`` again): the file input's value, as ipywidgets'
            ``FileUpload`` sends it.
        inputs: input name -> its values as rows (synced: the page computes from these);
            an upload adds ``"upload: <file name>"``.
        sources: input name -> how an upload was converted, in words.
        presets: preset name -> ``{"values": rows, "text": the box's text}``.
        upload_size: the side an uploaded picture is converted to (Fashion-MNIST's 28).
        note: why the Fashion-MNIST inputs are missing ("" when present).
        shown_input: the input the derived values belong to.
        kernel_values, output_values: the kernel K and ``Y = X ⋆ K`` as rows (``[]`` when
            the settings do not fit).
        titles: the three panels' captions.
        summary: the status line (without :attr:`note`).
    """

    explorer_name: ClassVar[str] = "KernelExplorer"
    script: ClassVar[str] = "kernel.js"
    #: Menus, the box and the file input: no slider.
    EXTRA_CONTROLS: ClassVar[tuple[str, ...]] = ("preset", "kernel_text", "input_choice",
                                                 "upload")

    preset = traitlets.Unicode("vertical edge 1x2").tag(sync=True)
    kernel_text = traitlets.Unicode("").tag(sync=True)
    input_choice = traitlets.Unicode(STRIPES).tag(sync=True)
    upload = traitlets.Dict().tag(sync=True)
    inputs = traitlets.Dict().tag(sync=True)
    sources = traitlets.Dict().tag(sync=True)
    presets = traitlets.Dict().tag(sync=True)
    upload_size = traitlets.Int(IMAGE_SIZE).tag(sync=True)
    note = traitlets.Unicode("").tag(sync=True)

    shown_input = traitlets.Unicode("").tag(sync=True)
    kernel_values = traitlets.List().tag(sync=True)
    output_values = traitlets.List().tag(sync=True)
    titles = traitlets.List(traitlets.Unicode()).tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        preset: str = "vertical edge 1x2",
        input_name: str = STRIPES,
        num_fashion: int = 6,
        data_root: str | None = None,
    ) -> None:
        """Load the inputs and compute the first state.

        Args:
            preset: the starting kernel, a key of :data:`KERNEL_PRESETS`.
            input_name: the starting input, :data:`STRIPES`, :data:`STRIPES_T`
                or one of the Fashion-MNIST names in :attr:`inputs`.
            num_fashion: how many Fashion-MNIST test images (one per class) to offer.
            data_root: passed to :func:`cnnlib.data.load_split`.

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
        self._tensors: dict[str, torch.Tensor] = {STRIPES: stripes_image()}
        self._tensors[STRIPES_T] = self._tensors[STRIPES].t().contiguous()  # (8, 6)
        note = ""
        try:
            self._tensors.update(_fashion_inputs(num_fashion, data_root))
        except data.DatasetNotFoundError as err:
            first_line = str(err).splitlines()[0] if str(err) else type(err).__name__
            note = (
                f"Fashion-MNIST was not found, so only the synthetic inputs are offered "
                f"({first_line})."
            )
        if input_name not in self._tensors:
            raise ValueError(f"unknown input {input_name!r}; choose one of {list(self._tensors)}")
        self._kernel = KERNEL_PRESETS[preset].clone()
        self._output: torch.Tensor | None = None
        super().__init__(preset=preset, kernel_text=kernel_to_text(KERNEL_PRESETS[preset]),
                         input_choice=input_name)
        self.note = note

    @traitlets.default("inputs")
    def _default_inputs(self) -> dict[str, list[list[float]]]:
        return {name: X.tolist() for name, X in self._tensors.items()}

    @traitlets.default("presets")
    def _default_presets(self) -> dict[str, dict[str, Any]]:
        return {name: {"values": K.tolist(), "text": kernel_to_text(K)}
                for name, K in KERNEL_PRESETS.items()}

    # -- the numbers, from cnnlib ----------------------------------------------------------

    def derived_names(self) -> tuple[str, ...]:
        return ("shown_input", "kernel_values", "output_values", "titles", "summary")

    def _on_control(self, change: dict) -> None:
        # Typing in the box while a preset is chosen means "my own kernel" (the front-end
        # switches the menu too; this is for code that sets kernel_text directly).
        if (change["name"] == "kernel_text" and self.preset in KERNEL_PRESETS
                and change["new"] != kernel_to_text(KERNEL_PRESETS[self.preset])):
            self.preset = CUSTOM  # its own change recomputes
            return
        self.recompute()

    def compute(self) -> dict[str, Any]:
        self._output = None
        values: dict[str, Any] = {}
        if self.upload:
            self._take_upload()
        choice = self.input_choice
        if self.preset != CUSTOM and self.preset not in KERNEL_PRESETS:
            raise ValueError(
                f"unknown preset {self.preset!r}; choose one of {[*KERNEL_PRESETS, CUSTOM]}")
        if choice not in self._tensors:
            raise ValueError(f"unknown input {choice!r}; choose one of {list(self._tensors)}")
        if self.preset == CUSTOM:
            K = parse_kernel(self.kernel_text)
        else:
            # The box shows the preset rounded to 4 digits; the kernel is the exact preset.
            K = KERNEL_PRESETS[self.preset].clone()
            values["kernel_text"] = kernel_to_text(K)
        X = self._tensors[choice]
        kh, kw = K.shape
        H, W = X.shape
        if kh > H or kw > W:
            raise ValueError(
                f"a {kh}×{kw} kernel does not fit inside the {H}×{W} input; "
                "choose a smaller kernel or a larger input"
            )
        Y = corr2d_vectorized(X, K)
        if not torch.isfinite(Y).all():
            raise ValueError(
                f"the output overflows float32 (its sums exceed about 3.4e38) with kernel "
                f"values up to {_format_g(K.abs().max().item(), 3)}; use smaller numbers"
            )
        self._kernel, self._output = K, Y
        summary = (
            f"X is {H}×{W}, K is {kh}×{kw}, so Y is {H - kh + 1}×{W - kw + 1}: "
            f"each output adds up {kh * kw} products. "
            # + 0.0: a product with zero may be -0.0, which the reader should not see as "-0"
            f"Y ranges from {_format_g(Y.min().item() + 0.0, 3)} to "
            f"{_format_g(Y.max().item() + 0.0, 3)}."
        )
        if choice in self.sources:
            summary += f" {self.sources[choice]}"
        return values | {
            "shown_input": choice,
            "kernel_values": K.tolist(),
            "output_values": Y.tolist(),
            "titles": [f"input X {H}×{W}", f"⋆ kernel K {kh}×{kw}",
                       f"= output Y {H - kh + 1}×{W - kw + 1}"],
            "summary": summary,
        }

    def _take_upload(self) -> None:
        """Convert the uploaded picture as the feature-map explorer does (Pillow), add it to
        the inputs and choose it. The upload is consumed either way, so a picture Pillow
        cannot read is reported once and the next change works without it; a kernel that
        does not fit leaves the picture added and chosen, for the next change.

        Raises:
            ValueError: naming the file and what was wrong with it.
        """
        name = str(self.upload.get("name") or "picture")
        content = self.upload.get("content")
        self.set_trait("upload", {})
        try:
            if content is None:
                raise ValueError("the upload holds no file content")
            image, steps = image_from_bytes(bytes(content), self.upload_size)
        except ValueError as err:
            raise ValueError(f"'{name}': {err}") from None
        key = UPLOAD_PREFIX + name
        self._tensors[key] = image
        self.set_trait("inputs", {**self.inputs, key: image.tolist()})
        self.set_trait("sources", {**self.sources, key: f"The upload was {'; '.join(steps)}."})
        self.set_trait("input_choice", key)

    def load_image_bytes(self, content: bytes, name: str = "picture") -> None:
        """Explore a picture given as file bytes, as if the reader had uploaded it."""
        self.upload = {"name": name, "content": content}

    # -- the old attributes, read from the current state ------------------------------------

    @property
    def kernel(self) -> torch.Tensor:
        """The kernel ``(kh, kw)`` behind the last valid picture."""
        return self._kernel

    @property
    def input(self) -> torch.Tensor:
        """The selected input ``(H, W)``."""
        return self._tensors[self.input_choice]

    @property
    def tensors(self) -> dict[str, torch.Tensor]:
        """Input name -> image ``(H, W)`` float32 (uploads included)."""
        return dict(self._tensors)

    @property
    def data_message(self) -> str:
        """Why the Fashion-MNIST inputs are missing ("" when present)."""
        return self.note

    @property
    def output(self) -> torch.Tensor | None:
        """``Y = corr2d(input, kernel)`` as a tensor, or None when the settings do not fit."""
        return self._output if not self.error else None

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it (the data note on a line of its own)."""
        line = self.error or self.summary
        return f"{line}\n{self.note}" if self.note else line

    def picture_png(self) -> bytes | None:
        """The matplotlib drawing of the same picture, for a page that cannot run the
        front-end (see :meth:`LiveExplorer.picture_png`)."""
        if self.output is None:
            return None
        return figure_to_png(show_corr2d(self.input, self._kernel, self._output))

    def page_state(self) -> dict[str, Any]:
        """The controls and the data the page computes from (inputs, presets)."""
        extra = ("inputs", "sources", "presets", "upload_size", "note")
        return super().page_state() | {name: getattr(self, name) for name in extra}
