"""The test images the chapter-8 explorers offer: one of each class, as the networks saw them.

Each network was trained at its own resolution (AlexNet 67 px, VGG 32, NiN 112, ...), so an
explorer must feed it the test image resized exactly as training resized it. These helpers
take the first test image of each class from the test split (the same ten images in every
section, so a reader can follow one coat through every network) and resize them with the
data module's own resizer.
"""

from __future__ import annotations

import torch

from cnnlib import data
from cnnlib.data.fashion import _resize_chunk  # the data module's resizer, so pixels match


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
    return resize_images(images[index], side), labels[index], list(indices)


def resize_images(images: torch.Tensor, side: int) -> torch.Tensor:
    """uint8 images ``(N, 28, 28)`` as a network trained at ``side`` pixels sees them.

    Resized as ``FashionMNIST(resize=side)`` resizes them, bit for bit.

    Returns:
        float32 ``(N, 1, side, side)`` in [0, 1].

    Raises:
        TypeError: unless ``images`` is a uint8 tensor ``(N, H, W)``, like the test split.
        ValueError: for no images.
    """
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim != 3:
        raise TypeError("images must be a uint8 tensor (N, 28, 28), like the test split's; got "
                        f"{getattr(images, 'dtype', type(images).__name__)} "
                        f"{tuple(getattr(images, 'shape', ()))}")
    if images.shape[0] == 0:
        raise ValueError("images must hold at least one image")
    chosen = images if side == images.shape[-1] else _resize_chunk(images, (side, side))
    return chosen.unsqueeze(1).float().div_(255)


def given_or_examples(images: torch.Tensor | None, labels: object, side: int
                      ) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """``(X, labels, indices)`` at ``side``: the shared examples, or the given uint8 images."""
    if images is None:
        return example_images(side)
    if labels is None or len(labels) != images.shape[0]:
        raise ValueError(f"labels must be given with images, one per image; got "
                         f"{None if labels is None else len(labels)} for {images.shape[0]}")
    labels = torch.as_tensor(labels, dtype=torch.int64)
    return resize_images(images, side), labels, list(range(images.shape[0]))


def check_images(images: object, labels: torch.Tensor | None, name: str = "images") -> None:
    """Refuse anything but square grayscale float images ``(N, 1, H, H)`` and matching labels."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor (N, 1, H, W), got "
                        f"{type(images).__name__}")
    if images.ndim != 4 or images.shape[1] != 1 or images.shape[0] < 1 \
            or images.shape[2] != images.shape[3]:
        raise ValueError(f"{name} must be square grayscale images (N, 1, H, H) with N >= 1; "
                         f"got shape {tuple(images.shape)}")
    if labels is not None and tuple(labels.shape) != (images.shape[0],):
        raise ValueError(f"labels must have shape ({images.shape[0]},) to match the images; "
                         f"got {tuple(labels.shape)}")


def example_labels(labels: torch.Tensor | None, indices: list[int] | None = None,
                   count: int | None = None) -> list[str]:
    """The example menu's labels: ``'#i coat'`` for test image ``i`` of class coat, or
    ``'image k'`` for unlabelled images; the menu's values are the positions 0, 1, ...

    Args:
        labels: each image's class, or None for unlabelled images.
        indices: their test-split indices; default ``0, 1, ...``.
        count: how many images there are (needed only without labels).

    Raises:
        ValueError: without labels and count, or with indices that do not match labels.
    """
    if labels is None:
        if count is None:
            raise ValueError("example_labels needs labels or a count of images")
        return [f"image {k}" for k in range(count)]
    indices = list(range(len(labels))) if indices is None else list(indices)
    if len(indices) != len(labels):
        raise ValueError(f"indices must name {len(labels)} test images, got {len(indices)}")
    return [f"#{i} {data.LABELS[int(y)]}" for i, y in zip(indices, labels.tolist(), strict=True)]
