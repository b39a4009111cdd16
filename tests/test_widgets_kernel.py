"""The kernel explorer: controls drive kernel, input, output and picture; bad text is explained."""

import pytest
import torch
import torch.nn.functional as F

from cnnlib import data
from cnnlib.viz.kernels import KERNEL_PRESETS
from cnnlib.widgets import kernel_explorer
from cnnlib.widgets.kernel_explorer import (
    CUSTOM,
    STRIPES,
    STRIPES_T,
    KernelExplorer,
    kernel_to_text,
    parse_kernel,
)


def _reference(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    return F.conv2d(X[None, None], K[None, None])[0, 0]  # (H - kh + 1, W - kw + 1)


def _raise_not_found(*args, **kwargs):
    raise data.DatasetNotFoundError("test", [("/nowhere", "missing (no such folder)")])


@pytest.fixture
def synthetic(monkeypatch):
    """An explorer built without Fashion-MNIST (fast, and needs no data files)."""
    monkeypatch.setattr(data, "load_split", _raise_not_found)
    return KernelExplorer()


@pytest.fixture
def with_data():
    try:
        data.load_split(train=False)
    except data.DatasetNotFoundError:
        pytest.skip("Fashion-MNIST is not installed")
    return KernelExplorer()


def _is_error(explorer: KernelExplorer) -> bool:
    return "#b00020" in explorer.status.value


# ----------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 -1", [[1.0, -1.0]]),
        ("1, 0, -1; 1, 0, -1", [[1.0, 0.0, -1.0], [1.0, 0.0, -1.0]]),
        ("1\n-1\n\n", [[1.0], [-1.0]]),
        ("1/9 1/9;  0.5 2e-1 ;", [[1 / 9, 1 / 9], [0.5, 0.2]]),
    ],
)
def test_parse_kernel_valid(text, expected):
    K = parse_kernel(text)
    assert K.dtype == torch.float32
    torch.testing.assert_close(K, torch.tensor(expected))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty"),
        (" ;\n ", "empty"),
        ("1 2; 3", "row 2 has 1 numbers but row 1 has 2"),
        ("1 x", "'x' in row 1 is not a number"),
        ("1; 1/0", "'1/0' in row 2 is not a number"),
        ("nan 1", "'nan' in row 1 is not a finite number"),
        ("1 " * 8, "8 columns; the explorer takes at most 7x7"),
        ("1;" * 8, "8 rows"),
    ],
)
def test_parse_kernel_invalid(text, match):
    with pytest.raises(ValueError, match=match):
        parse_kernel(text)


@pytest.mark.parametrize("name", list(KERNEL_PRESETS))
def test_kernel_text_round_trips_to_four_digits(name):
    K = KERNEL_PRESETS[name]
    torch.testing.assert_close(parse_kernel(kernel_to_text(K)), K, atol=1e-4, rtol=0)


# ----------------------------------------------------------------------------- explorer


def test_starts_with_the_notes_example(synthetic):
    e = synthetic
    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    assert torch.equal(e.input, X)
    assert torch.equal(e.kernel, torch.tensor([[1.0, -1.0]]))
    assert torch.equal(e.output, _reference(X, e.kernel))
    assert bytes(e.image.value).startswith(b"\x89PNG")
    assert "Y is 6×7" in e.status.value


@pytest.mark.parametrize("name", [n for n in KERNEL_PRESETS if n != "vertical edge 1x2"])
def test_choosing_a_preset_updates_kernel_output_text_and_picture(synthetic, name):
    e = synthetic
    before, renders = e.image.value, e.renders
    e.preset.value = name
    assert torch.equal(e.kernel, KERNEL_PRESETS[name])
    torch.testing.assert_close(e.output, _reference(e.input, KERNEL_PRESETS[name]))
    assert e.kernel_text.value == kernel_to_text(KERNEL_PRESETS[name])
    assert e.preset.value == name  # writing the box did not flip it to "custom"
    assert e.renders == renders + 1  # one redraw per change, not one per synced control
    assert e.image.value != before
    assert not _is_error(e)


