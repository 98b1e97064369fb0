"""Finite-difference checks of gradients, for anyone who writes an op.

``gradcheck`` compares each analytical Jacobian (from backward) with central differences
(f(x + eps) - f(x - eps)) / (2 eps) in float64; ``gradgradcheck`` does the same for the
gradient function itself, which checks the double backward.
"""

from __future__ import annotations

import numpy as np

from glassgrad.autograd.grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """Raised when an analytical gradient disagrees with finite differences."""


def _flat_outputs(out):
    # here, not at the top: _tensor imports autograd before it defines Tensor, so autograd
    # cannot import tensors, tensor functions or autograd.grad while it is being imported
    from glassgrad._tensor import Tensor

    return (out,) if isinstance(out, Tensor) else tuple(o for o in out if o is not None)


def _numerical_jacobians(func, inputs, eps):
    """J[k][i] = d outputs[k] / d inputs[i], each as (out_numel, in_numel) arrays."""
    with no_grad():
        base = _flat_outputs(func(*inputs))
    jac = [[np.zeros((o.numel(), x.numel())) for x in inputs] for o in base]
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            continue
        data = x._data  # perturbed in place, element by element in row-major order
        for j in range(data.size):
            # a multi-index, not reshape(-1)[j]: for a non-contiguous x that would be a copy
            at = np.unravel_index(j, data.shape)
            orig = data[at]
            data[at] = orig + eps
            with no_grad():
                plus = [o._data.copy() for o in _flat_outputs(func(*inputs))]
            data[at] = orig - eps
            with no_grad():
                minus = [o._data.copy() for o in _flat_outputs(func(*inputs))]
            data[at] = orig
            for k, (p, m) in enumerate(zip(plus, minus)):
                jac[k][i][:, j] = ((p - m) / (2 * eps)).reshape(-1)
    return jac


def _analytical_jacobians(func, inputs):
    # here, not at the top: a cycle through _tensor (see _flat_outputs)
    from glassgrad._creation import zeros_like
    from glassgrad.autograd import grad
    with enable_grad():
        outs = _flat_outputs(func(*inputs))
    diff = [x for x in inputs if x.requires_grad]
    jac = [[np.zeros((o.numel(), x.numel())) for x in inputs] for o in outs]
    for k, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for r in range(o.numel()):
            e = zeros_like(o)
            e._data.reshape(-1)[r] = 1
            gs = grad(o, diff, e, retain_graph=True, allow_unused=True)
            gi = iter(gs)
            for i, x in enumerate(inputs):
                if x.requires_grad:
                    g = next(gi)
                    if g is not None:
                        jac[k][i][r, :] = g._data.reshape(-1)
    return jac


def gradcheck(func, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """Check ``func``'s gradients against central finite differences.

    ``inputs`` are float64 tensors; those with ``requires_grad=True`` are checked. Returns True,
    or raises :class:`GradcheckError` (or returns False with ``raise_exception=False``) naming the
    output, the input and the largest difference.
    """
    # here, not at the top: a cycle through _tensor (see _flat_outputs)
    from glassgrad._tensor import Tensor

    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x._data.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {x.dtype}; finite differences need float64")
    numerical = _numerical_jacobians(func, inputs, eps)
    analytical = _analytical_jacobians(func, inputs)
    for k, (n_row, a_row) in enumerate(zip(numerical, analytical)):
        for i, (n, a) in enumerate(zip(n_row, a_row)):
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                worst = np.unravel_index(np.argmax(np.abs(a - n)), a.shape)
                msg = (
                    f"gradcheck: Jacobian of output {k} with respect to input {i} does not match "
                    f"finite differences: at {tuple(int(w) for w in worst)} analytical "
                    f"{a[worst]:.6g} vs numerical {n[worst]:.6g}"
                )
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0) -> bool:
    """Check second-order gradients: gradcheck of x -> d(func(x) . v)/dx (with ``v`` random
    float64 tensors unless ``grad_outputs`` is given), whose own backward is the double
    backward of ``func``'s ops."""
    # here, not at the top: a cycle through _tensor (see _flat_outputs)
    from glassgrad._tensor import Tensor
    from glassgrad.autograd import grad
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    with no_grad():
        outs = _flat_outputs(func(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = tuple(Tensor(rng.standard_normal(o.shape)) for o in outs)
    diff_idx = [i for i, x in enumerate(inputs) if x.requires_grad]

    def first_derivative(*xs):
        with enable_grad():
            ys = _flat_outputs(func(*xs))
            pairs = [(y, v) for y, v in zip(ys, grad_outputs) if y.requires_grad]
            gs = grad(
                [y for y, _ in pairs], [xs[i] for i in diff_idx], [v for _, v in pairs],
                create_graph=True, allow_unused=True,
            )
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_derivative, inputs, eps, atol, rtol, raise_exception)
