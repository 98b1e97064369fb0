import numpy as np

import glassgrad as gg
from glassgrad.analysis import loss_at_function, loss_line, loss_plane, project_trajectory, random_directions


def _quadratic():
    w = gg.tensor([1.0, 2.0], dtype=gg.float64, requires_grad=True)
    scale = gg.tensor([1.0, 10.0], dtype=gg.float64)
    return w, (lambda: (scale * w * w).sum())


def test_plane_matches_closed_form_and_restores_params():
    w, loss_fn = _quadratic()
    loss_at = loss_at_function(loss_fn, [w])
    center = np.array([1.0, 2.0])
    alphas, betas = np.linspace(-1, 1, 5), np.linspace(-2, 2, 3)
    grid = loss_plane(loss_at, center, np.array([1.0, 0]), np.array([0, 1.0]), alphas, betas)
    expected = np.array([[(1 + a) ** 2 + 10 * (2 + b) ** 2 for a in alphas] for b in betas])
    np.testing.assert_allclose(grid, expected)
    np.testing.assert_array_equal(w.detach().numpy(), [1.0, 2.0])  # put back after each call
    line = loss_line(loss_at, center, np.array([0, 1.0]), np.array([0.0, -2.0]))
    np.testing.assert_allclose(line, [41.0, 1.0])


def test_filter_normalized_directions():
    gg.manual_seed(3)
    weight = gg.randn(4, 6, dtype=gg.float64)
    bias = gg.randn(4, dtype=gg.float64)
    (d,) = random_directions([weight, bias], n=1)
    dw, db = d[:24].reshape(4, 6), d[24:]
    np.testing.assert_allclose(np.linalg.norm(dw, axis=1), np.linalg.norm(weight.numpy(), axis=1))
    assert not db.any()


def test_project_trajectory_recovers_plane_coordinates():
    center = np.zeros(3)
    d1, d2 = np.array([1.0, 0, 1]), np.array([0, 2.0, 0])
    pts = [center + a * d1 + b * d2 for a, b in [(0.5, -1), (2, 3)]]
    np.testing.assert_allclose(project_trajectory(pts, center, d1, d2), [[0.5, -1], [2, 3]])
