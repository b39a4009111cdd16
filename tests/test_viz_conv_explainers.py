"""The convolution explainers' numbers and figures, checked against PyTorch.

Every number a picture shows comes from cnnlib.ops.SlidingWindow and
cnnlib.viz.{conv_steps, pooling, channels, receptive}; these tests compare those
numbers with torch.nn.functional and real nn layers, and check that each renderer returns a figure.
"""

import itertools
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import nn

from cnnlib.ops import (
    LayerSpec,
    SlidingWindow,
    as_pair,
    conv_output_shape,
    input_region,
    size_formula,
)
from cnnlib.viz.bitmap_text import BitmapText
from cnnlib.viz.cell_grid import CellCanvas, format_value
from cnnlib.viz.channels import (
    channel_breakdown,
    channel_breakdown_figure,
    channels_overview_figure,
)
from cnnlib.viz.common import figure_to_png
from cnnlib.viz.conv_steps import (
    conv_step,
    conv_step_animation,
    conv_step_figure,
    to_page_html,
)
from cnnlib.viz.padding_stride import NOTES_SETTINGS, padding_stride_figure, padding_stride_gallery
from cnnlib.viz.pooling import NOTES_POOL_SETTINGS, pool, pooling_figure, pooling_gallery
from cnnlib.viz.receptive import (
    SMALL_STACK,
    SMALL_STACK_PADDED,
    receptive_field_figure,
    receptive_field_gallery,
    trace_unit,
)

# (input_size, kernel_size, padding, stride, dilation), some tiling and some not.
GEOMETRIES = [
    (8, 3, 1, 1, 1),
    (8, 3, 1, 2, 1),
    (8, (5, 3), (2, 1), 1, 1),
    (8, (3, 5), (0, 1), (3, 4), 1),
    (7, 2, 0, 3, 1),
    (9, 3, 2, 2, 2),
    ((6, 9), (2, 3), (1, 0), (1, 2), (2, 1)),
]


def _rand(*shape: int) -> torch.Tensor:
    return torch.randint(-4, 5, shape).float()  # small integers: exact sums


# --------------------------------------------------------------------------- cell grid, text


def test_pair_reads_ints_and_pairs_and_names_bad_values():
    assert as_pair(3, "kernel_size") == (3, 3)
    assert as_pair((2, 5), "kernel_size") == (2, 5)
    with pytest.raises(TypeError, match="kernel_size"):
        as_pair((1, 2, 3), "kernel_size")
    with pytest.raises(ValueError, match="stride must be >= 1"):
        as_pair(0, "stride", 1)


def test_format_value():
    values = (19.0, -0.0, 0.25, -1.1, -0.001, 2.999, float("-inf"))
    assert [format_value(v) for v in values] == ["19", "0", "0.25", "-1.1", "0", "3", "-∞"]


def test_canvas_panels_share_a_cell_size_and_do_not_overlap():
    canvas = CellCanvas([[(8, 8), (3, 3), (4, 4)], [(2, 2)]], gap=1.5)
    first, second, third = canvas.panels[0]
    assert second.x >= first.x + 8 + 1.5 and third.x >= second.x + 3 + 1.5
    width, height = canvas.figure.get_size_inches()
    assert width / canvas.width == pytest.approx(height / canvas.height)  # square cells
    assert canvas.panels[1][0].y > first.y + 8  # the second row is below the first


