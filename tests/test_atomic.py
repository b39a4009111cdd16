"""cnnlib._atomic: a write either replaces the whole file or leaves the old one untouched."""

import json
import os
import stat

import pytest

from cnnlib._atomic import atomic_open, atomic_write_bytes, atomic_write_json


def test_json_and_bytes_are_written_whole(tmp_path):
    target = tmp_path / "deeper" / "record.json"  # missing folders are created
    assert atomic_write_json(target, {"a": 1}) == target
    assert target.read_text() == '{\n  "a": 1\n}\n'
    assert json.loads(target.read_text()) == {"a": 1}
    atomic_write_bytes(target, b"raw")
    assert target.read_bytes() == b"raw"
    assert sorted(p.name for p in target.parent.iterdir()) == ["record.json"]


def test_files_get_the_mode_open_would_give(tmp_path):
    umask = os.umask(0o022)
    try:
        path = atomic_write_bytes(tmp_path / "shared.bin", b"x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not mkstemp's private 0600


@pytest.mark.parametrize("failure", ["in the block", "at the rename", "ctrl-c"])
def test_a_failed_write_keeps_the_old_file_and_leaves_nothing_else(tmp_path, monkeypatch,
                                                                     failure):
    target = tmp_path / "x.json"
    target.write_text("old")
    if failure == "at the rename":
        def broken_replace(src, dst):
            raise OSError("disk full")

        monkeypatch.setattr(os, "replace", broken_replace)
    error = KeyboardInterrupt if failure == "ctrl-c" else OSError
    with pytest.raises(error):
        with atomic_open(target, "w") as handle:
            handle.write("new, but only half")
            if failure == "in the block":
                raise OSError("disk full")
            if failure == "ctrl-c":
                raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_a_text_or_append_mode_other_than_w_is_refused(tmp_path):
    with pytest.raises(ValueError, match="mode must be 'w' or 'wb'"):
        with atomic_open(tmp_path / "x", "a"):
            pass


_WRITER = """
import sys, time
from cnnlib._atomic import atomic_open
with atomic_open(sys.argv[1], "wb") as handle:
    handle.write(b"x" * 100_000)
    handle.flush()
    print("writing", flush=True)
    time.sleep(60)  # killed (or finished by the test) long before this ends
"""


def _start_writer(target):
    import subprocess
    import sys

    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)],
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "writing"  # it is inside the with block
    return writer


def test_temp_files_of_killed_writers_are_removed_and_a_live_writers_kept(tmp_path):
    target = tmp_path / "checkpoint.pt"
    killed = [_start_writer(target) for _ in range(3)]  # three at once, all mid-write
    for writer in killed:
        writer.kill()  # SIGKILL: no cleanup code of the writer runs
        writer.wait()
    assert len(list(tmp_path.glob(".checkpoint.pt.*.part"))) == 3  # their leftovers
    live = _start_writer(target)
    try:
        atomic_write_bytes(target, b"new")
        left = [p.name for p in tmp_path.glob(".checkpoint.pt.*.part")]
        assert len(left) == 1 and f".{live.pid}." in left[0]  # only the live writer's remains
        assert target.read_bytes() == b"new"
    finally:
        live.kill()
        live.wait()
    atomic_write_bytes(target, b"newer")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]
