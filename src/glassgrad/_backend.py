"""The one place that decides which array module holds a tensor's data.

Every op asks :func:`array_module` for the module of its input arrays instead of naming NumPy, so
that a NumPy-compatible GPU module (CuPy) can be added here without touching the ops.
"""

from __future__ import annotations

import types

import numpy as np

_cupy = None  # set by enable_cupy(); None means NumPy only


def array_module(*arrays) -> types.ModuleType:
    """NumPy, or CuPy when any of ``arrays`` lives on a GPU."""
    if _cupy is not None:
        for a in arrays:
            if isinstance(a, _cupy.ndarray):
                return _cupy
    return np


def special_module(*arrays) -> types.ModuleType:
    """SciPy's ``special`` functions (erf) for the module that holds ``arrays``."""
    if array_module(*arrays) is np:
        import scipy.special  # imported on first use: it takes longer to load than glassgrad

        return scipy.special
    import cupyx.scipy.special  # pragma: no cover - needs a GPU

    return cupyx.scipy.special


def enable_cupy() -> None:  # pragma: no cover - needs a GPU
    """Let tensors hold CuPy arrays (raises ImportError where CuPy is not installed)."""
    global _cupy
    import cupy

    _cupy = cupy


def is_array(x) -> bool:
    """True for an array of a supported array module."""
    return isinstance(x, np.ndarray) or (_cupy is not None and isinstance(x, _cupy.ndarray))
