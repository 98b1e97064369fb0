"""Helpers shared by the nn tests: copying a torch module's weights into a glassgrad module and
comparing outputs and gradients of the two."""

from __future__ import annotations

import numpy as np
import torch

import glassgrad as gg

TOL = {  # (rtol, atol) per dtype: float64 close to exact, float32 loose
    np.float64: (1e-9, 1e-11),
    np.float32: (2e-4, 2e-5),
}
GG_DTYPE = {np.float64: gg.float64, np.float32: gg.float32}
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}


def assert_close(actual, expected, dtype=np.float64, what=""):
    """``actual`` (glassgrad tensor or array) against ``expected`` (torch tensor or array)."""
    a = actual._data if isinstance(actual, gg.Tensor) else np.asarray(actual)
    e = expected.detach().numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    rtol, atol = TOL[dtype]
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


def randomize_torch(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give every parameter random values (so ones/zeros defaults do not hide mistakes)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.5 + (1.0 if p.ndim == 1 else 0.0))
    return module


def copy_torch_to_gg(t_module: torch.nn.Module, g_module: gg.nn.Module) -> None:
    """Move the weights across through a dict of NumPy arrays (the documented path)."""
    g_module.load_state_dict({k: v.detach().numpy() for k, v in t_module.state_dict().items()})


def check_forward_backward(
    g_module, t_module, x: np.ndarray, dtype=np.float64, grad_input: bool = True, grad_tol_dtype=None
):
    """Run both modules on ``x`` (cast to ``dtype``), backpropagate the same random upstream
    gradient and compare the output, the input's gradient and every parameter's gradient
    (with the tolerance of ``grad_tol_dtype`` if given)."""
    x = x.astype(dtype)
    gx = gg.tensor(x, requires_grad=grad_input)
    tx = torch.tensor(x, requires_grad=grad_input)
    gy, ty = g_module(gx), t_module(tx)
    assert_close(gy, ty, dtype, "output")
    up = np.random.default_rng(1).standard_normal(ty.shape).astype(dtype)
    gy.backward(gg.tensor(up))
    ty.backward(torch.tensor(up))
    if grad_input:
        assert_close(gx.grad, tx.grad, grad_tol_dtype or dtype, "input gradient")
    t_params = dict(t_module.named_parameters())
    g_params = dict(g_module.named_parameters())
    assert g_params.keys() == t_params.keys()
    for name, p in g_params.items():
        assert_close(p.grad, t_params[name].grad, grad_tol_dtype or dtype, f"gradient of {name}")
    return gy, ty
