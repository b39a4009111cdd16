"""Fashion-MNIST held in memory: text labels, resize once, fast batches cut from tensors.

D2L's ``FashionMNIST`` resizes every image with PIL each time it is drawn, in every
epoch. Here the whole split lives in one uint8 tensor, each image is resized at most
once per resolution per process (in batched chunks), and a batch is an index into
that tensor converted to float. The resized store stays uint8 so large resolutions
fit in memory: the 60000 training images take 0.55 GB at 96x96 and 3.0 GB at 224x224,
the 10000 validation images a sixth of that again; as float32 they would take four
times as much.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Sequence

import torch
import torch.nn.functional as F

from cnnlib.data.idx import NUM_CLASSES
from cnnlib.data.locate import _load

#: The ten classes, indexed by label value, in D2L's spelling.
LABELS = ("t-shirt", "trouser", "pullover", "dress", "coat",
          "sandal", "shirt", "sneaker", "bag", "ankle boot")

#: Images resized per call of :func:`_resize_chunk`; bounds the float scratch memory.
RESIZE_CHUNK = 2048

Batch = tuple[torch.Tensor, torch.Tensor]


def text_labels(indices: Iterable[int] | torch.Tensor) -> list[str]:
    """Class names for label values, e.g. ``text_labels([0, 9]) == ['t-shirt', 'ankle boot']``.

    Args:
        indices: label values in 0..9 (a list, or a tensor of any shape, read flat).

    Raises:
        ValueError: a value is outside 0..9.
    """
    values = indices.flatten().tolist() if isinstance(indices, torch.Tensor) else list(indices)
    bad = [v for v in values if not 0 <= int(v) < NUM_CLASSES]
    if bad:
        raise ValueError(f"label values must be in 0..{NUM_CLASSES - 1}, got {bad[:5]}")
    return [LABELS[int(v)] for v in values]


def stratified_subset(labels: torch.Tensor, size: int, seed: int = 0) -> torch.Tensor:
    """Choose ``size`` examples at random, keeping the classes as balanced as possible.

    Classes are dealt round-robin from a seeded shuffle, so with 10 balanced classes
    the counts per class differ by at most one.

    Args:
        labels: int64 labels, shape (N,).
        size: how many examples to keep, 1..N.
        seed: the shuffle's seed; the same seed gives the same subset.

    Returns:
        Sorted int64 indices into ``labels``, shape (size,).
    """
    n = labels.numel()
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    shuffled = labels[perm]
    rank = torch.empty(n, dtype=torch.int64)  # position of each example within its class
    for c in shuffled.unique():
        members = (shuffled == c).nonzero().squeeze(1)
        rank[members] = torch.arange(members.numel())
    # Deal by rank first (one of each class per round), ties by shuffle position.
    order = torch.argsort(rank * n + torch.arange(n))
    return perm[order[:size]].sort().values


def _resize_chunk(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize uint8 images (B, H0, W0) to (B, *size) as torchvision's Resize does.

    On a uint8 tensor torchvision calls PyTorch's bilinear interpolation with antialiasing
    (which matches PIL, D2L's resizer, to within one gray level) and stays uint8; so does
    this, bit for bit. Older torchvision (0.19) does so only where the CPU reports AVX2:
    on AVX512 it goes through float32 and rounds, which moves some pixels by one gray level.
    """
    out = F.interpolate(images.unsqueeze(1), size=size, mode="bilinear",  # (B, 1, H0, W0)
                        antialias=True, align_corners=False)
    return out.squeeze(1)  # (B, H, W)


class _ResizedStore:
    """One split at one resolution, filled in lazily so a subset resizes only its images.

    ``images`` is allocated for the whole split but only rows marked in ``done``
    are valid; untouched rows cost no physical memory on common operating systems.
    """

    def __init__(self, source: torch.Tensor, size: tuple[int, int]):
        self.source = source  # (N, 28, 28) uint8
        self.size = size
        self.images = torch.empty((source.shape[0], *size), dtype=torch.uint8)  # (N, H, W)
        self.done = torch.zeros(source.shape[0], dtype=torch.bool)

    def take(self, indices: torch.Tensor | None) -> torch.Tensor:
        """Images at ``indices`` (all when None), resizing those not resized yet."""
        wanted = torch.arange(self.done.numel()) if indices is None else indices
        missing = wanted[~self.done[wanted]]
        # split() of an empty tensor still yields one (empty) chunk, hence the guard.
        for chunk in missing.split(RESIZE_CHUNK) if missing.numel() else ():
            self.images[chunk] = _resize_chunk(self.source[chunk], self.size)
            self.done[chunk] = True
        return self.images if indices is None else self.images[indices]


