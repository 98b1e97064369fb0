"""Elementwise math against PyTorch: values, gradients and second-order gradients on random
broadcastable shapes, the conventions at kinks and ties, and broadcasting errors."""

from tests.oracle import assert_same_grads


def test_abs_gradient_at_zero_is_zero():
    assert_same_grads(lambda m, x: m.abs(x), [-1.0, 0.0, 2.0])
