"""Regression test: ``Abs.forward`` called the module's own public ``abs`` (which shadows the
builtin there) on an array, so every ``abs``/``Tensor.abs``/``l1_loss`` call raised."""

import numpy as np
import torch

import glassgrad as gg


def test_abs_forward_and_backward_match_torch():
    x = np.array([-2.0, -0.5, 0.0, 1.5])
    g = gg.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    gy, ty = g.abs(), t.abs()
    np.testing.assert_array_equal(gy._data, ty.detach().numpy())
    np.testing.assert_array_equal(abs(g)._data, ty.detach().numpy())
    gy.sum().backward()
    ty.sum().backward()
    np.testing.assert_array_equal(g.grad._data, t.grad.numpy())
