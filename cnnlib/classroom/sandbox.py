"""Run one submission's notebook in a bubblewrap sandbox, under limits, and talk to it.

bubblewrap (``bwrap``, Debian's ``bubblewrap`` package) gives the submission namespaces
of its own: no network, its own process IDs (it cannot see or signal the grader or any
other submission), and a file system made of read-only binds of exactly what it needs
(``/usr``, the Python installation, the venv, ``cnnlib`` and the Fashion-MNIST files) plus
two size-capped tmpfs folders, ``/sandbox`` (its working folder) and ``/tmp``. The
instructor's home, other submissions, the assignment masters and the autograder builds
are simply not there. Run as root, the grader starts bwrap without a user namespace and
the runner drops to an unused unprivileged uid before reading anything; run as an
ordinary user, bwrap makes a user namespace. Either way the process has no capabilities
and ``no_new_privs``.

Limits (:class:`Limits`): memory (``RLIMIT_DATA`` in every process, and a watchdog that
sums the sandbox's resident memory), processes (``RLIMIT_NPROC``), file size
(``RLIMIT_FSIZE``), disk (the tmpfs sizes), CPU time (``RLIMIT_CPU``) and wall time (the
grader's deadline). When a limit ends the sandbox, :attr:`Sandbox.ended` names it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import psutil

import cnnlib
from cnnlib.classroom import protocol

CNNLIB_DIR = Path(cnnlib.__file__).resolve().parent
WORKDIR = "/sandbox"
_LIVE: weakref.WeakSet = weakref.WeakSet()  # sandboxes to end if the grader is stopped


class SandboxUnavailable(RuntimeError):
    """No sandbox can start on this machine; the message says why and what to do."""


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Every field can be set from ``make grade``."""

    memory_mb: int = 4096  # resident memory of all its processes together, and data per process
    processes: int = 64  # processes and threads at once
    file_size_mb: int = 64  # the largest file it may write
    disk_mb: int = 512  # each of its two tmpfs folders, /sandbox and /tmp
    cpu_s: int = 600  # CPU seconds per process
    wall_s: float = 300  # seconds for the whole submission: its cells and its tests
    call_s: float = 60  # seconds for one call a test makes (a function that never returns)
    threads: int = 1  # torch/OpenMP threads

    def describe(self, name: str) -> str:
        """The limit in words, as the gradebook names it: 'memory limit 4 GB'."""
        return {
            "memory": f"memory limit {_size(self.memory_mb)}",
            "processes": f"process limit {self.processes}",
            "file_size": f"file-size limit {_size(self.file_size_mb)}",
            "disk": f"disk limit {_size(self.disk_mb)}",
            "cpu": f"CPU-time limit {self.cpu_s} s",
            "wall": f"time limit {self.wall_s:g} s",
            "call": f"time limit per call {self.call_s:g} s",
        }[name]


