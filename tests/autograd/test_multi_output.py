"""Ops with several outputs: one node, one gradient per output (None for an output that got
none), per-output version checks and saved outputs, against PyTorch."""

import numpy as np
import pytest
from hypothesis import given

import glassgrad as gg
from glassgrad.autograd import Function
from tests.oracle import ORACLE, check, seeds, shapes, uniform


class SinCos(Function):
    """(sin x, cos x) in one op; reads x in backward."""

    def forward(self, x):
        return np.sin(x), np.cos(x)

    def backward(self, g_sin, g_cos):
        (x,) = self.inputs
        gx = 0.0
        if g_sin is not None:
            gx = gx + g_sin * gg.cos(x)
        if g_cos is not None:
            gx = gx - g_cos * gg.sin(x)
        return gx


class ExpPair(Function):
    """(exp x, exp 2x); its backward reads the outputs, not x."""

    uses_inputs = False
    uses_output = True

    def forward(self, x):
        return np.exp(x), np.exp(2 * x)

    def backward(self, g1, g2):
        y1, y2 = self.saved_outputs
        gx = 0.0
        if g1 is not None:
            gx = gx + g1 * y1
        if g2 is not None:
            gx = gx + g2 * y2 * 2.0
        return gx


def _sincos(m, t):
    return SinCos()(t) if m is gg else (m.sin(t), m.cos(t))


def _exppair(m, t):
    return ExpPair()(t) if m is gg else (m.exp(t), m.exp(2 * t))


def test_outputs_share_one_node_and_know_their_place():
    x = gg.ones(3, requires_grad=True)
    s, c = SinCos()(x)
    assert s.grad_fn is c.grad_fn and s.grad_fn.name() == "SinCosBackward"
    assert (s.output_nr, c.output_nr) == (0, 1) and x.output_nr == 0
    with gg.no_grad():
        s, c = SinCos()(x)
    assert s.grad_fn is None and not c.requires_grad


@ORACLE
@given(shape=shapes(max_dims=2), seed=seeds)
def test_two_outputs_against_torch(shape, seed):
    x = uniform(np.random.default_rng(seed), shape)
    check(_sincos, [x], seed=seed)
    check(_exppair, [x], seed=seed)
    # each output used several times: its gradients are summed per output before backward
    check(lambda m, t: (lambda s, c: (s * c + s, c * 3.0))(*_sincos(m, t)), [x], seed=seed)
    # only one output used: backward gets None for the other
    check(lambda m, t: _sincos(m, t)[1] * t, [x], seed=seed)
    check(lambda m, t: _exppair(m, t)[0] + 0.0, [x], seed=seed)


def test_in_place_change_of_a_saved_output_is_caught_per_output():
    for k in (0, 1):
        x = gg.tensor([0.5, 1.0], dtype=gg.float64, requires_grad=True)
        outs = ExpPair()(x)
        loss = (outs[0] + outs[1]).sum()
        with gg.no_grad():
            outs[k].mul_(2.0)
        with pytest.raises(RuntimeError, match=r"modified by an in-place operation.*ExpPairBackward"):
            loss.backward()


def test_in_place_change_of_an_input_is_caught():
    x = gg.tensor([0.5, 1.0], dtype=gg.float64, requires_grad=True)
    s, c = SinCos()(x)
    with gg.no_grad():
        x.add_(1.0)
    with pytest.raises(RuntimeError, match="SinCosBackward"):
        (s + c).sum().backward()


def test_pieces_of_a_split_are_views_sharing_the_version_counter():
    w = gg.tensor([1.0, 2.0, 3.0, 4.0], dtype=gg.float64, requires_grad=True)
    y = (w * w).sum()  # mul saves w
    a, b = w.split(2)
    with gg.no_grad():
        b.mul_(2.0)
    assert w.tolist() == [1.0, 2.0, 6.0, 8.0] and w._version == b._version == a._version == 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_retain_grad_and_autograd_grad_on_one_output():
    x = gg.tensor([0.5, 1.0], dtype=gg.float64, requires_grad=True)
    s, c = SinCos()(x)
    c.retain_grad()
    y = (s * c * 2.0).sum()
    (gc,) = gg.autograd.grad(y, c, retain_graph=True)
    np.testing.assert_allclose(gc.numpy(), 2.0 * np.sin(x.detach().numpy()))
    y.backward()
    np.testing.assert_allclose(c.grad.numpy(), gc.numpy())
    assert s.grad is None
    np.testing.assert_allclose(x.grad.numpy(), 2.0 * np.cos(2.0 * x.detach().numpy()))


def test_anomaly_mode_runs_a_multi_output_backward():
    x = gg.tensor([0.5, 1.0], dtype=gg.float64, requires_grad=True)
    with gg.autograd.detect_anomaly():
        s, c = SinCos()(x)
        s.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos([0.5, 1.0]))
