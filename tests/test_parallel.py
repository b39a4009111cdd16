"""Batch splitting across threads (cnnlib.training.parallel): the same step, or a clear refusal."""

from __future__ import annotations

import copy

import pytest
import torch
from synthetic_data import TensorBatches
from torch import nn
from torch.nn import functional as F

from cnnlib.models.lenet import LeNet
from cnnlib.training.parallel import SlicedStep, check_splittable, threads_per_slice
from cnnlib.training.trainer import TrainConfig, Trainer

CPU = torch.device("cpu")


def tiny_net() -> nn.Sequential:
    """Conv, pooling and linear layers: nothing that looks across the batch."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.Sigmoid(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 3),
    )


def batch(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 3, (n,), generator=g)


class Batches(TensorBatches):
    """200 random 8x8 images in batches of 25: class 1 has a brighter top half."""

    def __init__(self) -> None:
        g = torch.Generator().manual_seed(3)
        y = torch.randint(0, 2, (200,), generator=g)
        X = torch.randn(200, 1, 8, 8, generator=g)
        X[:, :, :4] += 1.5 * y.view(200, 1, 1, 1)
        super().__init__(X, y, batch_size=25)


def full_batch_step(model: nn.Module, X: torch.Tensor, y: torch.Tensor):
    y_hat = model(X)
    loss = F.cross_entropy(y_hat, y)
    loss.backward()
    return loss.detach(), y_hat.detach()


@pytest.mark.parametrize("n, slices", [(16, 2), (7, 2), (10, 3), (1, 2), (5, 4)])
def test_slices_compute_the_full_batch_step(n, slices):
    X, y = batch(n)
    whole, sliced_model = tiny_net(), tiny_net()
    loss, y_hat = full_batch_step(whole, X, y)
    with SlicedStep(sliced_model, slices, CPU, "fp32") as sliced:
        loss_s, y_hat_s = sliced.forward_backward(X, y)
    torch.testing.assert_close(loss_s, loss)
    torch.testing.assert_close(y_hat_s, y_hat)
    for (name, p), q in zip(whole.named_parameters(), sliced_model.parameters(), strict=True):
        torch.testing.assert_close(q.grad, p.grad, msg=f"gradient of {name}")


def test_two_slices_train_lenet_like_the_whole_batch():
    """An epoch of the notes' LeNet: split and unsplit runs end with the same weights."""
    X = torch.rand(96, 1, 28, 28)
    y = torch.randint(0, 10, (96,))
    whole, split = LeNet(), LeNet()
    split.load_state_dict(whole.state_dict())
    opts = [torch.optim.SGD(m.parameters(), lr=0.5) for m in (whole, split)]
    with SlicedStep(split, 2, CPU, "fp32") as sliced:
        for idx in torch.arange(96).split(32):
            for opt in opts:
                opt.zero_grad(set_to_none=True)
            full_batch_step(whole, X[idx], y[idx])
            sliced.forward_backward(X[idx], y[idx])
            for opt in opts:
                opt.step()
    for (name, p), q in zip(whole.named_parameters(), split.parameters(), strict=True):
        torch.testing.assert_close(q, p, msg=f"{name} after three steps")


def test_the_trainer_with_split_batches_repeats_the_plain_run():
    data = Batches()
    config = TrainConfig(epochs=3, lr=0.5, progress=False, live_plot=False, device="cpu")
    plain, split = tiny_net(), tiny_net()
    h1 = Trainer(config).fit(plain, data)
    h2 = Trainer(config, split_batch=2).fit(split, data)
    for field in ("train_loss", "train_acc", "val_loss", "val_acc"):
        assert getattr(h2, field) == pytest.approx(getattr(h1, field), rel=1e-5, abs=1e-6), field
    assert h2.val_acc[-1] > 0.8  # and it learned the task
    for p, q in zip(plain.parameters(), split.parameters(), strict=True):
        torch.testing.assert_close(q, p, rtol=1e-5, atol=1e-6)


