"""Finding Fashion-MNIST on disk, caching it safely, and loading a split once per process.

Where the files are looked for, in order (the first place whose files verify wins):

1. ``root=`` when given, else the ``CNNLIB_DATA`` environment variable;
2. the user cache, :func:`cache_dir` (``CNNLIB_CACHE``, else
   ``$XDG_CACHE_HOME/cnnlib/fashion-mnist``, else ``~/.cache/cnnlib/fashion-mnist``);
3. :data:`SYSTEM_DIR`, where Debian's ``dataset-fashion-mnist`` package puts them;
4. a download through torchvision, unless ``download=False`` or ``CNNLIB_OFFLINE=1``.

Each place may hold the files gzipped or not, directly or in torchvision's layout
``<place>/FashionMNIST/raw/``. A place that verifies and is not the cache is copied
into the cache, decompressed, so the next load skips the gunzip.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import torch

from cnnlib._atomic import atomic_write_bytes
from cnnlib.data.idx import (
    EXPECTED,
    IdxError,
    IdxSpec,
    read_verified,
    split_files,
    to_tensor,
)

log = logging.getLogger(__name__)

#: Where ``apt-get install dataset-fashion-mnist`` installs the four official .gz files.
#: Tests point this at a temporary folder with ``monkeypatch.setattr``.
SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")

_TRUTHY = {"1", "true", "yes", "on"}

# load_split's per-process memo: lookup key -> (images (N, 28, 28) uint8, labels (N,) int64).
_MEMO: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}


class DatasetNotFoundError(FileNotFoundError):
    """No location held a Fashion-MNIST split that verified.

    Attributes:
        split: ``"train"`` or ``"test"``.
        attempts: ``(location, problem)`` pairs, in the order they were tried.
    """

    def __init__(self, split: str, attempts: list[tuple[str, str]]):
        self.split = split
        self.attempts = attempts
        tried = "\n".join(f"  {i}. {where}: {problem}" for i, (where, problem) in
                          enumerate(attempts, start=1))
        super().__init__(
            f"Fashion-MNIST ({split} split) was not found. Places tried, in order:\n{tried}\n"
            "Any one of these fixes it:\n"
            "  - set CNNLIB_DATA (or pass root=...) to a folder that holds the four files "
            "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
            "t10k-labels-idx1-ubyte (each may end in .gz);\n"
            "  - sudo apt-get install dataset-fashion-mnist;\n"
            "  - connect to the internet so torchvision can download them "
            "(and leave CNNLIB_OFFLINE unset)."
        )


def cache_dir() -> Path:
    """The folder that holds verified, decompressed copies of the files.

    ``CNNLIB_CACHE`` names it directly (tests point it at a temporary folder);
    otherwise it is ``cnnlib/fashion-mnist`` under ``$XDG_CACHE_HOME`` or ``~/.cache``.
    """
    if os.environ.get("CNNLIB_CACHE"):
        return Path(os.environ["CNNLIB_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cnnlib" / "fashion-mnist"


def clear_memo() -> None:
    """Forget the splits loaded in this process (frees their memory; the disk cache stays)."""
    _MEMO.clear()


def load_split(
    train: bool, root: str | os.PathLike | None = None, *, download: bool | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load one Fashion-MNIST split, verified, from the first place that has it.

    The result is memoized per process: a second call with the same lookup costs a copy.

    Args:
        train: the 60000-example training split if True, else the 10000-example test split.
        root: folder to look in first; defaults to the ``CNNLIB_DATA`` environment variable.
        download: allow a torchvision download as the last resort. ``None`` means yes
            unless the ``CNNLIB_OFFLINE`` environment variable is set to 1.

    Returns:
        ``(images, labels)``: uint8 images of shape (N, 28, 28) with values 0..255 and
        int64 labels of shape (N,) with values 0..9. They are copies, safe to modify.

    Raises:
        DatasetNotFoundError: no place verified; the message lists each place tried,
            what was wrong there, and the three fixes.
    """
    images, labels = _load(train, root, download)[1:]
    return images.clone(), labels.clone()


def _load(
    train: bool, root: str | os.PathLike | None, download: bool | None
) -> tuple[tuple, torch.Tensor, torch.Tensor]:
    """:func:`load_split` without the defensive copy; also returns the memo key."""
    specs = tuple(EXPECTED[name] for name in split_files(train))
    places = _places(root)
    cache = cache_dir()
    # The key holds everything the answer depends on, so a changed root, cache or
    # expected-digest table (as in tests) is a fresh lookup rather than a stale hit.
    key = (bool(train), tuple((label, str(path)) for label, path in places), str(cache), specs)
    if key not in _MEMO:
        _MEMO[key] = _find(train, specs, places, cache, download)
    images, labels = _MEMO[key]
    return key, images, labels


