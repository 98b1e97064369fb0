"""Edge cases of reductions and softmax against PyTorch: ``dim=()`` (all dims), var/std with a
correction of N or more, and size-0 tensors (results where torch gives them, errors where it
raises)."""

import numpy as np
import pytest
import torch

import glassgrad as gg
from tests.oracle import check, uniform

# torch warns where the degrees of freedom are <= 0 (glassgrad too, checked below)
pytestmark = pytest.mark.filterwarnings("ignore:.*degrees of freedom:UserWarning")

X = uniform(np.random.default_rng(0), (2, 3))

REDUCTIONS = {
    "sum": lambda m, x, **kw: m.sum(x, **kw),
    "mean": lambda m, x, **kw: m.mean(x, **kw),
    "amax": lambda m, x, **kw: m.amax(x, **kw),
    "amin": lambda m, x, **kw: m.amin(x, **kw),
    "var": lambda m, x, **kw: m.var(x, **kw),
    "std": lambda m, x, **kw: m.std(x, **kw),
    "vector_norm": lambda m, x, **kw: m.linalg.vector_norm(x, **kw),
}


@pytest.mark.parametrize("op", REDUCTIONS)
@pytest.mark.parametrize("empty", [(), []], ids=["tuple", "list"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_empty_dim_list_reduces_all_dims(op, empty, keepdim):
    """The bug: sum(dim=()) and mean(dim=()) returned the input unchanged."""
    f = REDUCTIONS[op]
    if op in ("var", "std"):
        # torch's value reduces all dims, but its gradient for dim=() divides by N - 1 with N
        # the product over the (empty) dim list, 1: inf. The gradient is compared with dim=None.
        ref = f(torch, torch.tensor(X), dim=empty, keepdim=keepdim)
        np.testing.assert_allclose(f(gg, gg.tensor(X), dim=empty, keepdim=keepdim).numpy(), ref.numpy(), rtol=1e-6)
        check(lambda m, x: f(m, x, dim=empty, keepdim=keepdim), [X],
              torch_fn=lambda m, x: f(m, x, dim=None, keepdim=keepdim))
        return
    check(lambda m, x: f(m, x, dim=empty, keepdim=keepdim), [X])


def test_logsumexp_empty_dim_list_reduces_all_dims():
    # torch.logsumexp(x, ()) without keepdim fails inside torch ("output with shape [] doesn't
    # match the broadcast shape [1, 1]"); glassgrad reduces all dims as every other reduction does
    check(lambda m, x: m.logsumexp(x, (), keepdim=True), [X])
    got = gg.logsumexp(gg.tensor(X), ())
    ref = torch.logsumexp(torch.tensor(X), (0, 1))
    assert got.shape == () and np.isclose(got.item(), ref.item())


def test_duplicate_dims_are_refused():
    for op in ("sum", "mean", "amax", "var"):
        with pytest.raises(RuntimeError):
            getattr(torch, op)(torch.ones(2, 3), (0, 0))
        with pytest.raises(RuntimeError, match="more than once"):
            getattr(gg, op)(gg.ones(2, 3), (0, -2))


def test_max_with_a_tuple_dim_is_refused():
    with pytest.raises(TypeError, match="dim must be an int"):
        gg.max(gg.ones(2, 3), ())


# -- var / std with correction >= N ------------------------------------------------------------


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("correction", [3, 4, 10])
@pytest.mark.parametrize("values", [[1.0, 2.0, 4.0], [1.0, 1.0, 1.0]])
def test_var_std_with_correction_at_least_n_like_torch(op, correction, values):
    """The bug: a correction larger than N gave a negative variance; torch divides by
    max(0, N - correction): inf, or nan where all values are equal."""
    with pytest.warns(UserWarning, match="degrees of freedom"):
        got = getattr(gg, op)(gg.tensor(values), correction=correction)
    ref = getattr(torch, op)(torch.tensor(values), correction=correction)
    np.testing.assert_array_equal(got.numpy(), ref.numpy())
    assert got.item() != got.item() or got.item() == float("inf")


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("correction", [0, 1, 2, 2.5])
def test_var_std_with_correction_below_n(op, correction):
    check(lambda m, x: getattr(m, op)(x, dim=1, correction=correction), [uniform(np.random.default_rng(1), (2, 4))])


# -- size-0 dims -------------------------------------------------------------------------------

EMPTY_CASES = [((2, 0), 1), ((2, 0), 0), ((0,), 0), ((0, 3), 1), ((0, 3), 0)]


@pytest.mark.parametrize("shape, dim", EMPTY_CASES)
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_over_size_zero_tensors(shape, dim, op):
    check(lambda m, x: getattr(m, op)(x, dim), [np.ones(shape)])


@pytest.mark.parametrize("shape, dim", EMPTY_CASES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp_over_size_zero_dims_is_minus_inf(shape, dim, keepdim):
    check(lambda m, x: m.logsumexp(x, dim, keepdim=keepdim), [np.ones(shape)], order=1)


def test_logsumexp_of_empty_tensor_over_all_dims():
    for dim in ((0, 1), ()):
        got = gg.logsumexp(gg.ones(2, 0), dim)
        assert got.shape == () and got.item() == float("-inf")


@pytest.mark.parametrize("shape, dim", EMPTY_CASES)
@pytest.mark.parametrize("op", ["sum", "mean", "var", "amax", "amin", "argmax", "argmin"])
def test_reductions_of_size_zero_tensors_like_torch(shape, dim, op):
    """Results where torch has them (sum 0, mean/var nan, amax over a non-empty dim an empty
    result); an IndexError naming the empty dim where torch raises (max has no identity)."""
    try:
        ref = getattr(torch, op)(torch.ones(shape), dim)
    except IndexError:
        with pytest.raises(IndexError, match=f"dim {dim}.*empty"):
            getattr(gg, op)(gg.ones(shape), dim)
        return
    got = getattr(gg, op)(gg.ones(shape), dim)
    assert got.shape == tuple(ref.shape) and got.dtype.name == str(ref.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), ref.numpy())
    if op not in ("argmax", "argmin"):
        x = gg.ones(shape, requires_grad=True)
        getattr(gg, op)(x, dim).sum().backward()
        assert x.grad.shape == shape


@pytest.mark.parametrize("op", ["amax", "amin", "max", "min", "argmax", "argmin"])
def test_no_identity_reductions_of_empty_tensor_over_all_dims_raise(op):
    """The bug: amax of an empty tensor raised; it still must, but like torch and saying why."""
    with pytest.raises((RuntimeError, IndexError)):
        getattr(torch, op)(torch.ones(2, 0))
    with pytest.raises((RuntimeError, IndexError), match="empty"):
        getattr(gg, op)(gg.ones(2, 0))
    if op.startswith("a") and op != "argmax" and op != "argmin":
        with pytest.raises(RuntimeError, match="empty"):
            getattr(gg, op)(gg.ones(0), ())


def test_amax_of_empty_tensor_over_a_non_empty_dim():
    x = gg.ones(0, 3, requires_grad=True)
    y = gg.amax(x, 1)
    assert y.shape == (0,)
    y.sum().backward()
    assert x.grad.shape == (0, 3)
