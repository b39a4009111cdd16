"""ResNet and the ResNeXt block (D2L section 8.6).

He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition" (CVPR 2016);
Xie, Girshick, Dollár, Tu & He, "Aggregated Residual Transformations for Deep Neural
Networks" (CVPR 2017). See https://d2l.ai/chapter_convolutional-modern/resnet.html.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from cnnlib.models.base import Classifier, divide_width, init_cnn

INPUT_SIZE = 96
"""Image side length (pixels) the book feeds ResNet-18: Fashion-MNIST resized to 96x96."""

RESNET18_ARCH: tuple[tuple[int, int], ...] = ((2, 64), (2, 128), (2, 256), (2, 512))
"""(num_residuals, num_channels) per stage: 4 stages x 2 blocks x 2 convs + stem + head = 18."""


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding 1: keeps height and width when ``stride`` is 1."""
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution: mixes channels only (and subsamples when ``stride`` > 1)."""
    return nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride)


def _check_shortcut(in_channels: int, num_channels: int, use_1x1conv: bool, strides: int) -> None:
    """Without a 1x1 convolution the shortcut is X itself, so X must already have Y's shape."""
    if not use_1x1conv and (in_channels != num_channels or strides != 1):
        raise ValueError(
            f"an identity shortcut cannot map {in_channels} channels to {num_channels} with "
            f"strides={strides}; pass use_1x1conv=True so a 1x1 convolution reshapes X"
        )


def _check_input_channels(X: torch.Tensor, in_channels: int, block: str) -> None:
    """Catch the lazy-layer habit of the book: our blocks fix their input channels when built."""
    if X.dim() != 4:
        raise ValueError(f"{block} expects (N, C, H, W) input, got X.shape={tuple(X.shape)}")
    if X.shape[1] != in_channels:
        raise ValueError(
            f"{block} was built for (N, {in_channels}, H, W) input but got X.shape="
            f"{tuple(X.shape)}; build it with in_channels={X.shape[1]}"
        )


class Residual(nn.Module):
    """The residual block of ResNet: ``relu(F(X) + X)`` with ``F`` two 3x3 conv + batch norm.

    The signature keeps the book's call forms: ``Residual(3)`` and
    ``Residual(6, use_1x1conv=True, strides=2)``. The book's block uses lazy layers
    that discover the input channels on the first call; ours are built at once, so
    the input channels come from ``in_channels``, which defaults to ``num_channels``.
    ``Residual(3)`` on a ``(4, 3, 6, 6)`` input therefore works as written, while the
    downsampling block needs the input channels spelled out:
    ``Residual(6, use_1x1conv=True, strides=2, in_channels=3)``.

    Args:
        num_channels: output channels of both 3x3 convolutions (and of the block).
        use_1x1conv: put a 1x1 convolution on the shortcut so X can change channels
            and resolution to match ``F(X)`` (needed when the block changes either).
        strides: stride of the first 3x3 convolution and of the 1x1 shortcut; 2 halves
            height and width. Named as in the book.
        in_channels: channels of the input; ``None`` means ``num_channels``.

    Shapes:
        ``(N, in_channels, H, W)`` -> ``(N, num_channels, ceil(H / strides), ceil(W / strides))``.
    """

    def __init__(
        self,
        num_channels: int,
        use_1x1conv: bool = False,
        strides: int = 1,
        in_channels: int | None = None,
    ) -> None:
        super().__init__()
        in_channels = num_channels if in_channels is None else in_channels
        _check_shortcut(in_channels, num_channels, use_1x1conv, strides)
        self.in_channels = in_channels
        self.num_channels = num_channels
        self.conv1 = conv3x3(in_channels, num_channels, stride=strides)
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.conv2 = conv3x3(num_channels, num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)
        self.conv3 = conv1x1(in_channels, num_channels, stride=strides) if use_1x1conv else None

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """``(N, in_channels, H, W)`` -> ``(N, num_channels, H', W')``."""
        _check_input_channels(X, self.in_channels, "Residual")
        Y = self.conv1(X)
        Y = self.bn1(Y)
        Y = F.relu(Y)
        Y = self.conv2(Y)
        Y = self.bn2(Y)
        # The layers learn the residual F(X) = target - X (Section 3.1 of the paper). With
        # the ReLU after the addition the block computes relu(F(X) + X): when F(X) = 0
        # that is X for non-negative X (the output of an earlier ReLU), relu(X) otherwise.
        shortcut = X if self.conv3 is None else self.conv3(X)
        Y = Y + shortcut
        return F.relu(Y)


