"""cnnlib.widgets.page: an explorer's website form holds what the Python explorer draws."""

from __future__ import annotations

import base64
import io
import json
import math
import re

import ipywidgets as widgets
import numpy as np
import pytest
import torch
from PIL import Image

from cnnlib.viz.cell_grid import message_figure
from cnnlib.widgets import page
from cnnlib.widgets.base import PAGE_FORMS_VARIABLE
from cnnlib.widgets.guarded import GuardedExplorer, clamp_slider


class ToyExplorer(GuardedExplorer):
    """A page-form explorer of the shape the step-through and receptive-field explorers had
    (they compute in the reader's browser now): a menu, a size, and a step that the size
    clamps (``sync_controls``), each setting drawn as a different picture."""

    def __init__(self) -> None:
        self.shape = widgets.Dropdown(options=[("square", "square"), ("wide", "wide")],
                                      value="square", description="shape")
        self.size = widgets.IntSlider(2, min=1, max=3, description="size")
        self.step = widgets.IntSlider(0, min=0, max=3, description="step")
        super().__init__([self.shape, self.size, self.step])

    def cells(self) -> int:
        return self.size.value * (self.size.value + (self.shape.value == "wide"))

    def page_controls(self) -> list:
        # Every step of the largest grid, so some settings clamp (as the step slider did).
        return [page.menu(self, "shape"), page.slider(self, "size"),
                page.slider(self, "step", range(12), play=True)]

    def sync_controls(self) -> None:
        clamp_slider(self.step, self.cells() - 1)

    def update(self) -> None:
        pass

    def draw(self):
        return message_figure(self.describe())

    def describe(self) -> str:
        return f"{self.shape.value} {self.size.value}: step {self.step.value + 1} of {self.cells()}"


# Every explorer that needs no dataset; the feature-map explorer has its own test below.
MAKERS = {
    "toy": ToyExplorer,
}


def payload(form: str) -> dict:
    return json.loads(re.search(r'class="cnnx-states">(.*?)</script>', form).group(1))


def pixels(encoded: str | bytes) -> np.ndarray:
    raw = base64.b64decode(encoded) if isinstance(encoded, str) else encoded
    with Image.open(io.BytesIO(raw)) as image:
        return np.asarray(image.convert("RGB"))


def apply(explorer, controls, key: str) -> None:
    """Set a fresh explorer to the page state ``key`` the way a reader would."""
    for _ in range(2):
        for control, i in zip(controls, key.split(","), strict=True):
            getattr(explorer, control.name).value = control.values[int(i)]


def _tensors(explorer) -> dict:
    """Every tensor the explorer holds, copied: its state beyond the controls."""
    return {name: value.clone() for name, value in vars(explorer).items()
            if isinstance(value, torch.Tensor)}


class Swept:
    """An explorer, what it showed before its page form was made, and the form."""

    def __init__(self, name: str) -> None:
        self.explorer = MAKERS[name]()
        self.before = (
            [w.value for w in page._value_widgets(self.explorer.controls)],
            self.explorer.status.value,
            self.explorer.image.value,
            _tensors(self.explorer),
        )
        self.form = page.page_html(self.explorer)
        self.data = payload(self.form)


_swept: dict[str, Swept] = {}


@pytest.fixture(scope="module")
def swept():
    """Each explorer's form, made once per module (a sweep redraws dozens of times)."""

    def get(name: str) -> Swept:
        if name not in _swept:
            _swept[name] = Swept(name)
        return _swept[name]

    return get