def test_bitmap_text_draws_ink_where_it_is_anchored():
    def ink(texts: list[str]) -> int:
        fig = Figure(figsize=(1, 1))
        labels = BitmapText()
        for text in texts:
            labels.add(0.5, 0.5, text, fontsize=20)
        labels.set_transform(fig.transFigure)
        fig.add_artist(labels)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        pixels = np.asarray(canvas.buffer_rgba())[..., :3]  # white background
        return int((pixels < 128).any(axis=-1).sum())

    assert ink([]) == 0
    assert ink(["8"]) > 20
    # Its extent covers the text, so a tight bounding box does not crop it.
    fig = Figure(figsize=(2, 2), dpi=100)
    labels = BitmapText()
    labels.add(1.0, 1.9, "title at the top", fontsize=10, va="top")
    labels.set_transform(fig.dpi_scale_trans)  # inches
    fig.add_artist(labels)
    box = labels.get_window_extent(FigureCanvasAgg(fig).get_renderer())
    assert 180 < box.y1 <= 192 and box.y0 > 160 and 30 < box.x0 < box.x1 < 170
    assert ink(["888"]) > 2 * ink(["8"])
    with pytest.raises(ValueError, match="ha must be"):
        BitmapText().add(0, 0, "x", ha="middle")


# --------------------------------------------------------------------------- sliding windows


@pytest.mark.parametrize("n, k, p, s, d", GEOMETRIES)
def test_sliding_window_matches_conv2d(n, k, p, s, d):
    geometry = SlidingWindow.create(n, k, p, s, d)
    assert geometry.output_size == conv_output_shape(as_pair(n, "n"), k, p, s, d)
    X = _rand(1, 1, *as_pair(n, "n"))
    K = _rand(1, 1, *as_pair(k, "k"))
    Y = F.conv2d(X, K, padding=as_pair(p, "p"), stride=s, dilation=d)[0, 0]
    assert tuple(Y.shape) == geometry.output_size
    ph, pw = geometry.padding
    X_padded = F.pad(X[0, 0], (pw, pw, ph, ph))
    for i, j in itertools.product(range(Y.shape[0]), range(Y.shape[1])):
        rows, cols = geometry.window(i, j)
        assert (X_padded[np.ix_(rows, cols)] * K[0, 0]).sum() == Y[i, j]


@pytest.mark.parametrize("n, k, p, s, d", GEOMETRIES)
def test_leftover_rows_are_the_ones_no_window_reads(n, k, p, s, d):
    """Autograd as the reference: unread cells of the padded input get no gradient."""
    geometry = SlidingWindow.create(n, k, p, s, d)
    X_padded = torch.zeros((1, 1, *geometry.padded_size), requires_grad=True)
    F.conv2d(
        X_padded, torch.ones((1, 1, *geometry.kernel_size)), stride=s, dilation=d
    ).sum().backward()
    read = X_padded.grad[0, 0] != 0
    trailing = []
    for axis in (0, 1):
        touched = read.any(dim=1 - axis)  # per row (axis 0) or per column (axis 1)
        last = int(touched.nonzero().max())
        trailing.append(len(touched) - 1 - last)
    assert geometry.leftover == tuple(trailing)
    tiles = all(
        (g - sp) % st == 0
        for g, sp, st in zip(geometry.padded_size, geometry.span, geometry.stride, strict=True)
    )
    assert tiles == (geometry.leftover == (0, 0))


def test_sliding_window_rejects_a_kernel_larger_than_the_padded_input():
    with pytest.raises(ValueError, match="larger than the padded input 5"):
        SlidingWindow.create(5, 7)
    with pytest.raises(ValueError, match=r"output position \(4, 0\)"):
        SlidingWindow.create(8, 3, 1, 2).window(4, 0)


def test_size_formula_shows_the_numbers_and_the_result():
    assert size_formula(8, 3, 1, 2) == "⌊(8 + 2·1 − 3)/2⌋ + 1 = 4"
    assert size_formula(8, 3, 1, 1) == "(8 + 2·1 − 3) + 1 = 8"
    assert size_formula(9, 3, 1, 2, 2) == "⌊(9 + 2·1 − 2·(3 − 1) − 1)/2⌋ + 1 = 4"
    for n, k, p, s, d in itertools.product([5, 8], [1, 3], [0, 2], [1, 3], [1, 2]):
        result = int(size_formula(n, k, p, s, d).rsplit("= ", 1)[1])
        assert result == conv_output_shape(n, k, p, s, d)


