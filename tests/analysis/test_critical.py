import numpy as np
import pytest
import torch

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.analysis import classify, critical_point_of, escape_saddle, hessian_of


def _lecture_example():
    w1 = gg.tensor(0.0, dtype=gg.float64, requires_grad=True)
    w2 = gg.tensor(0.0, dtype=gg.float64, requires_grad=True)
    return (lambda: (1 - w1 * w2) ** 2), [w1, w2]


def test_lecture_saddle_closed_form():
    loss_fn, params = _lecture_example()
    r = critical_point_of(loss_fn, params)
    assert r.grad_norm == 0.0
    np.testing.assert_allclose(r.hessian, [[0, -2], [-2, 0]], atol=1e-12)
    np.testing.assert_allclose(r.eigenvalues, [-2, 2], atol=1e-12)
    assert r.minimum_ratio == 0.5
    assert r.verdict == "saddle point"


def test_escape_along_negative_eigenvector_lowers_loss():
    loss_fn, params = _lecture_example()
    before, after, u = escape_saddle(loss_fn, params, step=0.5)
    # u is +-[1, 1]/sqrt(2); L(t u) = (1 - t^2/2)^2
    np.testing.assert_allclose(np.abs(u), [2**-0.5, 2**-0.5], atol=1e-12)
    assert before == 1.0
    assert after == pytest.approx((1 - 0.25 / 2) ** 2)
    assert after < before


def _mlp_problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, 3))
    y = rng.standard_normal((16, 1))
    w1, b1 = rng.standard_normal((5, 3)), rng.standard_normal(5)
    w2, b2 = rng.standard_normal((1, 5)), rng.standard_normal(1)
    return x, y, [w1, b1, w2, b2]


def test_hessian_matches_torch_for_mlp():
    x, y, weights = _mlp_problem()
    gp = [gg.tensor(w, requires_grad=True) for w in weights]
    gx, gy = gg.tensor(x), gg.tensor(y)

    def g_loss():
        h = F.tanh(F.linear(gx, gp[0], gp[1]))
        return ((F.linear(h, gp[2], gp[3]) - gy) ** 2).mean()

    loss, grad, hess = hessian_of(g_loss, gp)

    tx, ty = torch.tensor(x), torch.tensor(y)
    sizes = [w.size for w in weights]

    def t_loss(flat):
        parts = torch.split(flat, sizes)
        w1, b1, w2, b2 = (p.reshape(w.shape) for p, w in zip(parts, weights))
        h = torch.tanh(tx @ w1.T + b1)
        return ((h @ w2.T + b2 - ty) ** 2).mean()

    flat = torch.tensor(np.concatenate([w.reshape(-1) for w in weights]))
    t_hess = torch.autograd.functional.hessian(t_loss, flat).numpy()
    np.testing.assert_allclose(hess, t_hess, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        np.linalg.eigvalsh(hess), np.linalg.eigvalsh(t_hess), rtol=1e-9, atol=1e-12
    )
    assert loss == pytest.approx(float(t_loss(flat)), rel=1e-12)


def test_lanczos_finds_the_extreme_eigenvalues():
    x, y, weights = _mlp_problem(1)
    gp = [gg.tensor(w, requires_grad=True) for w in weights]
    gx, gy = gg.tensor(x), gg.tensor(y)

    def loss_fn():
        h = F.tanh(F.linear(gx, gp[0], gp[1]))
        return ((F.linear(h, gp[2], gp[3]) - gy) ** 2).mean()

    exact = critical_point_of(loss_fn, gp)
    approx = critical_point_of(loss_fn, gp, exact_limit=5, k=3)
    assert approx.method == "lanczos"
    np.testing.assert_allclose(approx.eigenvalues[:3], exact.eigenvalues[:3], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(approx.eigenvalues[-3:], exact.eigenvalues[-3:], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "grad_norm, eigs, verdict",
    [
        (1e-2, [1.0, 2.0], "not a critical point"),
        (0.0, [1.0, 2.0], "local minimum"),
        (0.0, [-1.0, -2.0], "local maximum"),
        (0.0, [-1.0, 2.0], "saddle point"),
        (0.0, [0.0, 0.0], "flat (all eigenvalues ~ 0): undecided"),
    ],
)
def test_classify(grad_norm, eigs, verdict):
    assert classify(grad_norm, np.array(eigs)) == verdict


def test_minimum_at_a_convex_bowl():
    w = gg.tensor([1.0, -2.0], dtype=gg.float64, requires_grad=True)
    r = critical_point_of(lambda: (w * w * gg.tensor([1.0, 3.0], dtype=gg.float64)).sum() - 0 * w.sum(), [w])
    assert r.verdict == "not a critical point"  # gradient is not zero away from the minimum
    with gg.no_grad():
        w.zero_()
    r = critical_point_of(lambda: (w * w * gg.tensor([1.0, 3.0], dtype=gg.float64)).sum(), [w])
    np.testing.assert_allclose(r.eigenvalues, [2.0, 6.0])
    assert r.verdict == "local minimum" and r.minimum_ratio == 1.0
