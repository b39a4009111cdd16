"""The live (anywidget) padding/stride explorer: traitlets in, cnnlib's numbers out.

Headless: no browser, no kernel. The front-end's own compute() is run under Node against
the same settings, so the website's numbers are held to Python's here too.
"""

from __future__ import annotations

import html
import json
import random
import re
import shutil
import subprocess

import pytest

from cnnlib.ops import SlidingWindow
from cnnlib.viz.padding_stride import formulas, input_title, kernel_title
from cnnlib.widgets.live import WEB_DIR, LivePaddingStride, front_end_module
from cnnlib.widgets.padding_stride import PaddingStrideExplorer, tiling_warning

CONTROLS = ("input_size", "kernel_size", "padding", "stride", "dilation")
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(
    NODE is None, reason="Node.js is not installed (apt-get install nodejs)"
)


def random_settings(count: int, seed: int) -> list[dict]:
    """Settings across every control's range, edge cases first."""
    edges = [
        dict(input_size=2, kernel_size=7, padding=0, stride=1, dilation=1),  # kernel > input
        dict(input_size=3, kernel_size=3, padding=0, stride=3, dilation=3),  # dilated too big
        dict(input_size=8, kernel_size=2, padding=0, stride=4, dilation=1),  # stride > kernel
        dict(input_size=1, kernel_size=1, padding=0, stride=1, dilation=1),  # input size 1
        dict(input_size=1, kernel_size=3, padding=1, stride=2, dilation=1),
        dict(input_size=7, kernel_size=3, padding=0, stride=2, dilation=2),  # zero padding
        dict(input_size=12, kernel_size=7, padding=4, stride=4, dilation=3),
    ]
    rng = random.Random(seed)
    spans = dict(input_size=(1, 12), kernel_size=(1, 7), padding=(0, 4), stride=(1, 4),
                 dilation=(1, 3))
    return edges + [
        {name: rng.randint(*spans[name]) for name in CONTROLS} | {"row": rng.randint(0, 12),
                                                                   "col": rng.randint(0, 12)}
        for _ in range(count)
    ]


def expected(settings: dict) -> dict:
    """What cnnlib says for these settings: the geometry, or the error message."""
    try:
        window = SlidingWindow.create(*(settings[name] for name in CONTROLS))
    except ValueError as err:
        return {"error": str(err)}
    out_h, out_w = window.output_size
    row = min(settings.get("row", 0), out_h - 1)
    col = min(settings.get("col", 0), out_w - 1)
    return {
        "error": "",
        "row": row,
        "col": col,
        "output": [out_h, out_w],
        "padded": list(window.padded_size),
        "leftover": list(window.leftover),
        "lost_input": list(window.lost_input),
        "window": [list(axis) for axis in window.window(row, col)],
        "formula": formulas(window)[0],
        "warning": tiling_warning(window),
        "titles": [input_title(window), kernel_title(window), f"output {out_h}×{out_w}"],
    }


def status_html_to_text(status: str) -> str:
    """The text a reader reads in an explorer's HTML status line (``<br>`` is a new line)."""
    return html.unescape(re.sub(r"<[^>]+>", "", status.replace("<br>", "\n")))


def check(widget_or_values, want: dict) -> None:
    get = (widget_or_values.get if isinstance(widget_or_values, dict)
           else lambda name: getattr(widget_or_values, name))
    assert get("error") == want["error"]
    if want["error"]:
        return
    geometry = get("geometry")
    assert (get("row"), get("col")) == (want["row"], want["col"])
    for key in ("output", "padded", "leftover", "lost_input", "window"):
        assert geometry[key] == want[key], key
    assert geometry["position"] == [want["row"], want["col"]]
    for key in ("formula", "warning", "titles"):
        assert get(key) == want[key], key


@pytest.mark.parametrize("settings", random_settings(40, seed=21))
def test_derived_values_follow_cnnlib(settings):
    widget = LivePaddingStride()
    for name, value in settings.items():  # one control at a time, as a reader moves them
        setattr(widget, name, value)
    check(widget, expected(settings))


@pytest.mark.parametrize("settings", random_settings(6, seed=7))
def test_status_line_is_the_ipywidgets_explorers(settings):
    controls = {name: settings[name] for name in CONTROLS}
    old = PaddingStrideExplorer(**controls, dpi=20)
    live = LivePaddingStride(**controls)
    if not old.valid:
        assert live.error == old.message != ""
        assert live.geometry == {} and live.summary == ""
        return
    assert live.status_text == status_html_to_text(old.status.value)
    assert live.geometry["window"] == [list(a) for a in old.window]


