"""The LeNet/AlexNet stage comparison (8.1): its numbers against the networks' own forward pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_viz_style import notebook_png_width, reader_view
from test_widgets_page import apply, payload, pixels
from torch import nn
from torch.nn import functional as F

from cnnlib.models.pretrained import build
from cnnlib.viz.compare_stages import KERNELS, aligned_stage_names, network_stages
from cnnlib.widgets import page
from cnnlib.widgets.compare_stages import StageComparisonExplorer

N = 3


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(1)
    return build("lenet").eval(), build("alexnet").eval()


@pytest.fixture(scope="module")
def images():
    generator = torch.Generator().manual_seed(2)
    return (torch.randint(0, 256, (N, 28, 28), generator=generator, dtype=torch.uint8),
            torch.tensor([3, 0, 7]))


def make(models, images, **kwargs):
    return StageComparisonExplorer(lenet=models[0], alexnet=models[1], images=images[0],
                                   labels=images[1], **kwargs)


@pytest.fixture(scope="module")
def explorer(models, images):
    return make(models, images)


def _inputs(images, side):
    """The images resized as training does (torchvision: antialiased bilinear on uint8)."""
    x = images[0].unsqueeze(1)
    if side != 28:
        x = F.interpolate(x, size=(side, side), mode="bilinear", antialias=True,
                          align_corners=False)
    return x.float() / 255


def test_each_stage_is_the_networks_own_forward_pass(explorer, models, images):
    for k, stages in ((0, explorer.stage.options[1:]), (2, ("conv 2", "pool 3"))):
        explorer.example.value = k
        for stage in stages:
            explorer.stage.value = stage
            assert explorer.valid, explorer.message
            for column, model, side in zip(explorer.columns, models, (28, 67), strict=True):
                X = _inputs(images, side)[k: k + 1]
                if column.stage is None:
                    assert explorer.shapes[column.title] is None
                    continue
                with torch.no_grad():
                    expected = model.net[: column.stage.index + 1](X)[0]
                got = column.probe.activations[column.stage.index].value
                torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
                assert explorer.shapes[column.title] == tuple(expected.shape)


def test_stage_names_follow_the_layers(models):
    lenet, alexnet = models
    stages = network_stages(alexnet)
    assert [s.name for s in stages] == [
        f"{'conv' if isinstance(alexnet.net[s.index - 1], nn.Conv2d) else 'pool'} "
        f"{n}" for s, n in zip(stages, [1, 1, 2, 2, 3, 4, 5, 3], strict=True)]
    # Each stage ends right before the next conv, pool or flatten.
    for s in stages:
        following = alexnet.net[s.index + 1]
        assert isinstance(following, (nn.Conv2d, nn.MaxPool2d, nn.Flatten))
    lenet_names = [s.name for s in network_stages(lenet)]
    merged = aligned_stage_names(lenet_names, [s.name for s in stages])
    assert merged == [s.name for s in stages]  # LeNet's four stages are AlexNet's first four
    assert aligned_stage_names(["a", "x", "b"], ["a", "b"]) == ["a", "x", "b"]


def test_kernels_are_the_first_convolutions_weights(explorer, models):
    explorer.stage.value = KERNELS
    for column, model in zip(explorer.columns, models, strict=True):
        assert column.kernels is not None
        torch.testing.assert_close(column.kernels, model.net[0].weight, rtol=0, atol=0)
    assert explorer.shapes["AlexNet"] == tuple(models[1].net[0].weight.shape)


def test_probabilities_are_softmax_of_the_model(explorer, models, images):
    explorer.example.value = 1
    for column, model, side in zip(explorer.columns, models, (28, 67), strict=True):
        with torch.no_grad():
            expected = F.softmax(model(_inputs(images, side)[1:2]), dim=1)[0]
        torch.testing.assert_close(column.probe.probs, expected, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(column.probe.image, _inputs(images, side)[1, 0])
        predicted = int(expected.argmax())
        assert f"with probability {float(expected[predicted]):.2f}" in explorer.status.value


def test_a_stage_lenet_lacks_is_said_not_drawn(explorer):
    explorer.stage.value = "conv 3"
    lenet, alexnet = explorer.columns
    assert lenet.stage is None and "LeNet has no conv 3" in lenet.missing
    labels = [ax.get_label() for ax in explorer.figure.axes]
    assert "maps 1" in labels and "maps 0" not in labels


@pytest.mark.parametrize("stage", [KERNELS, "conv 1", "conv 3", "pool 3"])
def test_figures_keep_the_style(explorer, stage):
    explorer.stage.value = stage
    fig = explorer.figure
    assert reader_view(fig, notebook_png_width(fig)) == []


def test_page_form_holds_what_a_fresh_explorer_shows(models, images):
    images = (images[0][:2], images[1][:2])  # 2 images x 9 stages: a short sweep
    explorer = make(models, images)
    controls = explorer.page_controls()
    data = payload(page.page_html(explorer))
    assert len(data["states"]) == 2 * len(explorer.stage.options) <= page.MAX_STATES
    keys = sorted(data["states"])
    for key in (keys[1], keys[-1]):
        image_index, status, _ = data["states"][key]
        fresh = make(models, images)
        apply(fresh, controls, key)
        assert status == fresh.status.value
        expected = pixels(page.compress_png(fresh.image.value))
        assert np.array_equal(pixels(data["images"][image_index]), expected), key


def test_bad_input_is_refused_clearly(models, images):
    with pytest.raises(TypeError, match="uint8"):
        StageComparisonExplorer(models[0], models[1], images=images[0].float(),
                                labels=images[1])
    with pytest.raises(ValueError, match="labels"):
        StageComparisonExplorer(models[0], models[1], images=images[0], labels=images[1][:2])
    with pytest.raises(ValueError, match="unknown stage"):
        make(models, images, stage="conv 9")
    with pytest.raises(TypeError, match="nn.Sequential"):
        StageComparisonExplorer(nn.Linear(2, 2), models[1], images=images[0],
                                labels=images[1])
    with pytest.raises(ValueError, match="does not take 1×40×40"):
        make(models, images, lenet_side=40)
