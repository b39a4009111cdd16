"""The NiN explorers: a 1x1 convolution at one pixel, and the class maps before averaging.

Every number is checked against PyTorch run independently here (F.conv2d, the model's own
layers called one by one, the model's output); the network is an untrained NiN of the
shipped shape, so no trained weights are needed. The explorers are live (one front-end,
``cnnlib/web/explorers/nin-*.js``): controls are traitlets, results synced values;
``tests/test_widgets_live_nin.py`` holds the front-end's compute to these numbers.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image
from test_viz_style import notebook_png_width, reader_view
from torch.nn import functional as F

from cnnlib.explain.nin_maps import class_maps, one_by_one_convs, pixel_dense
from cnnlib.models.lenet import LeNet
from cnnlib.models.pretrained import build
from cnnlib.viz.nin_maps import class_maps_figure, pixel_dense_figure
from cnnlib.widgets.nin_maps import NiNClassMapExplorer, NiNPixelExplorer, decode


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build("nin").eval()


@pytest.fixture(scope="module")
def images():
    generator = torch.Generator().manual_seed(1)
    X = torch.rand(3, 1, 112, 112, generator=generator)
    return X, torch.tensor([0, 4, 9])


def _upto(model, block: int, layer: int, X: torch.Tensor) -> torch.Tensor:
    """Run ``model.net`` by hand up to (not including) ``net[block][layer]``."""
    with torch.no_grad():
        for i in range(block):
            X = model.net[i](X)
        for j in range(layer):
            X = model.net[block][j](X)
    return X


# ----------------------------------------------------------------------------- 1x1 at a pixel


@pytest.mark.parametrize(("layer", "block", "index"), [("0.2", 0, 2), ("0.4", 0, 4),
                                                      ("7.4", 7, 4)])
def test_pixel_output_is_the_convolution_and_the_matrix_product(model, images, layer, block,
                                                                 index):
    X, y = images
    explorer = NiNPixelExplorer(model, X, y, layer=layer, row=1, col=1)
    explorer.example = 2
    _, _, h, w = _upto(model, block, index, X[2:3]).shape
    row, col = h - 1, w // 2
    explorer.row, explorer.col = row, col
    assert explorer.error == ""
    r = explorer.result
    conv = model.net[block][index]
    maps_in = _upto(model, block, index, X[2:3])
    with torch.no_grad():
        expected = F.relu(F.conv2d(maps_in, conv.weight, conv.bias))[0, :, row, col]
    torch.testing.assert_close(r.x, maps_in[0, :, row, col])
    torch.testing.assert_close(r.out, expected)
    W = conv.weight.detach()[:, :, 0, 0]
    torch.testing.assert_close(r.pre, W @ maps_in[0, :, row, col] + conv.bias.detach())
    torch.testing.assert_close(r.W, W)
    torch.testing.assert_close(r.maps_out[:, row, col], expected)
    # The synced values are the same numbers, for the front-end to draw.
    torch.testing.assert_close(torch.tensor(explorer.x), r.x)
    torch.testing.assert_close(torch.tensor(explorer.out), expected)
    torch.testing.assert_close(torch.from_numpy(decode(explorer.W).copy()), W)
    torch.testing.assert_close(torch.from_numpy(decode(explorer.maps_in).copy()), maps_in[0])
    torch.testing.assert_close(torch.from_numpy(decode(explorer.image).copy()), X[2, 0])
    c_out, c_in = W.shape
    assert f"reshaped to ({c_out}, {c_in})" in explorer.summary
    assert f"{tuple(conv.weight.shape)}" in explorer.summary
    assert explorer.status_text == explorer.summary
    assert f"pixel (row {row}, col {col})" in explorer.header


def test_region_is_the_window_the_pixel_sees(model, images):
    X, y = images
    explorer = NiNPixelExplorer(model, X, y, row=3, col=5)
    conv = model.net[0][0]  # the 11x11, stride-4 convolution before the first 1x1
    (r0, r1), (c0, c1) = explorer.result.region
    s, k = conv.stride[0], conv.kernel_size[0]
    assert (r0, r1, c0, c1) == (3 * s, 3 * s + k, 5 * s, 5 * s + k)
    assert explorer.region == [[r0, r1], [c0, c1]]


def test_switching_layer_pulls_the_pixel_into_the_smaller_map(model, images):
    X, y = images
    explorer = NiNPixelExplorer(model, X, y)
    explorer.row = 25
    explorer.layer = "7.2"
    size = _upto(model, 7, 2, X[:1]).shape[-1]
    assert explorer.error == "" and explorer.row == size - 1
    assert explorer.result.position == (size - 1, explorer.col)


def test_every_1x1_convolution_is_in_the_menu(model, images):
    names = [name for name, _ in one_by_one_convs(model)]
    expected = [f"{i}.{j}" for i, block in enumerate(model.net) if isinstance(block,
                torch.nn.Sequential) for j, layer in enumerate(block)
                if isinstance(layer, torch.nn.Conv2d) and layer.kernel_size == (1, 1)]
    assert names == expected and len(names) == 8
    X, y = images
    explorer = NiNPixelExplorer(model, X, y)
    assert [value for _, value in explorer.layer_options] == expected
    assert explorer.layer_options[0][0] == "block 1, first 1×1 conv (net.0.2)"
    assert explorer.layer_options[-1][0] == "block 4 (class block), second 1×1 conv (net.7.4)"


def test_a_bad_setting_is_an_error_not_an_exception(model, images):
    X, y = images
    explorer = NiNPixelExplorer(model, X, y)
    explorer.layer = "0.0"
    assert explorer.error.startswith("layer must name a 1x1 convolution of model.net")
    assert explorer.result is None and explorer.x == [] and explorer.picture_png() is None
    explorer.layer = "2.2"
    assert explorer.error == "" and explorer.result.layer == "2.2"
    explorer.example = 7
    assert explorer.error == "example must be an image's position 0..2, got 7"


def test_pixel_explorer_rejects_bad_input(model, images):
    X, y = images
    with pytest.raises(ValueError, match=r"\(N, 1, H, H\)"):
        NiNPixelExplorer(model, X[:, 0])
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\)"):
        NiNPixelExplorer(model, X, y[:2])
    with pytest.raises(ValueError, match="one of"):
        NiNPixelExplorer(model, X, y, layer="0.0")
    with pytest.raises(ValueError, match=r"0\.\.25"):
        NiNPixelExplorer(model, X, y, row=26)
    with pytest.raises(TypeError, match="whole number"):
        NiNPixelExplorer(model, X, y, col=2.5)
    with pytest.raises(ValueError, match=r"position 0\.\.2"):
        NiNPixelExplorer(model, X, y, example=3)
    with pytest.raises(ValueError, match="no 1x1 convolution"):
        NiNPixelExplorer(LeNet(), torch.rand(2, 1, 28, 28))
    with pytest.raises(ValueError, match="outside"):
        pixel_dense(model, X[0, 0], "0.2", (30, 0))


# ----------------------------------------------------------------------------- class maps


def test_class_map_means_are_the_models_logits(model, images):
    X, y = images
    explorer = NiNClassMapExplorer(model, X, y)
    explorer.example = 1
    r = explorer.result
    with torch.no_grad():
        logits = model(X[1:2])[0]
        maps = model.net[:8](X[1:2])[0]
    torch.testing.assert_close(r.maps, maps)
    assert tuple(r.maps.shape[1:]) == (2, 2)  # at 112 px the class block's maps are 2x2
    torch.testing.assert_close(r.averages, logits)
    torch.testing.assert_close(r.logits, logits)
    torch.testing.assert_close(r.probs, F.softmax(logits, dim=0))
    assert r.predicted == int(logits.argmax()) and r.label == 4
    assert "2×2" in explorer.summary
    torch.testing.assert_close(torch.from_numpy(decode(explorer.maps).copy()), maps)
    torch.testing.assert_close(torch.tensor(explorer.probs), F.softmax(logits, dim=0))
    assert explorer.predicted == r.predicted and explorer.label == 4


def test_a_larger_input_gives_larger_maps_and_still_their_means(model, images):
    X, y = images
    explorer = NiNClassMapExplorer(model, X, y)
    explorer.size = 224
    X224 = F.interpolate(X[:1], size=(224, 224), mode="bilinear", antialias=True,
                         align_corners=False).clamp(0, 1)
    with torch.no_grad():
        logits, maps = model(X224)[0], model.net[:8](X224)[0]
    torch.testing.assert_close(explorer.result.maps, maps)
    assert tuple(maps.shape[1:]) == (5, 5)
    torch.testing.assert_close(explorer.result.averages, logits)
    assert "never trained" in explorer.summary and explorer.note == "(not the trained size)"
    assert [side for _, side in explorer.size_options] == [112, 224]


def test_class_map_explorer_rejects_bad_input(model, images):
    X, y = images
    with pytest.raises(ValueError, match="sizes"):
        NiNClassMapExplorer(model, X, y, sizes=(112, 0))
    with pytest.raises(ValueError, match="give images at the first size"):
        NiNClassMapExplorer(model, X, y, sizes=(224,))
    with pytest.raises(ValueError, match="global average pooling"):
        NiNClassMapExplorer(LeNet(), torch.rand(2, 1, 28, 28), sizes=(28,))
    with pytest.raises(ValueError, match=r"size must be one of \[112, 224\]"):
        NiNClassMapExplorer(model, X, y, size=100)
    with pytest.raises(TypeError, match="torch.Tensor"):
        class_maps(model, X[0, 0].numpy())
    explorer = NiNClassMapExplorer(model, X, y)
    explorer.size = 150
    assert explorer.error == "size must be one of [112, 224], got 150"
    assert explorer.maps == {} and explorer.result is None


# ----------------------------------------------------------------------------- pictures


def test_pictures_for_a_page_without_the_front_end(model, images):
    """Python's drawing of the current setting: what a notebook without its kernel shows,
    and what the website shows while (or if) the network cannot run."""
    X, y = images
    for explorer in (NiNPixelExplorer(model, X, y), NiNClassMapExplorer(model, X, y)):
        png = explorer.picture_png()
        with Image.open(io.BytesIO(png)) as picture:
            assert picture.mode == "P" and picture.width > 400  # palette PNG, a whole figure
        assert explorer.summary in explorer.picture_alt()


def test_renderers_are_readable(model, images):
    X, y = images
    for layer in ("0.2", "7.4"):
        result = pixel_dense(model, X[0, 0], layer, (1, 1))
        fig = pixel_dense_figure(result, X[0, 0], "a layer")
        assert reader_view(fig, notebook_png_width(fig)) == []
    for side in (112, 224):
        image = F.interpolate(X[:1], size=(side, side), mode="bilinear")[0, 0]
        fig = class_maps_figure(class_maps(model, image, 0), image, note="a note")
        assert reader_view(fig, notebook_png_width(fig)) == []
        (ax,) = [ax for ax in fig.axes if ax.get_label() == "probabilities"]
        widths = [bar.get_width() for bar in ax.patches]
        np.testing.assert_allclose(widths, F.softmax(model(image[None, None]), 1)[0]
                                   .detach().numpy(), rtol=1e-5)
