"""The feature-map explorer and its renderers.

References are PyTorch itself: a layer-by-layer forward pass through
``model.net``, ``F.softmax`` of the model's output, and the conv weights.
"""

import base64
import io
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from cnnlib import data
from cnnlib.explain.activations import (
    choose_examples,
    class_probabilities,
    probe,
    run_layers,
    stage_indices,
)
from cnnlib.models.lenet import LeNet, ModernLeNet
from cnnlib.viz.feature_maps import (
    ProbeFigure,
    feature_map_gallery,
    kernel_mosaic,
    show_conv_kernels,
    tile,
)
from cnnlib.widgets.feature_maps import FeatureMapExplorer, image_from_bytes

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def model():
    return LeNet()


@pytest.fixture
def images():
    """Twelve random 28x28 uint8 images with labels: fast, no data files needed."""
    generator = torch.Generator().manual_seed(0)
    X = torch.randint(0, 256, (12, 28, 28), dtype=torch.uint8, generator=generator)
    y = torch.arange(12) % 10
    return X, y


@pytest.fixture
def explorer(model, images):
    return FeatureMapExplorer(model, *images)


def _reference_outputs(model, image):
    """Each layer's output for one image, by running ``model.net`` by hand in eval mode."""
    model.eval()
    X = image.float()[None, None]  # (1, 1, 28, 28)
    outputs = []
    with torch.no_grad():
        for layer in model.net:
            X = layer(X)
            outputs.append(X[0])
    return outputs


def _png(array: np.ndarray, mode: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buffer, format="PNG")
    return buffer.getvalue()


# ----------------------------------------------------------------------------- state


@pytest.mark.parametrize("index", [0, 7])
def test_activations_are_the_forward_pass(explorer, model, images, index):
    explorer.show_example(index)
    reference = _reference_outputs(model, images[0][index] / 255)
    got = explorer.probe.activations
    assert [a.index for a in got] == list(range(len(model.net)))
    assert [a.name for a in got] == [type(layer).__name__ for layer in model.net]
    for a, expected in zip(got, reference, strict=True):
        assert a.value.shape == expected.shape
        torch.testing.assert_close(a.value, expected)


def test_probabilities_are_softmax_of_the_model_output(explorer, model, images):
    explorer.show_example(3)
    X = (images[0][3].float() / 255)[None, None]
    with torch.no_grad():
        expected = F.softmax(model.eval()(X), dim=1)[0]
    probs = explorer.probe.probs
    torch.testing.assert_close(probs, expected)
    assert math.isclose(float(probs.sum()), 1.0, rel_tol=1e-6)
    assert explorer.probe.predicted == int(expected.argmax())
    assert explorer.probe.label == int(images[1][3])
    assert explorer.source == "test image #3"


def test_stages_only_draws_fewer_layers(model, images):
    p = probe(model, images[0][2], int(images[1][2]))
    figure = ProbeFigure(p, stage_indices(model)).figure
    drawn = sorted(int(ax.get_label().split()[1]) for ax in figure.axes
                   if ax.get_label().startswith("layer "))
    assert drawn == stage_indices(model)
    figure = ProbeFigure(p).figure
    drawn = [ax for ax in figure.axes if ax.get_label().startswith("layer ")]
    assert len(drawn) == len(model.net)


def test_figure_names_the_true_and_predicted_classes(model, images):
    label = int(images[1][6])
    p = probe(model, images[0][6], label)
    probe_figure = ProbeFigure(p)
    texts = probe_figure.text.texts
    assert f"{data.LABELS[label]} (true)" in texts
    assert texts[0].startswith(f"predicted {data.LABELS[p.predicted]}")
    (ax,) = [ax for ax in probe_figure.figure.axes if ax.get_label() == "probabilities"]
    widths = [bar.get_width() for bar in ax.patches]
    np.testing.assert_allclose(widths, p.probs.numpy(), rtol=1e-6)


def test_figure_is_reused_and_shows_the_new_image(model, images):
    probe_figure = ProbeFigure(probe(model, images[0][0]))
    first = probe_figure.figure
    assert probe_figure.update(probe(model, images[0][4])) is first  # in place, not rebuilt
    (input_ax,) = [ax for ax in first.axes if ax.get_label() == "input"]
    np.testing.assert_allclose(input_ax.images[0].get_array(), images[0][4].numpy() / 255,
                               rtol=1e-6)


def test_stage_indices_are_activation_and_pooling_outputs():
    for net in (LeNet().net, ModernLeNet().net):
        stages = stage_indices(type("M", (), {"net": net})())
        kinds = {type(net[i]).__name__ for i in stages}
        assert kinds <= {"Sigmoid", "ReLU", "FastAvgPool2d", "MaxPool2d"}
        # every pooling layer and every activation before a pooling/linear layer ends a stage
        pools = [i for i, layer in enumerate(net) if "Pool" in type(layer).__name__]
        assert set(pools) <= set(stages)
        assert len(net) - 1 not in stages  # the scores are shown as probabilities


