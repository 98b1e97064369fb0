"""RNN, GRU, LSTM and their cells against torch.nn with the same weights (torch's state dict
loaded): parameter names and shapes, initialization, outputs, final states and the gradients of
the input, the initial states and every parameter, on random shapes and options, in float64 and
float32; double backward through a GRU and an LSTM; gradcheck; the errors for bad input."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad import nn
from tests.nn._nn_testing import GG_DTYPE, TORCH_DTYPE, assert_close, copy_torch_to_gg, randomize_torch
from tests.oracle import ORACLE

MODES = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("GRU", {}), ("LSTM", {}), ("LSTM", {"proj_size": 1})]


def _pair(name, args, kwargs, dtype=np.float64):
    """The same layer in both libraries, torch's (randomized) weights copied into glassgrad's."""
    t = randomize_torch(getattr(torch.nn, name)(*args, **kwargs)).to(TORCH_DTYPE[dtype])
    g = getattr(nn, name)(*args, **kwargs).to(GG_DTYPE[dtype])
    copy_torch_to_gg(t, g)
    return g, t


def _flat(out):
    """(output, h_n) or (output, (h_n, c_n)) as a flat tuple of tensors."""
    y, h = out
    return (y, *h) if isinstance(h, tuple) else (y, h)


def _run(lib, module, x, states, up):
    """Forward on ``x`` (with initial ``states``), backward of sum(up * outputs); returns the
    outputs, the gradients of x and of the states, and the parameters' gradients by name."""
    xt = lib.tensor(x, requires_grad=True)
    st_ = [lib.tensor(s, requires_grad=True) for s in states]
    hx = None if not st_ else (tuple(st_) if len(st_) == 2 else st_[0])
    outs = _flat(module(xt, hx))
    total = sum((o * lib.tensor(u)).sum() for o, u in zip(outs, up))
    total.backward()
    grads = [xt.grad] + [s.grad for s in st_]
    return outs, grads, {n: p.grad for n, p in module.named_parameters()}


def _compare(g, t, x, states, dtype, rng):
    x = x.astype(dtype)
    states = [s.astype(dtype) for s in states]
    hx = None if not states else tuple(torch.tensor(s) for s in states)
    probe = _flat(t(torch.tensor(x), hx if hx is None or len(hx) == 2 else hx[0]))
    up = [rng.standard_normal(tuple(o.shape)).astype(dtype) for o in probe]
    got = _run(gg, g, x, states, up)
    ref = _run(torch, t, x, states, up)
    for k, (a, e) in enumerate(zip(got[0], ref[0])):
        assert_close(a, e, dtype, f"output {k}")
    for k, (a, e) in enumerate(zip(got[1], ref[1])):
        assert_close(a, e, dtype, f"gradient of input {k} (x, h0, c0)")
    assert got[2].keys() == ref[2].keys()
    for name in ref[2]:
        assert_close(got[2][name], ref[2][name], dtype, f"gradient of {name}")


def _states(rng, mode, kwargs, layers, batch, hidden, unbatched=False):
    lead = (layers,) if unbatched else (layers, batch)
    states = [rng.standard_normal((*lead, kwargs.get("proj_size") or hidden))]
    if mode == "LSTM":
        states.append(rng.standard_normal((*lead, hidden)))
    return states


@st.composite
def rnn_configs(draw):
    mode, extra = draw(st.sampled_from(MODES))
    kwargs = dict(extra, num_layers=draw(st.integers(1, 2)), bidirectional=draw(st.booleans()),
                  bias=draw(st.booleans()), batch_first=draw(st.booleans()))
    hidden = draw(st.integers(2, 4))
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3)))  # L, N, H_in
    return mode, kwargs, hidden, shape, draw(st.booleans()), draw(st.integers(0, 2**31))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@ORACLE
@given(rnn_configs())
def test_rnn_layers_match_torch(dtype, config):
    mode, kwargs, hidden, (steps, batch, features), with_states, seed = config
    rng = np.random.default_rng(seed)
    g, t = _pair(mode, (features, hidden), kwargs, dtype)
    x = rng.standard_normal((batch, steps, features) if kwargs["batch_first"] else (steps, batch, features))
    layers = kwargs["num_layers"] * (2 if kwargs["bidirectional"] else 1)
    states = _states(rng, mode, kwargs, layers, batch, hidden) if with_states else []
    _compare(g, t, x, states, dtype, rng)


