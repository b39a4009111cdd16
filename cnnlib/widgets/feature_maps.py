"""The feature-map explorer: draw a garment, pick or upload an image, see what every layer of
a LeNet makes of it, as you draw.

One front-end (``cnnlib/web/explorers/feature-maps.js``) draws it in JupyterLab, where
:class:`FeatureMapExplorer` runs the trained LeNet in PyTorch and syncs every layer's output,
and on the website, where the same front-end runs the shipped LeNet in the reader's browser
(see :mod:`cnnlib.widgets.live`). Its static form, for readers without a running kernel, is
:func:`cnnlib.viz.feature_maps.feature_map_gallery`.
"""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import traitlets
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
from cnnlib.widgets.live import WEB_DIR, LiveExplorer

#: Side of the images LeNet was trained on.
IMAGE_SIZE = 28
#: Dropdown value meaning "no example chosen" (the slider decides).
NO_EXAMPLE = -1
#: How many misclassified test images the example list offers.
NUM_WRONG_EXAMPLES = 10


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


# -- the live explorer: one front-end for JupyterLab and the website (issue 21) ----------------

#: Pixels of one drawing or upload: the 28x28 input, row by row.
NUM_PIXELS = IMAGE_SIZE * IMAGE_SIZE
#: Decimals kept of the values sent to the front-end (1e-6: far below what a colour shows,
#: far below the 1e-4 the browser tests hold the page to, and a third of the bytes).
_DECIMALS = 6


def _rounded(values: torch.Tensor) -> list[float]:
    """A tensor's values as a flat list of floats rounded to :data:`_DECIMALS` decimals."""
    return [round(v, _DECIMALS) for v in values.flatten().tolist()]


def probability_text(p: float) -> str:
    """``f"{p:.2f}"``: the probability as the status line writes it."""
    return f"{p:.2f}"


