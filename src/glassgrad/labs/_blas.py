"""Run a lab's NumPy arithmetic on one BLAS thread (``run_lab`` does this around every lab).

The labs train small models: BLAS threads gain little there, and on a machine whose few cores are
busy with other programs they cost a lot, since a multi-threaded matrix product waits for its
slowest thread (single updates then take 10-100x longer, and timings become noise). threadpoolctl
comes with scikit-learn, a dependency of glassgrad.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def one_blas_thread() -> Iterator[bool]:
    """Limit NumPy's BLAS to one thread inside the block; yields whether the limit could be set."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield False
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield True
