"""sort, argsort and topk against PyTorch: values, indices, gradients (first and second order,
through the gather of the sorted values), ties, NaN, integer inputs and the errors."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from tests.functions.exact import same_outputs
from tests.oracle import ORACLE, check, check_values, seeds, shapes, uniform


def _dim(data, ndim):
    return data.draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1), label="dim")


def _weighted(t):
    """Sorting only moves values: multiply by the input so second order has something to check."""
    return t * t


@ORACLE
@given(shape=shapes(min_dims=0, max_dims=3), data=st.data(), seed=seeds)
def test_sort(shape, data, seed):
    x = uniform(np.random.default_rng(seed), shape, 0.1, 2.0)  # positive: t * t keeps the order
    dim, descending = _dim(data, len(shape)), data.draw(st.booleans(), label="descending")
    check(lambda m, t: m.sort(_weighted(t), dim, descending), [x], seed=seed)
    check(lambda m, t: _weighted(t).sort(dim=dim, descending=descending, stable=True), [x], seed=seed)
    check(lambda m, t: _weighted(t).sort(dim).values, [x], seed=seed)


@ORACLE
@given(shape=shapes(min_dims=0, max_dims=3), data=st.data(), seed=seeds)
def test_argsort(shape, data, seed):
    x = uniform(np.random.default_rng(seed), shape)
    dim, descending = _dim(data, len(shape)), data.draw(st.booleans(), label="descending")
    check_values(lambda m, t: m.argsort(t, dim, descending), [x])
    check_values(lambda m, t: t.argsort(dim=dim, descending=descending), [x])


@ORACLE
@given(shape=shapes(min_dims=0, max_dims=3, max_side=5), data=st.data(), seed=seeds)
def test_topk(shape, data, seed):
    x = uniform(np.random.default_rng(seed), shape, 0.1, 2.0)
    dim = _dim(data, len(shape))
    n = shape[dim] if shape else 1
    k = data.draw(st.integers(0 if shape else 1, n), label="k")
    largest = data.draw(st.booleans(), label="largest")
    check(lambda m, t: m.topk(_weighted(t), k, dim, largest), [x], seed=seed)
    check(lambda m, t: _weighted(t).topk(k, dim=dim, largest=largest).values, [x], seed=seed)


def test_topk_unsorted_selects_the_same_elements():
    x = np.random.default_rng(0).standard_normal((3, 7))
    got = gg.topk(gg.tensor(x), 4, sorted=False)
    ref = torch.topk(torch.tensor(x), 4, sorted=False)
    np.testing.assert_array_equal(np.sort(got.values.numpy(), 1), np.sort(ref.values.numpy(), 1))
    np.testing.assert_array_equal(np.sort(got.indices.numpy(), 1), np.sort(ref.indices.numpy(), 1))


def test_result_is_a_named_pair():
    x = gg.tensor([3.0, 1.0, 2.0])
    values, indices = x.sort()
    result = gg.sort(x)
    assert result.values is result[0] and result.indices is result[1]
    np.testing.assert_array_equal(values.numpy(), [1.0, 2.0, 3.0])
    assert indices.dtype == gg.int64 and indices.tolist() == [1, 2, 0]
    assert gg.topk(x, 1).indices.tolist() == [0]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_stable_ties_and_integer_dtypes(dtype, descending):
    # many ties: a stable sort keeps tied elements in their original order, in both directions
    x = np.random.default_rng(1).integers(0, 2 if dtype is np.bool_ else 3, (3, 9)).astype(dtype)
    same_outputs(lambda m, t: m.sort(t, dim=-1, descending=descending, stable=True), x)
    same_outputs(lambda m, t: m.argsort(t, dim=0, descending=descending, stable=True), x)
    if dtype is not np.bool_:  # torch's topk refuses bools (glassgrad's does not)
        same_outputs(lambda m, t: m.topk(t, 9, largest=descending).values, x)


def test_stable_ties_in_float_gradients():
    x = np.array([[1.0, 2.0, 1.0, 2.0, 1.0], [0.5, 0.5, 0.5, 0.5, 0.5]])
    check(lambda m, t: m.sort(t * t, dim=1, descending=True, stable=True), [x])
    check(lambda m, t: m.sort(t * t, dim=1, stable=True), [x])


def test_nan_sorts_as_the_largest():
    x = np.array([1.0, np.nan, -1.0, np.nan, 0.0])
    check_values(lambda m, t: m.sort(t, stable=True), [x])
    check_values(lambda m, t: m.sort(t, descending=True, stable=True), [x])
    check_values(lambda m, t: m.topk(t, 3).values, [x])


def test_empty():
    x = np.zeros((2, 0))
    check(lambda m, t: m.sort(t, 1), [x])
    check(lambda m, t: m.topk(t, 0, 1), [x])
    check(lambda m, t: m.topk(t, 2, 0), [x])


def test_errors():
    x = gg.tensor([[1.0, 2.0, 3.0]])
    with pytest.raises(RuntimeError, match=r"topk: k must be between 0 and the size of dim 1 \(3\), got k=4"):
        gg.topk(x, 4)
    with pytest.raises(RuntimeError, match="got k=-1"):
        x.topk(-1)
    for op in (gg.sort, gg.argsort):
        with pytest.raises(IndexError, match="dim 2 is out of range for a tensor with 2 dimensions"):
            op(x, 2)