@pytest.mark.parametrize("mode,extra", MODES)
def test_bidirectional_multilayer_with_initial_states(mode, extra):
    rng = np.random.default_rng(0)
    kwargs = dict(extra, num_layers=3, bidirectional=True)
    g, t = _pair(mode, (3, 4), kwargs)
    _compare(g, t, rng.standard_normal((5, 2, 3)), _states(rng, mode, kwargs, 6, 2, 4), np.float64, rng)


@pytest.mark.parametrize("mode,extra", MODES)
def test_unbatched_input(mode, extra):
    rng = np.random.default_rng(1)
    kwargs = dict(extra, num_layers=2, bidirectional=True)
    g, t = _pair(mode, (3, 4), kwargs)
    _compare(g, t, rng.standard_normal((5, 3)), _states(rng, mode, kwargs, 4, 1, 4, unbatched=True),
             np.float64, rng)
    _compare(g, t, rng.standard_normal((5, 3)), [], np.float64, rng)


@pytest.mark.parametrize("name,extra", [("RNN", {}), ("GRU", {}), ("LSTM", {}), ("LSTM", {"proj_size": 2}),
                                        ("RNN", {"bias": False})])
def test_parameters_names_shapes_and_init(name, extra):
    kwargs = dict(extra, num_layers=2, bidirectional=True)
    t = getattr(torch.nn, name)(5, 7, **kwargs)
    g = getattr(nn, name)(5, 7, **kwargs)
    assert [(k, tuple(v.shape)) for k, v in g.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    assert [n for n, _ in g.named_parameters()] == [n for n, _ in t.named_parameters()]
    bound = 1 / math.sqrt(7)
    values = np.concatenate([p.detach().numpy().ravel() for p in g.parameters()])
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.9 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.1 * bound  # U(-b, b) has std b/sqrt(3)
    assert len(g.all_weights) == 4 and [tuple(w.shape) for w in g.all_weights[1]] == \
        [tuple(w.shape) for w in t.all_weights[1]]
    assert repr(g) == repr(t)


def test_repr_matches_torch():
    for make in (lambda m: m.RNN(3, 4, nonlinearity="relu", batch_first=True),
                 lambda m: m.GRU(3, 4, 2, dropout=0.5, bidirectional=True),
                 lambda m: m.LSTM(3, 4, proj_size=2, bias=False),
                 lambda m: m.RNNCell(3, 4, nonlinearity="relu"), lambda m: m.GRUCell(3, 4, bias=False),
                 lambda m: m.LSTMCell(3, 4)):
        assert repr(make(nn)) == repr(make(torch.nn))


def test_dropout_between_layers_in_training_only():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 2, 3))
    # p = 1 zeroes the input of the second layer: deterministic, so torch's result must match
    g, t = _pair("GRU", (3, 4), dict(num_layers=2, dropout=1.0))
    _compare(g, t, x, [], np.float64, rng)
    g.eval(), t.eval()  # no dropout in eval mode
    _compare(g, t, x, [], np.float64, rng)
    g, _ = _pair("LSTM", (3, 4), dict(num_layers=2, dropout=0.5))
    y_eval = g.eval()(gg.tensor(x))[0].detach().numpy()
    g.train()
    outs = [g(gg.tensor(x))[0].detach().numpy() for _ in range(2)]
    assert not np.allclose(outs[0], y_eval) and not np.allclose(outs[0], outs[1])


# -- cells ------------------------------------------------------------------------------------


def _cell_run(lib, cell, x, states, up):
    xt = lib.tensor(x, requires_grad=True)
    st_ = [lib.tensor(s, requires_grad=True) for s in states]
    hx = None if not st_ else (tuple(st_) if len(st_) == 2 else st_[0])
    out = cell(xt, hx)
    outs = out if isinstance(out, tuple) else (out,)
    sum((o * lib.tensor(u)).sum() for o, u in zip(outs, up)).backward()
    return outs, [xt.grad] + [s.grad for s in st_], {n: p.grad for n, p in cell.named_parameters()}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,extra", [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}),
                                        ("GRUCell", {}), ("LSTMCell", {}), ("GRUCell", {"bias": False})])
