"""The LeNet/AlexNet stage comparison (8.1): its numbers against the networks' own forward pass.

The explorer is live (one front-end, ``cnnlib/web/explorers/compare-stages.js``): these tests
hold what Python computes and syncs (JupyterLab's numbers) and the data it sends the page to
PyTorch. The front-end's own compute is held to these in
``tests/test_widgets_live_compare_stages.py`` (Node) and
``tests/browser/test_web_explorers_compare_stages.py`` (Chromium).
"""

from __future__ import annotations

import base64

import numpy as np
import pytest
import torch
from matplotlib import colormaps, colors
from test_viz_style import notebook_png_width, reader_view
from torch import nn
from torch.nn import functional as F

from cnnlib import data
from cnnlib.models.pretrained import build
from cnnlib.viz.compare_stages import (
    KERNELS,
    aligned_stage_names,
    compare_stages_figure,
    network_stages,
)
from cnnlib.widgets.compare_stages import (
    StageComparisonExplorer,
    palettes,
    pixels_base64,
    whole_number,
)

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
    for k, stages in ((0, explorer.stages_menu[1:]), (2, ("conv 2", "pool 3"))):
        explorer.example = k
        for stage in stages:
            explorer.stage = stage
            assert explorer.error == "", explorer.error
            assert explorer.shown == {"example": k, "stage": stage}
            for column, model, side in zip(explorer.columns, models, (28, 67), strict=True):
                X = _inputs(images, side)[k: k + 1]
                name = column["title"]
                if stage not in explorer.stages[name]:
                    assert column["kind"] == "missing" and column["values"] == []
                    assert explorer.shapes[name] is None and column["shape"] is None
                    continue
                index = explorer.stages[name][stage].index
                with torch.no_grad():
                    expected = model.net[: index + 1](X)[0]
                got = torch.tensor(column["values"]).reshape(column["shape"])
                torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
                assert column["kind"] == "maps" and column["tiles"] == list(expected.shape)
                assert explorer.shapes[name] == tuple(expected.shape)
                assert column["heading"].endswith("→ " + "×".join(map(str, expected.shape)))


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
    explorer.stage = KERNELS
    for column, network, model in zip(explorer.columns, explorer.networks, models, strict=True):
        weight = model.net[0].weight.detach()
        assert column["kind"] == "kernels" and column["shape"] == list(weight.shape)
        assert column["tiles"] == [weight.shape[0] * weight.shape[1], *weight.shape[2:]]
        torch.testing.assert_close(torch.tensor(column["values"]).reshape(weight.shape), weight,
                                   rtol=0, atol=0)
        # The page draws the same kernels from the data it is sent.
        sent = np.frombuffer(base64.b64decode(network["kernels"]["data"]), dtype="<f4")
        np.testing.assert_array_equal(sent.reshape(network["kernels"]["shape"]), weight.numpy())
    assert explorer.shapes["AlexNet"] == tuple(models[1].net[0].weight.shape)


def test_probabilities_and_the_status_line(explorer, models, images):
    explorer.example = 1
    lines = explorer.status_text.split("\n")
    for column, model, side, line in zip(explorer.columns, models, (28, 67), lines, strict=True):
        with torch.no_grad():
            expected = F.softmax(model(_inputs(images, side)[1:2]), dim=1)[0]
        predicted = int(expected.argmax())
        assert column["predicted"] == predicted
        assert column["probability"] == pytest.approx(float(expected[predicted]), abs=1e-6)
        assert line == column["line"]
        assert line.startswith(f"{column['title']} on {side}×{side}: {column['heading']}")
        assert line.endswith(f"; predicted {data.LABELS[predicted]} with probability "
                             f"{float(expected[predicted]):.2f}")


def test_a_stage_lenet_lacks_is_said_not_drawn(explorer):
    explorer.stage = "conv 3"
    lenet, alexnet = explorer.columns
    assert lenet["kind"] == "missing" and "LeNet has no conv 3" in lenet["missing"]
    assert lenet["heading"] == lenet["missing"] and alexnet["kind"] == "maps"
    labels = [ax.get_label() for ax in compare_stages_figure(explorer.figure_columns).axes]
    assert "maps 1" in labels and "maps 0" not in labels


@pytest.mark.parametrize("stage", [KERNELS, "conv 1", "conv 3", "pool 3"])
def test_figures_keep_the_style(explorer, stage):
    explorer.stage = stage
    fig = compare_stages_figure(explorer.figure_columns)
    assert reader_view(fig, notebook_png_width(fig)) == []
    assert explorer.picture_png().startswith(b"\x89PNG")


def test_the_page_gets_pythons_pixels_and_matplotlibs_colours(explorer, images):
    state = explorer.page_state()
    assert state["example"] == explorer.example and state["stage"] == explorer.stage
    for network, side in zip(state["networks"], (28, 67), strict=True):
        raw = np.frombuffer(base64.b64decode(network["pixels"]), dtype=np.uint8)
        X = torch.from_numpy(raw.astype(np.float32)).reshape(N, 1, side, side) / 255
        assert torch.equal(X, _inputs(images, side))  # bit for bit, divided as Python does
        assert [s["map"] for s in network["stages"]] == [
            f"net.{s.index}" for s in explorer.stages[network["title"]].values()]
    assert [network["key"] for network in state["networks"]] == ["lenet", "alexnet"]
    for name, text in state["palettes"].items():
        cmap = colormaps[name].resampled(256)
        assert text == "".join(colors.to_hex(cmap(i))[1:] for i in range(256))
    assert base64.b64decode(state["picture"]).startswith(b"\x89PNG")
    assert explorer.page_scripts()[-2].name == "cnn-networks.js"


def test_bad_settings_are_messages_and_the_next_change_fixes_them(models, images):
    explorer = make(models, images)
    explorer.stage = "conv 9"
    assert explorer.error.startswith("unknown stage 'conv 9'; choose one of")
    assert explorer.status_text == explorer.error and explorer.columns == []
    assert explorer.picture_png() is None
    explorer.stage = "conv 2"
    assert explorer.error == "" and len(explorer.columns) == 2
    explorer.example = N
    assert explorer.error == f"example must be a whole number in 0..{N - 1}, got {N}"


def test_bad_input_is_refused_clearly(models, images):
    with pytest.raises(TypeError, match="uint8"):
        StageComparisonExplorer(models[0], models[1], images=images[0].float(),
                                labels=images[1])
    with pytest.raises(ValueError, match="labels"):
        StageComparisonExplorer(models[0], models[1], images=images[0], labels=images[1][:2])
    with pytest.raises(ValueError, match="unknown stage"):
        make(models, images, stage="conv 9")
    with pytest.raises(ValueError, match="example must be a whole number in 0..2"):
        make(models, images, example=3)
    with pytest.raises(TypeError, match="nn.Sequential"):
        StageComparisonExplorer(nn.Linear(2, 2), models[1], images=images[0],
                                labels=images[1])
    with pytest.raises(ValueError, match="does not take 1×40×40"):
        make(models, images, lenet_side=40)
    with pytest.raises(ValueError, match="uint8 images divided by 255"):
        pixels_base64(torch.full((1, 1, 2, 2), 0.3))
    with pytest.raises(ValueError, match=r"must be a whole number in 1\.\.5, got True"):
        whole_number(True, "block", 1, 5)
    assert set(palettes()) == {"viridis", "RdBu_r"}
