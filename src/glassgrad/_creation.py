"""Functions that create tensors: filled, ranges, identity, and random draws.

Each takes ``device=`` as PyTorch's do. Filled tensors, ranges and identities are made directly
by the device's array module (``_backend.module_on``): NumPy for the CPU, CuPy on a GPU.
Random draws come from glassgrad's one generator, which draws on the CPU, and are then copied to
the device (``_backend.to_device``): a seed gives the same numbers on every device.
"""

from __future__ import annotations

import numpy as np

from glassgrad import _backend, _dtype
from glassgrad._device import as_device
from glassgrad._random import _generator_of
from glassgrad._tensor import Tensor


def _size(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"expected a size of non-negative integers, got {tuple(size)}")
    return tuple(int(s) for s in size)


def _float_dtype(dtype) -> np.dtype:
    return (_dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)).numpy


def _make(device, fn: str, *args, **kwargs):
    """``xp.fn(*args, **kwargs)`` with the array module of ``device`` (the CPU if None), made there."""
    if device is None:
        return getattr(np, fn)(*args, **kwargs)
    with _backend.module_on(as_device(device)) as xp:
        return getattr(xp, fn)(*args, **kwargs)


def _new(array, requires_grad: bool, device=None) -> Tensor:
    if device is not None:
        array = _backend.to_device(array, as_device(device))
    t = Tensor._wrap(array, False)
    if requires_grad:
        t.requires_grad = True
    return t


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _new(_make(device, "zeros", _size(size), _float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _new(_make(device, "ones", _size(size), _float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _new(_make(device, "empty", _size(size), _float_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (its dtype follows the value, as PyTorch)."""
    if dtype is None:
        dtype = _dtype.result_type(fill_value)
    array = _make(device, "full", _size((size,)), fill_value, _dtype.to_dtype(dtype).numpy)
    return _new(array, requires_grad)


def _like(x: Tensor, dtype, device) -> tuple:
    """The dtype and device of a ``*_like`` result: those given, else ``x``'s (as PyTorch)."""
    return (x._data.dtype if dtype is None else _dtype.to_dtype(dtype).numpy), (x.device if device is None else device)


def zeros_like(x: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dtype, device = _like(x, dtype, device)
    return _new(_make(device, "zeros", x.shape, dtype), requires_grad)


def ones_like(x: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dtype, device = _like(x, dtype, device)
    return _new(_make(device, "ones", x.shape, dtype), requires_grad)


def full_like(x: Tensor, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dtype, device = _like(x, dtype, device)
    return _new(_make(device, "full", x.shape, fill_value, dtype), requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` (0 if only one bound is given) up to ``end``, exclusive."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(f"arange: step {step} has the wrong sign to go from {start} to {end}")
    if dtype is None:
        dtype = _dtype.result_type(start, end, step)
    d = _dtype.to_dtype(dtype).numpy
    # PyTorch computes the length in double precision, then fills start + i * step
    n = max(0, int(np.ceil((end - start) / step)))
    return _new((start + _make(device, "arange", n, dtype=np.float64) * step).astype(d), requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    return _new(_make(device, "linspace", start, end, steps, dtype=_float_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _new(_make(device, "eye", n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1)."""
    g = _generator_of(generator)
    return _new(g.random(_size(size), _float_dtype(dtype)), requires_grad, device)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal."""
    g = _generator_of(generator)
    return _new(g.standard_normal(_size(size), _float_dtype(dtype)), requires_grad, device)


def rand_like(x: Tensor, generator=None, dtype=None, device=None) -> Tensor:
    dtype, device = _like(x, dtype, device)
    return rand(*x.shape, generator=generator, dtype=dtype, device=device)


def randn_like(x: Tensor, generator=None, dtype=None, device=None) -> Tensor:
    dtype, device = _like(x, dtype, device)
    return randn(*x.shape, generator=generator, dtype=dtype, device=device)


def randint(low, high=None, size=(), generator=None, dtype=None, device=None) -> Tensor:
    """Integers uniform on [low, high) (``randint(high, size)`` means low = 0), int64."""
    if isinstance(high, (tuple, list)):  # randint(high, size)
        high, size = None, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    g = _generator_of(generator)
    a = g.integers(low, high, _size((size,)))
    return _new(a if dtype is None else a.astype(_dtype.to_dtype(dtype).numpy), False, device)


def randperm(n: int, generator=None, dtype=None, device=None) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    if n < 0:
        raise ValueError(f"randperm: n must be non-negative, got {n}")
    a = _generator_of(generator).permutation(n)
    return _new(a if dtype is None else a.astype(_dtype.to_dtype(dtype).numpy), False, device)


def bernoulli(p: Tensor, generator=None) -> Tensor:
    """0/1 draws with probabilities ``p`` (same shape and dtype as ``p``)."""
    g = _generator_of(generator)
    return _new(g.bernoulli(_backend.to_numpy(p._data), p.shape).astype(p._data.dtype), False, p.device)