# (split lookup key, (H, W)) -> store; shared by every FashionMNIST in the process.
_RESIZED: dict[tuple, _ResizedStore] = {}


def clear_resized() -> None:
    """Forget every resized copy made in this process (frees their memory)."""
    _RESIZED.clear()


class Batches:
    """A reusable, DataLoader-like iterable of ``(X, y)`` batches over in-memory tensors.

    ``X`` is float32 of shape (B, 1, H, W) in [0, 1] and ``y`` int64 of shape (B,); the
    last batch may be smaller, so every example appears exactly once per pass.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int,
                 shuffle: bool, generator: torch.Generator | None = None):
        self.images = images  # (N, H, W) uint8
        self.labels = labels  # (N,) int64
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self) -> int:
        return math.ceil(self.labels.numel() / self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        n = self.labels.numel()
        if not self.shuffle:
            # Contiguous slices: no gather needed.
            for start in range(0, n, self.batch_size):
                stop = start + self.batch_size
                yield _to_float(self.images[start:stop]), self.labels[start:stop]
            return
        # Without a generator this draws from torch's global RNG, like a DataLoader,
        # so cnnlib.setup(seed) makes the order reproducible.
        order = torch.randperm(n, generator=self.generator)
        for idx in order.split(self.batch_size):
            yield _to_float(self.images.index_select(0, idx)), self.labels.index_select(0, idx)

    def __repr__(self) -> str:
        return (f"Batches(examples={self.labels.numel()}, batch_size={self.batch_size}, "
                f"batches={len(self)}, shuffle={self.shuffle})")


def _to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 (B, H, W) -> float32 (B, 1, H, W) in [0, 1], as ToTensor scales."""
    return images.unsqueeze(1).float().div_(255)


