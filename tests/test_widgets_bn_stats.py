"""Batch-norm explorers (section 8.5): recorded training snapshots and batch statistics.

References are PyTorch itself: every recorded or shown number is recomputed here from
activations captured with forward hooks, and batch norm's outputs with F.batch_norm.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
from synthetic_data import TensorBatches
from test_viz_style import notebook_png_width, reader_view
from torch import nn
from torch.nn import functional as F

from cnnlib.explain import bn_stats
from cnnlib.models.lenet import LeNet
from cnnlib.models.pretrained import build
from cnnlib.viz.bn_stats import KINDS, activation_stats_figure, batch_stats_figure
from cnnlib.widgets.bn_stats import ActivationStatsExplorer, BatchStatsExplorer

RECORDED = (nn.Conv2d, nn.Linear, nn.Sigmoid, nn.BatchNorm1d, nn.BatchNorm2d)


def hooked_outputs(model: nn.Module, X: torch.Tensor, train: bool = True) -> list:
    """Every conv/linear/BN/sigmoid output of ``model`` for ``X``, via forward hooks."""
    outputs = []
    handles = [m.register_forward_hook(lambda _m, _a, out: outputs.append(out.detach()))
               for m in model.net if isinstance(m, RECORDED)]
    model.train(train)
    with torch.no_grad():
        model(X)
    for h in handles:
        h.remove()
    return outputs


def assert_stats_match(stats_mean, stats_std, stats_sat, stats_hist, outputs, types):
    assert len(stats_mean) == len(outputs)
    for k, out in enumerate(outputs):
        values = out.double()
        torch.testing.assert_close(stats_mean[k], float(values.mean()), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(stats_std[k], float(values.std(correction=0)),
                                   rtol=1e-5, atol=1e-6)
        assert sum(stats_hist[k]) == values.numel()
        if types[k] == "Sigmoid":
            outside = ((values < 0.05) | (values > 0.95)).double().mean()
            torch.testing.assert_close(stats_sat[k], float(outside), rtol=1e-5, atol=1e-6)
            low, high = bn_stats.SIGMOID_RANGE
        else:
            assert stats_sat[k] is None or np.isnan(stats_sat[k])
            low, high = bn_stats.VALUE_RANGE
        expected, _ = np.histogram(values.clamp(low, high).numpy(), bins=len(stats_hist[k]),
                                   range=(low, high))
        # Values within rounding of a bin edge may fall either side.
        assert np.abs(np.asarray(stats_hist[k]) - expected).sum() <= 4, k


@pytest.fixture(scope="module")
def tiny_run():
    """A recorded run on 24 random images, batches of 8, 5 steps, plus the nets' copies."""
    torch.manual_seed(0)
    with_bn = build("bn_lenet")
    models = {"with_bn": with_bn, "without_bn": bn_stats.without_batch_norm(with_bn)}
    initial = copy.deepcopy(models)
    g = torch.Generator().manual_seed(1)
    X, y = torch.rand(24, 1, 28, 28, generator=g), torch.randint(0, 10, (24,), generator=g)
    data = TensorBatches(X, y, batch_size=8)
    probe_X, probe_y = torch.rand(8, 1, 28, 28, generator=g), torch.arange(8) % 10
    result = bn_stats.record_snapshots(models, lambda gen: data.train_batches(True, gen),
                                       probe_X, probe_y, steps=[0, 2, 5], lr=0.1,
                                       momentum=0.9, seed=0)
    return result, initial, models, probe_X


def snapshot_file(tmp_path, result) -> str:
    path = tmp_path / "snapshots.json"
    path.write_text(json.dumps({"format": bn_stats.SNAPSHOT_FORMAT, "settings": {"lr": 0.1},
                                **result}))
    return str(path)


# ----------------------------------------------------------------------------- recording


