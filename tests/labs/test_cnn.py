"""Lecture 8's lab, quick setting, on the real MNIST: every claim must hold."""

from pathlib import Path

import pytest

from glassgrad.labs import get_lab, run_lab
from tests.conftest import MNIST_DIR

SHARED_MNIST = Path("/work/shared/data/mnist")


def test_cnn_claims_hold(tmp_path, monkeypatch):
    mnist = MNIST_DIR if MNIST_DIR.is_dir() else SHARED_MNIST
    monkeypatch.setenv("GLASSGRAD_DATA", str(mnist))
    result = run_lab(get_lab("cnn"), tmp_path, progress=False)
    assert result.error is None, result.error
    assert result.results["dataset"] == "MNIST"
    failed = [c for c in result.claims if not c.holds]
    assert not failed, failed
    assert len(result.claims) == 8
    assert sorted(result.figures) == sorted(
        f"{n}.png" for n in ("training_curves", "filters", "feature_maps", "confusion_matrix", "misclassified",
                             "augmentation")
    )


def test_cnn_without_mnist_uses_the_digits_and_says_so(tmp_path, monkeypatch):
    def no_mnist(*args, **kwargs):
        raise FileNotFoundError("MNIST hidden by the test")

    monkeypatch.setattr("glassgrad.datasets.digits.load_mnist", no_mnist)
    with pytest.warns(UserWarning, match="8x8 digits"):
        result = run_lab(get_lab("cnn"), tmp_path, progress=False)
    assert result.error is None, result.error
    assert result.results["dataset"].startswith("scikit-learn 8x8 digits")
    assert any("MNIST was not available" in t for t in result.text)
    failed = [c for c in result.claims if not c.holds]
    assert not failed, failed
