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


def test_backward_signal_fades_by_about_six_per_layer():
    """fan_out Var(w) / 2 = 1/6 per hidden Linear + ReLU with PyTorch's default initialization."""
    import numpy as np

    import glassgrad as gg
    from glassgrad.labs.strategy import backward_signal, mlp

    gg.manual_seed(0)
    rng = np.random.default_rng(0)
    model = mlp(30, 64, 12)
    x, y = gg.tensor(rng.normal(size=(400, 30)).astype(np.float32)), gg.tensor(rng.integers(0, 10, 400))
    signal = backward_signal(model, x, y)
    assert len(signal) == 11
    fade = np.exp(np.mean(np.log(signal[1:] / signal[:-1])))
    assert 4 < fade < 9
    assert all(p.grad is None or not np.any(p.grad.numpy()) for p in model.parameters())
