"""The live (anywidget) padding/stride explorer: traitlets in, cnnlib's numbers out.

Headless: no browser, no kernel. The front-end's own compute() is run under Node against
the same settings, so the website's numbers are held to Python's here too.
"""

from __future__ import annotations

import base64
import html
import json
import random
import re

import pytest
from live_harness import check_esm_module, needs_node, node_compute

from cnnlib.ops import SlidingWindow
from cnnlib.viz.padding_stride import formulas, input_title, kernel_title
from cnnlib.widgets.live import front_end_module
from cnnlib.widgets.padding_stride import PaddingStrideExplorer, tiling_warning

CONTROLS = ("input_size", "kernel_size", "padding", "stride", "dilation")


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
    widget = PaddingStrideExplorer()
    for name, value in settings.items():  # one control at a time, as a reader moves them
        setattr(widget, name, value)
    check(widget, expected(settings))


@pytest.mark.parametrize("settings", random_settings(6, seed=7))
def test_status_line_says_the_formula_and_the_conv_layer(settings):
    controls = {name: settings[name] for name in CONTROLS}
    widget = PaddingStrideExplorer(**controls)
    try:
        window = SlidingWindow.create(*controls.values())
    except ValueError as err:  # cnnlib's own message, as the reader reads it
        assert widget.error == widget.status_text == str(err) != ""
        assert widget.geometry == {} and widget.summary == ""
        return
    out_h, out_w = window.output_size
    first = (f"output size {formulas(window)[0]} per side, so the output is {out_h}×{out_w} "
             f"(nn.Conv2d(1, 1, kernel_size={controls['kernel_size']}, "
             f"padding={controls['padding']}, stride={controls['stride']}, "
             f"dilation={controls['dilation']}))")
    warning = tiling_warning(window)
    assert widget.status_text == first + (f"\n⚠ {warning}" if warning else "")


def test_a_bad_setting_is_a_message_and_the_next_change_fixes_it():
    widget = PaddingStrideExplorer(input_size=8, kernel_size=3, padding=1)
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
    widget = PaddingStrideExplorer(input_size=12, kernel_size=1, padding=0, stride=1)
    widget.row, widget.col = 11, 9
    assert widget.geometry["window"] == [[11], [9]]
    widget.stride = 4  # output 3×3: the chosen cell moves to its last row/col
    assert (widget.row, widget.col) == (2, 2)
    assert widget.geometry["position"] == [2, 2]


def test_start_values_are_checked_and_widen_the_range():
    with pytest.raises(ValueError, match="kernel_size must be at least 1"):
        PaddingStrideExplorer(kernel_size=0)
    with pytest.raises(TypeError, match="whole number"):
        PaddingStrideExplorer(stride=1.5)
    with pytest.raises(TypeError, match="no control"):
        PaddingStrideExplorer(kernal_size=3)
    widget = PaddingStrideExplorer(input_size=20)
    spec = {c["name"]: c for c in widget.controls}
    assert spec["input_size"]["max"] == 20 and spec["kernel_size"]["max"] == 7
    assert widget.page_state()["input_size"] == 20


def test_front_end_module_names_the_explorer():
    with pytest.raises(ValueError, match="does not define 'Nope'"):
        front_end_module("Nope", "padding-stride.js")
    esm = PaddingStrideExplorer._esm
    assert esm.rstrip().endswith('export default CNNExplorers.widget("PaddingStrideExplorer");')


@needs_node
def test_esm_is_a_valid_module_exporting_render(tmp_path):
    check_esm_module(PaddingStrideExplorer, tmp_path)


@needs_node
def test_browser_compute_matches_python():
    """The website's compute(), run under Node, gives Python's values for every setting."""
    cases = random_settings(60, seed=3)
    results = node_compute("PaddingStrideExplorer", "padding-stride.js", cases,
                           common={"row": 0, "col": 0})
    for settings, values in zip(cases, results, strict=True):
        want = expected(settings)
        check(values, want)
        if not want["error"]:
            live = PaddingStrideExplorer(**{n: settings[n] for n in CONTROLS})
            live.row, live.col = settings.get("row", 0), settings.get("col", 0)
            assert values["summary"] == live.summary
            assert values["geometry"] == live.geometry


def test_the_output_carries_a_picture_and_says_it_is_not_live(monkeypatch):
    from cnnlib.widgets.page import PAGE_FORMS_VARIABLE

    monkeypatch.delenv(PAGE_FORMS_VARIABLE, raising=False)
    data, _ = PaddingStrideExplorer()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["text/plain"] == "PaddingStrideExplorer: run this cell for the live explorer"
    assert base64.b64decode(data["image/png"])[:4] == b"\x89PNG"
    assert "text/html" not in data  # a reader's kernel: no website form to make


def _without_scripts(form: str) -> str:
    """What JupyterLab keeps of an untrusted output: no <script> (nor its text), no <style>."""
    return re.sub(r"<(script|style)\b[^>]*>.*?</\1>", "", form, flags=re.S)


def test_the_website_form_is_the_front_end_and_without_scripts_the_picture(monkeypatch):
    import nbformat

    from cnnlib.lab.offline import keep_offline
    from cnnlib.widgets.page import NOTICE, PAGE_FORMS_VARIABLE

    monkeypatch.setenv(PAGE_FORMS_VARIABLE, "1")
    widget = PaddingStrideExplorer(input_size=8, kernel_size=3, padding=1, stride=2)
    data, _ = widget._repr_mimebundle_()
    form = data["text/html"]
    scripts = re.findall(r"<script>(.*?)</script>", form, re.S)
    # The three scripts whole (no "</" inside may end the element early), then the mount.
    assert len(scripts) == len(widget.page_scripts()) + 1
    for path, text in zip(widget.page_scripts(), scripts, strict=False):
        assert text.replace("<\\/", "</").replace("<\\!--", "<!--") == path.read_text()
    state = json.loads(re.search(r"CNNExplorers\.mount\(mount, \"PaddingStrideExplorer\", "
                                 r"(\{.*\})\);", scripts[-1]).group(1))
    assert state == json.loads(json.dumps(widget.page_state()))
    # Nothing to load from anywhere (the SVG namespace URI is a name, never fetched).
    assert not re.search(r'(src|href)="https?:', form)
    assert "fetch(" not in form and "import(" not in form
    bare = _without_scripts(form)
    for part in ("<input", "<select", "<button", "<output", "<svg"):
        assert part not in bare, part
    assert NOTICE in bare and f'base64,{data["image/png"]}"' in bare
    assert 'alt="PaddingStrideExplorer: output size ⌊(8 + 2·1 − 3)/2⌋ + 1 = 4' in bare
    # A save keeps it as the website form (cnnlib/lab/offline.py), the widget view goes.
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("display_data", data=data)])])
    assert keep_offline(notebook)["page forms"] == 1
    kept = notebook.cells[0].outputs[0].data
    assert kept["text/html"] == form and "application/vnd.jupyter.widget-view+json" not in kept
