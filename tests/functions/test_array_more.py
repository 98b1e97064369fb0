"""flip, roll, tril, triu and diag against PyTorch: values, first- and second-order gradients,
negative dims and diagonals, integer dtypes, 0-dim and empty tensors, and the errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from tests.functions.exact import same_outputs
from tests.oracle import ORACLE, check, seeds, shapes, uniform


def _weighted(t):
    """These ops only move values: multiply by the input so second order has something to check."""
    return t * t


@ORACLE
@given(shape=shapes(min_dims=0, max_dims=4, min_side=0), data=st.data(), seed=seeds)
def test_flip(shape, data, seed):
    x = uniform(np.random.default_rng(seed), shape)
    n = max(len(shape), 1)
    dims = data.draw(st.lists(st.integers(-n, n - 1), max_size=n, unique_by=lambda d: d % n), label="dims")
    check(lambda m, t: m.flip(_weighted(t), dims), [x], exact=True, seed=seed)
    if dims:  # torch's Tensor.flip needs at least one dim
        check(lambda m, t: _weighted(t).flip(*dims), [x], exact=True, seed=seed)


@ORACLE
@given(shape=shapes(min_dims=0, max_dims=3, min_side=0), data=st.data(), seed=seeds)
def test_roll(shape, data, seed):
    x = uniform(np.random.default_rng(seed), shape)
    n = max(len(shape), 1)
    shift = data.draw(st.integers(-7, 7), label="shift")
    check(lambda m, t: m.roll(_weighted(t), shift), [x], exact=True, seed=seed)  # the flattened tensor
    if not shape:
        return  # 0-dim: no dims to roll along (an error, tested below)
    dims = data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=3), label="dims")  # repeats add
    shifts = data.draw(st.lists(st.integers(-5, 5), min_size=len(dims), max_size=len(dims)), label="shifts")
    check(lambda m, t: m.roll(_weighted(t), tuple(shifts), tuple(dims)), [x], exact=True, seed=seed)
    check(lambda m, t: _weighted(t).roll(shifts[0], dims[0]), [x], exact=True, seed=seed)


@ORACLE
@given(shape=shapes(min_dims=2, max_dims=4, min_side=0), diagonal=st.integers(-5, 5), seed=seeds)
def test_tril_triu(shape, diagonal, seed):
    x = uniform(np.random.default_rng(seed), shape)
    check(lambda m, t: m.tril(_weighted(t), diagonal), [x], exact=True, seed=seed)
    check(lambda m, t: m.triu(_weighted(t), diagonal), [x], exact=True, seed=seed)
    check(lambda m, t: _weighted(t).tril(), [x], exact=True, seed=seed)
    check(lambda m, t: _weighted(t).triu(diagonal=diagonal), [x], exact=True, seed=seed)


@ORACLE
@given(shape=shapes(min_dims=1, max_dims=2, min_side=0, max_side=5), diagonal=st.integers(-6, 6), seed=seeds)
def test_diag(shape, diagonal, seed):
    x = uniform(np.random.default_rng(seed), shape)
    check(lambda m, t: m.diag(_weighted(t), diagonal), [x], exact=True, seed=seed)
    check(lambda m, t: _weighted(t).diag(), [x], exact=True, seed=seed)
    # the matrix made from a vector and read back (both directions in one graph)
    check(lambda m, t: m.diag(m.diag(_weighted(t).flatten(), diagonal), diagonal), [x], exact=True, seed=seed)


def test_infinite_values_outside_the_triangle_become_zero():
    x = np.array([[1.0, np.inf], [-np.inf, 2.0]])
    check(lambda m, t: m.tril(t), [x], float32=False)
    check(lambda m, t: m.triu(t), [x], float32=False)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_integer_dtypes(dtype):
    x = (np.arange(12).reshape(3, 4) % 5).astype(dtype)
    same_outputs(lambda m, t: m.flip(t, (0, -1)), x)
    same_outputs(lambda m, t: m.roll(t, (1, -2), (0, 1)), x)
    same_outputs(lambda m, t: m.tril(t, -1), x)
    same_outputs(lambda m, t: m.triu(t, 1), x)
    same_outputs(lambda m, t: m.diag(t, 1), x)
    same_outputs(lambda m, t: m.diag(t[0], -2), x)


def test_flip_is_a_copy():
    x = gg.tensor([1.0, 2.0, 3.0])
    y = x.flip(0)
    y[0] = 10.0
    assert x.tolist() == [1.0, 2.0, 3.0]


def test_errors():
    x = gg.ones(2, 3)
    with pytest.raises(RuntimeError, match="flip: dim 1 appears multiple times"):
        x.flip(1, -1)
    with pytest.raises(IndexError, match="flip: dim 2 is out of range for a tensor with 2 dimensions"):
        gg.flip(x, (2,))
    with pytest.raises(RuntimeError, match="roll: shifts and dims must have the same length, got 2 shifts and 1 dims"):
        gg.roll(x, (1, 2), 0)
    with pytest.raises(RuntimeError, match=r"roll: without dims, expected one shift, got shifts \(1, 2\)"):
        gg.roll(x, (1, 2))
    with pytest.raises(IndexError, match="roll: dim -3 is out of range"):
        x.roll(1, -3)
    with pytest.raises(IndexError, match=r"roll: a 0-dim tensor has no dim to roll along, got dims \(0,\)"):
        gg.tensor(1.0).roll(1, 0)
    for op in (gg.tril, gg.triu):
        with pytest.raises(RuntimeError, match=r"at least 2 dimensions, got shape \(3,\)"):
            op(gg.ones(3))
    with pytest.raises(RuntimeError, match=r"diag: expected a 1-D or 2-D tensor, got 3-D of shape \(1, 2, 3\)"):
        gg.diag(gg.ones(1, 2, 3))
