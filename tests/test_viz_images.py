"""Renderers in cnnlib.viz.images and cnnlib.viz.kernels: figures, numbers shown, bad input."""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from cnnlib.viz.common import figure_to_png, new_figure
from cnnlib.viz.images import (
    CellNumbers,
    format_number,
    show_feature_maps,
    show_images,
    show_matrix,
)
from cnnlib.viz.kernels import (
    KERNEL_PRESETS,
    apply_presets,
    as_image,
    preset_gallery,
    show_corr2d,
    show_kernels,
)


def _cell_texts(ax) -> list[str]:
    [numbers] = [c for c in ax.collections if isinstance(c, CellNumbers)]
    return numbers.texts


def _image_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.images]


# ----------------------------------------------------------------------------- show_matrix


def test_show_matrix_writes_every_entry_in_row_major_order():
    X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    fig = show_matrix(X, title="X")
    [ax] = fig.axes
    assert _cell_texts(ax) == [str(int(v)) for v in X.flatten().tolist()]
    assert ax.get_title() == "X"
    np.testing.assert_array_equal(ax.images[0].get_array(), X.numpy())


def test_show_matrix_decimals_and_negative_zero():
    T = torch.tensor([[0.9369, -1.0426], [-0.0, 0.5]])
    [ax] = show_matrix(T).axes
    assert _cell_texts(ax) == ["0.94", "-1.04", "0.00", "0.50"]
    assert format_number(-0.0, integral=True) == "0"


def test_show_matrix_signed_values_are_centred_on_zero():
    [ax] = show_matrix(torch.tensor([[1.0, -3.0]])).axes
    vmin, vmax = ax.images[0].get_clim()
    assert vmin == pytest.approx(-vmax) and vmax >= 3


def test_show_matrix_without_numbers_and_into_given_axes():
    fig = new_figure(3, 2)
    ax = fig.add_subplot()
    assert show_matrix(torch.ones(2, 3), ax=ax, annotate=False) is fig
    assert not [c for c in ax.collections if isinstance(c, CellNumbers)]


@pytest.mark.parametrize("shape", [(1, 1, 6, 8), (5,), (0, 3)])
def test_show_matrix_rejects_non_matrices(shape):
    with pytest.raises(ValueError, match=r"2-D tensor \(H, W\).*" + re.escape(str(shape))):
        show_matrix(torch.zeros(shape))


def test_show_matrix_rejects_non_numbers():
    with pytest.raises(TypeError, match="nested list of numbers"):
        show_matrix([["a", "b"]])


# ----------------------------------------------------------------------------- show_images


@pytest.mark.parametrize("shape", [(5, 28, 28), (5, 1, 28, 28), (5, 3, 8, 8)])
def test_show_images_one_axes_per_image(shape):
    images = torch.randint(0, 256, shape, dtype=torch.uint8)
    fig = show_images(images, titles=[f"item {k}" for k in range(5)], ncols=3)
    assert len(fig.axes) == 5 and len(_image_axes(fig)) == 5
    assert [ax.get_title() for ax in fig.axes] == [f"item {k}" for k in range(5)]


def test_show_images_uint8_uses_the_fixed_pixel_scale():
    images = torch.full((2, 4, 4), 10, dtype=torch.uint8)
    fig = show_images(images)
    assert fig.axes[0].images[0].get_clim() == (0, 255)


def test_show_images_float_input():
    fig = show_images(torch.rand(3, 1, 6, 6))
    assert len(fig.axes) == 3
    assert len(figure_to_png(fig)) > 0


@pytest.mark.parametrize(
    ("images", "kwargs", "match"),
    [
        (torch.zeros(28, 28), {}, r"\(28, 28\).*image\[None\]"),
        (torch.zeros(2, 2, 5, 5), {}, r"C = 1 or 3.*\(2, 2, 5, 5\)"),
        (torch.zeros(0, 5, 5), {}, "empty batch"),
        (torch.zeros(3, 5, 5), {"titles": ["a"]}, "1 titles for 3 images"),
        (torch.zeros(3, 5, 5), {"ncols": 0}, "ncols must be at least 1, got 0"),
    ],
)
def test_show_images_bad_input(images, kwargs, match):
    with pytest.raises(ValueError, match=match):
        show_images(images, **kwargs)


# ----------------------------------------------------------------------------- feature maps


def test_feature_maps_signed_share_a_symmetric_scale():
    maps = torch.tensor([[[1.0, -2.0]], [[0.5, 0.0]]])  # (2, 1, 2)
    fig = show_feature_maps(maps, titles=["a", "b"])
    axes = _image_axes(fig)
    assert [ax.get_title() for ax in axes] == ["a", "b"]
    assert all(ax.images[0].get_clim() == (-2.0, 2.0) for ax in axes)
    assert axes[0].images[0].get_cmap().name == "RdBu_r"


def test_feature_maps_non_negative_use_a_sequential_map():
    fig = show_feature_maps(torch.rand(4, 5, 5), colorbar=False)
    assert len(fig.axes) == 4
    assert fig.axes[0].images[0].get_cmap().name == "viridis"


