"""Which pixels decided the class: Grad-CAM and vanilla-gradient saliency.

:func:`grad_cam` follows Selvaraju et al., "Grad-CAM: Visual Explanations from
Deep Networks via Gradient-based Localization" (ICCV 2017): take the feature
maps ``A`` of one convolutional stage, weight each channel by how much the
chosen class score grows when that channel grows (the spatial mean of the
gradient), add the weighted maps, and keep the positive part. The result is a
coarse map (the stage's resolution) that is upsampled to the image.

:func:`saliency` is the older and finer-grained picture of Simonyan, Vedaldi &
Zisserman, "Deep Inside Convolutional Networks" (2014): the magnitude of the
gradient of the class score with respect to each input pixel.

Both run the model in eval mode (batch norm uses its running statistics, so
each image's score depends on that image alone), restore its mode afterwards,
and use :func:`torch.autograd.grad`, which leaves every parameter's ``.grad``
exactly as it was. Nothing here plots; :mod:`cnnlib.viz.explain` draws the maps.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from cnnlib.models.base import evaluating, model_device

__all__ = ["GradCAMResult", "default_target_layer", "grad_cam", "resolve_layer", "saliency"]


@dataclass
class GradCAMResult:
    """What :func:`grad_cam` computed for a batch of ``N`` images.

    Attributes:
        cam: the class activation maps upsampled to the input, ``(N, H, W)``, each
            scaled so its maximum is 1 (an all-zero map stays all zero).
        raw_cam: the maps at the target layer's resolution before upsampling and
            scaling, ``ReLU(sum_c w_c A_c)``, ``(N, h, w)``.
        class_idx: the class each map explains, ``(N,)`` int64.
        probabilities: softmax of the model's output, ``(N, num_classes)``.
        activations_shape: shape of the target layer's output, ``(N, C, h, w)``.
        target_layer: dotted name of the target layer inside the model, e.g. ``"net.b5"``.

    All tensors are detached and on the CPU.
    """

    cam: torch.Tensor
    raw_cam: torch.Tensor
    class_idx: torch.Tensor
    probabilities: torch.Tensor
    activations_shape: tuple[int, ...]
    target_layer: str

    def __repr__(self) -> str:
        # Short enough to be a notebook cell's output: shapes, not tensor dumps.
        return (
            f"GradCAMResult(target_layer={self.target_layer!r}, "
            f"activations_shape={self.activations_shape}, cam_shape={tuple(self.cam.shape)}, "
            f"class_idx={self.class_idx.tolist()})"
        )


# ----------------------------------------------------------------------------- helpers


def _check_images(X: object, caller: str) -> torch.Tensor:
    """Reject anything that is not a float batch ``(N, C, H, W)``."""
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"{caller} takes X as a torch.Tensor (N, C, H, W); got {type(X).__name__}")
    if X.ndim != 4:
        raise ValueError(
            f"{caller} takes a batch of images X with shape (N, C, H, W); got shape "
            f"{tuple(X.shape)}. For one (C, H, W) image pass X[None]."
        )
    if X.shape[0] == 0:
        raise ValueError(f"{caller} got an empty batch X of shape {tuple(X.shape)}")
    if not X.is_floating_point():
        raise TypeError(
            f"{caller} needs floating-point images to differentiate; got X.dtype={X.dtype}. "
            "Convert uint8 pixels with X.float() / 255."
        )
    return X


@contextlib.contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    """Eval mode with autograd on for the block, even inside an outer ``torch.no_grad()``."""
    with evaluating(model), torch.enable_grad():
        yield


def _class_indices(class_idx: object, logits: torch.Tensor) -> torch.Tensor:
    """The class to explain for each image, ``(N,)`` int64 on the logits' device.

    ``None`` picks the predicted class (the largest logit); an int picks the
    same class for every image; a tensor picks one class per image.
    """
    if logits.ndim != 2:
        raise ValueError(
            f"the model must return class scores (N, num_classes); got shape {tuple(logits.shape)}"
        )
    n, num_classes = logits.shape
    if class_idx is None:
        return logits.detach().argmax(dim=1)
    if isinstance(class_idx, bool) or not isinstance(class_idx, (int, torch.Tensor)):
        kind = type(class_idx).__name__
        raise TypeError(f"class_idx must be None, an int or an (N,) integer tensor; got {kind}")
    if isinstance(class_idx, int):
        idx = torch.full((n,), class_idx, dtype=torch.int64)
    else:
        if class_idx.is_floating_point() or class_idx.is_complex() or class_idx.dtype == torch.bool:
            raise TypeError(f"class_idx must hold integers; got dtype {class_idx.dtype}")
        if class_idx.ndim == 0:
            idx = class_idx.expand(n)
        elif class_idx.shape == (n,):
            idx = class_idx
        else:
            raise ValueError(
                f"class_idx must have shape ({n},), one class per image in X; got shape "
                f"{tuple(class_idx.shape)}"
            )
        idx = idx.to(torch.int64)
    bad = idx[(idx < 0) | (idx >= num_classes)]
    if bad.numel() > 0:
        raise ValueError(
            f"class_idx={int(bad[0])} is out of range for a model with num_classes="
            f"{num_classes}; use a class in 0..{num_classes - 1}"
        )
    return idx.to(logits.device)


def _class_scores(logits: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Sum over the batch of each image's chosen (pre-softmax) score.

    In eval mode image ``i``'s score depends on image ``i`` alone, so the
    gradient of the sum with respect to image ``i``'s tensors is the gradient of
    its own score: one backward pass serves the whole batch.
    """
    return logits.gather(1, idx[:, None]).sum()


