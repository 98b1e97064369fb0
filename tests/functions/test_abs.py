"""gg.abs, Tensor.abs and the builtin abs() against PyTorch: values, and the gradient sign(x),
which is 0 at 0 as in PyTorch. (Regression: ``Abs.forward`` once called the module's own public
``abs``, which shadows the builtin there, on an array, so every abs/l1_loss call raised.)
The op's property tests on random shapes, with second order, are in test_math.py."""

import numpy as np
import torch

import glassgrad as gg


def test_method_and_builtin_abs_match_torch_with_gradient_zero_at_zero():
    data = np.array([-2.5, -1.0, 0.0, 0.5, 3.0])
    x = gg.tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    y, ty = x.abs(), tx.abs()
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(abs(x).detach().numpy(), ty.detach().numpy())
    # distinct weights per element, so a gradient landing on the wrong element shows
    weights = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    (y * gg.tensor(weights)).sum().backward()
    (ty * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    assert x.grad.numpy()[2] == 0.0


def test_function_form_in_a_mean_absolute_error():
    data = np.array([[1.0, -4.0], [-0.5, 2.0]])
    x = gg.tensor(data, requires_grad=True)
    loss = gg.abs(x - 1.0).mean()
    loss.backward()
    tx = torch.tensor(data, requires_grad=True)
    torch.abs(tx - 1.0).mean().backward()
    assert abs(loss.item() - float(np.abs(data - 1.0).mean())) < 1e-15
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
