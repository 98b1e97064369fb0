"""Data types of tensors, and PyTorch's rules for the dtype of a mixed operation.

A glassgrad dtype wraps a NumPy dtype. Promotion follows PyTorch, not NumPy: an int64 tensor
times 2.5 is float32 (the default float dtype), and a zero-dimensional float64 tensor does not
turn a float32 tensor into float64 (dimensioned tensors outrank zero-dim tensors, which outrank
Python scalars, within the same category bool < integer < floating).
"""

from __future__ import annotations

import numpy as np


class dtype:  # noqa: N801 - PyTorch's name
    """A tensor element type, e.g. ``glassgrad.float32``."""

    __slots__ = ("name", "numpy", "is_floating_point", "category")

    def __init__(self, name: str, category: int):
        self.name = name
        self.numpy = np.dtype(name)
        self.is_floating_point = category == _FLOAT
        self.category = category

    def __repr__(self) -> str:
        return f"glassgrad.{self.name}"

    def __reduce__(self):  # pickle by name, so a dtype stays a singleton
        return (_by_name, (self.name,))


_BOOL, _INT, _FLOAT = 0, 1, 2

bool_ = dtype("bool", _BOOL)
uint8 = dtype("uint8", _INT)
int32 = dtype("int32", _INT)
int64 = dtype("int64", _INT)
float32 = dtype("float32", _FLOAT)
float64 = dtype("float64", _FLOAT)

_ALL = (bool_, uint8, int32, int64, float32, float64)
_FROM_NUMPY = {d.numpy: d for d in _ALL}
_NAMES = {d.name: d for d in _ALL}


def _by_name(name: str) -> dtype:
    return _NAMES[name]


_default_float = float32


def get_default_dtype() -> dtype:
    """The dtype of floating tensors made from Python numbers (float32 unless changed)."""
    return _default_float


def set_default_dtype(d: dtype) -> None:
    """Make ``d`` (float32 or float64) the dtype of new floating tensors, as in PyTorch."""
    global _default_float
    if d not in (float32, float64):
        raise TypeError(f"set_default_dtype expects glassgrad.float32 or float64, got {d!r}")
    _default_float = d


def from_numpy_dtype(np_dtype: np.dtype) -> dtype:
    """The glassgrad dtype of a NumPy dtype; float16, complex or object arrays are refused."""
    try:
        return _FROM_NUMPY[np.dtype(np_dtype)]
    except KeyError:
        names = ", ".join(d.name for d in _ALL)
        raise TypeError(f"glassgrad supports dtypes {names}; got NumPy dtype {np_dtype}") from None


def to_dtype(d) -> dtype:
    """Accept a glassgrad dtype, a NumPy dtype/type or a name, return a glassgrad dtype."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return _default_float
    if d is int:
        return int64
    if d is bool:
        return bool_
    if isinstance(d, str) and d in _NAMES:
        return _NAMES[d]
    return from_numpy_dtype(np.dtype(d))


def _promote_pair(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    return from_numpy_dtype(np.promote_types(a.numpy, b.numpy))


def result_type(*operands) -> dtype:
    """The dtype PyTorch gives an operation on these tensors and Python scalars."""
    from glassgrad._tensor import Tensor  # here, not at the top: _tensor imports _dtype first

    dim_result = zero_dim_result = scalar_category = None
    for x in operands:
        if isinstance(x, Tensor):
            d = from_numpy_dtype(x._data.dtype)
            if x._data.ndim > 0:
                dim_result = d if dim_result is None else _promote_pair(dim_result, d)
            else:
                zero_dim_result = d if zero_dim_result is None else _promote_pair(zero_dim_result, d)
        else:
            if isinstance(x, (bool, np.bool_)):
                cat = _BOOL
            elif isinstance(x, (int, np.integer)):
                cat = _INT
            else:
                cat = _FLOAT
            scalar_category = cat if scalar_category is None else max(scalar_category, cat)
    result = dim_result
    if zero_dim_result is not None and (result is None or zero_dim_result.category > result.category):
        result = zero_dim_result
    if scalar_category is not None and (result is None or scalar_category > result.category):
        result = (bool_, int64, _default_float)[scalar_category]
    return result
