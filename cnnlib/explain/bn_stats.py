"""Batch norm's statistics: inside a network while it trains, and across batches of one size.

Two questions of section 8.5, answered with numbers the explorers of
:mod:`cnnlib.widgets.bn_stats` draw:

* **How do the activations of a sigmoid LeNet evolve while it trains, with and without
  batch norm?** :func:`record_snapshots` trains BN-LeNet and its twin without the
  batch-norm layers side by side (same initial weights, same batches, same optimiser)
  and, at chosen steps, keeps each layer's mean, standard deviation, fraction of
  saturated sigmoid outputs and a histogram, measured on a fixed probe batch.
  ``scripts/record_bn_snapshots.py`` runs it once on Fashion-MNIST and writes
  ``cnnlib/weights/bn_snapshots.json``; :func:`load_snapshots` reads that file back,
  checked.
* **What does a batch-norm layer see in training and in evaluation mode, and how does
  the batch size change it?** :func:`batch_sweep` sends many batches of one size through
  a trained network in either mode and keeps, for every batch-norm layer, each batch's
  per-channel mean and variance of the layer's input and a histogram of its output;
  the layer's running statistics are left exactly as they were.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from cnnlib.explain.activations import sequential_net
from cnnlib.layers import BatchNorm
from cnnlib.models.base import Classifier

#: Where ``scripts/record_bn_snapshots.py`` writes the training snapshots.
SNAPSHOTS_PATH = Path(__file__).resolve().parent.parent / "weights" / "bn_snapshots.json"
#: The one command that (re)makes :data:`SNAPSHOTS_PATH`.
REMAKE_COMMAND = "python scripts/record_bn_snapshots.py"
#: Version of the snapshot file's layout; :func:`load_snapshots` refuses any other.
SNAPSHOT_FORMAT = 1

#: A sigmoid output below the first or above the second counts as saturated: its
#: derivative is below 0.05 * 0.95 = 0.0475, under a fifth of its largest value 0.25.
SATURATION = (0.05, 0.95)
#: Histogram bins of every recorded layer.
HIST_BINS = 24
#: Histogram range of sigmoid outputs, and of everything else (values outside the range
#: are counted in the end bins).
SIGMOID_RANGE = (0.0, 1.0)
VALUE_RANGE = (-6.0, 6.0)

_BN_TYPES = (nn.modules.batchnorm._BatchNorm, BatchNorm)
_RECORDED = (nn.Conv2d, nn.Linear, nn.Sigmoid, *_BN_TYPES)


# ----------------------------------------------------------------------------- helpers


def is_batch_norm(layer: nn.Module) -> bool:
    """Whether ``layer`` is PyTorch's or cnnlib's batch norm."""
    return isinstance(layer, _BN_TYPES)


def without_batch_norm(model: nn.Module) -> Classifier:
    """The same network with its batch-norm layers taken out (copies of the other layers).

    The twin keeps every other layer and its current weights, so a BN-LeNet built from a
    seed and its twin start training from the same convolution and dense weights.

    Raises:
        TypeError: when the model keeps its layers outside an ``nn.Sequential`` ``net``.
        ValueError: when it has no batch-norm layer to take out.
    """
    net = sequential_net(model)
    kept = [copy.deepcopy(layer) for layer in net if not is_batch_norm(layer)]
    if len(kept) == len(net):
        raise ValueError(f"{type(model).__name__} has no batch-norm layer to take out")
    twin = Classifier()
    twin.net = nn.Sequential(*kept)
    return twin


@contextmanager
def buffers_kept(model: nn.Module) -> Iterator[nn.Module]:
    """Run ``model`` inside this block; its buffers (running statistics) are put back after.

    A forward pass in training mode updates every batch-norm layer's running mean,
    variance and batch count; measuring a network must not change it.
    """
    saved = [(buffer, buffer.detach().clone()) for buffer in model.buffers()]
    was_training = model.training
    try:
        yield model
    finally:
        with torch.no_grad():
            for buffer, value in saved:
                buffer.copy_(value)
        model.train(was_training)


def point_names(net: nn.Sequential) -> list[tuple[int, str, str]]:
    """``(index in net, name, layer type)`` of each layer whose output is recorded.

    Names count each kind from 1: ``conv1, bn1, sigmoid1, ..., linear1, ...``.
    """
    counts: dict[str, int] = {}
    points = []
    for index, layer in enumerate(net):
        if not isinstance(layer, _RECORDED):
            continue
        kind = ("bn" if is_batch_norm(layer) else "conv" if isinstance(layer, nn.Conv2d)
                else "linear" if isinstance(layer, nn.Linear) else "sigmoid")
        counts[kind] = counts.get(kind, 0) + 1
        points.append((index, f"{kind}{counts[kind]}", type(layer).__name__))
    return points


def value_range(layer_type: str) -> tuple[float, float]:
    """The fixed histogram range of a recorded layer's output."""
    return SIGMOID_RANGE if layer_type == "Sigmoid" else VALUE_RANGE


