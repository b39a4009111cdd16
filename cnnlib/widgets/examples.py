"""The test images the chapter-8 explorers offer: one of each class, as the networks saw them.

Each network was trained at its own resolution (AlexNet 67 px, VGG 32, NiN 112, ...), so an
explorer must feed it the test image resized exactly as training resized it. These helpers
take the first test image of each class from the test split (the same ten images in every
section, so a reader can follow one coat through every network) and resize them with the
data module's own resizer.
"""

from __future__ import annotations

import ipywidgets as widgets
import torch

from cnnlib import data
from cnnlib.data.fashion import _resize_chunk


def first_of_each_class(labels: torch.Tensor) -> list[int]:
    """Index of the first image of each class, in class order (``labels`` as in the split)."""
    first: dict[int, int] = {}
    for i, label in enumerate(labels.tolist()):
        first.setdefault(label, i)
    return [first[c] for c in sorted(first)]


def example_images(side: int = 28, indices: list[int] | None = None, root: str | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """Test images as a network trained at ``side`` pixels sees them.

    Args:
        side: the image side the network was trained on (``FashionMNIST(resize=side)``).
        indices: test-split indices; default: the first image of each class.
        root: passed to :func:`cnnlib.data.load_split`.

    Returns:
        ``(X, y, indices)``: float32 images ``(N, 1, side, side)`` in [0, 1], the
        labels ``(N,)`` and the indices used.

    Raises:
        cnnlib.data.DatasetNotFoundError: when Fashion-MNIST cannot be found.
    """
    images, labels = data.load_split(train=False, root=root)
    if indices is None:
        indices = first_of_each_class(labels)
    index = torch.tensor(indices, dtype=torch.int64)
    chosen = images[index]  # (N, 28, 28) uint8
    if side != chosen.shape[-1]:
        chosen = _resize_chunk(chosen, (side, side))  # as FashionMNIST(resize=side) does
    return chosen.unsqueeze(1).float().div_(255), labels[index], list(indices)


def example_menu(labels: torch.Tensor, indices: list[int], description: str = "image"
                 ) -> widgets.Dropdown:
    """A dropdown of the example images, labelled ``'#i coat'``; its value is the position."""
    options = [(f"#{i} {data.LABELS[int(y)]}", k)
               for k, (i, y) in enumerate(zip(indices, labels.tolist(), strict=True))]
    return widgets.Dropdown(options=options, value=0, description=description)
