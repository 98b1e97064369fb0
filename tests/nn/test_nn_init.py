"""Initializations: the ranges and spreads of the draws (statistical bounds on large tensors),
the gains, reproducibility under manual_seed, and the layers' default initialization."""

import math

import numpy as np
import pytest
import scipy.stats
import torch

import glassgrad as gg
from glassgrad import nn
from glassgrad.nn import init

N_OUT, N_IN = 400, 300  # 120,000 draws: the sample std is within ~0.5% of the true one


def _w(*shape, dtype=gg.float32):
    return gg.empty(*shape, dtype=dtype)


def _check_uniform(a, bound):
    assert a.min() >= -bound and a.max() <= bound
    assert a.max() > 0.99 * bound and a.min() < -0.99 * bound  # fills the whole range
    np.testing.assert_allclose(a.std(), bound / math.sqrt(3), rtol=0.01)
    assert abs(a.mean()) < 0.01 * bound


def _check_normal(a, std):
    np.testing.assert_allclose(a.std(), std, rtol=0.01)
    assert abs(a.mean()) < 0.01 * std


@pytest.mark.parametrize(
    "nonlinearity,a,gain",
    [
        ("relu", 0, math.sqrt(2)),
        ("leaky_relu", 0.2, math.sqrt(2 / 1.04)),
        ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
        ("tanh", 0, 5 / 3),
        ("linear", 0, 1.0),
        ("sigmoid", 0, 1.0),
    ],
)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming(nonlinearity, a, gain, mode):
    fan = N_IN if mode == "fan_in" else N_OUT
    assert init.calculate_gain(nonlinearity, a) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, a)
    )
    w = init.kaiming_uniform_(_w(N_OUT, N_IN), a=a, mode=mode, nonlinearity=nonlinearity)
    _check_uniform(w._data, math.sqrt(3) * gain / math.sqrt(fan))
    w = init.kaiming_normal_(_w(N_OUT, N_IN), a=a, mode=mode, nonlinearity=nonlinearity)
    _check_normal(w._data, gain / math.sqrt(fan))


def test_xavier_and_conv_fans():
    w = init.xavier_uniform_(_w(N_OUT, N_IN), gain=2.0)
    _check_uniform(w._data, 2.0 * math.sqrt(6 / (N_IN + N_OUT)))
    w = init.xavier_normal_(_w(N_OUT, N_IN))
    _check_normal(w._data, math.sqrt(2 / (N_IN + N_OUT)))
    # a conv weight (out, in, kh, kw): fans multiply by the kernel size
    conv = _w(64, 32, 5, 5)
    assert init._calculate_fan_in_and_fan_out(conv) == torch.nn.init._calculate_fan_in_and_fan_out(
        torch.empty(64, 32, 5, 5)
    )
    init.kaiming_normal_(conv, nonlinearity="relu")
    _check_normal(conv._data, math.sqrt(2 / (32 * 25)))


def test_simple_fills():
    w = _w(3, 4)
    assert (init.ones_(w)._data == 1).all() and (init.zeros_(w)._data == 0).all()
    assert (init.constant_(w, 0.25)._data == 0.25).all()
    u = init.uniform_(_w(N_OUT, N_IN), -2, 3)._data
    assert u.min() >= -2 and u.max() <= 3 and abs(u.mean() - 0.5) < 0.02
    _check_normal(init.normal_(_w(N_OUT, N_IN), 0.0, 0.3)._data, 0.3)
    t = init.trunc_normal_(_w(N_OUT, N_IN), mean=1.0, std=2.0, a=-1.0, b=2.0)._data
    assert t.min() >= -1.0 and t.max() <= 2.0
    truncated = scipy.stats.truncnorm((-1.0 - 1.0) / 2.0, (2.0 - 1.0) / 2.0, loc=1.0, scale=2.0)
    np.testing.assert_allclose([t.mean(), t.std()], [truncated.mean(), truncated.std()], rtol=0.01)


def test_init_works_in_float64_and_keeps_requires_grad():
    p = nn.Parameter(_w(10, 10, dtype=gg.float64))
    init.kaiming_uniform_(p)
    assert p.dtype == gg.float64 and p.requires_grad and p.grad_fn is None


def test_reproducible_under_manual_seed_and_generator():
    gg.manual_seed(42)
    a = nn.Linear(20, 10)
    gg.manual_seed(42)
    b = nn.Linear(20, 10)
    np.testing.assert_array_equal(a.weight._data, b.weight._data)
    np.testing.assert_array_equal(a.bias._data, b.bias._data)
    c = nn.Linear(20, 10)
    assert not np.array_equal(a.weight._data, c.weight._data)
    g1, g2 = gg.Generator(7), gg.Generator(7)
    x = init.normal_(_w(5, 5), generator=g1)._data.copy()
    gg.manual_seed(0)
    y = init.normal_(_w(5, 5), generator=g2)._data
    np.testing.assert_array_equal(x, y)


def test_linear_default_init_matches_torch_distribution():
    lin = nn.Linear(N_IN, N_OUT)
    bound = 1 / math.sqrt(N_IN)  # kaiming_uniform_ with a = sqrt(5) gives U(-1/sqrt(in), 1/sqrt(in))
    _check_uniform(lin.weight._data, bound)
    b = nn.Linear(N_IN, 20000).bias._data
    assert b.min() >= -bound and b.max() <= bound and b.max() > 0.99 * bound
    bn, ln = nn.BatchNorm1d(5), nn.LayerNorm(5)
    for p, v in (
        (bn.weight, 1),
        (bn.bias, 0),
        (bn.running_mean, 0),
        (bn.running_var, 1),
        (ln.weight, 1),
        (ln.bias, 0),
    ):
        assert (p._data == v).all()


def test_init_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(_w(5))
    with pytest.raises(ValueError, match="mode must be"):
        init.kaiming_uniform_(_w(3, 3), mode="fan")
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")
