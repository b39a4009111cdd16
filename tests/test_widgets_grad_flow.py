"""The gradient-flow explorer (8.6): gradient norms per block of a plain net and its residual twin.

References are computed here with loss.backward() and .grad / retain_grad on the same
models and batch; no trained weights or dataset are needed.
"""

import pytest
import torch
import torch.nn.functional as F
from test_viz_style import notebook_png_width, reader_view

from cnnlib.explain.grad_flow import FlowNet, gradient_flow, twin_networks
from cnnlib.viz.grad_flow import show_gradient_flow
from cnnlib.widgets import grad_flow as grad_flow_widget
from cnnlib.widgets.grad_flow import GradientFlowExplorer


def _batch(n: int = 16, side: int = 14):
    generator = torch.Generator().manual_seed(0)
    X = torch.rand(n, 1, side, side, generator=generator)
    y = torch.randint(0, 10, (n,), generator=generator)
    return X, y


def _backward_norms(model: FlowNet, X, y):
    """Norms by .backward(): each block's conv weight .grad and each block output's .grad."""
    model.zero_grad()
    H = model.stem(X)
    outputs = []
    for block in model.blocks:
        H = H + block(H) if model.residual else block(H)
        H.retain_grad()
        outputs.append(H)
    loss = F.cross_entropy(model.head(H), y)
    loss.backward()
    weights = torch.stack([b.conv.weight.grad.norm() for b in model.blocks])
    model.zero_grad()
    return weights, torch.stack([h.grad.norm() for h in outputs]), loss.item()


@pytest.mark.parametrize(("batch_norm", "init"), [(False, "default"), (True, "kaiming")])
def test_gradient_norms_match_backward(batch_norm, init):
    X, y = _batch()
    for model in twin_networks(6, batch_norm, init, seed=3):
        got = gradient_flow(model, X, y)
        weights, outputs, loss = _backward_norms(model, X, y)
        torch.testing.assert_close(got.weight_norms, weights)
        torch.testing.assert_close(got.output_norms, outputs)
        assert got.loss == pytest.approx(loss, rel=1e-6)
        assert (got.weight_norms > 0).all()  # not a 0 == 0 comparison
        assert all(p.grad is None for p in model.parameters())  # autograd.grad leaves .grad
        if batch_norm:  # the running statistics are put back after the training-mode pass
            before = {k: v.clone() for k, v in model.state_dict().items()}
            gradient_flow(model, X, y)
            for k, v in model.state_dict().items():
                assert torch.equal(v, before[k]), k


def test_twins_have_identical_parameters_and_differ_only_in_the_shortcut():
    plain, residual = twin_networks(5, batch_norm=True, init="kaiming", seed=7)
    assert not plain.residual and residual.residual
    plain_state, residual_state = plain.state_dict(), residual.state_dict()
    assert plain_state.keys() == residual_state.keys()
    for name, value in plain_state.items():
        assert torch.equal(value, residual_state[name]), name
    other, _ = twin_networks(5, batch_norm=True, init="kaiming", seed=8)
    assert not torch.equal(other.blocks[0].conv.weight, plain.blocks[0].conv.weight)
    state = torch.get_rng_state()
    twin_networks(3)
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is left alone


@pytest.mark.parametrize("batch_norm", [False, True])
def test_zero_blocks_make_the_residual_net_the_stem_only_net(batch_norm):
    X, _ = _batch()
    _, residual = twin_networks(8, batch_norm, "kaiming", seed=1)
    with torch.no_grad():
        for block in residual.blocks:
            block.conv.weight.zero_()
            block.conv.bias.zero_()
    stem_only = torch.nn.Sequential(residual.stem, residual.head)
    torch.testing.assert_close(residual(X), stem_only(X))
    plain = FlowNet(8, residual=False, batch_norm=batch_norm)
    plain.load_state_dict(residual.state_dict())
    assert not torch.allclose(plain(X), stem_only(X))  # without shortcuts the signal is lost