def histogram(values: torch.Tensor, low: float, high: float, bins: int = HIST_BINS
              ) -> list[int]:
    """Counts of ``values`` in ``bins`` equal bins over [low, high]; outliers in the end bins."""
    x = values.detach().reshape(-1).double()
    index = ((x - low) / (high - low) * bins).floor().clamp_(0, bins - 1).long()
    return torch.bincount(index, minlength=bins).tolist()


def _round(value: float, digits: int = 6) -> float:
    return float(f"{value:.{digits}g}")


def layer_stats(model: nn.Module, X: torch.Tensor, bins: int = HIST_BINS) -> list[dict]:
    """Statistics of every recorded layer's output for the batch ``X``, in training mode.

    Training mode is what the optimiser sees: each batch-norm layer normalises with the
    statistics of ``X`` itself. The running statistics are restored afterwards.

    Returns:
        one dict per recorded layer (see :func:`point_names`): ``name``, ``index``,
        ``type``, ``shape`` (without the batch axis), ``mean`` and ``std`` (over every
        value: examples, channels and positions; ``std`` divides by n), ``saturated``
        (fraction of sigmoid outputs outside :data:`SATURATION`, None for other layers)
        and ``hist`` (:data:`HIST_BINS` counts over :func:`value_range`).
    """
    net = sequential_net(model)
    recorded = {index: (name, kind) for index, name, kind in point_names(net)}
    stats = []
    with buffers_kept(model), torch.no_grad():
        model.train()
        for index, layer in enumerate(net):
            X = layer(X)
            if index not in recorded:
                continue
            name, kind = recorded[index]
            values = X.double()
            low, high = value_range(kind)
            saturated = None
            if kind == "Sigmoid":
                outside = (values < SATURATION[0]) | (values > SATURATION[1])
                saturated = _round(float(outside.double().mean()))
            stats.append({
                "name": name, "index": index, "type": kind, "shape": list(X.shape[1:]),
                "mean": _round(float(values.mean())),
                "std": _round(float(values.std(correction=0))),
                "saturated": saturated,
                "hist": histogram(values, low, high, bins),
            })
    return stats


