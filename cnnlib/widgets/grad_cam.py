"""The Grad-CAM explorer: where the trained ResNet-18 found evidence for each of its top classes.

Pick a test image (the ten examples, one per class, then a few the network gets
wrong), a class (its top-1, top-2 or top-3 guess, or the true class) and one of the last
three stages of the network; the picture shows the image, the Grad-CAM map of that class
at that stage (computed by :func:`cnnlib.explain.grad_cam`), the map at the stage's own
resolution, and the top-3 probabilities.

One front-end (``cnnlib/web/explorers/grad-cam.js``) draws it. In JupyterLab this class
computes every number with PyTorch (:func:`cnnlib.explain.grad_cam`, autograd). On the
website the front-end runs the shipped ResNet-18 in the reader's browser
(``CNNNetworks.load("resnet18")``, onnxruntime-web) on the pixels Python sends, and forms
the map from the stage's feature maps there. It needs one more thing, the channel weights
(the spatial mean of d score / d A), and no gradient runs in the browser:

* at the last stage the weights are exact without one. ResNet-18's head is global average
  pooling then one linear layer, ``score_c = sum_k W[c, k] * mean_ij A[k, i, j] + b_c``, so
  ``d score_c / d A[k, i, j] = W[c, k] / (h * w)`` at every position, and its mean, the
  Grad-CAM weight, is ``W[c, k] / (h * w)``: the class's row of the linear layer, sent as
  data (:attr:`GradCamExplorer.head`), divided by the map's size;
* at an earlier stage the gradient goes back through the later residual blocks (their
  ReLUs, batch norms and convolutions at this very input), which an inference-only
  network in the browser cannot do. For the gallery images, which are all the explorer
  offers, Python computes those weights with autograd when it is built
  (:attr:`GradCamExplorer.gradients`); the browser still computes the feature maps, the
  weighted sum, the ReLU, the upsampling and the probabilities.
"""

from __future__ import annotations

import base64
import time
from typing import Any, ClassVar

import torch
import traitlets
from torch import nn

from cnnlib import data
from cnnlib.explain import grad_cam
from cnnlib.explain.attribution import GradCAMResult, resolve_layer
from cnnlib.models.base import evaluating
from cnnlib.viz.common import figure_to_png
from cnnlib.viz.explain import HEATMAP_CMAP
from cnnlib.viz.grad_cam import show_class_cam
from cnnlib.widgets.examples import example_images
from cnnlib.widgets.live import WEB_DIR, LiveExplorer

#: The classes the explorer can explain: the model's three best guesses and the truth.
TARGETS = (("top-1", 0), ("top-2", 1), ("top-3", 2), ("true class", -1))
#: Stages of ResNet-18 offered as target layers, last first (2x2, 4x4, 8x8 maps at 64 px).
LAYERS = ("net.b5", "net.b4", "net.b3")
#: Misclassified test images added after the ten examples.
NUM_WRONG = 3
#: Test images searched for mistakes (the first ones of the split): the model runs over
#: them once at construction, about a second on one CPU thread at 64 px.
SEARCH = 1000
#: The shipped network the website's front-end runs (``CNNNetworks.load``).
NETWORK = "resnet18"


def probabilities_of(model: nn.Module, X: torch.Tensor, batch_size: int = 250) -> torch.Tensor:
    """``softmax(model(X))`` ``(N, num_classes)`` in eval mode, without gradients, in batches."""
    with torch.no_grad():
        return torch.cat([torch.softmax(model(X[i:i + batch_size]).float(), dim=1)
                          for i in range(0, X.shape[0], batch_size)])