def test_modern_lenet_is_probed_in_eval_mode_and_left_training(images):
    # Batch norm in training mode cannot even run on one image; eval mode uses
    # the running statistics, and the model's own mode is restored afterwards.
    model = ModernLeNet().train()
    result = probe(model, images[0][0])
    assert model.training
    reference = _reference_outputs(model, images[0][0] / 255)  # eval mode
    torch.testing.assert_close(result.activations[-1].value, reference[-1])


def test_probe_leaves_the_thread_count_alone(model, images):
    threads = torch.get_num_threads()
    probe(model, images[0][0])
    assert torch.get_num_threads() == threads


def test_run_layers_rejects_batches_and_models_without_net(model):
    with pytest.raises(ValueError, match=r"\(2, 1, 28, 28\)"):
        run_layers(model, torch.zeros(2, 1, 28, 28))
    with pytest.raises(TypeError, match="nn.Sequential"):
        run_layers(torch.nn.Linear(2, 2), torch.zeros(1, 1, 28, 28))


def test_explorer_rejects_bad_inputs(model):
    with pytest.raises(TypeError, match="nn.Sequential"):
        FeatureMapExplorer(torch.nn.Linear(784, 10), torch.zeros(3, 28, 28),
                           torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        FeatureMapExplorer(model, torch.zeros(3, 32, 32), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"labels must be \(3,\)"):
        FeatureMapExplorer(model, torch.zeros(3, 28, 28), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"0\.\.2"):
        FeatureMapExplorer(model, torch.zeros(3, 28, 28), torch.zeros(3, dtype=torch.long),
                           index=3)


# ----------------------------------------------------------------------------- uploads


def test_upload_of_a_light_background_png_is_inverted_and_probed(explorer, model):
    picture = np.full((60, 40, 3), 250, dtype=np.uint8)  # light background, portrait
    picture[10:50, 8:32] = 20  # a dark object
    explorer.load_image_bytes(_png(picture, "RGB"), "coat.png")
    assert explorer.error == ""
    assert explorer.source == "upload 'coat.png'"
    assert explorer.input_label is None
    image = explorer.input_image
    assert image.shape == (28, 28)
    assert float(image[0].mean()) < 0.1 and float(image[14, 14]) > 0.8  # inverted
    status = explorer.status
    for step in ("grayscale", "padded to 60×60", "resized to 28×28", "inverted"):
        assert step in status
    with torch.no_grad():
        expected = F.softmax(model.eval()(image[None, None]), dim=1)[0]
    torch.testing.assert_close(explorer.probe.probs, expected)


def test_upload_of_a_fashion_mnist_like_png_is_taken_as_is():
    pixels = np.zeros((28, 28), dtype=np.uint8)
    pixels[5:23, 9:19] = np.arange(10, 190, 10, dtype=np.uint8)[:, None]
    image, steps = image_from_bytes(_png(pixels, "L"))
    torch.testing.assert_close(image, torch.from_numpy(pixels).float() / 255)
    assert len(steps) == 1 and "PNG of 28×28" in steps[0]


def test_transparent_pixels_become_background():
    rgba = np.zeros((28, 28, 4), dtype=np.uint8)  # fully transparent...
    rgba[10:18, 10:18] = (0, 0, 0, 255)  # ...but for an opaque black square
    image, steps = image_from_bytes(_png(rgba, "RGBA"))
    assert "filled transparent pixels with white" in steps
    assert float(image[0, 0]) == 0.0 and float(image[12, 12]) == 1.0  # white -> inverted


@pytest.mark.parametrize(
    ("content", "name"),
    [(b"these are my notes, not a picture", "notes.txt"),
     # half of a PNG of noise: the header reads, the pixel data is cut short
     (_png(np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8), "L")[:2000],
      "cut.png")],
    ids=["text file", "truncated png"],
)
def test_a_non_image_upload_is_explained_and_changes_nothing(explorer, content, name):
    before = explorer.probe
    with pytest.raises(ValueError, match="PNG or JPEG") as raised:
        explorer.load_image_bytes(content, name)
    assert "0x" not in str(raised.value)  # no memory addresses
    assert explorer.probe is before and explorer.source == "test image #0"


# ----------------------------------------------------------------------------- kernels


