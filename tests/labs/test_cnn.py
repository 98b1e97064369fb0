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


def _weight_sharing_claim(tmp_path):
    import numpy as np

    import glassgrad as gg
    from glassgrad.labs._lab import LabContext
    from glassgrad.labs.cnn import make_cnn, shared_weight_gradient

    gg.manual_seed(0)
    x = np.random.default_rng(0).normal(size=(4, 1, 8, 8)).astype(np.float32)
    ctx = LabContext(out_dir=tmp_path)
    shared_weight_gradient(ctx, make_cnn((3, 4), 8), x, np.arange(4))
    return ctx.claims[-1]


def test_weight_sharing_claim_holds_and_catches_a_wrong_relu_derivative(tmp_path, monkeypatch):
    assert _weight_sharing_claim(tmp_path).holds
    from glassgrad.functions.activation import ReLU

    backward = ReLU.backward
    monkeypatch.setattr(ReLU, "backward", lambda self, gy: backward(self, gy) * 0.5)
    assert not _weight_sharing_claim(tmp_path).holds
