"""Section 7.1's two explorers on a page opened from file://, computing in the browser.

As for the other live explorers: a tiny page in tmp_path loads cnnlib/web/cnn-ops.js,
cnn-host.js and the explorer's front-end by file:// script tags and mounts it with the state
Python gives (``page_state()``: the parameter counter's choices; the shift explorer's
images, kernels and seed). Settings are made through the page's real controls with the
keyboard, and every number the page shows is compared with PyTorch: the parameter counts
with PyTorch's own layers, the shift explorer's maps, differences and colours with
torch.nn.functional and nn.Linear.
"""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from live_page import (
    check_readable_on_a_phone,
    explorer_page,
    lab_page,
    phone_page,
    set_menu,
    set_slider,
)
from torch import nn

from cnnlib.explain.equivariance import conv_as_dense, layer_counts
from cnnlib.viz.equivariance import count_text
from cnnlib.viz.kernels import KERNEL_PRESETS
from cnnlib.widgets.dense_vs_conv import (
    IN_CHANNELS,
    KERNELS,
    OUT_CHANNELS,
    SIDES,
    ParameterCountExplorer,
    ShiftExplorer,
    count_summary,
    diverging_palette,
    shift_summary,
)

pytestmark = pytest.mark.browser

COUNT = ".cnnx-count-explorer"
SHIFT = ".cnnx-shift"
INDICES = ("side_index", "kernel_index", "c_in_index", "c_out_index")
VALUES = (SIDES, KERNELS, IN_CHANNELS, OUT_CHANNELS)
THREE = [name for name, K in KERNEL_PRESETS.items() if K.shape == (3, 3)]

# ---------------------------------------------------------------------- the parameter counter


def count_shown(page) -> dict:
    """What the counter shows: status, message, caption, bars and each slider's value."""
    return page.evaluate("""() => {
      const root = document.querySelector('.cnnx-count-explorer');
      const figure = root.querySelector('figure');
      return {
        status: root.querySelector('[role=status]').innerText.trim(),
        message: root.querySelector('.cnnx-message').hidden ? '' :
          root.querySelector('.cnnx-message').textContent,
        picture: !figure.hidden,
        caption: figure.querySelector('figcaption').textContent,
        counts: [...root.querySelectorAll('rect[data-count]')].map((r) => r.dataset.count),
        labels: [...root.querySelectorAll('text.cnnx-count')].map((t) => t.textContent),
        sliders: [...root.querySelectorAll('input[type=range]')].map((i) => [i.name,
          Number(i.value), i.getAttribute('aria-valuetext'),
          i.parentElement.querySelector('output').textContent]),
      };
    }""")


def pytorch_counts(side: int, kernel: int, c_in: int, c_out: int) -> tuple[int, int]:
    """(dense, conv) parameters of PyTorch's own layers (built on ``meta``: no memory)."""
    dense = nn.Linear(c_in * side * side, c_out * side * side, device="meta")
    conv = nn.Conv2d(c_in, c_out, kernel, padding="same", device="meta")
    return (sum(p.numel() for p in dense.parameters()),
            sum(p.numel() for p in conv.parameters()))


def check_counts(page, positions: tuple[int, ...]) -> None:
    got = count_shown(page)
    side, kernel, c_in, c_out = (values[i] for values, i in zip(VALUES, positions, strict=True))
    assert got["sliders"] == [[name, i, str(values[i]), str(values[i])] for name, i, values
                              in zip(INDICES, positions, VALUES, strict=True)]
    if kernel > side:
        message = f"a {kernel}×{kernel} kernel does not fit a {side}×{side} image"
        assert got["status"] == got["message"] == message and not got["picture"]
        return
    dense, conv = pytorch_counts(side, kernel, c_in, c_out)
    assert got["picture"] and got["message"] == ""
    assert [int(c) for c in got["counts"]] == [conv, dense]  # whole numbers: exactly
    assert got["labels"] == [count_text(conv), count_text(dense)]
    assert got["status"] == count_summary(layer_counts(side, kernel, c_in, c_out))
    assert got["caption"] == f"{c_in}×{side}×{side} image → {c_out}×{side}×{side} hidden values"


