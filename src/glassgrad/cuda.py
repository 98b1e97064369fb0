"""``glassgrad.cuda``: whether tensors can go to an NVIDIA GPU, and how many there are.

glassgrad computes on NumPy; on a GPU it uses CuPy, NumPy's GPU twin. So CUDA is available when
CuPy can be imported and sees at least one GPU. The usual first line of a training script works
either way::

    device = glassgrad.device("cuda" if glassgrad.cuda.is_available() else "cpu")
"""

from __future__ import annotations

from glassgrad import _backend


def is_available() -> bool:
    """True when CuPy is installed and finds at least one GPU."""
    return _backend.cuda_unavailable_reason() is None


def device_count() -> int:
    """The number of GPUs CuPy sees (0 without CuPy or without a GPU)."""
    return _backend.cuda_device_count()


def _cupy():
    reason = _backend.cuda_unavailable_reason()
    if reason is not None:
        raise RuntimeError(reason)
    import cupy

    return cupy


def current_device() -> int:
    """The index of the GPU that new CUDA tensors go to by default."""
    return _cupy().cuda.Device().id


def synchronize() -> None:
    """Wait until the current GPU has finished all queued work (for timing GPU code)."""
    _cupy().cuda.Device().synchronize()


def manual_seed(seed: int) -> None:
    """Accepted for PyTorch scripts, and does nothing: glassgrad draws the random numbers of every
    device from its one generator (seed it with ``glassgrad.manual_seed``) and copies them over."""


manual_seed_all = manual_seed
