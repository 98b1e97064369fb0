"""Lecture 2's piecewise lab, quick setting: every claim must hold (fixed seed)."""

import numpy as np

import glassgrad as gg
from glassgrad.labs import get_lab, run_lab
from glassgrad.labs.piecewise import ParallelNets, piecewise_linear


def test_piecewise_claims_hold(tmp_path):
    result = run_lab(get_lab("piecewise"), tmp_path, progress=False)
    assert result.error is None, result.error
    failed = [c for c in result.claims if not c.holds]
    assert not failed, failed
    assert len(result.claims) == 6 and len(result.figures) == 4


def test_piecewise_linear_is_constant_outside_and_exact_inside():
    knots, values = np.array([0.0, 1.0, 3.0]), np.array([1.0, -1.0, 2.0])
    x = np.array([-5.0, 0.0, 0.5, 1.0, 2.0, 3.0, 9.0])
    got = piecewise_linear(gg.tensor(x), knots, values).numpy()
    np.testing.assert_allclose(got, [1.0, 1.0, 0.0, -1.0, 0.5, 2.0, 2.0], atol=1e-15)


def test_parallel_nets_train_like_separate_networks():
    """Summing the runs' losses gives each run exactly the gradient it would get alone."""
    nets = ParallelNets(3, 4, "relu", np.random.default_rng(0))
    x, y = gg.tensor(np.linspace(-1, 1, 7)), gg.tensor(np.linspace(0, 1, 7)[:, None])
    ((nets(x) - y) ** 2).mean(0).sum().backward()
    together = nets.w.grad.numpy().copy()
    for r in range(3):
        nets.zero_grad()
        ((nets(x)[:, r] - y[:, 0]) ** 2).mean().backward()
        np.testing.assert_allclose(nets.w.grad.numpy()[r], together[r], rtol=1e-12)
        assert not np.any(np.delete(nets.w.grad.numpy(), r, axis=0))


def test_fitted_sigmoid_steepness_scales_with_the_ramp():
    from glassgrad.labs.piecewise import fit_sigmoid

    x = np.linspace(-3, 3, 1201)
    wd = [fit_sigmoid(x, np.clip(x / d + 0.5, 0, 1), 600, 0.2, cosine=True).w * d for d in (1.0, 2.0)]
    assert 4.5 < wd[0] < 6 and abs(wd[0] - wd[1]) < 0.05 * wd[0]