def _scale_to_unit(maps: torch.Tensor) -> torch.Tensor:
    """Divide each non-negative map ``(N, H, W)`` by its maximum; all-zero maps stay zero."""
    peak = maps.amax(dim=(1, 2), keepdim=True)  # (N, 1, 1)
    # Where the peak is 0 the map is 0 too, so dividing by 1 keeps it 0 and avoids 0 / 0.
    return maps / torch.where(peak > 0, peak, torch.ones_like(peak))


def resolve_layer(model: nn.Module, target_layer: nn.Module | str) -> tuple[nn.Module, str]:
    """Find the target layer and its dotted name inside ``model``.

    A name is resolved like ``model.get_submodule``, with one convenience: inside
    an ``nn.Sequential`` a number also means a position, so ``"net.4"`` reaches
    the fifth entry of ResNet-18's ``net``, its last residual stage, whose own name
    is ``"net.b5"``. The returned name is
    always the module's own dotted name.

    Args:
        model: the network.
        target_layer: a submodule of ``model``, or its dotted name such as ``"net.4"``.

    Returns:
        ``(module, name)``.

    Raises:
        ValueError: for a name that does not exist (the message lists the names one
            level down from the deepest part that does) or a module not in ``model``.
        TypeError: for anything that is neither a module nor a string.
    """
    if isinstance(target_layer, str):
        module, path = model, []
        for part in target_layer.split("."):
            children = dict(module.named_children())
            if part in children:
                module = children[part]
                path.append(part)
            elif isinstance(module, nn.Sequential) and part.isdigit() and int(part) < len(module):
                name = list(children)[int(part)]
                module = children[name]
                path.append(name)
            else:
                prefix = "".join(f"{p}." for p in path)
                names = [f"{prefix}{name}" for name in children]
                where = f"under {prefix[:-1]!r}" if path else "at the top level"
                raise ValueError(
                    f"{type(model).__name__} has no layer named {target_layer!r}; the layers "
                    f"{where} are: {', '.join(names) or '(none)'}"
                )
        return module, ".".join(path)
    if isinstance(target_layer, nn.Module):
        for name, module in model.named_modules():
            if module is target_layer:
                return module, name
        raise ValueError(
            f"target_layer {type(target_layer).__name__} is not a submodule of "
            f"{type(model).__name__}; pass one of its layers or a name such as 'net.4'"
        )
    raise TypeError(
        f"target_layer must be an nn.Module or a dotted name; got {type(target_layer).__name__}"
    )


