"""An explorer's website form: its one front-end, computing in the reader's browser.

On the website there is no Python kernel. Every explorer is a
:class:`~cnnlib.widgets.live.LiveExplorer`, whose front-end (``cnnlib/web/explorers``)
computes in the browser what Python computes in JupyterLab; its website form
(:func:`live_html`) is that front-end with its scripts inline, so it works from a local
folder, in any notebook viewer that trusts the notebook, and with no network.

Where the scripts do not run, the form must not pretend to work. JupyterLab shows a
notebook opened from disk untrusted: its sanitizer drops every ``<script>`` (with its
text), every ``<style>`` element, ``id``, ``data-*`` and ``hidden`` attributes, and
disables range inputs, but keeps classes, inline ``style`` attributes and the text of
unknown tags (checked in JupyterLab 4.6). So the HTML alone holds only what is true
without the scripts: the picture Python drew and a notice "Run this cell to use the
explorer". The scripts mount the front-end and take both away.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
from collections.abc import Sequence

#: Set to "1" (``make notebooks`` does) for each explorer's output to carry its website form.
PAGE_FORMS_VARIABLE = "CNNLIB_EXPLORER_PAGES"

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


# Inline styles survive JupyterLab's sanitizer (checked in JupyterLab 4.6).
_BOX = "border:1px solid #d0d7de;border-radius:6px;padding:.5em .8em;margin:.5em 0"
_NOTICE = "font-weight:600;color:#57606a;margin-top:.3em"
#: What the form says where its script does not run (an untrusted notebook in JupyterLab).
NOTICE = "Run this cell to use the explorer."
# The notice as the website form and the saved picture both show it (the scripts remove it).
_NOTICE_HTML = f'<div class="cnnx-notice" style="{_NOTICE}">{html.escape(NOTICE)}</div>'


def not_live_text(name: str) -> str:
    """The plain-text form of an explorer that is not live (``text/plain`` of its output)."""
    return f"{name}: run this cell for the live explorer"


def picture_html(name: str, png_base64: str) -> str:
    """An explorer that is not live, as a picture: the last one it drew and :data:`NOTICE`.

    What a notebook saved from a reader's kernel shows for an explorer that has no
    website form (see :func:`cnnlib.lab.offline.keep_offline`); styled inline, as the
    website form, so it looks the same in an untrusted notebook.

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
    // The host defines CNNExplorers; mount() throws if the front-end did not register.
    // (Not every explorer loads cnn-ops.js: 8.6's gradient flow reads a recorded table.)
    if (!window.CNNExplorers) throw new Error("its scripts did not load");
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
