"""The trained networks shipped in ``cnnlib/weights``, for the explorers.

Each chapter-8 section trains its network under the quick budget, and the weights shipped
for it come from one run of that budget. The explorers
that look inside a *trained* network (kernels, feature maps, class maps, Grad-CAM)
cannot train one every time they are built, and the website's tests must rebuild
exactly the network the page shows. So those runs are made once, by one command
each, and their weights are committed beside a JSON record of how they were made::

    python scripts/train_checkpoint.py alexnet      # -> cnnlib/weights/alexnet_fashion_mnist.*

The weights are stored as float16 to keep the package small (all of them together
stay under 10 MB); they are loaded as float32, and the accuracy in each record is
measured on the loaded, rounded weights, not on the float32 model that was trained.

LeNet's weights (7.6) predate this module and have their own script,
``scripts/train_lenet_checkpoint.py``; :func:`pretrained` loads them too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import nn

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"

#: Networks with shipped weights: registry name -> the section that shows them. Chapter 8's
#: come from their section's quick budget; LeNet's from scripts/train_lenet_checkpoint.py.
SHIPPED = {
    "lenet": "7.6",
    "alexnet": "8.1",
    "vgg11": "8.2",
    "nin": "8.3",
    "googlenet": "8.4",
    "bn_lenet": "8.5",
    "resnet18": "8.6",
}


def _check_name(name: str) -> None:
    if name not in SHIPPED:
        raise ValueError(f"no shipped weights for {name!r}; there are weights for "
                         f"{sorted(SHIPPED)}")


def weights_path(name: str) -> Path:
    """Where the weights of ``name`` live (``cnnlib/weights/<name>_fashion_mnist.pt``)."""
    _check_name(name)
    return WEIGHTS_DIR / f"{name}_fashion_mnist.pt"


def remake_command(name: str) -> str:
    """The one command that trains and writes the weights of ``name``."""
    _check_name(name)
    if name == "lenet":
        return "python scripts/train_lenet_checkpoint.py"
    return f"python scripts/train_checkpoint.py {name}"


def load_record(name: str) -> dict[str, Any]:
    """The JSON record written with the weights: settings, accuracy, hardware, date."""
    path = weights_path(name).with_suffix(".json")
    if not path.is_file():
        raise FileNotFoundError(f"no record at {path}; make it with `{remake_command(name)}`")
    return json.loads(path.read_text())


def build(name: str) -> nn.Module:
    """An untrained network shaped exactly as the shipped weights of ``name`` expect."""
    _check_name(name)
    if name == "lenet":
        from cnnlib.models.lenet import LeNet

        return LeNet()
    from cnnlib.models import get_model
    from cnnlib.runs.budget import get_budget

    return get_model(name, **get_budget(name, "quick").model_kwargs())


def image_side(name: str) -> int:
    """The image side (pixels) the shipped network of ``name`` was trained on."""
    _check_name(name)
    if name == "lenet":
        return 28
    from cnnlib.runs.budget import get_budget

    return get_budget(name, "quick").side


def pretrained(name: str, path: str | Path | None = None) -> nn.Module:
    """The network ``name`` with its shipped Fashion-MNIST weights, float32, in eval mode.

    Args:
        name: one of :data:`SHIPPED` (``'alexnet'``, ``'resnet18'``, ...).
        path: another weights file made for the same network; default: the shipped one.

    Raises:
        ValueError: for a name without shipped weights (the message lists them).
        FileNotFoundError: when the weights file is missing (the message says how to make it).
        cnnlib.training.checkpoint.CheckpointError: when the file is damaged or was made
            for another architecture.
    """
    from cnnlib.training.checkpoint import load_weights

    model = build(name)
    path = weights_path(name) if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weights at {path}; make them with `{remake_command(name)}`")
    load_weights(model, path)  # load_state_dict copies float16 into the float32 parameters
    return model.eval()
