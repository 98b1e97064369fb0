"""Lecture 4's lab: every claim holds in the quick setting, and the claims' checks fail on a Hessian
that is not the loss's (a random symmetric matrix, or the true one with an error added)."""

import numpy as np
import pytest

import glassgrad.nn as nn
from glassgrad.analysis import critical_point, model_loss_at
from glassgrad.labs import critical_points as cp
from glassgrad.labs import get_lab, run_lab


def test_critical_points_claims_hold(tmp_path):
    result = run_lab(get_lab("critical-points"), tmp_path, progress=False)
    assert result.error is None, result.error
    failed = [c for c in result.claims if not c.holds]
    assert not failed, failed
    assert len(result.claims) == 7 and len(result.figures) == 4
    runs = result.results["runs"]
    assert len(runs) == cp.QUICK_RUNS
    assert all(r["zero"] >= 3 * r["dead_units"] and r["lambda_max"] > 0 for r in runs)
    assert all(c.expected for c in result.claims)  # every claim says what it expects


@pytest.fixture(scope="module")
def trained_point():
    """One trained run's exact Hessian, and the loss as a function of the flat parameters."""
    x, y = cp.sinc_data()
    run = cp.train_run(0, x, y)
    report = critical_point(run.model, nn.functional.mse_loss, (x, y))
    loss_at, theta = model_loss_at(run.model, nn.functional.mse_loss, (x, y))
    return report.hessian, loss_at, theta, cp.dead_and_linear_units(run.model, x)[0]


def _passes(hessian, loss_at, theta, dead):
    """(the shape check holds, the curvature check holds) for ``hessian``."""
    shape = cp.hessian_shape(np.linalg.eigvalsh(hessian))
    return cp.trained_net_shape(shape, dead), cp.curvature_error(hessian, loss_at, theta) < cp.CURVATURE_TOL


def test_the_true_hessian_passes_both_checks(trained_point):
    assert _passes(*trained_point) == (True, True)


def test_a_random_symmetric_matrix_fails_both_checks(trained_point):
    hessian, loss_at, theta, dead = trained_point
    rng = np.random.default_rng(0)
    a = rng.normal(size=hessian.shape)
    random = (a + a.T) * np.abs(hessian).max() / np.abs(np.linalg.eigvalsh(a + a.T)).max()  # same scale as H
    assert _passes(random, loss_at, theta, dead) == (False, False)
    # its minimum ratio is about 0.5, as a trained net's was said to be before zero eigenvalues were set apart
    assert 0.4 < cp.hessian_shape(np.linalg.eigvalsh(random)).minimum_ratio < 0.6


@pytest.mark.parametrize("scale", [1.0, 0.1])
def test_the_hessian_plus_a_symmetric_error_fails(trained_point, scale):
    """H + S, S random symmetric with entries of size ``scale`` (the wrong_hvp breakage uses 1)."""
    hessian, loss_at, theta, dead = trained_point
    a = np.random.default_rng(1).normal(0.0, scale, hessian.shape)
    shape_ok, curvature_ok = _passes(hessian + (a + a.T) / np.sqrt(2), loss_at, theta, dead)
    assert not shape_ok
    assert curvature_ok == (scale < 1)  # a small error hides from the curvature check, not from the shape


def test_a_hessian_with_the_first_layer_halved_fails_the_curvature_check(trained_point):
    """What ReLU's derivative halved does to double backprop: the first layer's rows are off."""
    hessian, loss_at, theta, dead = trained_point
    d = np.ones(len(theta))
    d[:2 * cp.HIDDEN] = 0.5  # the first layer's weights and biases come first
    wrong = (d[:, None] * hessian + hessian * d[None, :]) / 2
    assert not _passes(wrong, loss_at, theta, dead)[1]
