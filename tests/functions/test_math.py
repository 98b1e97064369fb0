"""Elementwise math against PyTorch: values, gradients and second-order gradients on random
broadcastable shapes, the conventions at kinks and ties, and broadcasting errors."""

import numpy as np
import pytest
import torch
from hypothesis import given

import glassgrad as gg
from tests.oracle import (
    ORACLE,
    assert_same_grads,
    away_from_zero,
    broadcastable,
    check,
    grads_of,
    seeds,
    shapes,
    uniform,
)

# name -> (fn(lib, a, b), data for a, data for b, exact?)
BINARY = {
    "add": (lambda m, a, b: a + b, uniform, uniform, True),
    "add_alpha": (lambda m, a, b: m.add(a, b, alpha=2.5), uniform, uniform, True),
    "sub": (lambda m, a, b: a - b, uniform, uniform, True),
    "sub_alpha": (lambda m, a, b: m.sub(a, b, alpha=-0.5), uniform, uniform, True),
    "mul": (lambda m, a, b: a * b, uniform, uniform, True),
    "div": (lambda m, a, b: a / b, uniform, away_from_zero, False),
    "pow": (lambda m, a, b: a**b, lambda r, s: uniform(r, s, 0.2, 2.0), uniform, False),
    "maximum": (lambda m, a, b: m.maximum(a, b), uniform, uniform, True),
    "minimum": (lambda m, a, b: m.minimum(a, b), uniform, uniform, True),
    "clamp_tensor_bounds": (lambda m, a, b: m.clamp(a, min=b - 0.5, max=b + 0.5), uniform, uniform, True),
}


@pytest.mark.parametrize("name", BINARY)
@ORACLE
@given(shape_pair=broadcastable(2), seed=seeds)
def test_binary(name, shape_pair, seed):
    fn, data_a, data_b, exact = BINARY[name]
    rng = np.random.default_rng(seed)
    check(fn, [data_a(rng, shape_pair[0]), data_b(rng, shape_pair[1])], exact=exact, seed=seed)


# name -> (fn(lib, a), data, exact?)
UNARY = {
    "neg": (lambda m, a: -a, uniform, True),
    "exp": (lambda m, a: m.exp(a), uniform, False),
    "log": (lambda m, a: m.log(a), lambda r, s: uniform(r, s, 0.1, 3.0), False),
    "sqrt": (lambda m, a: m.sqrt(a), lambda r, s: uniform(r, s, 0.1, 3.0), False),
    "abs": (lambda m, a: m.abs(a), away_from_zero, True),
    "sin": (lambda m, a: m.sin(a), uniform, False),
    "cos": (lambda m, a: m.cos(a), uniform, False),
    "erf": (lambda m, a: m.erf(a), uniform, False),
    "add_scalar": (lambda m, a: a + 2.5, uniform, True),
    "rsub_scalar": (lambda m, a: 2.5 - a, uniform, True),
    "mul_scalar": (lambda m, a: a * -3, uniform, True),
    "rdiv_scalar": (lambda m, a: 3.0 / a, away_from_zero, False),
    "div_scalar": (lambda m, a: a / 4.0, uniform, False),
    "square": (lambda m, a: a**2, uniform, True),
    "cube": (lambda m, a: a**3, uniform, False),
    "pow_half": (lambda m, a: a**0.5, lambda r, s: uniform(r, s, 0.1, 3.0), False),
    "pow_negative": (lambda m, a: a**-1.5, lambda r, s: uniform(r, s, 0.2, 3.0), False),
    "pow_zero": (lambda m, a: a**0, uniform, True),
    "rpow": (lambda m, a: 2.0**a, uniform, False),
    "clamp_both": (lambda m, a: m.clamp(a, -0.5, 0.7), uniform, True),
    "clamp_min": (lambda m, a: m.clamp(a, min=0.3), uniform, True),
    "clamp_max": (lambda m, a: a.clamp(max=-0.2), uniform, True),
    "composite": (lambda m, a: m.sin(a) * m.exp(-a * a) / (1.0 + a * a), uniform, False),
}


@pytest.mark.parametrize("name", UNARY)
@ORACLE
@given(shape=shapes(), seed=seeds)
def test_unary(name, shape, seed):
    fn, data, exact = UNARY[name]
    check(fn, [data(np.random.default_rng(seed), shape)], exact=exact, seed=seed)


@ORACLE
@given(shape_triple=broadcastable(3), seed=seeds)
def test_where(shape_triple, seed):
    rng = np.random.default_rng(seed)
    cond = rng.random(shape_triple[0]) < 0.5

    def fn(m, a, b):
        return m.where(m.tensor(cond), a, b)

    check(fn, [uniform(rng, shape_triple[1]), uniform(rng, shape_triple[2])], exact=True, seed=seed)


@ORACLE
@given(shape=shapes(), seed=seeds)
def test_where_with_scalar(shape, seed):
    rng = np.random.default_rng(seed)
    cond = rng.random(shape) < 0.5
    check(lambda m, a: m.where(m.tensor(cond), a, 0.0) + m.where(m.tensor(cond), 1.5, a * a),
          [uniform(rng, shape)], exact=True, seed=seed)


