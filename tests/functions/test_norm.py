"""Vector norms (``glassgrad.linalg.vector_norm``, ``glassgrad.norm``, ``Tensor.norm``) against
PyTorch: values, first- and second-order gradients for every kind of ord, the gradient at a
zero vector, dims, dtypes and errors."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from tests.oracle import ORACLE, check, seeds, shapes, uniform

ORDS = [2, 1, 3, 0.5, 1.5, -1, -0.5, math.inf, -math.inf, 0]


def _dim_for(draw_dim, ndim):
    """None, an int or a tuple of distinct dims of a tensor with ``ndim`` dims."""
    if draw_dim == "all" or ndim == 0:
        return None
    if draw_dim == "one":
        return -1
    return tuple(range(ndim))[: max(1, ndim - 1)]


@pytest.mark.parametrize("ord", ORDS, ids=repr)
@ORACLE
@given(shape=shapes(0, 3), dim=st.sampled_from(["all", "one", "several"]), keepdim=st.booleans(), seed=seeds)
def test_vector_norm_matches_torch(ord, shape, dim, keepdim, seed):
    x = uniform(np.random.default_rng(seed), shape)
    d = _dim_for(dim, len(shape))
    check(lambda m, a: m.linalg.vector_norm(a, ord, d, keepdim), [x], rtol=1e-6)


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, math.inf, -math.inf, 0, "fro", None], ids=repr)
def test_norm_function_and_method_match_torch(p):
    x = uniform(np.random.default_rng(0), (3, 4))
    check(lambda m, a: m.norm(a, p), [x], rtol=1e-6)
    check(lambda m, a: a.norm(p, dim=1, keepdim=True), [x], rtol=1e-6)
    check(lambda m, a: a.norm(p, dim=(0, 1)), [x], rtol=1e-6)


def test_norm_values_from_the_bug_report():
    v = [0.5, -3.0, 2.0]
    for p in (math.inf, -math.inf, 0, 1, 2, 3, 0.5, -1):
        got, ref = gg.tensor(v).norm(p), torch.tensor(v).norm(p)
        np.testing.assert_allclose(got.item(), ref.item(), rtol=1e-6, err_msg=f"p={p}")
    assert gg.tensor(v).norm(math.inf).item() == 3.0
    assert gg.tensor([0.5, 0.0, 2.0]).norm(0).item() == 2.0  # counts non-zeros


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # where torch's is NaN
@pytest.mark.parametrize("ord", ORDS, ids=repr)
def test_gradient_at_zero_vector_matches_torch(ord):
    """The bug: the gradient of the 2- and 3-norm at 0 was NaN (PyTorch: 0). The second-order
    gradient is compared where torch gives a number (it is NaN for some ords at 0)."""
    for values in ([0.0, 0.0, 0.0], [0.0, 1.0, -2.0, -2.0]):
        grads = []
        for lib in (gg, torch):
            x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
            y = lib.linalg.vector_norm(x, ord)
            (g,) = lib.autograd.grad(y, x, create_graph=True, allow_unused=True)
            g = lib.zeros_like(x) if g is None else g
            h = None
            if g.requires_grad:
                (h,) = lib.autograd.grad(g.sum(), x, allow_unused=True)
            h = np.zeros(len(values)) if h is None else np.array(h.numpy(**({"force": True} if lib is torch else {})))
            grads.append((g.detach().numpy(), h))
        (g_got, h_got), (g_ref, h_ref) = grads
        np.testing.assert_allclose(g_got, g_ref, rtol=1e-12, atol=1e-12, err_msg=f"ord {ord} at {values}")
        defined = np.isfinite(h_ref)
        np.testing.assert_allclose(h_got[defined], h_ref[defined], rtol=1e-9, atol=1e-12,
                                   err_msg=f"second order, ord {ord} at {values}")
        if ord in (2, 3) and values[1] == 0.0:
            assert (g_got == 0).all()


def test_inf_norm_shares_gradient_among_ties_like_torch():
    for ord in (math.inf, -math.inf):
        got, ref = [], []
        for lib, out in ((gg, got), (torch, ref)):
            x = lib.tensor([1.0, -2.0, 2.0, 1.0], dtype=lib.float64, requires_grad=True)
            lib.linalg.vector_norm(x, ord).backward()
            out.append(x.grad.numpy())
        np.testing.assert_allclose(got[0], ref[0])


def test_dim_forms_and_zero_dim_input():
    x = gg.tensor(np.arange(24.0).reshape(2, 3, 4))
    t = torch.tensor(np.arange(24.0, dtype=np.float32).reshape(2, 3, 4))
    for dim in (None, (), [], 0, -1, (0, 2), [2, 0]):
        got = gg.linalg.vector_norm(x, 3, dim)
        ref = torch.linalg.vector_norm(t, 3, dim)
        assert got.shape == tuple(ref.shape)
        np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-6)
    assert gg.linalg.vector_norm(gg.tensor(-3.0), 3, dim=0).item() == 3.0


def test_dtypes():
    x32, x64 = gg.tensor([3.0, 4.0]), gg.tensor([3.0, 4.0], dtype=gg.float64)
    assert gg.linalg.vector_norm(x32).dtype == gg.float32
    assert gg.linalg.vector_norm(x64).dtype == gg.float64
    y = gg.linalg.vector_norm(x32, dtype=gg.float64)
    assert y.dtype == gg.float64 and y.item() == 5.0
    assert x32.norm(dtype=gg.float64).dtype == gg.float64
    x = gg.tensor([3.0, 4.0], requires_grad=True)
    gg.linalg.vector_norm(x, dtype=gg.float64).backward()
    assert x.grad.dtype == gg.float32


def test_empty_inputs_match_torch():
    for ord in (2, 1, 0, 0.5):
        for shape, dim in (((0,), None), ((2, 0), 1), ((2, 0), 0)):
            got = gg.linalg.vector_norm(gg.ones(*shape), ord, dim)
            ref = torch.linalg.vector_norm(torch.ones(*shape), ord, dim)
            assert got.shape == tuple(ref.shape)
            np.testing.assert_array_equal(got.numpy(), ref.numpy())
    for ord in (math.inf, -math.inf, -1):
        assert gg.linalg.vector_norm(gg.ones(2, 0), ord, 0).shape == (0,)  # the empty dim is kept
        for dim in (None, 1):
            with pytest.raises(RuntimeError):
                torch.linalg.vector_norm(torch.ones(2, 0), ord, dim)
            with pytest.raises(RuntimeError, match="empty"):
                gg.linalg.vector_norm(gg.ones(2, 0), ord, dim)


def test_errors_like_torch():
    with pytest.raises(RuntimeError, match="floating point.*int64"):
        gg.linalg.vector_norm(gg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="floating point"):
        gg.tensor([1, 2]).norm()
    with pytest.raises(RuntimeError, match="narrowing"):
        gg.linalg.vector_norm(gg.tensor([1.0], dtype=gg.float64), dtype=gg.float32)
    with pytest.raises(RuntimeError, match="floating point dtype"):
        gg.linalg.vector_norm(gg.tensor([1.0]), dtype=gg.int64)
    with pytest.raises(TypeError, match="ord must be a number"):
        gg.linalg.vector_norm(gg.tensor([1.0]), "fro")
    with pytest.raises(RuntimeError, match="more than once"):
        gg.linalg.vector_norm(gg.ones(2, 3), dim=(0, 0))
    with pytest.raises(IndexError, match="out of range"):
        gg.linalg.vector_norm(gg.ones(2, 3), dim=2)
    with pytest.raises(RuntimeError, match="at most 2 dims"):
        gg.ones(2, 3, 4).norm("fro", dim=(0, 1, 2))
    with pytest.raises(RuntimeError, match="not supported"):
        gg.ones(2, 3).norm("abc")
    with pytest.raises(NotImplementedError, match="nuc"):
        gg.ones(2, 3).norm("nuc")
