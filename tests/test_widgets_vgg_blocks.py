"""The VGG block explorer (8.2): its receptive fields against autograd, its maps against VGG.

The explorer is live (one front-end, ``cnnlib/web/explorers/vgg-blocks.js``): these tests hold
what Python computes and syncs (JupyterLab's numbers) and the data it sends the page to
PyTorch. The front-end's own compute is held to these in
``tests/test_widgets_live_vgg_blocks.py`` (Node) and
``tests/browser/test_web_explorers_vgg_blocks.py`` (Chromium).
"""

from __future__ import annotations

import base64
import copy

import numpy as np
import pytest
import torch
from test_viz_style import notebook_png_width, reader_view
from torch import nn

from cnnlib import data
from cnnlib.models.pretrained import build
from cnnlib.viz.vgg_blocks import SHOWN_CHANNELS, block_field, vgg_block_figure
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
    explorer.block = block
    h, w = explorer.maps.shape[1:]
    positive = positive_avg_copy(model)
    generator = torch.Generator().manual_seed(block)
    for position in sorted({(0, 0), (h // 2, w // 2), (h - 1, 0)}):
        explorer.row, explorer.col = position
        assert explorer.error == "", explorer.error
        assert explorer.field_info["region"] == [list(a) for a in explorer.region]
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
        explorer.example = k
        for block in range(1, 6):
            explorer.block = block
            with torch.no_grad():
                expected = model.net[:block](X[k: k + 1])[0]
            torch.testing.assert_close(explorer.maps, expected, rtol=1e-5, atol=1e-6)
            # What it syncs: the block's whole shape, its first channels' values.
            shown = min(expected.shape[0], SHOWN_CHANNELS)
            synced = explorer.maps_shown
            assert synced["shape"] == list(expected.shape)
            assert synced["tiles"] == [shown, *expected.shape[1:]]
            torch.testing.assert_close(torch.tensor(synced["values"]).reshape(synced["tiles"]),
                                       expected[:shown], rtol=1e-5, atol=1e-6)
            assert explorer.shown == {"example": k, "block": block}


def test_named_units_and_clamped_sliders(model, images):
    explorer = make(model, images, unit=SLIDERS)
    explorer.row = explorer.col = 15
    explorer.block = 3
    h, w = explorer.maps.shape[1:]
    assert (explorer.row, explorer.col) == (h - 1, w - 1)
    for name, where in UNITS.items():
        explorer.unit = name
        assert (explorer.row, explorer.col) == where(h, w)
        explorer.block = 1  # the named unit follows the block
        h1, w1 = explorer.maps.shape[1:]
        assert (explorer.row, explorer.col) == where(h1, w1)
        assert explorer.field_info["position"] == list(where(h1, w1))
        explorer.block = 3


def test_the_status_line(model, images):
    explorer = make(model, images, unit=SLIDERS, block=2, row=7, col=3)
    with torch.no_grad():
        probs = torch.softmax(model(explorer.X), dim=1)
    predicted = int(probs[0].argmax())
    assert explorer.status_text.split("\n") == [
        "block 2: 1 × (3×3 conv + ReLU), 2×2 max pool → 32×8×8",
        explorer.field.describe(),
        f"predicted {data.LABELS[predicted]} with probability {float(probs[0, predicted]):.2f} "
        f"(true {data.LABELS[int(images[1][0])]})"]
    assert explorer.field.describe().startswith("unit (7, 3) of block 2's 8×8 output")
    assert explorer.predicted == predicted
    assert explorer.probability == pytest.approx(float(probs[0, predicted]), abs=1e-6)


@pytest.mark.parametrize("block", [1, 3, 5])
def test_figures_keep_the_style(explorer, block):
    explorer.block = block
    fig = vgg_block_figure(explorer.X[explorer.example, 0], explorer.field, explorer.maps)
    assert reader_view(fig, notebook_png_width(fig)) == []
    assert explorer.picture_png().startswith(b"\x89PNG")


def test_the_page_gets_pythons_pixels_and_the_blocks_geometry(model, images):
    explorer = make(model, images)
    state = explorer.page_state()
    raw = np.frombuffer(base64.b64decode(state["network"]["pixels"]), dtype=np.uint8)
    X = torch.from_numpy(raw.astype(np.float32)).reshape(N, 1, SIDE, SIDE) / 255
    assert torch.equal(X, explorer.X)  # bit for bit, divided as Python does
    assert state["network"]["key"] == "vgg11" and state["network"]["side"] == SIDE
    names = dict(model.named_modules())
    for index, block in enumerate(state["blocks"]):
        layer = names[block["map"]]  # the block's last layer: its output is the block's
        assert layer is model.net[index][-1]
        convs = [m for m in model.net[index] if isinstance(m, (nn.Conv2d, nn.MaxPool2d))]
        assert block["layers"] == [
            {"kernel": m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0],
             "stride": m.stride if isinstance(m.stride, int) else m.stride[0],
             "padding": m.padding if isinstance(m.padding, int) else m.padding[0]}
            for m in convs]
    assert state["units"] == [*UNITS, SLIDERS] and state["labels_shown"] == [5, 9]
    assert [c["name"] for c in state["controls"]] == ["block", "row", "col"]
    assert state["controls"][0]["max"] == 5
    assert base64.b64decode(state["picture"]).startswith(b"\x89PNG")
    assert explorer.page_scripts()[-2].name == "cnn-networks.js"


def test_bad_settings_are_messages_and_the_next_change_fixes_them(model, images):
    explorer = make(model, images)
    explorer.block = 6
    assert explorer.error == "block must be a whole number in 1..5, got 6"
    assert explorer.status_text == explorer.error and explorer.summary == []
    assert explorer.field_info == {} and explorer.picture_png() is None
    explorer.block = 2
    assert explorer.error == "" and explorer.field.block == 2
    explorer.unit = "middle"
    assert explorer.error.startswith("unknown unit 'middle'; choose one of")


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
