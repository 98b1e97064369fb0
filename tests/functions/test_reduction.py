"""Reductions against PyTorch: sum, mean, max/min (with indices), amax/amin, var/std,
logsumexp, argmax; values, gradients, second-order gradients, and the tie conventions."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from tests.oracle import ORACLE, assert_same_grads, check, check_values, grads_of, seeds, shapes, uniform


@st.composite
def shape_and_dims(draw, min_dims=1, max_dims=3):
    """A shape and a dim argument for it: None, one dim (maybe negative) or a tuple of dims."""
    shape = draw(shapes(min_dims=min_dims, max_dims=max_dims))
    nd = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none" or nd == 0:
        return shape, None
    if kind == "int":
        return shape, draw(st.integers(-nd, nd - 1))
    dims = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
    return shape, tuple(d - nd if draw(st.booleans()) else d for d in dims)


def _reduce_kwargs(m, dim, keepdim):
    if dim is None:
        return {}
    return {"dim": dim, "keepdim": keepdim}


@pytest.mark.parametrize("op", ["sum", "mean", "amax", "amin"])
@ORACLE
@given(sd=shape_and_dims(min_dims=0), keepdim=st.booleans(), seed=seeds)
def test_sum_mean_amax_amin(op, sd, keepdim, seed):
    shape, dim = sd
    x = uniform(np.random.default_rng(seed), shape)

    def fn(m, t):
        kw = _reduce_kwargs(m, dim, keepdim)
        if op in ("amax", "amin") and dim is None:
            return getattr(m, op)(t) * t.sum()
        return getattr(t, op)(**kw) * getattr(m, op)(t * t, **kw)

    check(fn, [x], exact=op != "mean", seed=seed)


@pytest.mark.parametrize("op", ["max", "min"])
@ORACLE
@given(shape=shapes(min_dims=1), data=st.data(), keepdim=st.booleans(), seed=seeds)
def test_max_min_along_dim_with_indices(op, shape, data, keepdim, seed):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    x = uniform(np.random.default_rng(seed), shape)

    def fn(m, t):
        values, indices = getattr(m, op)(t * t, dim, keepdim=keepdim)
        return values, indices

    check(fn, [x], exact=True, seed=seed)

    def method(m, t):
        r = getattr(t, op)(dim=dim, keepdim=keepdim)
        return r.values * 2.0, r.indices

    check(method, [x], exact=True, seed=seed)


@pytest.mark.parametrize("op", ["max", "min"])
@ORACLE
@given(shape=shapes(min_dims=0), seed=seeds)
def test_max_min_full_reduction(op, shape, seed):
    x = uniform(np.random.default_rng(seed), shape)
    check(lambda m, t: getattr(m, op)(t) * getattr(t, op)(), [x], exact=True, seed=seed)


@pytest.mark.parametrize("op", ["var", "std"])
@ORACLE
@given(sd=shape_and_dims(), keepdim=st.booleans(), correction=st.sampled_from([None, 0, 1, 2]),
       seed=seeds)
def test_var_std_correction(op, sd, keepdim, correction, seed):
    shape, dim = sd
    x = uniform(np.random.default_rng(seed), (shape[0] + 2,) + shape[1:])  # N > correction

    def fn(m, t):
        kw = {} if correction is None else {"correction": correction}
        if dim is not None:
            kw.update(dim=dim, keepdim=keepdim)
        return getattr(t, op)(**kw)

    check(fn, [x], seed=seed)


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("unbiased", [True, False])
def test_var_std_unbiased_flag(op, unbiased):
    x = uniform(np.random.default_rng(3), (4, 5))
    check(lambda m, t: getattr(m, op)(t, 1, unbiased=unbiased, keepdim=True), [x])
    check(lambda m, t: getattr(t, op)(unbiased=unbiased), [x])


def test_std_gradient_is_zero_where_std_is_zero_like_torch():
    # sqrt has an infinite slope at 0; torch defines std's gradient there as 0
    x = [[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]
    assert_same_grads(lambda m, t: m.std(t, 1), x)
    assert_same_grads(lambda m, t: t.std(1, correction=0), x)
    check(lambda m, t: m.std(t, 1), [np.array(x)])
    check(lambda m, t: m.std(t, 1, correction=0), [np.array([[2.0], [3.0]])])  # a single value


@ORACLE
@given(sd=shape_and_dims(), keepdim=st.booleans(), seed=seeds)
def test_logsumexp(sd, keepdim, seed):
    shape, dim = sd
    dim = tuple(range(len(shape))) if dim is None else dim
    x = uniform(np.random.default_rng(seed), shape, -5.0, 5.0)
    check(lambda m, t: m.logsumexp(t, dim, keepdim=keepdim), [x], seed=seed)


def test_logsumexp_does_not_overflow():
    x = gg.tensor([1000.0, 1000.0], dtype=gg.float64)
    np.testing.assert_allclose(gg.logsumexp(x, 0).item(), 1000.0 + np.log(2.0))


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@ORACLE
@given(shape=shapes(min_dims=1), data=st.data(), keepdim=st.booleans(), seed=seeds)
def test_argmax_argmin(op, shape, data, keepdim, seed):
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)), label="dim")
    x = uniform(np.random.default_rng(seed), shape)
    if dim is None:
        check_values(lambda m, t: getattr(m, op)(t), [x])
    else:
        check_values(lambda m, t: getattr(t, op)(dim, keepdim=keepdim), [x])


def test_max_min_argmax_of_a_zero_dim_tensor_along_dim_0():
    check(lambda m, t: m.max(t * t, 0), [np.array(1.5)])
    check(lambda m, t: m.min(t * t, -1, keepdim=True), [np.array(1.5)])
    check_values(lambda m, t: (m.argmax(t, 0), m.argmin(t, -1, keepdim=True)), [np.array(1.5)])
    with pytest.raises(IndexError, match="dim 1"):
        gg.max(gg.tensor(1.0), 1)


def test_argmax_of_tensor_requiring_grad_has_no_grad():
    x = gg.randn(3, 4, requires_grad=True)
    assert not gg.argmax(x, 1).requires_grad
    assert gg.argmax(x, 1).dtype == gg.int64


def test_integer_and_bool_sums_are_int64():
    for data in ([1, 2, 3], [True, False, True]):
        got = gg.tensor(data).sum()
        ref = torch.tensor(data).sum()
        assert got.dtype == gg.int64 and got.item() == ref.item()
    u8 = gg.tensor(np.array([200, 100], dtype=np.uint8))
    assert u8.sum().item() == 300 and u8.sum().dtype == gg.int64


# -- tie conventions, against torch -------------------------------------------------------------


def test_max_full_reduction_splits_ties_evenly():
    x = [[1.0, 3.0], [3.0, 2.0], [3.0, 0.0]]
    for op in ("max", "min", "amax", "amin"):
        assert_same_grads(lambda m, t, op=op: getattr(m, op)(t), x)
    (g,) = grads_of(gg, lambda m, t: m.max(t), [x])
    np.testing.assert_allclose(g, [[0, 1 / 3], [1 / 3, 0], [1 / 3, 0]])


def test_amax_along_dim_splits_ties_evenly():
    x = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]
    assert_same_grads(lambda m, t: m.amax(t, 1), x, weights=[1.0, 2.0])
    assert_same_grads(lambda m, t: m.amin(t, 0), x, weights=[1.0, 2.0, 3.0])


def test_max_along_dim_picks_first_tie_like_torch():
    x = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]
    got = gg.max(gg.tensor(x), 1)
    ref = torch.max(torch.tensor(x), 1)
    assert got.indices.tolist() == ref.indices.tolist()
    assert_same_grads(lambda m, t: m.max(t, 1).values, x)
    assert_same_grads(lambda m, t: m.min(t, 1).values, x)


def test_dim_out_of_range():
    with pytest.raises(IndexError, match="dim 2"):
        gg.ones(2, 3).sum(2)


def test_mean_of_integers_refused():
    with pytest.raises(RuntimeError, match="floating"):
        gg.tensor([1, 2]).mean()