def test_twin_is_the_same_network_without_batch_norm():
    torch.manual_seed(0)
    with_bn = build("bn_lenet")
    twin = bn_stats.without_batch_norm(with_bn)
    kept = [m for m in with_bn.net if not isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert [type(m) for m in twin.net] == [type(m) for m in kept]
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in twin.net)
    for a, b in zip(twin.net, kept, strict=True):
        for p, q in zip(a.parameters(), b.parameters(), strict=True):
            assert torch.equal(p, q) and p is not q
    X = torch.rand(3, 1, 28, 28)
    expected = X
    for m in kept:
        expected = m(expected)
    torch.testing.assert_close(twin(X), expected)
    with pytest.raises(ValueError, match="no batch-norm"):
        bn_stats.without_batch_norm(twin)


def test_layer_stats_are_torch_statistics_of_hooked_outputs():
    torch.manual_seed(2)
    model = build("bn_lenet")
    X = torch.rand(12, 1, 28, 28)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    stats = bn_stats.layer_stats(model, X)
    for k, v in model.state_dict().items():  # running statistics put back
        assert torch.equal(v, before[k]), k
    outputs = hooked_outputs(copy.deepcopy(model), X, train=True)
    assert_stats_match([s["mean"] for s in stats], [s["std"] for s in stats],
                       [s["saturated"] for s in stats], [s["hist"] for s in stats], outputs,
                       [s["type"] for s in stats])
    assert [s["name"] for s in stats][:3] == ["conv1", "bn1", "sigmoid1"]


def test_recorded_snapshots_equal_hooked_statistics_at_start_and_end(tiny_run):
    result, initial, trained, probe_X = tiny_run
    assert result["steps"] == [0, 2, 5]
    for name in ("with_bn", "without_bn"):
        net = result["nets"][name]
        types = [p["type"] for p in net["points"]]
        assert [s["step"] for s in net["snapshots"]] == [0, 2, 5]
        assert net["snapshots"][0]["train_loss"] is None
        for snap, model in ((net["snapshots"][0], initial[name]),
                            (net["snapshots"][-1], trained[name])):
            outputs = hooked_outputs(copy.deepcopy(model), probe_X, train=True)
            assert_stats_match(snap["mean"], snap["std"], snap["saturated"], snap["hist"],
                               outputs, types)
    # Both nets started from the same convolution weights and moved.
    conv = [m for m in trained["with_bn"].net if isinstance(m, nn.Conv2d)][0]
    conv0 = [m for m in initial["without_bn"].net if isinstance(m, nn.Conv2d)][0]
    assert not torch.equal(conv.weight, conv0.weight)


