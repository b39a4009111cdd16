"""Shared checks for live (anywidget) explorers, with no browser: Node runs the front-end.

Every live explorer's tests ask the same two things of its front-end file, so they are
written once here:

- ``node_compute``: the front-end's own ``compute()`` (what the website runs), run under
  Node for a list of settings, to be compared with the Python class's numbers;
- ``check_esm_module``: the class's ``_esm`` (what JupyterLab runs) is a valid ES module
  whose default export has anywidget's ``render``, and leaks no ``CNNExplorers`` global.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from cnnlib.widgets.live import WEB_DIR

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(
    NODE is None, reason="Node.js is not installed (apt-get install nodejs)"
)


def front_end_scripts(script: str) -> list[Path]:
    """The files a page loads, in order, for the front-end ``explorers/<script>``."""
    return [WEB_DIR / "cnn-ops.js", WEB_DIR / "cnn-host.js", WEB_DIR / "explorers" / script]


def node_compute(explorer: str, script: str, cases: list[dict],
                 common: dict | None = None) -> list[dict]:
    """``compute({...common, ...case})`` of front-end ``explorer`` for each case, under Node.

    Args:
        explorer: the name the front-end gives ``CNNExplorers.define``.
        script: its file name under ``cnnlib/web/explorers``.
        cases: the settings, one dict per call.
        common: values every call shares (data from Python, such as an explorer's inputs).

    Returns:
        One dict per case: ``{"error": "", **derived}``, or ``{"error": message}`` when
        ``compute`` threw (the message is what the status line would show).
    """
    scripts = [str(path) for path in front_end_scripts(script)]
    runner = (
        "const vm = require('vm'); const fs = require('fs');"
        "const context = vm.createContext({console});"
        f"for (const f of {json.dumps(scripts)})"
        "  vm.runInContext(fs.readFileSync(f, 'utf8'), context, {filename: f});"
        f"const explorer = vm.runInContext('CNNExplorers.get({json.dumps(explorer)})', context);"
        f"const cases = {json.dumps(cases)}; const common = {json.dumps(common or {})};"
        "const results = cases.map((c) => {"
        "  try { return {error: '', ...explorer.compute({...common, ...c})}; }"
        "  catch (e) { return {error: e.message}; } });"
        "console.log(JSON.stringify(results));"
    )
    # The cases travel inside the script; a long list would pass the limit of one argument.
    with tempfile.TemporaryDirectory() as folder:
        program = Path(folder) / "compute.js"
        program.write_text(runner, encoding="utf-8")
        out = subprocess.run([NODE, str(program)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def check_esm_module(widget_class, tmp_path: Path) -> None:
    """The class's ``_esm`` imports under Node and exports anywidget's ``render``.

    Importing it runs the host and the front-end; nothing may leak a ``CNNExplorers`` global
    (two widgets in one page must not share one registry).
    """
    module = tmp_path / f"{widget_class.__name__}.mjs"
    module.write_text(widget_class._esm, encoding="utf-8")
    script = (
        f"const m = await import({json.dumps(module.as_uri())});"
        "console.log(JSON.stringify({render: typeof m.default.render,"
        " global: typeof globalThis.CNNExplorers}));"
    )
    out = subprocess.run([NODE, "--input-type=module", "-e", script], check=True,
                         capture_output=True, text=True).stdout
    assert json.loads(out) == {"render": "function", "global": "undefined"}
