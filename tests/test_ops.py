"""cnnlib.ops against torch.nn.functional and real nn layers, plus the notes' exact outputs."""

import itertools

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cnnlib.ops import (
    LayerSpec,
    conv_output_shape,
    corr2d,
    corr2d_multi_in,
    corr2d_multi_in_out,
    corr2d_multi_in_out_1x1,
    corr2d_vectorized,
    input_region,
    layer_specs,
    pool2d,
    receptive_field,
)

CORR2D_FNS = [corr2d, corr2d_vectorized]


def reference_corr2d(X, K):
    """PyTorch's conv2d is a cross-correlation; add and strip the batch/channel axes."""
    return F.conv2d(X[None, None], K[None, None])[0, 0]


# --------------------------------------------------------------------------- corr2d


@pytest.mark.parametrize("fn", CORR2D_FNS)
@pytest.mark.parametrize(
    "x_shape, k_shape",
    [
        ((5, 5), (1, 1)),  # 1x1 kernel: a scaled copy
        ((4, 6), (4, 6)),  # kernel as large as the input: a single number
        ((7, 3), (2, 3)),  # non-square input, kernel spans the full width
        ((3, 8), (3, 1)),
        ((6, 8), (1, 2)),  # the notes' edge-detection shapes
        ((9, 5), (4, 2)),
    ],
)
def test_corr2d_matches_conv2d(fn, x_shape, k_shape):
    X, K = torch.randn(x_shape), torch.randn(k_shape)
    torch.testing.assert_close(fn(X, K), reference_corr2d(X, K))


@settings(max_examples=25, deadline=None)
@given(
    h=st.integers(1, 7), w=st.integers(1, 7), kh=st.integers(1, 7), kw=st.integers(1, 7),
    seed=st.integers(0, 2**16),
)
def test_corr2d_random_shapes(h, w, kh, kw, seed):
    kh, kw = min(kh, h), min(kw, w)
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn((h, w), generator=generator, dtype=torch.float64)
    K = torch.randn((kh, kw), generator=generator, dtype=torch.float64)
    expected = reference_corr2d(X, K)
    torch.testing.assert_close(corr2d(X, K), expected)
    torch.testing.assert_close(corr2d_vectorized(X, K), expected)


@pytest.mark.parametrize("fn", CORR2D_FNS)
def test_notes_corr2d_example(fn):
    X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    assert torch.equal(fn(X, K), torch.tensor([[19.0, 25.0], [37.0, 43.0]]))


@pytest.mark.parametrize("fn", CORR2D_FNS)
def test_notes_edge_detection(fn):
    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    K = torch.tensor([[1.0, -1.0]])
    row = torch.tensor([0.0, 1.0, 0.0, 0.0, 0.0, -1.0, 0.0])
    assert torch.equal(fn(X, K), row.repeat(6, 1))
    # Vertical edges only: the transposed image has none for this kernel to find.
    assert torch.equal(fn(X.t(), K), torch.zeros((8, 5)))


@pytest.mark.parametrize("fn", CORR2D_FNS)
def test_corr2d_dtype_follows_inputs(fn):
    X64 = torch.randn((4, 4), dtype=torch.float64)
    K32 = torch.randn((2, 2))
    assert fn(X64, K32).dtype == torch.float64
    assert fn(X64.float(), K32).dtype == torch.float32


@pytest.mark.parametrize("fn", CORR2D_FNS)
def test_corr2d_gradients_match_conv2d(fn):
    X = torch.randn((5, 6), requires_grad=True)
    K = torch.randn((2, 3), requires_grad=True)
    fn(X, K).square().sum().backward()
    X_ref, K_ref = X.detach().clone().requires_grad_(), K.detach().clone().requires_grad_()
    reference_corr2d(X_ref, K_ref).square().sum().backward()
    torch.testing.assert_close(X.grad, X_ref.grad)
    torch.testing.assert_close(K.grad, K_ref.grad)


