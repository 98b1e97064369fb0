"""Lecture 3's lab, quick setting, on the real MNIST: every claim must hold."""

from pathlib import Path

import pytest

from glassgrad.labs import get_lab, run_lab
from tests.conftest import MNIST_DIR

SHARED_MNIST = Path("/work/shared/data/mnist")


@pytest.fixture
def mnist(monkeypatch):
    for root in (MNIST_DIR, SHARED_MNIST):
        if (root / "train-images-idx3-ubyte.gz").is_file():
            monkeypatch.setenv("GLASSGRAD_DATA", str(root))
            return
    pytest.skip("the real MNIST files are not available")


def test_strategy_claims_hold(tmp_path, mnist):
    result = run_lab(get_lab("strategy"), tmp_path, progress=False)
    assert result.error is None, result.error
    assert result.results["data"].startswith("MNIST"), result.results["data"]
    failed = [c for c in result.claims if not c.holds]
    assert not failed, failed
    assert len(result.claims) == 7 and len(result.figures) == 4
