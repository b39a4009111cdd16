"""JupyterLab in a real browser: a chapters/*.py opens as a notebook and its widgets respond.

This is what `make lab` promises. The lab runs on a copy of some sections (each
.py with its executed .ipynb, as in a clone) in a temporary directory, so running
cells never writes into chapters/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SECTION = "7_2_conv_images.py"
# Opened before Run All: explorers (7.3) and a training progress bar (8.1).
FRESH_SECTIONS = ("7_3_padding_stride", "8_1_alexnet")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab_url(tmp_path_factory):
    work = tmp_path_factory.mktemp("lab")
    for stem in (SECTION.removesuffix(".py"), *FRESH_SECTIONS):
        for suffix in (".py", ".ipynb"):
            shutil.copy(ROOT / "chapters" / f"{stem}{suffix}", work / f"{stem}{suffix}")
    port = _free_port()
    log = open(work / "jupyterlab.log", "w")  # closed in teardown
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(work / ".jupyter-config"))
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", "--IdentityProvider.token=", "--ServerApp.password=",
         "--LabApp.expose_app_in_browser=True", f"--ServerApp.root_dir={work}",
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
                log_text = (work / "jupyterlab.log").read_text()
                pytest.fail(f"JupyterLab did not start; its log:\n{log_text}")
            time.sleep(0.5)
    yield url
    server.terminate()
    server.wait(timeout=30)
    log.close()


def _widget_png(page) -> str:
    return page.eval_on_selector(".jp-OutputArea .widget-image", "img => img.src")


def test_py_opens_as_notebook_and_explorer_redraws(page, lab_url, artifacts):
    page.goto(f"{lab_url}/lab/tree/{SECTION}")
    # The overrides shipped by `make venv` make the Jupytext notebook the default viewer.
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session",
        timeout=60_000,
    )
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    dropdown = page.locator(".jp-OutputArea .widget-dropdown select").first
    dropdown.wait_for(state="visible", timeout=180_000)
    page.wait_for_function(
        "() => document.querySelector('.jp-OutputArea .widget-image')"
        " && document.querySelector('.jp-OutputArea .widget-image').src.startsWith('blob:')",
        timeout=60_000,
    )
    before = _widget_png(page)
    # ipywidgets renders labels with non-breaking spaces, so pick by position.
    options = dropdown.locator("option").all_inner_texts()
    current = dropdown.evaluate("select => select.selectedIndex")
    choice = next(i for i, o in enumerate(options) if i != current and o.lower() != "custom")
    dropdown.select_option(index=choice)
    page.wait_for_function(
        "(old) => document.querySelector('.jp-OutputArea .widget-image').src !== old",
        arg=before, timeout=30_000,
    )
    dropdown.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "lab_7_2.png"))


@pytest.mark.parametrize("stem", FRESH_SECTIONS)
def test_fresh_section_shows_its_saved_outputs_without_widget_errors(stem, page, lab_url,
                                                                     artifacts):
    """Before Run All: no "model not found", no raw ``VBox(children=...)``, no frozen bar."""
    # ?reset: a fresh workspace, so only this section is open (as for a reader who just cloned).
    page.goto(f"{lab_url}/lab/tree/{stem}.py?reset")
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
    notebook.locator(".jp-OutputArea-output").first.wait_for(timeout=120_000)
    page.wait_for_timeout(2_000)  # let every saved output render
    # text_content, not inner_text: it includes cells that Lab has not painted yet.
    text = notebook.text_content()
    problems = [p for p in ("Error displaying widget", "model not found", "VBox(children=",
                            "0%|") if p in text]
    page.screenshot(path=str(artifacts / f"lab_fresh_{stem}.png"))
    assert not problems, f"{stem} before Run All shows {problems}"
    # The saved outputs are there: figures, and each explorer's page form with its picture.
    assert notebook.locator(".jp-OutputArea-output img").count() >= 1
    if stem == "7_3_padding_stride":
        assert notebook.locator(".jp-OutputArea-output .cnn-explorer img").count() == 2
