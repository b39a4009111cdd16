"""The feature-map explorer: pick or upload an image, see what every layer of a LeNet makes of it.

Its static form, for readers without a running kernel, is
:func:`cnnlib.viz.feature_maps.feature_map_gallery`.
"""

from __future__ import annotations

import html
import io
import os

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image, UnidentifiedImageError
from torch import nn

from cnnlib import data
from cnnlib.explain.activations import (
    Probe,
    class_probabilities,
    probe,
    sequential_net,
    stage_indices,
)
from cnnlib.viz.common import figure_to_png
from cnnlib.viz.feature_maps import ProbeFigure, show_conv_kernels
from cnnlib.viz.kernels import as_image
from cnnlib.widgets import page
from cnnlib.widgets.base import Explorer

#: Side of the images LeNet was trained on.
IMAGE_SIZE = 28
#: Dropdown value meaning "no example chosen" (the slider decides).
NO_EXAMPLE = -1
#: How many misclassified test images the example list offers.
NUM_WRONG_EXAMPLES = 10
_ERROR_STYLE = "color:#b00020"


def trained_lenet(path: str | os.PathLike | None = None) -> nn.Module:
    """The notes' LeNet with the Fashion-MNIST weights committed in ``cnnlib/weights``.

    Args:
        path: another weights file made for :class:`cnnlib.models.lenet.LeNet`.

    Returns:
        The model in eval mode.

    Raises:
        FileNotFoundError: when the weights file is missing (make it with
            ``python scripts/train_lenet_checkpoint.py``).
    """
    from cnnlib.models import lenet

    return lenet.pretrained_lenet(path)


