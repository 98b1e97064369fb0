"""nn.utils.spectral_norm and remove_spectral_norm against torch.nn.utils (the classic hook API):
the same state dict, and after loading torch's, the same outputs, normalized weights, u and v,
and gradients, in training and eval mode, and after removal."""

import numpy as np
import pytest
import torch

import glassgrad as gg
from glassgrad import nn
from tests.nn._nn_testing import GG_DTYPE, TORCH_DTYPE, assert_close, randomize_torch

LAYERS = {  # name: (glassgrad factory, torch factory, input shape)
    "linear": (lambda: nn.Linear(5, 4), lambda: torch.nn.Linear(5, 4), (3, 5)),
    "conv2d": (lambda: nn.Conv2d(3, 4, 3, padding=1), lambda: torch.nn.Conv2d(3, 4, 3, padding=1),
               (2, 3, 5, 5)),
    "conv_transpose2d": (lambda: nn.ConvTranspose2d(4, 3, 3, stride=2),
                         lambda: torch.nn.ConvTranspose2d(4, 3, 3, stride=2), (2, 4, 3, 3)),
}


def _pair(layer, dtype, **kwargs):
    """A torch layer with random weights under spectral norm, and a glassgrad one loaded from it."""
    make_g, make_t, shape = LAYERS[layer]
    t = randomize_torch(make_t().to(TORCH_DTYPE[dtype]))
    t = torch.nn.utils.spectral_norm(t, **kwargs)
    g = nn.utils.spectral_norm(make_g().to(GG_DTYPE[dtype]), **kwargs)
    assert list(g.state_dict()) == list(t.state_dict())  # bias, weight_orig, weight_u, weight_v
    g.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    return g, t, shape


def _compare_state(g, t, dtype, what):
    assert_close(g.weight, t.weight, dtype, f"{what}: normalized weight")
    assert_close(g.weight_u, t.weight_u, dtype, f"{what}: u")
    assert_close(g.weight_v, t.weight_v, dtype, f"{what}: v")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layer", list(LAYERS))
def test_matches_torch_training_eval_and_remove(layer, dtype):
    g, t, shape = _pair(layer, dtype)
    rng = np.random.default_rng(0)
    for step in range(3):  # training mode: one power iteration per forward moves u and v
        x = rng.standard_normal(shape).astype(dtype)
        gx, tx = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        gy, ty = g(gx), t(tx)
        assert_close(gy, ty, dtype, f"output, step {step}")
        _compare_state(g, t, dtype, f"step {step}")
        up = rng.standard_normal(ty.shape).astype(dtype)
        gy.backward(gg.tensor(up))
        ty.backward(torch.tensor(up))
        assert_close(gx.grad, tx.grad, dtype, f"input gradient, step {step}")
        for name, p in t.named_parameters():  # gradients reach weight_orig through W and sigma
            assert_close(g.get_parameter(name).grad, p.grad, dtype, f"gradient of {name}, step {step}")
    u_before = g.weight_u._data.copy()
    g.eval()
    t.eval()
    x = rng.standard_normal(shape).astype(dtype)
    for _ in range(2):  # eval mode: no iteration, the same u, v and weight every time
        assert_close(g(gg.tensor(x)), t(torch.tensor(x)), dtype, "eval output")
        _compare_state(g, t, dtype, "eval")
    np.testing.assert_array_equal(g.weight_u._data, u_before)
    nn.utils.remove_spectral_norm(g)
    torch.nn.utils.remove_spectral_norm(t)
    assert list(g.state_dict()) == list(t.state_dict()) == ["bias", "weight"]
    assert isinstance(g.weight, nn.Parameter) and not g._forward_pre_hooks
    assert_close(g.weight, t.weight, dtype, "weight after remove")
    assert_close(g(gg.tensor(x)), t(torch.tensor(x)), dtype, "output after remove")


@pytest.mark.parametrize("layer", ["linear", "conv_transpose2d"])
def test_more_iterations_and_explicit_dim(layer):
    kwargs = {"n_power_iterations": 3, "dim": 0 if layer == "conv_transpose2d" else 1, "eps": 1e-8}
    g, t, shape = _pair(layer, np.float64, **kwargs)
    x = np.random.default_rng(1).standard_normal(shape)
    for _ in range(2):
        assert_close(g(gg.tensor(x)), t(torch.tensor(x)), np.float64, "output")
        _compare_state(g, t, np.float64, "state")


def test_double_backward_matches_torch():
    """A gradient penalty through a spectrally normalized critic: the gradient of the input
    gradient's squared norm reaches weight_orig (second order through W / sigma)."""
    g, t, shape = _pair("conv2d", np.float64)
    x = np.random.default_rng(2).standard_normal(shape)
    gx, tx = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ggrad,) = gg.autograd.grad(gg.tanh(g(gx)).sum(), gx, create_graph=True)
    (tgrad,) = torch.autograd.grad(torch.tanh(t(tx)).sum(), tx, create_graph=True)
    assert_close(ggrad, tgrad, np.float64, "input gradient")
    (ggrad**2).sum().backward()
    (tgrad**2).sum().backward()
    for name, p in t.named_parameters():
        assert_close(g.get_parameter(name).grad, p.grad, np.float64, f"second-order gradient of {name}")


@pytest.mark.parametrize("layer", list(LAYERS))
def test_sigma_converges_to_the_largest_singular_value(layer):
    make_g, _, shape = LAYERS[layer]
    gg.manual_seed(0)
    m = nn.utils.spectral_norm(make_g().double())
    x = gg.randn(*shape, dtype=gg.float64)
    for _ in range(60):
        m(x)
    dim = 1 if layer == "conv_transpose2d" else 0
    w = np.moveaxis(m.weight._data, dim, 0)
    top = np.linalg.svd(w.reshape(w.shape[0], -1), compute_uv=False)[0]
    assert top == pytest.approx(1.0, abs=1e-6)
    # the weight the layer computed with is not normalized in place: weight_orig keeps its scale
    w_orig = np.moveaxis(m.weight_orig._data, dim, 0)
    assert np.linalg.svd(w_orig.reshape(w.shape[0], -1), compute_uv=False)[0] != pytest.approx(1.0)


def test_optimizer_made_before_keeps_working():
    gg.manual_seed(0)
    m = nn.Linear(3, 2)
    opt = gg.optim.SGD(m.parameters(), lr=0.1)
    w = m.weight
    nn.utils.spectral_norm(m)
    assert m.weight_orig is w
    before = w._data.copy()
    m(gg.randn(4, 3)).sum().backward()
    opt.step()
    assert not np.array_equal(w._data, before)


def test_errors():
    with pytest.raises(KeyError, match="no parameter 'wieght'.*weight, bias"):
        nn.utils.spectral_norm(nn.Linear(2, 2), name="wieght")
    with pytest.raises(ValueError, match="n_power_iterations to be a positive int, got n_power_iterations=0"):
        nn.utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    m = nn.utils.spectral_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="already has spectral norm on its parameter 'weight'"):
        nn.utils.spectral_norm(m)
    with pytest.raises(ValueError, match="the parameter 'bias' of Linear is None"):
        nn.utils.spectral_norm(nn.Linear(2, 2, bias=False), name="bias")
    with pytest.raises(IndexError, match="dim 2 is out of range for the 2-D parameter 'weight'"):
        nn.utils.spectral_norm(nn.Linear(2, 2), dim=2)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found in Linear"):
        nn.utils.remove_spectral_norm(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="expected a Module, got Tensor"):
        nn.utils.spectral_norm(gg.ones(2, 2))