def test_train_loss_is_the_mean_of_the_minibatch_losses():
    torch.manual_seed(3)
    model = bn_stats.without_batch_norm(build("bn_lenet"))
    replay = copy.deepcopy(model)
    g = torch.Generator().manual_seed(4)
    X, y = torch.rand(16, 1, 28, 28, generator=g), torch.randint(0, 10, (16,), generator=g)
    data = TensorBatches(X, y, batch_size=8)
    result = bn_stats.record_snapshots({"net": model}, lambda gen: data.train_batches(True, gen),
                                       X[:4], y[:4], steps=[0, 3], lr=0.05, seed=7)
    optimizer = torch.optim.SGD(replay.parameters(), lr=0.05)
    losses = []
    for epoch in range(2):  # 2 batches per epoch, epoch e shuffled with seed + e
        for Xb, yb in data.train_batches(True, torch.Generator().manual_seed(7 + epoch)):
            loss = F.cross_entropy(replay(Xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    got = result["nets"]["net"]["snapshots"][1]["train_loss"]
    assert got == pytest.approx(sum(losses[:3]) / 3, rel=1e-5)


# ----------------------------------------------------------------------------- the file


def test_loader_reads_back_what_was_recorded(tiny_run, tmp_path):
    result = tiny_run[0]
    snaps = bn_stats.load_snapshots(snapshot_file(tmp_path, result))
    assert snaps.steps == (0, 2, 5)
    raw = result["nets"]["with_bn"]["snapshots"]
    record = snaps.nets["with_bn"]
    assert record.mean[1].tolist() == raw[1]["mean"]
    assert record.hist[2].tolist() == raw[2]["hist"]
    assert [b.label for b in bn_stats.blocks(record)] == ["conv 1", "conv 2", "dense 1",
                                                          "dense 2"]


def test_missing_file_names_the_remake_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="record_bn_snapshots.py"):
        bn_stats.load_snapshots(tmp_path / "nothing.json")
    with pytest.raises(FileNotFoundError, match="record_bn_snapshots.py"):
        ActivationStatsExplorer(tmp_path / "nothing.json")


@pytest.mark.parametrize("damage", ["truncated", "format", "steps", "net", "hist"])
def test_corrupt_file_is_a_clear_error(tiny_run, tmp_path, damage):
    path = tmp_path / "snapshots.json"
    text = open(snapshot_file(tmp_path, tiny_run[0])).read()
    record = json.loads(text)
    if damage == "truncated":
        text = text[: len(text) // 2]
    else:
        if damage == "format":
            record["format"] = 99
        elif damage == "steps":
            record["steps"] = [0, 2]
        elif damage == "net":
            del record["nets"]["without_bn"]
        else:
            record["nets"]["with_bn"]["snapshots"][1]["hist"] = [[1, 2]]
        text = json.dumps(record)
    path.write_text(text)
    with pytest.raises(ValueError, match="record_bn_snapshots.py"):
        bn_stats.load_snapshots(path)


# ----------------------------------------------------------------------------- explorer A


def test_activation_explorer_shows_the_file_s_numbers(tiny_run, tmp_path):
    result = tiny_run[0]
    explorer = ActivationStatsExplorer(snapshot_file(tmp_path, result), snapshot=0)
    for i, block, kind in ((2, 1, KINDS[0]), (1, 3, KINDS[1]), (0, 2, KINDS[0])):
        explorer.step, explorer.layer, explorer.kind = i, block, kind
        assert explorer.error == ""
        for name in ("with_bn", "without_bn"):
            net = result["nets"][name]
            names = [p["name"] for p in net["points"]]
            sigmoid = names.index(f"sigmoid{block + 1}")
            point = sigmoid - 1 if kind == KINDS[0] else sigmoid
            if name == "with_bn" and kind == KINDS[0]:
                assert names[point] == f"bn{block + 1}"
            snap = net["snapshots"][i]
            shown = explorer.stats[name]
            assert shown["point"] == names[point]
            assert shown["mean"] == snap["mean"][point]
            assert shown["std"] == snap["std"][point]
            assert shown["saturated"] == snap["saturated"][sigmoid]
            assert shown["hist"] == snap["hist"][point]
            assert f"{snap['std'][point]:.2f}" in explorer.status_text
        assert explorer.status_text.startswith(f"After {result['steps'][i]} SGD steps")


def test_activation_explorer_page_state_is_the_recorded_run(tiny_run, tmp_path):
    # The website replays the record in the browser: every step, layer and kind, no grid.
    explorer = ActivationStatsExplorer(snapshot_file(tmp_path, tiny_run[0]))
    state = explorer.page_state()
    assert state["record"]["steps"] == tiny_run[0]["steps"]
    for name in ("with_bn", "without_bn"):
        snaps = tiny_run[0]["nets"][name]["snapshots"]
        assert state["record"]["nets"][name]["hist"] == [s["hist"] for s in snaps]


def test_activation_explorer_rejects_bad_settings(tiny_run, tmp_path):
    path = snapshot_file(tmp_path, tiny_run[0])
    with pytest.raises(ValueError, match="snapshot must be"):
        ActivationStatsExplorer(path, snapshot=3)
    with pytest.raises(ValueError, match="layer must be"):
        ActivationStatsExplorer(path, layer=4)
    with pytest.raises(ValueError, match="kind must be"):
        ActivationStatsExplorer(path, kind="gradient")


# ----------------------------------------------------------------------------- explorer B


@pytest.fixture(scope="module")
def trained_bn():
    """A seeded BN-LeNet whose running statistics have moved away from 0 and 1."""
    torch.manual_seed(5)
    model = build("bn_lenet")
    model.train()
    with torch.no_grad():
        for _ in range(5):
            model(torch.rand(16, 1, 28, 28) * 2)
    return model.eval()


@pytest.fixture(scope="module")
def images():
    return torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(6))


def make_batch_explorer(model, images, **kwargs):
    return BatchStatsExplorer(model, images, batch_sizes=(2, 4, 8), num_batches=6, **kwargs)


@pytest.fixture(scope="module")
def batch_explorer(trained_bn, images):
    return make_batch_explorer(trained_bn, images)


@pytest.mark.parametrize("batch_size, train", [(2, True), (8, True), (4, False)])
def test_batch_means_and_variances_are_torch_s(batch_explorer, trained_bn, images,
                                               batch_size, train):
    idx = bn_stats.batch_indices(images.shape[0], batch_size, 6, seed=0)
    assert len(set(idx.reshape(-1).tolist())) == idx.numel()  # no image twice
    layers = [(i, m) for i, m in enumerate(trained_bn.net)
              if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for i, m in layers:
        seen = []
        for rows in idx:  # a fresh copy per batch: nothing carries over between batches
            fresh = copy.deepcopy(trained_bn).train(train)
            fresh.net[i].register_forward_hook(lambda _m, args, _o, seen=seen: seen.append(args[0]))
            with torch.no_grad():
                fresh(images[rows])
        axes = (0, 2, 3) if seen[0].ndim == 4 else (0,)
        expected_mean = torch.stack([torch.mean(x, dim=axes) for x in seen]).double()
        expected_var = torch.stack([torch.var(x, dim=axes, unbiased=False) for x in seen])
        sweep = batch_explorer.sweeps[(batch_size, train)][i]
        torch.testing.assert_close(sweep.batch_mean, expected_mean, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(sweep.batch_var, expected_var.double(), rtol=1e-4,
                                   atol=1e-5)
        torch.testing.assert_close(sweep.running_mean, m.running_mean.double())


@pytest.mark.parametrize("train", [True, False])
def test_outputs_are_f_batch_norm(trained_bn, images, train):
    X = images[:8]
    captured = bn_stats.capture(trained_bn, X, train)
    for i, (X_in, Y) in captured.items():
        m = trained_bn.net[i]
        if train:
            expected = F.batch_norm(X_in, None, None, m.weight, m.bias, training=True,
                                    eps=m.eps)
        else:
            expected = F.batch_norm(X_in, m.running_mean, m.running_var, m.weight, m.bias,
                                    training=False, eps=m.eps)
        torch.testing.assert_close(Y, expected)


def test_output_histograms_count_f_batch_norm_outputs(batch_explorer, trained_bn, images):
    i = [i for i, m in enumerate(trained_bn.net) if isinstance(m, nn.BatchNorm1d)][0]
    m = trained_bn.net[i]
    idx = bn_stats.batch_indices(images.shape[0], 4, 6, seed=0)
    sweep = batch_explorer.sweeps[(4, True)][i]
    outputs = []
    for rows in idx:
        X_in = bn_stats.capture(trained_bn, images[rows], True)[i][0]
        outputs.append(F.batch_norm(X_in, None, None, m.weight, m.bias, training=True))
    Y = torch.cat(outputs)
    for c in (0, 7):
        low, high = float(sweep.out_low[c]), float(sweep.out_high[c])
        values = Y[:, c].detach().clamp(low, high).numpy()
        expected, _ = np.histogram(values, bins=bn_stats.OUT_BINS, range=(low, high))
        assert np.abs(sweep.out_hist[c].numpy() - expected).sum() <= 2


def test_spread_and_status(batch_explorer):
    e = batch_explorer
    e.mode, e.batch_size, e.layer, e.channel = "train", 4, 1, 3
    index = e.bn_indices[1]
    means = e.sweeps[(4, True)][index].batch_mean[:, 3]
    assert e.spread[4] == pytest.approx(float(torch.std(means)))
    assert e.spreads["4"] == e.spread[4] and e.batch_mean == means.tolist()
    assert f"{e.spread[4]:.3g}" in e.status_text
    assert "its own mean and variance" in e.status_text
    e.mode = "eval"
    running = float(e.current.running_mean[3])
    assert f"{running:.3g}" in e.status_text and "Evaluation mode" in e.status_text
    assert e.hists["eval"] == e.sweeps[(4, False)][index].out_hist[3].tolist()


def test_channel_follows_the_layer(batch_explorer):
    e = batch_explorer
    e.layer, e.channel = 2, 100  # 120 channels
    e.layer = 0  # 6 channels: the channel moves to the last one
    assert e.channel == 5 and e.error == "" and e.heading.startswith("BN 1 (after conv 1), "
                                                                     "channel 5")


def test_sweeping_leaves_the_model_s_running_statistics_alone(trained_bn, images):
    before = copy.deepcopy(trained_bn.state_dict())
    explorer = make_batch_explorer(trained_bn, images)
    kept = copy.deepcopy(explorer.model.state_dict())
    for mode in ("eval", "train"):
        for b in (2, 8):
            explorer.mode, explorer.batch_size, explorer.layer = mode, b, 1
            assert explorer.error == "" and explorer.picture_png().startswith(b"\x89PNG")
    for name, state in (("the caller's model", trained_bn.state_dict()),
                        ("the explorer's copy", explorer.model.state_dict())):
        for key, value in state.items():
            reference = before[key] if name == "the caller's model" else kept[key]
            assert torch.equal(value, reference), f"{name}: {key} changed"
    assert all(torch.equal(v, before[k]) for k, v in kept.items())


def test_batch_explorer_rejects_bad_input(trained_bn, images):
    with pytest.raises(ValueError, match="no nn.BatchNorm"):
        make_batch_explorer(LeNet(), images)
    with pytest.raises(ValueError, match="images must be"):
        make_batch_explorer(trained_bn, images[:, 0])
    with pytest.raises(ValueError, match="need 96 images"):
        BatchStatsExplorer(trained_bn, images, batch_sizes=(2, 16), num_batches=6)
    with pytest.raises(ValueError, match="batch_sizes"):
        BatchStatsExplorer(trained_bn, images, batch_sizes=(1, 2), num_batches=6)
    with pytest.raises(ValueError, match="mode"):
        make_batch_explorer(trained_bn, images, mode="test")
    with pytest.raises(ValueError, match="channel must be"):
        make_batch_explorer(trained_bn, images, channel=6)
    with pytest.raises(TypeError, match="nn.Module"):
        make_batch_explorer("bn_lenet", images)


# ----------------------------------------------------------------------------- style


def test_renderers_keep_the_figure_style(tiny_run, tmp_path, batch_explorer):
    snaps = bn_stats.load_snapshots(snapshot_file(tmp_path, tiny_run[0]))
    figures = [activation_stats_figure(snaps, 1, 2, kind) for kind in KINDS]
    e = batch_explorer
    layer = e.bn_indices[0]
    figures.append(batch_stats_figure(e.sweeps[(2, True)][layer], e.sweeps[(2, False)][layer],
                                      {b: 0.1 / b for b in (2, 4, 8)}, 0, 2, True, "BN 1"))
    for fig in figures:
        assert reader_view(fig, notebook_png_width(fig)) == []
