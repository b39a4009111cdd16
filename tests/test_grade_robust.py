"""The grader around the sandbox: refusing without one, surviving kill -9, Gradescope's zip.

* On a machine where no sandbox can start, grading refuses with a message that says what
  to install, unless the instructor asks for unisolated grading.
* A grader killed with SIGKILL in the middle of a batch leaves no sandbox process behind,
  and running it again gives every submission its row and leaves no temporary folder.
* The autograder zip (what Gradescope runs) still grades the solution with full marks under
  plain ``otter run``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from assignment_masters import find_masters, read_master  # noqa: E402
from build_assignments import build  # noqa: E402
from grade_assignments import grade_folder  # noqa: E402

from cnnlib.classroom import sandbox  # noqa: E402
from cnnlib.classroom.protocol import ProtocolError, decode, encode  # noqa: E402

MASTER = read_master(find_masters(["7_2"])[0])
needs_bwrap = pytest.mark.skipif(sandbox.bwrap_path() is None, reason="bubblewrap is missing")


def test_no_sandbox_means_a_clear_refusal(monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    with pytest.raises(sandbox.SandboxUnavailable) as error:
        sandbox.check_available()
    message = str(error.value)
    assert "apt-get install bubblewrap" in message and "--unisolated" in message


def test_a_sandbox_that_cannot_start_is_explained(monkeypatch, tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: str(fake))
    with pytest.raises(sandbox.SandboxUnavailable, match="Permission denied.*--unisolated"):
        sandbox.check_available()


def test_the_wire_refuses_what_is_not_data():
    with pytest.raises(ProtocolError, match="cannot travel"):
        encode(object())
    for bad in ({"$pickle": "gASV"}, {"$tensor": {"dtype": "float32", "shape": [2],
                                                  "data": "AAAA"}},
                {"$tensor": {"dtype": "object", "shape": [1], "data": ""}},
                {"$handle": 1}, {"$module": {"type": "os.system"}},
                {"$device": "nonsense"}):
        with pytest.raises(ProtocolError):
            decode(bad)
    # A reply that describes a layer is refused: the grader builds nothing from the sandbox's
    # settings (a Linear of 10**9 by 10**9 features would exhaust its memory).
    huge = {"$module": {"type": "torch.nn.Linear",
                        "config": encode({"in_features": 10**9, "out_features": 10**9})}}
    with pytest.raises(ProtocolError, match="unknown value form"):
        decode(huge)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("robust")
    return build(MASTER, out=tmp / "built", run_tests=False), tmp


@needs_bwrap
@pytest.mark.slow
def test_kill_9_leaves_nothing_and_a_second_run_grades_everything(built):
    folder, tmp = built
    subs = tmp / "killed"
    subs.mkdir()
    student = nbformat.read(folder / "student" / f"{MASTER.stem}.ipynb", as_version=4)
    asleep = nbformat.from_dict(student)
    asleep.cells.append(nbformat.v4.new_code_cell("import time\nwhile True:\n    time.sleep(1)"))
    for k in range(3):
        nbformat.write(asleep, subs / f"asleep{k}.ipynb")
    grades = tmp / "out" / "killed.csv"
    command = [sys.executable, str(ROOT / "scripts" / "grade_assignments.py"), MASTER.stem,
               str(subs), "--grades", str(grades), "--timeout", "60", "--workers", "2",
               "--built", str(tmp / "built")]
    grader = subprocess.Popen(command, env={**os.environ, "OMP_NUM_THREADS": "1"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # As root, the grader's sandboxes run as uids it draws at random: note each uid seen
    # below the grader while it runs, then look for any process still running as one.
    uids: set[int] = set()

    def sandboxed() -> list:
        try:
            below = {p.pid for p in psutil.Process(grader.pid).children(recursive=True)}
        except psutil.Error:
            below = set()
        found = []
        for proc in psutil.process_iter(["uids", "cmdline"]):
            info = proc.info
            uid = info["uids"].real if info["uids"] else None
            if os.geteuid() == 0:
                if proc.pid in below and uid is not None and uid >= 200_000:
                    uids.add(uid)
                if uid in uids:
                    found.append(proc)
            elif "cnnlib.classroom.runner" in " ".join(info["cmdline"] or []):
                found.append(proc)
        return found

    deadline = time.monotonic() + 90
    while not sandboxed() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert sandboxed(), "no sandbox started"
    time.sleep(3)  # the cells are running now
    grader.send_signal(signal.SIGKILL)
    grader.wait()
    deadline = time.monotonic() + 20
    while sandboxed() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not sandboxed(), [p.info for p in sandboxed()]
    # Run again, now to the end (a short limit: the cells sleep for ever).
    for k in range(3):
        (subs / f"asleep{k}.ipynb").unlink()
    nbformat.write(student, subs / "blank.ipynb")
    shutil.copy(folder / "autograder" / f"{MASTER.stem}.ipynb", subs / "solution.ipynb")
    rows = grade_folder(MASTER, subs, grades, timeout=60, workers=2, built=tmp / "built")
    assert {r.submission: r.total() for r in rows} == {"blank.ipynb": 0,
                                                        "solution.ipynb": MASTER.points}
    assert not list(grades.parent.glob(".feedback-*"))
    assert not sandboxed()


@pytest.mark.slow
def test_the_gradescope_zip_still_grades_the_solution_with_otter(built, tmp_path):
    folder, _ = built
    zip_path = next((folder / "autograder").glob("*.zip"))
    solution = tmp_path / f"{MASTER.stem}.ipynb"
    shutil.copy(folder / "autograder" / f"{MASTER.stem}.ipynb", solution)
    done = subprocess.run([sys.executable, "-m", "otter", "run", "-a", str(zip_path), "-o",
                           str(tmp_path), "--no-logo", str(solution)], capture_output=True,
                          text=True, env={**os.environ, "OMP_NUM_THREADS": "1",
                                          "MPLBACKEND": "Agg"}, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    tests = json.loads((tmp_path / "results.json").read_text())["tests"]
    assert sum(t.get("score", 0) for t in tests) == MASTER.points, tests  # + "Public Tests"


def test_each_sandbox_gets_a_uid_no_process_runs_as(monkeypatch):
    """Two graders on one machine (or two test workers) must not share a uid: the process
    limit counts every process of a uid, so one's fork bomb would stop the other's cells."""
    from cnnlib.classroom import sandbox

    busy = 200_000 + 12_345
    draws = iter([busy, busy, busy + 1])
    monkeypatch.setattr(sandbox.secrets, "randbelow", lambda n: next(draws) - 200_000)
    monkeypatch.setattr(sandbox, "_GIVEN", set())

    class Proc:
        def __init__(self, uid):
            self.info = {"uids": type("U", (), {"real": uid})()}

    monkeypatch.setattr(sandbox.psutil, "process_iter", lambda attrs: [Proc(0), Proc(busy)])
    assert sandbox._sandbox_uid() == busy + 1  # skips the uid a process already runs as
    assert sandbox.sandbox_uids() == {busy + 1}


def test_a_message_that_arrives_slowly_is_read_whole_not_cut_at_the_wait():
    """The sandbox waits for messages in short steps (to watch its limits in between).
    A step that ended half way through a message used to leave the rest in the pipe, and
    the next read took '{"event"' for a length: a false "broke the grading protocol" when
    the machine was busy. A message that has begun is now read to its end."""
    import threading
    import time

    from cnnlib.classroom import protocol

    read, write = os.pipe()
    try:
        whole = protocol.HEADER.pack(len(b'{"event": "ready"}')) + b'{"event": "ready"}'

        def slowly():
            os.write(write, whole[:6])
            time.sleep(0.4)
            os.write(write, whole[6:])

        writer = threading.Thread(target=slowly)
        writer.start()
        message = protocol.receive(read, time.monotonic() + 0.1, finish_by=time.monotonic() + 5)
        writer.join()
        assert message == {"event": "ready"}
        # One that begins and never ends is refused by the real deadline, not waited on.
        os.write(write, whole[:6])
        with pytest.raises(ProtocolError, match="stopped half way"):
            protocol.receive(read, time.monotonic() + 0.1, finish_by=time.monotonic() + 0.3)
        # Nothing begun: the short wait ends, and the caller may wait again.
        read2, write2 = os.pipe()
        with pytest.raises(TimeoutError):
            protocol.receive(read2, time.monotonic() + 0.1, finish_by=time.monotonic() + 5)
        os.close(read2)
        os.close(write2)
    finally:
        os.close(read)
        os.close(write)


@needs_bwrap
@pytest.mark.slow
def test_a_limit_the_watchdog_sees_is_put_on_the_cell_that_reached_it():
    """The runner can be many cells ahead of the grader's reading: cells that print nothing
    take microseconds, and the watchdog looks at the processes before each read. A fork bomb
    in the last cell used to be put on whichever earlier cell the grader had last read, and
    the grader then ran the notebook again without that (honest) cell: a flake that scored
    a correct answer 0. The waiting cell events are now read before the limit is named."""
    quiet = ["x = 1"] * 20
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    box = sandbox.Sandbox(sandbox.Limits(processes=16, wall_s=60))
    try:
        box.start([*quiet, bomb], {})
        time.sleep(3)  # the runner reaches the bomb before the grader reads anything
        with pytest.raises(sandbox.SandboxEnded) as ended:
            while True:
                message = box.receive()
                if message.get("event") == "cell":
                    box.cell = message["cell"]
        assert str(ended.value) == f"process limit 16 reached in cell {len(quiet) + 1}"
    finally:
        box.kill()
        box.close()
