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
