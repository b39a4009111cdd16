"""Grad-CAM and saliency (cnnlib.explain) and their figure (cnnlib.viz.explain).

References are computed by hand with torch.autograd.grad on the same model split
at the target layer; the constructed models make the right map known by design.
"""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn

from cnnlib.explain import (
    GradCAMResult,
    default_target_layer,
    grad_cam,
    resolve_layer,
    saliency,
)
from cnnlib.models.lenet import lenet
from cnnlib.models.resnet import resnet18
from cnnlib.viz.explain import show_grad_cam

NUM_CLASSES = 5


class TinyNet(nn.Module):
    """Conv, batch norm, ReLU, conv, ReLU, then a dense head: (N, C, 8, 8) -> (N, 5)."""

    def __init__(self, in_channels: int = 1) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, 4, kernel_size=3, padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.Conv2d(4, 6, kernel_size=3, padding=1),  # net.3: the target in most tests
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(6 * 8 * 8, NUM_CLASSES),
        )

    def forward(self, X):
        return self.net(X)


def _tiny_net(in_channels: int = 1) -> TinyNet:
    model = TinyNet(in_channels)
    # Give batch norm running statistics unlike a fresh layer's, so eval mode matters.
    with torch.no_grad():
        model(torch.randn(16, in_channels, 8, 8) * 3 + 1)
    return model


def _hand_grad_cam(model: TinyNet, X: torch.Tensor, idx: torch.Tensor, split: int = 4):
    """Grad-CAM by hand: run net[:split] and net[split:] separately, differentiate at the cut."""
    model.eval()
    with torch.enable_grad():
        A = model.net[:split](X).detach().requires_grad_(True)  # (N, C, h, w)
        logits = model.net[split:](A)
        scores = logits[torch.arange(X.shape[0]), idx]
        (dA,) = torch.autograd.grad(scores.sum(), A)
    weights = dA.mean(dim=(2, 3))  # (N, C)
    raw = torch.relu(torch.einsum("nc,nchw->nhw", weights, A.detach()))
    return raw, logits.detach()


# ----------------------------------------------------------------------------- Grad-CAM


def test_grad_cam_matches_hand_computation():
    model = _tiny_net()
    X = torch.randn(3, 1, 8, 8)
    idx = torch.tensor([0, 2, 4])
    # The target is the ReLU after the second conv: "net.4" covers net[:5].
    result = grad_cam(model, X, "net.4", class_idx=idx)
    raw, logits = _hand_grad_cam(model, X, idx, split=5)
    assert isinstance(result, GradCAMResult)
    torch.testing.assert_close(result.raw_cam, raw)
    assert result.raw_cam.abs().sum() > 0  # the comparison is not 0 == 0
    torch.testing.assert_close(result.probabilities, F.softmax(logits, dim=1))
    assert result.activations_shape == (3, 6, 8, 8)
    assert result.target_layer == "net.4"
    assert torch.equal(result.class_idx, idx)


