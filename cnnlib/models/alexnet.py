"""AlexNet, the network that won ImageNet 2012 (D2L section 8.1).

Krizhevsky, Sutskever & Hinton, "ImageNet Classification with Deep Convolutional
Neural Networks" (NeurIPS 2012). See https://d2l.ai/chapter_convolutional-modern/alexnet.html.
The book's single-tower version: one channel in, no local response normalisation.
"""

from __future__ import annotations

from torch import nn

from cnnlib.models.base import Classifier, dense_head, divide_width, init_cnn
from cnnlib.ops import conv_output_shape

INPUT_SIZE = 224
"""Image side length (pixels) the book feeds AlexNet: Fashion-MNIST resized to 224x224."""

CONV_CHANNELS = (96, 256, 384, 384, 256)
"""Output channels of the five convolutions (the paper's two GPU towers merged)."""


def feature_size(input_size: int) -> int:
    """Side length of AlexNet's last feature map for a square ``input_size`` image (5 at 224).

    Raises:
        ValueError: if the image is too small to survive the three max-pools.
    """
    try:
        side = conv_output_shape(input_size, 11, padding=1, stride=4)  # conv1
        for _ in range(3):  # pool1, pool2, pool3 (3x3, stride 2); conv2..conv5 keep the size
            side = conv_output_shape(side, 3, stride=2)
    except ValueError:
        raise ValueError(
            f"input_size={input_size} is too small for AlexNet's 11x11/4 convolution and three "
            "3x3/2 max-pools; use input_size >= 65"
        ) from None
    return side


class AlexNet(Classifier):
    """AlexNet: five convolutions, three max-pools, then three dense layers with dropout.

    ``net`` is flat (one layer per entry) so ``layer_summary`` prints the book's
    listing: at 224 pixels the last pool gives ``(N, 256, 5, 5)``, flattened to 6400.

    Args:
        num_classes: size of the output.
        in_channels: image channels (1 for Fashion-MNIST).
        input_size: image side length; it fixes the first dense layer's input size.
        conv_channels: output channels of the five convolutions.
        hidden_size: width of the two hidden dense layers (4096 in the paper).

    Shapes:
        ``(N, in_channels, input_size, input_size)`` -> ``(N, num_classes)``.
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 1,
        input_size: int = INPUT_SIZE,
        conv_channels: tuple[int, int, int, int, int] = CONV_CHANNELS,
        hidden_size: int = 4096,
    ) -> None:
        super().__init__()
        if len(conv_channels) != 5:
            raise ValueError(f"AlexNet has 5 convolutions, got conv_channels={conv_channels}")
        c1, c2, c3, c4, c5 = conv_channels
        side = feature_size(input_size)
        self.net = nn.Sequential(
            # A large 11x11 window with stride 4 shrinks the big input image quickly.
            nn.Conv2d(in_channels, c1, kernel_size=11, stride=4, padding=1),
            nn.ReLU(),
            # Overlapping pooling (3x3 window, stride 2), Section 3.4 of the paper.
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(c1, c2, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(c2, c3, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(c3, c4, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(c4, c5, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Flatten(),
            # Dropout 0.5 in the two hidden dense layers (Section 4.2 of the paper).
            *dense_head(c5 * side * side, hidden_size, num_classes),
        )
        self.net.apply(init_cnn)


def alexnet(
    num_classes: int = 10,
    width_divisor: int = 1,
    input_size: int = INPUT_SIZE,
    hidden_size: int = 4096,
    in_channels: int = 1,
) -> AlexNet:
    """The book's AlexNet; ``width_divisor`` divides the conv channels, not the dense layers."""
    channels = tuple(divide_width(c, width_divisor) for c in CONV_CHANNELS)
    return AlexNet(num_classes, in_channels, input_size, channels, hidden_size)
