"""The kernel explorer: controls (traitlets) drive kernel, input and output; bad text is explained.

The explorer is live (cnnlib/widgets/live.py): its controls are traitlets, set here as the
front-end sets them, and every number it sends is checked against torch.nn.functional.
The front-end's own compute (the website's) is held to it in test_widgets_live_kernel.py.
"""

import io

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from cnnlib import data
from cnnlib.viz.kernels import KERNEL_PRESETS
from cnnlib.widgets.feature_maps import image_from_bytes
from cnnlib.widgets.kernel_explorer import (
    CUSTOM,
    STRIPES,
    STRIPES_T,
    UPLOAD_PREFIX,
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


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


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


@pytest.mark.parametrize("text", ["1e39 0; 0 0", "-4e38"])
def test_a_kernel_value_float32_cannot_hold_is_refused(text):
    with pytest.raises(ValueError, match="too large for float32"):
        parse_kernel(text)


# ----------------------------------------------------------------------------- explorer


def test_starts_with_the_notes_example(synthetic):
    e = synthetic
    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    assert torch.equal(e.input, X) and e.shown_input == STRIPES
    assert torch.equal(e.kernel, torch.tensor([[1.0, -1.0]]))
    assert torch.equal(e.output, _reference(X, e.kernel))
    assert e.output_values == _reference(X, e.kernel).tolist()
    assert e.kernel_values == [[1.0, -1.0]]
    assert e.picture_png()[:4] == b"\x89PNG"
    assert e.summary.startswith("X is 6×8, K is 1×2, so Y is 6×7: each output adds up 2 products")
    assert e.titles == ["input X 6×8", "⋆ kernel K 1×2", "= output Y 6×7"]


@pytest.mark.parametrize("name", [n for n in KERNEL_PRESETS if n != "vertical edge 1x2"])
def test_choosing_a_preset_updates_kernel_output_text_and_picture(synthetic, name):
    e = synthetic
    before = e.picture_png()
    e.preset = name
    assert torch.equal(e.kernel, KERNEL_PRESETS[name])
    assert e.kernel_values == KERNEL_PRESETS[name].tolist()
    torch.testing.assert_close(e.output, _reference(e.input, KERNEL_PRESETS[name]))
    torch.testing.assert_close(torch.tensor(e.output_values), e.output)
    assert e.kernel_text == kernel_to_text(KERNEL_PRESETS[name])
    assert e.preset == name  # writing the box did not flip it to "custom"
    assert e.picture_png() != before and e.error == ""


def test_typing_a_kernel_switches_to_custom(synthetic):
    e = synthetic
    e.kernel_text = "1 2; 3 4"
    assert e.preset == CUSTOM
    K = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert torch.equal(e.kernel, K)
    torch.testing.assert_close(e.output, _reference(e.input, K))
    # Choosing "custom" by hand keeps the typed values (the box's 4 digits).
    e.preset = "box blur 3x3"
    e.preset = CUSTOM
    assert e.kernel_text == kernel_to_text(KERNEL_PRESETS["box blur 3x3"])
    torch.testing.assert_close(e.kernel, KERNEL_PRESETS["box blur 3x3"], atol=1e-4, rtol=0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 2; 3", "row 2 has 1 numbers but row 1 has 2; every row needs the same count"),
        ("1 two", "'two' in row 1 is not a number"),
        ("1 " * 8, "the kernel has 1 rows and up to 8 columns; the explorer takes at most 7x7"),
        ("", "the kernel box is empty: type numbers such as 1 -1, or 1 0 -1; 1 0 -1"),
    ],
)
def test_invalid_text_is_explained_kept_and_the_next_change_fixes_it(synthetic, text, message):
    e = synthetic
    e.kernel_text = text  # must not raise
    assert e.error == message and e.status_text.startswith(message)
    assert e.kernel_text == text  # the reader's text stays in the box
    assert e.output is None and e.output_values == [] and e.picture_png() is None
    e.kernel_text = "0 1"  # a valid kernel clears the message
    assert e.error == "" and torch.equal(e.kernel, torch.tensor([[0.0, 1.0]]))
    torch.testing.assert_close(e.output, _reference(e.input, e.kernel))


def test_kernel_larger_than_input_is_explained(synthetic):
    e = synthetic
    e.kernel_text = "; ".join(["1 1 1 1 1 1 1"] * 7)  # 7x7 does not fit a 6x8 image
    assert e.error == ("a 7×7 kernel does not fit inside the 6×8 input; "
                       "choose a smaller kernel or a larger input")
    e.preset = "identity 3x3"
    assert e.error == "" and e.kernel.shape == (3, 3)


def test_switching_to_the_transposed_input_gives_all_zeros(synthetic):
    e = synthetic
    e.input_choice = STRIPES_T
    assert torch.equal(e.input, e.tensors[STRIPES].t())
    assert e.output.shape == (8, 5)
    assert torch.equal(e.output, _reference(e.input, e.kernel))
    assert torch.count_nonzero(e.output) == 0  # the notes' point: [1, -1] sees no horizontal edge


def test_without_data_only_synthetic_inputs_and_a_note(synthetic):
    assert list(synthetic.inputs) == [STRIPES, STRIPES_T]
    assert "Fashion-MNIST was not found" in synthetic.note == synthetic.data_message
    assert synthetic.status_text.endswith(synthetic.note)
    synthetic.preset = "sharpen 3x3"  # still works, note stays visible
    assert "Fashion-MNIST was not found" in synthetic.status_text