def test_thread_count_is_restored_after_training_and_after_an_error():
    before = torch.get_num_threads()
    Trainer(TrainConfig(epochs=1, progress=False, live_plot=False, device="cpu",
                        split_batch=2)).fit(tiny_net(), Batches())
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError, match="boom"):
        with SlicedStep(tiny_net(), 2, CPU, "fp32"):
            assert torch.get_num_threads() == max(1, before // 2)
            raise RuntimeError("boom")
    assert torch.get_num_threads() == before


def test_an_error_in_a_worker_slice_reaches_the_caller():
    class FailsOnSmallBatches(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(()))

        def forward(self, X):
            if X.shape[0] < 4:
                raise ValueError("slice too small for this model")
            return X.flatten(1)[:, :3] * self.scale

    with SlicedStep(FailsOnSmallBatches(), 2, CPU, "fp32") as sliced:
        X, y = batch(7)  # slices of 4 (this thread: fine) and 3 (the worker: fails)
        with pytest.raises(ValueError, match="slice too small"):
            sliced.forward_backward(X, y)


def test_bf16_autocast_reaches_every_slice():
    seen = []

    class RecordsDtype(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(64, 3)

        def forward(self, X):
            out = self.linear(X.flatten(1))
            seen.append(out.dtype)
            return out

    with SlicedStep(RecordsDtype(), 2, CPU, "bf16") as sliced:
        sliced.forward_backward(*batch(8))
    assert seen == [torch.bfloat16, torch.bfloat16]


def test_a_diverging_split_run_stops_before_the_bad_step():
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.Linear(16, 2))
    config = TrainConfig(epochs=3, lr=1e10, progress=False, live_plot=False, device="cpu",
                         split_batch=2)
    history = Trainer(config).fit(model, Batches())
    assert history.stopped is not None and "lr=1e+10" in history.stopped


@pytest.mark.parametrize("layer, words", [
    (nn.BatchNorm2d(4), "1 is a BatchNorm2d: it would normalize each slice"),
    (nn.Dropout(0.5), "1 is a Dropout: its random masks"),
])
def test_models_that_look_across_the_batch_are_refused(layer, words):
    model = nn.Sequential(nn.Conv2d(1, 4, 3), layer)
    with pytest.raises(ValueError, match=words):
        check_splittable(model, CPU, 2)
    with pytest.raises(ValueError, match="split_batch=1 for this model"):
        Trainer(TrainConfig(epochs=1, progress=False, live_plot=False, device="cpu",
                            split_batch=2)).fit(model, Batches())
    check_splittable(model, CPU, 1)  # no splitting, no objection


def test_splitting_is_refused_off_the_cpu_and_for_bad_counts():
    with pytest.raises(ValueError, match="training runs on cuda"):
        check_splittable(tiny_net(), torch.device("cuda"), 2)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="split_batch must be a positive int"):
            TrainConfig(split_batch=bad)


def test_each_slice_gets_its_share_of_the_cores():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(4)
        assert [threads_per_slice(k) for k in (1, 2, 3, 4, 8)] == [4, 2, 1, 1, 1]
    finally:
        torch.set_num_threads(before)


def test_forward_backward_needs_the_context():
    sliced = SlicedStep(tiny_net(), 2, CPU, "fp32")
    with pytest.raises(RuntimeError, match="inside `with SlicedStep"):
        sliced.forward_backward(*batch(4))


def test_the_split_config_is_kept_in_checkpoints(tmp_path):
    from cnnlib.training.checkpoint import read_checkpoint

    config = TrainConfig(epochs=1, progress=False, live_plot=False, device="cpu",
                         split_batch=2, checkpoint=tmp_path / "run.pt")
    Trainer(config).fit(copy.deepcopy(tiny_net()), Batches())
    assert read_checkpoint(tmp_path / "run.pt")["config"]["split_batch"] == 2


def test_torch_threads_restores_the_count_even_when_the_block_raises():
    from cnnlib.training.parallel import torch_threads

    before = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="boom"):
        with torch_threads(1):
            assert torch.get_num_threads() == 1
            raise RuntimeError("boom")
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="at least 1"):
        with torch_threads(0):
            pass


def test_only_parallel_changes_the_thread_count():
    """One owner: every other module goes through parallel.torch_threads."""
    from pathlib import Path

    import cnnlib

    root = Path(cnnlib.__file__).parent
    setters = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                     if "set_num_threads" in p.read_text())
    assert setters == ["training/parallel.py"], setters
