"""matmul (1-D, 2-D, batched, broadcast batch dims) and linear against PyTorch, and their shape
errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from tests.oracle import ORACLE, broadcastable, check, seeds, uniform

sides = st.integers(1, 4)


@ORACLE
@given(batch=broadcastable(2, max_dims=3, max_side=3), n=sides, k=sides, p=sides,
       kind=st.sampled_from(["mm", "vec-mat", "mat-vec", "dot"]), seed=seeds)
def test_matmul(batch, n, k, p, kind, seed):
    rng = np.random.default_rng(seed)
    ba, bb = batch
    a_shape = (k,) if kind in ("vec-mat", "dot") else ba + (n, k)
    b_shape = (k,) if kind in ("mat-vec", "dot") else bb + (k, p)
    a, b = uniform(rng, a_shape), uniform(rng, b_shape)
    # the product is bilinear, so also square the inputs to give the second order something to do
    check(lambda m, x, y: m.matmul(x, y), [a, b], seed=seed)
    check(lambda m, x, y: (x * x) @ (y * y), [a, b], seed=seed)


def test_matmul_2d():
    rng = np.random.default_rng(1)
    check(lambda m, x, y: (x * x).matmul(y), [uniform(rng, (3, 4)), uniform(rng, (4, 5))])


@ORACLE
@given(lead=st.lists(sides, max_size=2), n_in=sides, n_out=sides, bias=st.booleans(), seed=seeds)
def test_linear(lead, n_in, n_out, bias, seed):
    rng = np.random.default_rng(seed)
    arrays = [uniform(rng, tuple(lead) + (n_in,)), uniform(rng, (n_out, n_in))]
    if bias:
        arrays.append(uniform(rng, (n_out,)))
    check(lambda m, x, w, *b: m.nn.functional.linear(x * x, w * w, *(t * t for t in b)), arrays,
          seed=seed)
    check(lambda m, x, w, *b: m.nn.functional.linear(x, w, *b), arrays, seed=seed)


def test_matmul_mismatch_names_shapes():
    with pytest.raises(RuntimeError, match=r"matmul.*\(2, 3\).*\(4, 2\).*3 != 4"):
        gg.ones(2, 3) @ gg.ones(4, 2)
    with pytest.raises(RuntimeError, match=r"matmul.*\(2, 2, 3\).*\(3, 3, 1\).*batch"):
        gg.matmul(gg.ones(2, 2, 3), gg.ones(3, 3, 1))
    with pytest.raises(RuntimeError, match="at least 1 dimension"):
        gg.matmul(gg.tensor(2.0), gg.ones(2))


def test_linear_mismatch_names_shapes():
    with pytest.raises(RuntimeError, match=r"linear.*\(2, 3\).*\(4, 5\)"):
        gg.nn.functional.linear(gg.ones(2, 3), gg.ones(4, 5))


@pytest.mark.parametrize("a_shape, b_shape", [((5, 1), (1, 4)), ((2, 3, 1), (1, 1, 4)), ((3, 1), (2, 1, 4))])
def test_matmul_outer_product(a_shape, b_shape):
    # an inner dimension of 1 is computed as a broadcast multiply (faster than NumPy's matmul)
    rng = np.random.default_rng(2)
    check(lambda m, x, y: (x * x) @ (y * y), [uniform(rng, a_shape), uniform(rng, b_shape)])


def test_linear_one_input_feature():
    # the 1-128-1 net's first layer: x @ W^T is an outer product
    rng = np.random.default_rng(3)
    arrays = [uniform(rng, (6, 1)), uniform(rng, (3, 1)), uniform(rng, (3,))]
    check(lambda m, x, w, b: m.nn.functional.linear(x * x, w * w, b * b), arrays)
    check(lambda m, x, w, b: m.nn.functional.linear(x, w, b), arrays)


def test_inner_dimension_one_mismatch_still_raises():
    # shapes that a broadcast multiply would accept: [3, 1] * [3, 4] broadcasts to [3, 4]
    with pytest.raises(RuntimeError, match=r"matmul.*\(3, 1\).*\(3, 4\).*1 != 3"):
        gg.ones(3, 1) @ gg.ones(3, 4)
    with pytest.raises(RuntimeError, match=r"linear.*\(3, 1\).*\(4, 3\)"):
        gg.nn.functional.linear(gg.ones(3, 1), gg.ones(4, 3))


@pytest.mark.parametrize("lead", [(), (4,), (2, 3)])
def test_linear_chain_second_order(lead):
    # in a chain the first layer's gy depends on the second layer's weight, so second-order
    # gradients go through both inputs of LinearGradWeight's backward
    rng = np.random.default_rng(5)
    arrays = [uniform(rng, lead + (3,)), uniform(rng, (4, 3)), uniform(rng, (2, 4))]
    check(lambda m, x, w1, w2: m.nn.functional.linear(m.tanh(m.nn.functional.linear(x, w1)), w2), arrays)


@pytest.mark.parametrize("x_shape, w_shape", [((2, 0, 3), (4, 3)), ((2, 3, 0), (4, 0)), ((0, 3), (4, 3))])
def test_linear_with_empty_dims(x_shape, w_shape):
    rng = np.random.default_rng(0)
    check(lambda m, x, w, b: m.nn.functional.linear(x, w, b),
          [uniform(rng, x_shape), uniform(rng, w_shape), uniform(rng, w_shape[:1])])