# -- conventions at kinks and ties, by hand, against torch -----------------------------------


def test_maximum_minimum_split_ties_in_half():
    a = [1.0, 2.0, 3.0, -1.0]
    b = [1.0, 0.0, 3.0, 5.0]
    for op in ("maximum", "minimum"):
        assert_same_grads(lambda m, x, y, op=op: getattr(m, op)(x, y), a, b)
        ga, gb = (g.tolist() for g in grads_of(gg, lambda m, x, y, op=op: getattr(m, op)(x, y), [a, b]))
        assert ga[0] == gb[0] == 0.5 and ga[2] == gb[2] == 0.5


def test_maximum_tie_with_broadcasting():
    assert_same_grads(lambda m, x, y: m.maximum(x, y), [[1.0, 2.0], [2.0, 2.0]], [2.0])


def test_abs_gradient_at_zero_is_zero():
    assert_same_grads(lambda m, x: m.abs(x), [-1.0, 0.0, 2.0])


def test_clamp_bounds_are_inclusive():
    x = [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert_same_grads(lambda m, a: m.clamp(a, -0.5, 0.5), x)
    assert_same_grads(lambda m, a: m.clamp(a, min=-0.5), x)
    assert_same_grads(lambda m, a: m.clamp(a, max=0.5), x)


def test_clamp_tensor_bounds_at_ties_like_torch():
    # torch gives the whole gradient to the input where it equals a bound, and to max where
    # min > max (the last element)
    x = [1.0, 2.0, 0.0, 3.0, 2.0]
    lo = [1.0, 0.0, 0.5, 0.0, 3.0]
    hi = [4.0, 2.0, 4.0, 2.5, 1.0]
    assert_same_grads(lambda m, a, b, c: m.clamp(a, min=b, max=c), x, lo, hi)
    assert_same_grads(lambda m, a, b: m.clamp(a, min=b), x, lo)
    assert_same_grads(lambda m, a, c: m.clamp(a, max=c), x, hi)


def test_clamp_of_integers_with_float_bound_promotes_like_torch():
    got = gg.clamp(gg.tensor([1, 2, 3]), min=1.5)
    ref = torch.clamp(torch.tensor([1, 2, 3]), min=1.5)
    assert got.dtype == gg.float32
    np.testing.assert_array_equal(got.numpy(), ref.numpy())
    assert gg.clamp(gg.tensor([1, 2, 3]), 0, 2).dtype == gg.int64


def test_pow_gradient_at_zero_base_and_zero_exponent():
    # torch: d(a ** b)/da is 0 where b == 0 (even at a == 0), d/db is 0 where a == 0 and b >= 0
    a = [0.0, 0.0, 1.5, 0.0]
    b = [0.0, 2.0, 0.0, 0.5]
    assert_same_grads(lambda m, x, y: x**y, a, b)
    # and the double backward where b == 0 (away from a == 0, where torch's is NaN)
    check(lambda m, x, y: x**y, [np.array([1.5, 2.0, 0.7]), np.array([0.0, 1.0, 0.0])])


def test_pow_scalar_base_on_integer_tensor_promotes():
    t = gg.tensor([1, 2])
    got = 2.5**t
    ref = 2.5 ** torch.tensor([1, 2])
    assert got.dtype == gg.float32
    np.testing.assert_allclose(got.numpy(), ref.numpy())
    assert (2**t).dtype == gg.int64 and (2**t).tolist() == [2, 4]


@pytest.mark.parametrize("exponent", [2, 3, -1, 0.5])
def test_pow_integer_tensor_by_scalar(exponent):
    base = [1, 2, 4]
    if exponent == -1:  # integers to negative integer powers are refused by both
        with pytest.raises((RuntimeError, ValueError)):
            gg.tensor(base) ** exponent
        return
    got, ref = gg.tensor(base) ** exponent, torch.tensor(base) ** exponent
    assert str(got.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    np.testing.assert_allclose(got.numpy(), ref.numpy())


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "minimum", "pow"])
def test_broadcast_mismatch_names_op_and_shapes(op):
    with pytest.raises(RuntimeError, match=rf"{op}.*\(2, 3\).*\(4,\)"):
        getattr(gg, op)(gg.ones(2, 3), gg.ones(4))


def test_broadcast_mismatch_in_operator_and_where():
    with pytest.raises(RuntimeError, match=r"add.*\(2, 3\).*\(4,\)"):
        gg.ones(2, 3) + gg.ones(4)
    with pytest.raises(RuntimeError, match=r"where.*\(2, 3\).*\(4,\)"):
        gg.where(gg.ones(2, 3) > 0, gg.ones(3), gg.ones(4))


def test_where_refuses_non_bool_condition():
    with pytest.raises(TypeError, match="bool"):
        gg.where(gg.ones(2), gg.ones(2), gg.zeros(2))


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="min and max"):
        gg.clamp(gg.ones(2))


def test_integer_math_computes_in_default_float():
    for name in ("exp", "log", "sqrt", "sin", "cos"):
        got = getattr(gg, name)(gg.tensor([1, 2, 3]))
        ref = getattr(torch, name)(torch.tensor([1, 2, 3]))
        assert got.dtype == gg.float32
        np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-6)
