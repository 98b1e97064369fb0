"""lerp against PyTorch: a number or a tensor as the weight, all three broadcasting, values,
first- and second-order gradients of every input, and the errors of mixed or integer dtypes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.autograd import gradcheck, gradgradcheck
from tests.oracle import ORACLE, broadcastable, check, seeds, uniform


@ORACLE
@given(shapes=broadcastable(3), weight=st.sampled_from([0.0, 0.3, 0.5, 1.0, -0.7, 1.8]), seed=seeds)
def test_lerp(shapes, weight, seed):
    rng = np.random.default_rng(seed)
    a, b, w = (uniform(rng, s) for s in shapes)
    check(lambda m, s, e: m.lerp(s * s, e, weight), [a, b], seed=seed)
    check(lambda m, s, e, t: m.lerp(s, e * e, t * s.sum()), [a, b, w], seed=seed)
    check(lambda m, s, e, t: s.lerp(e, t), [a, b, w], seed=seed)


def test_weight_one_gives_end_exactly():
    a, b = np.array([1e8, 0.1, -3.0]), np.array([1.0, 0.7, 1e-9])
    out = gg.lerp(gg.tensor(a), gg.tensor(b), 1.0)
    np.testing.assert_array_equal(out.numpy(), b)


def test_gradients_by_finite_differences():
    rng = np.random.default_rng(0)
    xs = [gg.tensor(rng.standard_normal(s), requires_grad=True) for s in [(2, 3), (3,), (2, 1)]]
    assert gradcheck(lambda a, b, w: gg.lerp(a * a, b, w * w), xs)
    assert gradgradcheck(lambda a, b, w: gg.lerp(a * a, b, w * w), xs)


def test_errors():
    x = gg.ones(2)
    with pytest.raises(RuntimeError, match="lerp: expected end to have the input's dtype float32, got float64"):
        gg.lerp(x, gg.ones(2, dtype=gg.float64), 0.5)
    with pytest.raises(RuntimeError, match="expected weight to have the input's dtype float32, got float64"):
        x.lerp(x, gg.ones(2, dtype=gg.float64))
    with pytest.raises(NotImplementedError, match="lerp: expected floating point tensors, got int64"):
        gg.lerp(gg.tensor([1, 2]), gg.tensor([3, 4]), 0.5)
    with pytest.raises(RuntimeError, match=r"lerp: shapes \(2,\), \(3,\) and \(\) cannot be broadcast together"):
        gg.lerp(x, gg.ones(3), 0.5)
