"""Dtypes and PyTorch's type promotion for tensor/tensor, tensor/0-dim tensor and tensor/Python
scalar operands of bool, int64, float32 and float64."""

import pytest
import torch

import glassgrad as gg


def test_subtraction_with_bool_refused_like_torch():
    for a, b in ((gg.tensor([True]), gg.tensor([1])), (gg.tensor([1.0]), True), (True, gg.tensor([2]))):
        with pytest.raises(RuntimeError):
            torch.sub(*(torch.tensor(x.numpy()) if isinstance(x, gg.Tensor) else x for x in (a, b)))
        with pytest.raises(RuntimeError, match="bool"):
            gg.sub(a, b)
    with pytest.raises(RuntimeError, match="bool"):
        gg.tensor([1, 2]) - gg.tensor([True, False])
