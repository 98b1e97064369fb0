"""The one place that decides which array module holds a tensor's data, and on which device.

Every op asks :func:`array_module` for the module of its input arrays instead of naming NumPy, so
that a NumPy-compatible GPU module (CuPy) works without touching the ops. A device maps to its
module here: "cpu" is NumPy; "cuda" is CuPy, loaded the first time a tensor is moved to a GPU
(:func:`to_device`). Where CuPy or a GPU is missing, :func:`cuda_unavailable_reason` says which.
"""

from __future__ import annotations

import contextlib
import importlib
import types

import numpy as np

from glassgrad._device import CPU, device

_cupy = None  # set by enable_cupy(); None means NumPy only
_cupy_special = None  # cupyx.scipy.special, set with _cupy


def array_module(*arrays) -> types.ModuleType:
    """NumPy, or CuPy when any of ``arrays`` lives on a GPU.

    Only arrays decide: with none (``array_module()``) the answer is NumPy, the module of the
    default device. So an array made for an op must come from ``array_module`` of the op's
    inputs, or from :func:`asarray_like`; never from ``np`` directly or an empty call."""
    if _cupy is not None:
        for a in arrays:
            if isinstance(a, _cupy.ndarray):
                return _cupy
    return np


def special_module(*arrays) -> types.ModuleType:
    """SciPy's ``special`` functions (erf, expit) for the module that holds ``arrays``."""
    if array_module(*arrays) is np:
        import scipy.special  # imported on first use: it takes longer to load than glassgrad

        return scipy.special
    global _cupy_special
    if _cupy_special is None:
        _cupy_special = importlib.import_module("cupyx.scipy.special")  # pragma: no cover - needs a GPU
    return _cupy_special


def asarray_like(values, like, dtype=None):
    """``values`` (a number, a list, or a NumPy array made on the host, such as a random draw) as an
    array of ``like``'s module, on ``like``'s device: the one way host data joins a computation.
    (CuPy's own ``asarray`` would put it on the *current* GPU, which need not be ``like``'s.)"""
    if type(like) is np.ndarray or array_module(like) is np:  # the first test: the CPU, quickly
        return np.asarray(values, dtype)
    with _cupy.cuda.Device(like.device.id):
        return _cupy.asarray(values, dtype)


def enable_cupy(module: types.ModuleType | None = None, special: types.ModuleType | None = None) -> None:
    """Let tensors hold CuPy arrays (raises ImportError where CuPy is not installed).

    ``module`` and ``special`` replace ``cupy`` and ``cupyx.scipy.special``: the tests pass a
    stand-in built on NumPy that refuses, as CuPy does, to mix with NumPy arrays."""
    global _cupy, _cupy_special
    _cupy = importlib.import_module("cupy") if module is None else module
    _cupy_special = special  # None: cupyx.scipy.special, imported when first needed


def disable_cupy() -> None:
    """Back to NumPy only (for tests; tensors already on a GPU stay there)."""
    global _cupy, _cupy_special
    _cupy = _cupy_special = None


def is_array(x) -> bool:
    """True for an array of a supported array module."""
    return isinstance(x, np.ndarray) or (_cupy is not None and isinstance(x, _cupy.ndarray))


# -- devices ------------------------------------------------------------------------------------


def cuda_device_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy, or when asking the CUDA driver fails)."""
    try:
        cupy = _cupy if _cupy is not None else importlib.import_module("cupy")
        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # ImportError, or CuPy's CUDARuntimeError where no driver / GPU is present
        return 0


def cuda_unavailable_reason() -> str | None:
    """Why tensors cannot go to a GPU, in one sentence; None when they can."""
    try:
        if _cupy is None:
            importlib.import_module("cupy")
    except ImportError:
        return "CUDA is not available: glassgrad runs on a GPU through CuPy, and CuPy is not installed"
    if cuda_device_count() == 0:
        return "CUDA is not available: CuPy is installed, but no GPU was found"
    return None


def _require_cuda(target: device) -> types.ModuleType:
    """CuPy, after checking that ``target`` (a cuda device) exists; otherwise a clear error."""
    count = cuda_device_count()
    if count == 0:
        raise RuntimeError(cuda_unavailable_reason())
    if target.index is not None and target.index >= count:
        raise RuntimeError(f"CUDA device {target.index} was asked for, but only {count} GPU(s) exist")
    if _cupy is None:
        enable_cupy()
    return _cupy


def device_of(array) -> device:
    """The device that holds ``array`` (a CuPy array knows its GPU)."""
    if array_module(array) is np:
        return CPU
    return device("cuda", array.device.id)


def resolve(target: device) -> device:
    """``target`` made definite: the CPU, or a GPU with its index ('cuda' is the current GPU).
    Raises a clear error where that GPU cannot be used."""
    if target.type == "cpu":
        return CPU
    cupy = _require_cuda(target)
    return target if target.index is not None else device("cuda", cupy.cuda.Device().id)


@contextlib.contextmanager
def module_on(target: device):
    """The array module of ``target``, with ``target`` made the current GPU inside the block, so
    that ``xp.zeros(...)`` there makes its array directly on that device (no copy from the CPU)."""
    target = resolve(target)
    if target.type == "cpu":
        yield np
        return
    with _cupy.cuda.Device(target.index):
        yield _cupy


def to_device(array, target: device):
    """``array`` on ``target``: itself if it is there already, else a copy made there."""
    target, source = resolve(target), device_of(array)
    if source == target:
        return array
    if target.type == "cpu":
        return array.get()
    with _cupy.cuda.Device(target.index):
        # from the CPU: an upload; from another GPU: copy() copies onto the current GPU
        return _cupy.asarray(array) if source.type == "cpu" else array.copy()


def to_numpy(array) -> np.ndarray:
    """``array`` as a NumPy array (a copy from a GPU; itself on the CPU)."""
    return array if array_module(array) is np else array.get()