def test_corr2d_vectorized_gradcheck():
    X = torch.randn((5, 4), dtype=torch.float64, requires_grad=True)
    K = torch.randn((3, 2), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(corr2d_vectorized, (X, K))


@pytest.mark.parametrize("fn", CORR2D_FNS)
@pytest.mark.parametrize(
    "X, K, error, match",
    [
        ([[1.0, 2.0]], torch.ones((1, 1)), TypeError, "list"),
        (torch.ones((3, 3)), 2.0, TypeError, "float"),
        (torch.ones((2, 3, 3)), torch.ones((2, 2)), ValueError, r"\(2, 3, 3\)"),
        (torch.ones((3, 3)), torch.ones(2), ValueError, r"\(2,\)"),
        (torch.ones((3, 3), dtype=torch.int64), torch.ones((2, 2)), TypeError,
         r"torch\.int64.*\.float\(\)"),
        (torch.ones((3, 3)), torch.ones((2, 2), dtype=torch.bool), TypeError, r"torch\.bool"),
        (torch.ones((3, 5)), torch.ones((4, 2)), ValueError, r"\(4, 2\).*\(3, 5\)"),
        (torch.ones((3, 5)), torch.ones((2, 6)), ValueError, r"\(2, 6\).*\(3, 5\)"),
    ],
)
def test_corr2d_bad_input(fn, X, K, error, match):
    with pytest.raises(error, match=match):
        fn(X, K)


# --------------------------------------------------------------------------- channels


@pytest.mark.parametrize("c_in, h, w, kh, kw", [(1, 4, 4, 2, 2), (3, 5, 7, 3, 2), (4, 6, 3, 1, 3)])
def test_corr2d_multi_in_matches_conv2d(c_in, h, w, kh, kw):
    X, K = torch.randn((c_in, h, w)), torch.randn((c_in, kh, kw))
    torch.testing.assert_close(corr2d_multi_in(X, K), F.conv2d(X[None], K[None])[0, 0])


@pytest.mark.parametrize("c_out, c_in, h, w, kh, kw", [(1, 1, 3, 3, 2, 2), (3, 2, 5, 6, 3, 2)])
def test_corr2d_multi_in_out_matches_conv2d(c_out, c_in, h, w, kh, kw):
    X, K = torch.randn((c_in, h, w)), torch.randn((c_out, c_in, kh, kw))
    torch.testing.assert_close(corr2d_multi_in_out(X, K), F.conv2d(X[None], K)[0])


@pytest.mark.parametrize("c_out, c_in, h, w", [(2, 3, 3, 3), (5, 1, 4, 6), (1, 4, 2, 7)])
def test_corr2d_1x1_matches_conv2d_and_loop(c_out, c_in, h, w):
    X, K = torch.randn((c_in, h, w)), torch.randn((c_out, c_in, 1, 1))
    Y = corr2d_multi_in_out_1x1(X, K)
    torch.testing.assert_close(Y, F.conv2d(X[None], K)[0])
    torch.testing.assert_close(Y, corr2d_multi_in_out(X, K))


def notes_multi_channel_inputs(batch_axis: bool):
    """The 7.4 example; the notes' literal carries an extra batch axis, D2L's does not."""
    X = torch.tensor([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
                      [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]])
    K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
    return (X[None], K[None]) if batch_axis else (X, K)


@pytest.mark.parametrize("batch_axis", [False, True])
def test_notes_multi_channel_values(batch_axis):
    X, K = notes_multi_channel_inputs(batch_axis)
    assert torch.equal(corr2d_multi_in(X, K), torch.tensor([[56.0, 72.0], [104.0, 120.0]]))
    K3 = notes_multi_channel_inputs(False)[1]
    K_stacked = torch.stack((K3, K3 + 1, K3 + 2), 0)
    assert K_stacked.shape == torch.Size([3, 2, 2, 2])
    expected = torch.tensor([[[56.0, 72.0], [104.0, 120.0]],
                             [[76.0, 100.0], [148.0, 172.0]],
                             [[96.0, 128.0], [192.0, 224.0]]])
    assert torch.equal(corr2d_multi_in_out(X, K_stacked), expected)


@pytest.mark.parametrize(
    "fn, X, K, match",
    [
        (corr2d_multi_in, torch.ones((3, 4, 4)), torch.ones((5, 2, 2)), "3.*5"),
        (corr2d_multi_in_out, torch.ones((3, 4, 4)), torch.ones((2, 5, 2, 2)), "3.*5"),
        (corr2d_multi_in_out_1x1, torch.ones((3, 4, 4)), torch.ones((2, 5, 1, 1)), "3.*5"),
        (corr2d_multi_in, torch.ones((4, 4)), torch.ones((1, 2, 2)), r"\(4, 4\)"),
        (corr2d_multi_in_out, torch.ones((3, 4, 4)), torch.ones((3, 2, 2)), r"\(3, 2, 2\)"),
        (corr2d_multi_in_out_1x1, torch.ones((3, 4, 4)), torch.ones((2, 3, 2, 2)),
         r"\(2, 3, 2, 2\)"),
    ],
)
def test_multi_channel_bad_input(fn, X, K, match):
    with pytest.raises(ValueError, match=match):
        fn(X, K)


# --------------------------------------------------------------------------- pooling


def pooling_cases():
    """(window, padding, stride) triples that PyTorch accepts (padding <= window / 2)."""
    windows = [1, 2, 3, (3, 2)]
    paddings = [0, 1, (1, 0)]
    strides = [None, 1, (2, 1)]
    for window, padding, stride in itertools.product(windows, paddings, strides):
        kh, kw = (window, window) if isinstance(window, int) else window
        ph, pw = (padding, padding) if isinstance(padding, int) else padding
        if ph <= kh // 2 and pw <= kw // 2:
            yield window, padding, stride


@pytest.mark.parametrize("x_shape", [(5, 5), (2, 4, 7), (2, 3, 6, 5)])
@pytest.mark.parametrize("window, padding, stride", list(pooling_cases()))
def test_pool2d_matches_functional(x_shape, window, padding, stride):
    X = torch.randn(x_shape)
    X4 = X.reshape((-1, 1) + X.shape[-2:])  # (N*C, 1, H, W): functional wants a batch
    for mode, reference in (("max", F.max_pool2d), ("avg", F.avg_pool2d)):
        expected = reference(X4, window, stride=stride, padding=padding)
        expected = expected.reshape(X.shape[:-2] + expected.shape[-2:])
        actual = pool2d(X, window, mode=mode, padding=padding, stride=stride)
        torch.testing.assert_close(actual, expected)


def test_notes_pooling_values():
    X = torch.tensor([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]]])
    # The notes' loop slides by one cell, so compare with stride=1.
    assert torch.equal(pool2d(X, (2, 2), stride=1), torch.tensor([[[4.0, 5.0], [7.0, 8.0]]]))
    assert torch.equal(
        pool2d(X, (2, 2), "avg", stride=1), torch.tensor([[[2.0, 3.0], [5.0, 6.0]]])
    )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"pool_size": 2, "mode": "min"}, ValueError, "'min'"),
        ({"pool_size": 2, "padding": -1}, ValueError, "-1"),
        ({"pool_size": 2, "padding": 2}, ValueError, r"\(2, 2\)"),
        ({"pool_size": 2, "stride": 0}, ValueError, r"stride.*\(0, 0\)"),
        ({"pool_size": (2, 0)}, ValueError, r"\(2, 0\)"),
        ({"pool_size": 7}, ValueError, "7.*5"),
        ({"pool_size": 2.5}, TypeError, "2.5"),
    ],
)
def test_pool2d_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        pool2d(torch.ones((5, 5)), **kwargs)


