"""The five convolution explorers: set controls as a reader would, check the state they update.

Setting a widget's ``value`` runs its observers at once (no kernel needed), so each test
moves sliders and compares the explorer's attributes with PyTorch layers.
"""

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib.ops import conv_output_shape, input_region
from cnnlib.widgets.channels import ChannelsExplorer, notes_tensors
from cnnlib.widgets.conv_steps import ConvStepExplorer
from cnnlib.widgets.padding_stride import PaddingStrideExplorer
from cnnlib.widgets.pooling import ARANGE, RANDOM, PoolingExplorer
from cnnlib.widgets.receptive_field import STACKS, ReceptiveFieldExplorer

PNG = b"\x89PNG"


def _set(explorer, **values):
    """Set several controls, one change (and one redraw) each, like a reader dragging."""
    for name, value in values.items():
        getattr(explorer, name).value = value


def _drawn(explorer) -> bool:
    return bytes(explorer.image.value[:4]) == PNG and explorer.last_render_ms > 0


# --------------------------------------------------------------------------- padding / stride


def _fits(n: int, k: int, p: int, s: int, d: int) -> bool:
    return n + 2 * p >= d * (k - 1) + 1


GEOMETRIES = [c for c in itertools.product([5, 8], [3, 4], [0, 2], [1, 2, 3], [1, 2]) if _fits(*c)]


# The padding/stride explorer has one front-end (cnnlib/widgets/live.py): its controls are
# traitlets, set directly; every number it sends the front-end is checked here.


def _ps_like(explorer, **values):
    """Set a live explorer's controls one change at a time, like a reader dragging."""
    for name, value in values.items():
        setattr(explorer, name, value)
    return explorer


def _ps(**values) -> PaddingStrideExplorer:
    explorer = PaddingStrideExplorer()
    for name, value in values.items():  # one change at a time, like a reader dragging
        setattr(explorer, name, value)
    return explorer


@pytest.mark.parametrize("n, k, p, s, d", GEOMETRIES)
def test_padding_stride_output_matches_conv_output_shape_and_nn_conv2d(n, k, p, s, d):
    explorer = _ps(input_size=n, kernel_size=k, padding=p, stride=s, dilation=d)
    conv = nn.Conv2d(1, 1, kernel_size=k, padding=p, stride=s, dilation=d)
    real = tuple(conv(torch.zeros(1, 1, n, n)).shape[2:])
    assert explorer.error == ""
    assert tuple(explorer.geometry["output"]) == (conv_output_shape(n, k, p, s, d),) * 2 == real
    # The status shows the formula with these numbers, and the warning exactly when
    # the stride does not tile the padded input.
    assert f"= {real[0]} per side" in explorer.status_text
    assert f"({n} + 2·{p} − " in explorer.status_text
    untiled = (n + 2 * p - d * (k - 1) - 1) % s != 0
    assert ("does not tile" in explorer.status_text) == untiled == bool(explorer.warning)
    assert explorer.picture_png()[:4] == PNG


def test_padding_stride_status_formula_for_the_brief_example():
    explorer = PaddingStrideExplorer(input_size=8, kernel_size=3, padding=1, stride=2)
    assert explorer.formula == "⌊(8 + 2·1 − 3)/2⌋ + 1 = 4"
    assert explorer.formula in explorer.status_text
    assert "1 row at the bottom and 1 column at the right are never read" in explorer.warning
    assert "padding only" in explorer.warning
    explorer.input_size = 9  # (9 + 2 - 3) % 2 == 0: tiles
    assert explorer.warning == "" and "does not tile" not in explorer.status_text


def test_padding_stride_window_follows_the_output_position():
    explorer = PaddingStrideExplorer(input_size=8, kernel_size=3, padding=1, stride=2, dilation=2)
    explorer.row, explorer.col = 1, 2
    assert explorer.geometry["window"] == [[2, 4, 6], [4, 6, 8]]
    explorer.input_size = 5  # output shrinks to 2x2: the chosen cell is pulled in
    assert explorer.geometry["output"] == [2, 2] and (explorer.row, explorer.col) == (1, 1)
    assert explorer.error == ""


