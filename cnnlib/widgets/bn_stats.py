"""Two batch-norm explorers for section 8.5, each with one front-end.

* :class:`ActivationStatsExplorer` replays a recorded training run of BN-LeNet and its
  twin without batch norm (``cnnlib/weights/bn_snapshots.json``, made by
  ``scripts/record_bn_snapshots.py``): pick a step and a layer, compare the activations.
  Front-end: ``cnnlib/web/explorers/activation-stats.js``; the recorded numbers travel to
  the page as data and the page picks them out.
* :class:`BatchStatsExplorer` sends many batches of one size through a trained BN-LeNet
  in training or evaluation mode and shows what one batch-norm channel computes: the
  batch means and variances against the running statistics, and the output.
  Front-end: ``cnnlib/web/explorers/batch-stats.js``; on the website it runs BN-LeNet's
  forward pass, batch norm in both modes, in the reader's browser on the same images and
  batches as PyTorch here.
"""

from __future__ import annotations

import base64
import copy
import math
import os
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
import traitlets
from torch import nn

from cnnlib.explain import bn_stats
from cnnlib.explain.bn_stats import NET_NAMES, Snapshots, blocks
from cnnlib.viz.bn_stats import KINDS, activation_stats_figure, batch_stats_figure
from cnnlib.viz.common import figure_to_png
from cnnlib.widgets.live import LiveExplorer
from cnnlib.widgets.page import compress_png


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


#: How the status line names each net.
NET_WORDS = (("with_bn", "with BN"), ("without_bn", "without BN"))


def _fields(kind: str) -> str:
    return "sigmoid_in" if kind == KINDS[0] else "sigmoid_out"


def snapshot_data(snapshots: Snapshots) -> dict[str, Any]:
    """What the front-end replays: the recorded numbers of :class:`Snapshots`, as JSON.

    Per net: its recorded points (names, histogram ranges), its hidden blocks (label and
    the positions of the affine layer's output, the sigmoid's input and output) and, per
    snapshot, every point's mean, std, saturated fraction (None where it is not a sigmoid)
    and histogram, and the probe batch's loss and accuracy. The numbers are the file's
    (six significant digits), so the page and Python format the same values.
    """
    def nan_none(values: torch.Tensor) -> list:
        return [[None if math.isnan(v) else v for v in row] for row in values.tolist()]

    nets = {}
    for name in NET_NAMES:
        record = snapshots.nets[name]
        nets[name] = {
            "points": list(record.points),
            "ranges": [list(r) for r in record.ranges],
            "blocks": [{"label": b.label, "layer": b.layer, "sigmoid_in": b.sigmoid_in,
                        "sigmoid_out": b.sigmoid_out} for b in blocks(record)],
            "mean": record.mean.tolist(),
            "std": record.std.tolist(),
            "saturated": nan_none(record.saturated),
            "hist": record.hist.tolist(),
            "probe_loss": record.probe_loss.tolist(),
            "probe_acc": record.probe_acc.tolist(),
        }
    return {"steps": list(snapshots.steps), "kinds": list(KINDS), "nets": nets}