@pytest.mark.parametrize("batch", [None, 3])
@pytest.mark.parametrize("with_states", [False, True])
def test_cells_match_torch(dtype, name, extra, batch, with_states):
    rng = np.random.default_rng(3)
    g, t = _pair(name, (4, 5), extra, dtype)
    lead = () if batch is None else (batch,)
    x = rng.standard_normal((*lead, 4)).astype(dtype)
    states = [rng.standard_normal((*lead, 5)).astype(dtype) for _ in range(2 if name == "LSTMCell" else 1)]
    states = states if with_states else []
    up = [rng.standard_normal((*lead, 5)).astype(dtype) for _ in range(2 if name == "LSTMCell" else 1)]
    got, ref = _cell_run(gg, g, x, states, up), _cell_run(torch, t, x, states, up)
    for a, e in zip(got[0], ref[0]):
        assert_close(a, e, dtype, "output")
    for a, e in zip(got[1], ref[1]):
        assert_close(a, e, dtype, "gradient of the input or a state")
    for n in ref[2]:
        assert_close(got[2][n], ref[2][n], dtype, f"gradient of {n}")


# -- higher order -------------------------------------------------------------------------------


def _second_order(lib, module, x_np, h_np, v, u):
    """Gradient of s = sum(u_k * dL/dq_k) with L = sum(v * output) over q = (x, h0, params):
    the double backward (Hessian-vector product) of the whole layer."""
    x = lib.tensor(x_np, requires_grad=True)
    hs = [lib.tensor(h, requires_grad=True) for h in h_np]
    qs = [x, *hs, *module.parameters()]
    out = _flat(module(x, tuple(hs) if len(hs) == 2 else hs[0]))
    loss = sum((o * lib.tensor(w)).sum() for o, w in zip(out, v))
    gs = lib.autograd.grad(loss, qs, create_graph=True)
    s = sum((g * lib.tensor(w)).sum() for g, w in zip(gs, u))
    return lib.autograd.grad(s, qs)


@pytest.mark.parametrize("name", ["GRU", "LSTM", "RNN"])
def test_double_backward_matches_torch(name):
    rng = np.random.default_rng(4)
    g, t = _pair(name, (3, 4), dict(num_layers=2, bidirectional=True))
    x = rng.standard_normal((3, 2, 3))
    hs = _states(rng, name, {}, 4, 2, 4)
    probe = _flat(t(torch.tensor(x)))
    v = [rng.standard_normal(tuple(o.shape)) for o in probe]
    u = [rng.standard_normal(a.shape) for a in [x, *hs]] + [rng.standard_normal(tuple(p.shape)) for p in t.parameters()]
    got = _second_order(gg, g, x, hs, v, u)
    ref = _second_order(torch, t, x, hs, v, u)
    for k, (a, e) in enumerate(zip(got, ref)):
        assert_close(a, e, np.float64, f"second-order gradient {k}")


@pytest.mark.parametrize("name", ["GRUCell", "LSTMCell"])
def test_double_backward_of_one_step_matches_torch(name):
    rng = np.random.default_rng(5)
    g, t = _pair(name, (3, 4), {})
    x = rng.standard_normal((2, 3))
    hs = [rng.standard_normal((2, 4)) for _ in range(2 if name == "LSTMCell" else 1)]

    def second(lib, cell):
        xt = lib.tensor(x, requires_grad=True)
        st_ = [lib.tensor(h, requires_grad=True) for h in hs]
        out = cell(xt, tuple(st_) if len(st_) == 2 else st_[0])
        out = out if isinstance(out, tuple) else (out,)
        qs = [xt, *st_, *cell.parameters()]
        gs = lib.autograd.grad(sum((o * o).sum() for o in out), qs, create_graph=True)
        return lib.autograd.grad(sum((q * q).sum() for q in gs), qs)

    for k, (a, e) in enumerate(zip(second(gg, g), second(torch, t))):
        assert_close(a, e, np.float64, f"second-order gradient {k}")


@pytest.mark.parametrize("name", ["GRU", "LSTM", "RNN"])
def test_gradcheck_and_gradgradcheck(name):
    layer = getattr(nn, name)(2, 2, bidirectional=True).to(gg.float64)
    x = gg.randn(3, 1, 2, dtype=gg.float64, requires_grad=True)
    h = gg.randn(2, 1, 2, dtype=gg.float64, requires_grad=True)

    def f(x, h, *params):  # the parameters are inputs too: gradcheck perturbs them in place
        return _flat(layer(x, (h, h * 0.5) if name == "LSTM" else h))

    inputs = (x, h, *layer.parameters())
    assert gg.autograd.gradcheck(f, inputs)
    assert gg.autograd.gradgradcheck(f, inputs)


# -- errors ------------------------------------------------------------------------------------