def test_pool2d_bad_tensors():
    with pytest.raises(TypeError, match=r"torch\.int64"):
        pool2d(torch.ones((4, 4), dtype=torch.int64), 2)
    with pytest.raises(ValueError, match=r"\(1, 1, 1, 4, 4\)"):
        pool2d(torch.ones((1, 1, 1, 4, 4)), 2)


# --------------------------------------------------------------------------- output shapes


@pytest.mark.parametrize(
    "n, k, p, s, d",
    [
        (8, 3, 1, 1, 1),  # the notes' 7.3 cases
        ((8, 8), (5, 3), (2, 1), 1, 1),
        (8, 3, 1, 2, 1),
        ((8, 8), (3, 5), (0, 1), (3, 4), 1),
        (28, 5, 2, 1, 1),
        (7, 3, 0, 2, 2),
        ((9, 6), (2, 3), (1, 0), (2, 3), (3, 1)),
        (5, 5, 0, 1, 1),
    ],
)
def test_conv_output_shape_matches_conv2d(n, k, p, s, d):
    conv = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)
    size = (n, n) if isinstance(n, int) else n
    expected = tuple(conv(torch.zeros((1, 1) + size)).shape[-2:])
    result = conv_output_shape(n, k, p, s, d)
    if all(isinstance(a, int) for a in (n, k, p, s, d)):
        assert isinstance(result, int)
        assert (result, result) == expected
    else:
        assert result == expected