def image_from_bytes(content: bytes, size: int = IMAGE_SIZE) -> tuple[torch.Tensor, list[str]]:
    """Turn an uploaded picture into a Fashion-MNIST-like image.

    Fashion-MNIST images are 28x28 grayscale, a light object on a black
    background. So: transparent pixels become white, colours become grey, the
    picture is padded to a square (keeping its proportions) with its own
    background grey, shrunk to ``size`` x ``size``, and inverted when its
    background (the median of its border pixels) is light.

    Args:
        content: the file's bytes (PNG, JPEG, or any format Pillow reads).
        size: the side of the result.

    Returns:
        ``(image, steps)``: float32 ``(size, size)`` in [0, 1], and one short
        sentence per step taken, for the reader.

    Raises:
        ValueError: when the bytes are not an image Pillow can decode.
    """
    try:
        with Image.open(io.BytesIO(content)) as opened:
            opened.load()
            picture = opened.copy()
            kind = opened.format or "image"
    except UnidentifiedImageError:
        raise ValueError(
            f"its {len(content)} bytes are not in an image format Pillow knows; "
            "upload a PNG or JPEG picture"
        ) from None
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        raise ValueError(
            f"Pillow could not decode it ({err}); upload a PNG or JPEG picture"
        ) from None
    width, height = picture.size
    steps = [f"read a {kind} of {width}×{height} pixels ({picture.mode})"]
    if "A" in picture.getbands() or "transparency" in picture.info:
        white = Image.new("RGBA", picture.size, (255, 255, 255, 255))
        picture = Image.alpha_composite(white, picture.convert("RGBA"))
        steps.append("filled transparent pixels with white")
    if picture.mode != "L":
        picture = picture.convert("L")
        steps.append("converted to grayscale")
    pixels = np.asarray(picture, dtype=np.float64) / 255  # (H, W)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    background = float(np.median(border))
    if width != height:
        side = max(width, height)
        square = Image.new("L", (side, side), round(background * 255))
        square.paste(picture, ((side - width) // 2, (side - height) // 2))
        picture = square
        steps.append(f"padded to {side}×{side} with its background grey")
    if picture.size != (size, size):
        picture = picture.resize((size, size), Image.Resampling.LANCZOS)
        steps.append(f"resized to {size}×{size}")
    image = torch.from_numpy(np.asarray(picture, dtype=np.float32) / 255)  # (size, size)
    if background > 0.5:
        image = 1 - image
        steps.append(
            f"inverted, because its background is light (border median {background:.2f}) "
            "while Fashion-MNIST's is black"
        )
    return image, steps


def _example_options(
    labels: torch.Tensor, predicted: torch.Tensor
) -> list[tuple[str, int]]:
    """Dropdown entries: the first test image of each class, then misclassified ones."""
    options = [("choose an example ...", NO_EXAMPLE)]
    truth, guess = labels.tolist(), predicted.tolist()
    first: dict[int, int] = {}
    for i, label in enumerate(truth):
        first.setdefault(label, i)
    for label in sorted(first):
        i = first[label]
        verdict = "" if guess[i] == label else f", predicted {data.LABELS[guess[i]]} (wrong)"
        options.append((f"#{i} {data.LABELS[label]}{verdict}", i))
    wrong = [i for i in range(len(truth)) if guess[i] != truth[i]][:NUM_WRONG_EXAMPLES]
    for i in wrong:
        options.append(
            (f"#{i} {data.LABELS[truth[i]]}, predicted {data.LABELS[guess[i]]} (wrong)", i)
        )
    return options


class FeatureMapExplorer(Explorer):
    """Choose a test image (or upload one) and see every layer's output for it.

    The picture shows the input and the class probabilities (predicted class
    blue when right, red when wrong; the true class in bold), then one row per
    layer of ``model.net``: convolution and pooling outputs as mosaics of their
    maps, dense outputs as bar strips. Below it, every convolution's learned
    kernels (drawn once: they do not depend on the image).

    Attributes:
        model: the classifier being explored.
        images: the test images ``(N, 28, 28)``; labels: their classes ``(N,)``.
        predicted: the model's class for every test image ``(N,)``.
        example: dropdown of interesting test images (one per class, misclassified ones).
        index: slider over the test images.
        upload: a file upload for your own picture.
        stages_only: checkbox: show only each stage's output (see ``stage_indices``).
        input_image: the image shown now, ``(28, 28)`` float32 in [0, 1].
        input_label: its true class, or None for an upload.
        source: where it came from, e.g. ``"test image #7"`` or ``"upload 'shoe.png'"``.
        upload_steps: what was done to the last upload, one sentence per step.
        probe: what the model computed for ``input_image`` (see ``Probe``).
        kernels: conv layer position in ``model.net`` -> its weight ``(C_out, C_in, kh, kw)``.
        kernel_image: the PNG of the learned kernels.
        data_message: why the test images are missing ("" when present).
    """

    def __init__(
        self,
        model: nn.Module | None = None,
        images: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        index: int = 0,
        stages_only: bool = False,
        data_root: str | os.PathLike | None = None,
        dpi: int | None = None,
    ) -> None:
        """Build the controls and draw the first picture.

        Args:
            model: a classifier with ``model.net`` an ``nn.Sequential`` taking
                ``(N, 1, 28, 28)``; default: :func:`trained_lenet`.
            images: test images ``(N, 28, 28)`` (uint8 or float in [0, 1]);
                default: the Fashion-MNIST test split.
            labels: their classes ``(N,)``; required with ``images``.
            index: the test image shown first.
            stages_only: start with only the stage outputs shown.
            data_root: passed to :func:`cnnlib.data.load_split`.
            dpi: resolution of the PNG (default: the figure style's, cnnlib.viz.style).

        Raises:
            ValueError: for images that are not ``(N, 28, 28)``, labels of the
                wrong length, or an ``index`` outside ``0..N-1``.
        """
        self.model = trained_lenet() if model is None else model
        sequential_net(self.model)  # fail early, with a clear message, for other models
        self.data_message = ""
        if images is None:
            try:
                images, labels = data.load_split(train=False, root=data_root)
            except data.DatasetNotFoundError as err:
                self.data_message = (
                    "Fashion-MNIST was not found, so only uploads can be explored "
                    f"({str(err).splitlines()[0]})."
                )
                images = torch.zeros((1, IMAGE_SIZE, IMAGE_SIZE), dtype=torch.uint8)
                labels = None
        if images.ndim != 3 or tuple(images.shape[1:]) != (IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(f"images must be (N, 28, 28); got {tuple(images.shape)}")
        if labels is not None and labels.shape != images.shape[:1]:
            raise ValueError(f"labels must be ({images.shape[0]},) to match the images; "
                             f"got {tuple(labels.shape)}")
        if not 0 <= index < images.shape[0]:
            raise ValueError(f"index must be in 0..{images.shape[0] - 1}, got {index}")
        self.images, self.labels = images, labels
        self.predicted = class_probabilities(self.model, images).argmax(dim=1)
        self.kernels = {i: layer.weight.detach().cpu().clone()
                        for i, layer in enumerate(sequential_net(self.model))
                        if isinstance(layer, nn.Conv2d)}
        options = ([("choose an example ...", NO_EXAMPLE)] if labels is None or self.data_message
                   else _example_options(labels, self.predicted))
        self.example = widgets.Dropdown(options=options, value=NO_EXAMPLE, description="examples",
                                        layout=widgets.Layout(width="max-content"))
        self.index = widgets.IntSlider(value=index, min=0, max=images.shape[0] - 1,
                                       description="test image", continuous_update=False)
        # As wide as its label: ipywidgets gives every button one short fixed width, which
        # cut this label to "upload a pictur…" in JupyterLab.
        self.upload = widgets.FileUpload(accept="image/*", multiple=False,
                                         description="upload a picture",
                                         layout=widgets.Layout(width="max-content"))
        self.stages_only = widgets.Checkbox(value=stages_only, description="stage outputs only")
        self.upload_steps: list[str] = []
        self._figures: dict[bool, ProbeFigure] = {}
        self._syncing = False
        self._select_test_image(index)
        super().__init__([self.example, self.index, self.upload, self.stages_only], dpi=dpi)
        self.kernel_image = widgets.Image(format="png")
        if self.kernels:
            kernels = show_conv_kernels(self.model)
            self.kernel_image.value = figure_to_png(kernels, dpi=self.dpi)
        self.widget.children = (
            *self.widget.children,
            widgets.HTML("<b>Learned kernels</b> (the same for every image)"),
            self.kernel_image,
        )
        self._describe()

    def page_controls(self) -> list:
        # The example images (one per class, then misclassified ones), all layers or stages.
        examples = [value for _, value in self.example._options_full if value != NO_EXAMPLE]
        return [page.menu(self, "example", examples), page.checkbox(self, "stages_only")]

    # -- drawing -------------------------------------------------------------------

    def render(self) -> Figure:
        """The probe of the current image, drawn into a figure reused between images."""
        self.probe = probe(self.model, self.input_image, self.input_label)
        key = bool(self.stages_only.value)
        if key not in self._figures:
            layers = stage_indices(self.model) if key else None
            self._figures[key] = ProbeFigure(self.probe, layers)
            return self._figures[key].figure
        return self._figures[key].update(self.probe)

    # -- controls ------------------------------------------------------------------

    def _on_change(self, change: dict) -> None:
        if self._syncing:
            return
        # An exception in a widget callback vanishes into the kernel log where the
        # reader never sees it; report every failure in the status line instead.
        try:
            owner = change["owner"]
            if owner is self.example:
                self._example_chosen(change["new"])
            elif owner is self.index:
                self._clear_example()
                self._select_test_image(change["new"])
                self._redraw()
            elif owner is self.upload:
                self._uploaded(change["new"])
            else:
                self._redraw()
        except Exception as err:
            self._show_error(f"could not redraw: {type(err).__name__}: {err}")

    def _example_chosen(self, index: int) -> None:
        if index == NO_EXAMPLE:
            return
        self._syncing = True  # move the slider without triggering a second redraw
        try:
            self.index.value = index
        finally:
            self._syncing = False
        self._select_test_image(index)
        self._redraw()

    def _clear_example(self) -> None:
        self._syncing = True
        try:
            self.example.value = NO_EXAMPLE
        finally:
            self._syncing = False

    def _select_test_image(self, index: int) -> None:
        self.input_image = as_image(self.images[index])  # (28, 28) float32
        self.input_label = None if self.labels is None else int(self.labels[index])
        self.source = f"test image #{index}"
        self.upload_steps = []

    def _uploaded(self, files: tuple | list | dict) -> None:
        # ipywidgets 8 gives a tuple of dicts (name, type, size, content, last_modified);
        # an empty tuple means the upload was cleared.
        if not files:
            return
        item = files[0] if isinstance(files, (tuple, list)) else next(iter(files.values()))
        name = item.get("name", "upload")
        try:
            image, steps = image_from_bytes(bytes(item["content"]))
        except ValueError as err:
            self._show_error(f"'{name}': {err}. The picture still shows {self.source}.")
            return
        self.input_image, self.input_label = image, None
        self.source = f"upload '{name}'"
        self.upload_steps = steps
        self._clear_example()
        self._redraw()

    def load_image_bytes(self, content: bytes, name: str = "picture") -> None:
        """Explore a picture given as file bytes, as if it had been uploaded."""
        self._uploaded(({"name": name, "content": content},))

    def _redraw(self) -> None:
        self.refresh()
        self._describe()

    # -- status line ----------------------------------------------------------------

    def _describe(self) -> None:
        p: Probe = self.probe
        name = data.LABELS[p.predicted] if p.probs.numel() == len(data.LABELS) else p.predicted
        text = f"{self.source}: predicted {name} with probability {float(p.probs.max()):.2f}"
        if p.label is not None:
            verdict = "right" if p.correct else "wrong"
            text += f"; its label is {data.LABELS[p.label]}, so the prediction is {verdict}"
        message = html.escape(text + ".")
        if self.upload_steps:
            message += "<br>The upload was " + html.escape("; ".join(self.upload_steps)) + "."
        self.status.value = self._with_data_note(message)

    def _show_error(self, message: str) -> None:
        self.status.value = self._with_data_note(
            f'<span style="{_ERROR_STYLE}">{html.escape(message)}</span>'
        )

    def _with_data_note(self, message_html: str) -> str:
        if not self.data_message:
            return message_html
        return f"{message_html}<br><i>{html.escape(self.data_message)}</i>"
