"""Reductions against PyTorch: sum, mean, max/min (with indices), amax/amin, var/std,
logsumexp, argmax; values, gradients, second-order gradients, and the tie conventions."""

import numpy as np
import torch

import glassgrad as gg


def test_integer_and_bool_sums_are_int64():
    for data in ([1, 2, 3], [True, False, True]):
        got = gg.tensor(data).sum()
        ref = torch.tensor(data).sum()
        assert got.dtype == gg.int64 and got.item() == ref.item()
    u8 = gg.tensor(np.array([200, 100], dtype=np.uint8))
    assert u8.sum().item() == 300 and u8.sum().dtype == gg.int64
