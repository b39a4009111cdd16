"""The architecture diagram: one box per stage, shapes from a real forward pass."""

import pytest
from matplotlib.patches import FancyBboxPatch
from torch import nn

from cnnlib.models import get_model
from cnnlib.viz.architecture import describe_stage, show_architecture, stage_shapes


def _box_texts(fig):
    ax = fig.axes[0]
    return [t.get_text() for t in ax.texts]


def test_resnet_boxes_carry_the_stage_shapes():
    model = get_model("resnet18")
    fig = show_architecture(model, (1, 1, 96, 96))
    boxes = [p for p in fig.axes[0].patches if isinstance(p, FancyBboxPatch)]
    assert len(boxes) == len(model.net)
    texts = _box_texts(fig)
    for shape in stage_shapes(model, (1, 1, 96, 96)):
        assert "×".join(str(n) for n in shape[1:]) in texts


def test_activations_fold_into_the_previous_box():
    model = get_model("lenet")
    fig = show_architecture(model, (1, 1, 28, 28))
    boxes = [p for p in fig.axes[0].patches if isinstance(p, FancyBboxPatch)]
    activations = sum(isinstance(m, nn.Sigmoid) for m in model.net)
    assert len(boxes) == len(model.net) - activations
    assert any("Sigmoid" in text for text in _box_texts(fig))


def test_vgg_block_description_counts_repeats():
    block = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1),
                          nn.ReLU(), nn.MaxPool2d(2))
    assert describe_stage(block) == "2× (Conv 3×3, 8 + ReLU) + MaxPool 2×2"


def test_models_without_net_are_refused():
    with pytest.raises(ValueError, match="no nn.Sequential `net`"):
        show_architecture(nn.Linear(2, 2), (1, 2))