def test_padding_stride_renderers_return_figures():
    fig = padding_stride_figure(8, 3, 1, 2, 1, (1, 2))
    assert isinstance(fig, Figure) and figure_to_png(fig, 50).startswith(b"\x89PNG")
    gallery = padding_stride_gallery()
    # Each of the notes' settings is one row of (padded input, output), labelled with its size.
    assert isinstance(gallery, Figure)
    labels = [a for a in gallery.artists if isinstance(a, BitmapText)][0]
    assert sum("output " in t for t in labels.texts) == len(NOTES_SETTINGS)
    assert sum("output 8×8" in t for t in labels.texts) == 2
    assert sum("output 4×4" in t for t in labels.texts) == 1
    assert sum("output 2×2" in t for t in labels.texts) == 1


# --------------------------------------------------------------------------- step-through


@pytest.mark.parametrize("padding, stride", [(0, 1), (1, 1), (1, 2), ((0, 1), (2, 1))])
def test_every_step_sums_to_conv2d_at_its_position(padding, stride):
    X, K = _rand(4, 5), _rand(2, 3)
    Y = F.conv2d(X[None, None], K[None, None], padding=padding, stride=stride)[0, 0]
    step = conv_step(X, K, 0, padding, stride)
    assert step.num_steps == Y.numel()
    torch.testing.assert_close(step.Y, Y)
    for index in range(Y.numel()):
        step = conv_step(X, K, index, padding, stride)
        torch.testing.assert_close(step.products, step.window * K)
        assert step.total == Y[step.position].item()
        assert step.position == divmod(index, Y.shape[1])


def test_notes_example_steps_and_equation():
    X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    totals = [conv_step(X, K, k).total for k in range(4)]
    assert totals == [19.0, 25.0, 37.0, 43.0]  # the notes' corr2d output
    assert conv_step(X, K, 1).equation() == "Y[0, 1] = 1·0 + 2·1 + 4·2 + 5·3 = 25"
    with pytest.raises(ValueError, match=r"step must be in \[0, 4\)"):
        conv_step(X, K, 4)
    assert isinstance(conv_step_figure(conv_step(X, K, 3, padding=1)), Figure)


def test_animation_has_one_frame_per_output_cell():
    X, K = _rand(3, 3), _rand(2, 2)
    html = conv_step_animation(X, K, padding=0, stride=1).to_jshtml()
    frames = re.findall(r'frames\[\d+\] = "data:image/png;base64', html)
    assert len(frames) == 4
    html = conv_step_animation(X, K, padding=1, stride=2).to_jshtml()
    assert len(re.findall(r'frames\[\d+\] = "data:image/png', html)) == 4  # 2x2 output


def test_page_html_loads_nothing_from_another_host_and_keeps_every_button():
    anim = conv_step_animation(_rand(3, 3), _rand(2, 2))
    plain, page = anim.to_jshtml(), to_page_html(anim)
    assert "https://" in plain and 'class="fa ' in plain  # what matplotlib gives
    assert not re.findall(r"https?://", page) and 'class="fa ' not in page
    assert page.count("<button") == plain.count("<button") == 9
    assert len(re.findall(r'frames\[\d+\] = "data:image/png', page)) == 4


# --------------------------------------------------------------------------- pooling

POOL_SETTINGS = [
    {"kernel_size": 2},
    {"kernel_size": 2, "stride": 1},
    {"kernel_size": 3, "padding": 1, "stride": 2},
    {"kernel_size": (2, 3), "padding": (0, 1), "stride": (2, 3)},
    {"kernel_size": 3, "padding": 1, "stride": 1},
]