@pytest.mark.parametrize("name", MAKERS)
def test_every_state_is_what_a_fresh_explorer_shows(name, swept):
    result = swept(name)
    data, controls = result.data, result.explorer.page_controls()
    assert len(data["states"]) > 1
    assert data["labels"] == [[c.shown(i) for i in range(len(c.values))] for c in controls]
    # Three states spread over the grid (all of them would take minutes).
    keys = sorted(data["states"])
    for key in (keys[1], keys[len(keys) // 2], keys[-1]):
        image_index, status, ended = data["states"][key]
        fresh = MAKERS[name]()
        apply(fresh, controls, key)
        assert status == fresh.status.value, key
        assert ended == ",".join(
            str(c.values.index(getattr(fresh, c.name).value)) for c in controls)
        expected = pixels(page.compress_png(fresh.image.value))
        assert np.array_equal(pixels(data["images"][image_index]), expected), key


@pytest.mark.parametrize("name", MAKERS)
def test_the_sweep_leaves_the_explorer_as_it_was(name, swept):
    result = swept(name)
    values, status, image, tensors = result.before
    assert [w.value for w in page._value_widgets(result.explorer.controls)] == values
    after = _tensors(result.explorer)
    assert after.keys() == tensors.keys()
    for name, value in tensors.items():  # e.g. the channels explorer's per-channel biases
        torch.testing.assert_close(after[name], value, rtol=0, atol=0, equal_nan=True,
                                   msg=f"{name} changed")
    assert result.explorer.status.value == status
    assert np.array_equal(pixels(result.explorer.image.value), pixels(image))


def test_pictures_differ_between_settings(swept):
    # A stand-in explorer (the pooling, step-through and receptive-field explorers, once the
    # examples here, compute in the reader's browser now and have no page form).
    result = swept("toy")
    data = result.data
    # Every combination of the page's values (shapes x sizes x steps, some of which the
    # explorer clamps), and the settings draw many pictures.
    combinations = 1
    for control in result.explorer.page_controls():
        combinations *= len(control.values)
    assert len(data["states"]) == combinations
    assert len(data["images"]) > combinations // 4
    assert len({status for _, status, _ in data["states"].values()}) > combinations // 4


def test_a_clamped_setting_ends_where_the_explorer_clamps(swept):
    controls = swept("toy").explorer.page_controls()
    data = swept("toy").data
    step_values = controls[2].values
    # A square of size 1 has one cell, so asking for the last step ends on step 0, as the
    # live slider does.
    key = f"0,0,{len(step_values) - 1}"
    assert data["states"][key][2] == "0,0,0"
    fresh = ToyExplorer()
    apply(fresh, controls, key)
    assert fresh.step.value == 0


def test_start_state_is_the_explorers_own(swept):
    result = swept("toy")
    explorer, form, data = result.explorer, result.form, result.data
    image_index, status, _ = data["states"][data["start"]]
    assert status == explorer.status.value
    assert f'data-state="{data["start"]}"' in form
    first_img = re.search(r'<img class="cnnx-image"[^>]*src="data:image/png;base64,([^"]+)"',
                          form).group(1)
    assert first_img == data["images"][image_index]


def test_too_many_states_are_refused():
    explorer = MAKERS["toy"]()
    controls = [page.menu(explorer, "shape"), page.slider(explorer, "size"),
                page.slider(explorer, "step", range(40))]
    assert math.prod(len(c.values) for c in controls) > page.MAX_STATES
    with pytest.raises(ValueError, match="more than"):
        page.sweep(explorer, controls)


def test_a_menu_refuses_values_it_does_not_have():
    explorer = MAKERS["toy"]()
    with pytest.raises(ValueError, match="no option"):
        page.menu(explorer, "shape", [explorer.shape.value, "no such shape"])


def test_the_form_is_self_contained_and_script_safe(swept):
    form = swept("toy").form
    assert "http://" not in form and "https://" not in form
    # The JSON payload never closes its own <script> element early.
    body = re.search(r'class="cnnx-states">(.*?)</script>', form, re.S).group(1)
    assert "</" not in body


def _without_scripts(form: str) -> str:
    """What JupyterLab keeps of an untrusted output: no <script> (nor its text), no <style>."""
    return re.sub(r"<(script|style)\b[^>]*>.*?</\1>", "", form, flags=re.S)


def test_without_its_script_the_form_shows_its_first_picture_and_says_so(swept):
    result = swept("toy")
    bare = _without_scripts(result.form)
    assert "cnnx-states" in result.form and "cnnx-states" not in bare  # the helper works
    # No dead controls: nothing a reader could move, nothing that claims the form works.
    for part in ("<input", "<select", "<button", "<output", "data-control",
                 result.data["note"]):
        assert part not in bare, part
    assert page.NOTICE in bare
    image_index, status, _ = result.data["states"][result.data["start"]]
    assert f'base64,{result.data["images"][image_index]}"' in bare
    assert f'<div class="cnnx-status">{status}</div>' in bare


def test_the_script_gets_the_controls_and_a_true_note(swept):
    result = swept("toy")
    controls, data = result.explorer.page_controls(), result.data
    assert re.findall(r'data-control="(\w+)"', data["controls"]) == [c.name for c in controls]
    maxima = [int(m) for m in re.findall(r'data-control="\w+" min="0" max="(\d+)"',
                                         data["controls"])]
    assert maxima == [len(c.values) - 1 for c in controls if c.kind == "slider"]
    assert data["note"].startswith(f"This form offers {len(data['states'])} settings,")
    # The script puts them in and takes the notice out (run in Chromium by
    # tests/browser/test_site_explorers.py).
    script = re.search(r"<script>(.*?)</script>", result.form, re.S).group(1)
    for step in ("data.controls", "data.note", ".cnnx-notice", "cnnx-live"):
        assert step in script, step


def test_same_explorer_same_bytes(swept):
    # Re-executing an unchanged notebook must not change it. (The channels explorer, once
    # the example here, computes in the reader's browser now and has no page form.)
    assert page.page_html(MAKERS["toy"]()) == swept("toy").form


def test_display_adds_the_form_only_when_asked(monkeypatch):
    explorer = MAKERS["toy"]()
    monkeypatch.delenv(PAGE_FORMS_VARIABLE, raising=False)
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "text/html" not in bundle
    monkeypatch.setenv(PAGE_FORMS_VARIABLE, "1")
    monkeypatch.setattr(explorer, "page_controls", lambda: [page.slider(explorer, "size")])
    bundle = explorer._repr_mimebundle_()
    assert 'class="cnn-explorer"' in bundle["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_compress_png_keeps_the_picture():
    explorer = MAKERS["toy"]()
    original = pixels(explorer.image.value)
    compressed = page.compress_png(explorer.image.value)
    assert len(compressed) < len(explorer.image.value)
    difference = np.abs(pixels(compressed).astype(int) - original.astype(int))
    assert difference.mean() < 1.0  # out of 255: no visible change