def misclassified(model: nn.Module, side: int, count: int = NUM_WRONG, search: int = SEARCH,
                  exclude: tuple[int, ...] = (), root: str | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """The first ``count`` of the first ``search`` test images that ``model`` gets wrong.

    Test-split indices in ``exclude`` (images already shown) are skipped.

    Returns:
        ``(X, y, indices)`` as :func:`cnnlib.widgets.examples.example_images` returns them.
    """
    X, y, indices = example_images(side, indices=list(range(search)), root=root)
    predicted = probabilities_of(model.eval(), X).argmax(dim=1)
    wrong = [i for i in torch.nonzero(predicted != y).flatten().tolist()
             if indices[i] not in exclude][:count]
    return X[wrong], y[wrong], [indices[i] for i in wrong]


def channel_weights(model: nn.Module, X: torch.Tensor, layer: str, classes: list[int]
                    ) -> torch.Tensor:
    """Grad-CAM's channel weights of one image for several classes, by autograd.

    The weight of channel ``k`` for class ``c`` is the spatial mean of
    ``d score_c / d A_k``, ``A`` being ``layer``'s output, exactly as
    :func:`cnnlib.explain.grad_cam` forms it (which does not return it).

    Args:
        model: the classifier (run in eval mode, its mode restored).
        X: one image ``(1, C, H, W)``.
        layer: the target layer's dotted name.
        classes: the classes to explain.

    Returns:
        ``(len(classes), channels)`` float32.

    Raises:
        ValueError: for an unknown layer, or a layer whose output is not 4-D.
    """
    module, name = resolve_layer(model, layer)
    captured: list[torch.Tensor] = []

    def capture(_module: nn.Module, _inputs: object, output: torch.Tensor) -> torch.Tensor:
        if output.ndim != 4:
            raise ValueError(f"{name!r} outputs {tuple(output.shape)}, not feature maps")
        A = output.detach().requires_grad_(True)
        captured.append(A)
        return A.clone()

    handle = module.register_forward_hook(capture)
    try:
        # One copy of the image per class: in eval mode each copy's score depends on
        # that copy alone, so one backward pass gives every class's gradient.
        batch = X.detach().expand(len(classes), *X.shape[1:])
        with evaluating(model), torch.enable_grad():
            logits = model(batch)
            index = torch.tensor(classes, dtype=torch.int64)[:, None]
            (dA,) = torch.autograd.grad(logits.gather(1, index).sum(), captured[0])
    finally:
        handle.remove()
    return dA.mean(dim=(2, 3)).float()


def pooled_linear_head(model: nn.Module, layer: str) -> nn.Linear | None:
    """The linear layer of ``model``'s head when ``layer`` feeds it through global average
    pooling alone (ResNet-18's ``net.b5`` → ``net.last``), else None.

    Only then is ``d score_c / d A[k, i, j] = W[c, k] / (h * w)`` at every position, and
    Grad-CAM's channel weights follow from the weights with no gradient at all.
    """
    net = getattr(model, "net", None)
    if not isinstance(net, nn.Sequential) or not layer.startswith("net."):
        return None
    names = [name for name, _ in net.named_children()]
    stage = layer[len("net."):]
    if stage not in names or names.index(stage) != len(names) - 2:
        return None
    head = list(net.children())[-1]
    parts = list(head.children()) if isinstance(head, nn.Sequential) else [head]
    if (len(parts) == 3 and isinstance(parts[0], nn.AdaptiveAvgPool2d)
            and parts[0].output_size in (1, (1, 1)) and isinstance(parts[1], nn.Flatten)
            and isinstance(parts[2], nn.Linear)):
        return parts[2]
    return None


def map_name(model: nn.Module, layer: str) -> str:
    """The exported network's output (``scripts/export_onnx.py``) that is ``layer``'s output:
    the last layer of a sequential stage (``"net.b5"`` → ``"net.b5.1"``), else the layer."""
    module, name = resolve_layer(model, layer)
    if isinstance(module, nn.Sequential) and len(module):
        return f"{name}.{list(module._modules)[-1]}"
    return name


def image_payload(image: torch.Tensor) -> dict[str, Any]:
    """One image ``(1, H, W)`` for the page: its gray levels when it holds whole
    255ths (the test split resized as in training does), else its float32 bytes; base64."""
    levels = image[0] * 255
    if torch.equal(levels, levels.round()) and float(levels.max()) <= 255:
        raw = levels.round().to(torch.uint8).numpy().tobytes()
        return {"dtype": "uint8", "base64": base64.b64encode(raw).decode("ascii")}
    raw = image[0].float().numpy().astype("<f4").tobytes()
    return {"dtype": "float32", "base64": base64.b64encode(raw).decode("ascii")}


def colormap(name: str = HEATMAP_CMAP, size: int = 256) -> list[str]:
    """The matplotlib colormap the picture uses, as ``size`` ``"#rrggbb"`` colours."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps[name].resampled(size)
    return [to_hex(cmap(i)) for i in range(size)]


class GradCamExplorer(LiveExplorer):
    """Grad-CAM of a chosen class at a chosen stage, for a chosen test image.

    Drawn by its one front-end (``cnnlib/web/explorers/grad-cam.js``): three menus (the
    image, the class, the stage); the image, the map over it, the map at the stage's
    resolution with its values, and the top-3 probabilities.

    Attributes:
        model: the classifier (eval mode).
        X: the images ``(N, 1, side, side)``; y: their classes ``(N,)``;
            indices: their positions in the test split.
        probabilities: the model's class probabilities for every image ``(N, num_classes)``.
        example, target, layer: the controls (position 0..N-1; a rank of :data:`TARGETS`;
            a stage's dotted name).
        class_idx: the class explained now.
        result: the :class:`~cnnlib.explain.attribution.GradCAMResult` shown now.
        search_seconds: how long the search for misclassified images took (0 without one).
        images: per image, its menu text, class, test index and pixels (the page's input).
        layers, targets, classes: the menus' options and the class names.
        head: ``{"layer", "weight"}``: the last stage and the rows of the linear layer it
            feeds through global average pooling (the page's exact channel weights), or {}.
        gradients: layer -> image position -> class -> channel weights, by autograd, for
            the other stages and every class the menu can reach.
        maps: layer -> the exported network's output holding its feature maps.
        raw_cam, cam, probabilities_shown, activations_shape, summary: the derived values;
            explained: the image and stage they belong to.
    """

    explorer_name: ClassVar[str] = "GradCamExplorer"
    script: ClassVar[str] = "grad-cam.js"
    EXTRA_CONTROLS: ClassVar[tuple[str, ...]] = ("example", "target", "layer")

    # CInt: a page menu's value (the text "3") sets it too.
    example = traitlets.CInt(0).tag(sync=True)
    target = traitlets.CInt(0).tag(sync=True)
    layer = traitlets.Unicode("net.b5").tag(sync=True)

    network = traitlets.Unicode(NETWORK).tag(sync=True)
    images = traitlets.List().tag(sync=True)
    side = traitlets.Int(0).tag(sync=True)
    layers = traitlets.List(traitlets.Unicode()).tag(sync=True)
    targets = traitlets.List().tag(sync=True)
    classes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    head = traitlets.Dict().tag(sync=True)
    gradients = traitlets.Dict().tag(sync=True)
    maps = traitlets.Dict().tag(sync=True)
    colors = traitlets.List(traitlets.Unicode()).tag(sync=True)

    class_idx = traitlets.Int(0).tag(sync=True)
    probabilities_shown = traitlets.List().tag(sync=True)
    raw_cam = traitlets.List().tag(sync=True)
    cam = traitlets.List().tag(sync=True)
    activations_shape = traitlets.List().tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    explained = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        model: nn.Module | None = None,
        X: torch.Tensor | None = None,
        y: torch.Tensor | None = None,
        indices: list[int] | None = None,
        layers: tuple[str, ...] = LAYERS,
        num_wrong: int = NUM_WRONG,
        search: int = SEARCH,
    ) -> None:
        """Prepare the images, the menus and the page's data; compute the first image's
        top-1 map at the first layer.

        Args:
            model: a classifier of ``(N, 1, side, side)`` images; default: the shipped
                ResNet-18, ``pretrained("resnet18")`` (64 px).
            X: images ``(N, 1, side, side)`` in [0, 1]; default: the ten example images
                at the model's side, then ``num_wrong`` misclassified test images.
            y: their classes ``(N,)``, required with ``X``; indices: their test-split
                indices (for the menu; default 0..N-1).
            layers: dotted names of the target layers the menu offers.
            num_wrong, search: how many misclassified images to add, among how many
                of the first test images (only when ``X`` is None).

        Raises:
            ValueError/TypeError: for images that are not ``(N, C, H, W)`` floats, labels
                or indices of the wrong length, an empty or unknown layer list.
        """
        from cnnlib.models.pretrained import image_side, pretrained

        self.model = (pretrained("resnet18") if model is None else model).eval()
        self.search_seconds = 0.0
        if X is None:
            if y is not None:
                raise ValueError("y was given without X; pass both or neither")
            side = image_side("resnet18")
            X, y, indices = example_images(side)
            if num_wrong > 0:
                start = time.perf_counter()
                X_w, y_w, i_w = misclassified(self.model, side, num_wrong, search,
                                              exclude=tuple(indices))
                self.search_seconds = time.perf_counter() - start
                X, y, indices = torch.cat([X, X_w]), torch.cat([y, y_w]), indices + i_w
        if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
            raise TypeError("X and y must be tensors: images (N, C, H, W) and classes (N,)")
        if X.ndim != 4 or not X.is_floating_point() or X.shape[0] == 0:
            raise ValueError(f"X must be float images (N, C, H, W) with N >= 1; got {X.dtype} "
                             f"{tuple(X.shape)}")
        if y.shape != X.shape[:1]:
            raise ValueError(f"y must be ({X.shape[0]},), one class per image; got "
                             f"{tuple(y.shape)}")
        indices = list(range(X.shape[0])) if indices is None else list(indices)
        if len(indices) != X.shape[0]:
            raise ValueError(f"indices must hold {X.shape[0]} entries, one per image; got "
                             f"{len(indices)}")
        if isinstance(layers, str) or not layers:
            raise ValueError("layers must be a non-empty tuple of layer names, e.g. ('net.b5',)")
        for name in layers:
            resolve_layer(self.model, name)  # raises ValueError naming the model's layers
        self.X, self.y, self.indices = X.detach().float(), y.detach().long(), indices
        self.probabilities = probabilities_of(self.model, self.X)
        if self.probabilities.shape[1] < len(TARGETS) - 1:
            raise ValueError("the model must have at least 3 classes for a top-3")
        self._cache: dict[tuple[int, str, int], GradCAMResult] = {}
        self.result: GradCAMResult | None = None
        self._layer_names = tuple(layers)
        super().__init__(layer=layers[0])

    # -- the page's data, from Python ----------------------------------------------------------

    def _reachable(self, k: int) -> list[int]:
        """The classes the class menu can pick for image ``k``, in menu order, once each."""
        order = torch.argsort(self.probabilities[k], descending=True, stable=True).tolist()
        return list(dict.fromkeys([*order[:len(TARGETS) - 1], int(self.y[k])]))

    @traitlets.default("images")
    def _default_images(self) -> list[dict[str, Any]]:
        names = data.LABELS
        predicted = self.probabilities.argmax(dim=1).tolist()
        out = []
        for k, (index, label) in enumerate(zip(self.indices, self.y.tolist(), strict=True)):
            text = f"#{index} {names[label]}"
            if predicted[k] != label:
                text += f", predicted {names[predicted[k]]} (wrong)"
            out.append({"menu": text, "label": label, "index": index,
                        "pixels": image_payload(self.X[k])})
        return out

    @traitlets.default("side")
    def _default_side(self) -> int:
        return int(self.X.shape[-1])

    @traitlets.default("layers")
    def _default_layers(self) -> list[str]:
        return list(self._layer_names)

    @traitlets.default("targets")
    def _default_targets(self) -> list[list]:
        return [[label, value] for label, value in TARGETS]

    @traitlets.default("classes")
    def _default_classes(self) -> list[str]:
        return list(data.LABELS)

    @traitlets.default("maps")
    def _default_maps(self) -> dict[str, str]:
        return {name: map_name(self.model, name) for name in self._layer_names}

    @traitlets.default("colors")
    def _default_colors(self) -> list[str]:
        return colormap()

    @traitlets.default("head")
    def _default_head(self) -> dict[str, Any]:
        for name in self._layer_names:
            linear = pooled_linear_head(self.model, name)
            if linear is not None:
                return {"layer": name, "weight": linear.weight.detach().float().tolist()}
        return {}

    @traitlets.default("gradients")
    def _default_gradients(self) -> dict[str, dict[str, dict[str, list[float]]]]:
        out: dict[str, dict[str, dict[str, list[float]]]] = {}
        for name in self._layer_names:
            if self.head.get("layer") == name:
                continue  # exact from the linear layer's weights, in the browser
            per_image = {}
            for k in range(self.X.shape[0]):
                classes = self._reachable(k)
                weights = channel_weights(self.model, self.X[k:k + 1], name, classes)
                per_image[str(k)] = {str(c): w.tolist() for c, w in zip(classes, weights,
                                                                        strict=True)}
            out[name] = per_image
        return out

    # -- the numbers, from cnnlib --------------------------------------------------------------

    def derived_names(self) -> tuple[str, ...]:
        return ("class_idx", "probabilities_shown", "raw_cam", "cam", "activations_shape",
                "summary", "explained")

    def compute(self) -> dict[str, Any]:
        self.result = None
        n = self.X.shape[0]
        if not 0 <= self.example < n:
            raise ValueError(f"example must be an image position in 0..{n - 1}, got "
                             f"{self.example}")
        ranks = [value for _, value in TARGETS]
        if self.target not in ranks:
            raise ValueError(f"target must be one of {ranks} (top-1, top-2, top-3, true "
                             f"class), got {self.target}")
        if self.layer not in self._layer_names:
            raise ValueError(f"layer must be one of {list(self._layer_names)}, got "
                             f"{self.layer!r}")
        k = self.example
        if self.target < 0:
            class_idx = int(self.y[k])
        else:
            order = torch.argsort(self.probabilities[k], descending=True, stable=True)
            class_idx = int(order[self.target])
        key = (k, self.layer, class_idx)
        if key not in self._cache:
            self._cache[key] = grad_cam(self.model, self.X[k:k + 1], self.layer,
                                        class_idx=class_idx)
        self.result = self._cache[key]
        raw = self.result.raw_cam[0]
        return {
            "class_idx": class_idx,
            "probabilities_shown": self.probabilities[k].tolist(),
            "raw_cam": raw.tolist(),
            "cam": self.result.cam[0].tolist(),
            "activations_shape": list(self.result.activations_shape[1:]),
            "summary": self.describe(class_idx, raw),
            "explained": {"example": k, "layer": self.layer},
        }

    def describe(self, class_idx: int, raw: torch.Tensor) -> str:
        """The status line: the image, the class, its probability, the stage's grid."""
        k = self.example
        names = data.LABELS
        p = self.probabilities[k]
        h, w = raw.shape
        text = (f"test image #{self.indices[k]}, true class {names[int(self.y[k])]}; "
                f"map for {names[class_idx]} (probability {float(p[class_idx]):.2f}) "
                f"at {self.layer}, a {h}×{w} grid of "
                f"{self.result.activations_shape[1]} channels")
        if not bool((raw > 0).any()):
            text += "; the weighted sum is negative everywhere, so the map is all zero"
        return text

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it."""
        return self.error or self.summary

    # -- the picture for a page that cannot compute ------------------------------------------

    def figure(self):
        """The matplotlib drawing of the current setting (None for a bad setting)."""
        if self.result is None or self.error:
            return None
        k = self.example
        return show_class_cam(self.X[k], self.result.cam[0], self.result.raw_cam[0],
                              self.probabilities[k], self.class_idx, int(self.y[k]),
                              self.layer)

    def picture_png(self) -> bytes | None:
        fig = self.figure()
        return None if fig is None else figure_to_png(fig)

    def page_state(self) -> dict[str, Any]:
        """The controls and everything the page computes from: the images' pixels, the
        menus, the linear head, the autograd channel weights of the earlier stages, the
        colours; and Python's picture, shown while the network loads (or if it cannot)."""
        png = self.picture_png()
        return super().page_state() | {
            name: getattr(self, name)
            for name in ("network", "images", "side", "layers", "targets", "classes",
                         "head", "gradients", "maps", "colors")
        } | {"picture": None if png is None else base64.b64encode(png).decode("ascii"),
             "picture_alt": self.picture_alt()}

    def page_scripts(self):
        """The host's scripts, then the networks' loader, then the front-end."""
        scripts = super().page_scripts()
        return [*scripts[:-1], WEB_DIR / "cnn-networks.js", scripts[-1]]

