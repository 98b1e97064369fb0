"""Devices: where a tensor's memory lives, ``glassgrad.device("cpu")`` or ``device("cuda:0")``.

A device is a type ("cpu" or "cuda") and, for a GPU, an index (which GPU; None means "the current
one"). glassgrad computes on NumPy, so "cpu" is always there; "cuda" works where CuPy and a GPU
are (see ``glassgrad.cuda.is_available``), and ``_backend.py`` maps a device to its array module.

This module also holds what turns the arguments of ``Tensor.to`` / ``Module.to`` into a device
and a dtype, and ``ToDevice``, the differentiable move of a tensor from one device to another.
"""

from __future__ import annotations

import re

import numpy as np

from glassgrad import _dtype
from glassgrad.autograd.function import Function

_TYPES = ("cpu", "cuda")
_DEVICE_STRING = re.compile(r"(cpu|cuda)(?::(0|[1-9][0-9]*))?")
_ACCEPTED = "'cpu', 'cuda' or 'cuda:<index>' (e.g. 'cuda:0')"


class device:  # noqa: N801 - PyTorch's name
    """Where a tensor lives: ``device("cpu")``, ``device("cuda")``, ``device("cuda:1")``,
    ``device("cuda", 1)``, or ``device(other_device)``.

    ``str`` gives PyTorch's spelling ("cpu", "cuda:1"). Two devices are equal when their type and
    index are; a device also equals its string, so ``x.device == "cpu"`` works (PyTorch says
    False there; glassgrad says what the reader means). Devices are immutable and hashable.
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type: str | device | int, index: int | None = None):  # noqa: A002 - PyTorch's name
        if isinstance(type, device):
            if index is not None:
                raise RuntimeError(f"device(): an index cannot be given with a device ({type}), got index {index}")
            kind, idx = type._type, type._index
        elif isinstance(type, int) and not isinstance(type, bool):  # device(1) means GPU 1, as torch
            kind, idx = "cuda", _check_index(type)
        elif isinstance(type, str):
            kind, idx = _parse(type)
            if index is not None:
                if idx is not None:
                    raise RuntimeError(
                        f"device(): {type!r} already names an index, so no index may be passed, got index {index}"
                    )
                idx = _check_index(index)
        else:
            raise TypeError(f"device(): expected a string such as {_ACCEPTED}, got {_name_of(type)}")
        object.__setattr__(self, "_type", kind)
        object.__setattr__(self, "_index", idx)

    @property
    def type(self) -> str:
        """'cpu' or 'cuda'."""
        return self._type

    @property
    def index(self) -> int | None:
        """Which GPU (None: the current one, and always for the CPU unless written 'cpu:0')."""
        return self._index

    def __setattr__(self, name, value):
        raise AttributeError("a glassgrad.device cannot be changed; make a new one")

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self) -> str:
        index = "" if self._index is None else f", index={self._index}"
        return f"device(type='{self._type}'{index})"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except RuntimeError:
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self._type == other._type and self._index == other._index

    def __hash__(self) -> int:
        return hash(str(self))  # equal to its string, so it hashes like it

    def __reduce__(self):
        return (device, (self._type, self._index))


def _check_index(index) -> int:
    if not isinstance(index, int) or isinstance(index, bool):
        raise TypeError(f"device(): the index must be an int, got {_name_of(index)}")
    if index < 0:
        raise RuntimeError(f"device(): the index must not be negative, got {index}")
    return index


def _parse(s: str) -> tuple[str, int | None]:
    m = _DEVICE_STRING.fullmatch(s)
    if m is None:
        hint = " (glassgrad runs on the CPU, or on NVIDIA GPUs through CuPy)" if s.split(":")[0] not in _TYPES else ""
        raise RuntimeError(f"device(): expected {_ACCEPTED}, got {s!r}{hint}")
    return m.group(1), None if m.group(2) is None else int(m.group(2))


def _name_of(x) -> str:
    return repr(x) if isinstance(x, (str, int, float)) else type(x).__name__


CPU = device("cpu")  # the device of every NumPy-backed tensor (one shared, immutable object)


def as_device(d) -> device:
    """A device from a device, a string or a GPU index (``None`` is not accepted here)."""
    return d if isinstance(d, device) else device(d)


def _is_dtype_like(x) -> bool:
    if isinstance(x, (_dtype.dtype, np.dtype)):
        return True
    if isinstance(x, str):
        try:
            _dtype.to_dtype(x)
        except TypeError:
            return False
        return True
    return isinstance(x, type) and (x in (float, int, bool) or issubclass(x, np.generic))


def parse_to(who: str, args: tuple, kwargs: dict) -> tuple[device | None, _dtype.dtype | None, bool]:
    """The (device, dtype, copy) asked for by PyTorch's ``to`` signatures:

    ``to(dtype)``, ``to(device, dtype=None)``, ``to(other_tensor)`` (its device and dtype), and
    ``to(device=..., dtype=...)``; each may be followed by ``non_blocking`` (accepted, and moot
    here: copies finish before the call returns) and ``copy``. A missing part is None.
    """
    from glassgrad._tensor import Tensor

    kwargs = dict(kwargs)
    dev, dt = kwargs.pop("device", None), kwargs.pop("dtype", None)
    flags = {"non_blocking": kwargs.pop("non_blocking", False), "copy": kwargs.pop("copy", False)}
    kwargs.pop("memory_format", None)  # glassgrad has one memory layout
    if kwargs:
        raise TypeError(f"{who}: unexpected keyword argument(s) {sorted(kwargs)}")
    args = list(args)
    if args and not isinstance(args[0], bool):  # a bool first is non_blocking
        first = args.pop(0)
        if isinstance(first, Tensor):
            dev, dt = first.device, first.dtype
        elif _is_dtype_like(first):
            dt = first
        elif isinstance(first, (str, device, int)):
            dev = first
            if args and not isinstance(args[0], bool):
                dt = args.pop(0)
        elif first is not None:
            raise TypeError(f"{who}: expected a device (e.g. 'cpu'), a dtype or a tensor, got {_name_of(first)}")
    if len(args) > 2:
        raise TypeError(f"{who}: too many arguments ({len(args)} after the device and dtype)")
    for name, value in zip(("non_blocking", "copy"), args):
        if not isinstance(value, bool):
            raise TypeError(f"{who}: expected a device, a dtype or a tensor, got {_name_of(value)}")
        flags[name] = value
    return (
        None if dev is None else as_device(dev),
        None if dt is None else _as_dtype(who, dt),
        bool(flags["copy"]),
    )


def _as_dtype(who: str, dt) -> _dtype.dtype:
    if not _is_dtype_like(dt):
        raise TypeError(f"{who}: expected a dtype (e.g. glassgrad.float64), got {_name_of(dt)}")
    return _dtype.to_dtype(dt)


class ToDevice(Function):
    """Copy to another device; the gradient goes back to the device the input came from."""

    uses_inputs = False

    def __init__(self, target: device):
        self.target = target

    def forward(self, x):
        from glassgrad import _backend

        self.source = _backend.device_of(x)
        return _backend.to_device(x, self.target)

    def backward(self, gy):
        return gy.to(self.source)
