"""A strict stand-in for CuPy, built on NumPy, that proves no array leaks from the device.

glassgrad's ops never name NumPy for their arrays: they ask ``_backend.array_module`` for the
module of their inputs. On a GPU that module is CuPy, whose arrays refuse to become NumPy arrays
implicitly (``numpy.asarray(gpu_array)`` is a TypeError) and refuse NumPy arrays as operands. A
NumPy array made anywhere in a step (by ``np.zeros``, ``np.asarray``, a NumPy random draw, a
Python number turned into an array) that meets a device array is therefore an error on a real GPU.

:func:`make` returns a module that behaves the same way on a machine without a GPU. Its
``ndarray`` wraps a NumPy array and:

- refuses ``__array__`` (so ``np.asarray``, ``np.exp``, ``np.copyto``... on it raise TypeError, with
  CuPy's message), and sets ``__array_ufunc__ = None`` (so ``numpy_array + device_array`` raises too);
- refuses NumPy arrays as operands, indices and assigned values, in its operators and in every
  function of the module (NumPy scalars and Python numbers are fine, as in CuPy);
- returns device arrays from every function and method, and 0-d arrays where NumPy would return
  a scalar (CuPy's reductions do);
- converts to NumPy only explicitly, with ``.get()``, and uploads only explicitly, with
  ``asarray``/``array``, as CuPy does.

So a model that trains on it made every array of the step through the device's module. What it
does not prove: that CuPy has every function glassgrad calls, or CuPy's numerics; those need a GPU.
"""

from __future__ import annotations

import types

import numpy as np
import scipy.special

_NOT_IMPLICIT = (
    "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy array explicitly."
)


class _State:
    current = 0  # the "current GPU", as cupy.cuda.Device() sets it
    uploads = 0  # explicit copies from the host, counted so that tests can see what was copied


class _Device:
    """``cupy.cuda.Device``: an index, and a context manager that makes it the current one."""

    def __init__(self, index: int | None = None):
        self.id = _State.current if index is None else int(index)

    def __enter__(self):
        self._before, _State.current = _State.current, self.id
        return self

    def __exit__(self, *exc):
        _State.current = self._before

    def synchronize(self) -> None:
        pass