def default_target_layer(model: nn.Module, example: torch.Tensor | tuple[int, ...]) -> str:
    """The last stage that still outputs feature maps: Grad-CAM's usual target.

    For cnnlib's classifiers the stages are the elements of ``model.net``; for
    any other model, its direct children. One dry forward pass (eval mode, no
    gradients, one image) records each stage's output shape, and the choice is
    the last stage to run whose output is 4-D with more than one spatial
    position: a 1x1 output (NiN's global average pool) cannot say *where*
    anything is. For ResNet-18 that is ``"net.b5"`` (position 4 of ``net``), the
    last residual stage; for LeNet the second pooling layer ``"net.5"``.

    Args:
        model: the network.
        example: an input batch ``(N, C, H, W)`` of the size the model expects, or
            just its shape; only one image's worth is run.

    Returns:
        The stage's dotted name, ready for :func:`grad_cam`.

    Raises:
        ValueError: when no stage outputs 4-D maps larger than 1x1.
    """
    if isinstance(example, torch.Tensor):
        X = _check_images(example, "default_target_layer")[:1].detach()
    else:
        shape = tuple(int(s) for s in example)
        if len(shape) != 4:
            raise ValueError(f"default_target_layer needs an input shape (N, C, H, W); got {shape}")
        X = torch.zeros((1, *shape[1:]))
    # The stages: ``model.net`` for cnnlib's classifiers, else the model's own children.
    net = getattr(model, "net", None)
    container, prefix = (net, "net.") if isinstance(net, nn.Module) else (model, "")
    shapes: list[tuple[str, tuple[int, ...]]] = []  # in the order the stages ran

    def recorder(name: str):
        def hook(module: nn.Module, inputs: object, output: object) -> None:
            size = tuple(output.shape) if isinstance(output, torch.Tensor) else ()
            shapes.append((name, size))

        return hook

    handles = [
        child.register_forward_hook(recorder(f"{prefix}{name}"))
        for name, child in container.named_children()
    ]
    try:
        with evaluating(model), torch.no_grad():
            model(X.to(model_device(model)))
    finally:
        for handle in handles:
            handle.remove()
    for name, size in reversed(shapes):
        if len(size) == 4 and size[2] * size[3] > 1:
            return name
    raise ValueError(
        f"no stage of {type(model).__name__} outputs 4-D feature maps larger than 1x1 for "
        f"input {tuple(X.shape)} (stage outputs: {shapes}); pass target_layer explicitly"
    )


# ----------------------------------------------------------------------------- Grad-CAM


