"""VGG: networks built from repeated blocks of 3x3 convolutions (D2L section 8.2).

Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition" (ICLR 2015). See https://d2l.ai/chapter_convolutional-modern/vgg.html.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from cnnlib.models.base import Classifier, dense_head, divide_width, init_cnn

INPUT_SIZE = 224
"""Image side length (pixels) the book feeds VGG: Fashion-MNIST resized to 224x224."""

VGG11_ARCH: tuple[tuple[int, int], ...] = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
"""(num_convs, out_channels) per block: configuration "A" of the paper's Table 1."""


def vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Sequential:
    """``num_convs`` 3x3 convolutions with ReLU, then a 2x2 max-pool that halves height and width.

    The book's ``vgg_block(num_convs, out_channels)`` uses ``nn.LazyConv2d`` and
    learns the input channels on the first forward pass; here they are given
    explicitly so the parameter count is known as soon as the block is built.

    Args:
        num_convs: how many convolutions the block stacks.
        in_channels: channels of the block's input ``(N, in_channels, H, W)``.
        out_channels: channels of every convolution in the block.

    Returns:
        A block mapping ``(N, in_channels, H, W)`` to ``(N, out_channels, H // 2, W // 2)``.
    """
    if num_convs < 1:
        raise ValueError(f"a VGG block needs at least one convolution, got num_convs={num_convs}")
    layers: list[nn.Module] = []
    for i in range(num_convs):
        # Padding 1 keeps height and width, so only the pooling layer downsamples.
        layers.append(
            nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1)
        )
        layers.append(nn.ReLU())
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


class VGG(Classifier):
    """VGG: a stack of VGG blocks, then three fully connected layers with dropout.

    ``net`` holds one ``Sequential`` per block, then ``Flatten`` and the dense
    head, so ``layer_summary`` prints the book's listing line by line.

    Args:
        arch: ``(num_convs, out_channels)`` for each block.
        in_channels: image channels (1 for Fashion-MNIST).
        num_classes: size of the output.
        input_size: image side length; every block halves it (rounding down), which
            fixes the first dense layer's input size: ``channels * (input_size // 2**blocks)**2``.
        hidden_size: width of the two hidden dense layers (4096 in the paper and the book).

    Shapes:
        ``(N, in_channels, input_size, input_size)`` -> ``(N, num_classes)``.
    """

    def __init__(
        self,
        arch: Sequence[tuple[int, int]],
        in_channels: int = 1,
        num_classes: int = 10,
        input_size: int = INPUT_SIZE,
        hidden_size: int = 4096,
    ) -> None:
        super().__init__()
        if len(arch) == 0:
            raise ValueError("arch must list at least one (num_convs, out_channels) block")
        side = input_size // 2 ** len(arch)
        if side < 1:
            raise ValueError(
                f"input_size={input_size} is too small for {len(arch)} blocks that each halve it; "
                f"use input_size >= {2 ** len(arch)}"
            )
        blocks = []
        channels = in_channels
        for num_convs, out_channels in arch:
            blocks.append(vgg_block(num_convs, channels, out_channels))
            channels = out_channels
        self.net = nn.Sequential(
            *blocks,
            nn.Flatten(),
            # Two wide dense layers with dropout 0.5, as in the paper (Section 3.1).
            *dense_head(channels * side * side, hidden_size, num_classes),
        )
        self.net.apply(init_cnn)


def vgg11(
    num_classes: int = 10,
    width_divisor: int = 1,
    input_size: int = INPUT_SIZE,
    hidden_size: int = 4096,
    in_channels: int = 1,
) -> VGG:
    """VGG-11 (8 convolutions + 3 dense layers); ``width_divisor=4`` is the book's trained model.

    ``width_divisor`` divides the convolution channels only; the dense layers
    keep ``hidden_size`` (4096, as the book does for its ÷4 model).
    """
    arch = tuple((n, divide_width(c, width_divisor)) for n, c in VGG11_ARCH)
    return VGG(arch, in_channels, num_classes, input_size, hidden_size)
