"""Gradient clipping and parameter vectors against torch.nn.utils."""

import math

import numpy as np
import pytest
import torch

import glassgrad as gg
from glassgrad import nn


def _pair(scale=1.0):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s) * scale for s in [(3, 4), (4,), (2, 2)]]
    g_params = [nn.Parameter(gg.zeros(*a.shape, dtype=gg.float64)) for a in grads]
    t_params = [torch.nn.Parameter(torch.zeros(a.shape, dtype=torch.float64)) for a in grads]
    for gp, tp, a in zip(g_params, t_params, grads):
        gp.grad = gg.tensor(a)
        tp.grad = torch.tensor(a)
    return g_params, t_params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    g_params, t_params = _pair()
    g_total = nn.utils.clip_grad_norm_(g_params, max_norm, norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(t_params, max_norm, norm_type)
    np.testing.assert_allclose(g_total.item(), t_total.item(), rtol=1e-12)
    for gp, tp in zip(g_params, t_params):
        np.testing.assert_allclose(gp.grad._data, tp.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_edge_cases():
    p = nn.Parameter(gg.ones(3))
    assert nn.utils.clip_grad_norm_([p], 1.0).item() == 0.0  # no gradients at all
    p.grad = gg.tensor([3.0, 4.0, 0.0])
    assert nn.utils.clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)  # a single tensor
    np.testing.assert_allclose(np.linalg.norm(p.grad._data), 1.0, rtol=1e-5)
    p.grad = gg.tensor([float("nan"), 1.0, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    model = nn.Linear(3, 2)
    model(gg.randn(4, 3)).sum().backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), 0.1)  # a generator, as in training loops
    assert total.dtype == gg.float32 and total.item() > 0.1


def test_clip_grad_value_matches_torch():
    g_params, t_params = _pair(scale=3.0)
    nn.utils.clip_grad_value_(g_params, 1.5)
    torch.nn.utils.clip_grad_value_(t_params, 1.5)
    for gp, tp in zip(g_params, t_params):
        np.testing.assert_array_equal(gp.grad._data, tp.grad.numpy())


def test_parameters_to_vector_and_back():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (nn.utils.parameter_count(model),)
    nn.utils.vector_to_parameters(vec * 0 + 1, model.parameters())
    assert all((p._data == 1).all() for p in model.parameters())
    with pytest.raises(ValueError, match="12 entries, the parameters 11"):
        nn.utils.vector_to_parameters(gg.ones(12), model.parameters())
