"""Chapter 8 model zoo: shapes, parameter counts from the architectures' hyperparameters,
the exact summaries of the user's notes, batch-norm modes and argument checks."""

import io

import pytest
import torch
from torch import nn

from cnnlib.layers import BatchNorm
from cnnlib.models import alexnet as alexnet_module
from cnnlib.models import bn_lenet as bn_lenet_module
from cnnlib.models import googlenet as googlenet_module
from cnnlib.models import nin as nin_module
from cnnlib.models import resnet as resnet_module
from cnnlib.models import vgg as vgg_module
from cnnlib.models.alexnet import AlexNet, alexnet
from cnnlib.models.base import divide_width
from cnnlib.models.bn_lenet import BNLeNet, BNLeNetScratch, bn_lenet, bn_lenet_scratch
from cnnlib.models.googlenet import B3, B4, B5, GoogLeNet, Inception, googlenet
from cnnlib.models.nin import NiN, nin, nin_block
from cnnlib.models.resnet import Residual, ResNet, ResNeXtBlock, resnet18, resnext_block
from cnnlib.models.vgg import VGG, VGG11_ARCH, vgg11, vgg_block

# ---------------------------------------------------------------- helpers


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def conv_params(k: int, c_in: int, c_out: int, groups: int = 1) -> int:
    """A k x k convolution: c_out filters of k * k * (c_in / groups) weights, plus c_out biases."""
    return k * k * (c_in // groups) * c_out + c_out


def linear_params(n_in: int, n_out: int) -> int:
    return (n_in + 1) * n_out


def bn_params(c: int) -> int:
    return 2 * c  # a scale and a shift per channel


def out_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    return (n + 2 * padding - kernel_size) // stride + 1


def summary(model, shape) -> list[str]:
    """The summary's lines with runs of spaces (the padding that aligns the shapes) as one."""
    buffer = io.StringIO()
    model.layer_summary(shape, file=buffer)
    return [" ".join(line.split()) for line in buffer.getvalue().splitlines()]


def line(name: str, *shape: int) -> str:
    return f"{name} output shape: {torch.Size(shape)}"


def run(model: nn.Module, shape) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return model(torch.randn(shape))


# ---------------------------------------------------------------- every model

BUILDERS = {
    "alexnet": (alexnet, alexnet_module.INPUT_SIZE),
    "vgg11/4": (lambda: vgg11(width_divisor=4), vgg_module.INPUT_SIZE),
    "nin": (nin, nin_module.INPUT_SIZE),
    "googlenet": (googlenet, googlenet_module.INPUT_SIZE),
    "bn_lenet": (bn_lenet, bn_lenet_module.INPUT_SIZE),
    "bn_lenet_scratch": (bn_lenet_scratch, bn_lenet_module.INPUT_SIZE),
    "resnet18": (resnet18, resnet_module.INPUT_SIZE),
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_model_maps_its_input_size_to_class_scores(name):
    build, size = BUILDERS[name]
    model = build()
    Y = run(model, (2, 1, size, size))
    assert Y.shape == (2, 10)
    assert torch.isfinite(Y).all()
    assert not any(isinstance(m, nn.modules.lazy.LazyModuleMixin) for m in model.modules())


@pytest.mark.parametrize(
    "build, size",
    [
        (lambda: alexnet(num_classes=3, width_divisor=4, input_size=112, hidden_size=64), 112),
        (lambda: vgg11(num_classes=3, width_divisor=8, input_size=64, hidden_size=64), 64),
        (lambda: nin(num_classes=3, width_divisor=4), 96),
        (lambda: googlenet(num_classes=3, width_divisor=8), 64),
        (lambda: resnet18(num_classes=3, width_divisor=8), 64),
        (lambda: bn_lenet(num_classes=3), 28),
    ],
    ids=["alexnet", "vgg11", "nin", "googlenet", "resnet18", "bn_lenet"],
)
def test_builders_take_num_classes_and_a_width_reduction(build, size):
    Y = run(build(), (1, 1, size, size))
    assert Y.shape == (1, 3)


def test_divide_width_rejects_divisors_that_do_not_divide():
    assert divide_width(64, 4) == 16
    with pytest.raises(ValueError, match=r"width_divisor=3 .* 64 channels"):
        divide_width(64, 3)
    with pytest.raises(ValueError, match="width_divisor=0"):
        vgg11(width_divisor=0)


# ---------------------------------------------------------------- AlexNet


def test_alexnet_parameters_follow_its_layers():
    convs = [(11, 1, 96), (5, 96, 256), (3, 256, 384), (3, 384, 384), (3, 384, 256)]
    side = out_size(224, 11, 4, 1)
    for _ in range(3):  # three 3x3/2 max-pools; the other convolutions keep the size
        side = out_size(side, 3, 2)
    expected = sum(conv_params(k, i, o) for k, i, o in convs)
    expected += linear_params(256 * side * side, 4096) + linear_params(4096, 4096)
    expected += linear_params(4096, 10)
    assert n_params(AlexNet()) == expected


def test_alexnet_summary_matches_the_layer_arithmetic():
    lines = summary(AlexNet(), (1, 1, 224, 224))
    assert len(lines) == 21
    assert lines[0] == line("Conv2d", 1, 96, out_size(224, 11, 4, 1), out_size(224, 11, 4, 1))
    assert lines[12] == line("MaxPool2d", 1, 256, 5, 5)
    assert lines[13] == line("Flatten", 1, 256 * 5 * 5)
    assert lines[-1] == line("Linear", 1, 10)


def test_alexnet_rejects_images_too_small_for_its_pools():
    with pytest.raises(ValueError, match="input_size=64 .* >= 65"):
        AlexNet(input_size=64)


# ---------------------------------------------------------------- VGG


@pytest.fixture(scope="module")
def vgg_full():
    """The notes' VGG-11 at full width (about 129 M parameters); built once."""
    torch.manual_seed(0)
    return VGG(arch=((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)))


def test_vgg_summary_is_the_one_in_the_notes(vgg_full):
    assert summary(vgg_full, (1, 1, 224, 224)) == [
        line("Sequential", 1, 64, 112, 112),
        line("Sequential", 1, 128, 56, 56),
        line("Sequential", 1, 256, 28, 28),
        line("Sequential", 1, 512, 14, 14),
        line("Sequential", 1, 512, 7, 7),
        line("Flatten", 1, 25088),
        line("Linear", 1, 4096),
        line("ReLU", 1, 4096),
        line("Dropout", 1, 4096),
        line("Linear", 1, 4096),
        line("ReLU", 1, 4096),
        line("Dropout", 1, 4096),
        line("Linear", 1, 10),
    ]


def vgg_params(arch, input_size: int, hidden: int) -> int:
    expected, c_in = 0, 1
    for num_convs, c_out in arch:
        expected += conv_params(3, c_in, c_out) + (num_convs - 1) * conv_params(3, c_out, c_out)
        c_in = c_out
    flat = c_in * (input_size // 2 ** len(arch)) ** 2
    return (
        expected
        + linear_params(flat, hidden)
        + linear_params(hidden, hidden)
        + linear_params(hidden, 10)
    )


def test_vgg_parameters_follow_the_architecture(vgg_full):
    assert vgg_full.num_parameters() == vgg_params(VGG11_ARCH, 224, 4096)
    small = vgg11(width_divisor=8, input_size=64, hidden_size=32)
    narrow_arch = [(n, c // 8) for n, c in VGG11_ARCH]
    assert small.num_parameters() == vgg_params(narrow_arch, 64, 32)


def test_vgg_block_halves_the_image_and_counts_its_convs():
    block = vgg_block(2, 3, 8)
    assert n_params(block) == (3 * 3 * 3 + 1) * 8 + (3 * 3 * 8 + 1) * 8
    assert run(block, (2, 3, 10, 10)).shape == (2, 8, 5, 5)


def test_vgg_flatten_size_follows_input_size():
    model = VGG(((1, 4), (1, 8)), input_size=20, hidden_size=16)
    assert model.net[3].in_features == 8 * (20 // 4) ** 2
    assert run(model, (1, 1, 20, 20)).shape == (1, 10)


def test_vgg_rejects_bad_arguments():
    with pytest.raises(ValueError, match="input_size=16 .* 5 blocks .* >= 32"):
        VGG(VGG11_ARCH, input_size=16)
    with pytest.raises(ValueError, match="num_convs=0"):
        vgg_block(0, 1, 8)


# ---------------------------------------------------------------- NiN


def test_nin_block_parameters_and_shape():
    block = nin_block(3, 8, kernel_size=5, stride=2, padding=1)
    assert n_params(block) == conv_params(5, 3, 8) + 2 * conv_params(1, 8, 8)
    side = out_size(20, 5, 2, 1)
    assert run(block, (1, 3, 20, 20)).shape == (1, 8, side, side)


def test_nin_parameters_and_summary():
    blocks = [(11, 1, 96), (5, 96, 256), (3, 256, 384), (3, 384, 10)]
    expected = sum(conv_params(k, i, o) + 2 * conv_params(1, o, o) for k, i, o in blocks)
    model = NiN()
    assert n_params(model) == expected
    lines = summary(model, (1, 1, 224, 224))
    assert lines[-3:] == [
        line("Sequential", 1, 10, 5, 5),
        line("AdaptiveAvgPool2d", 1, 10, 1, 1),
        line("Flatten", 1, 10),
    ]


def test_nin_default_init_is_d2ls_xavier_and_kaiming_is_he():
    torch.manual_seed(0)
    xavier, he = nin(width_divisor=4), nin(width_divisor=4, init="kaiming")
    conv_x, conv_he = xavier.net[2][0], he.net[2][0]  # block 2's 5x5 conv: 24 -> 64
    fan_in = conv_x.weight[0].numel()
    # Xavier-uniform's bound is sqrt(6 / (fan_in + fan_out)); He-normal's std sqrt(2 / fan_in).
    fan_out = conv_x.weight.shape[0] * conv_x.weight[0, 0].numel()
    assert conv_x.weight.abs().max() <= (6 / (fan_in + fan_out)) ** 0.5
    assert conv_he.weight.std().item() == pytest.approx((2 / fan_in) ** 0.5, rel=0.05)
    assert torch.count_nonzero(conv_he.bias) == 0
    assert torch.count_nonzero(conv_x.bias) > 0  # PyTorch's default biases are kept


def test_nin_class_bias_makes_dead_classes_rarer():
    model = nin(width_divisor=4, init="kaiming", class_bias=1.0)
    assert model.class_block[4] is model.net[7][4]  # the conv in front of the last ReLU
    assert torch.equal(model.class_block[4].bias, torch.ones(10))

    def dead_classes(class_bias) -> int:
        """Classes scored 0 for every image, summed over ten initialisations."""
        X = torch.rand(16, 1, 112, 112, generator=torch.Generator().manual_seed(0))
        total = 0
        for seed in range(10):
            torch.manual_seed(seed)
            net = nin(width_divisor=4, init="kaiming", class_bias=class_bias).eval()
            with torch.no_grad():
                total += int((net(X) == 0).all(dim=0).sum())
        return total

    assert dead_classes(1.0) < dead_classes(None) / 2


def test_nin_rejects_an_unknown_init():
    with pytest.raises(ValueError, match="init must be one of"):
        nin(init="he")


# ---------------------------------------------------------------- GoogLeNet


def inception_params(c_in, c1, c2, c3, c4) -> int:
    return (
        conv_params(1, c_in, c1)
        + conv_params(1, c_in, c2[0])
        + conv_params(3, c2[0], c2[1])
        + conv_params(1, c_in, c3[0])
        + conv_params(5, c3[0], c3[1])
        + conv_params(1, c_in, c4)
    )


def test_inception_concatenates_its_branches():
    block = Inception(5, 2, (3, 4), (2, 3), 6)
    assert block.out_channels == 2 + 4 + 3 + 6
    assert n_params(block) == inception_params(5, 2, (3, 4), (2, 3), 6)
    assert run(block, (2, 5, 7, 7)).shape == (2, 15, 7, 7)


def test_googlenet_stages_and_parameters():
    def out_channels(config):
        c1, c2, c3, c4 = config
        return c1 + c2[1] + c3[1] + c4

    expected = conv_params(7, 1, 64) + conv_params(1, 64, 64) + conv_params(3, 64, 192)
    c_in = 192
    for config in B3 + B4 + B5:
        expected += inception_params(c_in, *config)
        c_in = out_channels(config)
    expected += linear_params(c_in, 10)
    model = GoogLeNet()
    assert n_params(model) == expected
    # Each of b1..b4 halves the side twice (b1) or once; b5 pools globally.
    assert summary(model, (1, 1, 96, 96)) == [
        line("Sequential", 1, 64, 96 // 4, 96 // 4),
        line("Sequential", 1, 192, 96 // 8, 96 // 8),
        line("Sequential", 1, out_channels(B3[-1]), 96 // 16, 96 // 16),
        line("Sequential", 1, out_channels(B4[-1]), 96 // 32, 96 // 32),
        line("Sequential", 1, out_channels(B5[-1])),
        line("Linear", 1, 10),
    ]


# ---------------------------------------------------------------- BN-LeNet


def bn_lenet_params() -> int:
    flat = 16 * 4 * 4  # 28 -> 24 -> 12 -> 8 -> 4 with unpadded 5x5 convs and 2x2 pools
    layers = conv_params(5, 1, 6) + conv_params(5, 6, 16)
    layers += linear_params(flat, 120) + linear_params(120, 84) + linear_params(84, 10)
    return layers + bn_params(6) + bn_params(16) + bn_params(120) + bn_params(84)


def test_bn_lenet_versions_share_shapes_and_parameter_count():
    scratch, concise = BNLeNetScratch(), BNLeNet()
    assert n_params(scratch) == n_params(concise) == bn_lenet_params()
    assert sum(isinstance(m, BatchNorm) for m in scratch.modules()) == 4
    assert [s.split(":")[1] for s in summary(scratch, (2, 1, 28, 28))] == [
        s.split(":")[1] for s in summary(concise, (2, 1, 28, 28))
    ]


def copy_concise_into_scratch(concise: BNLeNet, scratch: BNLeNetScratch) -> None:
    with torch.no_grad():
        for ours, ref in zip(scratch.net, concise.net, strict=True):
            if isinstance(ours, BatchNorm):
                ours.gamma.copy_(ref.weight)
                ours.beta.copy_(ref.bias)
            elif isinstance(ours, (nn.Conv2d, nn.Linear)):
                ours.load_state_dict(ref.state_dict())


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_bn_lenet_scratch_matches_the_concise_version(training):
    concise, scratch = BNLeNet(), BNLeNetScratch()
    copy_concise_into_scratch(concise, scratch)
    X = torch.randn(8, 1, 28, 28)
    concise.train()
    scratch.train()
    with torch.no_grad():  # one training batch so the moving statistics are not trivial
        concise(X)
        scratch(X)
    concise.train(training)
    scratch.train(training)
    with torch.no_grad():
        Y_ref = concise(X + 0.5)
        Y = scratch(X + 0.5)
    torch.testing.assert_close(Y, Y_ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("build", [bn_lenet, bn_lenet_scratch], ids=["concise", "scratch"])
def test_bn_lenet_train_mode_uses_the_batch_and_eval_mode_does_not(build):
    model = build()
    X = torch.randn(4, 1, 28, 28)
    model.train()
    with torch.no_grad():
        full = model(X)
        alone = model(X[:2])
    # In training, an example's output depends on the rest of its batch.
    assert not torch.allclose(full[:2], alone)
    model.eval()
    with torch.no_grad():
        full = model(X)
        alone = model(X[:2])
    torch.testing.assert_close(full[:2], alone)


# ---------------------------------------------------------------- ResNet and ResNeXt


def residual_params(c_in: int, c: int, use_1x1conv: bool) -> int:
    shortcut = conv_params(1, c_in, c) if use_1x1conv else 0
    return conv_params(3, c_in, c) + conv_params(3, c, c) + 2 * bn_params(c) + shortcut


def test_residual_shapes_from_the_notes():
    X = torch.randn(4, 3, 6, 6)
    assert run(Residual(3), X.shape).shape == torch.Size([4, 3, 6, 6])
    # The notes' Residual(6, use_1x1conv=True, strides=2) infers 3 input channels lazily;
    # with explicit layers the input channels are named.
    block = Residual(6, use_1x1conv=True, strides=2, in_channels=3)
    assert run(block, X.shape).shape == torch.Size([4, 6, 3, 3])


def test_residual_in_channels_defaults_to_num_channels():
    assert Residual(3).in_channels == 3
    assert n_params(Residual(3)) == residual_params(3, 3, False)
    assert n_params(Residual(6, True, 2, in_channels=3)) == residual_params(3, 6, True)


def test_residual_reports_input_channels_it_was_not_built_for():
    block = Residual(6, use_1x1conv=True, strides=2)  # in_channels defaults to 6
    with pytest.raises(ValueError, match=r"\(N, 6, H, W\).*\(4, 3, 6, 6\).*in_channels=3"):
        block(torch.randn(4, 3, 6, 6))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*\(3, 6, 6\)"):
        block(torch.randn(3, 6, 6))


def test_residual_without_1x1conv_cannot_change_shape():
    with pytest.raises(ValueError, match="3 channels to 6 .*strides=1.*use_1x1conv=True"):
        Residual(6, in_channels=3)
    with pytest.raises(ValueError, match="strides=2"):
        Residual(6, strides=2)


def test_resnet18_summary_is_the_one_in_the_notes():
    assert summary(resnet18(), (1, 1, 96, 96)) == [
        line("Sequential", 1, 64, 24, 24),
        line("Sequential", 1, 64, 24, 24),
        line("Sequential", 1, 128, 12, 12),
        line("Sequential", 1, 256, 6, 6),
        line("Sequential", 1, 512, 3, 3),
        line("Sequential", 1, 10),
    ]


def test_resnet18_parameters_follow_the_architecture():
    expected = conv_params(7, 1, 64) + bn_params(64)
    c_in = 64
    for i, (num_residuals, c) in enumerate(resnet_module.RESNET18_ARCH):
        for j in range(num_residuals):
            downsample = j == 0 and i > 0
            expected += residual_params(c_in, c, use_1x1conv=downsample)
            c_in = c
    expected += linear_params(c_in, 10)
    model = resnet18()
    assert model.num_parameters() == expected
    # 1 stem conv + 4 stages x 2 blocks x 2 convs + 1 linear = 18 weighted layers on the main path
    main_path = [
        m
        for n, m in model.named_modules()
        if isinstance(m, (nn.Conv2d, nn.Linear)) and not n.endswith("conv3")
    ]
    assert len(main_path) == 18


def test_resnet_rejects_a_first_stage_that_changes_channels():
    with pytest.raises(ValueError, match="stem's 64 channels.*asks for 32"):
        ResNet(((2, 32), (2, 64)))


def test_resnext_grouped_conv_has_the_grouped_parameter_count():
    c_in, c, groups, bot_mul = 16, 32, 4, 0.5
    block = ResNeXtBlock(c_in, c, groups, bot_mul, use_1x1conv=True, strides=2)
    b = round(c * bot_mul)
    assert block.conv2.groups == groups
    assert n_params(block.conv2) == 3 * 3 * (b // groups) * b + b
    expected = (
        conv_params(1, c_in, b)
        + conv_params(3, b, b, groups)
        + conv_params(1, b, c)
        + conv_params(1, c_in, c)
        + bn_params(b) * 2
        + bn_params(c) * 2
    )
    assert n_params(block) == expected
    assert run(block, (2, c_in, 9, 9)).shape == (2, c, 5, 5)


def test_resnext_block_is_the_books_example():
    # The book's ResNeXtBlock(32, 16, 1) means 16 channels *per group*: 32 / 16 = 2 groups.
    block = resnext_block()
    assert block.conv2.groups == block.bot_channels // 16 == 2
    assert run(block, (4, 32, 96, 96)).shape == (4, 32, 96, 96)


@pytest.mark.parametrize("groups, bot_mul", [(3, 1.0), (5, 0.25), (0, 1.0)])
def test_resnext_rejects_groups_that_do_not_divide_the_bottleneck(groups, bot_mul):
    bot = round(32 * bot_mul)
    with pytest.raises(ValueError, match=rf"= {bot} must be .* groups={groups}"):
        ResNeXtBlock(32, 32, groups, bot_mul)
