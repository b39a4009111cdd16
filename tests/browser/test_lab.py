"""JupyterLab in a real browser: a chapter opens, runs, saves and reopens, and nothing breaks.

This is what `make lab` promises a reader. The lab runs on a throwaway git repository
holding some sections (each .py with its executed .ipynb, as in a clone), the Jupytext
settings and the .gitignore, with the contents manager `make venv` configures
(cnnlib/lab/contents.py). So the walk can check what a reader's save does to git, and
running cells never writes into this repository's chapters/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from cnnlib.lab.contents import reader_copy_path
from cnnlib.lab.offline import WIDGET_VIEW

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
# Walked whole (run all, save, shut down, reopen): explorers (7.2), and explorers plus two
# trainings with progress bars and a live plot (7.6). tests/test_lab_contents.py saves every
# section through the same contents manager without a browser.
WALKED = ("7_2_conv_images", "7_6_lenet")
# Opened before Run All: explorers (7.3) and a training progress bar (8.1).
FRESH_SECTIONS = ("7_3_padding_stride", "8_1_alexnet")
# What a notebook must never show: a widget whose kernel is gone, or its raw repr.
WIDGET_ERRORS = ("Error displaying widget", "model not found", "VBox(children=", "0%|")
GIT = ["git", "-c", "user.name=walk", "-c", "user.email=walk@example.invalid"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """``(url, repo)``: JupyterLab serving a fresh git repository of a few sections."""
    repo = tmp_path_factory.mktemp("lab")
    (repo / "chapters").mkdir()
    for stem in (*WALKED, *FRESH_SECTIONS):
        for suffix in (".py", ".ipynb"):
            shutil.copy(ROOT / "chapters" / f"{stem}{suffix}", repo / "chapters")
    for name in ("jupytext.toml", ".gitignore"):
        shutil.copy(ROOT / name, repo / name)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "a clone")
    port = _free_port()
    log_path = tmp_path_factory.getbasetemp() / "jupyterlab.log"
    log = open(log_path, "w")  # closed in teardown
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(repo.parent / ".jupyter-config"))
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", "--IdentityProvider.token=", "--ServerApp.password=",
         "--LabApp.expose_app_in_browser=True", f"--ServerApp.root_dir={repo}",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"JupyterLab did not start; its log:\n{log_path.read_text()}")
            time.sleep(0.5)
    yield url, repo
    server.terminate()
    server.wait(timeout=30)
    log.close()


def _open(page, url: str, path: str):
    """Open ``path`` in a fresh workspace (only it open) and wait for its outputs."""
    page.goto(f"{url}/lab/tree/{path}?reset")
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
    notebook.locator(".jp-OutputArea-output").first.wait_for(timeout=120_000)
    page.wait_for_timeout(2_000)  # let every saved output render
    return notebook


def _widget_errors(notebook) -> list[str]:
    # text_content, not inner_text: it includes cells that Lab has not painted yet.
    text = notebook.text_content()
    return [problem for problem in WIDGET_ERRORS if problem in text]


def _sessions(url: str) -> list[dict]:
    return json.load(urllib.request.urlopen(f"{url}/api/sessions", timeout=10))


def _current(expression: str) -> str:
    return f"window.jupyterapp.shell.currentWidget.{expression}"


def _run_all_and_wait(page) -> None:
    page.wait_for_function(
        f"() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        f" && {_current('sessionContext')} && {_current('sessionContext.session')}"
        f" && {_current('sessionContext.session.kernel')}",
        timeout=60_000,
    )
    # The command resolves once every cell has run; it returns false if one failed.
    ok = page.evaluate(
        "async () => await window.jupyterapp.commands.execute('notebook:run-all-cells')")
    assert ok, "a cell failed in JupyterLab; see the screenshot in test-artifacts/"


def _redraw_one_explorer(page) -> None:
    """Pick another entry of the first explorer's first menu: the kernel computes the new
    numbers (the front-end computes nothing in JupyterLab) and the status line changes."""
    menu = page.locator(".jp-OutputArea select[name]").first
    menu.wait_for(state="visible", timeout=60_000)
    status = page.locator(".jp-OutputArea [role=status]").first.element_handle()
    page.wait_for_function("(line) => line.textContent.trim() !== ''", arg=status,
                           timeout=60_000)
    before = status.text_content()
    options = menu.evaluate("(s) => [...s.options].filter((o) => !o.disabled).map((o) => o.value)")
    current = menu.input_value()
    menu.select_option(next(o for o in options if o != current and o.lower() != "custom"))
    page.wait_for_function("([line, old]) => line.textContent !== old", arg=[status, before],
                           timeout=30_000)


@pytest.mark.parametrize("stem", WALKED)
def test_run_save_reopen_keeps_git_clean_and_shows_no_widget_error(stem, page, lab, artifacts):
    """The reader's walk: open the .py, run all, poke an explorer, save, shut down, reopen."""
    url, repo = lab
    path = f"chapters/{stem}.py"
    built = (repo / f"chapters/{stem}.ipynb").read_bytes()
    built_mtime = (repo / f"chapters/{stem}.ipynb").stat().st_mtime_ns
    # The kernel imports cnnlib from this repository: a run must not write here either.
    ours_before = _git(ROOT, "status", "--porcelain")
    # The overrides shipped by `make venv` make the Jupytext notebook the default viewer.
    _open(page, url, path)
    _run_all_and_wait(page)
    _redraw_one_explorer(page)
    page.screenshot(path=str(artifacts / f"lab_run_{stem}.png"))
    page.evaluate("async () => await window.jupyterapp.commands.execute('docmanager:save')")

    # The built notebook is untouched; the reader's run is in my-notebooks/, which git ignores.
    assert (repo / f"chapters/{stem}.ipynb").read_bytes() == built
    assert (repo / f"chapters/{stem}.ipynb").stat().st_mtime_ns == built_mtime
    copy = repo / reader_copy_path(f"chapters/{stem}.ipynb")
    saved = nbformat.read(copy, as_version=4)
    assert WIDGET_VIEW not in copy.read_text(), "a live widget view was saved"
    pictures = [o for cell in saved.cells if cell.cell_type == "code" for o in cell.outputs
                if "run this cell for the live explorer" in o.get("data", {}).get("text/plain", "")]
    assert pictures and all("data:image/png;base64," in o["data"]["text/html"]
                            for o in pictures), (
        "each explorer's output in the reader's copy keeps the picture it showed")
    assert _git(repo, "status", "--porcelain") == "", "the reader's save changed a tracked file"

    # Shut the kernel down and close everything, as a reader ending the day.
    page.evaluate(f"async () => await {_current('sessionContext.shutdown()')}")
    page.evaluate("async () => await window.jupyterapp.commands.execute('application:close-all')")
    running = [s["path"] for s in _sessions(url)]
    assert path not in running, f"{path}'s kernel is still running"

    # Reopened, the section shows its published outputs, and the copy shows its pictures.
    for reopened in (path, reader_copy_path(f"chapters/{stem}.ipynb")):
        notebook = _open(page, url, reopened)
        page.screenshot(path=str(artifacts / f"lab_reopen_{Path(reopened).parent.name}_{stem}.png"))
        assert not _widget_errors(notebook), f"{reopened} reopened shows {_widget_errors(notebook)}"
        assert notebook.locator(".jp-OutputArea-output img").count() >= 1
        # Not live: every explorer says so, and offers no control that cannot redraw.
        _assert_honest_explorers(notebook, reopened)
    assert _git(repo, "status", "--porcelain") == "", "reopening changed a tracked file"
    assert _git(ROOT, "status", "--porcelain") == ours_before, "the run wrote into the repository"
    # The reopened notebooks started kernels: shut them down to keep the next walk light.
    page.evaluate("async () => await window.jupyterapp.serviceManager.sessions.shutdownAll()")


