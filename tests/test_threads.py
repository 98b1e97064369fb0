"""set_num_threads / get_num_threads: the number of BLAS threads, as PyTorch's."""

import re

import numpy as np
import pytest
import threadpoolctl
import torch

import glassgrad as gg


@pytest.fixture
def restore_threads():
    """Put the BLAS thread count back as it was (it is global state)."""
    before = threadpoolctl.threadpool_info()
    yield
    for info in before:
        if info["user_api"] == "blas":
            threadpoolctl.threadpool_limits(limits=info["num_threads"], user_api="blas")


def _blas_threads() -> set:
    return {info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"}


def test_get_returns_what_was_set(restore_threads):
    for n in (1, 2, 1):
        gg.set_num_threads(n)
        assert gg.get_num_threads() == n and _blas_threads() == {n}
    gg.set_num_threads(np.int64(2))
    assert gg.get_num_threads() == 2


def test_get_reports_the_blas_threads():
    assert isinstance(gg.get_num_threads(), int) and gg.get_num_threads() == max(_blas_threads())


def test_get_without_a_blas_library_is_one(monkeypatch):
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: [])
    assert gg.get_num_threads() == 1


def test_matmul_gives_the_same_numbers_on_any_number_of_threads(restore_threads):
    gg.manual_seed(0)
    a, b = gg.randn(256, 300, dtype=gg.float64), gg.randn(300, 200, dtype=gg.float64)
    results = []
    for n in (1, 2):
        gg.set_num_threads(n)
        results.append((a @ b).numpy().copy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(results[0], (torch.from_numpy(a.numpy()) @ torch.from_numpy(b.numpy())).numpy(),
                               rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2", None], ids=repr)
def test_bad_thread_counts_are_refused_like_torch(bad, restore_threads):
    before = gg.get_num_threads()
    with pytest.raises(RuntimeError):
        torch.set_num_threads(bad)
    with pytest.raises(RuntimeError, match=r"set_num_threads expects a positive int, got .*" + re.escape(str(bad))):
        gg.set_num_threads(bad)
    assert gg.get_num_threads() == before