def _places(root: str | os.PathLike | None) -> list[tuple[str, Path]]:
    """The on-disk places to try, as ``(description, path)`` in priority order."""
    places = []
    if root is not None:
        places.append(("root argument", Path(root).expanduser()))
    elif os.environ.get("CNNLIB_DATA"):
        places.append(("CNNLIB_DATA", Path(os.environ["CNNLIB_DATA"]).expanduser()))
    places.append(("user cache", cache_dir()))
    places.append(("system folder (dataset-fashion-mnist)", SYSTEM_DIR))
    return places


def _find(
    train: bool,
    specs: tuple[IdxSpec, ...],
    places: list[tuple[str, Path]],
    cache: Path,
    download: bool | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    split = "train" if train else "test"
    attempts: list[tuple[str, str]] = []
    for label, path in places:
        try:
            found = _read_place(path, specs)
        except IdxError as err:
            attempts.append((f"{label} {path}", str(err)))
            continue
        log.info("Fashion-MNIST %s split: verified in %s %s", split, label, path)
        if attempts and attempts[0][0].startswith(("root argument", "CNNLIB_DATA")):
            warnings.warn(f"Fashion-MNIST: ignored {attempts[0][0]} ({attempts[0][1]}); "
                          f"using {label} {path} instead", stacklevel=4)
        if path != cache:
            _write_cache(cache, found)
        return _tensors(found, specs)

    if download is None:
        download = os.environ.get("CNNLIB_OFFLINE", "").strip().lower() not in _TRUTHY
    if not download:
        attempts.append(("download through torchvision", "skipped (download=False or "
                                                         "CNNLIB_OFFLINE=1)"))
        raise DatasetNotFoundError(split, attempts)
    try:
        found = _download(train, specs, cache)
    except Exception as err:  # noqa: BLE001 -- any failure is reported in the one clear error
        attempts.append(("download through torchvision", f"failed: {err}"))
        raise DatasetNotFoundError(split, attempts) from err
    log.info("Fashion-MNIST %s split: downloaded through torchvision", split)
    return _tensors(found, specs)


def _tensors(found: dict[str, bytes], specs: tuple[IdxSpec, ...]) -> tuple[torch.Tensor, ...]:
    images_spec, labels_spec = specs
    return to_tensor(found[images_spec.name], images_spec), to_tensor(
        found[labels_spec.name], labels_spec)


def _read_place(path: Path, specs: tuple[IdxSpec, ...]) -> dict[str, bytes]:
    """Read and verify one split's files at ``path`` or in its ``FashionMNIST/raw``.

    Returns:
        The decompressed, verified bytes of each file, by name.

    Raises:
        IdxError: naming, per file, what was wrong (missing, truncated, ...).
    """
    if not path.is_dir():
        raise IdxError("missing (no such folder)")
    problems = []
    for folder in (path, path / "FashionMNIST" / "raw"):
        if folder != path and not folder.is_dir():
            continue
        try:
            return {spec.name: _read_file(folder, spec) for spec in specs}
        except IdxError as err:
            # Name the torchvision sub-folder so the reader knows which copy failed.
            prefix = "" if folder == path else "in FashionMNIST/raw: "
            problems.append(prefix + str(err))
    raise IdxError("; ".join(problems))


def _read_file(folder: Path, spec: IdxSpec) -> bytes:
    """Return the first of ``name`` / ``name.gz`` in ``folder`` that verifies."""
    problems = []
    for name in (spec.name, spec.name + ".gz"):
        file = folder / name
        if not file.is_file():
            continue
        try:
            # Verified while it streams in, before anything touches the cache; memory is
            # bounded by the real file's size, whatever this one inflates to.
            return read_verified(file, spec)
        except IdxError as err:
            problems.append(f"{name}: {err}")
        except OSError as err:
            problems.append(f"{name}: unreadable ({err.strerror or err})")
    if not problems:
        raise IdxError(f"{spec.name}[.gz]: missing")
    raise IdxError("; ".join(problems))


def _write_cache(cache: Path, found: dict[str, bytes]) -> None:
    """Copy verified files into the cache atomically; warn (not fail) if it cannot."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        for name, data in found.items():
            atomic_write_bytes(cache / name, data)
    except OSError as err:
        warnings.warn(f"Fashion-MNIST: could not write the cache {cache} ({err}); "
                      "loading from the source folder each time instead", stacklevel=5)


def _download(train: bool, specs: tuple[IdxSpec, ...], cache: Path) -> dict[str, bytes]:
    """Download with torchvision into a temporary folder, verify, cache, clean up."""
    import torchvision  # imported here: it is slow to import and rarely needed

    try:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=cache))
    except OSError:
        tmp = Path(tempfile.mkdtemp(prefix="cnnlib-fashion-mnist-"))
    try:
        torchvision.datasets.FashionMNIST(root=str(tmp), train=train, download=True)
        found = _read_place(tmp, specs)
        _write_cache(cache, found)
        # torchvision fetches both splits; keep the other one too if it verifies.
        other = tuple(EXPECTED[name] for name in split_files(not train))
        with contextlib.suppress(IdxError):
            _write_cache(cache, _read_place(tmp, other))
        return found
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