@pytest.mark.parametrize("stem", FRESH_SECTIONS)
def test_fresh_section_is_honest_before_it_runs(stem, page, lab, artifacts):
    """Before Run All: no widget error, and an explorer says to run it instead of offering
    controls that cannot redraw (Lab does not run the page form's script)."""
    url, _ = lab
    notebook = _open(page, url, f"chapters/{stem}.py")
    page.screenshot(path=str(artifacts / f"lab_fresh_{stem}.png"))
    assert not _widget_errors(notebook), f"{stem} before Run All shows {_widget_errors(notebook)}"
    # The saved outputs are there: figures, and each explorer's first picture.
    assert notebook.locator(".jp-OutputArea-output img").count() >= 1
    forms = notebook.locator(".jp-OutputArea-output .cnn-explorer")
    if stem == "7_3_padding_stride":
        assert forms.count() == 2
        assert forms.locator("img").count() == 2
    _assert_honest_explorers(notebook, stem)
    forms.first.scroll_into_view_if_needed()
    forms.first.screenshot(path=str(artifacts / f"lab_fresh_{stem}_explorer.png"))


def _assert_honest_explorers(notebook, name: str) -> None:
    """Each explorer that is not live shows a picture, says to run its cell, and has no
    control (Lab runs no script of a notebook opened from disk, so none could redraw)."""
    forms = notebook.locator(".jp-OutputArea-output .cnn-explorer")
    assert forms.count() >= 1, f"{name}: no explorer shows a picture"
    for i in range(forms.count()):
        form = forms.nth(i)
        assert form.locator("img").count() == 1
        # None at all in the page: Lab may not have painted an off-screen cell yet, and a
        # control that is there but not painted would still be a dead one once scrolled to.
        controls = form.locator("input, select, button, [data-control]").count()
        assert controls == 0, f"{name}: explorer {i} has {controls} controls that cannot redraw"
        # text_content, not inner_text: it includes cells that Lab has not painted yet.
        text = form.text_content()
        assert "run this cell" in text.lower(), f"{name}: explorer {i} does not say to run it"
        assert "on this page" not in text.lower(), f"{name}: website wording in Lab"


