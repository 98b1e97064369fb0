"""jacobian, hessian, hvp and vjp against torch.autograd.functional, and the critical point of
L(w1, w2) = (1 - w1 w2)^2 from the course's lecture on saddle points."""

import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import glassgrad as gg
import glassgrad.autograd.functional as GF


def _pair(array):
    """The same float64 data as a glassgrad and a torch tensor."""
    return gg.tensor(array, dtype=gg.float64), torch.tensor(array, dtype=torch.float64)


def _close(a, b, rtol=1e-10):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=1e-12)


def _close_nested(a, b):
    if isinstance(b, (tuple, list)):
        assert isinstance(a, (tuple, list)) and len(a) == len(b)
        for x, y in zip(a, b):
            _close_nested(x, y)
    else:
        assert tuple(a.shape) == tuple(b.shape)
        _close(a, b)


def mlp_loss(m):
    """A 3-4-2 MLP's cross-entropy on a fixed batch, as a function of all its parameters."""
    rng = np.random.default_rng(0)
    x = m.tensor(rng.standard_normal((5, 3)))
    t = m.tensor(rng.integers(0, 2, 5))

    def loss(w1, b1, w2, b2):
        h = m.tanh(m.nn.functional.linear(x, w1, b1))
        return m.nn.functional.cross_entropy(m.nn.functional.linear(h, w2, b2), t)

    return loss


def _mlp_params():
    rng = np.random.default_rng(1)
    return [rng.standard_normal(s) * 0.5 for s in [(4, 3), (4,), (2, 4), (2,)]]


def test_hessian_of_mlp_loss_matches_torch():
    params = [_pair(p) for p in _mlp_params()]
    got = GF.hessian(mlp_loss(gg), tuple(p[0] for p in params))
    ref = TF.hessian(mlp_loss(torch), tuple(p[1] for p in params))
    _close_nested(got, ref)
    assert tuple(got[0][2].shape) == (4, 3, 2, 4)


def test_flat_hessian_of_mlp_is_symmetric_and_matches_torch():
    params = _mlp_params()
    H = GF.flat_hessian_numpy(mlp_loss(gg), [gg.tensor(p) for p in params])
    flat = np.concatenate([p.ravel() for p in params])
    sizes = np.cumsum([0] + [p.size for p in params])

    def flat_loss(v):
        return mlp_loss(torch)(*[v[sizes[i]:sizes[i + 1]].reshape(p.shape) for i, p in enumerate(params)])

    ref = TF.hessian(flat_loss, torch.tensor(flat)).numpy()
    np.testing.assert_allclose(H, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(H, H.T, atol=1e-12)


def test_saddle_point_of_one_minus_w1_w2_squared():
    def loss(w1, w2):
        return (1.0 - w1 * w2) ** 2

    w = (gg.tensor(0.0, dtype=gg.float64), gg.tensor(0.0, dtype=gg.float64))
    _, grads = GF.vjp(loss, w)
    assert [g.item() for g in grads] == [0.0, 0.0]
    H = GF.flat_hessian_numpy(loss, w)
    np.testing.assert_array_equal(H, [[0.0, -2.0], [-2.0, 0.0]])
    np.testing.assert_allclose(np.linalg.eigvalsh(H), [-2.0, 2.0])
    # the eigenvector of -2 is a direction of descent: (1, 1) / sqrt(2)
    step = 0.1 * np.array([1.0, 1.0]) / np.sqrt(2)
    assert loss(*[gg.tensor(s) for s in step]).item() < 1.0


def test_hessian_single_input_matches_torch():
    x = np.array([0.3, -1.2, 0.8])

    def f(m):
        return lambda t: (m.sin(t) * t.exp()).sum() * (t * t).sum()

    gx, tx = _pair(x)
    _close_nested(GF.hessian(f(gg), gx), TF.hessian(f(torch), tx))


def test_jacobian_matches_torch():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)

    def f(m):
        return lambda x, y: m.tanh(x * y) @ y

    (ga, ta), (gb, tb) = _pair(a), _pair(b)
    _close_nested(GF.jacobian(f(gg), (ga, gb)), TF.jacobian(f(torch), (ta, tb)))
    _close_nested(GF.jacobian(lambda t: t.exp() * 2.0, gb), TF.jacobian(lambda t: t.exp() * 2.0, tb))


def test_jacobian_of_input_that_does_not_matter_is_zero():
    gx, tx = _pair([1.0, 2.0])
    gy, ty = _pair([3.0])
    _close_nested(GF.jacobian(lambda x, y: x * 2.0, (gx, gy)), TF.jacobian(lambda x, y: x * 2.0, (tx, ty)))


def test_jacobian_with_create_graph_is_differentiable():
    gx, tx = _pair([0.5, -0.4])
    J = GF.jacobian(lambda t: t**3, gx, create_graph=True)
    assert J.requires_grad
    Jt = TF.jacobian(lambda t: t**3, tx, create_graph=True)
    _close(J, Jt)


def test_hvp_matches_torch():
    params = [_pair(p) for p in _mlp_params()]
    rng = np.random.default_rng(3)
    vs = [_pair(rng.standard_normal(p.shape)) for p in _mlp_params()]
    got = GF.hvp(mlp_loss(gg), tuple(p[0] for p in params), tuple(v[0] for v in vs))
    ref = TF.hvp(mlp_loss(torch), tuple(p[1] for p in params), tuple(v[1] for v in vs))
    _close_nested(got, ref)


def test_hvp_equals_hessian_times_v():
    gx, _ = _pair([0.3, -1.2, 0.8])
    gv, _ = _pair([1.0, 2.0, -0.5])

    def f(t):
        return (t**4).sum() + t[0] * t[1] * t[2]

    _, hv = GF.hvp(f, gx, gv)
    H = GF.hessian(f, gx)
    np.testing.assert_allclose(hv.numpy(), H.numpy() @ gv.numpy(), rtol=1e-12)


def test_vjp_matches_torch():
    rng = np.random.default_rng(4)
    a, b, v = rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal(3)

    def f(m):
        return lambda x, y: m.sigmoid(x @ y)

    (ga, ta), (gb, tb), (gv, tv) = _pair(a), _pair(b), _pair(v)
    _close_nested(GF.vjp(f(gg), (ga, gb), gv), TF.vjp(f(torch), (ta, tb), tv))
    _close_nested(GF.vjp(lambda t: (t * t).sum(), gb), TF.vjp(lambda t: (t * t).sum(), tb))


def test_functional_leaves_inputs_alone():
    x = gg.tensor([1.0, 2.0], dtype=gg.float64)
    GF.hessian(lambda t: (t**3).sum(), x)
    assert not x.requires_grad and x.grad is None


def test_hvp_checks_shapes():
    with pytest.raises(ValueError, match="same shapes"):
        GF.hvp(lambda t: t.sum(), gg.ones(2), gg.ones(3))
