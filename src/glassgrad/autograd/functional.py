"""Derivatives of whole functions: Jacobian, Hessian, and products with them, as in
``torch.autograd.functional``. Each is built from ``autograd.grad``: a Jacobian row is one
vector-Jacobian product; a Hessian is the Jacobian of the gradient (double backprop); a
Hessian-vector product differentiates g . v once more, never forming hess."""

from __future__ import annotations

import numpy as np

from glassgrad.autograd.grad_mode import enable_grad


def _prepare(inputs):
    # here, not at the top: _tensor imports autograd before it defines Tensor, so autograd
    # cannot import tensors, tensor functions or autograd.grad while it is being imported
    from glassgrad._tensor import Tensor

    single = isinstance(inputs, Tensor)
    xs = (inputs,) if single else tuple(inputs)
    return tuple(x.detach().requires_grad_(True) for x in xs), single


def _grads_or_zeros(outputs, xs, grad_outputs, create_graph):
    # here, not at the top: a cycle through _tensor (see _prepare)
    from glassgrad._creation import zeros_like
    from glassgrad.autograd import grad

    if not outputs.requires_grad:
        return tuple(zeros_like(x) for x in xs)
    gs = grad(outputs, xs, grad_outputs, retain_graph=True, create_graph=create_graph, allow_unused=True)
    return tuple(zeros_like(x) if g is None else g for x, g in zip(xs, gs))


def jacobian(func, inputs, create_graph: bool = False):
    """d func(inputs) / d inputs, of shape ``output.shape + input.shape`` (a tuple of those for
    several inputs). One backward pass per output element."""
    # here, not at the top: a cycle through _tensor (see _prepare)
    from glassgrad._creation import zeros_like
    from glassgrad._tensor import Tensor
    from glassgrad.functions.array import reshape, stack

    xs, single = _prepare(inputs)
    with enable_grad():
        y = func(*xs)
    if not isinstance(y, Tensor):
        raise TypeError("jacobian: func must return a single tensor")
    rows = [[] for _ in xs]
    flat = reshape(y, (-1,))
    for i in range(flat.shape[0]):
        e = zeros_like(flat)
        e._data[i] = 1
        with enable_grad():
            gs = _grads_or_zeros(flat, xs, e, create_graph)
        for r, g in zip(rows, gs):
            r.append(g if create_graph else g.detach())
    jac = tuple(
        reshape(stack(r), y.shape + x.shape) if r else zeros_like(x).reshape(y.shape + x.shape)
        for r, x in zip(rows, xs)
    )
    return jac[0] if single else jac


def hessian(func, inputs, create_graph: bool = False):
    """Second derivatives of a scalar ``func``: the Jacobian of its gradient. For one input of
    shape S the result has shape S + S; for several inputs, a tuple of tuples of blocks."""
    # here, not at the top: a cycle through _tensor (see _prepare)
    from glassgrad._tensor import Tensor

    xs, single = _prepare(inputs)

    def gradient(*args):
        with enable_grad():
            y = func(*args)
        if not isinstance(y, Tensor) or y.numel() != 1:
            raise RuntimeError("hessian: func must return a single-element tensor")
        return _grads_or_zeros(y.reshape(()), args, None, create_graph=True)

    if single:
        return jacobian(lambda x: gradient(x)[0], xs[0], create_graph)
    blocks = []
    for i in range(len(xs)):
        blocks.append(jacobian(lambda *a, i=i: gradient(*a)[i], xs, create_graph))
    return tuple(blocks)


def vjp(func, inputs, v=None, create_graph: bool = False):
    """(func(inputs), v^T J): a vector-Jacobian product, one backward pass."""
    xs, single = _prepare(inputs)
    with enable_grad():
        y = func(*xs)
    gs = _grads_or_zeros(y, xs, v, create_graph)
    out = y if create_graph else y.detach()
    return out, (gs[0] if single else gs)


def hvp(func, inputs, v, create_graph: bool = False):
    """(func(inputs), hess v) for scalar ``func``, by double backprop: hess v = d(g . v)/dx. Costs two
    backward passes and never forms hess, so it scales to millions of parameters."""
    # here, not at the top: a cycle through _tensor (see _prepare)
    from glassgrad._tensor import Tensor

    xs, single = _prepare(inputs)
    vs = (v,) if isinstance(v, Tensor) else tuple(v)
    if any(a.shape != b.shape for a, b in zip(xs, vs)) or len(xs) != len(vs):
        raise ValueError("hvp: v must have the same shapes as inputs")
    with enable_grad():
        y = func(*xs)
        if y.numel() != 1:
            raise RuntimeError("hvp: func must return a single-element tensor")
        gs = _grads_or_zeros(y.reshape(()), xs, None, create_graph=True)
        dot = sum((g * vv).sum() for g, vv in zip(gs, vs))
        hv = _grads_or_zeros(dot, xs, None, create_graph)
    out = y if create_graph else y.detach()
    hv = hv if create_graph else tuple(h.detach() for h in hv)
    return out, (hv[0] if single else hv)


def flat_hessian_numpy(func, inputs) -> np.ndarray:
    """The Hessian of a scalar function of several tensors as one dense (n, n) NumPy array over
    all their elements, in order (what critical-point analysis needs)."""
    xs, _ = _prepare(inputs)
    n = sum(x.numel() for x in xs)
    hess = np.zeros((n, n))
    blocks = hessian(func, xs)
    offs = np.cumsum([0] + [x.numel() for x in xs])
    for i, row in enumerate(blocks):
        for j, b in enumerate(row):
            hess[offs[i] : offs[i + 1], offs[j] : offs[j + 1]] = b.detach()._data.reshape(
                xs[i].numel(), xs[j].numel()
            )
    return hess