def test_typing_a_kernel_switches_to_custom(synthetic):
    e = synthetic
    e.kernel_text.value = "1 2; 3 4"
    assert e.preset.value == CUSTOM
    K = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert torch.equal(e.kernel, K)
    torch.testing.assert_close(e.output, _reference(e.input, K))
    # Choosing "custom" by hand keeps the typed values.
    e.preset.value = "box blur 3x3"
    e.preset.value = CUSTOM
    torch.testing.assert_close(e.kernel, KERNEL_PRESETS["box blur 3x3"], atol=1e-4, rtol=0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 2; 3", "row 2 has 1 numbers but row 1 has 2"),
        ("1 two", "&#x27;two&#x27; in row 1 is not a number"),  # HTML-escaped quotes
        ("1 " * 8, "at most 7x7"),
        ("", "empty"),
    ],
)
def test_invalid_text_keeps_the_last_picture_and_explains(synthetic, text, message):
    e = synthetic
    before_png, before_kernel, renders = e.image.value, e.kernel.clone(), e.renders
    e.kernel_text.value = text  # must not raise
    assert _is_error(e) and message in e.status.value
    assert e.image.value == before_png and e.renders == renders
    assert torch.equal(e.kernel, before_kernel)
    e.kernel_text.value = "0 1"  # a valid kernel clears the message
    assert not _is_error(e) and torch.equal(e.kernel, torch.tensor([[0.0, 1.0]]))


def test_kernel_larger_than_input_is_explained(synthetic):
    e = synthetic
    e.kernel_text.value = "; ".join(["1 1 1 1 1 1 1"] * 7)  # 7x7 does not fit a 6x8 image
    assert _is_error(e) and "7×7 kernel does not fit inside the 6×8 input" in e.status.value
    assert e.kernel.shape == (1, 2)


def test_switching_to_the_transposed_input_gives_all_zeros(synthetic):
    e = synthetic
    before = e.image.value
    e.input_choice.value = STRIPES_T
    assert torch.equal(e.input, e.inputs[STRIPES].t())
    assert e.output.shape == (8, 5)
    assert torch.equal(e.output, _reference(e.input, e.kernel))
    assert torch.count_nonzero(e.output) == 0  # the notes' point: [1, -1] sees no horizontal edge
    assert e.image.value != before


def test_without_data_only_synthetic_inputs_and_a_note(synthetic):
    assert list(synthetic.inputs) == [STRIPES, STRIPES_T]
    assert "Fashion-MNIST was not found" in synthetic.status.value
    assert "Fashion-MNIST was not found" in synthetic.data_message
    synthetic.preset.value = "sharpen 3x3"  # still works, note stays visible
    assert "Fashion-MNIST was not found" in synthetic.status.value


def test_unknown_start_values_are_rejected(monkeypatch):
    monkeypatch.setattr(data, "load_split", _raise_not_found)
    with pytest.raises(ValueError, match="unknown preset 'emboss'"):
        KernelExplorer(preset="emboss")
    with pytest.raises(ValueError, match="unknown input 'cat'"):
        KernelExplorer(input_name="cat")
    with pytest.raises(ValueError, match="num_fashion must be between 0 and 10.*got 11"):
        KernelExplorer(num_fashion=11)


def test_callback_failures_are_reported_not_raised(synthetic, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(kernel_explorer, "show_corr2d", broken)
    synthetic.preset.value = "identity 3x3"  # must not raise
    assert _is_error(synthetic) and "renderer exploded" in synthetic.status.value


@pytest.mark.data
def test_fashion_inputs_are_real_test_images_with_labels(with_data):
    e = with_data
    images, labels = data.load_split(train=False)
    fashion = [name for name in e.inputs if name.startswith("Fashion-MNIST")]
    assert len(fashion) == 6
    for name in fashion:
        index = int(name.split("#")[1].split(":")[0])
        assert name.endswith(data.text_labels([labels[index].item()])[0])
        torch.testing.assert_close(e.inputs[name], images[index].float() / 255)
    e.input_choice.value = fashion[0]
    e.preset.value = "vertical edge 3x3"
    assert e.input.shape == (28, 28) and e.output.shape == (26, 26)
    torch.testing.assert_close(e.output, _reference(e.input, KERNEL_PRESETS["vertical edge 3x3"]))
    assert "Fashion-MNIST was not found" not in e.status.value


@pytest.mark.parametrize("text", ["1e39 0; 0 0", "-4e38"])
def test_a_kernel_value_float32_cannot_hold_is_refused(text):
    with pytest.raises(ValueError, match="too large for float32"):
        parse_kernel(text)


def test_a_kernel_whose_output_overflows_shows_a_message(synthetic):
    explorer = KernelExplorer()
    before = explorer.output.clone()
    explorer.preset.value = "custom"
    explorer.kernel_text.value = "3e38 3e38"
    assert "overflows float32" in explorer.status.value
    assert "nan" not in explorer.status.value
    assert torch.equal(explorer.output, before)  # the last valid picture stays
