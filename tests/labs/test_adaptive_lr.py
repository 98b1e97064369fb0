"""Lecture 6's lab: every claim holds in the quick setting, and the lab's Adagrad runs are the
lecture's formulas."""

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.labs import adaptive_lr as lab
from glassgrad.labs import get_lab, run_lab


def test_adaptive_lr_claims_hold(tmp_path):
    result = run_lab(get_lab("adaptive-lr"), tmp_path, progress=False)
    assert result.error is None, result.error
    failed = [c for c in result.claims if not c.holds]
    assert not failed, failed
    assert len(result.claims) == 9 and len(result.figures) == 5
    assert all(c.expected for c in result.claims)  # each says what it expects


def lecture_adagrad(steps: int, eta: float, decay: bool) -> np.ndarray:
    """The lecture's Adagrad written out in NumPy: sigma_t = sqrt(mean of g_0^2 .. g_t^2) per
    coordinate, w <- w - eta_t / sigma_t * g_t, eta_t = eta (no decay) or eta / sqrt(t + 1)."""
    w, sum_sq, path = lab.START.copy(), np.zeros(2), [lab.START.copy()]
    for t in range(steps):
        g = lab.A @ w
        sum_sq += g * g
        eta_t = eta / np.sqrt(t + 1) if decay else eta
        w = w - eta_t * g / np.sqrt(sum_sq / (t + 1))
        path.append(w)
    return np.array(path)


@pytest.mark.parametrize("decay", [False, True])
def test_the_lab_runs_the_lectures_adagrad_through_gg_optim(decay):
    """Without decay: gg.optim.Adagrad with its lr grown as sqrt(t+1); with decay: Adagrad as it is."""
    def grown(opt):
        return gg.optim.lr_scheduler.LambdaLR(opt, lambda t: np.sqrt(t + 1))

    eta = 1.5 if decay else 0.05
    ours = lab.run_optimizer(lambda p: gg.optim.Adagrad(p, lr=eta), 300, schedule=None if decay else grown,
                             adagrad_sigma=True)
    np.testing.assert_allclose(ours.path, lecture_adagrad(300, eta, decay), rtol=1e-8, atol=1e-12)


def test_applied_learning_rates_are_measured_from_the_steps():
    lrs = lab.applied_learning_rates(lambda opt: gg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5), 5)
    np.testing.assert_allclose(lrs, [1.0, 1.0, 0.5, 0.5, 0.25], rtol=1e-15)
