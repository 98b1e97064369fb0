"""Reductions against PyTorch: sum, mean, max/min (with indices), amax/amin, var/std,
logsumexp, argmax; values, gradients, second-order gradients, and the tie conventions."""

import numpy as np
import torch

import glassgrad as gg
from tests.oracle import assert_same_grads, check


def test_integer_and_bool_sums_are_int64():
    for data in ([1, 2, 3], [True, False, True]):
        got = gg.tensor(data).sum()
        ref = torch.tensor(data).sum()
        assert got.dtype == gg.int64 and got.item() == ref.item()
    u8 = gg.tensor(np.array([200, 100], dtype=np.uint8))
    assert u8.sum().item() == 300 and u8.sum().dtype == gg.int64


def test_std_gradient_is_zero_where_std_is_zero_like_torch():
    # sqrt has an infinite slope at 0; torch defines std's gradient there as 0
    x = [[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]
    assert_same_grads(lambda m, t: m.std(t, 1), x)
    assert_same_grads(lambda m, t: t.std(1, correction=0), x)
    check(lambda m, t: m.std(t, 1), [np.array(x)])
    check(lambda m, t: m.std(t, 1, correction=0), [np.array([[2.0], [3.0]])])  # a single value