def _probe_scores(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Loss and accuracy on the probe batch in training mode, and accuracy in eval mode."""
    with buffers_kept(model), torch.no_grad():
        model.train()
        scores = model(X)
        model.eval()
        eval_scores = model(X)
    return {
        "probe_loss": _round(float(F.cross_entropy(scores, y))),
        "probe_acc": _round(float((scores.argmax(1) == y).double().mean())),
        "probe_acc_eval": _round(float((eval_scores.argmax(1) == y).double().mean())),
    }


def snapshot_steps(total: int, count: int) -> list[int]:
    """About ``count`` steps from 0 to ``total``, spaced evenly on a log scale (0 first)."""
    if total < 1 or count < 2:
        raise ValueError(f"need total >= 1 and count >= 2, got total={total}, count={count}")
    steps = {0, total}
    for k in range(count - 1):
        steps.add(round(math.exp(math.log(total) * k / (count - 2))) if count > 2 else total)
    return sorted(steps)


def record_snapshots(
    models: dict[str, nn.Module],
    train_batches: Callable[[torch.Generator], Iterable[tuple[torch.Tensor, torch.Tensor]]],
    probe_X: torch.Tensor,
    probe_y: torch.Tensor,
    steps: Sequence[int],
    lr: float,
    momentum: float = 0.0,
    seed: int = 0,
    bins: int = HIST_BINS,
    on_snapshot: Callable[[str, int, dict], None] | None = None,
) -> dict[str, Any]:
    """Train each model with SGD and record its layers' statistics at the given steps.

    Every model sees the same batches in the same order: epoch ``e`` draws its order
    from a generator seeded with ``seed + e``, as :class:`cnnlib.training.Trainer` does.

    Args:
        models: name -> network (trained in place, one after the other).
        train_batches: one epoch of ``(X, y)`` batches, given a seeded generator
            (e.g. ``lambda g: data.train_batches(True, g)``).
        probe_X, probe_y: the fixed probe batch every snapshot measures.
        steps: the optimiser steps after which to record (0 = before training); the
            run ends at the last one.
        lr, momentum: plain SGD's settings.
        on_snapshot: called as ``on_snapshot(name, step, snapshot)`` after each one.

    Returns:
        ``{"steps": [...], "nets": {name: {"points": [...], "snapshots": [...]}}}``.
        ``points`` names each recorded layer (``name``, ``index``, ``type``, ``shape``,
        ``range``); each snapshot has ``step``, ``train_loss`` (mean minibatch loss since
        the previous snapshot; None at step 0), the probe batch's scores (see
        :func:`_probe_scores`), and per point ``mean``, ``std``, ``saturated``, ``hist``.
    """
    steps = sorted({int(s) for s in steps})
    if not steps or steps[0] < 0:
        raise ValueError(f"steps must be whole numbers >= 0, got {steps}")
    nets = {}
    for name, model in models.items():
        report = None if on_snapshot is None else (
            lambda step, snapshot, name=name: on_snapshot(name, step, snapshot))
        nets[name] = _train_and_record(model, train_batches, probe_X, probe_y, steps, lr,
                                       momentum, seed, bins, report)
    return {"steps": steps, "nets": nets}


def _snapshot(model: nn.Module, probe_X: torch.Tensor, probe_y: torch.Tensor, step: int,
              losses: list[float], bins: int) -> tuple[list[dict], dict]:
    stats = layer_stats(model, probe_X, bins)
    snapshot = {
        "step": step,
        "train_loss": _round(sum(losses) / len(losses)) if losses else None,
        **_probe_scores(model, probe_X, probe_y),
        "mean": [s["mean"] for s in stats],
        "std": [s["std"] for s in stats],
        "saturated": [s["saturated"] for s in stats],
        "hist": [s["hist"] for s in stats],
    }
    return stats, snapshot


def _train_and_record(model, train_batches, probe_X, probe_y, steps, lr, momentum, seed, bins,
                      report) -> dict[str, list]:
    """:func:`record_snapshots` for one network."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    snapshots: list[dict] = []
    points: list[dict] = []
    losses: list[float] = []
    wanted = list(steps)
    step, epoch = 0, 0

    def due() -> bool:  # record every wanted step reached; True when the run is over
        while wanted and wanted[0] == step:
            stats, snapshot = _snapshot(model, probe_X, probe_y, step, losses, bins)
            if not points:
                points.extend({key: s[key] for key in ("name", "index", "type", "shape")}
                              | {"range": list(value_range(s["type"]))} for s in stats)
            losses.clear()
            snapshots.append(snapshot)
            wanted.pop(0)
            if report is not None:
                report(step, snapshot)
        return not wanted

    while not due():
        generator = torch.Generator().manual_seed(seed + epoch)
        model.train()
        for X, y in train_batches(generator):
            loss = F.cross_entropy(model(X), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            step += 1
            if due():
                break
        epoch += 1
    return {"points": points, "snapshots": snapshots}


# ----------------------------------------------------------------------------- reading back


@dataclass(frozen=True)
class NetRecord:
    """One network's recorded snapshots.

    Attributes:
        points: the recorded layers' names, in order (``conv1``, ``bn1``, ``sigmoid1``...).
        types: their layer types; ranges: each histogram's ``(low, high)``.
        mean, std, saturated: ``(snapshots, points)``; ``saturated`` is NaN for layers
            that are not sigmoids.
        hist: ``(snapshots, points, bins)`` counts.
        train_loss, probe_loss, probe_acc, probe_acc_eval: ``(snapshots,)`` (train_loss
            is NaN at step 0).
    """

    points: tuple[str, ...]
    types: tuple[str, ...]
    ranges: tuple[tuple[float, float], ...]
    mean: torch.Tensor
    std: torch.Tensor
    saturated: torch.Tensor
    hist: torch.Tensor
    train_loss: torch.Tensor
    probe_loss: torch.Tensor
    probe_acc: torch.Tensor
    probe_acc_eval: torch.Tensor

    def point(self, name: str) -> int:
        """Position of the recorded layer ``name``."""
        return self.points.index(name)


@dataclass(frozen=True)
class Snapshots:
    """The file of :func:`record_snapshots`'s results, checked (see :func:`load_snapshots`).

    Attributes:
        steps: the optimiser steps recorded, ``(snapshots,)`` ints.
        nets: ``"with_bn"`` and ``"without_bn"`` -> :class:`NetRecord`.
        settings: how the run was made (lr, momentum, batch size, seed, ...).
        record: the whole JSON object.
    """

    steps: tuple[int, ...]
    nets: dict[str, NetRecord]
    settings: dict[str, Any]
    record: dict[str, Any]


NET_NAMES = ("with_bn", "without_bn")


@dataclass(frozen=True)
class Block:
    """One hidden block (an affine layer, maybe batch norm, a sigmoid) of a recorded net.

    Attributes:
        label: ``"conv 1"``, ``"dense 1"``, ...; the others are positions in ``points``.
        layer: the convolution or dense layer's output; sigmoid_in: the sigmoid's input
            (the batch-norm output, or ``layer`` without batch norm); sigmoid_out: its output.
    """

    label: str
    layer: int
    sigmoid_in: int
    sigmoid_out: int


def blocks(record: NetRecord) -> list[Block]:
    """The hidden blocks of a recorded net, one per sigmoid, in order."""
    found, affine, counts = [], None, {"conv": 0, "dense": 0}
    for k, (name, kind) in enumerate(zip(record.points, record.types, strict=True)):
        if kind in ("Conv2d", "Linear"):
            affine = k
        elif kind == "Sigmoid":
            if affine is None or k == 0:
                raise ValueError(f"sigmoid {name} has no convolution or dense layer before it")
            family = "conv" if record.types[affine] == "Conv2d" else "dense"
            counts[family] += 1
            found.append(Block(f"{family} {counts[family]}", affine, k - 1, k))
    return found


def _bad(path: Path, why: str) -> ValueError:
    return ValueError(f"{path} is not a valid batch-norm snapshot file ({why}); "
                      f"remake it with `{REMAKE_COMMAND}`")


def _net_record(path: Path, name: str, raw: Any, count: int) -> NetRecord:
    if not isinstance(raw, dict) or not isinstance(raw.get("points"), list) \
            or not isinstance(raw.get("snapshots"), list):
        raise _bad(path, f"nets.{name} needs lists 'points' and 'snapshots'")
    points, snaps = raw["points"], raw["snapshots"]
    if len(snaps) != count:
        raise _bad(path, f"nets.{name} has {len(snaps)} snapshots for {count} steps")
    try:
        names = tuple(str(p["name"]) for p in points)
        types = tuple(str(p["type"]) for p in points)
        ranges = tuple((float(p["range"][0]), float(p["range"][1])) for p in points)
        n = len(points)

        def table(key: str) -> torch.Tensor:
            rows = [[math.nan if v is None else float(v) for v in s[key]] for s in snaps]
            if any(len(r) != n for r in rows):
                raise _bad(path, f"nets.{name}: every snapshot's '{key}' needs {n} values")
            return torch.tensor(rows, dtype=torch.float64).reshape(count, n)

        def column(key: str) -> torch.Tensor:
            return torch.tensor([math.nan if s[key] is None else float(s[key]) for s in snaps],
                                dtype=torch.float64)

        hist = torch.tensor([s["hist"] for s in snaps], dtype=torch.int64)
        if hist.shape[:2] != (count, n) or hist.ndim != 3:
            raise _bad(path, f"nets.{name}: 'hist' must be (snapshots, points, bins)")
        return NetRecord(names, types, ranges, table("mean"), table("std"),
                         table("saturated"), hist, column("train_loss"),
                         column("probe_loss"), column("probe_acc"), column("probe_acc_eval"))
    except ValueError as err:
        if str(err).startswith(str(path)):
            raise
        raise _bad(path, f"nets.{name}: {err}") from None
    except (KeyError, TypeError, IndexError) as err:
        raise _bad(path, f"nets.{name}: missing or malformed {err}") from None


def load_snapshots(path: str | Path | None = None) -> Snapshots:
    """Read and check the snapshot file (default :data:`SNAPSHOTS_PATH`).

    Raises:
        FileNotFoundError: when the file is missing (the message names the command).
        ValueError: when it is not the JSON :func:`record_snapshots` and the script write
            (unreadable, wrong format version, missing nets, tables of the wrong length).
    """
    path = SNAPSHOTS_PATH if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no batch-norm snapshots at {path}; make them with "
                                f"`{REMAKE_COMMAND}` (about a minute on a CPU)")
    try:
        record = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise _bad(path, f"not JSON: {err}") from None
    if not isinstance(record, dict):
        raise _bad(path, "the top level must be an object")
    if record.get("format") != SNAPSHOT_FORMAT:
        raise _bad(path, f"format {record.get('format')!r}, expected {SNAPSHOT_FORMAT}")
    steps = record.get("steps")
    if not isinstance(steps, list) or not steps or not all(
            isinstance(s, int) and s >= 0 for s in steps) or steps != sorted(set(steps)):
        raise _bad(path, "'steps' must be increasing whole numbers")
    nets = record.get("nets")
    if not isinstance(nets, dict) or set(nets) != set(NET_NAMES):
        raise _bad(path, f"'nets' must hold exactly {list(NET_NAMES)}")
    parsed = {name: _net_record(path, name, nets[name], len(steps)) for name in NET_NAMES}
    try:
        labels = [[b.label for b in blocks(parsed[name])] for name in NET_NAMES]
    except ValueError as err:
        raise _bad(path, str(err)) from None
    if labels[0] != labels[1] or not labels[0]:
        raise _bad(path, f"the two nets' hidden blocks differ: {labels}")
    return Snapshots(tuple(steps), parsed, dict(record.get("settings", {})), record)