class ResNeXtBlock(nn.Module):
    """The ResNeXt block: 1x1 conv, grouped 3x3 conv, 1x1 conv, each with batch norm, + shortcut.

    The middle convolution splits its ``bot_channels`` into ``groups`` independent
    groups, so its cost and parameters shrink by that factor; the 1x1 convolutions
    around it mix information across groups again (Section 3.3 of the paper).

    ``groups`` here is **the number of groups**, passed straight to
    ``nn.Conv2d(groups=groups)``. D2L's code instead takes the *channels per group* in
    its ``groups`` argument and builds ``nn.Conv2d(groups=bot_channels // groups)``, so
    the book's ``ResNeXtBlock(32, 16, 1)`` (32 channels, 16 channels per group) is
    ``ResNeXtBlock(32, 32, groups=2, bot_mul=1)`` here. The explicit ``in_channels``
    comes first, so a book-style three-argument call fails loudly instead of silently
    meaning something else.

    Args:
        in_channels: channels of the input.
        num_channels: output channels of the block.
        groups: number of groups of the 3x3 convolution; must divide ``bot_channels``.
        bot_mul: bottleneck width as a fraction of ``num_channels``:
            ``bot_channels = round(num_channels * bot_mul)``.
        use_1x1conv: 1x1 convolution + batch norm on the shortcut (needed when the block
            changes channels or resolution).
        strides: stride of the 3x3 convolution and of the shortcut. Named as in the book.

    Shapes:
        ``(N, in_channels, H, W)`` -> ``(N, num_channels, ceil(H / strides), ceil(W / strides))``.
    """

    def __init__(
        self,
        in_channels: int,
        num_channels: int,
        groups: int,
        bot_mul: float,
        use_1x1conv: bool = False,
        strides: int = 1,
    ) -> None:
        super().__init__()
        bot_channels = int(round(num_channels * bot_mul))
        if groups < 1 or bot_channels < 1 or bot_channels % groups != 0:
            raise ValueError(
                f"bot_channels = round(num_channels * bot_mul) = round({num_channels} * "
                f"{bot_mul}) = {bot_channels} must be a positive multiple of groups={groups}; "
                "choose groups that divides it"
            )
        _check_shortcut(in_channels, num_channels, use_1x1conv, strides)
        self.in_channels = in_channels
        self.num_channels = num_channels
        self.groups = groups
        self.bot_channels = bot_channels
        self.conv1 = conv1x1(in_channels, bot_channels)
        self.bn1 = nn.BatchNorm2d(bot_channels)
        # Each of the `groups` groups sees bot_channels / groups inputs and produces as many.
        self.conv2 = nn.Conv2d(
            bot_channels, bot_channels, kernel_size=3, stride=strides, padding=1, groups=groups
        )
        self.bn2 = nn.BatchNorm2d(bot_channels)
        self.conv3 = conv1x1(bot_channels, num_channels)
        self.bn3 = nn.BatchNorm2d(num_channels)
        if use_1x1conv:
            self.conv4: nn.Conv2d | None = conv1x1(in_channels, num_channels, stride=strides)
            self.bn4: nn.BatchNorm2d | None = nn.BatchNorm2d(num_channels)
        else:
            self.conv4 = None
            self.bn4 = None

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """``(N, in_channels, H, W)`` -> ``(N, num_channels, H', W')``."""
        _check_input_channels(X, self.in_channels, "ResNeXtBlock")
        Y = self.conv1(X)
        Y = self.bn1(Y)
        Y = F.relu(Y)
        Y = self.conv2(Y)
        Y = self.bn2(Y)
        Y = F.relu(Y)
        Y = self.conv3(Y)
        Y = self.bn3(Y)
        shortcut = X
        if self.conv4 is not None and self.bn4 is not None:
            shortcut = self.conv4(X)
            shortcut = self.bn4(shortcut)
        Y = Y + shortcut
        return F.relu(Y)

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, num_channels={self.num_channels}, "
            f"groups={self.groups}, bot_channels={self.bot_channels}"
        )