def test_explorer_numbers_are_gradient_flow_of_its_twins():
    X, y = _batch()
    explorer = GradientFlowExplorer(X, y, depth=8, batch_norm=False, init="default", seed=2)
    explorer.depth = 4
    explorer.batch_norm = True
    plain, residual = twin_networks(4, True, "default", seed=2)
    for net, flow, twin in ((explorer.plain_net, explorer.plain, plain),
                            (explorer.residual_net, explorer.residual, residual)):
        for a, b in zip(net.state_dict().values(), twin.state_dict().values(), strict=True):
            assert torch.equal(a, b)
        weights, outputs, _ = _backward_norms(twin, X, y)
        torch.testing.assert_close(flow.weight_norms, weights)
        torch.testing.assert_close(flow.output_norms, outputs)
    ratio = float(explorer.plain.weight_norms[0] / explorer.plain.weight_norms[-1])
    assert f"{ratio:.3g}" in explorer.status_text
    assert explorer.plain.weight_norms.numel() == 4
    # The synced numbers are the same float32 values, as JSON numbers.
    assert explorer.flows["plain"]["weight"] == explorer.plain.weight_norms.tolist()
    assert explorer.flows["residual"]["loss"] == explorer.residual.loss


def test_renderer_is_readable_and_marks_exact_zeros():
    X, y = _batch()
    plain, residual = twin_networks(4, False, "kaiming")
    flows = gradient_flow(plain, X, y), gradient_flow(residual, X, y)
    flows[0].weight_norms[:2] = 0  # as a dead plain network gives
    fig = show_gradient_flow(*flows)
    assert reader_view(fig, notebook_png_width(fig)) == []
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "plain: exactly 0" in texts
    with pytest.raises(ValueError, match="twins of one depth"):
        show_gradient_flow(flows[0], gradient_flow(twin_networks(5)[1], X, y))


def test_bad_input_is_refused_with_a_clear_message():
    X, y = _batch(4)
    with pytest.raises(ValueError, match=r"y must be \(4,\)"):
        GradientFlowExplorer(X, y[:3])
    with pytest.raises(ValueError, match="float images"):
        GradientFlowExplorer(X[:, 0], y)
    with pytest.raises(ValueError, match="depth must be"):
        GradientFlowExplorer(X, y, depth=0)
    with pytest.raises(ValueError, match="init must be one of"):
        GradientFlowExplorer(X, y, init="xavier")
    with pytest.raises(ValueError, match="without X"):
        GradientFlowExplorer(y=y)
    with pytest.raises(TypeError, match="FlowNet"):
        gradient_flow(torch.nn.Linear(2, 2), X, y)


def test_redraws_compute_on_one_thread_and_agree_with_more_threads(monkeypatch):
    X, y = _batch()
    previous = torch.get_num_threads()
    torch.set_num_threads(2)  # as a reader's kernel on two cores has it
    try:
        plain, residual = twin_networks(12, True, "kaiming", seed=4)
        expected = gradient_flow(plain, X, y), gradient_flow(residual, X, y)
        seen = []
        monkeypatch.setattr(grad_flow_widget, "gradient_flow", lambda *args: (
            seen.append(torch.get_num_threads()), gradient_flow(*args))[1])
        explorer = GradientFlowExplorer(X, y, depth=12, batch_norm=False, seed=4)
        explorer.batch_norm = True
        assert seen == [1, 1, 1, 1] and torch.get_num_threads() == 2  # and put back after
        # One thread adds up in another order than two: equal to float32 rounding.
        for got, want in zip((explorer.plain, explorer.residual), expected, strict=True):
            torch.testing.assert_close(got.weight_norms, want.weight_norms, rtol=1e-5, atol=0)
            torch.testing.assert_close(got.output_norms, want.output_norms, rtol=1e-5, atol=0)
            assert got.loss == pytest.approx(want.loss, rel=1e-6)
    finally:
        torch.set_num_threads(previous)