# ----------------------------------------------------------------------------- batch sweeps


def batch_norm_layers(model: nn.Module) -> list[tuple[int, nn.Module]]:
    """``(index in model.net, layer)`` of every PyTorch batch-norm layer.

    Raises:
        TypeError: when the model has no ``nn.Sequential`` ``net``.
        ValueError: when it has no ``nn.BatchNorm1d``/``nn.BatchNorm2d`` layer.
    """
    net = sequential_net(model)
    found = [(i, layer) for i, layer in enumerate(net)
             if isinstance(layer, nn.modules.batchnorm._BatchNorm)]
    if not found:
        raise ValueError(f"{type(model).__name__} has no nn.BatchNorm1d/2d layer; use a "
                         "network with PyTorch's batch norm, e.g. pretrained('bn_lenet')")
    return found


def capture(model: nn.Module, X: torch.Tensor, train: bool
            ) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
    """Each batch-norm layer's input and output for the batch ``X``, in either mode.

    In training mode every batch-norm layer normalises with ``X``'s own statistics; the
    running statistics are put back afterwards, so the model is unchanged.

    Returns:
        layer index in ``model.net`` -> ``(input, output)``.
    """
    layers = batch_norm_layers(model)
    seen: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    handles = [
        layer.register_forward_hook(
            lambda _m, args, out, i=i: seen.__setitem__(i, (args[0].detach(), out.detach())))
        for i, layer in layers
    ]
    try:
        with buffers_kept(model), torch.no_grad():
            model.train(train)
            model(X)
    finally:
        for handle in handles:
            handle.remove()
    return seen


