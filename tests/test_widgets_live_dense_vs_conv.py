"""Section 7.1's live explorers: traitlets in, PyTorch's numbers out, and the page's the same.

Headless: no browser, no kernel. Each front-end's own compute() (what the website runs) is
run under Node for the same settings and held to the Python class's values, which are held
to PyTorch's layers here: the parameter counter on every setting its sliders offer, the
shift explorer on random and edge settings.
"""

from __future__ import annotations

import base64
import json
import random
import re
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from live_harness import check_esm_module, needs_node, node_compute
from torch import nn

from cnnlib.explain.equivariance import conv_as_dense, random_dense
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
    shift_summary,
)

INDICES = ("side_index", "kernel_index", "c_in_index", "c_out_index")
THREE = [name for name, K in KERNEL_PRESETS.items() if K.shape == (3, 3)]

# ---------------------------------------------------------------------- the parameter counter


def every_count_setting() -> list[dict]:
    """Every position of the four sliders: 400 settings, the lesson's whole range."""
    return [dict(side_index=a, kernel_index=b, c_in_index=c, c_out_index=d)
            for a in range(len(SIDES)) for b in range(len(KERNELS))
            for c in range(len(IN_CHANNELS)) for d in range(len(OUT_CHANNELS))]


def pytorch_counts(side: int, kernel: int, c_in: int, c_out: int) -> tuple[int, int]:
    """Both layers' parameters, counted on PyTorch's own modules (on ``meta``: no memory)."""
    dense = nn.Linear(c_in * side * side, c_out * side * side, device="meta")
    conv = nn.Conv2d(c_in, c_out, kernel, padding="same", device="meta")
    return (sum(p.numel() for p in dense.parameters()),
            sum(p.numel() for p in conv.parameters()))


def test_the_counter_counts_pytorchs_layers_at_every_setting():
    explorer = ParameterCountExplorer()
    for settings in every_count_setting():
        for name, value in settings.items():
            setattr(explorer, name, value)
        side, kernel, c_in, c_out = (SIDES[settings["side_index"]],
                                     KERNELS[settings["kernel_index"]],
                                     IN_CHANNELS[settings["c_in_index"]],
                                     OUT_CHANNELS[settings["c_out_index"]])
        assert (explorer.side, explorer.kernel, explorer.c_in, explorer.c_out) == (
            side, kernel, c_in, c_out)
        if kernel > side:
            assert explorer.error == (f"a {kernel}×{kernel} kernel does not fit a "
                                      f"{side}×{side} image")
            assert explorer.status_text == explorer.error and explorer.counts is None
            assert explorer.summary == "" and explorer.dense_count == 0
            assert explorer.picture_png() is None
            continue
        dense, conv = pytorch_counts(side, kernel, c_in, c_out)
        assert (explorer.dense_count, explorer.conv_count) == (dense, conv), settings
        assert explorer.labels == [count_text(conv), count_text(dense)]
        assert explorer.status_text == count_summary(explorer.counts)
        assert f"= {dense:,};" in explorer.summary and f"= {conv:,}." in explorer.summary
        assert explorer.title == f"{c_in}×{side}×{side} image → {c_out}×{side}×{side} hidden values"


def test_a_bad_count_setting_is_a_message_and_the_next_change_fixes_it():
    explorer = ParameterCountExplorer(side=8, kernel=3)
    explorer.kernel = 11
    assert explorer.error == "a 11×11 kernel does not fit a 8×8 image" == explorer.status_text
    assert explorer.labels == [] and explorer.counts is None
    explorer.side = 28  # the next change fixes it
    assert explorer.error == "" and explorer.counts.kernel == 11
    explorer.c_out_index = 7  # a position past the slider: a message, not an exception
    assert explorer.error == ("c_out_index must be 0 to 3, a position of the out channels "
                              "slider (1, 16, 64, 256); got 7")
    explorer.c_out_index = 3
    assert explorer.error == "" and explorer.c_out == 256


