"""prod, cumsum and cumprod against PyTorch: values, first- and second-order gradients (with
zeros in the input, where the gradient cannot be computed by dividing by x), keepdim, negative
dims, integer dtypes (accumulated as int64), 0-dim and empty tensors, and the errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.autograd import gradcheck, gradgradcheck
from tests.functions.exact import same_outputs
from tests.oracle import ORACLE, check, seeds, shapes, uniform


def _dim(data, ndim):
    return data.draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1), label="dim")


def _with_zeros(rng, shape, data):
    """Values in [-2, 2] with none, one or several set to exactly 0 (0 or 1 per slice, or more)."""
    x = uniform(rng, shape)
    zeros = data.draw(st.sampled_from([0.0, 0.2, 0.5]), label="fraction of zeros")
    x[rng.random(shape) < zeros] = 0.0
    return x


@ORACLE
@given(shape=shapes(min_dims=0, max_dims=3, min_side=0), data=st.data(), seed=seeds)
def test_prod(shape, data, seed):
    x = _with_zeros(np.random.default_rng(seed), shape, data)
    dim, keepdim = _dim(data, len(shape)), data.draw(st.booleans(), label="keepdim")
    check(lambda m, t: m.prod(t, dim, keepdim), [x], seed=seed)
    check(lambda m, t: t.prod(dim=dim), [x], seed=seed)
    if np.prod(shape) <= 8:  # the product of all elements: keep it of a sane size
        check(lambda m, t: m.prod(t), [x], seed=seed)


@ORACLE
@given(shape=shapes(min_dims=0, max_dims=3, min_side=0), data=st.data(), seed=seeds)
def test_cumsum(shape, data, seed):
    x = uniform(np.random.default_rng(seed), shape)
    dim = _dim(data, len(shape))
    check(lambda m, t: m.cumsum(t * t, dim), [x], seed=seed)
    check(lambda m, t: (t * t).cumsum(dim=dim), [x], seed=seed)


@ORACLE
@given(shape=shapes(min_dims=0, max_dims=3, min_side=0, max_side=5), data=st.data(), seed=seeds)
def test_cumprod(shape, data, seed):
    x = _with_zeros(np.random.default_rng(seed), shape, data)
    dim = _dim(data, len(shape))
    check(lambda m, t: m.cumprod(t, dim), [x], seed=seed)
    check(lambda m, t: t.cumprod(dim=dim), [x], seed=seed)


@pytest.mark.parametrize("x", [
    [2.0, 0.0, 3.0, 0.5, 4.0],  # one zero
    [2.0, 0.0, 3.0, 0.0, 4.0],  # two zeros
    [0.0, 0.0, 0.0, 1.5, 0.5],  # zeros first
    [1.5, -2.0, 3.0, 0.5, 0.0],  # a zero last
])
def test_gradients_with_zeros_by_finite_differences(x):
    # also against the numbers, not only against torch: the second order through zeros is the
    # hard case (d/dx_i of the gradient is not 0 even where the gradient is)
    x = gg.tensor(np.array([x, np.roll(x, 2)]), dtype=gg.float64, requires_grad=True)
    for fn in (lambda t: gg.cumprod(t, 1), lambda t: gg.prod(t, 1), lambda t: gg.prod(t, 0, keepdim=True),
               lambda t: gg.prod(t)):
        assert gradcheck(fn, [x])
        assert gradgradcheck(fn, [x])


def test_third_order_with_zeros():
    x = np.array([[2.0, 0.0, 3.0, 0.5], [0.0, 1.5, 0.0, -1.0]])
    t = gg.tensor(x, requires_grad=True)
    import torch

    r = torch.tensor(x, requires_grad=True)
    grads = []
    for lib, v in ((gg, t), (torch, r)):
        y = (lib.cumprod(v, 1) * lib.tensor([1.0, -2.0, 3.0, 0.5], dtype=v.dtype)).sum()
        (g,) = lib.autograd.grad(y, [v], create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), [v], create_graph=True)
        (k,) = lib.autograd.grad(h.sum(), [v])
        grads.append(k.detach().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_integer_dtypes_accumulate_as_int64(dtype):
    x = (np.arange(1, 13).reshape(3, 4) % 4).astype(dtype)
    same_outputs(lambda m, t: m.prod(t), x)
    same_outputs(lambda m, t: m.prod(t, 1, keepdim=True), x)
    same_outputs(lambda m, t: m.cumsum(t, 0), x)
    same_outputs(lambda m, t: m.cumprod(t, -1), x)
    same_outputs(lambda m, t: t.cumsum(1, dtype=m.float64), x)
    same_outputs(lambda m, t: t.prod(dtype=m.float32), x)


def test_errors():
    x = gg.ones(2, 3)
    with pytest.raises(IndexError, match="prod: dim 2 is out of range for a tensor with 2 dimensions"):
        gg.prod(x, 2)
    with pytest.raises(TypeError, match="prod: dim must be an int, got tuple"):
        x.prod((0, 1))
    with pytest.raises(IndexError, match="cumsum: dim -3 is out of range"):
        x.cumsum(-3)
    with pytest.raises(IndexError, match="cumprod: dim 5 is out of range"):
        gg.cumprod(x, 5)
