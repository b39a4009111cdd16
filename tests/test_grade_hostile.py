"""Hostile submissions, graded for real in the sandbox: none can forge, read, escape or stop.

Every submission below answers assignment 7.2's q1 correctly (4 points) with code of its own,
leaves q2 and q3 unanswered, and adds one cell that attacks the grader: it patches the checks
or the runner, forges results, replaces pickle, reads the instructor's files and the hidden
tests, signals its parent, loops, forks, fills memory or disk, floods its output, deletes
files, plants a second copy of the grading modules, talks to the network, or leaves a
process behind. Each must score exactly the 4 points it answered, get the right note in the
review column, and leave nothing behind. Where an attack could succeed silently, its cell
turns success into points (it answers q2 correctly only if it could read a secret file), so
a leak shows up as a wrong score.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import sys
import textwrap
import zipfile
from pathlib import Path

import nbformat
import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from assignment_masters import find_masters, read_master  # noqa: E402
from build_assignments import build  # noqa: E402
from grade_assignments import grade_folder  # noqa: E402

from cnnlib.classroom.sandbox import Limits, bwrap_path, sandbox_uids  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap is not installed"),
]

MASTER = read_master(find_masters(["7_2"])[0])
POINTS = {q.name: q.points for q in MASTER.questions}
# What every attack that answers q1 honestly (and nothing else) earns.
Q1_ONLY = {q: POINTS["q1"] if q == "q1" else 0.0 for q in POINTS}
TIMEOUT = 45  # wall seconds per sandbox: the endless loop and the fork bomb must reach it
MEMORY_MB = 1024  # small, so that the memory attack hits it quickly
CALL_S = 10  # one call of the student's code by a test
MARK = f"cnnlib-hostile-{os.getpid()}"  # in the command line of every process an attack starts

# q1, answered correctly with plain tensor code (nothing the question forbids).
Q1 = '''
def corr2d_ps(X, K, padding=0, stride=1):
    h, w = X.shape
    P = torch.zeros((h + 2 * padding, w + 2 * padding), dtype=X.dtype)
    P[padding:padding + h, padding:padding + w] = X
    kh, kw = K.shape
    rows = (P.shape[0] - kh) // stride + 1
    cols = (P.shape[1] - kw) // stride + 1
    Y = torch.zeros((rows, cols), dtype=X.dtype)
    for i in range(rows):
        for j in range(cols):
            Y[i, j] = (P[i * stride:i * stride + kh, j * stride:j * stride + kw] * K).sum()
    return Y
'''
# q2's right answer, which an attack defines only if it succeeded.
Q2_IF = '''
def true_conv2d(X, K):
    return corr2d(X, torch.flip(K, dims=(0, 1)))
'''


def attacks(secrets: dict[str, Path], outside: Path) -> dict[str, str]:
    """The attack cell of each submission; ``secrets`` are files it must not read,
    ``outside`` a folder it must not write to."""
    paths = repr([str(p) for p in secrets.values()])
    leak_then_answer = f'''
import os
leaked = []
for path in {paths}:
    try:
        with open(path, "rb") as f:
            leaked.append(f.read(100))
    except Exception:
        pass
    try:
        leaked += os.listdir(path)
    except Exception:
        pass
try:
    leaked += os.listdir({str(outside.parent)!r})  # the folder that holds all of the above
except Exception:
    pass
if leaked:
''' + textwrap.indent(Q2_IF, "    ")
    return {
        "replaces_checks": '''
import cnnlib.classroom.checks as checks
for name in dir(checks):
    if name.startswith("check_"):
        setattr(checks, name, lambda *args, **kwargs: None)
''',
        "patches_runner": '''
import cnnlib.classroom.runner as runner
original = runner.Session.handle
def forged(self, request):
    reply = original(self, request)
    if request.get("question") in ("q2", "q3"):
        return {"value": True}
    return reply
runner.Session.handle = forged
import cnnlib.classroom.grading as grading
grading.QuestionResult.score = property(lambda self: self.points)
''',
        "replaces_pickle": f'''
import pickle
def dump(*args, **kwargs):
    open({str(outside / "pickle-ran")!r}, "w").write("ran in the grader")
pickle.dump = pickle.dumps = pickle.load = pickle.loads = dump
''',
        "reads_secrets": leak_then_answer,
        "takes_memory": '''
hoard = []
while True:
    hoard.append(bytearray(100 << 20))
''',
        "signals_parent": '''
import os, signal
for target in (os.getppid(), 1, -1):
    try:
        os.kill(target, signal.SIGKILL)
    except Exception:
        pass
''',
        "loops_forever": '''
while True:
    pass
''',
        "fork_bomb": f'''
import os, subprocess
for _ in range(3):
    try:
        subprocess.Popen(["sleep", "1000", {MARK!r}], start_new_session=True)
    except Exception:
        pass
while True:
    try:
        os.fork()
    except OSError:
        pass
''',
        "fills_disk": '''
import os
for folder in (".", "/tmp"):
    for k in range(1000):
        with open(os.path.join(folder, f"fill-{k}"), "wb") as f:
            f.write(b"x" * (32 << 20))
''',
        "floods_output": '''
import os, sys
for _ in range(200):
    print("x" * 1_000_000)
    sys.stderr.write("y" * 1_000_000)
    os.write(1, b"z" * 1_000_000)
''',
        "deletes_files": f'''
import os, shutil
for path in {paths} + [{str(outside)!r}]:
    shutil.rmtree(path, ignore_errors=True)
    try:
        os.remove(path)
    except Exception:
        pass
shutil.rmtree("/", ignore_errors=True)
''',
        "forges_results": '''
import json, os
full = {"tests": [{"name": q, "score": 9, "max_score": 9} for q in ("q1", "q2", "q3")]}
for folder in (".", "/tmp", "..", "../out", "/sandbox/out"):
    try:
        os.makedirs(folder, exist_ok=True)
        for name in ("results.json", "grading-seed.json", "gradebook.csv"):
            with open(os.path.join(folder, name), "w") as f:
                json.dump(full, f)
    except Exception:
        pass
''',
        "shadows_grader": '''
import os, sys
os.makedirs("cnnlib/classroom", exist_ok=True)
for name in ("cnnlib/__init__.py", "cnnlib/classroom/__init__.py"):
    open(name, "w").close()
with open("cnnlib/classroom/checks.py", "w") as f:
    f.write("def __getattr__(name):\\n    return lambda *a, **k: None\\n")
sys.path.insert(0, os.getcwd())
for name in list(sys.modules):
    if name.startswith("cnnlib.classroom"):
        del sys.modules[name]
import cnnlib.classroom.checks
''',
        "uses_network": '''
import socket
for address in (("127.0.0.1", 22), ("1.1.1.1", 80), ("pypi.org", 443)):
    try:
        socket.create_connection(address, timeout=2)
    except Exception:
        pass
''',
        "leaves_daemon": f'''
import os, subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)", {MARK!r}],
                 start_new_session=True, stdin=subprocess.DEVNULL,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "1000", {MARK!r}])
    os._exit(0)
''',
        "hangs_when_called": '''
def true_conv2d(X, K):
    while True:
        pass
''',
        "library_answer": '''
import torch.nn.functional as F
def corr2d_ps(X, K, padding=0, stride=1):
    return F.conv2d(X[None, None], K[None, None], padding=padding, stride=stride)[0, 0]
''',
    }


def _with_cells(student, attack: str):
    """The student notebook with q1 answered and the attack cell last, after every given
    cell (so that what the attack defines is not redefined by the notebook's own cells)."""
    notebook = nbformat.from_dict(student)
    answer = next(i for i, c in enumerate(notebook.cells)
                  if c.cell_type == "code" and "def corr2d_ps(" in c.source)
    notebook.cells[answer].source = Q1.strip()
    notebook.cells.append(nbformat.v4.new_code_cell(attack.strip()))
    return notebook


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    built = tmp / "built"
    folder = build(MASTER, out=built, run_tests=False)
    autograder = folder / "autograder"
    home = tmp / "instructor-home"
    home.mkdir()
    (home / "secret.txt").write_text("the instructor's private notes\n")
    outside = tmp / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("must survive\n")
    subs = tmp / "submissions"
    subs.mkdir()
    secrets = {"zip": next(autograder.glob("*.zip")), "seed": autograder / "grading-seed.json",
               "solutions": autograder / f"{MASTER.stem}.ipynb", "home": home / "secret.txt",
               "other": subs / "honest.ipynb", "masters": ROOT / "assignments",
               "hidden": ROOT / "assignments" / f"{MASTER.stem}.py"}
    # And the grading account's real home: its files, not the folder (the sandbox makes an
    # empty skeleton of the path to the Python installation, which may run through it).
    real_home = [p for p in Path.home().iterdir() if p.is_file() and os.access(p, os.R_OK)]
    secrets.update({f"real home {k}": path for k, path in enumerate(sorted(real_home)[:5])})
    student = nbformat.read(folder / "student" / f"{MASTER.stem}.ipynb", as_version=4)
    nbformat.write(_with_cells(student, "pass"), subs / "honest.ipynb")
    for name, attack in attacks(secrets, outside).items():
        nbformat.write(_with_cells(student, attack), subs / f"{name}.ipynb")
    # A zip whose other entries climb out of the folder, are absolute, or are links.
    honest = (subs / "honest.ipynb").read_bytes()
    with zipfile.ZipFile(subs / "zip_escape.zip", "w") as archive:
        archive.writestr("../escaped.ipynb", honest)
        archive.writestr("/tmp/absolute.ipynb", honest)
        link = zipfile.ZipInfo("link.ipynb")
        link.external_attr = (0o120777 << 16)
        archive.writestr(link, str(secrets["solutions"]))
        archive.writestr(f"{MASTER.stem}.ipynb", honest)
    # A link in the submissions folder itself, to the solutions.
    os.symlink(secrets["solutions"], subs / "link_to_solutions.ipynb")
    before = {"subs": _digest(subs), "autograder": _digest(autograder), "home": _digest(home),
              "outside": _digest(outside)}
    grades = tmp / "out" / "gradebook.csv"
    rows = grade_folder(MASTER, subs, grades, timeout=TIMEOUT, workers=2, built=built,
                        limits=Limits(memory_mb=MEMORY_MB, call_s=CALL_S))
    after = {"subs": _digest(subs), "autograder": _digest(autograder), "home": _digest(home),
             "outside": _digest(outside)}
    return {row.submission: row for row in rows}, grades, before, after, tmp


HONEST = ["honest.ipynb", "replaces_checks.ipynb", "patches_runner.ipynb",
          "replaces_pickle.ipynb", "reads_secrets.ipynb", "takes_memory.ipynb",
          "signals_parent.ipynb", "loops_forever.ipynb", "fork_bomb.ipynb", "fills_disk.ipynb",
          "floods_output.ipynb", "deletes_files.ipynb", "forges_results.ipynb",
          "shadows_grader.ipynb", "uses_network.ipynb", "leaves_daemon.ipynb",
          "hangs_when_called.ipynb", "zip_escape.zip"]


@pytest.mark.parametrize("name", HONEST)
def test_scores_exactly_what_it_answered(batch, name):
    rows, _, _, _, _ = batch
    row = rows[name]
    assert row.scores == Q1_ONLY, (row.reason, row.feedback)


@pytest.mark.parametrize("name, note", [
    ("replaces_checks.ipynb", "reaches into the grading code"),
    ("patches_runner.ipynb", "reaches into the grading code"),
    ("replaces_pickle.ipynb", "uses pickle"),
    ("takes_memory.ipynb", "memory limit 1 GB reached in cell"),
    ("signals_parent.ipynb", "sends signals"),
    ("loops_forever.ipynb", f"time limit {TIMEOUT} s reached in cell"),
    ("fork_bomb.ipynb", "process limit 64 reached in cell"),
    ("fills_disk.ipynb", "limit"),
    ("deletes_files.ipynb", "deletes folders"),
    ("shadows_grader.ipynb", "changes sys.path"),
    # From the code ("uses the network") or from the audit hook ("tried to use the network").
    ("uses_network.ipynb", "the network"),
    ("leaves_daemon.ipynb", "program"),
    ("zip_escape.zip", "unsafe entry"),
    ("library_answer.ipynb", "q1: calls torch.nn.functional.conv2d"),
    ("hangs_when_called.ipynb", f"time limit per call {CALL_S} s reached while grading test_q2"),
])
def test_the_instructor_is_told(batch, name, note):
    rows, grades, _, _, _ = batch
    with grades.open() as f:
        review = {r["submission"]: r["review"] for r in csv.DictReader(f)}
    assert note in review[name], review[name]


def test_a_forbidden_library_call_scores_zero_with_the_reason(batch):
    rows, grades, _, _, _ = batch
    row = rows["library_answer.ipynb"]
    assert row.total() == 0
    feedback = grades.with_name("gradebook-feedback") / "library_answer.ipynb.txt"
    assert "torch.nn.functional.conv2d" in feedback.read_text()
    assert "does not allow" in feedback.read_text()


def test_a_link_is_not_followed(batch):
    rows, _, _, _, _ = batch
    assert rows["link_to_solutions.ipynb"].total() == 0
    assert "symbolic link" in rows["link_to_solutions.ipynb"].reason


def test_every_submission_has_a_row_and_a_feedback_file(batch):
    rows, grades, _, _, _ = batch
    with grades.open() as f:
        table = list(csv.DictReader(f))
    assert sorted(r["submission"] for r in table) == sorted(rows)
    feedback = grades.with_name("gradebook-feedback")
    assert len(list(feedback.iterdir())) == len(rows)


def test_nothing_outside_its_folder_was_written_or_deleted(batch):
    rows, _, before, after, tmp = batch
    assert before == after
    assert not (tmp / "outside" / "pickle-ran").exists()
    assert not (tmp / "escaped.ipynb").exists() and not Path("/tmp/absolute.ipynb").exists()
    for folder in (tmp, tmp.parent):
        assert not list(folder.glob("results.json")), folder


def test_nothing_is_left_running(batch):
    ours = sandbox_uids()  # the uids this process gave its sandboxes (when run as root)
    left = [p for p in psutil.process_iter(["cmdline", "uids"])
            if MARK in " ".join(p.info["cmdline"] or [])
            or (p.info["uids"] and p.info["uids"].real in ours)]
    assert not left, [p.info for p in left]


def test_no_temporary_folder_is_left(batch):
    _, grades, _, _, _ = batch
    assert not list(grades.parent.glob(".feedback-*"))
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("cnnlib-unisolated-*"))


def test_zip_members_are_never_extracted(batch, tmp_path):
    rows, _, _, _, tmp = batch
    assert rows["zip_escape.zip"].scores == Q1_ONLY
    assert not any(p.name == "escaped.ipynb" for p in tmp.rglob("escaped.ipynb"))
    assert shutil.which("bwrap")


def test_the_secret_reader_scores_when_it_can_read(batch, tmp_path):
    """The control for reads_secrets: graded WITHOUT the sandbox, where the files are
    readable, the same notebook gains q2's points. So its 4 points in the sandbox mean
    that it read nothing, not that the probe cannot score."""
    _, _, _, _, tmp = batch
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(tmp / "submissions" / "reads_secrets.ipynb", alone / "reads_secrets.ipynb")
    rows = grade_folder(MASTER, alone, tmp_path / "g.csv", timeout=TIMEOUT, workers=1,
                        built=tmp / "built", unisolated=True)
    assert rows[0].scores == {**Q1_ONLY, "q2": POINTS["q2"]}, rows[0].feedback
