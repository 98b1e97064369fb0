"""Turning the operands of a public op into tensors of one dtype, by PyTorch's promotion rules."""

from __future__ import annotations

import numpy as np

from glassgrad._dtype import dtype, result_type


def constant(array):
    """Wrap an array as a tensor that requires no grad (a mask, an index, a fixed weight)."""
    from glassgrad._tensor import Tensor

    return Tensor._wrap(array, False)


def as_tensor(x, like=None):
    """``x`` itself if it is a tensor, else a constant tensor of ``like``'s dtype (or its own)."""
    from glassgrad._tensor import Tensor, tensor

    if isinstance(x, Tensor):
        return x
    if like is not None and np.isscalar(x):
        return Tensor._wrap(np.asarray(x, dtype=like._data.dtype), False)
    return tensor(x)


def cast(x, d: dtype):
    """``x`` converted to dtype ``d``; a Python number becomes a constant 0-dim tensor."""
    from glassgrad._tensor import Tensor

    if isinstance(x, Tensor):
        return x if x._data.dtype == d.numpy else x.to(d)
    return Tensor._wrap(np.asarray(x, dtype=d.numpy), False)


def promote(*operands):
    """The operands as tensors of the dtype PyTorch would compute them in."""
    from glassgrad._tensor import Tensor

    first = operands[0]
    if isinstance(first, Tensor) and all(
        isinstance(x, Tensor) and x._data.dtype == first._data.dtype for x in operands
    ):
        return operands
    d = result_type(*operands)
    return tuple(cast(x, d) for x in operands)
