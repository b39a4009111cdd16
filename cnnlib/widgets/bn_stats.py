"""Two batch-norm explorers for section 8.5.

* :class:`ActivationStatsExplorer` replays a recorded training run of BN-LeNet and its
  twin without batch norm (``cnnlib/weights/bn_snapshots.json``, made by
  ``scripts/record_bn_snapshots.py``): pick a step and a layer, compare the activations.
* :class:`BatchStatsExplorer` sends many batches of one size through a trained BN-LeNet
  in training or evaluation mode and shows what one batch-norm channel computes: the
  batch means and variances against the running statistics, and the output.
"""

from __future__ import annotations

import copy
import html
import os
from collections.abc import Sequence

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure
from torch import nn

from cnnlib.explain import bn_stats
from cnnlib.explain.bn_stats import NET_NAMES, Snapshots, blocks
from cnnlib.viz.bn_stats import KINDS, activation_stats_figure, batch_stats_figure
from cnnlib.widgets import page
from cnnlib.widgets.guarded import GuardedExplorer, clamp_slider

#: The batch sizes the website's form offers (when the explorer offers them).
PAGE_BATCH_SIZES = (2, 8, 32, 256)


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


class ActivationStatsExplorer(GuardedExplorer):
    """Step through a recorded training run, with and without batch norm.

    Attributes:
        snapshots: the recorded run (:class:`~cnnlib.explain.bn_stats.Snapshots`).
        step: slider over the snapshots (its value is the snapshot's position; its labels
            are the training steps).
        layer: menu of the hidden blocks (``conv 1`` ... ``dense 2``).
        kind: ``"sigmoid input"`` or ``"sigmoid output"``: the values the right panel and
            the status line sum up (both histograms are always drawn).
        stats: for the current setting, per net (``"with_bn"``, ``"without_bn"``):
            ``mean``, ``std``, ``saturated`` (of the block's sigmoid output), ``hist``
            (counts of the values shown), ``probe_loss``, ``probe_acc``.
    """

    def __init__(self, snapshots: Snapshots | str | os.PathLike | None = None,
                 snapshot: int | None = None, layer: int = 0, kind: str = KINDS[0],
                 dpi: int | None = None) -> None:
        """Read the snapshots and draw the first picture.

        Args:
            snapshots: a :class:`Snapshots`, or the path of a snapshot file; default
                ``cnnlib/weights/bn_snapshots.json``.
            snapshot: the snapshot shown first (default: the middle one).
            layer: the hidden block shown first (0 = after the first convolution).
            kind: ``"sigmoid input"`` or ``"sigmoid output"`` (see the attribute).

        Raises:
            FileNotFoundError, ValueError: for a missing or malformed snapshot file (the
                message names the command that remakes it); ValueError for a snapshot,
                layer or kind out of range.
        """
        if not isinstance(snapshots, Snapshots):
            snapshots = bn_stats.load_snapshots(snapshots)
        self.snapshots = snapshots
        steps = snapshots.steps
        self._blocks = {name: blocks(snapshots.nets[name]) for name in NET_NAMES}
        labels = [b.label for b in self._blocks["with_bn"]]
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
        self.step = widgets.SelectionSlider(
            options=[(str(s), i) for i, s in enumerate(steps)], value=snapshot,
            description="step", continuous_update=False)
        self.layer = widgets.Dropdown(options=[(lab, k) for k, lab in enumerate(labels)],
                                      value=layer, description="layer")
        self.kind = widgets.ToggleButtons(options=list(KINDS), value=kind,
                                        description="summarise")
        self.stats: dict[str, dict] = {}
        super().__init__([self.step, self.layer, self.kind], dpi=dpi)

    def page_controls(self) -> list:
        steps = self.snapshots.steps
        return [
            page.PageControl("step", tuple(range(len(steps))),
                             labels=tuple(str(s) for s in steps), label="step", play=True),
            page.menu(self, "layer"),
        ]  # the kind (the right panel's values) stays as set: 15 x 4 pictures, not 120

    def update(self) -> None:
        i, block = self.step.value, self.layer.value
        field = "sigmoid_in" if self.kind.value == KINDS[0] else "sigmoid_out"
        self.stats = {}
        for name in NET_NAMES:
            record, b = self.snapshots.nets[name], self._blocks[name][block]
            point = getattr(b, field)
            self.stats[name] = {
                "point": record.points[point],
                "mean": float(record.mean[i, point]),
                "std": float(record.std[i, point]),
                "saturated": float(record.saturated[i, b.sigmoid_out]),
                "hist": record.hist[i, point].clone(),
                "probe_loss": float(record.probe_loss[i]),
                "probe_acc": float(record.probe_acc[i]),
            }

    def draw(self) -> Figure:
        return activation_stats_figure(self.snapshots, self.step.value, self.layer.value,
                                       self.kind.value)

    def describe(self) -> str:
        step = self.snapshots.steps[self.step.value]
        label = self.layer.label
        parts = []
        for name, words in (("with_bn", "with BN"), ("without_bn", "without BN")):
            s = self.stats[name]
            parts.append(
                f"<b>{words}</b>: mean {s['mean']:.2f}, std {s['std']:.2f}, "
                f"{_percent(s['saturated'])} of sigmoid outputs saturated; "
                f"probe loss {s['probe_loss']:.2f}, accuracy {s['probe_acc']:.2f}"
            )
        return (f"After {step} SGD steps, {html.escape(label)}'s {self.kind.value}s. "
                + "<br>".join(parts))


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