class ActivationStatsExplorer(LiveExplorer):
    """Step through a recorded training run, with and without batch norm.

    One front-end (``cnnlib/web/explorers/activation-stats.js``) draws it. In JupyterLab this
    class reads every number from the recorded run and syncs it; on the website the page gets
    the same recorded numbers (:func:`snapshot_data`, in the page state) and picks them out
    in the browser. Nothing is computed anew: the run was recorded once, by
    ``scripts/record_bn_snapshots.py``.

    Attributes:
        snapshots: the recorded run (:class:`~cnnlib.explain.bn_stats.Snapshots`).
        step: the snapshot shown (its position; the reader sees the training step).
        layer: the hidden block (0 = ``conv 1`` ... 3 = ``dense 2``).
        kind: ``"sigmoid input"`` or ``"sigmoid output"``: the values the right panel and
            the status line sum up (both histograms are always drawn).
        record: :func:`snapshot_data` (synced: the front-end draws from it).
        stats: for the current setting, per net (``"with_bn"``, ``"without_bn"``):
            ``point``, ``mean``, ``std``, ``saturated`` (of the block's sigmoid output),
            ``hist`` (counts of the values shown), ``probe_loss``, ``probe_acc``.
        panels: the two histogram panels' curves (``"sigmoid_in"``, ``"sigmoid_out"``):
            per curve its net, counts and range.
        depth: per net, every block's mean and std of the ``kind`` values (right panel).
        heading: the picture's title; summary: the status line.
    """

    explorer_name: ClassVar[str] = "ActivationStatsExplorer"
    script: ClassVar[str] = "activation-stats.js"
    EXTRA_CONTROLS: ClassVar[tuple[str, ...]] = ("step", "layer", "kind")

    # CInt: a page's menu gives its value as text ("2"); the number is what counts.
    step = traitlets.CInt(0).tag(sync=True)
    layer = traitlets.CInt(0).tag(sync=True)
    kind = traitlets.Unicode(KINDS[0]).tag(sync=True)
    record = traitlets.Dict().tag(sync=True)

    stats = traitlets.Dict().tag(sync=True)
    panels = traitlets.Dict().tag(sync=True)
    depth = traitlets.Dict().tag(sync=True)
    heading = traitlets.Unicode("").tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)

    def __init__(self, snapshots: Snapshots | str | os.PathLike | None = None,
                 snapshot: int | None = None, layer: int = 0, kind: str = KINDS[0],
                 dpi: int | None = None) -> None:
        """Read the snapshots and compute the first state.

        Args:
            snapshots: a :class:`Snapshots`, or the path of a snapshot file; default
                ``cnnlib/weights/bn_snapshots.json``.
            snapshot: the snapshot shown first (default: the middle one).
            layer: the hidden block shown first (0 = after the first convolution).
            kind: ``"sigmoid input"`` or ``"sigmoid output"`` (see the attribute).
            dpi: the resolution of Python's picture (:meth:`picture_png`).

        Raises:
            FileNotFoundError, ValueError: for a missing or malformed snapshot file (the
                message names the command that remakes it); ValueError for a snapshot,
                layer or kind out of range.
        """
        if not isinstance(snapshots, Snapshots):
            snapshots = bn_stats.load_snapshots(snapshots)
        self.snapshots = snapshots
        self._dpi = dpi
        steps = snapshots.steps
        labels = [b.label for b in blocks(snapshots.nets["with_bn"])]
        if snapshot is None:
            snapshot = len(steps) // 2
        if isinstance(snapshot, bool) or not isinstance(snapshot, int) \
                or not 0 <= snapshot < len(steps):
            raise ValueError(f"snapshot must be a position 0..{len(steps) - 1}, got {snapshot!r}")
        if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < len(labels):
            raise ValueError(f"layer must be 0..{len(labels) - 1} ({', '.join(labels)}), "
                             f"got {layer!r}")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        super().__init__(step=snapshot, layer=layer, kind=kind)

    @traitlets.default("record")
    def _default_record(self) -> dict[str, Any]:
        return snapshot_data(self.snapshots)

    # -- the numbers, read from the recorded run --------------------------------------------

    def derived_names(self) -> tuple[str, ...]:
        return ("stats", "panels", "depth", "heading", "summary")

    def compute(self) -> dict[str, Any]:
        # The same checks, in the same order and words, as activation-stats.js's compute.
        data, steps = self.record, self.snapshots.steps
        labels = [b["label"] for b in data["nets"]["with_bn"]["blocks"]]
        i, block, kind = self.step, self.layer, self.kind
        if not 0 <= i < len(steps):
            raise ValueError(f"step must be a snapshot position 0..{len(steps) - 1}, got {i}")
        if not 0 <= block < len(labels):
            raise ValueError(f"layer must be 0..{len(labels) - 1} ({', '.join(labels)}), "
                             f"got {block}")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
        field = _fields(kind)
        stats, depth = {}, {}
        panels: dict[str, list] = {"sigmoid_in": [], "sigmoid_out": []}
        for name in NET_NAMES:
            net = data["nets"][name]
            b = net["blocks"][block]
            point = b[field]
            stats[name] = {
                "point": net["points"][point],
                "mean": net["mean"][i][point],
                "std": net["std"][i][point],
                "saturated": net["saturated"][i][b["sigmoid_out"]],
                "hist": net["hist"][i][point],
                "probe_loss": net["probe_loss"][i],
                "probe_acc": net["probe_acc"][i],
            }
            for panel in panels:
                p = b[panel]
                panels[panel].append({"net": name, "hist": net["hist"][i][p],
                                      "range": net["ranges"][p]})
            points = [bb[field] for bb in net["blocks"]]
            depth[name] = {"mean": [net["mean"][i][p] for p in points],
                           "std": [net["std"][i][p] for p in points]}
        # The same layer's values before batch norm rescaled them (dashed in the picture).
        b = data["nets"]["with_bn"]["blocks"][block]
        panels["sigmoid_in"].append({"net": "before_bn",
                                     "hist": data["nets"]["with_bn"]["hist"][i][b["layer"]],
                                     "range": data["nets"]["with_bn"]["ranges"][b["layer"]]})
        parts = []
        for name, words in NET_WORDS:
            s = stats[name]
            parts.append(
                f"{words}: mean {s['mean']:.2f}, std {s['std']:.2f}, "
                f"{_percent(s['saturated'])} of sigmoid outputs saturated; "
                f"probe loss {s['probe_loss']:.2f}, accuracy {s['probe_acc']:.2f}")
        summary = (f"After {steps[i]} SGD steps, {labels[block]}'s {kind}s. "
                   + ". ".join(parts) + ".")
        return {"stats": stats, "panels": panels, "depth": depth,
                "heading": f"{labels[block]} after {steps[i]} SGD steps", "summary": summary}

    # -- the old attributes, read from the current state ------------------------------------

    @property
    def layer_labels(self) -> list[str]:
        """The hidden blocks' names, ``conv 1`` ... ``dense 2``."""
        return [b["label"] for b in self.record["nets"]["with_bn"]["blocks"]]

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it."""
        return self.error or self.summary

    def picture_png(self) -> bytes | None:
        """Python's drawing of the same setting, for a page that cannot run the front-end."""
        if self.error:
            return None
        figure = activation_stats_figure(self.snapshots, self.step, self.layer, self.kind)
        return compress_png(figure_to_png(figure, **({"dpi": self._dpi} if self._dpi else {})))

    def picture_alt(self) -> str:
        return f"{self.heading}. {self.status_text}" if not self.error else self.status_text

    def page_state(self) -> dict[str, Any]:
        """The controls and the recorded numbers: the page replays Python's recording."""
        return super().page_state() | {"record": self.record}