def grad_cam(
    model: nn.Module,
    X: torch.Tensor,
    target_layer: nn.Module | str | None = None,
    class_idx: int | torch.Tensor | None = None,
) -> GradCAMResult:
    """Grad-CAM maps of the chosen classes for a batch of images.

    For each image the target layer's output ``A`` (``C`` maps of ``h x w``) and
    the gradient of the class score ``y_c`` (the logit, before softmax) with
    respect to it give channel weights ``w_k = mean_ij dy_c / dA_kij``; the map is
    ``ReLU(sum_k w_k A_k)``, bilinearly upsampled to ``H x W`` and divided by its
    maximum.

    Args:
        model: a classifier returning ``(N, num_classes)`` scores. It runs in eval
            mode and gets its mode back; its hooks and parameter gradients are left
            as they were, also when an error is raised. Works inside ``torch.no_grad()``.
        X: images ``(N, C, H, W)``, floating point.
        target_layer: the layer whose output to explain: a submodule, its dotted
            name (``"net.4"`` or ``"net.b5"`` is ResNet-18's last stage), or ``None`` for
            :func:`default_target_layer`. It must run exactly once per forward pass
            and output ``(N, C, h, w)``.
        class_idx: ``None`` explains the predicted class of each image; an int the
            same class for all; an ``(N,)`` tensor one class per image.

    Returns:
        A :class:`GradCAMResult` with ``cam`` of shape ``(N, H, W)`` in [0, 1].

    Raises:
        ValueError: for ``X`` that is not ``(N, C, H, W)``, a class outside
            ``0..num_classes - 1``, an unknown layer name, or a layer whose output
            is not 4-D.
        TypeError: for non-float ``X`` or a ``class_idx`` of the wrong type.
    """
    X = _check_images(X, "grad_cam")
    if target_layer is None:
        target_layer = default_target_layer(model, X)
    layer, layer_name = resolve_layer(model, target_layer)
    X = X.detach().to(model_device(model))
    captured: list[torch.Tensor] = []

    def capture(module: nn.Module, inputs: object, output: object) -> torch.Tensor:
        if not isinstance(output, torch.Tensor) or output.ndim != 4:
            got = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
            raise ValueError(
                f"Grad-CAM needs a target layer that outputs feature maps (N, C, h, w); "
                f"{layer_name!r} ({type(module).__name__}) output {got}. Pick a convolutional "
                "stage, e.g. default_target_layer(model, X)."
            )
        # A fresh leaf makes dscore/dA one autograd.grad call away, even for a frozen
        # model, and stops the backward pass there instead of running it to the input.
        A = output.detach().requires_grad_(True)
        captured.append(A)
        # Hand a copy downstream so an in-place op after the layer cannot modify A.
        return A.clone()

    handle = layer.register_forward_hook(capture)
    try:
        with _eval_mode(model):
            logits = model(X)  # (N, num_classes)
            if len(captured) != 1:
                raise ValueError(
                    f"target layer {layer_name!r} ran {len(captured)} times in one forward "
                    "pass; Grad-CAM needs a layer that runs exactly once"
                )
            A = captured[0]  # (N, C, h, w)
            idx = _class_indices(class_idx, logits)
            (dA,) = torch.autograd.grad(_class_scores(logits, idx), A, allow_unused=True)
    finally:
        handle.remove()
    if dA is None:
        raise ValueError(
            f"the class scores do not depend on the output of {layer_name!r}; pick a layer "
            "on the path from the input to the scores"
        )
    weights = dA.mean(dim=(2, 3))  # (N, C): global-average-pooled gradients
    raw_cam = F.relu((weights[:, :, None, None] * A.detach()).sum(dim=1))  # (N, h, w)
    upsampled = F.interpolate(
        raw_cam[:, None], size=X.shape[2:], mode="bilinear", align_corners=False
    )[:, 0]  # (N, H, W)
    return GradCAMResult(
        cam=_scale_to_unit(upsampled).cpu(),
        raw_cam=raw_cam.cpu(),
        class_idx=idx.cpu(),
        probabilities=F.softmax(logits.detach().float(), dim=1).cpu(),
        activations_shape=tuple(A.shape),
        target_layer=layer_name,
    )


# ----------------------------------------------------------------------------- saliency


def saliency(
    model: nn.Module, X: torch.Tensor, class_idx: int | torch.Tensor | None = None
) -> torch.Tensor:
    """Vanilla-gradient saliency: how strongly each pixel moves the class score.

    The map is ``max_c |d y_class / d X[c, i, j]|`` over the input channels,
    divided by its maximum per image (an all-zero map stays zero).

    Args:
        model: a classifier returning ``(N, num_classes)`` scores; handled as in
            :func:`grad_cam` (eval mode, mode restored, parameter gradients untouched).
        X: images ``(N, C, H, W)``, floating point.
        class_idx: as in :func:`grad_cam`; ``None`` explains the predicted classes.

    Returns:
        ``(N, H, W)`` in [0, 1], on the CPU.
    """
    X = _check_images(X, "saliency")
    X = X.detach().to(model_device(model)).requires_grad_(True)
    with _eval_mode(model):
        logits = model(X)  # (N, num_classes)
        idx = _class_indices(class_idx, logits)
        (dX,) = torch.autograd.grad(_class_scores(logits, idx), X, allow_unused=True)
    if dX is None:  # the scores ignore the input altogether
        dX = torch.zeros_like(X)
    magnitude = dX.abs().amax(dim=1)  # (N, H, W): strongest channel per pixel
    return _scale_to_unit(magnitude).detach().cpu()