def test_grad_cam_upsamples_and_scales_the_raw_map():
    # A stride-2 stage gives a 4x4 map for an 8x8 image, so upsampling is not the identity.
    model = nn.Sequential(
        nn.Conv2d(1, 3, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(3 * 4 * 4, NUM_CLASSES),
    )
    X = torch.randn(2, 1, 8, 8)
    result = grad_cam(model, X, model[0], class_idx=1)
    assert result.target_layer == "0"
    assert result.raw_cam.shape == (2, 4, 4)
    up = F.interpolate(result.raw_cam[:, None], size=(8, 8), mode="bilinear")[:, 0]
    peak = up.amax(dim=(1, 2), keepdim=True)
    expected = torch.where(peak > 0, up / peak.clamp_min(1e-30), torch.zeros_like(up))
    torch.testing.assert_close(result.cam, expected)
    assert result.cam.shape == (2, 8, 8)


class Mask(nn.Module):
    """Multiply by a fixed 0/1 mask ``(h, w)``: positions outside it are switched off."""

    def __init__(self, mask: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mask", mask)

    def forward(self, X):
        return X * self.mask


class QuadrantScores(nn.Module):
    """Class 0: mean of the top-left quadrant of channel 0; class 1: minus that mean."""

    def forward(self, A):
        h, w = A.shape[2] // 2, A.shape[3] // 2
        quadrant = A[:, 0, :h, :w].mean(dim=(1, 2))  # (N,)
        return torch.stack([quadrant, -quadrant], dim=1)  # (N, 2)


def _quadrant_model() -> nn.Module:
    # A 2x2 stride-2 averaging conv halves 16x16 to 8x8, then the mask keeps rows and
    # columns 0..3 of the map, which cover input pixels 0..7: the top-left quadrant.
    conv = nn.Conv2d(1, 1, kernel_size=2, stride=2, bias=False)
    with torch.no_grad():
        conv.weight.fill_(0.25)
    mask = torch.zeros(8, 8)
    mask[:4, :4] = 1
    return nn.Sequential(conv, Mask(mask), QuadrantScores())


def test_grad_cam_lights_exactly_the_quadrant_that_decides_the_class():
    model = _quadrant_model()
    X = torch.rand(2, 1, 16, 16) + 0.1  # positive, so the quadrant's maps are positive
    result = grad_cam(model, X, "1", class_idx=0)
    cam = result.cam
    assert (cam[:, :8, :8] > 0).all()
    # Bilinear upsampling blurs the edge by one input pixel (map row 3 still weighs on
    # pixel 8), and no further.
    assert (cam[:, 9:, :] == 0).all()
    assert (cam[:, :, 9:] == 0).all()
    assert torch.allclose(cam.amax(dim=(1, 2)), torch.ones(2))


def test_grad_cam_of_a_class_every_channel_argues_against_is_all_zero():
    model = _quadrant_model()
    X = torch.rand(2, 1, 16, 16) + 0.1
    result = grad_cam(model, X, "1", class_idx=1)  # class 1 = minus the quadrant's mean
    assert torch.isfinite(result.cam).all()
    assert (result.cam == 0).all()


@pytest.mark.parametrize("class_idx", [None, 3, torch.tensor(1), torch.tensor([4, 0])])
def test_class_idx_selection(class_idx):
    model = _tiny_net()
    X = torch.randn(2, 1, 8, 8)
    result = grad_cam(model, X, "net.3", class_idx=class_idx)
    model.eval()
    with torch.no_grad():
        predicted = model(X).argmax(dim=1)
    if class_idx is None:
        expected = predicted
    else:
        expected = torch.as_tensor(class_idx).expand(2)
    assert torch.equal(result.class_idx, expected)
    raw, _ = _hand_grad_cam(model, X, expected)
    torch.testing.assert_close(result.raw_cam, raw)


def test_different_classes_give_different_maps():
    model = _tiny_net()
    X = torch.randn(1, 1, 8, 8)
    maps = [grad_cam(model, X, "net.3", class_idx=c).raw_cam for c in range(NUM_CLASSES)]
    assert any(not torch.allclose(maps[0], m) for m in maps[1:])


def _hook_counts(model: nn.Module) -> list[int]:
    return [len(m._forward_hooks) for m in model.modules()]


@pytest.mark.parametrize("mode", [True, False])
def test_mode_hooks_and_parameter_grads_are_restored(mode):
    model = _tiny_net()
    model.train(mode)
    params = list(model.parameters())
    params[0].grad = torch.full_like(params[0], 7.0)  # one grad set, the others None
    hooks = _hook_counts(model)
    X = torch.randn(2, 1, 8, 8)
    grad_cam(model, X, "net.3")
    saliency(model, X)
    assert model.training is mode
    assert all(m.training is mode for m in model.modules())
    assert _hook_counts(model) == hooks
    assert torch.equal(params[0].grad, torch.full_like(params[0], 7.0))
    assert all(p.grad is None for p in params[1:])


def test_mode_and_hooks_are_restored_after_an_error():
    model = _tiny_net().train()
    hooks = _hook_counts(model)
    with pytest.raises(ValueError, match="class_idx=9"):
        grad_cam(model, torch.randn(2, 1, 8, 8), "net.3", class_idx=9)
    with pytest.raises(ValueError, match="outputs feature maps"):
        grad_cam(model, torch.randn(2, 1, 8, 8), "net.5")
    assert model.training
    assert _hook_counts(model) == hooks
    assert all(p.grad is None for p in model.parameters())


def test_works_inside_no_grad_and_on_a_frozen_model():
    model = _tiny_net()
    X = torch.randn(2, 1, 8, 8)
    outside = grad_cam(model, X, "net.3", class_idx=2)
    with torch.no_grad():
        inside = grad_cam(model, X, "net.3", class_idx=2)
        salient = saliency(model, X, class_idx=2)
    torch.testing.assert_close(inside.raw_cam, outside.raw_cam)
    torch.testing.assert_close(salient, saliency(model, X, class_idx=2))
    for p in model.parameters():
        p.requires_grad_(False)
    frozen = grad_cam(model, X, "net.3", class_idx=2)
    torch.testing.assert_close(frozen.raw_cam, outside.raw_cam)
    assert torch.is_grad_enabled()


def test_target_layer_as_module_name_or_position():
    model = resnet18(width_divisor=8)
    module, name = resolve_layer(model, "net.4")
    assert name == "net.b5"
    assert module is model.net.b5
    assert resolve_layer(model, model.net.b5) == (model.net.b5, "net.b5")
    assert resolve_layer(model, "net.b5.1.conv2")[0] is model.net.b5[1].conv2


# ----------------------------------------------------------------------------- errors


def test_errors_name_the_problem():
    model = _tiny_net()
    X = torch.randn(2, 1, 8, 8)
    with pytest.raises(ValueError, match=re.escape("(N, C, H, W); got shape (1, 8, 8)")):
        grad_cam(model, X[0], "net.3")
    with pytest.raises(ValueError, match=re.escape("(N, C, H, W); got shape (8, 8)")):
        saliency(model, X[0, 0])
    with pytest.raises(TypeError, match="uint8"):
        grad_cam(model, X.to(torch.uint8), "net.3")
    with pytest.raises(ValueError, match=r"class_idx=5 .*num_classes=5"):
        grad_cam(model, X, "net.3", class_idx=5)
    with pytest.raises(ValueError, match=r"class_idx=-1 .*num_classes=5"):
        saliency(model, X, class_idx=torch.tensor([0, -1]))
    with pytest.raises(ValueError, match=re.escape("shape (2,)")):
        grad_cam(model, X, "net.3", class_idx=torch.tensor([0, 1, 2]))
    with pytest.raises(TypeError, match="class_idx"):
        grad_cam(model, X, "net.3", class_idx=1.0)


def test_unknown_layer_name_lists_the_names():
    model = _tiny_net()
    with pytest.raises(ValueError, match="no layer named 'body.2'.*top level are: net"):
        grad_cam(model, torch.randn(1, 1, 8, 8), "body.2")
    with pytest.raises(ValueError, match=r"'net.9'.*under 'net' are: net\.0, net\.1, .*net\.6"):
        grad_cam(model, torch.randn(1, 1, 8, 8), "net.9")
    with pytest.raises(ValueError, match="not a submodule"):
        grad_cam(model, torch.randn(1, 1, 8, 8), nn.Conv2d(1, 1, 1))


def test_target_layer_whose_output_is_not_4d():
    model = _tiny_net()
    with pytest.raises(ValueError, match=re.escape("'net.6' (Linear) output (2, 5)")):
        grad_cam(model, torch.randn(2, 1, 8, 8), "net.6")


def test_target_layer_that_runs_twice():
    conv = nn.Conv2d(1, 1, kernel_size=3, padding=1)
    model = nn.Sequential(conv, nn.ReLU(), conv, nn.Flatten(), nn.Linear(64, 2))
    with pytest.raises(ValueError, match="ran 2 times"):
        grad_cam(model, torch.randn(1, 1, 8, 8), conv)


# ----------------------------------------------------------------------------- default layer


def test_default_target_layer_skips_a_1x1_global_pool():
    # NiN-like ending: the last 4-D output is the 1x1 global pool, which cannot localise.
    model = nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, NUM_CLASSES, kernel_size=1),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
    )
    assert default_target_layer(model, (1, 1, 8, 8)) == "2"
    assert default_target_layer(lenet(), torch.zeros(3, 1, 28, 28)) == "net.5"
    with pytest.raises(ValueError, match="no stage"):
        default_target_layer(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), (1, 1, 2, 2))


