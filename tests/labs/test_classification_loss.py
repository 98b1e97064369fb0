"""Lecture 7's lab, quick setting: every claim must hold, on MNIST and on the 8x8-digits fallback."""

import pytest

from glassgrad.labs import get_lab, run_lab


def _check(result, dataset):
    assert result.error is None, result.error
    failed = [c for c in result.claims if not c.holds]
    assert not failed, failed
    assert len(result.claims) == 12 and len(result.figures) == 4
    assert all(c.expected for c in result.claims)
    assert result.results["dataset"] == dataset


def test_classification_loss_claims_hold_on_mnist(tmp_path, real_mnist):
    if real_mnist is None:
        pytest.skip("the real MNIST files are not on this machine")
    _check(run_lab(get_lab("classification-loss"), tmp_path, progress=False), "MNIST")


def test_classification_loss_falls_back_to_digits_and_says_so(tmp_path, no_mnist):
    with pytest.warns(UserWarning, match="MNIST is not available"):
        result = run_lab(get_lab("classification-loss"), tmp_path, progress=False)
    _check(result, "8x8 digits")
    assert "8x8 digits" in result.text[0]
