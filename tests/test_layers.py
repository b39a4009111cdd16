"""cnnlib.layers against nn.Conv2d and nn.BatchNorm1d/2d."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from cnnlib.layers import BatchNorm, Conv2D, batch_norm

# --------------------------------------------------------------------------- Conv2D


def test_conv2d_matches_functional_conv2d():
    layer = Conv2D((2, 3))
    with torch.no_grad():
        layer.bias.fill_(0.5)
    X = torch.randn((5, 7))
    expected = F.conv2d(X[None, None], layer.weight[None, None], layer.bias)[0, 0]
    torch.testing.assert_close(layer(X), expected)


def test_conv2d_gradcheck_through_weight_bias_and_input():
    layer = Conv2D((2, 2), dtype=torch.float64)
    X = torch.randn((4, 5), dtype=torch.float64, requires_grad=True)
    weight = layer.weight.detach().clone().requires_grad_()
    bias = torch.randn(1, dtype=torch.float64, requires_grad=True)

    def forward(x, w, b):
        return functional_call(layer, {"weight": w, "bias": b}, (x,))

    assert torch.autograd.gradcheck(forward, (X, weight, bias))


def test_conv2d_learns_the_edge_kernel():
    """The notes' experiment: recover [[1, -1]] from an image and its edge map."""
    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    Y = F.conv2d(X[None, None], torch.tensor([[[[1.0, -1.0]]]]))[0, 0]
    layer = Conv2D((1, 2))
    lr = 3e-2
    for _ in range(30):  # like the notes, only the kernel is trained (their layer has no bias)
        loss = ((layer(X) - Y) ** 2).sum()
        layer.zero_grad()
        loss.backward()
        with torch.no_grad():
            layer.weight -= lr * layer.weight.grad
    torch.testing.assert_close(layer.weight, torch.tensor([[1.0, -1.0]]), atol=0.05, rtol=0)


def test_conv2d_int_kernel_size_dtype_and_repr():
    layer = Conv2D(3, dtype=torch.float64)
    assert layer.weight.shape == (3, 3)
    assert layer.bias.dtype == torch.float64
    assert "kernel_size=(3, 3)" in repr(layer)
    assert sum(p.numel() for p in layer.parameters()) == 10


@pytest.mark.parametrize(
    "kernel_size, error, match",
    [((0, 2), ValueError, r"\(0, 2\)"), ((1, 2, 3), TypeError, r"\(1, 2, 3\)")],
)
def test_conv2d_bad_kernel_size(kernel_size, error, match):
    with pytest.raises(error, match=match):
        Conv2D(kernel_size)


# --------------------------------------------------------------------------- batch norm


def paired_batch_norms(num_features, num_dims):
    """Our BatchNorm and PyTorch's, with the same random scale and shift."""
    ours = BatchNorm(num_features, num_dims)
    theirs = nn.BatchNorm2d(num_features) if num_dims == 4 else nn.BatchNorm1d(num_features)
    with torch.no_grad():
        ours.gamma.copy_(torch.rand(num_features) + 0.5)
        ours.beta.copy_(torch.randn(num_features))
        theirs.weight.copy_(ours.gamma)
        theirs.bias.copy_(ours.beta)
    return ours, theirs


@pytest.mark.parametrize("num_dims, shape", [(4, (4, 3, 5, 6)), (2, (8, 5)), (4, (2, 2, 1, 1))])
def test_batch_norm_matches_torch_in_training_and_eval(num_dims, shape):
    ours, theirs = paired_batch_norms(shape[1], num_dims)
    for step in range(4):
        X = torch.randn(shape) * (step + 1) + step  # shifting statistics move the averages
        X_ours, X_theirs = X.clone().requires_grad_(), X.clone().requires_grad_()
        Y_ours, Y_theirs = ours(X_ours), theirs(X_theirs)
        torch.testing.assert_close(Y_ours, Y_theirs)
        weights = torch.randn(shape)  # an arbitrary loss, so every gradient is exercised
        (Y_ours * weights).sum().backward()
        (Y_theirs * weights).sum().backward()
        torch.testing.assert_close(X_ours.grad, X_theirs.grad)
        torch.testing.assert_close(ours.gamma.grad, theirs.weight.grad)
        torch.testing.assert_close(ours.beta.grad, theirs.bias.grad)
        ours.zero_grad()
        theirs.zero_grad()
        torch.testing.assert_close(ours.moving_mean, theirs.running_mean)
        torch.testing.assert_close(ours.moving_var, theirs.running_var)
    ours.eval()
    theirs.eval()
    X = torch.randn(shape) * 3
    torch.testing.assert_close(ours(X), theirs(X))
    moving_mean = ours.moving_mean.clone()
    ours(X)
    assert torch.equal(ours.moving_mean, moving_mean)  # eval never updates the averages


def test_batch_norm_function_keeps_d2l_parameter_shapes():
    X = torch.randn((4, 3, 5, 5))
    shape = (1, 3, 1, 1)  # how D2L's book stores them
    gamma, beta = torch.ones(shape), torch.zeros(shape)
    Y, new_mean, new_var = batch_norm(
        X, gamma, beta, torch.zeros(shape), torch.ones(shape), eps=1e-5, momentum=0.1,
        training=True,
    )
    assert new_mean.shape == shape and new_var.shape == shape
    reference = F.batch_norm(X, torch.zeros(3), torch.ones(3), training=True, momentum=0.1)
    torch.testing.assert_close(Y, reference)


