"""Network in Network: 1x1 convolutions and global average pooling (D2L section 8.3).

Lin, Chen & Yan, "Network In Network" (ICLR 2014).
See https://d2l.ai/chapter_convolutional-modern/nin.html.
"""

from __future__ import annotations

from torch import nn

from cnnlib.models.base import Classifier, divide_width, init_cnn

INPUT_SIZE = 224
"""Image side length (pixels) the book feeds NiN: Fashion-MNIST resized to 224x224."""

INITS = ("xavier", "kaiming")
"""Weight initialisations NiN accepts: D2L's Xavier, or He (Kaiming) for ReLU networks."""

BLOCK_CHANNELS = (96, 256, 384)
"""Output channels of the three NiN blocks before the classifier block."""


def nin_block(
    in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int
) -> nn.Sequential:
    """One ordinary convolution followed by two 1x1 convolutions, each with ReLU.

    The 1x1 convolutions act as a small fully connected network applied at every
    pixel (the paper's "mlpconv" layer), mixing channels without touching space.
    The book names the stride argument ``strides``; we use PyTorch's ``stride``.

    Args:
        in_channels: channels of the input ``(N, in_channels, H, W)``.
        out_channels: channels of all three convolutions.
        kernel_size: window of the first convolution.
        stride: stride of the first convolution.
        padding: zero padding of the first convolution.

    Returns:
        A block mapping ``(N, in_channels, H, W)`` to ``(N, out_channels, H', W')`` where
        ``H' = (H + 2 * padding - kernel_size) // stride + 1`` (likewise ``W'``).
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1),
        nn.ReLU(),
    )


class NiN(Classifier):
    """NiN: AlexNet-like NiN blocks, no dense layers; the last block emits one channel per class.

    Global average pooling turns each class channel into a score, which removes
    the huge dense layers of AlexNet and VGG (Section 3.2 of the paper).

    Args:
        num_classes: size of the output (and channels of the last NiN block).
        in_channels: image channels (1 for Fashion-MNIST).
        block_channels: output channels of the first three NiN blocks.
        init: ``'xavier'`` (D2L's choice, ``init_cnn``) or ``'kaiming'``: He's
            initialisation for ReLU layers (normal, fan-in) with zero biases, which keeps
            the image-dependent part of the signal from shrinking layer after layer.
        class_bias: if set, the initial bias of the class block's last convolution;
            a positive value makes it unlikely that a class starts dead (section 8.3).
            ``None`` leaves that bias as ``init`` set it: PyTorch's default with
            ``'xavier'`` (which changes only the weights), zero with ``'kaiming'``.

    Shapes:
        ``(N, in_channels, H, W)`` -> ``(N, num_classes)`` for any ``H, W >= 67``
        (224 in the book).
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 1,
        block_channels: tuple[int, int, int] = BLOCK_CHANNELS,
        init: str = "xavier",
        class_bias: float | None = None,
    ) -> None:
        super().__init__()
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        if len(block_channels) != 3:
            raise ValueError(f"NiN has 3 feature blocks, got block_channels={block_channels}")
        c1, c2, c3 = block_channels
        self.net = nn.Sequential(
            nin_block(in_channels, c1, kernel_size=11, stride=4, padding=0),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nin_block(c1, c2, kernel_size=5, stride=1, padding=2),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nin_block(c2, c3, kernel_size=3, stride=1, padding=1),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Dropout(0.5),
            # One output channel per class; averaging it over space gives the class score.
            nin_block(c3, num_classes, kernel_size=3, stride=1, padding=1),
            nn.AdaptiveAvgPool2d((1, 1)),
            nn.Flatten(),
        )
        if init == "xavier":
            self.net.apply(init_cnn)
        else:
            self.net.apply(_init_kaiming)
        if class_bias is not None:
            # The class block's last convolution feeds the ReLU in front of the averaging.
            # A positive bias lifts every class's map, so that a class rarely begins with
            # a score of 0 for every image (and hence no gradient): it is not a guarantee,
            # as a strongly negative weight draw can still outweigh it.
            nn.init.constant_(self.class_block[4].bias, class_bias)

    @property
    def class_block(self) -> nn.Sequential:
        """The last NiN block: one output channel per class, averaged into the scores."""
        return self.net[7]


def _init_kaiming(module: nn.Module) -> None:
    """He initialisation for convolutions followed by ReLU, with zero biases."""
    if isinstance(module, nn.Conv2d):
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        nn.init.zeros_(module.bias)


def nin(
    num_classes: int = 10,
    width_divisor: int = 1,
    in_channels: int = 1,
    init: str = "xavier",
    class_bias: float | None = None,
) -> NiN:
    """The book's NiN; ``width_divisor`` divides the first three blocks' channels.

    ``init`` and ``class_bias`` change only the starting weights (see :class:`NiN`);
    the defaults are D2L's.
    """
    channels = tuple(divide_width(c, width_divisor) for c in BLOCK_CHANNELS)
    return NiN(num_classes, in_channels, channels, init=init, class_bias=class_bias)
