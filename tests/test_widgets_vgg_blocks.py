"""The VGG block explorer (8.2): its receptive fields against autograd, its maps against VGG."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from test_viz_style import notebook_png_width, reader_view
from test_widgets_page import apply, payload, pixels
from torch import nn

from cnnlib.models.pretrained import build
from cnnlib.viz.vgg_blocks import block_field
from cnnlib.widgets import page
from cnnlib.widgets.vgg_blocks import SLIDERS, UNITS, VGGBlockExplorer

N, SIDE = 2, 32


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(3)
    return build("vgg11").eval()


@pytest.fixture(scope="module")
def images():
    generator = torch.Generator().manual_seed(4)
    return (torch.randint(0, 256, (N, 28, 28), generator=generator, dtype=torch.uint8),
            torch.tensor([5, 9]))


def make(model, images, **kwargs):
    return VGGBlockExplorer(model=model, images=images[0], labels=images[1], **kwargs)


@pytest.fixture(scope="module")
def explorer(model, images):
    return make(model, images, unit=SLIDERS)


def gradient_support(net: nn.Module, X: torch.Tensor, position) -> torch.Tensor:
    """Input pixels where d(sum over channels of unit ``position``)/d(input) is not zero."""
    X = X.clone().requires_grad_(True)
    net(X)[0, :, position[0], position[1]].sum().backward()
    return X.grad[0, 0] != 0


def box_of(mask: torch.Tensor):
    rows = torch.nonzero(mask.any(dim=1)).flatten()
    cols = torch.nonzero(mask.any(dim=0)).flatten()
    return (int(rows[0]), int(rows[-1]) + 1), (int(cols[0]), int(cols[-1]) + 1)


def positive_avg_copy(model: nn.Module) -> nn.Module:
    """The same geometry with every weight and bias positive and average pools.

    With a positive input every ReLU is then active and every path carries a positive
    product, so the gradient is non-zero exactly on the pixels the unit depends on. (With
    max pooling only the window's largest input gets a gradient, and with signed weights a
    ReLU can be off, so the support of one gradient may be smaller than the region.)
    """
    model = copy.deepcopy(model)
    with torch.no_grad():
        for p in model.parameters():
            p.abs_().add_(1e-3)
    for block in model.net:
        for i, layer in enumerate(block) if isinstance(block, nn.Sequential) else []:
            if isinstance(layer, nn.MaxPool2d):
                block[i] = nn.AvgPool2d(layer.kernel_size, layer.stride)
    return model.double()


@pytest.mark.parametrize("block", [1, 2, 3, 4, 5])
def test_drawn_region_is_where_the_gradient_reaches(explorer, model, block):
    explorer.block.value = block
    h, w = explorer.maps.shape[1:]
    positive = positive_avg_copy(model)
    generator = torch.Generator().manual_seed(block)
    for position in sorted({(0, 0), (h // 2, w // 2), (h - 1, 0)}):
        explorer.row.value, explorer.col.value = position
        assert explorer.valid, explorer.message
        (r0, r1), (c0, c1) = explorer.region
        inside = torch.zeros(SIDE, SIDE, dtype=torch.bool)
        inside[r0:r1, c0:c1] = True
        # The real network (signed weights, max pools): the gradient never leaves the region.
        for _ in range(2):
            X = torch.rand(1, 1, SIDE, SIDE, generator=generator)
            support = gradient_support(model.net[:block], X, position)
            assert support.any() and not (support & ~inside).any(), (block, position)
        # Positive weights, average pools: it fills the region exactly, to its borders.
        X = torch.rand(1, 1, SIDE, SIDE, generator=generator, dtype=torch.float64) + 0.1
        support = gradient_support(positive.net[:block], X, position)
        assert torch.equal(support, inside), (block, position)


@pytest.mark.parametrize("block", [1, 3, 5])
def test_the_whole_field_is_the_gradient_on_a_larger_canvas(model, block):
    # Put the image in the middle of a zero canvas 64 px wider on each side (a multiple of
    # every block's jump, so the units stay aligned): the field no longer reaches past the
    # input, and its gradient support, shifted back, is the field with its padding.
    margin = 64
    positive = positive_avg_copy(model)
    field = block_field(model, block, (0, 0), SIDE)
    jump = SIDE // field.output_size[0]
    big = torch.rand(1, 1, SIDE + 2 * margin, SIDE + 2 * margin, dtype=torch.float64) + 0.1
    support = gradient_support(positive.net[:block], big, (margin // jump, margin // jump))
    (r0, r1), (c0, c1) = box_of(support)
    assert field.box == ((r0 - margin, r1 - margin), (c0 - margin, c1 - margin))
    assert field.size == (r1 - r0, c1 - c0)
    inside = support[margin: margin + SIDE, margin: margin + SIDE].sum()
    assert field.padding_fraction == pytest.approx(1 - float(inside) / float(support.sum()))


def test_maps_are_the_blocks_output(explorer, model, images):
    X = torch.nn.functional.interpolate(images[0].unsqueeze(1), size=(SIDE, SIDE),
                                        mode="bilinear", antialias=True,
                                        align_corners=False).float() / 255
    for k in range(N):
        explorer.example.value = k
        for block in range(1, 6):
            explorer.block.value = block
            with torch.no_grad():
                expected = model.net[:block](X[k: k + 1])[0]
            torch.testing.assert_close(explorer.maps, expected, rtol=1e-5, atol=1e-6)


def test_named_units_and_clamped_sliders(model, images):
    explorer = make(model, images, unit=SLIDERS)
    explorer.row.value = explorer.col.value = 15
    explorer.block.value = 3
    h, w = explorer.maps.shape[1:]
    assert (explorer.row.value, explorer.col.value) == (h - 1, w - 1)
    assert not explorer.row.disabled
    for name, where in UNITS.items():
        explorer.unit.value = name
        assert (explorer.row.value, explorer.col.value) == where(h, w)
        assert explorer.row.disabled
        explorer.block.value = 1  # the named unit follows the block
        h1, w1 = explorer.maps.shape[1:]
        assert (explorer.row.value, explorer.col.value) == where(h1, w1)
        explorer.block.value = 3


@pytest.mark.parametrize("block", [1, 3, 5])
def test_figures_keep_the_style(explorer, block):
    explorer.block.value = block
    fig = explorer.figure
    assert reader_view(fig, notebook_png_width(fig)) == []


def test_page_form_holds_what_a_fresh_explorer_shows(model, images):
    images = (images[0][:1], images[1][:1])  # 1 image x 5 blocks x 3 units: a short sweep
    explorer = make(model, images)
    controls = explorer.page_controls()
    data = payload(page.page_html(explorer))
    assert len(data["states"]) == 5 * len(UNITS) <= page.MAX_STATES
    keys = sorted(data["states"])
    for key in (keys[1], keys[len(keys) // 2], keys[-1]):
        image_index, status, _ = data["states"][key]
        fresh = make(model, images)
        apply(fresh, controls, key)
        assert status == fresh.status.value
        expected = pixels(page.compress_png(fresh.image.value))
        assert np.array_equal(pixels(data["images"][image_index]), expected), key


def test_bad_input_is_refused_clearly(model, images):
    with pytest.raises(ValueError, match="unknown unit"):
        make(model, images, unit="middle")
    with pytest.raises(ValueError, match="block must be"):
        make(model, images, block=6)
    with pytest.raises(TypeError, match="blocks of"):
        VGGBlockExplorer(model=build("alexnet"), images=images[0], labels=images[1])
    with pytest.raises(ValueError, match="does not take"):
        make(model, images, side=20)
    with pytest.raises(ValueError, match="outside"):
        block_field(model, 2, (8, 0), SIDE)
