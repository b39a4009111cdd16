"""Atomic file writes: readers see the old file or the whole new one, never half of it.

Every file the project writes for later (the data cache, checkpoints, run records,
the results page, benchmark records) goes through :func:`atomic_open`. The bytes go
to a temporary file in the target's folder (same filesystem, so the final rename is
atomic), are flushed to disk, and only then renamed over the target. On any error,
Ctrl-C included, the temporary file is removed and the target is left as it was.

Example::

    with atomic_open("runs/lenet_quick.json", "w") as handle:
        json.dump(record, handle)
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` when the ``with`` block succeeds.

    Args:
        path: the file to write; its folder is created if missing.
        mode: ``'wb'`` or ``'w'``.

    The file gets the mode ``open()`` would have given it (0666 minus the umask),
    not ``mkstemp``'s private 0600: everything written here is meant to be shared.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_dead_writers_parts(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".part",
                               dir=path.parent)
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    # Persist the rename itself; not every platform lets a folder be opened for this.
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON with a final newline, atomically; returns the path."""
    with atomic_open(path, "w") as handle:
        json.dump(obj, handle, indent=2)
        handle.write("\n")
    return Path(path)


def _remove_dead_writers_parts(path: Path) -> None:
    """Delete ``.<name>.<pid>.<random>.part`` files whose writer process has gone."""
    prefix = f".{path.name}."
    for part in path.parent.glob(f"{glob.escape(prefix)}*.part"):
        pid_text = part.name[len(prefix):].split(".", 1)[0]
        if not pid_text.isdigit() or process_exists(int(pid_text)):
            continue  # not ours to judge, or a writer still at work
        with contextlib.suppress(FileNotFoundError):
            part.unlink()


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0 checks existence only
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def _default_file_mode() -> int:
    """0666 minus the process umask: the mode ``open()`` would have given the file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
