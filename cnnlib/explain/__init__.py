"""Looking inside a trained network (compute only; :mod:`cnnlib.viz` draws the results).

* ``activations`` -- every layer's output for one image (:func:`probe`), class
  probabilities for many, which layers end a stage, and example picking;
* ``attribution`` -- which pixels decided the class: Grad-CAM and saliency.
"""

from cnnlib.explain.activations import (
    Activation,
    Probe,
    choose_examples,
    class_probabilities,
    probe,
    run_layers,
    sequential_net,
    stage_indices,
)
from cnnlib.explain.attribution import (
    GradCAMResult,
    default_target_layer,
    grad_cam,
    resolve_layer,
    saliency,
)

__all__ = [
    "Activation",
    "GradCAMResult",
    "Probe",
    "choose_examples",
    "class_probabilities",
    "default_target_layer",
    "grad_cam",
    "probe",
    "resolve_layer",
    "run_layers",
    "saliency",
    "sequential_net",
    "stage_indices",
]