@pytest.mark.parametrize("n, k, p, s", [(6, 2, 0, None), (7, 3, 1, 2), (9, 4, 2, 3), (5, 3, 1, 1)])
def test_conv_output_shape_matches_max_pool(n, k, p, s):
    pool = nn.MaxPool2d(k, stride=s, padding=p)
    expected = pool(torch.zeros((1, 1, n, n))).shape[-1]
    assert conv_output_shape(n, k, p, k if s is None else s) == expected


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((8, 3, -1), ValueError, r"padding.*\(-1, -1\)"),
        ((8, 3, 0, 0), ValueError, r"stride.*\(0, 0\)"),
        ((8, 3, 0, 1, 0), ValueError, r"dilation.*\(0, 0\)"),
        ((3, 5), ValueError, "5.*3"),
        ((5, 3, 0, 1, 3), ValueError, "7.*dilation=3.*5"),
        (((8, 8, 8), 3), TypeError, r"\(8, 8, 8\)"),
        ((8, True), TypeError, "True"),
    ],
)
def test_conv_output_shape_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        conv_output_shape(*args)


# --------------------------------------------------------------------------- receptive fields

STACKS = {
    "lenet": [LayerSpec("c1", 5, padding=2), LayerSpec("p1", 2, 2), LayerSpec("c2", 5),
              LayerSpec("p2", 2, 2)],
    "dilated": [LayerSpec("c1", 3, dilation=2, padding=1), LayerSpec("c2", 3, stride=2)],
    "stride_gt_kernel": [LayerSpec("c1", 1, stride=2), LayerSpec("c2", 2, padding=1)],
    "mixed": [LayerSpec("c1", (5, 3), stride=(2, 1), padding=(1, 0)),
              LayerSpec("p1", 3, stride=2, padding=1),
              LayerSpec("c2", 3, dilation=(2, 1), padding=(0, 1))],
}
INPUT_SIZES = {"lenet": 20, "dilated": 11, "stride_gt_kernel": 9, "mixed": (25, 13)}


def ones_network(layers):
    """A real conv stack with the same geometry and all-ones weights.

    Every spec becomes a 1-channel Conv2d: it has the same connectivity as a pool with
    that geometry, and unlike max pooling its gradient reaches every pixel in the window.
    """
    convs = []
    for spec in layers:
        conv = nn.Conv2d(1, 1, spec.kernel_size, stride=spec.stride, padding=spec.padding,
                         dilation=spec.dilation, bias=False)
        nn.init.ones_(conv.weight)
        convs.append(conv)
    return nn.Sequential(*convs)


def gradient_support(net, input_size, out_index):
    """Bounding box of the input pixels with a nonzero gradient for one output unit."""
    X = torch.rand((1, 1) + input_size, requires_grad=True)
    net(X)[0, 0][out_index].backward()
    rows, cols = torch.nonzero(X.grad[0, 0], as_tuple=True)
    return ((rows.min().item(), rows.max().item() + 1),
            (cols.min().item(), cols.max().item() + 1)), X.grad[0, 0] != 0


@pytest.mark.parametrize("stack", list(STACKS))
def test_input_region_matches_autograd(stack):
    layers = STACKS[stack]
    input_size = INPUT_SIZES[stack]
    input_size = (input_size, input_size) if isinstance(input_size, int) else input_size
    net = ones_network(layers)
    info = receptive_field(layers, input_size)[-1]
    assert info.output_size == tuple(net(torch.zeros((1, 1) + input_size)).shape[-2:])
    holes_possible = any(
        spec.dilation != (1, 1) or spec.stride[0] > spec.kernel_size[0]
        or spec.stride[1] > spec.kernel_size[1]
        for spec in layers
    )
    for out_index in itertools.product(*(range(n) for n in info.output_size)):
        region = input_region(layers, out_index, input_size)
        box, support = gradient_support(net, input_size, out_index)
        assert region == box, out_index
        if not holes_possible:  # then every pixel in the box contributes
            (r0, r1), (c0, c1) = region
            assert support[r0:r1, c0:c1].all() and support.sum() == (r1 - r0) * (c1 - c0)
        # Away from the borders the region is the full field, centred as receptive_field says.
        for dim, (lo, hi) in enumerate(region):
            centre = info.start[dim] + out_index[dim] * info.jump[dim]
            unclipped_lo = centre - (info.size[dim] - 1) / 2
            if unclipped_lo >= 0 and unclipped_lo + info.size[dim] <= input_size[dim]:
                assert (lo, hi) == (unclipped_lo, unclipped_lo + info.size[dim])