def test_the_live_explorer_runs_in_lab_on_pythons_numbers(page, lab, artifacts):
    """7.3's padding/stride explorer has one front-end (cnnlib/web/explorers/): in a running
    notebook anywidget shows it, keys move its sliders (JupyterLab's own shortcuts must not
    take them) and the status it shows is the Python explorer's for those settings."""
    from cnnlib.widgets.padding_stride import PaddingStrideExplorer

    url, _ = lab
    notebook = _open(page, url, "chapters/7_3_padding_stride.py")
    _run_all_and_wait(page)
    front_end = notebook.locator(".jp-OutputArea-output .cnnx-ps").first
    front_end.wait_for(state="visible", timeout=60_000)
    status = front_end.locator("[role=status]")
    # The notes' layer, once the front-end has drawn Python's first answer.
    front_end.scroll_into_view_if_needed()
    page.wait_for_function("(el) => el.textContent.includes('padding=1')",
                           arg=status.element_handle(), timeout=30_000)
    slider = front_end.locator('input[name="padding"]')
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # Each key is a round trip through the kernel: wait for the answer to the second.
    page.wait_for_function("(el) => el.textContent.includes('padding=3')",
                           arg=status.element_handle(), timeout=30_000)
    settings = {name: int(value) for name, value in front_end.locator(
        "input[type=range]").evaluate_all("inputs => inputs.map((i) => [i.name, i.value])")}
    assert settings["padding"] == 3
    explorer = PaddingStrideExplorer()
    for name, value in settings.items():
        setattr(explorer, name, value)
    # textContent has no line break between the status line's two lines: compare the words.
    assert "".join(status.text_content().split()) == "".join(explorer.status_text.split())
    assert not _widget_errors(notebook)
    front_end.screenshot(path=str(artifacts / "lab_live_explorer_7_3.png"))
    page.evaluate("async () => await window.jupyterapp.serviceManager.sessions.shutdownAll()")
