"""Elementwise math against PyTorch: values, gradients and second-order gradients on random
broadcastable shapes, the conventions at kinks and ties, and broadcasting errors."""

import numpy as np
import torch

import glassgrad as gg
from tests.oracle import assert_same_grads


def test_abs_gradient_at_zero_is_zero():
    assert_same_grads(lambda m, x: m.abs(x), [-1.0, 0.0, 2.0])


def test_pow_scalar_base_on_integer_tensor_promotes():
    t = gg.tensor([1, 2])
    got = 2.5**t
    ref = 2.5 ** torch.tensor([1, 2])
    assert got.dtype == gg.float32
    np.testing.assert_allclose(got.numpy(), ref.numpy())
    assert (2**t).dtype == gg.int64 and (2**t).tolist() == [2, 4]
