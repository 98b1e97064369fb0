"""``set_num_threads`` / ``get_num_threads``: how many threads NumPy's BLAS uses.

glassgrad's heavy arithmetic (matrix products, hence linear and convolution layers) runs in the
BLAS library that NumPy is linked with (OpenBLAS, MKL ...), which starts one thread per core by
default. As ``torch.set_num_threads`` does for PyTorch, these set and report that number, through
threadpoolctl, which knows how to talk to each BLAS. On a machine shared with other programs, or
for small matrices, fewer threads is often faster.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import threadpoolctl


def _blas_libraries() -> list:
    return [info for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]


def set_num_threads(n: int) -> None:
    """Let NumPy's BLAS use ``n`` threads (a positive int) from now on."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise RuntimeError(f"set_num_threads expects a positive int, got {type(n).__name__} {n!r}")
    if n < 1:
        raise RuntimeError(f"set_num_threads expects a positive int, got {n}")
    # used as a call, not as a context manager, the limit stays set after it returns
    threadpoolctl.threadpool_limits(limits=int(n), user_api="blas")


def get_num_threads() -> int:
    """The number of threads NumPy's BLAS uses (1 where no BLAS library could be found, as then
    NumPy computes without one)."""
    return max((info["num_threads"] for info in _blas_libraries()), default=1)


@cache
def _blas_controllers() -> list:
    """threadpoolctl's handles on the BLAS libraries loaded now (NumPy's, loaded with it), made
    once: asking one for its thread count is then a C call of about a microsecond."""
    return threadpoolctl.ThreadpoolController().select(user_api="blas").lib_controllers


def blas_threads() -> int:
    """``get_num_threads()``, cheap enough to ask on every convolution (1 without a BLAS)."""
    return max((lib.num_threads for lib in _blas_controllers()), default=1)