class BatchStatsExplorer(GuardedExplorer):
    """What one batch-norm channel computes over many batches, in either mode.

    Every setting's numbers are computed when the explorer is built (both modes, every
    batch size, every batch-norm layer), on a private copy of the model whose running
    statistics are put back after every training-mode batch: exploring never changes it.

    Attributes:
        model: the private copy explored (eval mode, CPU).
        batch_size: slider over the batch sizes; mode: ``"train"`` or ``"eval"``;
        layer: menu of the batch-norm layers (value: index in ``model.net``);
        channel: slider over the chosen layer's channels.
        sweeps: ``(batch size, train?)`` -> layer index -> :class:`LayerSweep`.
        spread: std across batches of the current channel's batch means, per batch size
            (current mode).
        current: the :class:`LayerSweep` of the current setting.
    """

    def __init__(self, model: nn.Module | None = None, images: torch.Tensor | None = None,
                 batch_sizes: Sequence[int] = (2, 4, 8, 16, 32, 64, 128, 256),
                 num_batches: int = 32, batch_size: int | None = None, mode: str = "train",
                 layer: int = 0, channel: int = 0, seed: int = 0, dpi: int | None = None
                 ) -> None:
        """Run every batch size in both modes and draw the first picture.

        Args:
            model: a trained classifier with ``nn.BatchNorm1d/2d`` layers in ``model.net``;
                default ``pretrained("bn_lenet")``. It is copied, never changed.
            images: ``(N, 1, H, W)`` float inputs; default: the Fashion-MNIST test split.
            batch_sizes: the sizes offered (each at least 2: one value has no variance).
            num_batches: batches per size, drawn without repeats from a seeded permutation.
            batch_size: the size shown first (default: 32 if offered, else the middle one).
            mode: ``"train"`` or ``"eval"``; layer: position among the batch-norm layers;
            channel: the channel shown first.

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
        images = _default_images() if images is None else images
        if not isinstance(images, torch.Tensor) or images.ndim != 4:
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images)
            raise ValueError(f"images must be a tensor (N, C, H, W), got {shape}")
        sizes = list(batch_sizes)
        if not sizes or any(isinstance(b, bool) or not isinstance(b, int) or b < 2
                            for b in sizes):
            raise ValueError(f"batch_sizes must be whole numbers >= 2, got {batch_sizes!r}")
        sizes = sorted(set(sizes))
        if isinstance(num_batches, bool) or not isinstance(num_batches, int) \
                or num_batches < 2:
            raise ValueError(f"num_batches must be a whole number >= 2, got {num_batches!r}")
        if num_batches * sizes[-1] > images.shape[0]:
            raise ValueError(
                f"{num_batches} batches of {sizes[-1]} need {num_batches * sizes[-1]} images; "
                f"only {images.shape[0]} were given: pass more images, fewer batches "
                "or smaller batch sizes")
        if batch_size is None:
            batch_size = 32 if 32 in sizes else sizes[len(sizes) // 2]
        if batch_size not in sizes:
            raise ValueError(f"batch_size must be one of {sizes}, got {batch_size!r}")
        if mode not in ("train", "eval"):
            raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
        if isinstance(layer, bool) or not isinstance(layer, int) \
                or not 0 <= layer < len(layers):
            raise ValueError(f"layer must be 0..{len(layers) - 1} (the model's "
                             f"{len(layers)} batch-norm layers), got {layer!r}")
        index, bn = layers[layer]
        if isinstance(channel, bool) or not isinstance(channel, int) \
                or not 0 <= channel < bn.num_features:
            raise ValueError(f"channel must be 0..{bn.num_features - 1}, got {channel!r}")
        self.images = images.float()
        self.num_batches, self.seed = num_batches, seed
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
        self.batch_size = widgets.SelectionSlider(options=sizes, value=batch_size,
                                                  description="batch size",
                                                  continuous_update=False)
        self.mode = widgets.ToggleButtons(options=[("train", "train"), ("eval", "eval")],
                                          value=mode, description="mode")
        self.layer = widgets.Dropdown(
            options=[(f"{self.layer_titles[i]}, {m.num_features} channels", i)
                     for i, m in layers],
            value=index, description="layer")
        self.channel = widgets.IntSlider(value=channel, min=0, max=bn.num_features - 1,
                                         description="channel", continuous_update=False)
        self.spread: dict[int, float] = {}
        super().__init__([self.batch_size, self.mode, self.layer, self.channel], dpi=dpi)

    def page_controls(self) -> list:
        # Every layer and mode; four batch sizes (the spread panel shows all of them).
        sizes = [b for b in self.batch_size.options if b in PAGE_BATCH_SIZES]
        if len(sizes) < 2:
            sizes = list(self.batch_size.options)
        return [page.menu(self, "layer"), page.slider(self, "batch_size", values=sizes),
                page.menu(self, "mode")]

    @property
    def train(self) -> bool:
        return self.mode.value == "train"

    def sync_controls(self) -> None:
        channels = self.sweeps[(self.batch_size.value, True)][self.layer.value].channels
        clamp_slider(self.channel, channels - 1)

    def update(self) -> None:
        layer, c = self.layer.value, self.channel.value
        self.current = self.sweeps[(self.batch_size.value, self.train)][layer]
        self.spread = {
            b: float(self.sweeps[(b, self.train)][layer].batch_mean[:, c].std())
            for b in self.batch_size.options
        }

    def draw(self) -> Figure:
        layer, b = self.layer.value, self.batch_size.value
        return batch_stats_figure(self.sweeps[(b, True)][layer], self.sweeps[(b, False)][layer],
                                  self.spread, self.channel.value, b, self.train,
                                  self.layer_titles[layer])

    def describe(self) -> str:
        s, c, b = self.current, self.channel.value, self.batch_size.value
        sizes = self.batch_size.options
        sigma = float(s.image_mean_std[c])
        largest = sizes[-1]
        at_largest = "" if b == largest else f", at B = {largest} it is {self.spread[largest]:.3g}"
        spread = (f"across {self.num_batches} batches of {b} this channel's input means "
                  f"spread by {self.spread[b]:.3g} (std; σ₁/√B predicts {sigma / b ** 0.5:.3g}"
                  f"{at_largest})")
        running = (f"the running mean {float(s.running_mean[c]):.3g} and variance "
                   f"{float(s.running_var[c]):.3g} stored during training")
        if self.train:
            text = (f"Training mode: every batch is normalised with its own mean and variance; "
                    f"{spread}. Evaluation mode would use {running} instead.")
        else:
            text = (f"Evaluation mode: every batch is normalised with {running}, the same "
                    f"for every batch, so an image's output does not depend on its companions. "
                    f"The batch statistics go unused; {spread}.")
        return html.escape(text)
