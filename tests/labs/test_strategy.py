"""Lecture 3's lab, quick setting: every claim must hold, on MNIST and on the 8x8-digits fallback."""

import pytest

from glassgrad.labs import get_lab, run_lab


def _check(result, data_prefix):
    assert result.error is None, result.error
    assert result.results["data"].startswith(data_prefix), result.results["data"]
    failed = [c for c in result.claims if not c.holds]
    assert not failed, failed
    assert len(result.claims) == 6 and len(result.figures) == 4
    overfitting = result.results["overfitting"]
    assert overfitting["label_noise"] == 0.3 and overfitting["flipped_train_labels_memorized"] > 0.9


def test_strategy_claims_hold_on_mnist(tmp_path, real_mnist):
    if real_mnist is None:
        pytest.skip("the real MNIST files are not on this machine")
    _check(run_lab(get_lab("strategy"), tmp_path, progress=False), "MNIST")


def test_strategy_falls_back_to_digits_and_says_so(tmp_path, no_mnist):
    with pytest.warns(UserWarning, match="MNIST is not available"):
        result = run_lab(get_lab("strategy"), tmp_path, progress=False)
    _check(result, "MNIST is not available")
    assert "8x8 digits" in result.text[0]
