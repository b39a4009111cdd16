"""cnnlib.models.cost: MACs and FLOPs against formulas derived from each layer's hyperparameters,
and against PyTorch's own counter (torch.utils.flop_counter) on whole models."""

import math

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnlib.models.cost import (
    CostRow,
    cost_table,
    count_flops,
    count_macs,
    count_parameters,
    format_cost_table,
    layer_costs,
)
from cnnlib.models.googlenet import googlenet
from cnnlib.models.resnet import ResNeXtBlock, resnet18


def out_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """Output side of a convolution or pooling window: floor((n + 2p - k) / s) + 1."""
    return (n + 2 * padding - kernel_size) // stride + 1


def conv_macs(n, c_in, c_out, h_out, w_out, k_h, k_w, groups=1):
    """Each of the n * c_out * h_out * w_out outputs is a dot product of k_h * k_w * c_in/groups."""
    return n * c_out * h_out * w_out * k_h * k_w * (c_in // groups)


def test_conv_flops_match_the_formula():
    n, c_in, c_out, size, k, s, p = 2, 3, 8, 17, 3, 2, 1
    conv = nn.Conv2d(c_in, c_out, kernel_size=k, stride=s, padding=p)
    h = out_size(size, k, s, p)
    expected = 2 * conv_macs(n, c_in, c_out, h, h, k, k)
    assert count_flops(conv, (n, c_in, size, size)) == expected


def test_rectangular_conv_uses_both_kernel_sides_and_strides():
    n, c_in, c_out, height, width = 1, 4, 6, 11, 9
    conv = nn.Conv2d(c_in, c_out, kernel_size=(3, 5), stride=(2, 1), padding=(1, 2))
    h = out_size(height, 3, 2, 1)
    w = out_size(width, 5, 1, 2)
    assert count_macs(conv, (n, c_in, height, width)) == conv_macs(n, c_in, c_out, h, w, 3, 5)


def test_grouped_conv_divides_the_cost_by_the_groups():
    n, c_in, c_out, size, k, groups = 2, 8, 12, 10, 3, 4
    grouped = nn.Conv2d(c_in, c_out, kernel_size=k, padding=1, groups=groups)
    dense = nn.Conv2d(c_in, c_out, kernel_size=k, padding=1)
    shape = (n, c_in, size, size)
    expected = conv_macs(n, c_in, c_out, size, size, k, k, groups=groups)
    assert count_macs(grouped, shape) == expected
    assert count_macs(dense, shape) == groups * expected


def test_linear_flops_match_the_formula_for_every_leading_dimension():
    n_in, n_out = 20, 7
    linear = nn.Linear(n_in, n_out)
    assert count_flops(linear, (5, n_in)) == 2 * 5 * n_in * n_out
    # A linear layer on (N, T, features) runs once per (example, position) pair.
    assert count_flops(linear, (3, 4, n_in)) == 2 * 3 * 4 * n_in * n_out


def test_small_stack_sums_conv_and_linear_and_skips_cheap_layers():
    n, c_in, size, c_mid, k, n_out = 2, 1, 12, 4, 5, 10
    net = nn.Sequential(
        nn.Conv2d(c_in, c_mid, kernel_size=k, padding=2),
        nn.BatchNorm2d(c_mid),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(c_mid * (size // 2) ** 2, n_out),
    )
    conv = conv_macs(n, c_in, c_mid, size, size, k, k)
    linear = n * c_mid * (size // 2) ** 2 * n_out
    assert count_macs(net, (n, c_in, size, size)) == conv + linear
    assert count_flops(net, (n, c_in, size, size)) == 2 * (conv + linear)


def test_layer_costs_name_each_layer_in_execution_order():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    costs = layer_costs(net, (1, 1, 6, 6))
    assert [(c.name, c.kind) for c in costs] == [("0", "Conv2d"), ("2", "Linear")]
    assert costs[0].output_shape == (1, 2, 4, 4)
    assert costs[0].params == (3 * 3 * 1 + 1) * 2
    assert costs[1].params == (2 * 4 * 4 + 1) * 3


def test_a_layer_used_twice_is_counted_twice():
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(5, 5)

        def forward(self, X: torch.Tensor) -> torch.Tensor:
            return self.linear(self.linear(X))

    assert count_macs(Twice(), (1, 5)) == 2 * 5 * 5


def test_resnext_block_cost_follows_its_grouped_bottleneck():
    n, c, size, groups, bot_mul, s = 2, 16, 8, 4, 0.5, 2
    block = ResNeXtBlock(c, 2 * c, groups, bot_mul, use_1x1conv=True, strides=s)
    b = round(2 * c * bot_mul)
    h = out_size(size, 3, s, 1)
    expected = (
        conv_macs(n, c, b, size, size, 1, 1)  # 1x1 reduce, stride 1
        + conv_macs(n, b, b, h, h, 3, 3, groups=groups)  # grouped 3x3, strided
        + conv_macs(n, b, 2 * c, h, h, 1, 1)  # 1x1 expand
        + conv_macs(n, c, 2 * c, h, h, 1, 1)  # 1x1 strided shortcut
    )
    assert count_macs(block, (n, c, size, size)) == expected


@pytest.mark.parametrize(
    "build, shape",
    [
        (lambda: resnet18(width_divisor=4), (2, 1, 96, 96)),
        (lambda: googlenet(width_divisor=4), (1, 1, 96, 96)),
        (lambda: ResNeXtBlock(32, 32, groups=4, bot_mul=0.5), (2, 32, 12, 12)),
    ],
    ids=["resnet18/4", "googlenet/4", "resnext"],
)
def test_flops_agree_with_pytorchs_flop_counter(build, shape):
    # FlopCounterMode counts 2 FLOPs per multiply-accumulate of convolutions and matrix
    # products and ignores bias, batch norm and pooling: the same convention as ours.
    model = build().eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(shape))
    assert count_flops(model, shape) == counter.get_total_flops()


def test_counting_leaves_the_model_as_it_found_it():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    net.train()
    before = net[1].running_mean.clone()
    count_macs(net, (1, 3))  # a batch of 1 would fail in training mode
    assert net.training
    assert not net[0]._forward_hooks
    assert torch.equal(net[1].running_mean, before)


def test_count_parameters_matches_the_formula_and_frozen_layers():
    net = nn.Sequential(nn.Conv2d(3, 5, 3), nn.Linear(7, 2))
    total = (3 * 3 * 3 + 1) * 5 + (7 + 1) * 2
    assert count_parameters(net) == total
    net[1].requires_grad_(False)
    assert count_parameters(net) == total - (7 + 1) * 2
    assert count_parameters(net, trainable_only=False) == total


def test_cost_table_rows_and_markdown():
    conv = nn.Conv2d(1, 4, 3)
    linear = nn.Linear(10, 2)
    rows = cost_table({"conv": (conv, (1, 1, 8, 8)), "linear": (linear, (3, 10))})
    assert [row.name for row in rows] == ["conv", "linear"]
    assert rows[0] == CostRow(
        name="conv",
        input_shape=(1, 1, 8, 8),
        params=count_parameters(conv),
        macs=conv_macs(1, 1, 4, 6, 6, 3, 3),
        flops=2 * conv_macs(1, 1, 4, 6, 6, 3, 3),
    )
    assert rows[1].flops == 2 * rows[1].macs == 2 * 3 * 10 * 2
    table = format_cost_table(rows).splitlines()
    assert table[0].startswith("| model | input |")
    assert len(table) == 2 + len(rows)
    assert table[2].startswith("| conv | 1x1x8x8 |")
    assert math.isclose(float(table[2].split("|")[3]), rows[0].params / 1e6, abs_tol=0.005)


def test_bad_input_shape_is_rejected_with_the_shape():
    with pytest.raises(ValueError, match=r"\(1, 0, 4, 4\)"):
        count_macs(nn.Conv2d(1, 1, 1), (1, 0, 4, 4))


def test_layer_summary_ends_with_the_costs_when_asked():
    import io

    from cnnlib.models.lenet import lenet

    model = lenet()
    plain, with_costs = io.StringIO(), io.StringIO()
    model.layer_summary((1, 1, 28, 28), file=plain)
    model.layer_summary((1, 1, 28, 28), file=with_costs, costs=True)
    lines = with_costs.getvalue().splitlines()
    assert lines[:-1] == plain.getvalue().splitlines()
    assert lines[-1] == (f"{count_parameters(model):,} parameters, "
                         f"{count_flops(model, (1, 1, 28, 28)):,} FLOPs per 28×28 image")