def test_feature_maps_bad_input():
    with pytest.raises(ValueError, match=r"\(C, H, W\).*\(1, 2, 5, 5\).*maps\[0\]"):
        show_feature_maps(torch.zeros(1, 2, 5, 5))
    with pytest.raises(ValueError, match="2 titles for 3 maps"):
        show_feature_maps(torch.zeros(3, 5, 5), titles=["a", "b"])


# ----------------------------------------------------------------------------- kernels


def _conv(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    return F.conv2d(X[None, None], K[None, None])[0, 0]  # (H', W')


def test_presets_are_float_matrices_with_the_notes_kernel():
    assert torch.equal(KERNEL_PRESETS["vertical edge 1x2"], torch.tensor([[1.0, -1.0]]))
    for name, K in KERNEL_PRESETS.items():
        assert K.dtype == torch.float32 and K.ndim == 2, name


def test_show_corr2d_small_example_shows_the_torch_output():
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    fig = show_corr2d(X, K)
    ax_x, ax_k, ax_y = fig.axes
    expected = _conv(X, K)
    assert _cell_texts(ax_y) == [str(int(v)) for v in expected.flatten().tolist()]
    assert _cell_texts(ax_k) == ["0", "1", "2", "3"]
    np.testing.assert_allclose(ax_y.images[0].get_array(), expected.numpy())
    assert "3×3" in ax_x.get_title() and "2×2" in ax_y.get_title()


def test_show_corr2d_large_input_drawn_as_images():
    X = torch.randint(0, 256, (28, 28), dtype=torch.uint8)
    K = KERNEL_PRESETS["sharpen 3x3"]
    ax_x, ax_k, ax_y = show_corr2d(X, K).axes
    assert not ax_x.collections and not ax_y.collections  # no numbers on 28x28
    assert _cell_texts(ax_k) == ["0", "-1", "0", "-1", "5", "-1", "0", "-1", "0"]
    np.testing.assert_allclose(
        ax_y.images[0].get_array(), _conv(X.float() / 255, K).numpy(), rtol=1e-5, atol=1e-6
    )


def test_show_corr2d_bad_input():
    with pytest.raises(ValueError, match=r"kernel \(3, 3\) does not fit inside input \(2, 5\)"):
        show_corr2d(torch.zeros(2, 5), torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"Y has shape \(2, 2\).*gives \(4, 4\)"):
        show_corr2d(torch.zeros(5, 5), torch.zeros(2, 2), torch.zeros(2, 2))
    with pytest.raises(ValueError, match=r"one non-empty 2-D image.*\(2, 5, 5\)"):
        show_corr2d(torch.zeros(2, 5, 5), torch.zeros(2, 2))


def test_as_image_scales_uint8_and_squeezes_batch_axes():
    X = torch.full((1, 1, 4, 4), 255, dtype=torch.uint8)
    Y = as_image(X)
    assert Y.shape == (4, 4) and Y.dtype == torch.float32 and torch.all(Y == 1.0)


def test_preset_gallery_has_one_panel_per_preset_after_the_input():
    image = torch.randint(0, 256, (28, 28), dtype=torch.uint8)
    fig = preset_gallery(image, title="ankle boot")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["ankle boot", *KERNEL_PRESETS]
    for ax, (name, K) in zip(fig.axes[1:], KERNEL_PRESETS.items(), strict=True):
        np.testing.assert_allclose(
            ax.images[0].get_array(), _conv(image.float() / 255, K).numpy(),
            rtol=1e-5, atol=1e-6, err_msg=name,
        )


def test_preset_gallery_custom_presets_and_bad_input():
    presets = {"double": torch.tensor([[2.0]])}
    fig = preset_gallery(torch.rand(6, 6), presets=presets)
    assert len(fig.axes) == 2
    outputs = apply_presets(torch.ones(3, 3), presets)
    assert torch.equal(outputs["double"], torch.full((3, 3), 2.0))
    with pytest.raises(ValueError, match="at least one kernel"):
        preset_gallery(torch.rand(6, 6), presets={})


def test_show_kernels_one_panel_per_slice_on_a_shared_scale():
    weight = torch.nn.Conv2d(3, 2, kernel_size=3).weight  # (2, 3, 3, 3), requires grad
    fig = show_kernels(weight)
    assert len(fig.axes) == 6
    limit = weight.detach().abs().max().item()
    for ax in fig.axes:
        vmin, vmax = ax.images[0].get_clim()
        assert vmin == pytest.approx(-limit) and vmax == pytest.approx(limit)
    first = weight.detach()[0, 0].flatten().tolist()
    assert _cell_texts(fig.axes[0]) == [format_number(v, integral=False) for v in first]


def test_show_kernels_rejects_a_2d_kernel():
    with pytest.raises(ValueError, match=r"\(C_out, C_in, kh, kw\).*\(3, 3\).*show_matrix"):
        show_kernels(torch.zeros(3, 3))