def test_kernels_are_the_conv_weights(explorer, model):
    convs = {i: layer for i, layer in enumerate(model.net) if isinstance(layer, torch.nn.Conv2d)}
    assert set(explorer.kernels) == set(convs)
    for i, conv in convs.items():
        torch.testing.assert_close(explorer.kernels[i], conv.weight.detach())
    assert base64.b64decode(explorer.kernels_png).startswith(b"\x89PNG")
    fig = show_conv_kernels(model)
    for i, conv in convs.items():
        (ax,) = [ax for ax in fig.axes if ax.get_label() == f"kernels {i}"]
        shown = np.asarray(ax.images[0].get_array().filled(np.nan))
        c_out, c_in, kh, kw = conv.weight.shape
        assert shown.shape == (c_in * (kh + 1) - 1, c_out * (kw + 1) - 1)
        for o in range(c_out):
            for j in range(c_in):
                cell = shown[j * (kh + 1): j * (kh + 1) + kh, o * (kw + 1): o * (kw + 1) + kw]
                np.testing.assert_allclose(cell, conv.weight[o, j].detach().double().numpy())


def test_kernel_mosaic_gaps_are_blank():
    weight = torch.randn(3, 2, 4, 5)
    mosaic = kernel_mosaic(weight)
    assert np.isnan(mosaic[4]).all() and np.isnan(mosaic[:, 5]).all()
    assert np.isfinite(mosaic).sum() == weight.numel()


def test_tile_places_maps_row_major():
    maps = np.arange(5 * 2 * 3, dtype=float).reshape(5, 2, 3)
    mosaic = tile(maps, ncols=3)
    assert mosaic.shape == (2 * 3 - 1, 3 * 4 - 1)
    np.testing.assert_array_equal(mosaic[3:5, 4:7], maps[4])  # map 4: row 1, column 1
    assert np.isnan(mosaic[3:5, 8:11]).all()  # the unused sixth cell
    with pytest.raises(ValueError, match="ncols"):
        tile(maps, ncols=0)


# ----------------------------------------------------------------------------- static form


def test_gallery_has_one_row_per_image(model, images):
    X, y = images
    chosen = [0, 3, 5, 9]
    fig = feature_map_gallery(model, X[chosen], y[chosen])
    labels = [ax.get_label() for ax in fig.axes]
    stages = [i for i in stage_indices(model) if i < 6]  # the spatial ones
    assert sorted(label for label in labels if label.startswith("input ")) == [
        f"input {r}" for r in range(4)]
    assert sum(label.startswith("probabilities ") for label in labels) == 4
    assert sum(label.startswith("stage ") for label in labels) == 4 * len(stages)
    (first,) = [ax for ax in fig.axes if ax.get_label() == "input 2"]
    np.testing.assert_allclose(first.images[0].get_array(), X[5].numpy() / 255, rtol=1e-6)


def test_gallery_rejects_mismatched_labels(model, images):
    with pytest.raises(ValueError, match="3 labels for 2 images"):
        feature_map_gallery(model, images[0][:2], images[1][:3])


def test_choose_examples_takes_right_ones_then_a_wrong_one():
    labels = torch.tensor([0, 0, 1, 2, 3, 1])
    predicted = torch.tensor([1, 0, 1, 2, 3, 1])  # only item 0 is wrong
    probs = F.one_hot(predicted, 10).float()
    assert choose_examples(probs, labels, num_correct=3, num_wrong=1) == [1, 2, 3, 0]
    assert choose_examples(probs, labels, num_correct=2, num_wrong=0) == [1, 2]


def test_class_probabilities_match_the_model(model, images):
    X = images[0]
    with torch.no_grad():
        expected = F.softmax(model.eval()(X[:, None].float() / 255), dim=1)
    torch.testing.assert_close(class_probabilities(model, X, batch_size=5), expected)


def test_probe_figure_refuses_another_models_probe(model, images):
    figure = ProbeFigure(probe(model, images[0][0]))

    class Wide(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.Flatten(),
                                           torch.nn.Linear(3 * 26 * 26, 10))

    with pytest.raises(ValueError, match="laid out for"):
        figure.update(probe(Wide(), images[0][0]))


@pytest.mark.data
def test_with_fashion_mnist_the_examples_carry_text_labels(model):
    try:
        _, labels = data.load_split(train=False)
    except data.DatasetNotFoundError:
        pytest.skip("Fashion-MNIST is not installed")
    explorer = FeatureMapExplorer(model)
    texts = {entry["index"]: entry["text"] for entry in explorer.gallery}
    for c, name in enumerate(data.LABELS):
        first = int((labels == c).nonzero()[0])
        assert texts[first].startswith(f"#{first} {name}")
    wrong = [e for e in explorer.gallery if "(wrong)" in e["text"]]
    assert wrong
    explorer.show_example(wrong[0]["index"])
    label = data.LABELS[int(labels[wrong[0]["index"]])]
    assert f"its label is {label}, so the prediction is wrong" in explorer.status
