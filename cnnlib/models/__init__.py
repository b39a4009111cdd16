"""Model families, one file each, and a plain registry.

    from cnnlib.models import get_model
    net = get_model("resnet18", num_classes=10)

Each family module (``lenet``, ``alexnet``, ``vgg``, ``nin``, ``googlenet``,
``bn_lenet``, ``resnet``) holds explicit ``nn.Module`` classes and builders;
``base`` holds the shared ``Classifier`` (with the book's ``layer_summary``);
``cost`` counts parameters and FLOPs.
"""

from cnnlib.models.registry import MODELS, get_model, input_size, list_models

__all__ = ["MODELS", "get_model", "input_size", "list_models"]