def count_cases(count: int, seed: int) -> list[tuple[int, ...]]:
    edges = [(0, 4, 0, 0),  # an 11×11 kernel on an 8×8 image: a message
             (0, 3, 0, 0),  # a 7×7 kernel on an 8×8 image: fits
             (4, 0, 3, 3),  # the largest dense layer: past 2^53 parameters
             (0, 0, 0, 0), (1, 1, 1, 1), (0, 4, 3, 3), (4, 4, 0, 0)]
    rng = random.Random(seed)
    return edges + [tuple(rng.randrange(len(v)) for v in VALUES) for _ in range(count)]


def test_the_counters_sliders_set_with_the_keyboard_match_pytorch(watched, tmp_path):
    watched.goto(explorer_page(tmp_path, ParameterCountExplorer(side=224, kernel=3, c_in=3,
                                                                c_out=64), "Counter"))
    check_counts(watched, (3, 1, 1, 2))
    for positions in count_cases(8, seed=21):
        for name, i in zip(INDICES, positions, strict=True):
            set_slider(watched, COUNT, name, i)
        check_counts(watched, positions)
    assert watched.problems == []


def test_the_counter_with_the_keyboard_only_labels_and_a_polite_status(watched, tmp_path):
    watched.goto(explorer_page(tmp_path, ParameterCountExplorer(), "Counter"))
    order = []
    for _ in range(4):
        watched.keyboard.press("Tab")
        order.append(watched.evaluate(
            "() => [document.activeElement.name, document.activeElement.labels[0].textContent]"))
    assert order == [[c.name, c.label] for c in ParameterCountExplorer.CONTROLS]
    status = watched.locator(f"{COUNT} [role=status]")
    assert status.get_attribute("aria-live") == "polite"
    for _ in range(3):  # back to the image side
        watched.keyboard.press("Shift+Tab")
    before = status.inner_text()
    watched.keyboard.press("ArrowRight")  # 28 -> 96 pixels
    assert status.inner_text() != before and "(1·9,216) inputs" in status.inner_text()
    svg = watched.locator(f"{COUNT} svg")
    label = svg.get_attribute("aria-label")
    assert svg.get_attribute("role") == "img" and "parameters" in label
    assert svg.locator("title").text_content() == label
    # A bad setting is a message; the next change, by keyboard, fixes it.
    set_slider(watched, COUNT, "side_index", 0)
    set_slider(watched, COUNT, "kernel_index", 4)
    assert count_shown(watched)["status"] == "a 11×11 kernel does not fit a 8×8 image"
    watched.keyboard.press("ArrowLeft")  # kernel 7 fits
    check_counts(watched, (0, 3, 0, 1))
    assert watched.problems == []


# ---------------------------------------------------------------------- the shift explorer


def object_images(count: int = 4) -> torch.Tensor:
    """Objects on a black background, as in Fashion-MNIST (seeded; no dataset needed)."""
    generator = torch.Generator().manual_seed(71)
    images = torch.zeros(count, 28, 28)
    for k in range(count):
        images[k, 4 + k:20 + k, 6 - k:18 - k] = torch.rand(16, 12, generator=generator)
    return images


def shift_widget(**start) -> ShiftExplorer:
    return ShiftExplorer(images=object_images(), labels=torch.tensor([0, 1, 2, 3]), seed=3,
                         **start)


def reference(images: torch.Tensor, settings: dict, seed: int = 3) -> dict:
    """PyTorch's maps for these settings: the image moved (zeros coming in), F.conv2d, and an
    nn.Linear with its own initialisation (or the convolution's tied weights)."""
    X = images[settings["example"]]
    dy, dx = settings["dy"], settings["dx"]
    padded = F.pad(X, (max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0)))
    shifted = padded[max(-dy, 0):max(-dy, 0) + 28, max(-dx, 0):max(-dx, 0) + 28]
    K = KERNEL_PRESETS[settings["kernel"]]
    conv = [F.conv2d(T[None, None], K[None, None])[0, 0] for T in (X, shifted)]
    if settings["dense_kind"] == "tied":
        layer = nn.Linear(784, 676, bias=False)
        with torch.no_grad():
            layer.weight.copy_(conv_as_dense(K, (28, 28)))
    else:
        state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        layer = nn.Linear(784, 676, bias=False)
        torch.random.set_rng_state(state)
    with torch.no_grad():
        dense = [layer(T.flatten()).reshape(26, 26) for T in (X, shifted)]
    rows, cols = slice(max(dy, 0), 26 + min(dy, 0)), slice(max(dx, 0), 26 + min(dx, 0))
    back = (slice(max(-dy, 0), 26 - max(dy, 0)), slice(max(-dx, 0), 26 - max(dx, 0)))

    def difference(before, after):
        out = torch.full((26, 26), float("nan"))
        out[rows, cols] = after[rows, cols] - before[back]
        return out

    maps = {"X": X, "X_shifted": shifted, "conv": conv[0], "conv_shifted": conv[1],
            "dense": dense[0], "dense_shifted": dense[1],
            "conv_difference": difference(*conv), "dense_difference": difference(*dense)}
    finite = lambda t: t[~t.isnan()]  # noqa: E731
    maps["conv_error"] = float(finite(maps["conv_difference"]).abs().max())
    maps["dense_error"] = float(finite(maps["dense_difference"]).abs().max())
    maps["scale"] = float(torch.stack(dense).abs().max())
    maps["limits"] = [float(torch.stack(conv).abs().max()) or 1.0, maps["scale"] or 1.0]
    return maps


