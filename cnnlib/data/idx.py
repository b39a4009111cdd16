"""The IDX file format of (Fashion-)MNIST: what the files must hold, and checking that they do.

An IDX file is a big-endian header followed by raw bytes. Images: magic 2051, then
the count, rows and columns as 32-bit integers (16 header bytes), then
``count * rows * cols`` pixels. Labels: magic 2049, the count (8 header bytes),
then ``count`` class indices.

Everything here works on the *decompressed* bytes. The Debian package
``dataset-fashion-mnist`` re-compressed the official files, so their ``.gz``
checksums differ from upstream while the content inside is identical; checking
the decompressed bytes accepts both.

:func:`read_verified` checks while it streams: the header is read and checked
before anything else is decompressed, and reading stops as soon as more bytes
come out than the spec allows. A small ``.gz`` that inflates to gigabytes (a
wrong file, or a decompression bomb) therefore costs at most the real file's
size in memory, never its own inflated size.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
NUM_CLASSES = 10


@dataclass(frozen=True)
class IdxSpec:
    """What one decompressed IDX file must contain.

    Attributes:
        name: file name without ``.gz``, e.g. ``"train-images-idx3-ubyte"``.
        magic: 2051 for images, 2049 for labels.
        count: number of examples.
        sha256: hex SHA-256 of the whole decompressed file.
        rows: image height (ignored for labels).
        cols: image width (ignored for labels).
    """

    name: str
    magic: int
    count: int
    sha256: str
    rows: int = 28
    cols: int = 28

    @property
    def is_images(self) -> bool:
        return self.magic == IMAGES_MAGIC

    @property
    def header_size(self) -> int:
        return 16 if self.is_images else 8

    @property
    def num_bytes(self) -> int:
        """Exact length of the decompressed file that this spec describes."""
        per_example = self.rows * self.cols if self.is_images else 1
        return self.header_size + self.count * per_example


# The digests were computed once, on the machine that wrote this module, from the
# files of Debian's `dataset-fashion-mnist` package:
#     zcat /usr/share/datasets/fashion-mnist/<name>.gz | sha256sum
# They are digests of the decompressed IDX bytes, so torchvision's download and
# the upstream .gz files (same content, different compression) verify too.
# Tests swap entries of this dict (monkeypatch.setitem) to describe small fixtures.
EXPECTED: dict[str, IdxSpec] = {
    spec.name: spec
    for spec in (
        IdxSpec("train-images-idx3-ubyte", IMAGES_MAGIC, 60000,
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        IdxSpec("train-labels-idx1-ubyte", LABELS_MAGIC, 60000,
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        IdxSpec("t10k-images-idx3-ubyte", IMAGES_MAGIC, 10000,
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        IdxSpec("t10k-labels-idx1-ubyte", LABELS_MAGIC, 10000,
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    )
}


def split_files(train: bool) -> tuple[str, str]:
    """Names (without ``.gz``) of the images and labels files of one split."""
    prefix = "train" if train else "t10k"
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


class IdxError(ValueError):
    """A file is not the IDX file it should be; the message is a short diagnosis."""


#: Bytes decompressed per step while streaming a file in.
CHUNK_SIZE = 1 << 20


def read_verified(path: Path, spec: IdxSpec) -> bytearray:
    """Read the IDX file at ``path`` (gunzipping a ``.gz``) and verify it against ``spec``.

    Streams the file: the header is checked from its first bytes, the body goes
    into one buffer of exactly ``spec.num_bytes``, and reading stops at the first
    byte beyond it. Memory is bounded by the size of the real file, whatever the
    file on disk inflates to.

    Returns:
        The decompressed, verified bytes (``spec.num_bytes`` of them).

    Raises:
        IdxError: naming the first problem found (wrong magic number or shape,
            truncated or too long, label out of range, checksum mismatch, a gzip
            stream cut short or corrupt).
        OSError: the file cannot be read.
    """
    gz = path.suffix == ".gz"
    try:
        with gzip.open(path, "rb") if gz else open(path, "rb") as stream:  # noqa: SIM115
            size_on_disk = None if gz else os.fstat(stream.fileno()).st_size
            header = stream.read(spec.header_size)
            _check_header(header, spec, len(header) if gz else size_on_disk)
            if size_on_disk is not None and size_on_disk > spec.num_bytes:
                raise IdxError(f"too long: expected {spec.num_bytes} bytes, got {size_on_disk}")
            data = bytearray(spec.num_bytes)
            data[: spec.header_size] = header
            view = memoryview(data)
            got = spec.header_size
            while got < spec.num_bytes:
                n = stream.readinto(view[got : min(got + CHUNK_SIZE, spec.num_bytes)])
                if not n:
                    break
                got += n
            view.release()
            if got < spec.num_bytes:
                raise IdxError(f"truncated: expected {spec.num_bytes} bytes, got {got}")
            if stream.read(1):  # at the end, this also checks the gzip CRC and length
                raise IdxError(
                    f"too long: more than the expected {spec.num_bytes} bytes "
                    "(reading stopped there)"
                )
    except EOFError:
        raise IdxError(f"truncated gzip stream ({path.stat().st_size} compressed bytes)") from None
    except (gzip.BadGzipFile, zlib.error) as err:
        raise IdxError(f"corrupt gzip data ({err})") from None
    _check_body(data, spec)
    return data


def _check_header(header: bytes, spec: IdxSpec, length: int) -> None:
    """Check the first ``spec.header_size`` bytes; ``length`` is the file's (known) length."""
    if len(header) < 8:
        raise IdxError(f"truncated: expected {spec.num_bytes} bytes, got {length}")
    magic, count = struct.unpack(">II", header[:8])
    if magic != spec.magic:
        raise IdxError(f"wrong magic number {magic} (expected {spec.magic})")
    if spec.is_images:
        if len(header) < 16:
            raise IdxError(f"truncated: expected {spec.num_bytes} bytes, got {length}")
        rows, cols = struct.unpack(">II", header[8:16])
        if (count, rows, cols) != (spec.count, spec.rows, spec.cols):
            raise IdxError(
                f"header says {count}x{rows}x{cols} images, "
                f"expected {spec.count}x{spec.rows}x{spec.cols}"
            )
    elif count != spec.count:
        raise IdxError(f"header says {count} labels, expected {spec.count}")


