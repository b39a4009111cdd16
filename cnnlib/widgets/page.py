"""An explorer's page form: the Python explorer's own pictures for a grid of settings.

On the website there is no Python kernel, so an ipywidgets explorer cannot redraw.
Its page form is the next best honest thing: we move the explorer's real controls
through a small grid of settings (each explorer chooses which controls and values,
in :meth:`~cnnlib.widgets.base.Explorer.page_controls`), let its own callbacks
redraw, and keep every picture and status line it produced. The page then shows
plain HTML controls with a few lines of JavaScript that switch between those saved
states. Nothing is recomputed in the browser, so what the page shows for a setting
is exactly what the Python explorer shows for it.

Dependent controls are handled the way the explorer handles them: when a setting
makes the explorer clamp a control (a step past the last output cell, say), the
state records the values the explorer actually ended on, and the page moves its
controls there too.

The form is one self-contained ``text/html`` block (images inline as base64, the
script inline), so it works from a local folder, in any notebook viewer that
trusts the notebook, and with no network.

Where the script does not run, the form must not pretend to work. JupyterLab shows a
notebook opened from disk untrusted: its sanitizer drops every ``<script>`` (with its
text), every ``<style>`` element, ``id``, ``data-*`` and ``hidden`` attributes, and
disables range inputs, but keeps classes, inline ``style`` attributes and the text of
unknown tags such as ``<template>`` or ``<noscript>`` (checked in JupyterLab 4.6).
So no CSS rule and no hidden element can keep dead controls out of sight there.
Instead the HTML holds only what is true without the script: the explorer's first
picture, its status line and a notice "Run this cell to use the explorer". The
controls and the note about the form are in the script's JSON payload, and the
script puts them in and takes the notice out. A reader who trusts the notebook in
Lab runs the script, and then sees what the website shows.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: Most states one page form may hold: each is a picture, so this bounds the page's weight.
MAX_STATES = 160


@dataclass(frozen=True)
class PageControl:
    """One control of the page form.

    Attributes:
        name: the explorer's attribute holding the ipywidgets control (e.g. ``"padding"``).
        values: the control values the page offers, in order.
        labels: what the page shows for each value (defaults to ``str(value)``).
        label: the control's caption (defaults to the widget's description).
        kind: ``"slider"`` or ``"menu"``.
        play: add a ▶ button that steps through the values (a slider only).
    """

    name: str
    values: tuple
    labels: tuple[str, ...] = ()
    label: str = ""
    kind: str = "slider"
    play: bool = False

    def shown(self, i: int) -> str:
        return self.labels[i] if self.labels else str(self.values[i])


def slider(explorer: Any, name: str, values: Sequence | None = None, play: bool = False
           ) -> PageControl:
    """A page slider over ``values`` (default: every value of the int slider ``name``)."""
    widget = getattr(explorer, name)
    if values is None:
        values = range(widget.min, widget.max + 1, widget.step)
    return PageControl(name, tuple(values), label=widget.description, play=play)


def menu(explorer: Any, name: str, values: Sequence | None = None) -> PageControl:
    """A page menu over ``values`` of the dropdown or toggle ``name`` (default: all options).

    The labels are the widget's own option labels.
    """
    widget = getattr(explorer, name)
    # ipywidgets keeps the (label, value) pairs of every selection widget in _options_full.
    options = [(str(label), value) for label, value in widget._options_full]
    if values is not None:
        wanted = list(values)
        options = [option for option in options if option[1] in wanted]
        missing = [v for v in wanted if v not in [value for _, value in options]]
        if missing:
            raise ValueError(f"{name} has no option(s) {missing}")
    return PageControl(
        name,
        tuple(value for _, value in options),
        labels=tuple(label for label, _ in options),
        label=widget.description,
        kind="menu",
    )


def checkbox(explorer: Any, name: str) -> PageControl:
    """A page menu for the checkbox ``name``: off, on."""
    widget = getattr(explorer, name)
    return PageControl(name, (False, True), labels=("no", "yes"), label=widget.description,
                       kind="menu")


def compress_png(png: bytes) -> bytes:
    """The same picture as a palette PNG (256 colours), typically a third of the bytes.

    The explorers' pictures are flat-colour diagrams and colour maps, which a
    256-colour palette keeps without visible change; the page carries dozens of them.
    """
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        paletted = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                                 dither=Image.Dither.NONE)
    out = io.BytesIO()
    paletted.save(out, format="PNG", optimize=True)
    return out.getvalue()


@dataclass
class PageStates:
    """Every state of a page form, as computed by the Python explorer.

    Attributes:
        controls: the page's controls.
        images: base64 palette PNGs, each distinct picture once.
        states: key ``"i,j,..."`` (indices into each control's values, as requested)
            -> ``[image index, status HTML, key of the values the explorer ended on]``.
        start: the key of the explorer's settings before (and after) the sweep.
    """

    controls: list[PageControl]
    images: list[str]
    states: dict[str, list]
    start: str


def _value_widgets(widget: Any) -> list:
    """Every control with a value under ``widget`` (a box of controls), in display order."""
    children = getattr(widget, "children", None)
    if children is not None:
        return [w for child in children for w in _value_widgets(child)]
    if hasattr(widget, "value"):
        return [widget]
    return []


def _key(indices: Sequence[int]) -> str:
    return ",".join(str(i) for i in indices)


def _index(control: PageControl, value: Any) -> int | None:
    try:
        return control.values.index(value)
    except ValueError:
        return None


def sweep(explorer: Any, controls: Sequence[PageControl], max_states: int = MAX_STATES
          ) -> PageStates:
    """Move ``explorer`` through every combination of ``controls`` and keep what it drew.

    Each combination is set control by control, in order, exactly as a reader
    would, so the explorer's own callbacks (clamping, syncing) run. The explorer
    is put back on its starting values at the end.

    Raises:
        ValueError: when the grid has more than ``max_states`` combinations.
    """
    controls = list(controls)
    count = 1
    for control in controls:
        count *= len(control.values)
    if count > max_states:
        raise ValueError(
            f"{type(explorer).__name__}'s page form would hold {count} states, more than "
            f"{max_states}: offer fewer values"
        )
    widgets_ = [getattr(explorer, control.name) for control in controls]
    saved = [(widget, widget.value) for widget in _value_widgets(explorer.controls)]
    hidden = explorer.hidden_state()
    start = [_index(c, w.value) for c, w in zip(controls, widgets_, strict=True)]
    # A start value the page does not offer (a dropdown's "choose ..." entry): open on the first.
    start = [0 if i is None else i for i in start]
    images: list[str] = []
    image_index: dict[str, int] = {}
    states: dict[str, list] = {}
    try:
        for combo in itertools.product(*(range(len(c.values)) for c in controls)):
            # Twice: a control whose range depends on a later one (a step slider on padding
            # and stride) gets its value again once the controls it depends on are set.
            for _ in range(2):
                for control, widget, i in zip(controls, widgets_, combo, strict=True):
                    widget.value = control.values[i]
            ended = [_index(c, w.value) for c, w in zip(controls, widgets_, strict=True)]
            if None in ended:  # clamped to a value the page does not offer
                continue
            encoded = base64.b64encode(compress_png(explorer.image.value)).decode("ascii")
            if encoded not in image_index:
                image_index[encoded] = len(images)
                images.append(encoded)
            states[_key(combo)] = [image_index[encoded], explorer.status.value, _key(ended)]
    finally:
        for _ in range(2):
            for widget, value in saved:
                widget.value = value
        explorer.restore_hidden_state(hidden)
    # A state the explorer clamped to must itself be on the page.
    for key, (_, _, ended) in states.items():
        if ended not in states:
            raise ValueError(f"setting {key} ends on {ended}, which the page cannot show")
    return PageStates(controls, images, states, _key(start))


# Scoped to the form. JupyterLab drops <style> from an untrusted notebook's outputs, so
# these rules style only what the script adds (and the script runs only where they
# are kept); what must look right without the script is styled inline (_BOX, _NOTICE).
_STYLE = (
    "<style>"
    ".cnn-explorer .cnnx-row{display:flex;flex-wrap:wrap;align-items:center;gap:.5em;"
    "margin:.15em 0}"
    ".cnn-explorer .cnnx-caption{min-width:7.5em}"
    ".cnn-explorer input[type=range]{width:14em;max-width:55vw}"
    ".cnn-explorer select{max-width:100%}"
    ".cnn-explorer img.cnnx-image{display:block;max-width:100%;height:auto;margin:.4em 0}"
    ".cnn-explorer .cnnx-note{font-size:.85em;color:#57606a;margin-top:.3em}"
    "</style>"
)
# Inline styles survive JupyterLab's sanitizer (checked in JupyterLab 4.6).
_BOX = "border:1px solid #d0d7de;border-radius:6px;padding:.5em .8em;margin:.5em 0"
_NOTICE = "font-weight:600;color:#57606a;margin-top:.3em"
#: What the form says where its script does not run (an untrusted notebook in JupyterLab).
NOTICE = "Run this cell to use the explorer."
# The notice as the page form and the saved picture both show it (the script removes it).
_NOTICE_HTML = f'<div class="cnnx-notice" style="{_NOTICE}">{html.escape(NOTICE)}</div>'

_SCRIPT = """
(function () {
  var root = document.getElementById("%(id)s");
  var data = JSON.parse(root.querySelector("script.cnnx-states").textContent);
  // The controls and the note exist only where this script runs; the notice goes.
  root.querySelector(".cnnx-controls").innerHTML = data.controls;
  root.querySelector(".cnnx-note").textContent = data.note;
  var notice = root.querySelector(".cnnx-notice");
  if (notice) { notice.parentNode.removeChild(notice); }
  root.classList.add("cnnx-live");
  var inputs = Array.prototype.slice.call(root.querySelectorAll("[data-control]"));
  var image = root.querySelector("img.cnnx-image");
  var status = root.querySelector(".cnnx-status");
  var timer = null;
  function show(key) {
    var state = data.states[key];
    if (!state) { return; }
    var ended = state[2].split(",");
    inputs.forEach(function (input, i) {
      input.value = ended[i];
      var out = root.querySelector('output[data-for="' + input.dataset.control + '"]');
      if (out) { out.textContent = data.labels[i][Number(ended[i])]; }
    });
    image.src = "data:image/png;base64," + data.images[state[0]];
    status.innerHTML = state[1];
    root.dataset.state = state[2];
  }
  function current() {
    return inputs.map(function (input) { return input.value; }).join(",");
  }
  inputs.forEach(function (input) {
    input.addEventListener("input", function () { show(current()); });
    input.addEventListener("change", function () { show(current()); });
  });
  var play = root.querySelector("button.cnnx-play");
  if (play) {
    var stepper = root.querySelector('[data-control="' + play.dataset.for + '"]');
    play.addEventListener("click", function () {
      if (timer) { clearInterval(timer); timer = null; play.textContent = "\\u25b6"; return; }
      play.textContent = "\\u275a\\u275a";
      timer = setInterval(function () {
        var before = current();
        stepper.value = String(Number(stepper.value) + 1);
        show(current());
        if (current() === before || Number(stepper.value) >= Number(stepper.max)) {
          clearInterval(timer); timer = null; play.textContent = "\\u25b6";
        }
      }, %(interval)d);
    });
  }
  show(data.start);
})();
"""


def not_live_text(name: str) -> str:
    """The plain-text form of an explorer that is not live (``text/plain`` of its output)."""
    return f"{name}: run this cell for the live explorer"


def picture_html(name: str, png_base64: str) -> str:
    """An explorer that is not live, as a picture: the last one it drew and :data:`NOTICE`.

    What a notebook saved from a reader's kernel shows for an explorer that has no page
    form (see :func:`cnnlib.lab.offline.keep_offline`); styled inline, as the page form,
    so it looks the same in an untrusted notebook.

    Args:
        name: the explorer's class name, e.g. ``"KernelExplorer"``.
        png_base64: the picture, base64-encoded PNG.
    """
    name = html.escape(name)
    return (
        f'<div class="cnn-explorer" data-explorer="{name}" style="{_BOX}">'
        f'<img class="cnnx-image" alt="{name} picture" '
        'style="display:block;max-width:100%;height:auto;margin:.4em 0" '
        f'src="data:image/png;base64,{png_base64}">'
        f"{_NOTICE_HTML}"
        "</div>"
    )


#: Mounts a live explorer's front-end; where it cannot, says so over the picture.
_MOUNT = """(function () {
  var root = document.getElementById(%(id)s);
  var mount = root.querySelector(".cnnx-mount");
  try {
    if (!window.CNNExplorers || !window.CNNOps) throw new Error("its scripts did not load");
    CNNExplorers.mount(mount, %(name)s, %(state)s);
    root.removeChild(root.querySelector(".cnnx-fallback"));
    root.classList.add("cnnx-live");
  } catch (error) {
    mount.textContent = "";
    root.querySelector(".cnnx-notice").textContent = "This browser cannot run the explorer ("
      + error.message + "): the picture shows its first setting.";
  }
})();"""


def _script(text: str) -> str:
    """``text`` inside a <script> element: nothing in it may end or comment out the element."""
    return "<script>" + text.replace("</", "<\\/").replace("<!--", "<\\!--") + "</script>"


def live_html(name: str, png_base64: str | None, alt: str, scripts: Sequence[str],
              state: dict) -> str:
    """A live explorer's website form: its front-end, computing in the reader's browser.

    The HTML alone (what JupyterLab shows of an untrusted notebook, which runs no script)
    is the picture Python drew and :data:`NOTICE`, as :func:`picture_html`. The scripts
    (the chapter-7 operations, the host, the explorer's front-end: inline, so the form
    works from a folder and in any viewer that trusts the notebook) then mount the
    front-end and take the picture away; a browser that cannot run them says so instead.

    Args:
        name: the explorer's name, e.g. ``"PaddingStrideExplorer"``.
        png_base64: the picture for a page that runs no script, or None.
        alt: what the picture shows, in words.
        scripts: the text of each script, in the order the page must run them.
        state: the start state :meth:`~cnnlib.widgets.live.LiveExplorer.page_state` gives.
    """
    payload = json.dumps(state, sort_keys=True)
    uid = "cnnl-" + hashlib.sha1((name + payload).encode()).hexdigest()[:10]
    picture = "" if png_base64 is None else (
        f'<img class="cnnx-image" alt="{html.escape(alt)}" '
        'style="display:block;max-width:100%;height:auto;margin:.4em 0" '
        f'src="data:image/png;base64,{png_base64}">')
    mount = _MOUNT % {"id": json.dumps(uid), "name": json.dumps(name), "state": payload}
    return (
        f'<div class="cnn-explorer" data-explorer="{html.escape(name)}" data-live="1" '
        f'id="{uid}" style="{_BOX}">'
        f'<div class="cnnx-fallback">{picture}{_NOTICE_HTML}</div>'
        '<div class="cnnx-mount"></div>'
        "</div>"
        + "".join(_script(text) for text in scripts)
        + _script(mount)
    )


def page_html(explorer: Any, controls: Sequence[PageControl] | None = None,
              interval_ms: int = 900) -> str:
    """The explorer's page form: HTML controls over its precomputed states.

    Without its script the form shows the explorer's first picture, its status line and
    :data:`NOTICE`; the script adds the controls and a note on what the form holds.

    Args:
        explorer: a :class:`~cnnlib.widgets.base.Explorer`.
        controls: the page's controls; default ``explorer.page_controls()``.
        interval_ms: time per step of a ▶ button.

    Returns:
        One self-contained ``text/html`` block.

    Raises:
        ValueError: as :func:`sweep`, when the grid holds too many states.
    """
    controls = explorer.page_controls() if controls is None else list(controls)
    states = sweep(explorer, controls)
    start = [int(i) for i in states.start.split(",")]
    rows = []
    for control, value_index in zip(controls, start, strict=True):
        caption = html.escape(control.label or control.name)
        name = html.escape(control.name)
        if control.kind == "menu":
            options = "".join(
                f'<option value="{i}"{" selected" if i == value_index else ""}>'
                f"{html.escape(control.shown(i))}</option>"
                for i in range(len(control.values))
            )
            field = f'<select data-control="{name}">{options}</select>'
        else:
            field = (
                f'<input type="range" data-control="{name}" min="0" '
                f'max="{len(control.values) - 1}" step="1" value="{value_index}">'
                f'<output data-for="{name}">{html.escape(control.shown(value_index))}</output>'
            )
            if control.play:
                field = (f'<button type="button" class="cnnx-play" data-for="{name}" '
                         f'title="play">\u25b6</button>' + field)
        rows.append(f'<label class="cnnx-row"><span class="cnnx-caption">{caption}</span>'
                    f"{field}</label>")
    count = len(states.states)
    # True wherever the script runs: the website, a plain HTML file, a trusted notebook.
    note = (
        f"This form offers {count} setting{'s' if count != 1 else ''}, each drawn beforehand "
        "by the Python explorer; run the notebook for every setting."
    )
    payload = {
        "start": states.start,
        "images": states.images,
        "states": states.states,
        "labels": [[c.shown(i) for i in range(len(c.values))] for c in controls],
        # In the payload, not the HTML: a viewer that drops the script drops these with it.
        "controls": "".join(rows),
        "note": note,
    }
    # "</" cannot appear inside a <script> element's text.
    payload_json = json.dumps(payload, separators=(",", ":")).replace("</", "<\\/")
    # Named by its content, so re-executing an unchanged notebook rewrites the same bytes.
    uid = "cnnx-" + hashlib.sha1(payload_json.encode()).hexdigest()[:12]
    first = states.states[states.start]
    return (
        f'<div class="cnn-explorer" id="{uid}" data-explorer="{type(explorer).__name__}" '
        f'data-state="{states.start}" style="{_BOX}">'
        f"{_STYLE}"
        '<div class="cnnx-controls"></div>'
        f'<img class="cnnx-image" alt="{html.escape(type(explorer).__name__)} picture" '
        f'src="data:image/png;base64,{states.images[first[0]]}">'
        f'<div class="cnnx-status">{first[1]}</div>'
        f"{_NOTICE_HTML}"
        '<div class="cnnx-note"></div>'
        f'<script type="application/json" class="cnnx-states">{payload_json}</script>'
        f"<script>{_SCRIPT % {'id': uid, 'interval': interval_ms}}</script>"
        "</div>"
    )