def shift_shown(page) -> dict:
    """What the shift explorer shows: status (and the numbers behind it), captions, controls,
    and each picture's pixels (RGB rows read back from its canvas)."""
    return page.evaluate("""() => {
      const root = document.querySelector('.cnnx-shift');
      const grid = root.querySelector('.cnnx-grid');
      const spans = [...root.querySelectorAll('.cnnx-summary')];
      return {
        status: root.querySelector('[role=status]').innerText.trim(),
        numbers: spans.length ? [Number(spans[0].dataset.value), Number(spans[1].dataset.value),
                                 Number(spans[1].dataset.scale)] : [],
        message: root.querySelector('.cnnx-message').hidden ? '' :
          root.querySelector('.cnnx-message').textContent,
        pictures: !grid.hidden,
        moved: root.querySelector('.cnnx-moved').textContent,
        captions: [...root.querySelectorAll('figcaption')].map((c) => c.textContent),
        controls: Object.fromEntries([...root.querySelectorAll('input[type=range], select')].map(
          (i) => [i.name, i.type === 'range' ? Number(i.value) : i.value])),
        dense_kind: (root.querySelector('input[type=radio]:checked') || {}).value,
        maps: grid.hidden ? {} : Object.fromEntries([...root.querySelectorAll('figure')].map(
          (f) => {
            const canvas = f.querySelector('canvas');
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width,
                                                              canvas.height).data;
            const rows = [];
            for (let r = 0; r < canvas.height; r++) {
              const row = [];
              for (let c = 0; c < canvas.width; c++) {
                const p = 4 * (r * canvas.width + c);
                row.push([data[p], data[p + 1], data[p + 2]]);
              }
              rows.push(row);
            }
            return [f.dataset.map, {rows, label: canvas.getAttribute('aria-label'),
                                    role: canvas.getAttribute('role')}];
          })),
        state: window.mounted ? window.mounted.model.state() : null,
      };
    }""")


def set_dense_kind(page, kind: str) -> None:
    """Choose the dense layer with the keyboard: arrows move within a radio group."""
    checked = page.locator(f"{SHIFT} input[type=radio]:checked")
    if checked.get_attribute("value") != kind:
        checked.focus()
        page.keyboard.press("ArrowDown")
    assert page.locator(f"{SHIFT} input[type=radio]:checked").get_attribute("value") == kind


def set_shift(page, settings: dict) -> None:
    """Make settings through the page's controls, as a reader with a keyboard would."""
    set_menu(page, SHIFT, "example", str(settings["example"]))
    set_slider(page, SHIFT, "dy", settings["dy"])
    set_slider(page, SHIFT, "dx", settings["dx"])
    set_menu(page, SHIFT, "kernel", settings["kernel"])
    set_dense_kind(page, settings["dense_kind"])


PALETTE = torch.tensor([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in diverging_palette()])


def expected_colours(values: torch.Tensor, limit: float | None) -> torch.Tensor:
    """Each value's colour index as matplotlib maps it: grey 0..1, or the diverging palette
    over [-limit, limit]; -1 marks "no common pixels" (grey #d9d9d9)."""
    t = values.double() if limit is None else (values.double() + limit) / (2 * limit)
    index = (t * 256).floor().clamp(0, 255)
    return torch.where(values.isnan(), torch.tensor(-1.0, dtype=torch.float64), index).long()