def channel_axes(X: torch.Tensor) -> tuple[int, ...]:
    """The axes a batch-norm layer averages over: all but the channel axis 1."""
    return (0,) if X.ndim == 2 else (0, *range(2, X.ndim))


@dataclass
class LayerSweep:
    """One batch-norm layer over many batches of one size, in one mode.

    Attributes:
        index: the layer's position in ``model.net``; channels: C.
        batch_mean, batch_var: ``(num_batches, C)``: each batch's per-channel mean and
            (biased, as batch norm normalises with) variance of the layer's input.
        running_mean, running_var: ``(C,)``, what the layer stored in training.
        weight, bias: ``(C,)``, its gamma and beta.
        out_low, out_high: ``(C,)``, the output histograms' ranges (beta -+ 4.5 |gamma|).
        out_hist: ``(C, OUT_BINS)`` counts of the layer's output values, all batches.
        image_mean_std: ``(C,)``, the spread of single images' channel means (eval-mode
            input): the batch means should spread about this divided by sqrt(batch size).
    """

    index: int
    channels: int
    batch_mean: torch.Tensor
    batch_var: torch.Tensor
    running_mean: torch.Tensor
    running_var: torch.Tensor
    weight: torch.Tensor
    bias: torch.Tensor
    out_low: torch.Tensor
    out_high: torch.Tensor
    out_hist: torch.Tensor
    image_mean_std: torch.Tensor