def _check_body(data: bytes | bytearray, spec: IdxSpec) -> None:
    """The checks on a file of exactly the right length: label range, then the checksum."""
    if not spec.is_images:
        top = max(memoryview(data)[spec.header_size :], default=0)
        if top >= NUM_CLASSES:
            raise IdxError(f"label value {top} out of range 0..{NUM_CLASSES - 1}")
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise IdxError(
            f"checksum mismatch: sha256 {digest[:12]}..., expected {spec.sha256[:12]}..."
        )


def verify(data: bytes | bytearray, spec: IdxSpec) -> None:
    """Check decompressed IDX bytes already in memory against ``spec``; hash last.

    Raises:
        IdxError: naming the first problem found (wrong magic number, wrong
            shape, truncated or too long, label out of range, checksum mismatch).
    """
    _check_header(bytes(data[: spec.header_size]), spec, len(data))
    if len(data) < spec.num_bytes:
        raise IdxError(f"truncated: expected {spec.num_bytes} bytes, got {len(data)}")
    if len(data) > spec.num_bytes:
        raise IdxError(f"too long: expected {spec.num_bytes} bytes, got {len(data)}")
    _check_body(data, spec)


def to_tensor(data: bytes | bytearray, spec: IdxSpec) -> torch.Tensor:
    """Turn verified IDX bytes into a tensor.

    Returns:
        uint8 images of shape (count, rows, cols), or int64 labels of shape (count,).
    """
    body = np.frombuffer(data, dtype=np.uint8, offset=spec.header_size)
    if spec.is_images:
        # np.frombuffer over bytes is read-only; torch.tensor copies into owned memory.
        return torch.tensor(body.reshape(spec.count, spec.rows, spec.cols))  # (N, H, W)
    return torch.tensor(body, dtype=torch.int64)  # (N,)
