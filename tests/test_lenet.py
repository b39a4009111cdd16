"""LeNet as in the notes, and the modern variant."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from cnnlib.models.lenet import LeNet, ModernLeNet, lenet, modern_lenet

# The listing in the user's notes (D2L 7.6), which layer_summary must reproduce exactly.
NOTES_SUMMARY = """\
Conv2d output shape:\t torch.Size([1, 6, 28, 28])
Sigmoid output shape:\t torch.Size([1, 6, 28, 28])
AvgPool2d output shape:\t torch.Size([1, 6, 14, 14])
Conv2d output shape:\t torch.Size([1, 16, 10, 10])
Sigmoid output shape:\t torch.Size([1, 16, 10, 10])
AvgPool2d output shape:\t torch.Size([1, 16, 5, 5])
Flatten output shape:\t torch.Size([1, 400])
Linear output shape:\t torch.Size([1, 120])
Sigmoid output shape:\t torch.Size([1, 120])
Linear output shape:\t torch.Size([1, 84])
Sigmoid output shape:\t torch.Size([1, 84])
Linear output shape:\t torch.Size([1, 10])
"""


def summary(model) -> str:
    out = io.StringIO()
    model.layer_summary((1, 1, 28, 28), file=out)
    return out.getvalue()


def _words(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


def test_summary_matches_the_notes_line_for_line():
    # The same words as the notes; only the spacing differs (see the next test), and the
    # pools print under their own name, FastAvgPool2d (cnnlib/models/fastpool.py), not PyTorch's.
    ours = summary(LeNet())
    assert ours.count("FastAvgPool2d output shape") == 2
    assert _words(ours.replace("FastAvgPool2d", "AvgPool2d")) == _words(NOTES_SUMMARY)


@pytest.mark.parametrize("model", [LeNet(), ModernLeNet()], ids=["lenet", "modern"])
def test_summary_shapes_line_up_in_one_column(model):
    """The notes' tab puts the shapes of BatchNorm2d and Conv2d lines 8 characters apart."""
    lines = summary(model).splitlines()
    columns = {line.index("torch.Size") for line in lines}
    assert len(columns) == 1, lines
    # No wider than it needs to be: the longest layer name is followed by one space.
    longest = max(len(line.split()[0]) for line in lines)
    assert columns == {longest + len(" output shape: ")}


def test_modern_lenet_keeps_the_layout_with_new_parts():
    lines = summary(ModernLeNet()).splitlines()
    names = [line.split()[0] for line in lines]
    assert "Sigmoid" not in names and "AvgPool2d" not in names
    assert names.count("ReLU") == 4 and names.count("MaxPool2d") == 2
    assert names.count("BatchNorm2d") == 2 and names.count("BatchNorm1d") == 2
    # Same feature-map shapes as LeNet wherever the two have the same kind of layer.
    shapes = [line.split("output shape: ")[1] for line in lines]
    assert shapes[-1] == "torch.Size([1, 10])" and "torch.Size([1, 400])" in shapes


def conv_params(c_in: int, c_out: int, k: int) -> int:
    return (c_in * k * k + 1) * c_out  # weights + one bias per output channel


def linear_params(n_in: int, n_out: int) -> int:
    return (n_in + 1) * n_out


def test_parameter_count_equals_the_formula():
    expected = (
        conv_params(1, 6, 5) + conv_params(6, 16, 5)
        + linear_params(16 * 5 * 5, 120) + linear_params(120, 84) + linear_params(84, 10)
    )
    assert LeNet().num_parameters() == expected
    batch_norm = 2 * (6 + 16 + 120 + 84)  # a scale and a shift per channel or unit
    assert ModernLeNet().num_parameters() == expected + batch_norm


@pytest.mark.parametrize("build", [lenet, modern_lenet])
def test_output_shape_and_no_nan(build):
    model = build(num_classes=7)
    X = torch.rand(5, 1, 28, 28)
    for mode in (True, False):
        model.train(mode)
        y_hat = model(X)
        assert y_hat.shape == (5, 7) and torch.isfinite(y_hat).all()


@pytest.mark.parametrize("build", [lenet, modern_lenet])
def test_gradients_reach_every_parameter(build):
    model = build()
    model(torch.rand(4, 1, 28, 28)).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_layers_are_explicit_and_xavier_initialised():
    model = LeNet()
    assert not any(isinstance(m, nn.modules.lazy.LazyModuleMixin) for m in model.modules())
    conv = model.net[0]
    bound = (6.0 / (25 * 1 + 25 * 6)) ** 0.5  # xavier-uniform: fan_in = 25, fan_out = 150
    assert conv.weight.abs().max() <= bound
    assert conv.weight.abs().max() > 0.8 * bound  # not PyTorch's default (much smaller) init


def test_wrong_input_size_is_explained():
    with pytest.raises(ValueError, match=r"expects images \(N, 1, 28, 28\), got \(2, 1, 32, 32\)"):
        LeNet()(torch.rand(2, 1, 32, 32))
    with pytest.raises(ValueError, match="got \\(1, 28, 28\\)"):
        ModernLeNet()(torch.rand(1, 28, 28))


def test_in_channels_is_explicit():
    model = LeNet(in_channels=3)
    assert model.net[0].in_channels == 3
    assert model(torch.rand(2, 3, 28, 28)).shape == (2, 10)


def test_shipped_weights_load_and_match_their_record():
    import hashlib
    import json

    from cnnlib.models.lenet import WEIGHTS_PATH, pretrained_lenet
    from cnnlib.training.checkpoint import read_checkpoint

    record = json.loads(WEIGHTS_PATH.with_suffix(".json").read_text())
    assert record["sha256"] == hashlib.sha256(WEIGHTS_PATH.read_bytes()).hexdigest()
    assert set(read_checkpoint(WEIGHTS_PATH)) == {"format", "model", "architecture"}
    model = pretrained_lenet()
    assert not model.training
    assert record["num_parameters"] == model.num_parameters()
    assert len(record["history"]["val_acc"]) == record["config"]["epochs"]


@pytest.mark.data
def test_shipped_weights_reach_the_recorded_accuracy():
    import json

    from cnnlib.data import FashionMNIST
    from cnnlib.models.lenet import WEIGHTS_PATH, pretrained_lenet
    from cnnlib.training.trainer import evaluate

    record = json.loads(WEIGHTS_PATH.with_suffix(".json").read_text())
    _, acc = evaluate(pretrained_lenet(), FashionMNIST(batch_size=500).val_batches())
    assert acc == pytest.approx(record["val_acc"], abs=2e-3)  # float sums vary by machine