#: Bins of the output histograms of :func:`batch_sweep`.
OUT_BINS = 40


def channel_histograms(Y: torch.Tensor, low: torch.Tensor, high: torch.Tensor,
                       bins: int = OUT_BINS) -> torch.Tensor:
    """``(C, bins)`` counts of each channel's values of ``Y`` over its own [low, high]."""
    C = Y.shape[1]
    values = Y.detach().float().transpose(0, 1).reshape(C, -1)  # (C, values)
    lo = low.float()[:, None]
    scale = (bins / (high - low)).float()[:, None]
    # Clamped to [0, bins - 1] before the cast, so truncation is the floor.
    index = values.sub(lo).mul_(scale).clamp_(0, bins - 1).to(torch.int64)
    index += torch.arange(C)[:, None] * bins
    return torch.bincount(index.reshape(-1), minlength=C * bins).reshape(C, bins)


def batch_indices(num_images: int, batch_size: int, num_batches: int, seed: int = 0
                  ) -> torch.Tensor:
    """``(num_batches, batch_size)`` distinct image indices: one seeded permutation, cut up.

    Raises:
        ValueError: when the images cannot fill that many batches.
    """
    if num_batches * batch_size > num_images:
        raise ValueError(f"{num_batches} batches of {batch_size} need "
                         f"{num_batches * batch_size} images; there are {num_images}")
    generator = torch.Generator().manual_seed(seed * 1000 + batch_size)
    order = torch.randperm(num_images, generator=generator)
    return order[: num_batches * batch_size].reshape(num_batches, batch_size)


