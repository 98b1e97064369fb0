"""Activations against PyTorch: values, gradients and second-order gradients, and the
conventions at their kinks."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from tests.oracle import ORACLE, assert_same_grads, away_from_zero, check, seeds, shapes, uniform


def _wide(rng, shape):
    return uniform(rng, shape, -6.0, 6.0)


# name -> (fn(lib, x), data, exact?)
ELEMENTWISE = {
    "tanh": (lambda m, x: m.tanh(x), uniform, False),
    "tanh_method": (lambda m, x: x.tanh(), uniform, False),
    "sigmoid": (lambda m, x: m.sigmoid(x), _wide, False),
    "relu": (lambda m, x: m.relu(x), away_from_zero, True),
    "relu_F": (lambda m, x: m.nn.functional.relu(x) * x, away_from_zero, True),
    "leaky_relu": (lambda m, x: m.nn.functional.leaky_relu(x) * x, away_from_zero, True),
    "leaky_relu_slope": (lambda m, x: m.nn.functional.leaky_relu(x, 0.2) * x, away_from_zero, True),
    "gelu": (lambda m, x: m.nn.functional.gelu(x), _wide, False),
    "gelu_tanh": (lambda m, x: m.nn.functional.gelu(x, approximate="tanh"), _wide, False),
    "softplus": (lambda m, x: m.nn.functional.softplus(x), _wide, False),
    "softplus_beta": (lambda m, x: m.nn.functional.softplus(x, beta=2.0, threshold=5.0), _wide, False),
    "softplus_linear_region": (lambda m, x: m.nn.functional.softplus(x * 10.0, threshold=8.0),
                               away_from_zero, False),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
@ORACLE
@given(shape=shapes(), seed=seeds)
def test_elementwise(name, shape, seed):
    fn, data, exact = ELEMENTWISE[name]
    check(fn, [data(np.random.default_rng(seed), shape)], exact=exact, seed=seed)


SOFTMAXES = {
    "softmax": lambda m, x, d: m.softmax(x, dim=d),
    "log_softmax": lambda m, x, d: m.log_softmax(x, dim=d),
    "F.softmax": lambda m, x, d: m.nn.functional.softmax(x, dim=d),
    "F.log_softmax": lambda m, x, d: m.nn.functional.log_softmax(x, d),
    "method": lambda m, x, d: x.softmax(d) * x.log_softmax(d),
}


@pytest.mark.parametrize("name", SOFTMAXES)
@ORACLE
@given(shape=shapes(min_dims=1), data=st.data(), seed=seeds)
def test_softmax(name, shape, data, seed):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    x = uniform(np.random.default_rng(seed), shape, -5.0, 5.0)
    check(lambda m, t: SOFTMAXES[name](m, t, dim), [x], seed=seed)


def test_softmax_does_not_overflow():
    x = gg.tensor([[1000.0, 0.0, -1000.0]], dtype=gg.float64)
    np.testing.assert_allclose(gg.softmax(x, 1).numpy(), [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(gg.log_softmax(x, 1).numpy(), [[0.0, -1000.0, -2000.0]])


def test_softmax_needs_dim():
    with pytest.raises(TypeError, match="dim"):
        gg.softmax(gg.ones(2, 3))


def test_relu_gradient_at_zero_is_zero():
    x = [-1.0, 0.0, 2.0]
    assert_same_grads(lambda m, a: m.relu(a), x)
    assert_same_grads(lambda m, a: m.nn.functional.leaky_relu(a, 0.1), x)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        gg.nn.functional.gelu(gg.ones(2), approximate="fast")


def test_relu_special_values_and_dtypes():
    # max(x, 0) elementwise: NaN stays NaN, -inf and -0.0 give 0, ints stay ints (as in PyTorch)
    import torch

    values = [float("nan"), float("-inf"), float("inf"), -0.0, 0.0, -2.5, 3.0]
    for dtype in ("float32", "float64"):
        got = gg.relu(gg.tensor(values, dtype=getattr(gg, dtype))).numpy()
        want = torch.relu(torch.tensor(values, dtype=getattr(torch, dtype))).numpy()
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    got = gg.relu(gg.tensor([-3, 0, 4])).numpy()
    assert got.dtype == np.int64 and got.tolist() == [0, 0, 4]


@pytest.mark.parametrize("slope", [0.2, 0.1, 0.0, 1.0, 3.0, -0.5, 1e10, float("inf")])
def test_leaky_relu_slopes_special_values_and_dtypes(slope):
    """Every kind of slope (the forward takes max(x, slope x) for slope <= 1, the min above 1,
    and where() for 0 and inf; the backward's factor [x > 0] (1 - slope) + slope is exact except for
    huge slopes such as 1e10, which take another way), at special values, as PyTorch; gradients
    exactly slope or 1."""
    import torch

    values = [float("nan"), float("-inf"), float("inf"), 0.0, -2.5, 3.0, 1e-30, -1e-30]
    for dtype in ("float32", "float64"):
        x = gg.tensor(values, dtype=getattr(gg, dtype), requires_grad=True)
        tx = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
        y, ty = gg.nn.functional.leaky_relu(x, slope), torch.nn.functional.leaky_relu(tx, slope)
        assert y.dtype == x.dtype
        np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
        y.sum().backward()
        ty.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    scalar = gg.tensor(-2.0, requires_grad=True)  # 0-d
    out = gg.nn.functional.leaky_relu(scalar, 0.5)
    out.backward()
    assert out.item() == -1.0 and scalar.grad.item() == 0.5