def test_unknown_start_values_are_rejected_and_unknown_menu_values_explained(monkeypatch):
    monkeypatch.setattr(data, "load_split", _raise_not_found)
    with pytest.raises(ValueError, match="unknown preset 'emboss'"):
        KernelExplorer(preset="emboss")
    with pytest.raises(ValueError, match="unknown input 'cat'"):
        KernelExplorer(input_name="cat")
    with pytest.raises(ValueError, match="num_fashion must be between 0 and 10.*got 11"):
        KernelExplorer(num_fashion=11)
    e = KernelExplorer()
    e.input_choice = "cat"  # a value no menu offers: a message, not an exception
    assert e.error == f"unknown input 'cat'; choose one of {[STRIPES, STRIPES_T]}"
    e.input_choice = STRIPES
    e.preset = "emboss"
    assert e.error.startswith("unknown preset 'emboss'; choose one of ['vertical edge 1x2'")
    e.preset = CUSTOM
    assert e.error == ""


@pytest.mark.data
def test_fashion_inputs_are_real_test_images_with_labels(with_data):
    e = with_data
    images, labels = data.load_split(train=False)
    fashion = [name for name in e.inputs if name.startswith("Fashion-MNIST")]
    assert len(fashion) == 6
    for name in fashion:
        index = int(name.split("#")[1].split(":")[0])
        assert name.endswith(data.text_labels([labels[index].item()])[0])
        torch.testing.assert_close(torch.tensor(e.inputs[name]), images[index].float() / 255)
        e.input_choice = name
        e.preset = "vertical edge 3x3"
        assert e.input.shape == (28, 28) and e.output.shape == (26, 26)
        torch.testing.assert_close(e.output,
                                   _reference(e.input, KERNEL_PRESETS["vertical edge 3x3"]))
    assert "Fashion-MNIST was not found" not in e.status_text


def test_a_kernel_whose_output_overflows_shows_a_message(synthetic):
    e = synthetic
    e.kernel_text = "3e38 3e38"
    assert e.error == ("the output overflows float32 (its sums exceed about 3.4e38) with "
                       "kernel values up to 3e+38; use smaller numbers")
    assert "nan" not in e.status_text and e.output is None


# ----------------------------------------------------------------------------- uploads


def test_an_upload_is_converted_as_the_feature_map_explorer_does_and_chosen(synthetic):
    e = synthetic
    picture = Image.new("RGB", (40, 30), (250, 250, 250))
    picture.paste((20, 40, 200), (10, 5, 30, 25))  # a blue box on a light background
    content = _png(picture)
    e.preset = "sharpen 3x3"
    e.upload = {"name": "box.png", "content": memoryview(content)}  # as JupyterLab sends it
    expected, steps = image_from_bytes(content, 28)
    assert e.upload == {} and e.input_choice == UPLOAD_PREFIX + "box.png"
    assert torch.equal(e.input, expected)
    assert torch.equal(torch.tensor(e.inputs[UPLOAD_PREFIX + "box.png"]), expected)
    torch.testing.assert_close(e.output, _reference(expected, KERNEL_PRESETS["sharpen 3x3"]))
    assert e.summary.endswith(f"The upload was {'; '.join(steps)}.")
    assert "inverted" in e.summary  # the light background became Fashion-MNIST's black
    e.input_choice = STRIPES
    assert "upload" not in e.summary
    assert list(e.page_state()["inputs"])[-1] == UPLOAD_PREFIX + "box.png"


def test_a_file_that_is_not_a_picture_is_explained_once(synthetic):
    e = synthetic
    e.load_image_bytes(b"not a picture", "notes.txt")
    assert e.error == ("'notes.txt': its 13 bytes are not in an image format Pillow knows; "
                       "upload a PNG or JPEG picture")
    assert e.upload == {} and e.input_choice == STRIPES
    e.preset = "identity 3x3"  # the next change works without it
    assert e.error == "" and list(e.inputs) == [STRIPES, STRIPES_T]


def test_an_upload_with_a_bad_kernel_is_kept_for_the_next_change(synthetic):
    e = synthetic
    e.kernel_text = "1 2; 3"
    e.load_image_bytes(_png(Image.new("L", (28, 28), 40)), "grey.png")
    assert e.error.startswith("row 2 has 1 numbers") and e.input_choice == "upload: grey.png"
    e.kernel_text = "1 2; 3 4"
    assert e.error == "" and e.input.shape == (28, 28)


def test_an_upload_arrives_from_jupyterlab_as_a_binary_buffer(synthetic):
    """The front-end sets ``upload`` to ``{name, type, content: DataView}``; ipywidgets sends
    the DataView as a binary buffer at ``["upload", "content"]``, as FileUpload's files."""
    content = _png(Image.new("RGB", (30, 30), (10, 200, 30)))
    message = {"content": {"data": {
        "method": "update",
        "state": {"upload": {"name": "leaf.png", "type": "image/png", "content": None}},
        "buffer_paths": [["upload", "content"]],
    }}, "buffers": [memoryview(content)]}
    synthetic._handle_msg(message)
    assert synthetic.upload == {} and synthetic.input_choice == UPLOAD_PREFIX + "leaf.png"
    assert torch.equal(synthetic.input, image_from_bytes(content, 28)[0])
    assert synthetic.error == ""
