"""8.1's stage comparison on a page opened from file://, running LeNet and AlexNet in Chromium.

A page in tmp_path loads cnn-ops.js, cnn-host.js, cnn-networks.js and
explorers/compare-stages.js by file:// script tags and mounts the explorer with the state
Python gives (``StageComparisonExplorer.page_state()``: the pixels Python resized, the
stages, the kernels). ``CNNNetworks.base`` points at the runtime and the networks ``make
web-deps`` built (``_build/web-vendor/``; ``CNNLIB_WEB_VENDOR`` names another such folder).
Settings are made with the keyboard, and every number the page shows (the status line,
the colour scale, the maps and the kernels it draws, the input) is compared with PyTorch
through the Python explorer built from the same shipped weights.
"""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from live_page import check_readable_on_a_phone, lab_page, phone_page, set_menu
from matplotlib import colormaps
from PIL import Image

from cnnlib.viz.compare_stages import KERNELS
from cnnlib.widgets.compare_stages import StageComparisonExplorer

pytestmark = pytest.mark.browser

ROOT_DIR = Path(__file__).resolve().parents[2]
#: The folder laid out as the site's _static/ (onnxruntime/, models/).
VENDOR = Path(os.environ.get("CNNLIB_WEB_VENDOR", ROOT_DIR / "_build" / "web-vendor"))
ROOT = ".cnnx-stages"
TOLERANCE = 1e-4


def vendor_base(networks: tuple[str, ...]) -> str:
    """The file:// URL of the vendored runtime and networks (ending in "/")."""
    missing = [str(p) for p in [VENDOR / "onnxruntime" / "ort.iife.js",
                                *(VENDOR / "models" / f"{n}.onnx.js" for n in networks)]
               if not p.is_file()]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run `make web-deps`")
    return VENDOR.resolve().as_uri() + "/"


def network_page(tmp_path: Path, widget, base: str, spacer: bool = False) -> str:
    """A page that mounts widget's front-end with CNNNetworks.base set to base; its URL.

    With spacer, a screen-high block comes first, so the explorer starts off screen.
    """
    html = widget.standalone_html(type(widget).__name__)
    head = f"<script>window.CNNNetworks = {{base: {json.dumps(base)}}};</script>"
    if spacer:
        head += '<div id="spacer" style="height:2400px">spacer</div>'
    page = tmp_path / f"{type(widget).__name__}-{'spacer' if spacer else 'page'}.html"
    page.write_text(html.replace("<body>", "<body>" + head, 1), encoding="utf-8")
    return page.as_uri()


#: Resolves once the page's first answer (the derived value named by %r) or an error is in.
WAIT_FIRST = ("() => (window.mounted.model.get(%r) || []).length > 0 "
              "|| window.mounted.model.get('error')")


def settle(page) -> None:
    """Wait until the latest compute has been applied and drawn."""
    page.evaluate("async () => { await window.mounted.model.settled(); "
                  "await new Promise((r) => setTimeout(r, 0)); }")


def decode_png(url: str) -> np.ndarray:
    """RGBA pixels of a data:image/png URL."""
    raw = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGBA"))


def colour_indices(rgba: np.ndarray, palette: str) -> np.ndarray:
    """Each opaque pixel's position in matplotlib's 256-colour map (-1: transparent)."""
    lut = np.round(colormaps[palette].resampled(256)(np.arange(256))[:, :3] * 255).astype(int)
    flat = rgba.reshape(-1, 4).astype(int)
    distance = np.abs(flat[:, None, :3] - lut[None]).sum(-1)
    index = distance.argmin(1)
    assert (distance.min(1)[flat[:, 3] > 0] == 0).all(), "a colour that is not the palette's"
    index[flat[:, 3] == 0] = -1
    return index.reshape(rgba.shape[:2])