def check_shift(page, images: torch.Tensor, settings: dict) -> None:
    got = shift_shown(page)
    want = reference(images, settings)
    dy, dx = settings["dy"], settings["dx"]
    assert got["controls"] == {"example": str(settings["example"]), "dy": dy, "dx": dx,
                               "kernel": settings["kernel"]}
    assert got["dense_kind"] == settings["dense_kind"] and got["pictures"]
    # The numbers in the status line against PyTorch, and written as Python writes them.
    conv_error, dense_error, scale = got["numbers"]
    assert conv_error == pytest.approx(want["conv_error"], abs=1e-4)
    assert dense_error == pytest.approx(want["dense_error"], abs=1e-4)
    assert scale == pytest.approx(want["scale"], abs=1e-4)
    shown = SimpleNamespace(dy=dy, dx=dx, conv_error=conv_error, dense_error=dense_error,
                            scale=scale)
    assert got["status"] == shift_summary(shown, settings["dense_kind"])
    shift = f"({dy:+d}, {dx:+d})"
    dense_name = "dense, tied" if settings["dense_kind"] == "tied" else "dense layer"
    assert got["captions"] == ["input", f"shifted {shift}", "convolution", f"shifted {shift}",
                               "difference", dense_name, f"shifted {shift}", "difference"]
    assert got["moved"] == f"moved\n{dy:+d} rows\n{dx:+d} columns"
    # Every map the page computed, against PyTorch, to 1e-4.
    for name in ("X", "X_shifted", "conv", "conv_shifted", "dense", "dense_shifted",
                 "conv_difference", "dense_difference"):
        mine = torch.tensor([[float("nan") if v is None else float(v) for v in line]
                             for line in got["state"][name]])
        torch.testing.assert_close(mine, want[name], rtol=0, atol=1e-4, equal_nan=True)
    # Every picture: each pixel the colour of PyTorch's value (one palette step either way,
    # for a value on the border between two colours).
    limits = {"X": None, "conv": want["limits"][0], "dense": want["limits"][1]}
    for name, picture in got["maps"].items():
        assert picture["role"] == "img" and len(picture["label"]) > 20, name
        pixels = torch.tensor(picture["rows"])
        index = expected_colours(want[name], limits[name.split("_")[0]])
        assert pixels.shape[:2] == index.shape, name
        outside = index < 0
        assert (pixels[outside] == torch.tensor([0xd9, 0xd9, 0xd9])).all(), name
        if name.startswith("X"):
            near = (pixels[..., 0] - index).abs() <= 1
            assert (pixels[..., 0] == pixels[..., 1]).all() and near.all(), name
            continue
        steps = [PALETTE[(index + step).clamp(0, 255)] for step in (-1, 0, 1)]
        matches = torch.stack([(pixels == s).all(-1) for s in steps]).any(0)
        assert (matches | outside).all(), name


def shift_cases(count: int, seed: int) -> list[dict]:
    edges = [
        dict(example=0, dy=0, dx=0, kernel="vertical edge 3x3", dense_kind="random"),
        dict(example=1, dy=8, dx=-8, kernel="box blur 3x3", dense_kind="random"),
        dict(example=2, dy=-8, dx=8, kernel="sharpen 3x3", dense_kind="tied"),
        dict(example=3, dy=-8, dx=-8, kernel="identity 3x3", dense_kind="tied"),
    ]
    rng = random.Random(seed)
    return edges + [dict(example=rng.randrange(4), dy=rng.randint(-8, 8), dx=rng.randint(-8, 8),
                         kernel=rng.choice(THREE), dense_kind=rng.choice(["random", "tied"]))
                    for _ in range(count)]


def test_the_shift_explorers_controls_set_with_the_keyboard_match_pytorch(watched, tmp_path):
    watched.goto(explorer_page(tmp_path, shift_widget(), "Shift"))
    images = object_images()
    check_shift(watched, images, dict(example=0, dy=3, dx=4, kernel="vertical edge 3x3",
                                      dense_kind="random"))
    for settings in shift_cases(4, seed=21):
        set_shift(watched, settings)
        check_shift(watched, images, settings)
    assert watched.problems == []