def test_padding_stride_invalid_settings_show_a_message_and_do_not_raise():
    explorer = PaddingStrideExplorer(input_size=5, kernel_size=3, padding=0, stride=1)
    explorer.kernel_size = 7
    assert explorer.geometry == {} and explorer.picture_png() is None
    assert "larger than the padded input 5" in explorer.error
    assert explorer.status_text == explorer.error
    explorer.padding = 1  # 5 + 2 = 7 cells: the kernel fits again
    assert explorer.error == "" and explorer.geometry["output"] == [1, 1]


# --------------------------------------------------------------------------- step-through


# The step-through has one front-end (cnnlib/widgets/live.py): its controls are traitlets,
# set directly. More in tests/test_widgets_live_conv_step.py.


@pytest.mark.parametrize("padding, stride", [(0, 1), (1, 1), (1, 2), (2, 3)])
def test_step_through_sums_equal_conv2d(padding, stride):
    explorer = ConvStepExplorer()
    explorer.padding, explorer.stride = padding, stride
    X, K = explorer.X, explorer.K
    Y = F.conv2d(X[None, None], K[None, None], padding=padding, stride=stride)[0, 0]
    assert explorer.num_steps == Y.numel()
    for index in range(Y.numel()):
        explorer.step = index
        i, j = divmod(index, Y.shape[1])
        assert explorer.position == explorer.current.position == (i, j)
        assert explorer.total == Y[i, j].item() == sum(v for row in explorer.products
                                                       for v in row)
        filled = ~torch.isnan(explorer.filled)
        assert filled.sum() == index + 1
        torch.testing.assert_close(explorer.filled[filled], Y[filled])
    assert explorer.picture_png()[:4] == PNG


def test_step_through_notes_example_and_shrinking_output():
    explorer = ConvStepExplorer()
    assert explorer.output == [[19.0, 25.0], [37.0, 43.0]]
    explorer.padding, explorer.step = 2, 30
    explorer.padding = 0  # 4 steps now: the step is pulled back
    assert explorer.step == 3 and explorer.total == 43.0
    assert "sum to 43" in explorer.status_text


def test_step_through_kernel_larger_than_input_shows_a_message():
    explorer = ConvStepExplorer(X=torch.ones(2, 2), K=torch.ones(2, 2), stride=1)
    explorer.stride, explorer.padding = 3, 1
    assert explorer.error == ""  # 4x4 padded input, one 2x2 window every 3 cells
    explorer_small = ConvStepExplorer(X=torch.ones(1, 3), K=torch.ones(2, 2), padding=1)
    explorer_small.padding = 0
    assert "larger than input" in explorer_small.error == explorer_small.status_text


# --------------------------------------------------------------------------- channels


def test_channels_output_equals_conv2d_with_bias_per_channel():
    # The channels explorer has one front-end (cnnlib/widgets/live.py): its controls are
    # traitlets, and the bias box sets the shown channel's bias (tests/test_widgets_live_channels.py
    # holds the rest, and the front-end, to F.conv2d).
    explorer = ChannelsExplorer()
    X, K = explorer.X, explorer.K
    biases = {0: 1.5, 1: -2.0, 2: 4.0}
    for o, b in biases.items():
        explorer.out_channel = o
        explorer.bias_value = b
    for o in (2, 0, 1):
        explorer.out_channel = o
        assert explorer.bias_value == biases[o]  # each channel keeps its own bias
        expected = F.conv2d(X[None], K, torch.tensor(list(biases.values())))[0, o]
        torch.testing.assert_close(explorer.output, expected)
        torch.testing.assert_close(explorer.partials.sum(0) + biases[o], expected)
        assert f"Y[{o}] = X[0] ⋆ K[{o}, 0] + X[1] ⋆ K[{o}, 1]" in explorer.status_text
    assert explorer.picture_png()[:4] == PNG


