"""Section 7.1's explorers and their arithmetic, checked against PyTorch's own layers."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from test_viz_style import notebook_png_width, reader_view
from torch import nn

from cnnlib.explain.equivariance import (
    compare_shift,
    conv_as_dense,
    layer_counts,
    random_dense,
    shift_image,
)
from cnnlib.viz.equivariance import count_figure, shift_figure
from cnnlib.viz.kernels import KERNEL_PRESETS
from cnnlib.widgets.dense_vs_conv import ParameterCountExplorer, ShiftExplorer


def _rolled(X: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """The reference shift: torch.roll, then blank what wrapped around."""
    out = torch.roll(X, shifts=(dy, dx), dims=(0, 1)).clone()
    if dy > 0:
        out[:dy] = 0
    elif dy < 0:
        out[dy:] = 0
    if dx > 0:
        out[:, :dx] = 0
    elif dx < 0:
        out[:, dx:] = 0
    return out


@pytest.mark.parametrize("dy, dx", [(0, 0), (3, 4), (-2, 5), (4, -6), (-5, -1)])
def test_shift_image_is_roll_without_wraparound(dy, dx):
    X = torch.rand(9, 11)
    assert torch.equal(shift_image(X, dy, dx), _rolled(X, dy, dx))


def test_shift_image_refuses_shifts_that_leave_nothing():
    with pytest.raises(ValueError, match="out of view"):
        shift_image(torch.rand(5, 5), 5, 0)
    with pytest.raises(TypeError, match="whole number"):
        shift_image(torch.rand(5, 5), 1.5, 0)
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        shift_image(torch.rand(1, 5, 5), 1, 0)


@pytest.mark.parametrize("size, kernel", [((6, 7), (3, 3)), ((5, 5), (2, 4)), ((28, 28), (3, 3))])
def test_conv_as_dense_computes_the_convolution(size, kernel):
    X, K = torch.randn(size), torch.randn(kernel)
    M = conv_as_dense(K, size)
    expected = F.conv2d(X[None, None], K[None, None])[0, 0]
    torch.testing.assert_close((M @ X.flatten()).reshape(expected.shape), expected)


def test_random_dense_is_pytorchs_default_layer_and_leaves_the_random_stream():
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    layer = random_dense(20, 7, seed=5)
    assert torch.equal(torch.rand(3), expected_next)
    torch.manual_seed(5)
    reference = nn.Linear(20, 7, bias=False)
    assert torch.equal(layer.weight, reference.weight)


@pytest.mark.parametrize("dy, dx", [(3, 4), (-2, 3), (0, -5)])
def test_the_convolution_moves_with_the_image_and_a_random_dense_layer_does_not(dy, dx):
    X = torch.zeros(16, 16)
    X[4:12, 5:10] = torch.rand(8, 5)  # an object on a black background, as in Fashion-MNIST
    K = torch.randn(3, 3)
    dense = random_dense(256, 196).weight
    result = compare_shift(X, K, dense, dy, dx)
    moved = _rolled(F.conv2d(X[None, None], K[None, None])[0, 0], dy, dx)
    shifted_map = F.conv2d(_rolled(X, dy, dx)[None, None], K[None, None])[0, 0]
    torch.testing.assert_close(result.conv_shifted, shifted_map)
    assert result.conv_error < 1e-5
    # The object stays inside the image, so the moved map equals the shifted image's map
    # wherever roll did not blank it, which is what conv_error measures.
    rows = slice(max(dy, 0), 14 + min(dy, 0))
    cols = slice(max(dx, 0), 14 + min(dx, 0))
    torch.testing.assert_close(shifted_map[rows, cols], moved[rows, cols])
    assert result.dense_error > 0.1 * result.scale
    tied = compare_shift(X, K, conv_as_dense(K, (16, 16)), dy, dx)
    assert tied.dense_error < 1e-5
    torch.testing.assert_close(tied.dense, result.conv)


def test_compare_shift_refuses_a_dense_matrix_of_the_wrong_shape():
    with pytest.raises(ValueError, match="dense matrix must be"):
        compare_shift(torch.rand(8, 8), torch.rand(3, 3), torch.rand(10, 64), 1, 1)


@pytest.mark.parametrize("side, kernel, c_in, c_out", [(8, 3, 1, 1), (6, 5, 3, 4), (10, 1, 2, 3)])
def test_layer_counts_are_those_of_real_layers(side, kernel, c_in, c_out):
    counts = layer_counts(side, kernel, c_in, c_out)
    dense = nn.Linear(c_in * side * side, c_out * side * side)
    conv = nn.Conv2d(c_in, c_out, kernel, padding="same")
    assert counts.dense == sum(p.numel() for p in dense.parameters())
    assert counts.conv == sum(p.numel() for p in conv.parameters())
    X = torch.rand(1, c_in, side, side)
    assert conv(X).shape[1:] == (c_out, side, side)  # the same hidden shape as the dense layer's
    assert dense(X.flatten(1)).shape[1] == c_out * side * side


def test_layer_counts_refuse_a_kernel_larger_than_the_image():
    with pytest.raises(ValueError, match="does not fit"):
        layer_counts(8, 11, 1, 1)
    with pytest.raises(ValueError, match="at least 1"):
        layer_counts(0, 1, 1, 1)


@pytest.fixture
def shift_explorer():
    images = torch.zeros(3, 28, 28)
    images[:, 6:20, 8:18] = torch.rand(3, 14, 10)
    return ShiftExplorer(images=images, labels=torch.tensor([0, 1, 2]))


def test_shift_explorer_shows_what_compare_shift_computes(shift_explorer):
    e = shift_explorer
    e.example, e.dy, e.dx, e.kernel = 2, -3, 5, "sharpen 3x3"
    K = KERNEL_PRESETS["sharpen 3x3"]
    expected = compare_shift(e.images[2], K, e.dense_weights, -3, 5)
    torch.testing.assert_close(e.comparison.dense_shifted, expected.dense_shifted)
    torch.testing.assert_close(e.comparison.conv_shifted, expected.conv_shifted)
    torch.testing.assert_close(torch.tensor(e.dense_shifted), expected.dense_shifted)
    assert e.comparison.conv_error < 1e-5 < e.comparison.dense_error
    assert "(-3, +5)" in e.status_text
    e.dense_kind = "tied"
    assert e.comparison.dense_error < 1e-5
    assert "tied" in e.status_text


def test_shift_explorer_refuses_images_without_labels_or_of_the_wrong_shape():
    with pytest.raises(ValueError, match="labels"):
        ShiftExplorer(images=torch.rand(2, 28, 28))
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        ShiftExplorer(images=torch.rand(28, 28), labels=torch.tensor([0]))


def test_parameter_counter_follows_its_sliders():
    e = ParameterCountExplorer()
    e.side, e.kernel, e.c_in, e.c_out = 224, 5, 3, 64
    assert e.counts == layer_counts(224, 5, 3, 64)
    assert f"{e.counts.dense:,}" in e.status_text and f"{e.counts.conv:,}" in e.status_text
    e.side, e.kernel = 8, 11  # a kernel larger than the image: a message
    assert e.error and "does not fit" in e.status_text


def test_parameter_counter_refuses_a_start_it_does_not_offer():
    with pytest.raises(ValueError, match="image side must be one of"):
        ParameterCountExplorer(side=30)


def test_the_pictures_are_readable_in_the_content_column():
    X = torch.rand(28, 28)
    K = KERNEL_PRESETS["vertical edge 3x3"]
    figures = [shift_figure(compare_shift(X, K, random_dense(784, 676).weight, 3, -4)),
               count_figure(layer_counts(1000, 11, 64, 256))]
    for fig in figures:
        assert not reader_view(fig, notebook_png_width(fig))