def test_bad_input_names_the_layer_and_shapes():
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match=r"LSTM\(3, 4, num_layers=2\).*3-D input.*\(2, 2, 3, 1\)"):
        lstm(gg.zeros(2, 2, 3, 1))
    with pytest.raises(RuntimeError, match=r"LSTM\(3, 4, num_layers=2\).*input_size=3.*\(5, 2, 7\)"):
        lstm(gg.zeros(5, 2, 7))
    with pytest.raises(RuntimeError, match=r"h0 of shape \(2, 2, 4\).*input of shape \(5, 2, 3\).*\(1, 2, 4\)"):
        lstm(gg.zeros(5, 2, 3), (gg.zeros(1, 2, 4), gg.zeros(2, 2, 4)))
    with pytest.raises(RuntimeError, match=r"c0 of shape \(2, 2, 4\).*got c0 of shape \(2, 3, 4\)"):
        lstm(gg.zeros(5, 2, 3), (gg.zeros(2, 2, 4), gg.zeros(2, 3, 4)))
    with pytest.raises(RuntimeError, match=r"GRU\(3, 4\).*h0 of shape \(1, 4\).*\(1, 2, 4\)"):
        nn.GRU(3, 4)(gg.zeros(5, 3), gg.zeros(1, 2, 4))  # unbatched input, batched h0
    with pytest.raises(RuntimeError, match=r"GRUCell\(3, 4\).*hx of shape \(2, 4\).*got hx of shape \(3, 4\)"):
        nn.GRUCell(3, 4)(gg.zeros(2, 3), gg.zeros(3, 4))
    with pytest.raises(ValueError, match=r"RNNCell\(3, 4\).*\[N, 3\].*\(2, 5\)"):
        nn.RNNCell(3, 4)(gg.zeros(2, 5))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="proj_size"):
        nn.RNNBase("GRU", 3, 4, proj_size=2)
    with pytest.raises(ValueError, match="dropout"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(TypeError, match=r"GRU\(3, 4\): expected the input to have the parameters' dtype "
                                        r"glassgrad.float32, got glassgrad.float64"):
        nn.GRU(3, 4)(gg.zeros(5, 2, 3, dtype=gg.float64))
    with pytest.raises(TypeError, match=r"expected h0 to have the parameters' dtype glassgrad.float32, "
                                        r"got glassgrad.float64"):
        nn.GRU(3, 4)(gg.zeros(5, 2, 3), gg.zeros(1, 2, 4, dtype=gg.float64))
    with pytest.raises(TypeError, match=r"LSTMCell\(3, 4\): expected the input .*got glassgrad.float64"):
        nn.LSTMCell(3, 4)(gg.zeros(2, 3, dtype=gg.float64))


# -- the fused time loop (GRU, LSTM over padded batches) against the composed one ------------------


@pytest.mark.parametrize("name", ["GRU", "LSTM"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("bias", [False, True])
def test_fused_loop_equals_composed_loop_to_third_order(name, bidirectional, bias):
    layer = getattr(nn, name)(3, 4, num_layers=2, bidirectional=bidirectional, bias=bias).to(gg.float64)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 2, 3))
    h0 = rng.standard_normal((2 * (2 if bidirectional else 1), 2, 4))
    results = []
    for fused in (True, False):
        layer.use_fused = fused
        xt, ht = gg.tensor(x, requires_grad=True), gg.tensor(h0, requires_grad=True)
        out, h = layer(xt, (ht, ht * 0.5) if name == "LSTM" else ht)
        finals = h if isinstance(h, tuple) else (h,)
        qs = [xt, ht, *layer.parameters()]
        loss = (out * out).sum() + sum((f ** 3).sum() for f in finals)
        first = gg.autograd.grad(loss, qs, create_graph=True)
        second = gg.autograd.grad(sum((g * g).sum() for g in first), qs, create_graph=True)
        third = gg.autograd.grad(sum((g * g).sum() for g in second), qs)
        results.append([out, *finals, *first, *second, *third])
    for k, (a, e) in enumerate(zip(*results)):
        assert_close(a, e.detach().numpy(), np.float64, f"fused vs composed, result {k}")


def test_fused_loop_runs_for_padded_batches():
    from glassgrad.functions import recurrent

    seen = []
    original = recurrent.fused_layer

    def spy(*args, **kwargs):
        seen.append(args[0])
        return original(*args, **kwargs)

    recurrent_module = __import__("glassgrad.nn.modules.rnn", fromlist=["fused_layer"])
    recurrent_module.fused_layer = spy
    try:
        nn.GRU(2, 3)(gg.zeros(4, 1, 2))
        nn.LSTM(2, 3, proj_size=1)(gg.zeros(4, 1, 2))  # a projected LSTM runs the composed loop
    finally:
        recurrent_module.fused_layer = original
    assert seen == ["GRU"]