def test_the_counter_refuses_a_value_its_sliders_do_not_offer():
    with pytest.raises(ValueError, match=r"image side must be one of \(8, 28, 96, 224, 1000\), "
                                         r"got 30"):
        ParameterCountExplorer(side=30)
    explorer = ParameterCountExplorer()
    with pytest.raises(ValueError, match="kernel must be one of"):
        explorer.kernel = 4
    assert explorer.choices == {"side_index": list(SIDES), "kernel_index": list(KERNELS),
                                "c_in_index": list(IN_CHANNELS),
                                "c_out_index": list(OUT_CHANNELS)}


@needs_node
def test_the_pages_counts_equal_pythons_at_every_setting():
    cases = every_count_setting() + [
        dict(side_index=5, kernel_index=0, c_in_index=0, c_out_index=0),  # past the slider
        dict(side_index=0, kernel_index=-1, c_in_index=0, c_out_index=0),
    ]
    explorer = ParameterCountExplorer()
    common = {"choices": explorer.choices, "controls": explorer.controls}
    results = node_compute("ParameterCountExplorer", "parameter-count.js", cases, common)
    for settings, values in zip(cases, results, strict=True):
        for name, value in settings.items():
            setattr(explorer, name, value)
        assert values["error"] == explorer.error, settings
        if explorer.error:
            continue
        # Counts past 2^53 travel as JSON numbers: each is an exact double (checked here).
        for name, value in values.items():
            assert value == getattr(explorer, name), (name, settings)


@needs_node
def test_the_counters_esm_is_a_valid_module_exporting_render(tmp_path):
    check_esm_module(ParameterCountExplorer, tmp_path)


# ---------------------------------------------------------------------- the shift explorer


def object_images(count: int = 4, side: int = 28) -> torch.Tensor:
    """Objects on a black background, as in Fashion-MNIST (seeded; no dataset needed)."""
    generator = torch.Generator().manual_seed(71)
    images = torch.zeros(count, side, side)
    for k in range(count):
        top, left = 4 + k, 6 - k
        images[k, top:top + 16, left:left + 12] = torch.rand(16, 12, generator=generator)
    return images


@pytest.fixture(scope="module")
def shifter() -> ShiftExplorer:
    return ShiftExplorer(images=object_images(), labels=torch.tensor([0, 1, 2, 3]), seed=3)


def reference(explorer: ShiftExplorer) -> dict:
    """What PyTorch says for the explorer's current settings, computed here from scratch."""
    X = explorer.images[explorer.example]
    dy, dx = explorer.dy, explorer.dx
    shifted = torch.zeros_like(X)  # moved with zeros coming in (F.pad, then cropped)
    padded = F.pad(X, (max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0)))
    shifted[:] = padded[max(-dy, 0):max(-dy, 0) + 28, max(-dx, 0):max(-dx, 0) + 28]
    K = KERNEL_PRESETS[explorer.kernel][None, None]
    conv = [F.conv2d(T[None, None], K)[0, 0] for T in (X, shifted)]
    if explorer.dense_kind == "tied":
        layer = nn.Linear(784, 676, bias=False)
        with torch.no_grad():
            layer.weight.copy_(conv_as_dense(KERNEL_PRESETS[explorer.kernel], (28, 28)))
    else:
        torch.manual_seed(explorer.seed)  # nn.Linear's own initialisation, as random_dense
        layer = nn.Linear(784, 676, bias=False)
    with torch.no_grad():
        dense = [layer(T.flatten()).reshape(26, 26) for T in (X, shifted)]
    return {"X_shifted": shifted, "conv": conv[0], "conv_shifted": conv[1],
            "dense": dense[0], "dense_shifted": dense[1]}


