"""Let glibc's malloc keep freed memory, so that fresh NumPy arrays do not page-fault.

A training step allocates the same large arrays (activations, gradients) again every step. By
default glibc serves each allocation of more than ~128 KiB-32 MiB with a fresh ``mmap`` and
returns it to the system on ``free``, and trims the heap's free top above 128 KiB; so every
step the kernel hands out zeroed pages again, one page fault per 4 KiB on first write. On a
LeNet step that was a third of glassgrad's time (ReLU on the first conv's output: ~600 us in a
step, ~120 us with the memory kept). Raising the two thresholds makes freed blocks go back to the
heap and stay there, as PyTorch's own allocators keep memory for reuse.

It is a process-wide choice (it also affects NumPy and every other library in the process), made
once when glassgrad is imported (this module applies it on import), only on glibc (Linux), and
only when the user has not tuned malloc already (``GLIBC_TUNABLES`` or ``MALLOC_*_``
variables). Set ``GLASSGRAD_MALLOC=system`` to leave malloc as it is. The cost: freed memory
stays in the process (up to ``_TRIM_BYTES`` of free heap top), so the resident size reflects the
peak of a run rather than its current use.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD = -1  # mallopt parameter numbers, from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
# The largest mmap threshold glibc accepts on 64-bit systems (HEAP_MAX_SIZE / 2): blocks larger
# than this are still mmapped and returned at once.
_MMAP_BYTES = 32 * 1024 * 1024
_TRIM_BYTES = 1024 * 1024 * 1024  # free heap top kept before glibc returns it to the system

applied = False  # whether keep_freed_memory changed malloc's settings in this process


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds (see the module docstring); True if it did."""
    global applied
    if applied:
        return True
    if os.environ.get("GLASSGRAD_MALLOC", "").lower() == "system":
        return False
    if not sys.platform.startswith("linux") or _user_tuned(os.environ):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
        # gnu_get_libc_version exists only in glibc: musl and others are left alone
        libc.gnu_get_libc_version  # noqa: B018
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    applied = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_BYTES))
    return applied


def _user_tuned(environ) -> bool:
    """True when the environment already sets malloc's thresholds (their choice wins)."""
    if "malloc" in environ.get("GLIBC_TUNABLES", ""):
        return True
    return any(k in environ for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"))


keep_freed_memory()  # on import (glassgrad/__init__ imports this module first)