def _size(mb: int) -> str:
    return f"{mb / 1024:g} GB" if mb >= 1024 and mb % 256 == 0 else f"{mb} MB"


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def check_available() -> None:
    """Start a trivial sandbox; raise :class:`SandboxUnavailable` saying why it cannot."""
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, so submissions cannot be isolated. Install "
            "it (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install "
            "bubblewrap) and grade again. To grade WITHOUT isolation (only for submissions "
            "you trust), pass --unisolated (make grade ... UNISOLATED=1).")
    command = [bwrap, *_namespace_flags(), "--ro-bind", "/usr", "/usr", *_usr_links(),
               "--proc", "/proc", "--dev", "/dev", "/usr/bin/true"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SandboxUnavailable(f"bubblewrap could not start: {error}") from None
    if done.returncode != 0:
        raise SandboxUnavailable(
            "bubblewrap is installed but cannot make a sandbox here: "
            f"{done.stderr.strip()[:300]}. On Ubuntu 24.04 and later, unprivileged user "
            "namespaces are restricted by AppArmor: grade as root (sudo make grade ...), or "
            "allow them (sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0). Inside "
            "Docker, run the container with --security-opt seccomp=unconfined or grade on "
            "the host. To grade WITHOUT isolation (only for submissions you trust), pass "
            "--unisolated (make grade ... UNISOLATED=1).")


def _namespace_flags() -> list[str]:
    # Root needs no user namespace (and one would map the student to root outside it).
    user = [] if os.geteuid() == 0 else ["--unshare-user"]
    return ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", *user, "--die-with-parent", "--new-session"]


def _usr_links() -> list[str]:
    links = []
    for name in ("bin", "sbin", "lib", "lib64", "lib32"):
        path = Path("/") / name
        if path.is_symlink():
            links += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            links += ["--ro-bind", str(path), str(path)]
    return links


def readable_paths(data_dir: Path | None) -> list[Path]:
    """What the sandbox may read besides /usr: Python, the venv, cnnlib, the data."""
    paths = [Path(sys.base_prefix).resolve(), Path(sys.prefix), CNNLIB_DIR]
    if data_dir is not None:
        paths.append(data_dir.resolve())
    unique = []
    for path in paths:
        if str(path).startswith("/usr/") or any(path == p or p in path.parents for p in unique):
            continue
        unique.append(path)
    return unique


# Sandbox uids are drawn from a billion, above the range distributions hand out.
_UID_BASE, _UID_SPAN = 200_000, 1 << 30
_GIVEN: set[int] = set()
_GIVEN_LOCK = threading.Lock()


def sandbox_uids() -> frozenset[int]:
    """The uids this grading process has given its sandboxes (when it runs as root)."""
    with _GIVEN_LOCK:
        return frozenset(_GIVEN)


def _sandbox_uid() -> int:
    """An unused uid for this sandbox (root only). The process limit counts every process
    of a uid, so two sandboxes must never share one: not two submissions of this grader,
    nor two graders on one machine (two `make grade` runs, or test workers). So the uid is
    drawn at random from a billion, and one that any process already runs as is skipped."""
    in_use = {p.info["uids"].real for p in psutil.process_iter(["uids"]) if p.info["uids"]}
    with _GIVEN_LOCK:
        while True:
            uid = _UID_BASE + secrets.randbelow(_UID_SPAN)
            if uid not in in_use and uid not in _GIVEN:
                _GIVEN.add(uid)
                return uid


class Sandbox:
    """One running submission. Use :meth:`start`, then :meth:`request`, then :meth:`close`."""

    def __init__(self, limits: Limits, data_dir: Path | None = None, unisolated: bool = False):
        self.limits = limits
        self.data_dir = data_dir
        self.unisolated = unisolated
        self.process: subprocess.Popen | None = None
        self.deadline = 0.0
        self.ended: str | None = None  # the limit or event that ended it, in words
        self.cell: int | None = None  # the cell running when it ended
        self._fds: tuple[int, int] | None = None
        self._killed_for: str | None = None

    # -- starting
    def command(self, fd_in: int, fd_out: int) -> list[str]:
        python = str(Path(sys.prefix) / "bin" / "python")
        runner = [python, "-I", "-m", "cnnlib.classroom.runner", str(fd_in), str(fd_out)]
        if self.unisolated:
            return runner
        flags = [bwrap_path(), *_namespace_flags(), "--clearenv",
                 "--ro-bind", "/usr", "/usr", *_usr_links()]
        for etc in ("/etc/ld.so.cache", "/etc/fonts", "/etc/localtime"):
            flags += ["--ro-bind-try", etc, etc]
        made: set[Path] = set()
        for path in readable_paths(self.data_dir):
            # bwrap makes missing parents 0700 (root's), which the dropped uid cannot enter.
            for parent in reversed(path.parents[:-1]):
                if parent not in made:
                    made.add(parent)
                    flags += ["--perms", "0755", "--dir", str(parent)]
            flags += ["--ro-bind", str(path), str(path)]
        disk = str(self.limits.disk_mb << 20)
        # Writable by the dropped uid too (a tmpfs is root's 0755 otherwise).
        flags += ["--proc", "/proc", "--dev", "/dev",
                  "--perms", "1777", "--size", disk, "--tmpfs", WORKDIR,
                  "--perms", "1777", "--size", disk, "--tmpfs", "/tmp", "--chdir", WORKDIR]
        for key, value in self.environment().items():
            flags += ["--setenv", key, value]
        return flags + runner

    def environment(self) -> dict[str, str]:
        threads = str(self.limits.threads)
        env = {"HOME": WORKDIR, "TMPDIR": "/tmp", "PATH": f"{sys.prefix}/bin:/usr/bin:/bin",
               "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib",
               "IPYTHONDIR": "/tmp/ipython",
               "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
               "PYTHONDONTWRITEBYTECODE": "1", "CNNLIB_OFFLINE": "1",
               "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        if self.data_dir is not None:
            env["CNNLIB_DATA"] = env["CNNLIB_CACHE"] = str(self.data_dir.resolve())
        return env

    def rlimits(self) -> dict[str, int]:
        return {"data": self.limits.memory_mb << 20, "nproc": self.limits.processes,
                "fsize": self.limits.file_size_mb << 20, "cpu": self.limits.cpu_s, "core": 0}

    def start(self, cells: list[str], forbids: dict[str, list[str]]) -> None:
        """Start the runner and send it the notebook; :meth:`events` then reports its cells."""
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        env = None if not self.unisolated else {
            **{k: v for k, v in os.environ.items() if k in ("PATH", "LANG")},
            **self.environment(), "HOME": os.environ.get("HOME", "/tmp")}
        # The notebook's output is thrown away (a flood costs nothing); CNNLIB_GRADE_STDERR
        # names a file to keep the runner's own errors in, when debugging the grader.
        debug = os.environ.get("CNNLIB_GRADE_STDERR")
        stderr = open(debug, "ab") if debug else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                self.command(request_r, reply_w), pass_fds=(request_r, reply_w),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                env=env if self.unisolated else {}, start_new_session=True)
        finally:
            os.close(request_r)
            os.close(reply_w)
            if debug:
                stderr.close()
        _LIVE.add(self)
        self._fds = (request_w, reply_r)
        self.deadline = time.monotonic() + self.limits.wall_s
        start = {"cells": cells, "forbids": forbids, "rlimits": self.rlimits(),
                 "cwd": WORKDIR if not self.unisolated else None,
                 "readable": [str(p) for p in readable_paths(self.data_dir)]}
        if os.geteuid() == 0 and not self.unisolated:
            start["user"] = _sandbox_uid()
        if self.unisolated:
            import tempfile

            self._tmp = tempfile.TemporaryDirectory(prefix="cnnlib-unisolated-")
            start["cwd"] = self._tmp.name
        try:
            protocol.send(request_w, start)
        except protocol.ProtocolError as error:
            self._end(f"the notebook is too large to grade ({error})")
        except (BrokenPipeError, OSError):
            self._end("the sandbox did not start")

    # -- talking
    def receive(self, call_deadline: float | None = None) -> dict:
        """The next message, or :class:`SandboxEnded` when the sandbox is gone or a limit
        ends it (the wall-time or call deadline, the watchdog)."""
        if self._fds is None or self.ended:
            raise SandboxEnded(self.ended or "the sandbox is not running")
        while True:
            self._watch()
            deadline = min(self.deadline, call_deadline or self.deadline)
            step = min(deadline, time.monotonic() + 0.5)
            try:
                # A message that has begun is read whole, by the real deadline.
                return protocol.receive(self._fds[1], step, finish_by=deadline)
            except TimeoutError:
                now = time.monotonic()
                if now >= self.deadline:
                    self._kill("wall")
                elif call_deadline is not None and now >= call_deadline:
                    self._kill("call")
            except EOFError:
                self._end(self._why_it_ended())
            except protocol.ProtocolError as error:
                self._kill(None, f"it broke the grading protocol ({error})")

    def request(self, message: dict) -> dict:
        if self._fds is None or self.ended:
            raise SandboxEnded(self.ended or "the sandbox is not running")
        try:
            protocol.send(self._fds[0], message)
        except (BrokenPipeError, OSError):
            self._end(self._why_it_ended())
        call_deadline = time.monotonic() + self.limits.call_s
        while True:
            reply = self.receive(call_deadline)
            if "event" not in reply:  # a late cell event cannot arrive now; skip strays
                return reply

    # -- limits and ending
    def _watch(self) -> None:
        """End the sandbox when its processes together pass the memory limit, or when they
        reach the process limit: a fork bomb is stopped at once rather than left spinning
        until its time limit, taking the cores that other submissions are graded on."""
        if self.process is None:
            return
        try:
            family = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            return
        if sum(_proportional_memory(p) for p in family) > self.limits.memory_mb << 20:
            self._catch_up()
            self._kill("memory")
        threads = 0
        for proc in family:
            try:
                threads += proc.num_threads()
            except psutil.Error:
                pass
        if threads >= self.limits.processes:
            self._catch_up()
            self._kill("processes")

    def _catch_up(self, most: int = 10_000) -> None:
        """Read the cell events already waiting in the pipe, so that a limit the watchdog
        sees is put on the cell that reached it. The runner can be several cells ahead of the
        grader's reading (cells that print nothing take microseconds), and a limit put on an
        earlier cell would make the grader run the notebook again without an honest answer."""
        for _ in range(most):
            now = time.monotonic()
            try:
                message = protocol.receive(self._fds[1], now, finish_by=now + 1.0)
            except (TimeoutError, EOFError, protocol.ProtocolError):
                return
            if message.get("event") == "cell" and isinstance(message.get("cell"), int):
                self.cell = message["cell"]

    def _why_it_ended(self) -> str:
        if self._killed_for:
            return self._killed_for
        code = self.process.wait(timeout=10) if self.process else None
        reasons = {128 + signal.SIGXCPU: "cpu", 128 + signal.SIGXFSZ: "file_size",
                   -signal.SIGXCPU: "cpu", -signal.SIGXFSZ: "file_size"}
        if code in reasons:
            return self.limits.describe(reasons[code])
        if code in (137, -9):
            return "it was killed (SIGKILL), most likely by the system for using too much memory"
        return f"its process ended (exit {code})"

    def _kill(self, limit: str | None, text: str | None = None) -> None:
        self._killed_for = text or f"{self.limits.describe(limit)} reached"
        self.kill()
        self._end(self._killed_for)

    def _end(self, reason: str) -> None:
        where = f" in cell {self.cell}" if self.cell is not None else ""
        self.ended = reason + (where if "cell" not in reason else "")
        self.kill()
        raise SandboxEnded(self.ended)

    def kill(self) -> None:
        """End the sandbox and every process in it (its own PID namespace dies with it)."""
        process = self.process
        if process is not None and process.poll() is None:
            try:
                family = psutil.Process(process.pid).children(recursive=True)
            except psutil.Error:
                family = []
            for proc in [psutil.Process(process.pid)] + family if _exists(process.pid) else family:
                try:
                    proc.kill()
                except psutil.Error:
                    pass
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            psutil.wait_procs(family, timeout=5)
        self._close_fds()

    def close(self) -> None:
        """Say goodbye (the runner exits), then make sure nothing of it is left."""
        running = self.process is not None and self.process.poll() is None
        if self._fds is not None and not self.ended and running:
            try:
                protocol.send(self._fds[0], {"op": "bye"})
                self.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()
        if getattr(self, "_tmp", None) is not None:
            self._tmp.cleanup()
        _LIVE.discard(self)

    def _close_fds(self) -> None:
        if self._fds is not None:
            for fd in self._fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._fds = None


def _proportional_memory(process: psutil.Process) -> int:
    """Resident memory with shared pages split among their sharers (PSS): forked children
    share the parent's pages, and summing their RSS would count those many times."""
    try:
        with open(f"/proc/{process.pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return process.memory_info().rss
    except psutil.Error:
        return 0


def _exists(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def kill_all() -> None:
    """End every sandbox this process started (on SIGTERM or SIGINT of the grader)."""
    for sandbox in list(_LIVE):
        sandbox.kill()


class SandboxEnded(RuntimeError):
    """The sandbox is gone; the message says why ("memory limit 4 GB reached in cell 7")."""
