"""The Inception explorer: one GoogLeNet block's branches, their channels and their FLOPs.

Checked against the block itself (called on an input computed here by running the stages
by hand), the branch modules' out_channels, and a FLOP count written out from the
convolutions' shapes; an untrained GoogLeNet of the shipped shape, no trained weights.
"""

from __future__ import annotations

import pytest
import torch
from test_viz_style import notebook_png_width, reader_view

from cnnlib.explain.inception import block_inputs, branch_outputs, inception_blocks
from cnnlib.models.cost import count_flops
from cnnlib.models.googlenet import Inception
from cnnlib.models.lenet import LeNet
from cnnlib.models.pretrained import build
from cnnlib.viz.common import figure_to_png
from cnnlib.viz.inception import inception_figure
from cnnlib.widgets.inception import InceptionExplorer


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build("googlenet").eval()


@pytest.fixture(scope="module")
def images():
    generator = torch.Generator().manual_seed(2)
    return torch.rand(3, 1, 64, 64, generator=generator), torch.tensor([0, 3, 9])


def _block_input(model, stage: int, index: int, X: torch.Tensor) -> torch.Tensor:
    """Run ``model.net`` by hand up to block ``net[stage][index]``."""
    with torch.no_grad():
        for s in range(stage):
            X = model.net[s](X)
        for j in range(index):
            X = model.net[stage][j](X)
    return X


def _flops_by_hand(block: Inception, h: int, w: int) -> list[int]:
    """2 * k*k * C_in * C_out * H * W for every convolution, summed per branch."""
    def conv(layer):
        kh, kw = layer.kernel_size
        return 2 * kh * kw * layer.in_channels * layer.out_channels * h * w

    return [conv(block.b1_1), conv(block.b2_1) + conv(block.b2_2),
            conv(block.b3_1) + conv(block.b3_2), conv(block.b4_2)]


def test_blocks_carry_the_papers_names(model):
    labels = [label for _, label, _ in inception_blocks(model)]
    assert labels == ["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"]
    assert all(model.net.get_submodule(name) is block
               for name, _, block in inception_blocks(model))


@pytest.mark.parametrize(("name", "stage", "index"), [("2.0", 2, 0), ("3.3", 3, 3),
                                                      ("4.1", 4, 1)])
def test_branches_concatenated_are_the_block_output(model, images, name, stage, index):
    X, y = images
    explorer = InceptionExplorer(model, X, y, block=name)
    explorer.example = 1
    r = explorer.result
    block = model.net[stage][index]
    inputs = _block_input(model, stage, index, X[1:2])
    with torch.no_grad():
        expected = block(inputs)[0]
    torch.testing.assert_close(r.input, inputs[0])
    torch.testing.assert_close(torch.cat(r.branches), expected)
    torch.testing.assert_close(r.output, expected)
    channels = [block.b1_1.out_channels, block.b2_2.out_channels, block.b3_2.out_channels,
                block.b4_2.out_channels]
    assert r.channels == channels == [b.shape[0] for b in r.branches]
    assert r.channel_shares == pytest.approx([c / block.out_channels for c in channels])
    _, h, w = inputs[0].shape
    by_hand = _flops_by_hand(block, h, w)
    assert r.flops == by_hand
    assert sum(r.flops) == count_flops(block, tuple(inputs.shape))
    assert r.flop_shares == pytest.approx([f / sum(by_hand) for f in by_hand])
    assert f"{h}×{w}" in explorer.status_text


def test_every_block_keeps_height_and_width(model, images):
    X, _ = images
    inputs = block_inputs(model, X[0, 0])
    for name, label, block in inception_blocks(model):
        r = branch_outputs(block, inputs[name], name, label)
        assert all(b.shape[1:] == inputs[name].shape[1:] for b in r.branches), label


def test_strongest_channels_are_the_largest_means(model, images):
    X, y = images
    explorer = InceptionExplorer(model, X, y, block="3.0")
    for branch, shown in zip(explorer.result.branches, explorer.shown, strict=True):
        means = branch.mean(dim=(1, 2))
        assert means[shown].tolist() == sorted(means[shown].tolist(), reverse=True)
        rest = [c for c in range(branch.shape[0]) if c not in shown]
        if rest:
            assert float(means[shown].min()) >= float(means[rest].max())
    explorer.pick = "first"
    assert explorer.shown == [list(range(min(4, c))) for c in explorer.result.channels]


def test_figure_is_readable(model, images):
    X, y = images
    explorer = InceptionExplorer(model, X, y, block="4.1")
    fig = inception_figure(explorer.result, X[0, 0], explorer.shown)
    assert reader_view(fig, notebook_png_width(fig)) == []
    (ax,) = [ax for ax in fig.axes if ax.get_label() == "shares"]
    widths = [patch.get_width() for patch in ax.patches]
    expected = explorer.result.channel_shares + explorer.result.flop_shares
    assert widths == pytest.approx(expected)


def test_the_website_picture_is_pythons_drawing_of_the_same_setting(model, images):
    """The picture the page shows while the network loads is inception_figure's."""
    X, y = images
    explorer = InceptionExplorer(model, X, y, block="3.2")
    explorer.example = 2
    fig = inception_figure(explorer.result, X[2, 0], explorer.shown)
    assert explorer.picture_png() == figure_to_png(fig)


def test_a_bad_setting_is_a_message_and_the_next_change_fixes_it(model, images):
    X, y = images
    explorer = InceptionExplorer(model, X, y)
    explorer.block = "2.2"
    assert explorer.error.startswith("block must name an Inception block of model.net")
    assert explorer.status_text == explorer.error and explorer.branch_maps == []
    assert explorer.picture_png() is None
    explorer.block = "4.0"
    assert explorer.error == "" and explorer.title.startswith("Inception 5a (net.4.0)")
    explorer.pick = "loudest"
    assert explorer.error == "pick must be one of ['strongest', 'first'], got 'loudest'"
    explorer.pick = "first"
    explorer.example = 3
    assert explorer.error == "example must be an image position in 0..2, got 3"


def test_bad_input_is_refused(model, images):
    X, y = images
    with pytest.raises(ValueError, match="one of"):
        InceptionExplorer(model, X, y, block="2.2")
    with pytest.raises(ValueError, match="pick"):
        InceptionExplorer(model, X, y, pick="loudest")
    with pytest.raises(ValueError, match=r"\(N, 1, H, H\)"):
        InceptionExplorer(model, X[0])
    with pytest.raises(ValueError, match="no Inception block"):
        InceptionExplorer(LeNet(), torch.rand(2, 1, 28, 28))
    with pytest.raises(ValueError, match="C_in"):
        branch_outputs(model.net[2][0], torch.rand(5, 8, 8))