def batch_sweep(model: nn.Module, images: torch.Tensor, batch_size: int, num_batches: int,
                train: bool, seed: int = 0, image_means: dict[int, torch.Tensor] | None = None
                ) -> dict[int, LayerSweep]:
    """Send ``num_batches`` batches of ``batch_size`` images through ``model`` in one mode.

    Args:
        model: a classifier with PyTorch batch-norm layers in ``model.net``; unchanged.
        images: ``(N, C, H, W)`` float inputs.
        train: training mode (batch statistics) or evaluation mode (running statistics).
        image_means: layer index -> ``(C,)`` spread of single images' channel means, as
            :func:`image_mean_spread` computes (computed when omitted).

    Returns:
        batch-norm layer index -> :class:`LayerSweep`.
    """
    layers = dict(batch_norm_layers(model))
    idx = batch_indices(images.shape[0], batch_size, num_batches, seed)
    if image_means is None:
        image_means = image_mean_spread(model, images[idx.reshape(-1)])
    means: dict[int, list] = {i: [] for i in layers}
    variances: dict[int, list] = {i: [] for i in layers}
    hists: dict[int, torch.Tensor] = {}
    ranges = {}
    for i, layer in layers.items():
        gamma = layer.weight.detach().double().abs() if layer.affine else torch.ones(1)
        beta = layer.bias.detach().double() if layer.affine else torch.zeros(1)
        C = layer.num_features
        gamma, beta = gamma.expand(C), beta.expand(C)
        ranges[i] = (beta - 4.5 * gamma - 1e-6, beta + 4.5 * gamma + 1e-6)
    for rows in idx:
        for i, (X_in, Y) in capture(model, images[rows], train).items():
            var, mean = torch.var_mean(X_in, dim=channel_axes(X_in), correction=0)
            means[i].append(mean.double())
            variances[i].append(var.double())
            h = channel_histograms(Y, *ranges[i])
            hists[i] = h if i not in hists else hists[i] + h
    sweeps = {}
    for i, layer in layers.items():
        C = layer.num_features
        affine = layer.affine
        sweeps[i] = LayerSweep(
            index=i, channels=C,
            batch_mean=torch.stack(means[i]), batch_var=torch.stack(variances[i]),
            running_mean=layer.running_mean.detach().double().clone(),
            running_var=layer.running_var.detach().double().clone(),
            weight=(layer.weight.detach().double().clone() if affine
                    else torch.ones(C, dtype=torch.float64)),
            bias=(layer.bias.detach().double().clone() if affine
                  else torch.zeros(C, dtype=torch.float64)),
            out_low=ranges[i][0], out_high=ranges[i][1], out_hist=hists[i],
            image_mean_std=image_means[i],
        )
    return sweeps


def image_mean_spread(model: nn.Module, images: torch.Tensor, chunk: int = 512
                      ) -> dict[int, torch.Tensor]:
    """Per batch-norm layer, ``(C,)``: the std across images of each image's channel mean.

    Measured in evaluation mode (an image's own values, whatever batch it came in). The
    mean of B images drawn at random spreads about this divided by sqrt(B).
    """
    per_image: dict[int, list] = {}
    for start in range(0, images.shape[0], chunk):
        for i, (X_in, _) in capture(model, images[start:start + chunk], False).items():
            axes = tuple(range(2, X_in.ndim))
            value = X_in.double().mean(dim=axes) if axes else X_in.double()
            per_image.setdefault(i, []).append(value)
    return {i: torch.cat(v).std(dim=0) for i, v in per_image.items()}