def test_receptive_field_of_lenet_from_modules():
    net = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(2, stride=2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 10),
    )
    specs = layer_specs(net)
    assert [spec.name for spec in specs] == ["0", "2", "3", "5"]
    infos = receptive_field(specs, 28)
    features = net[:6](torch.zeros((1, 1, 28, 28)))
    assert infos[-1].output_size == tuple(features.shape[-2:])
    assert infos[-1].size == (16, 16) and infos[-1].jump == (4, 4)


def test_layer_spec_from_modules():
    conv = nn.Conv2d(1, 1, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(1, 2))
    assert LayerSpec.from_module(conv, "c") == LayerSpec("c", (3, 5), (2, 1), (1, 2), (1, 2))
    assert LayerSpec.from_module(nn.MaxPool2d(3)).stride == (3, 3)  # stride defaults to window
    assert LayerSpec.from_module(nn.AvgPool2d(2, stride=1, padding=1)).padding == (1, 1)
    same = LayerSpec.from_module(nn.Conv2d(1, 1, 5, padding="same", dilation=2))
    assert same.padding == (4, 4)
    assert LayerSpec.from_module(nn.Conv2d(1, 1, 3, padding="valid")).padding == (0, 0)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: LayerSpec.from_module(nn.ReLU()), TypeError, "ReLU"),
        (lambda: LayerSpec.from_module(nn.MaxPool2d(2, ceil_mode=True)), ValueError, "ceil_mode"),
        (lambda: LayerSpec.from_module(nn.Conv2d(1, 1, 2, padding="same")), ValueError,
         r"\(2, 2\)"),
        (lambda: LayerSpec("c", 3, stride=0), ValueError, r"'c'.*stride.*\(0, 0\)"),
        (lambda: LayerSpec("c", 3, padding=(1, -2)), ValueError, r"\(1, -2\)"),
        (lambda: receptive_field([LayerSpec("big", 9)], 5), ValueError, "'big'.*9.*5"),
        (lambda: input_region(STACKS["lenet"], (5, 0), 20), ValueError, r"\(5, 0\).*\(3, 3\)"),
        (lambda: input_region([LayerSpec("c", 1, padding=1)], (0, 0), 4), ValueError,
         r"\(0, 0\).*padding"),
    ],
)
def test_receptive_field_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("padding_mode", ["circular", "reflect", "replicate"])
def test_a_padding_mode_the_arithmetic_does_not_model_is_refused(padding_mode):
    # With circular padding a corner unit sees the opposite edge: the zero-padding
    # arithmetic would report the wrong input region, so it must refuse instead.
    conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode=padding_mode)
    with pytest.raises(ValueError, match=rf"'c1'.*padding_mode='{padding_mode}'.*'zeros'"):
        LayerSpec.from_module(conv, "c1")
    with pytest.raises(ValueError, match=rf"'1'.*padding_mode='{padding_mode}'"):
        layer_specs(nn.Sequential(nn.Conv2d(1, 1, 3), conv))


@pytest.mark.parametrize("layer", [
    nn.ZeroPad2d(1), nn.ReflectionPad2d(1), nn.ConvTranspose2d(1, 1, 3),
    nn.Upsample(scale_factor=2), nn.LPPool2d(2, 2), nn.PixelShuffle(1),
])
def test_layers_that_move_the_grid_unmodelled_are_refused(layer):
    net = nn.Sequential(nn.Conv2d(1, 1, 3), nn.ReLU(), layer, nn.Conv2d(1, 1, 3))
    with pytest.raises(ValueError, match=rf"'2' \({type(layer).__name__}\).*does not model"):
        layer_specs(net)


def test_options_that_only_change_values_are_accepted():
    net = nn.Sequential(nn.Conv2d(2, 2, 3, groups=2, bias=False), nn.BatchNorm2d(2),
                        nn.AvgPool2d(2, padding=1, count_include_pad=False, divisor_override=3),
                        nn.MaxPool2d(2, return_indices=False), nn.Dropout2d())
    assert [spec.name for spec in layer_specs(net)] == ["0", "2", "3"]