class FeatureMapExplorer(LiveExplorer):
    """Draw a garment, choose a test image or upload a picture; see LeNet's feature maps and
    its ten class probabilities change as you draw.

    One front-end (``cnnlib/web/explorers/feature-maps.js``) draws it in JupyterLab, where
    this class runs the trained LeNet in PyTorch (:func:`cnnlib.explain.activations.probe`)
    and syncs every layer's output, and on the website, where the same front-end runs the
    shipped LeNet in the reader's browser (``CNNNetworks.load("lenet")``, onnxruntime-web).
    The controls: a menu of test images (one per class, then misclassified ones; their
    pixels are sent from Python), a drawing canvas (mouse, pen, touch) with a Clear button,
    an image upload (decoded in the browser exactly as :func:`image_from_bytes` does) and a
    "stage outputs only" checkbox.

    Attributes:
        model: the classifier being explored.
        example: the test image shown (its number in the test split), or -1 when the input
            is a drawing or an upload.
        drawing: the reader's 28×28 input, row by row, values in [0, 1] (light garment on a
            dark background, as Fashion-MNIST); ``[]`` when a test image is shown.
        input_name: where a drawing came from, e.g. ``"your drawing"`` or
            ``"upload 'shoe.png'"`` ("" for a test image); ``source`` says where the image
            shown came from, either way (``"test image #7"``).
        upload_steps: what was done to the last upload, one sentence per step.
        stages_only: show only each stage's output (see ``stage_indices``).
        request: a counter the front-end raises with every new input; ``answered`` is the
            request the derived values belong to.
        gallery: the test images the menu offers: ``index``, ``text``, ``label``, ``scale``
            and ``pixels`` (uint8 values with scale 255, else floats with scale 1).
        layers: every map the front-end can show: ``name`` (``"net.0"``), ``index``,
            ``layer`` (the class name) and ``stage`` (whether it ends a stage).
        classes: the class names.
        probabilities: the ten class probabilities; maps: layer name -> ``shape`` (without
            the batch) and ``data`` (row-major); predicted: the top class; label: the true
            class (None for a drawing); status: the status line; engine: ``"python"``.
        kernels_png: the learned kernels of every convolution, a base64 PNG drawn by
            :func:`~cnnlib.viz.feature_maps.show_conv_kernels` (the same for every image);
            kernels: conv layer position in ``model.net`` -> its weight ``(C_out, C_in, kh, kw)``.
        input_image: the image shown now, ``(28, 28)`` float32; probe: what the model
            computed for it (see ``Probe``).
    """

    explorer_name: ClassVar[str] = "FeatureMapExplorer"
    script: ClassVar[str] = "feature-maps.js"
    EXTRA_CONTROLS: ClassVar[tuple[str, ...]] = (
        "example", "drawing", "input_name", "upload_steps", "stages_only", "request")

    example = traitlets.Int(0).tag(sync=True)
    drawing = traitlets.List().tag(sync=True)
    input_name = traitlets.Unicode("").tag(sync=True)
    upload_steps = traitlets.List(traitlets.Unicode()).tag(sync=True)
    stages_only = traitlets.Bool(False).tag(sync=True)
    request = traitlets.Int(0).tag(sync=True)

    gallery = traitlets.List().tag(sync=True)
    layers = traitlets.List().tag(sync=True)
    classes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    kernels_png = traitlets.Unicode("").tag(sync=True)

    probabilities = traitlets.List().tag(sync=True)
    maps = traitlets.Dict().tag(sync=True)
    predicted = traitlets.Int(-1).tag(sync=True)
    label = traitlets.Int(None, allow_none=True).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    engine = traitlets.Unicode("python").tag(sync=True)
    answered = traitlets.Int(-1).tag(sync=True)

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
        """Choose the gallery and compute the first state.

        Args:
            model: a classifier with ``model.net`` an ``nn.Sequential`` taking
                ``(N, 1, 28, 28)``; default: :func:`trained_lenet`.
            images: test images ``(N, 28, 28)`` (uint8 or float in [0, 1]);
                default: the Fashion-MNIST test split.
            labels: their classes ``(N,)``; required with ``images``.
            index: the test image shown first (added to the menu when it is not in it).
            stages_only: start with only the stage outputs shown.
            data_root: passed to :func:`cnnlib.data.load_split`.
            dpi: resolution of Python's pictures (default: the figure style's).

        Raises:
            TypeError: for a model without a sequential ``net``.
            ValueError: for images that are not ``(N, 28, 28)``, labels missing or of the
                wrong length, or an ``index`` outside ``0..N-1``.
        """
        self.model = trained_lenet() if model is None else model
        net = sequential_net(self.model)  # fail early, with a clear message, for other models
        if images is None:
            images, labels = data.load_split(train=False, root=data_root)
        if images.ndim != 3 or tuple(images.shape[1:]) != (IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(f"images must be (N, 28, 28); got {tuple(images.shape)}")
        if labels is None or labels.shape != images.shape[:1]:
            got = "none" if labels is None else tuple(labels.shape)
            raise ValueError(f"labels must be ({images.shape[0]},) to match the images; "
                             f"got {got}")
        if not 0 <= index < images.shape[0]:
            raise ValueError(f"index must be in 0..{images.shape[0] - 1}, got {index}")
        self.images, self.labels = images, labels
        self.predicted_all = class_probabilities(self.model, images).argmax(dim=1)
        options = [(text, i) for text, i in _example_options(labels, self.predicted_all)
                   if i != NO_EXAMPLE]
        if index not in [i for _, i in options]:
            options.insert(0, (f"#{index} {data.LABELS[int(labels[index])]}", index))
        self._gallery_indices = [i for _, i in options]
        self._gallery_options = options
        stages = set(stage_indices(self.model))
        self._layers = [
            {"name": f"net.{i}", "index": i, "layer": type(layer).__name__, "stage": i in stages}
            for i, layer in enumerate(net)
            if i < len(net) - 1 and not isinstance(layer, nn.Flatten)
        ]
        self.kernels = {i: layer.weight.detach().cpu().clone()
                        for i, layer in enumerate(net) if isinstance(layer, nn.Conv2d)}
        self.dpi = dpi
        self.probe: Probe | None = None
        self.input_image = as_image(images[index])
        super().__init__(example=index, stages_only=stages_only)
        if self.kernels:
            png = figure_to_png(show_conv_kernels(self.model), dpi=dpi)
            self.kernels_png = base64.b64encode(png).decode("ascii")

    @traitlets.default("gallery")
    def _default_gallery(self) -> list[dict[str, Any]]:
        entries = []
        for text, i in self._gallery_options:
            image = self.images[i]
            if image.dtype == torch.uint8:  # 0..255: a third of the bytes of the floats
                pixels, scale = image.flatten().tolist(), 255
            else:
                pixels, scale = as_image(image).flatten().tolist(), 1
            entries.append({"index": i, "text": text, "label": int(self.labels[i]),
                            "scale": scale, "pixels": pixels})
        return entries

    @traitlets.default("layers")
    def _default_layers(self) -> list[dict[str, Any]]:
        return self._layers

    @traitlets.default("classes")
    def _default_classes(self) -> list[str]:
        return list(data.LABELS)

    # -- the numbers, from PyTorch ----------------------------------------------------------

    def derived_names(self) -> tuple[str, ...]:
        return ("probabilities", "maps", "predicted", "label", "status", "engine", "answered")

    def _input(self) -> tuple[torch.Tensor, int | None, str]:
        """(image, true class or None, source) of the current controls.

        Raises:
            ValueError: for a drawing that is not 784 numbers in [0, 1], or an example that
                the menu does not offer.
        """
        if self.drawing:
            values = self.drawing
            if len(values) != NUM_PIXELS:
                raise ValueError(
                    f"a drawing must be {IMAGE_SIZE}×{IMAGE_SIZE} = {NUM_PIXELS} values in "
                    f"[0, 1], row by row; got {len(values)} values")
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                       and 0 <= v <= 1 for v in values):
                raise ValueError(
                    "a drawing's values must be numbers in [0, 1] (0 is the dark background, "
                    "1 the light garment)")
            image = torch.tensor(values, dtype=torch.float32).reshape(IMAGE_SIZE, IMAGE_SIZE)
            return image, None, self.input_name or "your drawing"
        if self.example not in self._gallery_indices:
            raise ValueError(
                f"test image #{self.example} is not in the menu; choose one of "
                f"{self._gallery_indices}")
        return (as_image(self.images[self.example]), int(self.labels[self.example]),
                f"test image #{self.example}")

    def compute(self) -> dict[str, Any]:
        self.probe = None
        image, label, source = self._input()
        p = probe(self.model, image, label)
        self.probe, self.input_image = p, image
        maps = {f"net.{a.index}": {"shape": list(a.value.shape), "data": _rounded(a.value)}
                for a in p.activations[:-1] if a.name != "Flatten"}
        return {
            "probabilities": _rounded(p.probs),
            "maps": maps,
            "predicted": p.predicted,
            "label": label,
            "status": self._describe(p, source),
            "engine": "python",
            "answered": self.request,
        }

    def _describe(self, p: Probe, source: str) -> str:
        """The status line: the top class and its probability (what the front-end writes)."""
        names = self.classes if p.probs.numel() == len(self.classes) else None
        name = names[p.predicted] if names else str(p.predicted)
        text = (f"{source}: predicted {name} with probability "
                f"{probability_text(float(p.probs.max()))}")
        if p.label is not None:
            verdict = "right" if p.correct else "wrong"
            truth = names[p.label] if names else str(p.label)
            text += f"; its label is {truth}, so the prediction is {verdict}"
        text += "."
        if self.upload_steps and self.drawing:
            text += " The upload was " + "; ".join(self.upload_steps) + "."
        return text

    # -- what a reader or a notebook does ---------------------------------------------------

    def show_example(self, index: int) -> None:
        """Show test image ``index`` (one the menu offers), as choosing it in the menu does."""
        with self.hold_trait_notifications():
            self.drawing, self.input_name, self.upload_steps = [], "", []
            self.request += 1
            self.example = index

    def load_image_bytes(self, content: bytes, name: str = "picture") -> None:
        """Explore a picture given as file bytes, as if it had been uploaded.

        Raises:
            ValueError: when the bytes are not an image Pillow can decode.
        """
        image, steps = image_from_bytes(content)
        with self.hold_trait_notifications():
            self.example, self.input_name = NO_EXAMPLE, f"upload '{name}'"
            self.upload_steps = steps
            self.request += 1
            self.drawing = image.flatten().tolist()

    @property
    def source(self) -> str:
        """Where the image shown came from: ``"test image #7"``, ``"your drawing"``, ..."""
        if self.drawing:
            return self.input_name or "your drawing"
        return f"test image #{self.example}"

    @property
    def input_label(self) -> int | None:
        """The true class of the image shown, or None for a drawing or an upload."""
        return self.label

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it."""
        return self.error or self.status

    def picture_png(self) -> bytes | None:
        """Python's drawing of the same probe (:class:`ProbeFigure`), for a page that
        cannot run the front-end."""
        if self.probe is None:
            return None
        layers = stage_indices(self.model) if self.stages_only else None
        return figure_to_png(ProbeFigure(self.probe, layers).figure, dpi=self.dpi)

    def picture_alt(self) -> str:
        return f"LeNet's feature maps and class probabilities: {self.status_text}"

    def page_state(self) -> dict[str, Any]:
        """The controls, the gallery's pixels, and Python's answer for the first image: the
        page draws that answer while the network loads (and keeps it if it cannot run)."""
        derived = {name: getattr(self, name) for name in self.derived_names()}
        return super().page_state() | derived | {
            "gallery": self.gallery, "layers": self.layers, "classes": self.classes,
            "kernels_png": self.kernels_png}

    def page_scripts(self) -> list[Path]:
        """The host, the networks' loader (``cnn-networks.js``) and the front-end."""
        return [*super().page_scripts()[:-1], WEB_DIR / "cnn-networks.js",
                WEB_DIR / "explorers" / self.script]
