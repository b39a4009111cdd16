"""Every registered model, at the input size the book uses (timm's test_models idea)."""

import pytest
import torch

from cnnlib.models import MODELS, get_model, input_size, list_models
from cnnlib.models.cost import count_parameters


@pytest.mark.parametrize("name", list_models())
def test_registered_model_forward(name):
    net = get_model(name, num_classes=10).eval()
    side = input_size(name)
    with torch.no_grad():
        y_hat = net(torch.randn(2, 1, side, side))
    assert y_hat.shape == (2, 10)
    assert torch.isfinite(y_hat).all()
    # Parameters counted two independent ways agree, and the model learns something.
    by_hand = sum(p.numel() for p in net.parameters() if p.requires_grad)
    assert count_parameters(net) == by_hand > 0


@pytest.mark.parametrize("name", list_models())
def test_registered_model_num_classes(name):
    net = get_model(name, num_classes=3).eval()
    side = input_size(name)
    with torch.no_grad():
        assert net(torch.randn(1, 1, side, side)).shape == (1, 3)


def test_unknown_model_names_the_choices():
    with pytest.raises(ValueError, match="registered models: lenet"):
        get_model("lenet-7")
    with pytest.raises(ValueError, match="unknown model 'vgg99'"):
        input_size("vgg99")


def test_registry_entries_name_a_section():
    assert all(entry.section[0] in "78" for entry in MODELS.values())
