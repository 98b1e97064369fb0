"""Lecture 5's lab, quick setting: every claim must hold, on MNIST and on the 8x8-digits fallback."""

import pytest

from glassgrad.labs import get_lab, run_lab


def _check(result, dataset):
    assert result.error is None, result.error
    failed = [c for c in result.claims if not c.holds]
    assert not failed, failed
    # the 8x8 digits' 360 test images are too few to measure Keskar et al.'s generalization gap, so
    # that claim is made on MNIST only
    assert len(result.claims) == (11 if dataset == "MNIST" else 10) and len(result.figures) == 5
    assert all(c.expected for c in result.claims)
    assert result.results["dataset"] == dataset
    batches = [row["batch"] for row in result.results["timing"]]
    assert batches[:4] == [1, 10, 100, 1000] and len(batches) == 5  # and the full batch


def test_batch_momentum_claims_hold_on_mnist(tmp_path, real_mnist):
    if real_mnist is None:
        pytest.skip("the real MNIST files are not on this machine")
    _check(run_lab(get_lab("batch-momentum"), tmp_path, progress=False), "MNIST")


def test_batch_momentum_falls_back_to_digits_and_says_so(tmp_path, no_mnist):
    with pytest.warns(UserWarning, match="MNIST is not available"):
        result = run_lab(get_lab("batch-momentum"), tmp_path, progress=False)
    _check(result, "8x8 digits")
    assert "8x8 digits" in result.text[0]
