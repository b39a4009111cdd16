"""The Grad-CAM explorer (8.6): its maps are grad_cam's, its top-3 is softmax + topk.

grad_cam itself is checked against an independent hook-free computation (the model
split at the target layer and differentiated there) in tests/test_explain_attribution.py
(test_grad_cam_matches_hand_computation); here the explorer is compared with grad_cam
called directly, on an untrained, seeded ResNet-18 of the shipped shape (no weights file
and no dataset needed).
"""

import base64

import pytest
import torch
import torch.nn.functional as F
from test_viz_style import notebook_png_width, reader_view

from cnnlib.explain import grad_cam
from cnnlib.models.pretrained import build
from cnnlib.viz.common import figure_to_png
from cnnlib.viz.grad_cam import show_class_cam
from cnnlib.widgets.grad_cam import GradCamExplorer


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build("resnet18").eval()


@pytest.fixture(scope="module")
def batch():
    generator = torch.Generator().manual_seed(1)
    X = torch.rand(4, 1, 64, 64, generator=generator)
    y = torch.tensor([3, 0, 7, 9])
    return X, y


@pytest.fixture
def explorer(model, batch):
    return GradCamExplorer(model, *batch, indices=[5, 6, 7, 8])


def test_top3_is_topk_of_softmax(explorer, model, batch):
    X, _ = batch
    with torch.no_grad():
        top = torch.topk(F.softmax(model(X), dim=1), 3, dim=1)
    for k in range(X.shape[0]):
        explorer.example = k
        for rank in range(3):
            explorer.target = rank
            assert explorer.class_idx == int(top.indices[k, rank])
            p = float(explorer.probabilities[k, explorer.class_idx])
            assert p == pytest.approx(float(top.values[k, rank]), rel=1e-5)


@pytest.mark.parametrize("layer", ["net.b5", "net.b4", "net.b3"])
def test_map_is_grad_cam_called_directly(explorer, model, batch, layer):
    X, y = batch
    explorer.example = 2
    explorer.layer = layer
    explorer.target = -1  # the true class
    assert explorer.class_idx == int(y[2])
    expected = grad_cam(model, X[2:3], layer, class_idx=int(y[2]))
    torch.testing.assert_close(explorer.result.cam, expected.cam)
    torch.testing.assert_close(explorer.result.raw_cam, expected.raw_cam)
    assert explorer.result.raw_cam.abs().sum() > 0 or not (expected.raw_cam > 0).any()
    h, w = expected.raw_cam.shape[1:]
    (coarse,) = [ax for ax in explorer.figure().axes if ax.get_label() == "coarse map"]
    torch.testing.assert_close(torch.as_tensor(coarse.images[0].get_array()).float(),
                               expected.raw_cam[0])
    assert f"{h}×{w}" in explorer.status_text and "#7" in explorer.status_text


def test_renderer_is_readable_and_highlights_the_explained_class(explorer):
    explorer.target = 2
    fig = explorer.figure()
    assert reader_view(fig, notebook_png_width(fig)) == []
    (bars,) = [ax for ax in fig.axes if ax.get_label() == "probabilities"]
    widths = [patch.get_width() for patch in bars.patches]
    k = explorer.example
    assert widths[2] == pytest.approx(float(explorer.probabilities[k, explorer.class_idx]))
    with pytest.raises(ValueError, match="class_idx must be in 0..9"):
        show_class_cam(torch.zeros(8, 8), torch.zeros(8, 8), torch.zeros(2, 2),
                       torch.full((10,), 0.1), 10)


def test_the_website_picture_is_pythons_drawing_of_the_same_setting(model, batch):
    """The picture the page shows while the network loads is show_class_cam's."""
    X, y = batch
    explorer = GradCamExplorer(model, X[:2], y[:2])
    explorer.target, explorer.layer = -1, "net.b4"
    expected = grad_cam(model, X[:1], "net.b4", class_idx=int(y[0]))
    fig = show_class_cam(X[0], expected.cam[0], expected.raw_cam[0],
                         explorer.probabilities[0], int(y[0]), int(y[0]), "net.b4")
    assert explorer.picture_png() == figure_to_png(fig)
    assert explorer.page_state()["picture"] == base64.b64encode(explorer.picture_png()).decode()


def test_bad_input_is_refused_with_a_clear_message(model, batch):
    X, y = batch
    with pytest.raises(ValueError, match=r"y must be \(4,\)"):
        GradCamExplorer(model, X, y[:3])
    with pytest.raises(ValueError, match="float images"):
        GradCamExplorer(model, X[:, 0], y)
    with pytest.raises(ValueError, match="indices must hold 4"):
        GradCamExplorer(model, X, y, indices=[1, 2])
    with pytest.raises(ValueError, match="no_such_layer"):
        GradCamExplorer(model, X, y, layers=("no_such_layer",))
    with pytest.raises(ValueError, match="non-empty tuple"):
        GradCamExplorer(model, X, y, layers="net.b5")