def _default_images() -> torch.Tensor:
    from cnnlib import data

    images, _ = data.load_split(train=False)
    return images.unsqueeze(1).float().div_(255)


def _affine_before(net: nn.Sequential, index: int) -> str:
    """``"conv 2"`` or ``"dense 1"``: the layer a batch-norm layer normalises."""
    counts = {"conv": 0, "dense": 0}
    last = "input"
    for i, layer in enumerate(net):
        if isinstance(layer, nn.Conv2d):
            counts["conv"] += 1
            last = f"conv {counts['conv']}"
        elif isinstance(layer, nn.Linear):
            counts["dense"] += 1
            last = f"dense {counts['dense']}"
        if i == index:
            return last
    return last


#: Batch sizes and batches per size of the explorer: 16 batches of up to 64 images draw
#: from 1024 test images, which the website's page carries (uint8, 0.8 MB before base64;
#: each explorer's website form stays under 1.5 MB) and sends through BN-LeNet in the
#: reader's browser.
BATCH_SIZES = (2, 4, 8, 16, 32, 64)
NUM_BATCHES = 16
#: The modes, as the menu names them.
MODES = ("train", "eval")


def _encode(values: torch.Tensor, dtype: str) -> dict[str, Any]:
    """An array as ``{"shape", "dtype", "data"}``: its little-endian bytes, base64."""
    array = values.detach().cpu().contiguous().numpy()
    raw = array.astype("<f4") if dtype == "float32" else array.astype("u1")
    return {"shape": list(array.shape), "dtype": dtype,
            "data": base64.b64encode(raw.tobytes()).decode("ascii")}


