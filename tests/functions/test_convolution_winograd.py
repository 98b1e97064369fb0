"""The polyphase Winograd path of conv2d / conv_transpose2d (functions/_winograd.py) against
PyTorch and against the im2col path: values, first- and second-order gradients, float32, and
which layers take it."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.autograd import grad, gradcheck, gradgradcheck
from glassgrad.functions import _winograd, convolution
from tests.functions.test_convolution import _assert_match, _run_both


@pytest.fixture
def always(monkeypatch):
    """Every layer whose kernel is twice its stride takes the path, however small."""
    monkeypatch.setattr(_winograd, "MIN_PHASE_CHANNELS", 1)
    monkeypatch.setattr(_winograd, "MIN_OUT_CHANNELS", 1)
    monkeypatch.setattr(_winograd, "MIN_MACS", 0)
    monkeypatch.setattr(_winograd, "MAX_BLAS_THREADS", 1 << 30)


@pytest.fixture
def one_thread(monkeypatch):
    """NumPy's BLAS seen as running on one thread (the labs' setting), whatever this machine has."""
    monkeypatch.setattr(_winograd, "blas_threads", lambda: 1)


@pytest.fixture
def calls(monkeypatch):
    """Counts of the path's three products, by name."""
    counts = {"conv2d": 0, "conv_transpose2d": 0, "conv2d_grad_weight": 0}
    for name in counts:
        original = getattr(_winograd, name)

        def counted(*args, _name=name, _original=original, **kwargs):
            counts[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(_winograd, name, counted)
    return counts


@st.composite
def configs(draw, transposed: bool):
    """A conv2d or conv_transpose2d call with a kernel of twice the stride (per dimension)."""
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    kernel = tuple(2 * s for s in stride)
    pad = tuple(draw(st.integers(0, k - 1)) for k in kernel)
    cin, cout, n = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    if transposed:
        out_pad = tuple(draw(st.integers(0, s - 1)) for s in stride)
        hw = []
        for s, k, p, op in zip(stride, kernel, pad, out_pad):
            lo = 1  # the output (h-1)s - 2p + k + op must be at least 1
            while (lo - 1) * s - 2 * p + k + op < 1:
                lo += 1
            hw.append(lo + draw(st.integers(0, 6)))
        return dict(x=(n, cin, *hw), w=(cin, cout, *kernel), bias=draw(st.booleans()),
                    kw=dict(stride=stride, padding=pad, output_padding=out_pad))
    hw = [max(1, k - 2 * p) + draw(st.integers(0, 9)) for k, p in zip(kernel, pad)]
    return dict(x=(n, cin, *hw), w=(cout, cin, *kernel), bias=draw(st.booleans()),
                kw=dict(stride=stride, padding=pad))


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(configs(transposed=False))
def test_conv2d_matches_torch(always, calls, cfg):
    got, want = _run_both("conv2d", cfg, np.float64)
    _assert_match(got, want, rtol=1e-10, atol=1e-10)
    assert calls["conv2d"] and calls["conv_transpose2d"] and calls["conv2d_grad_weight"]


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(configs(transposed=True))
def test_conv_transpose2d_matches_torch(always, calls, cfg):
    got, want = _run_both("conv_transpose2d", cfg, np.float64)
    _assert_match(got, want, rtol=1e-10, atol=1e-10)
    assert calls["conv2d"] and calls["conv_transpose2d"] and calls["conv2d_grad_weight"]


@pytest.mark.parametrize("op, cfg", [
    ("conv2d", dict(x=(3, 5, 14, 13), w=(6, 5, 4, 4), bias=True, kw=dict(stride=2, padding=1))),
    ("conv2d", dict(x=(2, 4, 9, 12), w=(3, 4, 2, 6), bias=False, kw=dict(stride=(1, 3), padding=(1, 2)))),
    ("conv_transpose2d", dict(x=(3, 6, 7, 7), w=(6, 4, 4, 4), bias=True,
                              kw=dict(stride=2, padding=1, output_padding=1))),
])
def test_float32_matches_torch(always, op, cfg):
    got, want = _run_both(op, cfg, np.float32)
    _assert_match(got, want, rtol=1e-4, atol=1e-4)
    assert all(v.dtype == np.float32 for v in got.values())


def test_finite_differences(always):
    rng = np.random.default_rng(0)
    x = gg.tensor(rng.standard_normal((2, 2, 6, 5)), requires_grad=True)
    w = gg.tensor(rng.standard_normal((3, 2, 4, 4)), requires_grad=True)
    b = gg.tensor(rng.standard_normal(3), requires_grad=True)

    def conv(x, w, b):
        return F.conv2d(x, w, b, stride=2, padding=1)

    assert gradcheck(conv, (x, w, b))
    assert gradgradcheck(conv, (x, w, b))
    wt = gg.tensor(rng.standard_normal((2, 3, 4, 2)), requires_grad=True)

    def conv_t(x, w):
        return F.conv_transpose2d(x, w, stride=(2, 1), padding=(1, 0), output_padding=(1, 0))

    assert gradcheck(conv_t, (x, wt))
    assert gradgradcheck(conv_t, (x, wt))


def _dcgan_arrays(dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((8, 64, 14, 14)).astype(dtype)
    w = (rng.standard_normal((128, 64, 4, 4)) * 0.05).astype(dtype)
    return x, w


def test_dcgan_layers_take_the_path_by_default(calls, one_thread):
    """D's Conv(64, 128, 4, 2, 1) on 14x14 and G's ConvT(128, 64, 4, 2, 1) on 7x7, batch 64:
    every product goes through the path; a first layer (1 input channel) and a 3x3 layer don't."""
    x, w = _dcgan_arrays(np.float32)
    x = gg.tensor(np.concatenate([x] * 8), requires_grad=True)
    w = gg.tensor(w, requires_grad=True)
    F.conv2d(x, w, stride=2, padding=1).sum().backward()
    assert calls == {"conv2d": 1, "conv_transpose2d": 1, "conv2d_grad_weight": 1}
    z = gg.tensor(np.ones((64, 128, 7, 7), np.float32), requires_grad=True)
    F.conv_transpose2d(z, w, stride=2, padding=1).sum().backward()
    assert calls == {"conv2d": 2, "conv_transpose2d": 2, "conv2d_grad_weight": 2}
    F.conv2d(gg.tensor(np.ones((64, 1, 28, 28), np.float32)), gg.tensor(np.ones((64, 1, 4, 4), np.float32)),
             stride=2, padding=1)
    F.conv2d(x, gg.tensor(np.ones((128, 64, 3, 3), np.float32)), stride=2, padding=1)
    assert calls["conv2d"] == 2


@pytest.mark.parametrize("kw, ok", [
    (dict(stride=(2, 2), padding=((1, 1), (1, 1)), dilation=(1, 1), groups=1), True),
    (dict(stride=(2, 2), padding=((0, 0), (3, 3)), dilation=(1, 1), groups=1), True),
    (dict(stride=(2, 2), padding=((1, 1), (1, 1)), dilation=(2, 2), groups=1), False),
    (dict(stride=(2, 2), padding=((1, 1), (1, 1)), dilation=(1, 1), groups=2), False),
    (dict(stride=(2, 1), padding=((1, 1), (1, 1)), dilation=(1, 1), groups=1), False),
])
def test_rule(kw, ok, one_thread):
    assert _winograd.applies((64, 64, 14, 14), (128, 64, 4, 4), out_hw=(7, 7), **kw) is ok


def test_more_blas_threads_keep_im2col(monkeypatch):
    """On two BLAS threads the one big im2col product splits better than 25 small ones."""
    rule = dict(stride=(2, 2), padding=((1, 1), (1, 1)), dilation=(1, 1), groups=1)
    monkeypatch.setattr(_winograd, "blas_threads", lambda: 2)
    assert not _winograd.applies((64, 64, 14, 14), (128, 64, 4, 4), out_hw=(7, 7), **rule)
    monkeypatch.setattr(_winograd, "blas_threads", lambda: 1)
    assert _winograd.applies((64, 64, 14, 14), (128, 64, 4, 4), out_hw=(7, 7), **rule)


def test_blas_threads_follows_the_limit():
    from threadpoolctl import threadpool_limits

    from glassgrad._threads import blas_threads, get_num_threads

    assert blas_threads() == get_num_threads()
    with threadpool_limits(1, user_api="blas"):
        assert blas_threads() == 1


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 5e-5)])
def test_agrees_with_the_im2col_path(monkeypatch, dtype, tol, one_thread):
    """The three products of the DCGAN layer by both paths (relative to the largest value)."""
    x, w = _dcgan_arrays(dtype)
    geom = convolution.Geometry((2, 2), ((1, 1), (1, 1)), (1, 1), 1)
    gy = np.random.default_rng(1).standard_normal((8, 128, 7, 7)).astype(dtype)
    results = []
    for min_macs in (0, 10 ** 18):  # Winograd, then im2col
        monkeypatch.setattr(_winograd, "MIN_MACS", min_macs)
        assert convolution._winograd_path(x.shape, 128, (4, 4), (7, 7), geom) is (min_macs == 0)
        y, _ = convolution._conv2d(x, w, geom, (7, 7))
        gx = convolution._conv_transpose2d(gy, w, geom, (14, 14))
        gw = convolution._conv2d_grad_weight(x, gy, geom, (4, 4))
        results.append((y, gx, gw))
    for a, b in zip(*results):
        assert a.dtype == dtype
        assert np.abs(a - b).max() <= tol * np.abs(b).max()


def test_gradient_penalty_through_the_path(always):
    """WGAN-GP's double backward through a critic whose conv takes the path."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 2, 10, 10))
    w1, w2 = rng.standard_normal((4, 2, 4, 4)) * 0.3, rng.standard_normal((1, 4 * 5 * 5)) * 0.3
    grads = []
    for lib, f, autograd_grad in ((gg, F, grad), (torch, TF, torch.autograd.grad)):
        xt = lib.tensor(x, requires_grad=True)
        w1t, w2t = lib.tensor(w1, requires_grad=True), lib.tensor(w2, requires_grad=True)
        score = (f.leaky_relu(f.conv2d(xt, w1t, stride=2, padding=1), 0.2).reshape(3, -1) @ w2t.T).sum()
        (gx,) = autograd_grad(score, [xt], create_graph=True)
        penalty = ((gx.reshape(3, -1).norm(dim=1) - 1) ** 2).mean()
        grads.append([g.detach().numpy() for g in autograd_grad(penalty, [w1t, w2t])])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)