def test_the_shift_explorer_with_the_keyboard_only_labels_and_a_polite_status(watched,
                                                                               tmp_path):
    watched.goto(explorer_page(tmp_path, shift_widget(), "Shift"))
    order = []
    for _ in range(5):
        watched.keyboard.press("Tab")
        order.append(watched.evaluate("""() => [document.activeElement.name.replace(
          /^cnnx-shift-\\d+-/, ''), document.activeElement.labels[0].textContent]"""))
    assert order == [["example", "image"], ["dy", "rows (down)"], ["dx", "cols (right)"],
                     ["kernel", "kernel"], ["dense_kind", "random weights"]]
    group = watched.locator(f"{SHIFT} fieldset fieldset")
    assert group.locator("legend").inner_text() == "dense"
    status = watched.locator(f"{SHIFT} [role=status]")
    assert status.get_attribute("aria-live") == "polite"
    watched.keyboard.press("ArrowDown")  # the tied dense layer
    assert "dense layer (tied to the convolution)" in status.inner_text()
    # A setting no control offers (a shift past the whole image, set on the model): the
    # message, with every control usable; the next change by keyboard fixes it.
    watched.evaluate("""() => { const m = window.mounted.model; m.set('dy', 30);
                                m.save_changes(); }""")
    got = shift_shown(watched)
    message = ("|dy| = 30 would move the whole 28-pixel image out of view; use a shift of at "
               "most 27")
    assert got["status"] == got["message"] == message and not got["pictures"]
    set_slider(watched, SHIFT, "dy", -2)
    check_shift(watched, object_images(), dict(example=0, dy=-2, dx=4,
                                               kernel="vertical edge 3x3", dense_kind="tied"))
    assert watched.problems == []


def test_pythons_words_for_the_same_bad_shift():
    widget = shift_widget()
    widget.dy = 30
    assert widget.error == ("|dy| = 30 would move the whole 28-pixel image out of view; use a "
                            "shift of at most 27")


# ---------------------------------------------------------------------- both


@pytest.mark.parametrize("make, root", [
    (lambda: ParameterCountExplorer(side=1000, kernel=11, c_in=64, c_out=256), COUNT),
    (lambda: shift_widget(dy=-8, dx=8), SHIFT),
], ids=["counter", "shift"])
def test_readable_on_a_phone(make, root, browser, tmp_path, artifacts):
    page = phone_page(browser)
    widget = make()
    page.goto(explorer_page(tmp_path, widget, widget.explorer_name))
    check_readable_on_a_phone(page, root)
    if root == SHIFT:  # three pictures a row, each still several screen pixels per cell
        widths = page.evaluate("() => [...document.querySelectorAll('.cnnx-shift canvas')]"
                               ".map((c) => c.getBoundingClientRect().width)")
        assert len(widths) == 8 and min(widths) >= 2 * 28, widths
    page.screenshot(path=str(artifacts / f"web-explorer-{widget.explorer_name}-phone.png"),
                    full_page=True)
    page.context.close()


def test_in_lab_the_counter_draws_pythons_numbers_without_computing(watched, tmp_path):
    widget = ParameterCountExplorer(side=1000, kernel=5, c_in=64, c_out=256)
    watched.goto(lab_page(tmp_path, widget))
    watched.locator(f"{COUNT} [role=status]").wait_for()
    got = count_shown(watched)
    assert got["status"] == widget.status_text and got["caption"] == widget.title
    assert got["labels"] == widget.labels
    assert [int(c) for c in got["counts"]] == [widget.conv_count, widget.dense_count]
    watched.locator(f'{COUNT} input[name="c_in_index"]').focus()
    watched.keyboard.press("ArrowLeft")
    assert watched.evaluate("() => window.sets") == [["c_in_index", 2]]
    assert watched.problems == []


def test_in_lab_the_shift_explorer_draws_pythons_maps_without_computing(watched, tmp_path):
    widget = shift_widget(example=2, dy=-5, dx=6, kernel="sharpen 3x3")
    watched.goto(lab_page(tmp_path, widget))
    watched.locator(f"{SHIFT} [role=status]").wait_for()
    got = shift_shown(watched)
    assert got["status"] == widget.status_text
    assert got["captions"][:2] == ["input", "shifted (-5, +6)"]
    assert len(got["maps"]) == 8
    index = expected_colours(torch.tensor(widget.conv), widget.limits[0])
    pixels = torch.tensor(got["maps"]["conv"]["rows"])
    assert (pixels == PALETTE[index]).all(-1).float().mean() > 0.99  # Python's values, drawn
    watched.locator(f'{SHIFT} input[name="dx"]').focus()
    watched.keyboard.press("ArrowRight")
    watched.locator(f"{SHIFT} input[type=radio]:checked").focus()
    watched.keyboard.press("ArrowDown")
    assert watched.evaluate("() => window.sets") == [["dx", 7], ["dense_kind", "tied"]]
    assert watched.problems == []
