"""Fashion-MNIST: find and verify the files, load each split once, resize once, batch fast.

Typical use, as in D2L::

    from cnnlib.data import FashionMNIST

    data = FashionMNIST(batch_size=128, resize=96)
    for X, y in data.get_dataloader(train=True):  # X (128, 1, 96, 96) float32, y (128,)
        ...

Environment variables: ``CNNLIB_DATA`` (a folder with the four IDX files, looked
in first), ``CNNLIB_CACHE`` (the cache folder), ``CNNLIB_OFFLINE=1`` (never download).

Modules: :mod:`~cnnlib.data.idx` (the file format and its checks),
:mod:`~cnnlib.data.locate` (where the files are looked for, the cache, ``load_split``),
:mod:`~cnnlib.data.fashion` (labels, resizing, batches, ``FashionMNIST``).
"""

from cnnlib.data.fashion import (
    LABELS,
    Batches,
    FashionMNIST,
    ImageDataset,
    clear_resized,
    stratified_subset,
    text_labels,
)
from cnnlib.data.idx import EXPECTED, IdxSpec
from cnnlib.data.locate import DatasetNotFoundError, cache_dir, clear_memo, load_split

__all__ = [
    "EXPECTED",
    "LABELS",
    "Batches",
    "DatasetNotFoundError",
    "FashionMNIST",
    "IdxSpec",
    "ImageDataset",
    "cache_dir",
    "clear_memo",
    "clear_resized",
    "load_split",
    "stratified_subset",
    "text_labels",
]