class ImageDataset(torch.utils.data.Dataset):
    """A map-style Dataset over uint8 images, converting one example at a time.

    For code that wants a real ``torch.utils.data.DataLoader``; holding float copies
    of a resized split would take four times the memory, so conversion is per item.
    Item ``i`` is ``(x, y)``: float32 (1, H, W) in [0, 1] and an int64 scalar.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor):
        self.images = images  # (N, H, W) uint8
        self.labels = labels  # (N,) int64

    def __len__(self) -> int:
        return self.labels.numel()

    def __getitem__(self, i: int) -> Batch:
        return self.images[i].unsqueeze(0).float().div_(255), self.labels[i]


def _check_int(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")
    return value


def _parse_resize(resize: None | int | Sequence[int]) -> tuple[int, int] | None:
    """None, an int or an (h, w) pair -> (h, w) or None."""
    if resize is None:
        return None
    if isinstance(resize, int) and not isinstance(resize, bool):
        resize = (resize, resize)
    if isinstance(resize, (str, bytes)) or not isinstance(resize, Sequence) or len(resize) != 2:
        raise TypeError(f"resize must be None, an int or an (h, w) pair, got {resize!r}")
    h, w = (_check_int("resize", v, 1) for v in resize)
    return h, w


class FashionMNIST:
    """Fashion-MNIST for training, with D2L's interface and in-memory batches.

    The training split is Fashion-MNIST's 60000 training images and the validation
    split its 10000 test images, as in D2L. Both are held as uint8 tensors
    (``train_images`` (n, H, W), ``train_labels`` (n,), and ``val_*``) that are shared
    with other instances at the same resolution: clone them before changing them.

    Args:
        batch_size: examples per batch.
        resize: None keeps 28x28; an int ``s`` gives s x s; a pair gives (h, w).
        root: folder to look for the files first (see :func:`load_split`).
        train_subset: keep only this many training examples (class-balanced, seeded).
        val_subset: keep only this many validation examples (class-balanced, seeded).
        seed: seed of the subsets (the batch shuffle uses ``generator`` or torch's RNG).
        download: allow a torchvision download (None: unless ``CNNLIB_OFFLINE=1``).

    Raises:
        ValueError: batch_size < 1, a resize side < 1, or a subset outside 1..split size.
        TypeError: an argument of the wrong type.
        DatasetNotFoundError: the files are not found anywhere.
    """

    num_classes = NUM_CLASSES

    def __init__(self, batch_size: int = 128, resize: None | int | Sequence[int] = None,
                 root: str | os.PathLike | None = None, train_subset: int | None = None,
                 val_subset: int | None = None, seed: int = 0, *,
                 download: bool | None = None):
        self.batch_size = _check_int("batch_size", batch_size, 1)
        size = _parse_resize(resize)
        for name, subset in (("train_subset", train_subset), ("val_subset", val_subset)):
            if subset is not None:
                _check_int(name, subset, 1)
        _check_int("seed", seed, 0)
        self.seed = seed
        self.train_images, self.train_labels, self.train_total = self._prepare(
            True, size, root, train_subset, seed, download)
        self.val_images, self.val_labels, self.val_total = self._prepare(
            False, size, root, val_subset, seed + 1, download)
        self.resolution = tuple(self.train_images.shape[1:])

    @staticmethod
    def _prepare(train: bool, size: tuple[int, int] | None, root: str | os.PathLike | None,
                 subset: int | None, seed: int,
                 download: bool | None) -> tuple[torch.Tensor, torch.Tensor, int]:
        """One split's (images (n, H, W), labels (n,), size of the full split)."""
        key, images, labels = _load(train, root, download)
        total = labels.numel()
        indices = None
        if subset is not None:
            if subset > total:
                name = "train_subset" if train else "val_subset"
                raise ValueError(f"{name}={subset} is larger than the split "
                                 f"({total} examples); use at most {total} or None")
            if subset < total:
                indices = stratified_subset(labels, subset, seed)
        if size is None or size == tuple(images.shape[1:]):
            return (images if indices is None else images[indices]), (
                labels if indices is None else labels[indices]), total
        store = _RESIZED.get((key, size))
        if store is None:
            store = _RESIZED[(key, size)] = _ResizedStore(images, size)
        return store.take(indices), (labels if indices is None else labels[indices]), total

    @property
    def num_train(self) -> int:
        return self.train_labels.numel()

    @property
    def num_val(self) -> int:
        return self.val_labels.numel()

    @property
    def num_train_batches(self) -> int:
        return math.ceil(self.num_train / self.batch_size)

    @property
    def num_val_batches(self) -> int:
        return math.ceil(self.num_val / self.batch_size)

    def train_batches(self, shuffle: bool = True,
                      generator: torch.Generator | None = None) -> Iterator[Batch]:
        """One epoch of training batches: X float32 (B, 1, H, W) in [0, 1], y int64 (B,)."""
        return iter(Batches(self.train_images, self.train_labels, self.batch_size,
                            shuffle, generator))

    def val_batches(self) -> Iterator[Batch]:
        """One pass over the validation split, in order; shapes as in ``train_batches``."""
        return iter(Batches(self.val_images, self.val_labels, self.batch_size, False))

    def get_dataloader(self, train: bool) -> Batches:
        """A reusable iterable with ``len()``, like D2L's: shuffled if ``train``."""
        if train:
            return Batches(self.train_images, self.train_labels, self.batch_size, True)
        return Batches(self.val_images, self.val_labels, self.batch_size, False)

    def train_dataloader(self) -> Batches:
        return self.get_dataloader(True)

    def val_dataloader(self) -> Batches:
        return self.get_dataloader(False)

    def dataset(self, train: bool) -> ImageDataset:
        """A ``torch.utils.data.Dataset`` of one split, for a real DataLoader."""
        if train:
            return ImageDataset(self.train_images, self.train_labels)
        return ImageDataset(self.val_images, self.val_labels)

    def text_labels(self, indices: Iterable[int] | torch.Tensor) -> list[str]:
        """Class names of label values (see the module-level :func:`text_labels`)."""
        return text_labels(indices)

    def __repr__(self) -> str:
        def part(n: int, total: int) -> str:
            return str(n) if n == total else f"{n} of {total}"

        h, w = self.resolution
        return (f"FashionMNIST(train={part(self.num_train, self.train_total)}, "
                f"val={part(self.num_val, self.val_total)}, resolution={h}x{w}, "
                f"batch_size={self.batch_size})")