def test_batch_norm_module_state_and_dtype():
    bn = BatchNorm(6, 4)
    assert set(bn.state_dict()) == {"gamma", "beta", "moving_mean", "moving_var"}
    assert sum(p.numel() for p in bn.parameters()) == 12  # buffers are not trained
    bn = bn.double()
    assert bn(torch.randn((2, 6, 3, 3), dtype=torch.float64)).dtype == torch.float64
    assert "num_features=6" in repr(bn)


@pytest.mark.parametrize(
    "make, X, match",
    [
        (lambda: BatchNorm(3, 4), torch.ones((2, 3)), r"num_dims=4.*\(2, 3\)"),
        (lambda: BatchNorm(3, 2), torch.ones((2, 3, 4, 4)), r"\(2, 3, 4, 4\)"),
        (lambda: BatchNorm(3, 4), torch.ones((2, 5, 4, 4)), "num_features=3.*5"),
        (lambda: BatchNorm(3, 2), torch.ones((1, 3)), r"more than 1 value.*\(1, 3\)"),
    ],
)
def test_batch_norm_bad_input(make, X, match):
    with pytest.raises(ValueError, match=match):
        make()(X)


@pytest.mark.parametrize(
    "args, match",
    [((3, 3), "num_dims.*3"), ((0, 2), "num_features.*0")],
)
def test_batch_norm_bad_construction(args, match):
    with pytest.raises(ValueError, match=match):
        BatchNorm(*args)


def test_batch_norm_function_bad_parameters():
    X = torch.randn((4, 3))
    with pytest.raises(ValueError, match="gamma has 2 elements.*3 channels"):
        batch_norm(X, torch.ones(2), torch.zeros(3), torch.zeros(3), torch.ones(3),
                   eps=1e-5, momentum=0.1, training=True)
    with pytest.raises(ValueError, match=r"\(4, 3, 2\)"):
        batch_norm(torch.randn((4, 3, 2)), torch.ones(3), torch.zeros(3), torch.zeros(3),
                   torch.ones(3), eps=1e-5, momentum=0.1, training=True)


# --------------------------------------------------------------------------- bad input, named


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.bool,
                                   torch.complex64, "float32", float])
def test_conv2d_refuses_a_dtype_it_cannot_learn_in(dtype):
    # nn.Conv2d refuses integer dtypes too (only floating point carries gradients).
    with pytest.raises(TypeError) as info:
        Conv2D(3, dtype=dtype)
    message = str(info.value)
    assert "dtype" in message and repr(dtype) in message and "torch.float32" in message


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((2.0, 4), TypeError, r"num_features must be an int, got 2\.0 \(float\)"),
        ((True, 4), TypeError, r"num_features must be an int, got True"),
        (("3", 4), TypeError, r"num_features must be an int, got '3'"),
        ((3, 4.0), TypeError, r"num_dims must be an int, got 4\.0"),
        ((-1, 2), ValueError, r"num_features must be >= 1, got -1"),
    ],
)
def test_batch_norm_bad_construction_types(args, error, match):
    with pytest.raises(error, match=match):
        BatchNorm(*args)


def test_batch_norm_accepts_numpy_integers():
    import numpy as np

    assert BatchNorm(np.int64(3), np.int32(4)).num_features == 3


BAD_X = [
    (torch.ones((4, 3, 2, 2), dtype=torch.int64), TypeError, r"floating-point X.*torch\.int64"),
    (torch.ones((4, 3, 2, 2), dtype=torch.bool), TypeError, r"floating-point X.*torch\.bool"),
    ([[1.0, 2.0, 3.0]], TypeError, "torch.Tensor, got list"),
    (3.0, TypeError, "torch.Tensor, got float"),
]


@pytest.mark.parametrize("X, error, match", BAD_X)
def test_batch_norm_module_bad_input_types(X, error, match):
    with pytest.raises(error, match=match):
        BatchNorm(3, 4)(X)


@pytest.mark.parametrize("X, error, match", BAD_X)
def test_batch_norm_function_bad_input_types(X, error, match):
    ones, zeros = torch.ones(3), torch.zeros(3)
    with pytest.raises(error, match=match):
        batch_norm(X, ones, zeros, zeros, ones, eps=1e-5, momentum=0.1, training=True)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 0), (4, 0, 2, 2)])
def test_batch_norm_with_zero_features_says_so(shape, training):
    # nn.BatchNorm2d(0) fails with an IndexError from deep inside; ours names the shape.
    empty = torch.zeros(0)
    with pytest.raises(ValueError, match=rf"at least one channel.*{tuple(shape)}".replace(
            "(", r"\(").replace(")", r"\)")):
        batch_norm(torch.zeros(shape), empty, empty, empty, empty, eps=1e-5, momentum=0.1,
                   training=training)


def test_batch_norm_function_parameters_must_be_tensors():
    ones, zeros = torch.ones(3), torch.zeros(3)
    with pytest.raises(TypeError, match="gamma must be a torch.Tensor, got list"):
        batch_norm(torch.randn(4, 3), [1.0, 1.0, 1.0], zeros, zeros, ones,
                   eps=1e-5, momentum=0.1, training=True)
    with pytest.raises(TypeError, match="moving_var must be a torch.Tensor, got NoneType"):
        batch_norm(torch.randn(4, 3), ones, zeros, zeros, None,
                   eps=1e-5, momentum=0.1, training=False)