def encode_images(images: torch.Tensor) -> dict[str, Any]:
    """The images for the page: ``uint8`` when every value is exactly ``k / 255`` (the
    test images are; then the page divides by 255 in float32 as Python did), else
    ``float32``. Either way the page computes with the very values Python used."""
    as_bytes = torch.round(images * 255)
    if bool(((as_bytes / 255).float() == images).all()) and float(as_bytes.min()) >= 0 \
            and float(as_bytes.max()) <= 255:
        return _encode(as_bytes.to(torch.uint8), "uint8")
    return _encode(images, "float32")


def network_data(model: nn.Module) -> list[dict[str, Any]]:
    """BN-LeNet's layers up to its last batch norm, as the front-end's forward pass reads
    them (``conv``, ``bn``, ``sigmoid``, ``avgpool``, ``flatten``, ``linear``), weights as
    float32 (the model's own precision here).

    Raises:
        TypeError: for a layer the front-end cannot run (it names the layer).
    """
    net = model.net
    last = max(i for i, _ in bn_stats.batch_norm_layers(model))
    layers = []
    for i, layer in enumerate(net):
        if i > last:
            break
        if isinstance(layer, nn.Conv2d):
            if layer.padding != (0, 0) or layer.stride != (1, 1) or layer.dilation != (1, 1) \
                    or layer.groups != 1:
                raise TypeError(f"net[{i}] {layer}: the page runs convolutions with stride 1, "
                                "no padding, no dilation and no groups only")
            bias = layer.bias if layer.bias is not None else torch.zeros(layer.out_channels)
            layers.append({"type": "conv", "weight": _encode(layer.weight, "float32"),
                           "bias": _encode(bias, "float32")})
        elif isinstance(layer, nn.Linear):
            bias = layer.bias if layer.bias is not None else torch.zeros(layer.out_features)
            layers.append({"type": "linear", "weight": _encode(layer.weight, "float32"),
                           "bias": _encode(bias, "float32")})
        elif isinstance(layer, nn.modules.batchnorm._BatchNorm):
            C = layer.num_features
            ones, zeros = torch.ones(C), torch.zeros(C)
            layers.append({"type": "bn", "index": i, "eps": layer.eps,
                           "weight": _encode(layer.weight if layer.affine else ones, "float32"),
                           "bias": _encode(layer.bias if layer.affine else zeros, "float32"),
                           "running_mean": _encode(layer.running_mean, "float32"),
                           "running_var": _encode(layer.running_var, "float32")})
        elif isinstance(layer, nn.Sigmoid):
            layers.append({"type": "sigmoid"})
        elif isinstance(layer, nn.AvgPool2d) and layer.kernel_size in (2, (2, 2)) \
                and layer.stride in (2, (2, 2)) and layer.padding in (0, (0, 0)):
            layers.append({"type": "avgpool"})
        elif isinstance(layer, nn.Flatten):
            layers.append({"type": "flatten"})
        else:
            raise TypeError(f"net[{i}] {type(layer).__name__}: the page's forward pass runs "
                            "Conv2d, BatchNorm, Sigmoid, AvgPool2d(2), Flatten and Linear")
    return layers


