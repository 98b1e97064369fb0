"""The Tensor itself: construction from Python data (and its errors), requires_grad rules,
conversions, comparisons, and operators with NumPy arrays."""

import numpy as np
import pytest
import torch

import glassgrad as gg


@pytest.mark.parametrize(
    "data",
    [1.5, 3, True, [1, 2, 3], [1.0, 2], [[1, 2], [3, 4]], [True, False], [], [[]], np.float64(1.5),
     np.float32(2.5), np.int32(3), np.arange(6).reshape(2, 3), np.ones(3, dtype=np.float64),
     np.array(2.0), np.array([True])],
    ids=repr,
)
def test_tensor_from_data_like_torch(data):
    got, ref = gg.tensor(data), torch.tensor(data)
    assert got.shape == tuple(ref.shape)
    assert got.dtype.name == str(ref.dtype).split(".")[-1], f"{got.dtype} vs {ref.dtype}"
    np.testing.assert_array_equal(got.numpy(), ref.numpy())


@pytest.mark.parametrize("bad, exc, words", [
    ("abc", TypeError, "str"),
    ({"a": 1}, TypeError, "dict"),
    (None, TypeError, "NoneType"),
    ([1, "a"], TypeError, "str"),
    ([1, None], TypeError, "NoneType"),
    ([[1, 2], [3]], ValueError, "ragged"),
    ([[1, 2], 3], ValueError, "ragged"),
    ([1 + 2j], TypeError, "complex"),
])
def test_tensor_of_bad_data_says_what_was_given(bad, exc, words):
    with pytest.raises(exc, match=words):
        gg.tensor(bad)


def test_inplace_arithmetic_keeps_dtype_and_refuses_truncation_like_torch():
    for op, value in (("__iadd__", 1.5), ("add_", 0.5), ("mul_", 2.5), ("div_", 2), ("__itruediv__", 2),
                      ("sub_", gg.ones(3))):
        t, tt = gg.zeros(3, dtype=gg.int64), torch.zeros(3, dtype=torch.int64)
        with pytest.raises(RuntimeError):
            getattr(tt, op)(torch.ones(3) if isinstance(value, gg.Tensor) else value)
        with pytest.raises(RuntimeError, match="float32.*in place.*int64"):
            getattr(t, op)(value)
    t = gg.zeros(3, dtype=gg.int64)
    t += 2
    t.add_(gg.ones(3, dtype=gg.int64), alpha=3)
    assert t.tolist() == [5, 5, 5] and t.dtype == gg.int64
    f = gg.ones(2)  # float32, updated with float64 values: stays float32, as in torch
    f.sub_(gg.ones(2, dtype=gg.float64), alpha=0.25)
    f *= gg.tensor(2.0, dtype=gg.float64)
    assert f.tolist() == [1.5, 1.5] and f.dtype == gg.float32