def test_real_resnet18_with_the_default_layer():
    model = resnet18(width_divisor=8)
    model.train()
    X = torch.randn(2, 1, 96, 96)
    result = grad_cam(model, X)
    assert result.target_layer == "net.b5"
    assert result.cam.shape == (2, 96, 96)
    assert torch.isfinite(result.cam).all()
    assert result.cam.min() >= 0 and result.cam.max() <= 1
    assert result.probabilities.shape == (2, 10)
    assert model.training
    assert saliency(model, X).shape == (2, 96, 96)


# ----------------------------------------------------------------------------- saliency


def test_saliency_matches_hand_gradient():
    model = _tiny_net(in_channels=3)
    X = torch.randn(2, 3, 8, 8)
    idx = torch.tensor([1, 3])
    result = saliency(model, X, class_idx=idx)
    model.eval()
    X_leaf = X.clone().requires_grad_(True)
    scores = model(X_leaf)[torch.arange(2), idx]
    (dX,) = torch.autograd.grad(scores.sum(), X_leaf)
    expected = dX.abs().amax(dim=1)  # (N, H, W)
    expected = expected / expected.amax(dim=(1, 2), keepdim=True)
    torch.testing.assert_close(result, expected)
    assert result.shape == (2, 8, 8)


def test_a_masked_pixel_has_zero_saliency():
    mask = torch.ones(8, 8)
    mask[2, 5] = 0
    model = nn.Sequential(Mask(mask), _tiny_net(in_channels=3))
    result = saliency(model, torch.randn(2, 3, 8, 8))
    assert (result[:, 2, 5] == 0).all()
    assert (result.flatten(1).count_nonzero(dim=1) > 32).all()  # the rest still matters
    assert torch.allclose(result.amax(dim=(1, 2)), torch.ones(2))