def shift_settings(count: int, seed: int) -> list[dict]:
    """Edge cases first (no shift, the slider's ends, the largest shift a 28-pixel image
    allows), then random settings over every control."""
    edges = [
        dict(example=0, dy=0, dx=0, kernel="vertical edge 3x3", dense_kind="random"),
        dict(example=1, dy=8, dx=-8, kernel="box blur 3x3", dense_kind="random"),
        dict(example=2, dy=-8, dx=8, kernel="sharpen 3x3", dense_kind="tied"),
        # the largest shifts that leave the 26×26 maps a row or a column in common
        dict(example=3, dy=25, dx=0, kernel="identity 3x3", dense_kind="random"),
        dict(example=0, dy=-3, dx=-25, kernel="horizontal edge 3x3", dense_kind="tied"),
        dict(example=3, dy=25, dx=25, kernel="vertical edge 3x3", dense_kind="random"),
        dict(example=1, dy=-25, dx=-25, kernel="sharpen 3x3", dense_kind="random"),
    ]
    rng = random.Random(seed)
    return edges + [dict(example=rng.randrange(4), dy=rng.randint(-8, 8), dx=rng.randint(-8, 8),
                         kernel=rng.choice(THREE), dense_kind=rng.choice(["random", "tied"]))
                    for _ in range(count)]


def grid(rows: list[list[float | None]]) -> torch.Tensor:
    """JSON rows as float64 (a whole number may travel as an int), None as NaN."""
    return torch.tensor([[float("nan") if v is None else float(v) for v in line]
                         for line in rows], dtype=torch.float64)


def set_all(explorer: ShiftExplorer, settings: dict) -> None:
    for name, value in settings.items():
        setattr(explorer, name, value)


@pytest.mark.parametrize("settings", shift_settings(8, seed=21))
def test_the_shift_explorer_shows_pytorchs_maps(shifter, settings):
    set_all(shifter, settings)
    assert shifter.error == ""
    want = reference(shifter)
    for name, value in want.items():
        torch.testing.assert_close(grid(getattr(shifter, name)), value.double(),
                                   rtol=0, atol=1e-5)
    torch.testing.assert_close(torch.tensor(shifter.X), shifter.images[settings["example"]])
    # The convolution moved with the image: equal wherever both see the same pixels.
    dy, dx = settings["dy"], settings["dx"]
    rows = slice(max(dy, 0), 26 + min(dy, 0))
    cols = slice(max(dx, 0), 26 + min(dx, 0))
    before = want["conv"][max(-dy, 0):26 - max(dy, 0), max(-dx, 0):26 - max(dx, 0)]
    assert shifter.conv_error == pytest.approx(
        float((want["conv_shifted"][rows, cols] - before).abs().max()) if before.numel() else 0.0,
        abs=1e-5)
    assert shifter.conv_error < 1e-5
    difference = grid(shifter.dense_difference)
    expected = torch.full((26, 26), float("nan"), dtype=torch.float64)
    expected[rows, cols] = (want["dense_shifted"][rows, cols] - want["dense"][
        max(-dy, 0):26 - max(dy, 0), max(-dx, 0):26 - max(dx, 0)]).double()
    torch.testing.assert_close(difference, expected, rtol=0, atol=1e-5, equal_nan=True)
    if settings["dense_kind"] == "tied":
        assert shifter.dense_error < 1e-5  # tied weights: the dense layer moves too
    elif before.numel() > 100 and (dy, dx) != (0, 0):
        assert shifter.dense_error > 0.1 * shifter.scale  # untied: it does not
    assert shifter.status_text == shift_summary(shifter.comparison, settings["dense_kind"])
    assert shifter.titles[2] == ("dense, tied" if settings["dense_kind"] == "tied"
                                 else "dense layer")