class BatchStatsExplorer(LiveExplorer):
    """What one batch-norm channel computes over many batches, in either mode.

    One front-end (``cnnlib/web/explorers/batch-stats.js``) draws it. In JupyterLab this class
    sends the batches through the model with PyTorch (:func:`cnnlib.explain.bn_stats.
    batch_sweep`, every size and both modes, when it is built) and syncs the numbers; on the
    website the page gets the model's weights, the images and the batches' image indices
    and runs the same forward pass in the browser, batch norm in both modes included. Python
    works on a private copy of the model whose running statistics are put back after every
    training-mode batch: exploring never changes it.

    Attributes:
        model: the private copy explored (eval mode, CPU).
        images: ``(N, 1, H, W)``, the images the batches are drawn from.
        batch_size, mode (``"train"`` | ``"eval"``), layer (position among the batch-norm
            layers), channel: the controls.
        sweeps: ``(batch size, train?)`` -> net index -> :class:`LayerSweep`.
        bn_indices: each batch-norm layer's index in ``model.net``.
        current: the :class:`LayerSweep` of the current setting.
        spread: batch size -> std across batches of the channel's batch means (current mode).
    """

    explorer_name: ClassVar[str] = "BatchStatsExplorer"
    script: ClassVar[str] = "batch-stats.js"
    EXTRA_CONTROLS: ClassVar[tuple[str, ...]] = ("batch_size", "mode", "layer", "channel")

    # CInt: a page's menu gives its value as text ("32"); the number is what counts.
    batch_size = traitlets.CInt(32).tag(sync=True)
    mode = traitlets.Unicode("train").tag(sync=True)
    layer = traitlets.CInt(0).tag(sync=True)
    channel = traitlets.CInt(0).tag(sync=True)
    # Data the page computes from (set once, in __init__).
    sizes = traitlets.List(traitlets.Int()).tag(sync=True)
    layer_options = traitlets.List().tag(sync=True)

    batch_mean = traitlets.List().tag(sync=True)
    batch_var = traitlets.List().tag(sync=True)
    running = traitlets.Dict().tag(sync=True)
    spreads = traitlets.Dict().tag(sync=True)
    sigma = traitlets.Float(0.0).tag(sync=True)
    hists = traitlets.Dict().tag(sync=True)
    out_range = traitlets.List().tag(sync=True)
    heading = traitlets.Unicode("").tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)

    def __init__(self, model: nn.Module | None = None, images: torch.Tensor | None = None,
                 batch_sizes: Sequence[int] = BATCH_SIZES, num_batches: int = NUM_BATCHES,
                 batch_size: int | None = None, mode: str = "train", layer: int = 0,
                 channel: int = 0, seed: int = 0, dpi: int | None = None) -> None:
        """Run every batch size in both modes and compute the first state.

        Args:
            model: a trained classifier with ``nn.BatchNorm1d/2d`` layers in ``model.net``;
                default ``pretrained("bn_lenet")``. It is copied, never changed.
            images: ``(N, C, H, W)`` float inputs; default: the first ``num_batches`` times
                the largest batch size of the Fashion-MNIST test images.
            batch_sizes: the sizes offered (each at least 2: one value has no variance).
            num_batches: batches per size, drawn without repeats from a seeded permutation.
            batch_size: the size shown first (default: 32 if offered, else the middle one).
            mode: ``"train"`` or ``"eval"``; layer: position among the batch-norm layers;
            channel: the channel shown first.
            dpi: the resolution of Python's picture (:meth:`picture_png`).

        Raises:
            TypeError, ValueError: for a model without batch norm, images that are not
                ``(N, C, H, W)``, too few images for the largest batches, or settings out
                of range; each message says what to change.
        """
        if model is None:
            from cnnlib.models.pretrained import pretrained

            model = pretrained("bn_lenet")
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
        self.model = copy.deepcopy(model).float().cpu().eval()
        layers = bn_stats.batch_norm_layers(self.model)
        sizes = list(batch_sizes)
        if not sizes or any(isinstance(b, bool) or not isinstance(b, int) or b < 2
                            for b in sizes):
            raise ValueError(f"batch_sizes must be whole numbers >= 2, got {batch_sizes!r}")
        sizes = sorted(set(sizes))
        if isinstance(num_batches, bool) or not isinstance(num_batches, int) \
                or num_batches < 2:
            raise ValueError(f"num_batches must be a whole number >= 2, got {num_batches!r}")
        if images is None:
            images = _default_images()[: num_batches * sizes[-1]]
        if not isinstance(images, torch.Tensor) or images.ndim != 4:
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images)
            raise ValueError(f"images must be a tensor (N, C, H, W), got {shape}")
        if num_batches * sizes[-1] > images.shape[0]:
            raise ValueError(
                f"{num_batches} batches of {sizes[-1]} need {num_batches * sizes[-1]} images; "
                f"only {images.shape[0]} were given: pass more images, fewer batches "
                "or smaller batch sizes")
        if batch_size is None:
            batch_size = 32 if 32 in sizes else sizes[len(sizes) // 2]
        if batch_size not in sizes:
            raise ValueError(f"batch_size must be one of {sizes}, got {batch_size!r}")
        if mode not in MODES:
            raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
        if isinstance(layer, bool) or not isinstance(layer, int) \
                or not 0 <= layer < len(layers):
            raise ValueError(f"layer must be 0..{len(layers) - 1} (the model's "
                             f"{len(layers)} batch-norm layers), got {layer!r}")
        bn = layers[layer][1]
        if isinstance(channel, bool) or not isinstance(channel, int) \
                or not 0 <= channel < bn.num_features:
            raise ValueError(f"channel must be 0..{bn.num_features - 1}, got {channel!r}")
        self._network = network_data(self.model)
        self.images = images.float()
        self.num_batches, self.seed, self._dpi = num_batches, seed, dpi
        self.bn_indices = [i for i, _ in layers]
        with torch.no_grad():
            image_means = bn_stats.image_mean_spread(self.model, self.images)
        self.sweeps = {
            (b, train): bn_stats.batch_sweep(self.model, self.images, b, num_batches, train,
                                             seed, image_means)
            for b in sizes for train in (True, False)
        }
        net = self.model.net
        self.layer_titles = {
            i: f"BN {k + 1} (after {_affine_before(net, i)})" for k, (i, _) in enumerate(layers)
        }
        self.current = None
        self.spread: dict[int, float] = {}
        self._sizes = sizes
        self._options = [[f"{self.layer_titles[i]}, {m.num_features} channels", m.num_features]
                         for i, m in layers]
        super().__init__(batch_size=batch_size, mode=mode, layer=layer, channel=channel)

    @traitlets.default("sizes")
    def _default_sizes(self) -> list[int]:
        return list(self._sizes)

    @traitlets.default("layer_options")
    def _default_layer_options(self) -> list[list]:
        return [list(option) for option in self._options]

    @property
    def train(self) -> bool:
        return self.mode == "train"

    # -- the numbers, from PyTorch ------------------------------------------------------------

    def derived_names(self) -> tuple[str, ...]:
        return ("batch_mean", "batch_var", "running", "spreads", "sigma", "hists", "out_range",
                "heading", "summary")

    def compute(self) -> dict[str, Any]:
        # The same checks, in the same order and words, as batch-stats.js's compute.
        self.current = None
        sizes = self.sizes
        if self.batch_size not in sizes:
            raise ValueError(f"batch_size must be one of {sizes}, got {self.batch_size}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be 'train' or 'eval', got '{self.mode}'")
        count = len(self.bn_indices)
        if not 0 <= self.layer < count:
            raise ValueError(f"layer must be 0..{count - 1} (the model's {count} batch-norm "
                             f"layers), got {self.layer}")
        channels = self.layer_options[self.layer][1]
        c = min(max(self.channel, 0), channels - 1)  # a smaller layer: its last channel
        index, b, train = self.bn_indices[self.layer], self.batch_size, self.train
        s = self.sweeps[(b, train)][index]
        spreads = {str(size): float(self.sweeps[(size, train)][index].batch_mean[:, c].std())
                   for size in sizes}
        self.current = s
        self.spread = {int(k): v for k, v in spreads.items()}
        sigma = float(s.image_mean_std[c])
        title = self.layer_titles[index]
        return {
            "channel": c,
            "batch_mean": s.batch_mean[:, c].tolist(),
            "batch_var": s.batch_var[:, c].tolist(),
            "running": {"mean": float(s.running_mean[c]), "var": float(s.running_var[c])},
            "spreads": spreads,
            "sigma": sigma,
            "hists": {mode: self.sweeps[(b, mode == "train")][index].out_hist[c].tolist()
                      for mode in MODES},
            "out_range": [float(s.out_low[c]), float(s.out_high[c])],
            "heading": (f"{title}, channel {c}, B = {b}, "
                        f"{'training' if train else 'evaluation'} mode"),
            "summary": self._describe(s, c, spreads, sigma),
        }

    def _describe(self, s: bn_stats.LayerSweep, c: int, spreads: dict[str, float],
                  sigma: float) -> str:
        b, largest = self.batch_size, self.sizes[-1]
        at_largest = "" if b == largest else f", at B = {largest} it is {spreads[str(largest)]:.3g}"
        spread = (f"across {self.num_batches} batches of {b} this channel's input means "
                  f"spread by {spreads[str(b)]:.3g} (std; σ₁/√B predicts {sigma / b ** 0.5:.3g}"
                  f"{at_largest})")
        running = (f"the running mean {float(s.running_mean[c]):.3g} and variance "
                   f"{float(s.running_var[c]):.3g} stored during training")
        if self.train:
            return (f"Training mode: every batch is normalised with its own mean and variance; "
                    f"{spread}. Evaluation mode would use {running} instead.")
        return (f"Evaluation mode: every batch is normalised with {running}, the same "
                f"for every batch, so an image's output does not depend on its companions. "
                f"The batch statistics go unused; {spread}.")

    # -- the page ---------------------------------------------------------------------------

    @property
    def status_text(self) -> str:
        """The status line as the reader reads it."""
        return self.error or self.summary

    def picture_png(self) -> bytes | None:
        """Python's drawing of the same setting, for a page that cannot run the front-end."""
        if self.current is None:
            return None
        index, b = self.bn_indices[self.layer], self.batch_size
        figure = batch_stats_figure(self.sweeps[(b, True)][index],
                                    self.sweeps[(b, False)][index], self.spread, self.channel,
                                    b, self.train, self.layer_titles[index])
        return compress_png(figure_to_png(figure, **({"dpi": self._dpi} if self._dpi else {})))

    def picture_alt(self) -> str:
        return f"{self.heading}. {self.status_text}" if not self.error else self.status_text

    def page_state(self) -> dict[str, Any]:
        """The controls and what the page computes from: the network's weights up to its
        last batch norm, the images, each batch size's image indices (Python's seeded
        permutation, which the page does not regenerate) and the layers' titles."""
        batches = {str(b): bn_stats.batch_indices(self.images.shape[0], b, self.num_batches,
                                                  self.seed).reshape(-1).tolist()
                   for b in self.sizes}
        titles = [self.layer_titles[i] for i in self.bn_indices]
        return super().page_state() | {
            "sizes": self.sizes, "layer_options": self.layer_options, "titles": titles,
            "num_batches": self.num_batches, "network": self._network,
            "images": encode_images(self.images), "batches": batches,
            "out_bins": bn_stats.OUT_BINS,
        }