# ----------------------------------------------------------------------------- figure


def test_show_grad_cam_draws_one_row_per_image():
    model = _tiny_net()
    X = torch.rand(3, 1, 8, 8)
    result = grad_cam(model, X, "net.3")
    labels = result.class_idx.clone()
    labels[0] = (labels[0] + 1) % NUM_CLASSES  # one wrong prediction
    fig = show_grad_cam(X, result.cam, labels=labels, probabilities=result.probabilities)
    assert isinstance(fig, Figure)
    image_axes = [ax for ax in fig.axes if ax.images]
    bar_axes = [ax for ax in fig.axes if ax.patches]
    assert len(image_axes) == 6 and len(bar_axes) == 3
    rows = [ax.get_subplotspec().rowspan.start for ax in fig.axes]
    assert sorted(rows) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    # The overlay axes hold the image and the heat map; a wrong prediction is titled in red.
    overlays = [ax for ax in image_axes if len(ax.images) == 2]
    assert len(overlays) == 3
    red = [ax for ax in overlays if ax.title.get_color() == "tab:red"]
    assert len(red) == 1 and "predicted" in red[0].get_title()
    assert all(len(ax.patches) == 3 for ax in bar_axes)  # top-3 bars


def test_show_grad_cam_without_probabilities_and_bad_input():
    X = np.random.default_rng(0).integers(0, 256, (2, 28, 28), dtype=np.uint8)
    cams = torch.rand(2, 7, 7)  # coarser than the image: stretched over it
    fig = show_grad_cam(X, cams, labels=[0, 1], predictions=[0, 1])
    assert len(fig.axes) == 4 and not any(ax.patches for ax in fig.axes)
    assert fig.axes[0].get_title() == "true: t-shirt"
    blank = show_grad_cam(X, torch.zeros(2, 28, 28))
    assert sum("all zero" in t.get_text() for ax in blank.axes for t in ax.texts) == 2
    with pytest.raises(ValueError, match="cams must be"):
        show_grad_cam(X, torch.rand(3, 7, 7))
    with pytest.raises(ValueError, match="got 3 labels for 2 images"):
        show_grad_cam(X, cams, labels=[0, 1, 2])
    with pytest.raises(ValueError, match="12 classes but only 10"):
        show_grad_cam(X, cams, probabilities=torch.rand(2, 12))
