"""GoogLeNet: multi-branch Inception blocks (D2L section 8.4).

Szegedy et al., "Going Deeper with Convolutions" (CVPR 2015).
See https://d2l.ai/chapter_convolutional-modern/googlenet.html.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from cnnlib.models.base import Classifier, divide_width, init_cnn

INPUT_SIZE = 96
"""Image side length (pixels) the book feeds GoogLeNet: Fashion-MNIST resized to 96x96."""

InceptionConfig = tuple[int, tuple[int, int], tuple[int, int], int]
"""``(c1, c2, c3, c4)`` of one Inception block, as in :class:`Inception`."""

# The Inception blocks of stages 3, 4 and 5 (the paper's Table 1, columns
# "#1x1" to "pool proj"); stage 4 has five blocks, the others two.
B3: tuple[InceptionConfig, ...] = (
    (64, (96, 128), (16, 32), 32),
    (128, (128, 192), (32, 96), 64),
)
B4: tuple[InceptionConfig, ...] = (
    (192, (96, 208), (16, 48), 64),
    (160, (112, 224), (24, 64), 64),
    (128, (128, 256), (24, 64), 64),
    (112, (144, 288), (32, 64), 64),
    (256, (160, 320), (32, 128), 128),
)
B5: tuple[InceptionConfig, ...] = (
    (256, (160, 320), (32, 128), 128),
    (384, (192, 384), (48, 128), 128),
)


class Inception(nn.Module):
    """Four parallel branches whose outputs are stacked along the channel axis.

    Branches: a 1x1 convolution; 1x1 then 3x3; 1x1 then 5x5; 3x3 max-pool then
    1x1. The 1x1 convolutions before the 3x3 and 5x5 ones shrink the channels
    first, which keeps the wide windows affordable (Section 4 of the paper).

    Args:
        in_channels: channels of the input ``(N, in_channels, H, W)``.
        c1: output channels of branch 1.
        c2: ``(reduce, out)`` channels of branch 2's 1x1 and 3x3 convolutions.
        c3: ``(reduce, out)`` channels of branch 3's 1x1 and 5x5 convolutions.
        c4: output channels of branch 4's 1x1 convolution.

    Shapes:
        ``(N, in_channels, H, W)`` -> ``(N, out_channels, H, W)`` with
        ``out_channels = c1 + c2[1] + c3[1] + c4``: every branch keeps height and width.
    """

    def __init__(
        self,
        in_channels: int,
        c1: int,
        c2: tuple[int, int],
        c3: tuple[int, int],
        c4: int,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = c1 + c2[1] + c3[1] + c4
        self.b1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.b2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.b2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.b3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.b3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.b4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.b4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Run the four branches on ``X`` and concatenate them: ``(N, out_channels, H, W)``."""
        b1 = F.relu(self.b1_1(X))
        b2 = F.relu(self.b2_1(X))
        b2 = F.relu(self.b2_2(b2))
        b3 = F.relu(self.b3_1(X))
        b3 = F.relu(self.b3_2(b3))
        b4 = self.b4_1(X)
        b4 = F.relu(self.b4_2(b4))
        return torch.cat((b1, b2, b3, b4), dim=1)

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, out_channels={self.out_channels}"


def _scaled(config: InceptionConfig, width_divisor: int) -> InceptionConfig:
    """``config`` with every channel count divided by ``width_divisor``."""
    c1, (c2a, c2b), (c3a, c3b), c4 = config

    def w(c: int) -> int:
        return divide_width(c, width_divisor)

    return w(c1), (w(c2a), w(c2b)), (w(c3a), w(c3b)), w(c4)


def inception_stack(
    in_channels: int, configs: tuple[InceptionConfig, ...], width_divisor: int = 1
) -> list[Inception]:
    """Chain Inception blocks, each taking the previous block's output channels as input."""
    blocks = []
    for config in configs:
        blocks.append(Inception(in_channels, *_scaled(config, width_divisor)))
        in_channels = blocks[-1].out_channels
    return blocks


class GoogLeNet(Classifier):
    """GoogLeNet as in the book: stages ``b1`` .. ``b5`` and one dense layer.

    ``net`` is ``Sequential(b1, b2, b3, b4, b5, Linear)``, so ``layer_summary``
    prints six lines; at 96 pixels they end in ``(N, 1024)`` and ``(N, num_classes)``.
    In D2L's terms ``b1`` and ``b2`` are the stem, the Inception blocks of ``b3`` to
    ``b5`` (with the max-pools between them) the body, and the global average pooling
    and flatten at the end of ``b5`` plus the ``Linear`` layer the head.

    Args:
        num_classes: size of the output.
        in_channels: image channels (1 for Fashion-MNIST).
        width_divisor: divides every channel count (1 is the book's network).

    Shapes:
        ``(N, in_channels, H, W)`` -> ``(N, num_classes)`` for any ``H, W``: padded
        pooling never shrinks a side below 1 and global average pooling absorbs the rest
        (the book uses 96).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width_divisor: int = 1) -> None:
        super().__init__()

        def w(c: int) -> int:
            return divide_width(c, width_divisor)

        # b1: a 7x7 convolution and a max-pool, each halving height and width.
        b1 = nn.Sequential(
            nn.Conv2d(in_channels, w(64), kernel_size=7, stride=2, padding=3),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )
        # b2: a 1x1 then a 3x3 convolution (the paper's stem before the first Inception).
        b2 = nn.Sequential(
            nn.Conv2d(w(64), w(64), kernel_size=1),
            nn.ReLU(),
            nn.Conv2d(w(64), w(192), kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )
        b3_blocks = inception_stack(w(192), B3, width_divisor)
        b3 = nn.Sequential(*b3_blocks, nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
        b4_blocks = inception_stack(b3_blocks[-1].out_channels, B4, width_divisor)
        b4 = nn.Sequential(*b4_blocks, nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
        b5_blocks = inception_stack(b4_blocks[-1].out_channels, B5, width_divisor)
        # Global average pooling replaces the dense layers, as in NiN.
        b5 = nn.Sequential(*b5_blocks, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())
        self.net = nn.Sequential(
            b1, b2, b3, b4, b5, nn.Linear(b5_blocks[-1].out_channels, num_classes)
        )
        self.net.apply(init_cnn)


def googlenet(num_classes: int = 10, width_divisor: int = 1, in_channels: int = 1) -> GoogLeNet:
    """The book's GoogLeNet; ``width_divisor`` (1, 2, 4 or 8) divides every channel count."""
    return GoogLeNet(num_classes, in_channels, width_divisor)
