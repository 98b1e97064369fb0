"""Turning the operands of a public op into tensors of one dtype, by PyTorch's promotion rules."""

from __future__ import annotations

import numpy as np

from glassgrad._backend import asarray_like
from glassgrad._dtype import dtype, result_type

# glassgrad/__init__ imports _tensor first; _tensor defines Tensor before it imports the op
# modules at its end, so this import finds Tensor already defined.
from glassgrad._tensor import Tensor


def constant(array):
    """Wrap an array as a tensor that requires no grad (a mask, an index, a fixed weight)."""
    return Tensor._wrap(array, False)


def as_tensor(x, like=None):
    """``x`` itself if it is a tensor, else a constant tensor of ``like``'s dtype (or its own)."""
    from glassgrad._tensor import tensor

    if isinstance(x, Tensor):
        return x
    if like is not None and np.isscalar(x):
        return Tensor._wrap(asarray_like(x, like._data, like._data.dtype), False)
    return tensor(x)


def cast(x, d: dtype, like: Tensor | None = None):
    """``x`` converted to dtype ``d``; a Python number becomes a constant 0-dim tensor on the
    device of ``like`` (the CPU without one)."""
    if isinstance(x, Tensor):
        return x if x._data.dtype == d.numpy else x.to(d)
    try:
        value = np.asarray(x, dtype=d.numpy)
    except OverflowError:  # e.g. -1 as uint8: wrap around (255), as PyTorch does
        value = np.array(x).astype(d.numpy)
    return Tensor._wrap(value if like is None else asarray_like(value, like._data), False)


_PY_NUMBERS = (float, int)
_SCALARS = (float, int, bool)


def operand(x):
    """One operand of a binary op as glassgrad takes part in promotion: a tensor or a Python
    number as it is, a NumPy scalar as the Python number it holds (``np.float64(3)`` acts like
    ``3.0``, so ``x ** np.float64(3)`` keeps a float32 ``x`` float32), and an array or nested
    list as a tensor of its own dtype (``float32 tensor + float64 array`` is float64)."""
    if isinstance(x, Tensor) or type(x) in _SCALARS:
        return x
    if isinstance(x, np.generic):
        x = x.item()  # np.float32(2) -> 2.0, np.bool_(True) -> True
    elif isinstance(x, (int, float)):  # a subclass of a Python number (an IntEnum): the number
        x = bool(x) if isinstance(x, bool) else int(x) if isinstance(x, int) else float(x)
    if type(x) in _SCALARS:
        return x
    if isinstance(x, complex):
        raise TypeError(f"glassgrad has no complex dtype; got the complex operand {x!r}")
    from glassgrad._tensor import tensor

    return tensor(x)


def promote(*operands):
    """The operands as tensors of the dtype PyTorch would compute them in; Python numbers become
    constants on the device of the tensors (made by their array module, never NumPy's)."""
    if len(operands) == 2:  # the common case, kept fast
        a, b = operands
        if isinstance(a, Tensor):
            if isinstance(b, Tensor):
                if a._data.dtype == b._data.dtype:
                    return operands
            elif type(b) in _PY_NUMBERS and a._data.dtype.kind == "f":
                # a float tensor with a Python number: the number takes the tensor's dtype
                return a, Tensor._wrap(asarray_like(b, a._data, a._data.dtype), False)
        elif type(a) in _PY_NUMBERS and isinstance(b, Tensor) and b._data.dtype.kind == "f":
            return Tensor._wrap(asarray_like(a, b._data, b._data.dtype), False), b
    else:
        first = operands[0]
        if isinstance(first, Tensor) and all(
            isinstance(x, Tensor) and x._data.dtype == first._data.dtype for x in operands
        ):
            return operands
    operands = tuple(operand(x) for x in operands)
    d = result_type(*operands)
    like = next((x for x in operands if isinstance(x, Tensor)), None)
    return tuple(cast(x, d, like) for x in operands)