@pytest.mark.parametrize("setting", POOL_SETTINGS)
def test_max_pool_output_and_chosen_cells_match_torch(setting):
    X = torch.randint(0, 5, (6, 7)).float()  # many ties: PyTorch keeps the first maximum
    result = pool(X, mode="max", **setting)
    Y, indices = F.max_pool2d(
        X[None, None],
        setting["kernel_size"],
        setting.get("stride"),
        setting.get("padding", 0),
        return_indices=True,
    )
    torch.testing.assert_close(result.Y, Y[0, 0])
    ph, pw = result.geometry.padding
    flat = (result.chosen[..., 0] - ph) * X.shape[1] + (result.chosen[..., 1] - pw)
    assert torch.equal(flat, indices[0, 0])


@pytest.mark.parametrize("setting", POOL_SETTINGS)
def test_avg_pool_matches_avg_pool2d_counting_padding(setting):
    X = _rand(6, 7)
    result = pool(X, mode="avg", **setting)
    layer = nn.AvgPool2d(setting["kernel_size"], setting.get("stride"), setting.get("padding", 0))
    torch.testing.assert_close(result.Y, layer(X[None, None])[0, 0])
    assert result.chosen is None
    i, j = result.Y.shape[0] - 1, result.Y.shape[1] - 1
    torch.testing.assert_close(result.window_values(i, j).mean(), result.Y[i, j])


def test_notes_pooling_cases_and_equations():
    X = torch.arange(16, dtype=torch.float32).reshape(4, 4)
    outputs = [pool(X, **setting).Y.tolist() for setting in NOTES_POOL_SETTINGS]
    assert outputs == [[[10.0]], [[5.0, 7.0], [13.0, 15.0]], [[5.0, 7.0], [13.0, 15.0]]]
    assert pool(X, 2).equation(0, 1) == "Y[0, 1] = max(2, 3, 6, 7) = 7"
    assert pool(X, 2, "avg").equation(0, 0) == "Y[0, 0] = (0 + 1 + 4 + 5)/4 = 2.5"
    with pytest.raises(ValueError, match="at most half"):
        pool(X, 2, padding=2)


def test_pooling_renderers_return_figures():
    X = torch.arange(16, dtype=torch.float32).reshape(4, 4)
    assert isinstance(pooling_figure(pool(X, 3, padding=1, stride=2), (1, 1)), Figure)
    gallery = pooling_gallery(X)
    labels = [a for a in gallery.artists if isinstance(a, BitmapText)][0]
    # three settings x (max, avg), each an input and an output panel title
    assert sum(t.startswith(("max:", "avg:")) for t in labels.texts) == 6


# --------------------------------------------------------------------------- channels


def test_breakdown_adds_up_to_conv2d_with_bias():
    X, K, bias = _rand(3, 4, 5), _rand(2, 3, 2, 3), _rand(2)
    reference = F.conv2d(X[None], K, bias)[0]
    for o in range(2):
        breakdown = channel_breakdown(X, K, o, bias)
        torch.testing.assert_close(breakdown.output, reference[o])
        torch.testing.assert_close(breakdown.partials.sum(0) + bias[o], reference[o])
        for c in range(3):
            expected = F.conv2d(X[None, c : c + 1], K[o : o + 1, c : c + 1])[0, 0]
            torch.testing.assert_close(breakdown.partials[c], expected)
    torch.testing.assert_close(breakdown.all_outputs, reference)