def resnet_stage(
    in_channels: int, num_residuals: int, num_channels: int, first_block: bool = False
) -> nn.Sequential:
    """``num_residuals`` residual blocks; all but the first stage start by halving H and W.

    The first stage follows a max-pool that already downsampled, so it keeps the
    resolution and the channels (the book's ``block(..., first_block=True)``).
    """
    blocks = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blocks.append(
                Residual(num_channels, use_1x1conv=True, strides=2, in_channels=in_channels)
            )
        else:
            blocks.append(Residual(num_channels, in_channels=in_channels))
        in_channels = num_channels
    return nn.Sequential(*blocks)


class ResNet(Classifier):
    """ResNet: a GoogLeNet-like stem with batch norm, residual stages, pooling, a linear head.

    ``net`` is ``Sequential(b1, b2, ..., last)`` with one entry per stage, so
    ``layer_summary`` prints one ``Sequential`` line per stage as in the book.

    Args:
        arch: ``(num_residuals, num_channels)`` per residual stage.
        in_channels: image channels (1 for Fashion-MNIST).
        num_classes: size of the output.
        stem_channels: channels of the 7x7 stem convolution (64 in the paper). The first
            stage keeps the channels, so it needs ``arch[0][1] == stem_channels``.

    Shapes:
        ``(N, in_channels, H, W)`` -> ``(N, num_classes)`` for any ``H, W`` (96 in the book).
    """

    def __init__(
        self,
        arch: Sequence[tuple[int, int]],
        in_channels: int = 1,
        num_classes: int = 10,
        stem_channels: int = 64,
    ) -> None:
        super().__init__()
        if len(arch) == 0:
            raise ValueError("arch must list at least one (num_residuals, num_channels) stage")
        if arch[0][1] != stem_channels:
            raise ValueError(
                f"the first stage keeps the stem's {stem_channels} channels, but arch[0] asks "
                f"for {arch[0][1]}; make them equal"
            )
        stages: OrderedDict[str, nn.Module] = OrderedDict()
        # b1: 7x7/2 convolution and 3x3/2 max-pool, as in GoogLeNet, plus batch norm.
        stages["b1"] = nn.Sequential(
            nn.Conv2d(in_channels, stem_channels, kernel_size=7, stride=2, padding=3),
            nn.BatchNorm2d(stem_channels),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )
        channels = stem_channels
        for i, (num_residuals, num_channels) in enumerate(arch):
            stages[f"b{i + 2}"] = resnet_stage(channels, num_residuals, num_channels, i == 0)
            channels = num_channels
        stages["last"] = nn.Sequential(
            nn.AdaptiveAvgPool2d((1, 1)),
            nn.Flatten(),
            nn.Linear(channels, num_classes),
        )
        self.net = nn.Sequential(stages)
        self.net.apply(init_cnn)


def resnet18(num_classes: int = 10, width_divisor: int = 1, in_channels: int = 1) -> ResNet:
    """ResNet-18 as in the book; ``width_divisor`` divides every channel count."""
    arch = tuple((n, divide_width(c, width_divisor)) for n, c in RESNET18_ARCH)
    return ResNet(arch, in_channels, num_classes, stem_channels=divide_width(64, width_divisor))


def resnext_block(
    num_channels: int = 32,
    groups: int = 2,
    bot_mul: float = 1.0,
    use_1x1conv: bool = False,
    strides: int = 1,
    in_channels: int | None = None,
) -> ResNeXtBlock:
    """A ResNeXt block; the defaults are the book's example (32 channels in 2 groups of 16).

    ``in_channels`` defaults to ``num_channels``, as for :class:`Residual`.
    """
    in_channels = num_channels if in_channels is None else in_channels
    return ResNeXtBlock(in_channels, num_channels, groups, bot_mul, use_1x1conv, strides)
