"""The Grad-CAM explorer: where the trained ResNet-18 found evidence for each of its top classes.

Pick a test image (the ten examples, one per class, then a few the network gets
wrong), a class (its top-1, top-2 or top-3 guess, or the true class) and a stage of
the network; the picture shows the image, the Grad-CAM map of that class at that
stage (computed by :func:`cnnlib.explain.grad_cam`), the map at the stage's own
resolution, and the top-3 probabilities.
"""

from __future__ import annotations

import html
import time

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure
from torch import nn

from cnnlib import data
from cnnlib.explain import grad_cam
from cnnlib.explain.attribution import GradCAMResult, resolve_layer
from cnnlib.viz.grad_cam import show_class_cam
from cnnlib.widgets import page
from cnnlib.widgets.examples import example_images, example_menu
from cnnlib.widgets.guarded import GuardedExplorer

#: The classes the explorer can explain: the model's three best guesses and the truth.
TARGETS = (("top-1", 0), ("top-2", 1), ("top-3", 2), ("true class", -1))
#: Stages of ResNet-18 offered as target layers, last first (2x2, 4x4, 8x8 maps at 64 px).
LAYERS = ("net.b5", "net.b4", "net.b3")
#: The layers the website's form offers (the live explorer offers all of ``layers``).
PAGE_LAYERS = ("net.b5", "net.b4")
#: Misclassified test images added after the ten examples.
NUM_WRONG = 3
#: Test images searched for mistakes (the first ones of the split): the model runs over
#: them once at construction, about a second on one CPU thread at 64 px.
SEARCH = 1000


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


class GradCamExplorer(GuardedExplorer):
    """Grad-CAM of a chosen class at a chosen stage, for a chosen test image.

    Attributes:
        model: the classifier (eval mode).
        X: the images ``(N, 1, side, side)``; y: their classes ``(N,)``;
            indices: their positions in the test split.
        probabilities: the model's class probabilities for every image ``(N, num_classes)``.
        example: dropdown over the images (its value is the position 0..N-1);
            target: dropdown of :data:`TARGETS`; layer: dropdown of the target layers.
        class_idx: the class explained now.
        result: the :class:`~cnnlib.explain.attribution.GradCAMResult` shown now.
        search_seconds: how long the search for misclassified images took (0 without one).
    """

    def __init__(
        self,
        model: nn.Module | None = None,
        X: torch.Tensor | None = None,
        y: torch.Tensor | None = None,
        indices: list[int] | None = None,
        layers: tuple[str, ...] = LAYERS,
        num_wrong: int = NUM_WRONG,
        search: int = SEARCH,
        dpi: int | None = None,
    ) -> None:
        """Build the controls and draw the first image's top-1 map at the first layer.

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
            dpi: resolution of the PNG (default: the figure style's).

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
        self.example = example_menu(self.y, self.indices)
        predicted = self.probabilities.argmax(dim=1).tolist()
        self.example.options = [
            (text if predicted[k] == int(self.y[k])
             else f"{text}, predicted {data.LABELS[predicted[k]]} (wrong)", k)
            for text, k in self.example.options
        ]
        self.target = widgets.Dropdown(options=list(TARGETS), value=0, description="class")
        self.layer = widgets.Dropdown(options=list(layers), value=layers[0],
                                      description="layer")
        super().__init__([self.example, self.target, self.layer], dpi=dpi)

    def page_controls(self) -> list:
        layers = [name for name in PAGE_LAYERS if name in self.layer.options] or [
            self.layer.options[0]]
        return [page.menu(self, "example"), page.menu(self, "target"),
                page.menu(self, "layer", layers)]

    def update(self) -> None:
        k = self.example.value
        rank = self.target.value
        if rank < 0:
            self.class_idx = int(self.y[k])
        else:
            order = torch.argsort(self.probabilities[k], descending=True, stable=True)
            self.class_idx = int(order[rank])
        key = (k, self.layer.value, self.class_idx)
        if key not in self._cache:
            self._cache[key] = grad_cam(self.model, self.X[k:k + 1], self.layer.value,
                                        class_idx=self.class_idx)
        self.result = self._cache[key]

    def draw(self) -> Figure:
        k = self.example.value
        return show_class_cam(self.X[k], self.result.cam[0], self.result.raw_cam[0],
                              self.probabilities[k], self.class_idx, int(self.y[k]),
                              self.layer.value)

    def describe(self) -> str:
        k = self.example.value
        names = data.LABELS
        p = self.probabilities[k]
        raw = self.result.raw_cam[0]
        h, w = raw.shape
        text = (f"test image #{self.indices[k]}, true class {names[int(self.y[k])]}; "
                f"map for {names[self.class_idx]} (probability {float(p[self.class_idx]):.2f}) "
                f"at {self.layer.value}, a {h}×{w} grid of "
                f"{self.result.activations_shape[1]} channels")
        if not bool((raw > 0).any()):
            text += "; the weighted sum is negative everywhere, so the map is all zero"
        return html.escape(text)