def test_a_bad_shift_setting_is_a_message_and_the_next_change_fixes_it(shifter):
    set_all(shifter, dict(example=0, dy=3, dx=4, kernel="vertical edge 3x3",
                          dense_kind="random"))
    shifter.dy = 28
    assert shifter.error == ("|dy| = 28 would move the whole 28-pixel image out of view; "
                             "use a shift of at most 27") == shifter.status_text
    assert shifter.conv == [] and shifter.comparison is None and shifter.picture_png() is None
    shifter.dy = -26  # the image still shows, but the 26×26 maps share no pixel
    assert shifter.error == ("|dy| = 26 moves the 26×26 maps past each other, with no pixel "
                             "in common to compare; use a shift of at most 25")
    shifter.dy = -2
    assert shifter.error == "" and shifter.comparison.dy == -2
    shifter.kernel = "vertical edge 1x2"  # not a 3×3 preset: the menu does not offer it
    assert shifter.error.startswith("unknown kernel 'vertical edge 1x2'; choose one of [")
    shifter.kernel = "box blur 3x3"
    shifter.example = 4
    assert shifter.error == "example must be an image of the menu, 0 to 3; got 4"
    shifter.example = 1
    shifter.dense_kind = "sparse"
    assert shifter.error == "dense_kind must be 'random' or 'tied', got 'sparse'"
    shifter.dense_kind = "tied"
    assert shifter.error == ""


def test_the_shift_explorers_start_values_are_checked():
    images, labels = object_images(1), torch.tensor([5])
    with pytest.raises(ValueError, match="labels"):
        ShiftExplorer(images=images)
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        ShiftExplorer(images=torch.rand(28, 28), labels=labels)
    with pytest.raises(ValueError, match="unknown kernel"):
        ShiftExplorer(images=images, labels=labels, kernel="blur")
    with pytest.raises(ValueError, match="dense_kind"):
        ShiftExplorer(images=images, labels=labels, dense_kind="sparse")
    with pytest.raises(ValueError, match="example must be an image of the menu, 0 to 0; got 1"):
        ShiftExplorer(images=images, labels=labels, example=1)
    with pytest.raises(ValueError, match="dy must be at least -8"):
        ShiftExplorer(images=images, labels=labels, dy=-9)
    wide = ShiftExplorer(images=images, labels=labels, dx=12)  # a start past the slider widens it
    assert [c["max"] for c in wide.controls] == [8, 12] and wide.error == ""
    assert wide.image_names == ["#0 sandal"]


def test_the_page_gets_pythons_images_kernels_and_seed(shifter):
    state = json.loads(json.dumps(shifter.page_state()))
    raw = base64.b64decode(state["image_data"])
    assert torch.equal(torch.frombuffer(bytearray(raw), dtype=torch.float32).reshape(4, 28, 28),
                       shifter.images)
    assert state["image_shape"] == [4, 28, 28] and state["seed"] == 3
    assert list(state["kernels"]) == THREE
    for name in THREE:
        assert torch.equal(torch.tensor(state["kernels"][name]), KERNEL_PRESETS[name])
    assert len(state["palette"]) == 256 and state["palette"][128] != state["palette"][0]
    assert [c["name"] for c in state["controls"]] == ["dy", "dx"]
    assert "X" not in state and "conv" not in state  # the page computes those