def test_channels_default_is_the_notes_example():
    explorer = ChannelsExplorer()
    X, K = notes_tensors()
    assert tuple(explorer.K.shape) == (3, 2, 2, 2)
    assert explorer.output.tolist() == F.conv2d(X[None], K)[0, 0].tolist()
    explorer.out_channel = 2
    assert explorer.output.tolist() == F.conv2d(X[None], K)[0, 2].tolist()


# --------------------------------------------------------------------------- pooling


@pytest.mark.parametrize(
    "k, s, p",
    [(k, s, p) for k, s, p in itertools.product([1, 2, 3], [1, 2, 3], [0, 1]) if p <= k // 2],
)
def test_pooling_shape_and_highlighted_argmax_match_torch(k, s, p):
    # The pooling explorer has one front-end (cnnlib/widgets/live.py): its controls are
    # traitlets, set one at a time like a reader dragging.
    explorer = _ps_like(PoolingExplorer(input_name=RANDOM), kernel_size=k, stride=s, padding=p)
    X = explorer.X
    Y, indices = F.max_pool2d(X[None, None], k, s, p, return_indices=True)
    assert explorer.output_shape == tuple(nn.MaxPool2d(k, s, p)(X[None, None]).shape[2:])
    assert explorer.output_shape == (conv_output_shape(6, k, p, s),) * 2
    for i, j in itertools.product(range(Y.shape[2]), range(Y.shape[3])):
        explorer.row, explorer.col = i, j
        assert explorer.chosen == divmod(int(indices[0, 0, i, j]), X.shape[1])
        assert X[explorer.chosen] == Y[0, 0, i, j] == explorer.window.max()
    explorer.mode = "avg"
    assert explorer.chosen is None and explorer.source == [] and explorer.sources == []
    torch.testing.assert_close(explorer.pooling.Y, nn.AvgPool2d(k, s, p)(X[None, None])[0, 0])
    assert explorer.window.mean() == explorer.pooling.Y[explorer.row, explorer.col]
    assert explorer.output == explorer.pooling.Y.tolist()


def test_pooling_notes_input_and_invalid_padding():
    explorer = PoolingExplorer(input_name=ARANGE, kernel_size=3, stride=2, padding=1)
    X = torch.arange(16.0).reshape(1, 1, 4, 4)
    assert explorer.pooling.Y.tolist() == F.max_pool2d(X, 3, 2, 1)[0, 0].tolist()
    assert "⌊(4 + 2·1 − 3)/2⌋ + 1 = 2" in explorer.status_text
    explorer.kernel_size, explorer.padding = 2, 2  # PyTorch: padding at most half the window
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(X, 2, 2, 2)
    assert explorer.error and "at most half" in explorer.status_text
    assert explorer.output_shape is None and explorer.geometry == {} and explorer.output == []
    assert explorer.picture_png() is None
    explorer.padding = 1
    assert explorer.error == "" and explorer.picture_png()[:4] == PNG


# --------------------------------------------------------------------------- receptive field


# The receptive-field explorer has one front-end too; its traitlets are set directly. More
# in tests/test_widgets_live_receptive_field.py (regions against autograd).


@pytest.mark.parametrize("stack", list(STACKS))
def test_receptive_field_region_equals_ops_input_region(stack):
    explorer = ReceptiveFieldExplorer(stack=stack, input_size=12)
    layers = STACKS[stack]
    for layer in range(len(layers)):
        explorer.layer = layer
        last_row, last_col = (size - 1 for size in explorer.map_sizes[layer + 1])
        for row, col in [(0, 0), (last_row, 1), (1, last_col)]:
            explorer.row, explorer.col = row, col
            row, col = min(row, last_row), min(col, last_col)
            expected = input_region(list(layers[: layer + 1]), (row, col), 12)
            assert explorer.region == expected
            assert explorer.trace.layer == layer
    assert explorer.rf_size == [10, 10]  # conv3 after conv3, conv3, pool2
    assert "conv1 3×3 → conv2 5×5 → pool 6×6 → conv3 10×10" in explorer.status_text
    assert explorer.picture_png()[:4] == PNG


def test_receptive_field_too_small_input_and_stack_switch():
    explorer = ReceptiveFieldExplorer(input_size=12)
    explorer.input_size = 7  # 7 -> 5 -> 3 -> 1: the last conv3 does not fit
    assert "conv3" in explorer.error and explorer.trace is None
    explorer.stack = list(STACKS)[1]  # padded convs fit in 7 cells
    assert explorer.error == "" and explorer.layer == 3
    assert explorer.trace.map_sizes == ((7, 7), (7, 7), (7, 7), (3, 3), (3, 3))


# ---------------------------------------------------------------- start values at the limits


@pytest.mark.parametrize(
    ("make", "control", "value"),
    [
        (lambda: ConvStepExplorer(padding=4, stride=5), "stride", 5),
        (lambda: ReceptiveFieldExplorer(input_size=40), "input_size", 40),
    ],
)
def test_start_values_past_a_slider_are_honoured(make, control, value):
    explorer = make()  # a live explorer: the slider's spec widens to hold the value
    spec = next(c for c in explorer.controls if c["name"] == control)
    assert getattr(explorer, control) == value and spec["max"] >= value


def test_pooling_start_values_past_a_slider_widen_it():
    explorer = PoolingExplorer(kernel_size=6, stride=6, padding=3)
    spec = {c["name"]: c for c in explorer.controls}
    assert (explorer.kernel_size, explorer.stride, explorer.padding) == (6, 6, 3)
    assert spec["kernel_size"]["max"] >= 6 and spec["stride"]["max"] >= 6
    assert spec["padding"]["max"] >= 3 and explorer.error == ""
    assert explorer.output_shape == tuple(nn.MaxPool2d(6, 6, 3)(explorer.X[None, None]).shape[2:])


@pytest.mark.parametrize("control, value", [("padding", 6), ("input_size", 20),
                                            ("kernel_size", 9)])
def test_padding_stride_start_values_past_a_slider_widen_it(control, value):
    explorer = PaddingStrideExplorer(input_size=20, kernel_size=9, padding=6)
    spec = next(c for c in explorer.controls if c["name"] == control)
    assert getattr(explorer, control) == value and spec["max"] >= value


def test_the_geometry_shown_is_the_one_asked_for():
    explorer = PaddingStrideExplorer(input_size=20, kernel_size=9, padding=6)
    conv = nn.Conv2d(1, 1, kernel_size=9, padding=6, stride=2)
    assert tuple(explorer.geometry["output"]) == tuple(conv(torch.zeros(1, 1, 20, 20)).shape[2:])


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: PaddingStrideExplorer(padding=-1), ValueError, "padding must be at least 0"),
        (lambda: PaddingStrideExplorer(stride=0), ValueError, "stride must be at least 1"),
        (lambda: PaddingStrideExplorer(kernel_size=2.5), TypeError, "kernel_size must be a whole"),
        (lambda: PoolingExplorer(padding=-2), ValueError, "padding must be at least 0"),
        (lambda: ConvStepExplorer(torch.ones(1, 1, 3, 3)), ValueError, "one 2-D matrix"),
    ],
)
def test_impossible_start_values_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_channels_any_bias_is_honoured():
    explorer = ChannelsExplorer(bias=torch.tensor([50.0, -30.0, 0.0]))
    assert explorer.bias_value == 50.0
    explorer.out_channel = 1
    assert explorer.bias_value == -30.0
    X, K = notes_tensors()
    expected = F.conv2d(X[None], K, torch.tensor([50.0, -30.0, 0.0]))[0, 1]
    assert torch.equal(explorer.output, expected)
    explorer.bias_value = -56.0  # exercise 3's bias: the box takes any number
    assert explorer.error == "" and explorer.bias.tolist() == [50.0, -56.0, 0.0]


def test_channels_bias_as_a_list_and_a_batch_of_one():
    X, K = notes_tensors()
    explorer = ChannelsExplorer(X[None], K, bias=[1.0, 2.0, 3.0])
    assert explorer.X.shape == X.shape
    assert "2 input channels" in explorer.status_text
    with pytest.raises(ValueError, match="finite"):
        ChannelsExplorer(bias=[float("inf"), 0.0, 0.0])


# --------------------------------------------------------------------------- busy feedback
