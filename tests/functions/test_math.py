"""Elementwise math against PyTorch: values, gradients and second-order gradients on random
broadcastable shapes, the conventions at kinks and ties, and broadcasting errors."""

import numpy as np
import pytest
import torch

import glassgrad as gg
from tests.oracle import assert_same_grads, check


def test_abs_gradient_at_zero_is_zero():
    assert_same_grads(lambda m, x: m.abs(x), [-1.0, 0.0, 2.0])


def test_pow_scalar_base_on_integer_tensor_promotes():
    t = gg.tensor([1, 2])
    got = 2.5**t
    ref = 2.5 ** torch.tensor([1, 2])
    assert got.dtype == gg.float32
    np.testing.assert_allclose(got.numpy(), ref.numpy())
    assert (2**t).dtype == gg.int64 and (2**t).tolist() == [2, 4]


def test_pow_gradient_at_zero_base_and_zero_exponent():
    # torch: d(a ** b)/da is 0 where b == 0 (even at a == 0), d/db is 0 where a == 0 and b >= 0
    a = [0.0, 0.0, 1.5, 0.0]
    b = [0.0, 2.0, 0.0, 0.5]
    assert_same_grads(lambda m, x, y: x**y, a, b)
    # and the double backward where b == 0 (away from a == 0, where torch's is NaN)
    check(lambda m, x, y: x**y, [np.array([1.5, 2.0, 0.7]), np.array([0.0, 1.0, 0.0])])


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


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "minimum", "pow"])
def test_broadcast_mismatch_names_op_and_shapes(op):
    with pytest.raises(RuntimeError, match=rf"{op}.*\(2, 3\).*\(4,\)"):
        getattr(gg, op)(gg.ones(2, 3), gg.ones(4))


def test_broadcast_mismatch_in_operator_and_where():
    with pytest.raises(RuntimeError, match=r"add.*\(2, 3\).*\(4,\)"):
        gg.ones(2, 3) + gg.ones(4)
    with pytest.raises(RuntimeError, match=r"where.*\(2, 3\).*\(4,\)"):
        gg.where(gg.ones(2, 3) > 0, gg.ones(3), gg.ones(4))