def expected_indices(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """matplotlib's colour index of each value (-1 for NaN, a gap)."""
    x = (values - low) / (high - low) * 256
    x[x == 256] = 255
    index = np.clip(np.floor(np.nan_to_num(x, nan=0)), 0, 255).astype(int)
    index[np.isnan(values)] = -1
    return index


def mosaic(values: np.ndarray, tiles, ncols: int, pad: int) -> np.ndarray:
    """cnnlib.viz.feature_maps.tile of flat values shaped (n, h, w)."""
    from cnnlib.viz.feature_maps import tile

    return tile(np.asarray(values, dtype=np.float64).reshape(tiles), ncols, pad=pad)


def style_of(values: np.ndarray, signed_always: bool) -> tuple[str, float, float]:
    """The colour map and limits cnnlib.viz draws these values with."""
    finite = values[np.isfinite(values)]
    low, high = float(finite.min()), float(finite.max())
    if signed_always or low < 0:
        m = float(np.abs(finite).max()) or 1.0
        return "RdBu_r", -m, m
    return "viridis", low, max(high, low + 1e-12)


def check_picture(svg, values: np.ndarray, signed_always: bool) -> tuple[float, float]:
    """The SVG's image shows values coloured as matplotlib colours them (one colour level
    of slack, for values on a level's edge); returns the colour scale's limits."""
    palette, low, high = style_of(values, signed_always)
    drawn = colour_indices(decode_png(svg.locator("image").get_attribute("href")), palette)
    want = expected_indices(values, low, high)
    assert drawn.shape == want.shape
    assert ((drawn == -1) == (want == -1)).all(), "gaps differ"
    assert np.abs(drawn - want).max() <= 1
    return low, high


@pytest.fixture(scope="module")
def python():
    """Python's explorer on the shipped networks: PyTorch's numbers for the page's."""
    return StageComparisonExplorer()


def shown(page) -> dict:
    return page.evaluate("""() => {
      const root = document.querySelector('.cnnx-stages');
      return {
        status: [...root.querySelectorAll('[role=status] .cnnx-line')].map((l) => l.textContent),
        waiting: root.querySelector('[role=status]').innerText.trim(),
        captions: [...root.querySelectorAll('.cnnx-column figcaption')].map((c) => c.textContent),
        headings: [...root.querySelectorAll('.cnnx-heading')].map((c) => c.textContent),
        scales: [...root.querySelectorAll('.cnnx-column')].map((c) => c.querySelector('.cnnx-scale')
          .hidden ? null : [Number(c.querySelector('.cnnx-low').dataset.value),
                            Number(c.querySelector('.cnnx-high').dataset.value),
                            c.querySelector('.cnnx-low').textContent,
                            c.querySelector('.cnnx-high').textContent]),
        columns: window.mounted.model.get('columns'),
        python: !root.querySelector('.cnnx-python').hidden,
      };
    }""")


def check_against_pytorch(page, python, example: int, stage: str) -> None:
    python.example, python.stage = example, stage
    got = shown(page)
    assert got["status"] == python.status_text.split("\n")
    assert not got["python"]
    assert got["captions"] == ["LeNet, input 28×28", "AlexNet, input 67×67"]
    assert got["headings"] == [c["heading"] for c in python.columns]
    columns = page.locator(f"{ROOT} .cnnx-column")
    for i, (mine, theirs) in enumerate(zip(got["columns"], python.columns, strict=True)):
        assert mine["kind"] == theirs["kind"] and mine["shape"] == theirs["shape"]
        assert mine["predicted"] == theirs["predicted"]
        assert abs(mine["probability"] - theirs["probability"]) <= TOLERANCE
        # The input drawn is Python's, pixel for pixel.
        name = theirs["title"]
        side = python.sides[name]
        grey = decode_png(columns.nth(i).locator("svg.cnnx-input image").get_attribute("href"))
        assert np.array_equal(grey[..., 0], (python.X[name][example, 0] * 255).round().numpy())
        if theirs["kind"] == "missing":
            assert got["scales"][i] is None
            continue
        values = np.asarray(mine["values"])
        np.testing.assert_allclose(values, theirs["values"], atol=TOLERANCE, rtol=0)
        kernels = theirs["kind"] == "kernels"
        n, h, w = theirs["tiles"]
        cols = max(1, min(n, int(np.ceil(np.sqrt(n * 1.2)))))
        expected = mosaic(theirs["values"], theirs["tiles"], cols, 0 if not kernels and w == 1
                          else 1)
        low, high = check_picture(columns.nth(i).locator("svg.cnnx-maps"), expected, kernels)
        scale = got["scales"][i]
        assert abs(scale[0] - low) <= TOLERANCE and abs(scale[1] - high) <= TOLERANCE
        assert scale[2:] == [f"{scale[0]:.2f}", f"{scale[1]:.2f}"]
        assert side == theirs["side"]


SETTINGS = [(0, KERNELS), (3, "conv 1"), (3, "pool 1"), (7, "conv 2"), (7, "pool 2"),
            (9, "conv 3"), (5, "conv 5"), (1, "pool 3")]


def test_every_number_the_page_shows_is_pytorchs(watched, tmp_path, python):
    base = vendor_base(("lenet", "alexnet"))
    watched.set_default_timeout(120_000)
    watched.goto(network_page(tmp_path, StageComparisonExplorer(), base))
    watched.wait_for_function(WAIT_FIRST % "columns")
    assert watched.evaluate("window.mounted.model.get('error')") == ""
    labels = watched.evaluate("""() => [...document.querySelectorAll(
      '.cnnx-stages select[name=example] option')].map((o) => o.textContent)""")
    assert labels == python.examples
    for example, stage in SETTINGS:
        set_menu(watched, ROOT, "example", str(example))
        set_menu(watched, ROOT, "stage", stage)
        settle(watched)
        check_against_pytorch(watched, python, example, stage)
    assert watched.problems == []


def test_keyboard_only_with_labels_and_a_polite_status(watched, tmp_path, python):
    base = vendor_base(("lenet", "alexnet"))
    watched.set_default_timeout(120_000)
    watched.goto(network_page(tmp_path, StageComparisonExplorer(), base))
    watched.wait_for_function(WAIT_FIRST % "columns")
    order = []
    for _ in range(2):
        watched.keyboard.press("Tab")
        order.append(watched.evaluate(
            "() => [document.activeElement.name, document.activeElement.labels[0].textContent]"))
    assert order == [["example", "image"], ["stage", "stage"]]
    status = watched.locator(f"{ROOT} [role=status]")
    assert status.get_attribute("aria-live") == "polite"
    before = status.inner_text()
    watched.keyboard.press("ArrowDown")  # the stage menu: conv 1
    settle(watched)
    assert status.inner_text() != before and "conv 1" in status.inner_text()
    watched.keyboard.press("Shift+Tab")
    watched.keyboard.press("ArrowDown")  # the second image
    settle(watched)
    check_against_pytorch(watched, python, 1, "conv 1")
    for svg in watched.locator(f"{ROOT} svg").all():
        label = svg.get_attribute("aria-label")
        assert svg.get_attribute("role") == "img" and len(label) > 10
        assert svg.locator("title").text_content() == label
    assert watched.problems == []


def test_pythons_picture_while_off_screen_and_loading_nothing_until_seen(watched, tmp_path):
    base = vendor_base(("lenet", "alexnet"))
    watched.set_default_timeout(120_000)
    widget = StageComparisonExplorer()
    watched.goto(network_page(tmp_path, widget, base, spacer=True))
    got = shown(watched)
    assert got["python"] and got["waiting"] == (
        "LeNet and AlexNet load when the explorer is on screen. The picture is Python's.")
    img = watched.locator(f"{ROOT} .cnnx-python img")
    assert img.get_attribute("src") == f"data:image/png;base64,{widget.page_state()['picture']}"
    assert img.get_attribute("alt") == widget.picture_alt()
    scripts = watched.evaluate("() => [...document.scripts].map((s) => s.src.split('/').pop())")
    assert not any(s.endswith(".onnx.js") or s.startswith("ort") for s in scripts), scripts
    assert watched.locator(ROOT).get_attribute("aria-busy") == "true"  # no answer yet
    watched.locator(ROOT).scroll_into_view_if_needed()
    watched.wait_for_function(WAIT_FIRST % "columns")
    settle(watched)
    assert watched.locator(ROOT).get_attribute("aria-busy") == "false"
    scripts = watched.evaluate("() => [...document.scripts].map((s) => s.src.split('/').pop())")
    assert {"lenet.onnx.js", "alexnet.onnx.js"} <= set(scripts)
    assert not [s for s in scripts if s.endswith(".onnx.js")
                and s not in ("lenet.onnx.js", "alexnet.onnx.js")]
    assert not shown(watched)["python"]
    assert watched.problems == []


def test_a_browser_that_cannot_run_the_networks_keeps_pythons_picture(watched, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    watched.goto(network_page(tmp_path, StageComparisonExplorer(), empty.as_uri() + "/"))
    watched.wait_for_function("() => window.mounted.model.get('error')")
    settle(watched)
    got = shown(watched)
    assert got["python"] and got["columns"] in (None, [])
    assert got["waiting"].startswith("this browser cannot run the network: could not load ")
    assert got["waiting"].endswith(". The picture is Python's.")
    # The menus stay usable; the file:// loads that failed are the only problems.
    assert all(p.startswith("console: Failed to load resource") for p in watched.problems)


def test_readable_on_a_phone(browser, tmp_path, artifacts):
    base = vendor_base(("lenet", "alexnet"))
    page = phone_page(browser)
    page.set_default_timeout(120_000)
    page.goto(network_page(tmp_path, StageComparisonExplorer(stage="conv 1"), base))
    page.wait_for_function(WAIT_FIRST % "columns")
    settle(page)
    check_readable_on_a_phone(page, ROOT)
    page.screenshot(path=str(artifacts / "web-explorer-compare-stages-phone.png"),
                    full_page=True)
    page.context.close()


def test_in_lab_it_draws_pythons_numbers_without_computing(watched, tmp_path, python):
    """JupyterLab's path: anywidget's module (the class's _esm) renders a synced model whose
    values all come from Python; compute() is never called and no network is loaded."""
    python.example, python.stage = 4, "pool 1"
    watched.goto(lab_page(tmp_path, python))
    watched.locator(f"{ROOT} [role=status] .cnnx-line").first.wait_for()
    lines = watched.evaluate("""() => [...document.querySelectorAll(
      '.cnnx-stages [role=status] .cnnx-line')].map((l) => l.textContent)""")
    assert lines == python.status_text.split("\n")
    headings = watched.evaluate("""() => [...document.querySelectorAll(
      '.cnnx-stages .cnnx-heading')].map((l) => l.textContent)""")
    assert headings == [c["heading"] for c in python.columns]
    scripts = watched.evaluate("() => [...document.scripts].map((s) => s.src)")
    assert not any("onnx" in s or "ort" in s.split("/")[-1] for s in scripts)
    watched.locator(f'{ROOT} select[name="stage"]').select_option("conv 2")
    assert watched.evaluate("() => window.sets") == [["stage", "conv 2"]]
    assert watched.problems == []