def test_a_bad_setting_is_a_message_and_the_next_change_fixes_it():
    widget = LivePaddingStride(input_size=8, kernel_size=3, padding=1)
    widget.input_size = 1
    widget.padding = 0
    with pytest.raises(ValueError) as err:
        SlidingWindow.create(1, 3, 0, 2, 1)
    assert widget.error == str(err.value)
    assert "use more padding or a smaller kernel" in widget.error
    assert widget.geometry == {} and widget.formula == "" and widget.titles == []
    widget.padding = 1
    assert widget.error == "" and widget.geometry["output"] == [1, 1]


def test_row_and_col_follow_the_output():
    widget = LivePaddingStride(input_size=12, kernel_size=1, padding=0, stride=1)
    widget.row, widget.col = 11, 9
    assert widget.geometry["window"] == [[11], [9]]
    widget.stride = 4  # output 3×3: the chosen cell moves to its last row/col
    assert (widget.row, widget.col) == (2, 2)
    assert widget.geometry["position"] == [2, 2]


def test_start_values_are_checked_and_widen_the_range():
    with pytest.raises(ValueError, match="kernel_size must be at least 1"):
        LivePaddingStride(kernel_size=0)
    with pytest.raises(TypeError, match="whole number"):
        LivePaddingStride(stride=1.5)
    with pytest.raises(TypeError, match="no control"):
        LivePaddingStride(kernal_size=3)
    widget = LivePaddingStride(input_size=20)
    spec = {c["name"]: c for c in widget.controls}
    assert spec["input_size"]["max"] == 20 and spec["kernel_size"]["max"] == 7
    assert widget.page_state()["input_size"] == 20


def test_front_end_module_names_the_explorer():
    with pytest.raises(ValueError, match="does not define 'Nope'"):
        front_end_module("Nope", "padding-stride.js")
    esm = LivePaddingStride._esm
    assert esm.rstrip().endswith('export default CNNExplorers.widget("PaddingStrideExplorer");')


@needs_node
def test_esm_is_a_valid_module_exporting_render(tmp_path):
    module = tmp_path / "padding_stride.mjs"
    module.write_text(LivePaddingStride._esm, encoding="utf-8")
    subprocess.run([NODE, "--check", str(module)], check=True, capture_output=True)
    # Importing it runs the host and the front-end: the default export is anywidget's shape,
    # and nothing leaks a CNNExplorers global (two widgets must not share one registry).
    script = (
        f"const m = await import({json.dumps(module.as_uri())});"
        "console.log(JSON.stringify({render: typeof m.default.render,"
        " global: typeof globalThis.CNNExplorers}));"
    )
    out = subprocess.run([NODE, "--input-type=module", "-e", script], check=True,
                         capture_output=True, text=True).stdout
    assert json.loads(out) == {"render": "function", "global": "undefined"}


@needs_node
def test_browser_compute_matches_python():
    """The website's compute(), run under Node, gives Python's values for every setting."""
    cases = random_settings(60, seed=3)
    scripts = [WEB_DIR / "cnn-ops.js", WEB_DIR / "cnn-host.js",
               WEB_DIR / "explorers" / "padding-stride.js"]
    runner = (
        "const vm = require('vm'); const fs = require('fs');"
        "const context = vm.createContext({console});"
        f"for (const f of {json.dumps([str(s) for s in scripts])})"
        "  vm.runInContext(fs.readFileSync(f, 'utf8'), context, {filename: f});"
        "const explorer = vm.runInContext('CNNExplorers.get(\"PaddingStrideExplorer\")', context);"
        f"const cases = {json.dumps(cases)};"
        "const results = cases.map((c) => {"
        "  try { return {error: '', ...explorer.compute({row: 0, col: 0, ...c})}; }"
        "  catch (e) { return {error: e.message}; } });"
        "console.log(JSON.stringify(results));"
    )
    out = subprocess.run([NODE, "-e", runner], check=True, capture_output=True, text=True)
    results = json.loads(out.stdout)
    for settings, values in zip(cases, results, strict=True):
        want = expected(settings)
        check(values, want)
        if not want["error"]:
            live = LivePaddingStride(**{n: settings[n] for n in CONTROLS})
            live.row, live.col = settings.get("row", 0), settings.get("col", 0)
            assert values["summary"] == live.summary
            assert values["geometry"] == live.geometry