def test_notes_channels_example():
    X = torch.tensor(
        [
            [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
            [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
        ]
    )
    K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
    K = torch.stack((K, K + 1, K + 2), 0)
    outputs = [channel_breakdown(X, K, o).output.tolist() for o in range(3)]
    assert outputs == [
        [[56.0, 72.0], [104.0, 120.0]],
        [[76.0, 100.0], [148.0, 172.0]],
        [[96.0, 128.0], [192.0, 224.0]],
    ]
    assert isinstance(channel_breakdown_figure(channel_breakdown(X, K, 1)), Figure)
    assert isinstance(channels_overview_figure(X, K), Figure)
    with pytest.raises(ValueError, match=r"out_channel must be in \[0, 3\), got 3"):
        channel_breakdown(X, K, 3)
    with pytest.raises(ValueError, match="C_in"):
        channel_breakdown(X[:1], K)


# --------------------------------------------------------------------------- receptive fields


def _as_modules(layers):
    """Real layers with the same geometry; avg pools so every window cell gets gradient."""
    modules = []
    for spec in layers:
        if spec.name.startswith("pool"):
            modules.append(nn.AvgPool2d(spec.kernel_size, spec.stride, spec.padding))
        else:
            conv = nn.Conv2d(
                1, 1, spec.kernel_size, spec.stride, spec.padding, spec.dilation, bias=False
            )
            nn.init.ones_(conv.weight)  # positive weights: no gradient cancels out
            modules.append(conv)
    return nn.Sequential(*modules)


@pytest.mark.parametrize("layers", [SMALL_STACK, SMALL_STACK_PADDED], ids=["valid", "padded"])
def test_traced_region_is_where_the_gradient_lands(layers):
    n = 12
    for layer in range(len(layers)):
        net = _as_modules(layers[: layer + 1])
        X = torch.ones((1, 1, n, n), requires_grad=True)
        Y = net(X)
        for i, j in [(0, 0), (Y.shape[2] - 1, Y.shape[3] - 1), (Y.shape[2] // 2, 1)]:
            trace = trace_unit(layers, n, layer, (i, j))
            assert trace.input_region == input_region(list(layers[: layer + 1]), (i, j), n)
            X.grad = None
            Y[0, 0, i, j].backward(retain_graph=True)
            rows, cols = X.grad[0, 0].nonzero().unbind(1)
            expected = (
                (int(rows.min()), int(rows.max()) + 1),
                (int(cols.min()), int(cols.max()) + 1),
            )
            assert trace.input_region == expected
            assert trace.map_sizes[layer + 1] == tuple(Y.shape[2:])


def test_trace_reports_bad_settings():
    with pytest.raises(ValueError, match="layer must be in"):
        trace_unit(SMALL_STACK, 12, 4, (0, 0))
    with pytest.raises(ValueError, match="conv3"):
        trace_unit(SMALL_STACK, 7, 3, (0, 0))  # 7 -> 5 -> 3 -> 1: no room for conv3
    with pytest.raises(ValueError, match="outside"):
        trace_unit(SMALL_STACK, 12, 3, (2, 0))


def test_receptive_field_renderers():
    trace = trace_unit(SMALL_STACK, 12, 3, (1, 1))
    assert trace.info.size == (10, 10)
    assert trace.describe() == (
        "conv3 unit (1, 1): receptive field 10×10; input rows 2–11, columns 2–11"
    )
    assert isinstance(receptive_field_figure(trace), Figure)
    gallery = receptive_field_gallery(SMALL_STACK, 12)
    labels = [a for a in gallery.artists if isinstance(a, BitmapText)][0]
    sizes = [re.search(r": (\d+)×", t).group(1) for t in labels.texts if t.startswith("after")]
    assert sizes == ["3", "5", "6", "10"]  # the field grows layer by layer
    assert isinstance(LayerSpec("c", 3).kernel_size, tuple)


@pytest.mark.parametrize("shift", [25, 26, 27, 40, -26, -40])
def test_overlap_of_a_shift_past_the_map_is_empty_or_exact(shift):
    """Each slice pair covers the same count of rows, and a shift as large as the map (or
    larger) leaves none: a negative slice end would pair rows that do not correspond."""
    from cnnlib.explain.equivariance import overlap

    Y = torch.arange(26 * 26).reshape(26, 26)
    rows, cols, shifted_rows, shifted_cols = overlap((26, 26), shift, 0)
    kept = max(26 - abs(shift), 0)
    assert Y[rows, cols].shape == Y[shifted_rows, shifted_cols].shape == (kept, 26)
    shifted = torch.roll(Y, shift, dims=0)  # where the rows agree, they hold the same values
    assert torch.equal(Y[rows, cols], shifted[shifted_rows, shifted_cols])
