"""Every registered model, at the input size the book uses (timm's test_models idea)."""

import pytest
import torch
import torch.nn.functional as F

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


@pytest.mark.parametrize("name", list_models())
def test_count_parameters_counts_only_trainable_ones_unless_asked(name):
    with torch.device("meta"):  # shapes only: VGG-11's 129M parameters cost no memory or time
        net = get_model(name, num_classes=10)
    total = torch.nn.utils.parameters_to_vector(net.parameters()).numel()
    first = next(net.parameters())
    first.requires_grad_(False)  # freeze one tensor: the trainable count must drop by its size
    assert count_parameters(net, trainable_only=False) == total > 0
    assert count_parameters(net) == total - first.numel()


@pytest.mark.parametrize("name", list_models())
def test_registered_model_backward_gives_every_parameter_a_finite_gradient(name):
    """timm's check: a training step reaches every parameter, and nothing overflows."""
    net = get_model(name, num_classes=10).train()
    side = input_size(name)
    loss = F.cross_entropy(net(torch.randn(2, 1, side, side)), torch.tensor([1, 7]))
    loss.backward()
    for pname, p in net.named_parameters():
        assert p.grad is not None, f"{name}: {pname} gets no gradient"
        assert torch.isfinite(p.grad).all(), f"{name}: {pname} has a non-finite gradient"


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