@needs_node
def test_the_pages_maps_equal_pythons(shifter):
    cases = shift_settings(40, seed=5) + [
        dict(example=0, dy=28, dx=0, kernel="box blur 3x3", dense_kind="random"),
        dict(example=0, dy=26, dx=0, kernel="box blur 3x3", dense_kind="random"),  # no overlap
        dict(example=0, dy=-3, dx=-27, kernel="box blur 3x3", dense_kind="tied"),
        dict(example=0, dy=26, dx=40, kernel="box blur 3x3", dense_kind="tied"),  # dx's first
        dict(example=0, dy=0, dx=-31, kernel="box blur 3x3", dense_kind="tied"),
        dict(example=9, dy=0, dx=0, kernel="box blur 3x3", dense_kind="random"),
        dict(example=0, dy=0, dx=0, kernel="blur", dense_kind="random"),
        dict(example=0, dy=0, dx=0, kernel="box blur 3x3", dense_kind="sparse"),
    ]
    results = node_compute("ShiftExplorer", "shift.js", cases, shifter.page_state())
    for settings, values in zip(cases, results, strict=True):
        set_all(shifter, settings)
        assert values["error"] == shifter.error, settings
        if shifter.error:
            continue
        for name in ("X", "X_shifted", "conv", "conv_shifted", "dense", "dense_shifted",
                     "conv_difference", "dense_difference"):
            torch.testing.assert_close(grid(values[name]), grid(getattr(shifter, name)),
                                       rtol=0, atol=1e-5, equal_nan=True)
        for name in ("conv_error", "dense_error", "scale"):
            assert values[name] == pytest.approx(getattr(shifter, name), abs=1e-5), name
        torch.testing.assert_close(torch.tensor(values["limits"]), torch.tensor(shifter.limits),
                                   rtol=1e-6, atol=1e-6)
        assert values["titles"] == shifter.titles
        # The page writes its own numbers exactly as Python writes numbers.
        mine = SimpleNamespace(dy=settings["dy"], dx=settings["dx"],
                               **{n: values[n] for n in ("conv_error", "dense_error", "scale")})
        assert values["summary"] == shift_summary(mine, settings["dense_kind"])


@needs_node
def test_the_page_draws_pytorchs_random_layer_bit_for_bit():
    """Each one-hot image's dense output is one column of the weights, exactly: the page's
    Mersenne Twister and initialisation give nn.Linear's weights after manual_seed(seed)."""
    pixels = [0, 29, 391, 783]
    images = torch.zeros(len(pixels), 28 * 28)
    images[range(len(pixels)), pixels] = 1.0
    explorer = ShiftExplorer(images=images.reshape(-1, 28, 28),
                             labels=torch.zeros(len(pixels), dtype=torch.int64), seed=11)
    weights = random_dense(784, 676, seed=11).weight
    cases = [dict(example=k, dy=0, dx=0, kernel="identity 3x3", dense_kind="random")
             for k in range(len(pixels))]
    results = node_compute("ShiftExplorer", "shift.js", cases, explorer.page_state())
    for pixel, values in zip(pixels, results, strict=True):
        assert torch.equal(torch.tensor(values["dense"], dtype=torch.float32).flatten(),
                           weights[:, pixel])


@needs_node
def test_the_shift_explorers_esm_is_a_valid_module_exporting_render(tmp_path):
    check_esm_module(ShiftExplorer, tmp_path)


# ---------------------------------------------------------------------- both


@pytest.mark.parametrize("make", [
    lambda: ParameterCountExplorer(side=224, kernel=3, c_in=3, c_out=64),
    lambda: ShiftExplorer(images=object_images(2), labels=torch.tensor([0, 1])),
], ids=["counter", "shift"])
def test_the_output_carries_a_picture_and_the_website_form(make, monkeypatch):
    from cnnlib.widgets.page import PAGE_FORMS_VARIABLE

    monkeypatch.delenv(PAGE_FORMS_VARIABLE, raising=False)
    widget = make()
    name = widget.explorer_name
    data, _ = widget._repr_mimebundle_()
    assert data["text/plain"] == f"{name}: run this cell for the live explorer"
    assert base64.b64decode(data["image/png"])[:4] == b"\x89PNG"
    assert "text/html" not in data
    monkeypatch.setenv(PAGE_FORMS_VARIABLE, "1")
    data, _ = widget._repr_mimebundle_()
    form = data["text/html"]
    state = json.loads(re.search(rf"CNNExplorers\.mount\(mount, \"{name}\", (\{{.*\}})\);",
                                 form).group(1))
    assert state == json.loads(json.dumps(widget.page_state()))
    assert f'alt="{name}: {widget.status_text.splitlines()[0][:40]}' in form
    assert not re.search(r'(src|href)="https?:', form)
