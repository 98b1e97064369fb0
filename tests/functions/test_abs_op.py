"""gg.abs / Tensor.abs against PyTorch: forward and gradient (0 at 0)."""

import numpy as np
import torch

import glassgrad as gg


def test_abs_forward_and_backward_match_torch():
    data = np.array([-2.5, -1.0, 0.0, 0.5, 3.0])
    x = gg.tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    y, ty = x.abs(), tx.abs()
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    weights = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    (y * gg.tensor(weights)).sum().backward()
    (ty * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_abs_function_form_and_mean_absolute_error():
    data = np.array([[1.0, -4.0], [-0.5, 2.0]])
    x = gg.tensor(data, requires_grad=True)
    loss = gg.abs(x - 1.0).mean()
    loss.backward()
    tx = torch.tensor(data, requires_grad=True)
    torch.abs(tx - 1.0).mean().backward()
    assert abs(loss.item() - float(np.abs(data - 1.0).mean())) < 1e-15
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