def _host(x, where: str):
    """The NumPy value behind ``x`` for the computation; a NumPy array here is a leak."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, np.ndarray):
        raise TypeError(f"Unsupported type <class 'numpy.ndarray'> in {where}: a NumPy array met the device "
                        "(an array made outside the tensor's array module)")
    if isinstance(x, (list, tuple)):
        return type(x)(_host(v, where) for v in x)
    if isinstance(x, dict):
        return {k: _host(v, where) for k, v in x.items()}
    return x


def _device(x, gpu: int):
    """NumPy results as device arrays (scalars as 0-d arrays, as CuPy's reductions give)."""
    if isinstance(x, (np.ndarray, np.generic)):
        return ndarray(np.asarray(x), gpu)
    if isinstance(x, tuple):
        return tuple(_device(v, gpu) for v in x)
    if isinstance(x, list):
        return [_device(v, gpu) for v in x]
    return x


def _gpu_of(args, kwargs) -> int:
    """The GPU of the first device array among the arguments, else the current one."""
    for x in (*args, *kwargs.values()):
        if isinstance(x, ndarray):
            return x._gpu
        if isinstance(x, (list, tuple)):
            for v in x:
                if isinstance(v, ndarray):
                    return v._gpu
    return _State.current


class _Function:
    """A NumPy function or ufunc run on device arrays (its ``at``/``reduce``... methods too)."""

    def __init__(self, fn, name: str):
        self._fn, self._name = fn, name

    def __call__(self, *args, **kwargs):
        gpu = _gpu_of(args, kwargs)
        result = self._fn(*_host(args, self._name), **_host(kwargs, self._name))
        return _device(result, gpu)

    def __getattr__(self, name):
        return _wrap_attr(getattr(self._fn, name), f"{self._name}.{name}")


def _wrap_attr(attr, name: str):
    if isinstance(attr, types.ModuleType):
        return _Namespace(attr, name)
    if isinstance(attr, (type, np.dtype)) or not callable(attr):
        return attr  # dtypes and scalar types (cupy.float32 is numpy.float32), constants
    return _Function(attr, name)


class _Namespace:
    """A NumPy submodule (``linalg``, ``lib.stride_tricks``) whose functions work on device arrays."""

    def __init__(self, module, name: str):
        self._module, self._name = module, name

    def __getattr__(self, name):
        return _wrap_attr(getattr(self._module, name), f"{self._name}.{name}")


class ndarray:  # noqa: N801 - CuPy's name
    """A device array: NumPy memory that refuses to mix with NumPy arrays."""

    __slots__ = ("_a", "_gpu")
    __array_ufunc__ = None  # NumPy's ufuncs and operators refuse it (and defer to ours, which refuse NumPy)
    __hash__ = None

    def __init__(self, a: np.ndarray, gpu: int):
        self._a, self._gpu = a, gpu

    def __array__(self, dtype=None, copy=None):
        raise TypeError(_NOT_IMPLICIT)

    @property
    def device(self) -> _Device:
        return _Device(self._gpu)

    def get(self) -> np.ndarray:
        """The explicit download: a NumPy copy."""
        return self._a.copy()

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if callable(attr):
            return lambda *args, **kwargs: _device(attr(*_host(args, name), **_host(kwargs, name)), self._gpu)
        return _device(attr, self._gpu)  # .T, .real; shape, dtype, ndim, size, strides... as they are

    def __getitem__(self, key):
        return _device(self._a[_host(key, "indexing")], self._gpu)

    def __setitem__(self, key, value):
        self._a[_host(key, "indexing")] = _host(value, "assignment")

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self):
        return (_device(row, self._gpu) for row in self._a)

    # a one-element array converts to a Python number, as CuPy's do (synchronizing the GPU)
    def __bool__(self) -> bool:
        return bool(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __repr__(self) -> str:
        return f"standin.ndarray({self._a!r}, gpu={self._gpu})"

    def __copy__(self):
        return ndarray(self._a.copy(), self._gpu)

    def __deepcopy__(self, memo):
        return ndarray(self._a.copy(), self._gpu)

    def __reduce__(self):
        return (ndarray, (self._a, self._gpu))


def _binary(name: str):
    def op(self, other):
        return _device(getattr(self._a, name)(_host(other, name)), self._gpu)

    op.__name__ = name
    return op


def _inplace(name: str):
    def op(self, other):
        getattr(self._a, name)(_host(other, name))
        return self

    op.__name__ = name
    return op


def _unary(name: str):
    def op(self):
        return _device(getattr(self._a, name)(), self._gpu)

    op.__name__ = name
    return op


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor", "lshift",
            "rshift"):
    for _name in (f"__{_op}__", f"__r{_op}__"):
        setattr(ndarray, _name, _binary(_name))
    setattr(ndarray, f"__i{_op}__", _inplace(f"__i{_op}__"))
for _name in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
    setattr(ndarray, _name, _binary(_name))
for _name in ("__neg__", "__pos__", "__abs__", "__invert__"):
    setattr(ndarray, _name, _unary(_name))


def _upload(a, dtype=None, copy: bool = False):
    """``cupy.asarray``/``cupy.array``: an explicit upload of host data (or a device array as is)."""
    if isinstance(a, ndarray):
        out = a._a.astype(dtype) if dtype is not None else a._a
        return ndarray(out.copy() if copy and out is a._a else out, a._gpu)
    _State.uploads += 1
    return ndarray(np.array(a, dtype=dtype, copy=True), _State.current)


class _Module(types.ModuleType):
    """The stand-in module: what it defines, and every other NumPy name wrapped for device arrays."""

    def __getattr__(self, name):
        if name == "random":
            raise AttributeError("the stand-in has no random module: glassgrad draws every random number from its "
                                 "one generator and copies it to the device")
        return _wrap_attr(getattr(np, name), name)


def uploads() -> int:
    """How many times host data was copied to the device (``asarray``/``array``) so far."""
    return _State.uploads


def make(gpus: int = 2) -> types.ModuleType:
    """A fresh stand-in for ``cupy`` that reports ``gpus`` GPUs; its ``special`` attribute stands
    in for ``cupyx.scipy.special``."""
    module = _Module("standin_cupy")
    module.ndarray = ndarray
    module.asarray = lambda a, dtype=None: _upload(a, dtype)
    module.array = lambda a, dtype=None, copy=True: _upload(a, dtype, copy)
    module.asnumpy = lambda a: a.get() if isinstance(a, ndarray) else np.asarray(a)
    module.cuda = types.SimpleNamespace(Device=_Device, runtime=types.SimpleNamespace(getDeviceCount=lambda: gpus))
    module.special = _Namespace(scipy.special, "special")
    _State.current = _State.uploads = 0
    return module
