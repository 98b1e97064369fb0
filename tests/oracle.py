"""PyTorch as the oracle: run the same function in glassgrad and in torch on the same data, and
compare values, first-order gradients and second-order gradients.

A function under test is written once for both libraries, taking the library module first:
``lambda m, a, b: m.maximum(a, b)`` runs as ``glassgrad.maximum`` and as ``torch.maximum``.
Where the names differ, pass ``torch_fn`` separately.

Second order: with random weights ``v`` for the outputs and ``u`` for the first gradients,
g = d(sum v * f)/dx (with create_graph) and h = d(sum u * g)/dx are compared; h is a
Hessian-vector product, so it checks every op's double backward.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassgrad as gg

torch.set_num_threads(1)  # tiny tensors: threads only add overhead, and the machine is shared

# modest, reproducible property tests (the autouse seed fixture is harmless for hypothesis)
ORACLE = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

seeds = st.integers(0, 2**32 - 1)


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable(n: int = 2, min_dims: int = 0, max_dims: int = 3, max_side: int = 4):
    """``n`` shapes that broadcast together (the strategy yields a tuple of shapes)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda s: s.input_shapes)


def uniform(rng, shape, lo: float = -2.0, hi: float = 2.0) -> np.ndarray:
    return rng.uniform(lo, hi, shape)


def away_from_zero(rng, shape, lo: float = 0.2, hi: float = 2.0) -> np.ndarray:
    """Values with |x| in [lo, hi] and a random sign (for ops with a kink or pole at 0)."""
    return rng.uniform(lo, hi, shape) * rng.choice([-1.0, 1.0], shape)


# -- running one function in one library ------------------------------------------------------


def _is_tensor(x) -> bool:
    return isinstance(x, (torch.Tensor, gg.Tensor))


def _outputs(out) -> tuple:
    if _is_tensor(out):
        return (out,)
    return tuple(o for o in out if o is not None)


def _numpy(t) -> np.ndarray:
    t = t.detach()
    return np.asarray(t.numpy(force=True) if isinstance(t, torch.Tensor) else t.numpy())


def _dtype_name(t) -> str:
    return str(t.dtype).split(".")[-1]


def _make(lib, array, requires_grad=False):
    array = np.asarray(array)
    if lib is torch:
        return torch.tensor(array, requires_grad=requires_grad)
    return gg.tensor(array, requires_grad=requires_grad)


def _grad(lib, outputs, inputs, weights, create_graph):
    """d(sum_k weights_k * outputs_k)/d inputs, with None for inputs it does not depend on."""
    pairs = [(o, w) for o, w in zip(outputs, weights) if w is not None and o.requires_grad]
    if not pairs:
        return [None] * len(inputs)
    return list(
        lib.autograd.grad(
            [o for o, _ in pairs], inputs, [w for _, w in pairs],
            create_graph=create_graph, allow_unused=True,
        )
    )


class _Run:
    """Values, gradients, second gradients (NumPy) and the metadata to compare."""

    def __init__(self, lib, fn, arrays, dtype, out_weights=None, grad_weights=None, order=2):
        xs = [_make(lib, a.astype(dtype), requires_grad=True) for a in arrays]
        outs = _outputs(fn(lib, *xs))
        self.values = [_numpy(o) for o in outs]
        self.meta = [(tuple(o.shape), _dtype_name(o), bool(o.requires_grad)) for o in outs]
        self.out_shapes = [tuple(o.shape) if o.dtype.is_floating_point else None for o in outs]
        self.grads = self.second = None
        if out_weights is None:
            return
        v = [None if w is None else _make(lib, w.astype(dtype)) for w in out_weights]
        gs = _grad(lib, outs, xs, v, create_graph=order >= 2)
        self.grads = [np.zeros(a.shape) if g is None else _numpy(g) for g, a in zip(gs, arrays)]
        self.grad_meta = [None if g is None else (tuple(g.shape), _dtype_name(g)) for g in gs]
        if order < 2:
            return
        u = [_make(lib, w.astype(dtype)) for w in grad_weights]
        terms = [(g * w).sum() for g, w in zip(gs, u) if g is not None and g.requires_grad]
        if terms:
            hs = _grad(lib, [sum(terms)], xs, [_make(lib, np.array(1.0, dtype))], create_graph=False)
        else:
            hs = [None] * len(xs)
        self.second = [np.zeros(a.shape) if h is None else _numpy(h) for h, a in zip(hs, arrays)]


def _close(actual, expected, rtol, what):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != torch's {expected.shape}"
    if expected.dtype.kind in "biu":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
        return
    finite = expected[np.isfinite(expected)]
    scale = max(1.0, float(np.abs(finite).max())) if finite.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


def check(fn, arrays, *, torch_fn=None, exact: bool = False, rtol: float | None = None,
          order: int = 2, float32: bool = True, seed: int = 0) -> None:
    """Compare ``fn(glassgrad, *xs)`` with ``torch_fn(torch, *xs)`` (``fn`` when None).

    ``arrays`` are float64 NumPy arrays, made into tensors that require grad. Checked in float64:
    values (rtol 1e-10 when ``exact``, else 1e-7), dtypes and shapes, first-order gradients and
    (``order=2``) second-order gradients; in float32: values and gradients with float32
    tolerances, and that everything stays float32.
    """
    torch_fn = torch_fn or fn
    rtol = rtol if rtol is not None else (1e-10 if exact else 1e-7)
    rng = np.random.default_rng(seed)
    probe = _Run(torch, torch_fn, arrays, np.float64)
    v = [None if s is None else rng.standard_normal(s) for s in probe.out_shapes]
    u = [rng.standard_normal(a.shape) for a in arrays]

    ref = _Run(torch, torch_fn, arrays, np.float64, v, u, order)
    got = _Run(gg, fn, arrays, np.float64, v, u, order)
    assert got.meta == ref.meta, f"outputs (shape, dtype, requires_grad): {got.meta} != torch's {ref.meta}"
    for k, (a, e) in enumerate(zip(got.values, ref.values)):
        _close(a, e, rtol, f"value of output {k}")
    for i, (a, e) in enumerate(zip(got.grads, ref.grads)):
        _close(a, e, rtol, f"gradient of input {i}")
    for i, m in enumerate(got.grad_meta):
        assert m is None or m == (arrays[i].shape, "float64"), f"gradient {i} has (shape, dtype) {m}"
    if order >= 2:
        for i, (a, e) in enumerate(zip(got.second, ref.second)):
            _close(a, e, max(rtol, 1e-9), f"second-order gradient of input {i}")

    if float32:
        ref32 = _Run(torch, torch_fn, arrays, np.float32, v, u, order=1)
        got32 = _Run(gg, fn, arrays, np.float32, v, u, order=1)
        assert got32.meta == ref32.meta, f"float32 outputs: {got32.meta} != torch's {ref32.meta}"
        for k, (a, e) in enumerate(zip(got32.values, ref32.values)):
            _close(a, e, 2e-4, f"float32 value of output {k}")
        for i, (a, e) in enumerate(zip(got32.grads, ref32.grads)):
            _close(a, e, 2e-4, f"float32 gradient of input {i}")
        for i, m in enumerate(got32.grad_meta):
            assert m is None or m[1] == "float32", f"float32 gradient {i} has dtype {m[1]}"


def check_values(fn, arrays, *, torch_fn=None, dtype=np.float64) -> None:
    """Compare only the outputs (for ops without gradient: argmax, one_hot, comparisons)."""
    torch_fn = torch_fn or fn
    ref = _Run(torch, torch_fn, arrays, dtype)
    got = _Run(gg, fn, arrays, dtype)
    assert got.meta == ref.meta, f"outputs (shape, dtype, requires_grad): {got.meta} != torch's {ref.meta}"
    for k, (a, e) in enumerate(zip(got.values, ref.values)):
        _close(a, e, 1e-12, f"value of output {k}")


def grads_of(lib, fn, arrays, weights=None):
    """First-order gradients of ``sum(fn(lib, *xs) * weights)`` as NumPy arrays (for the tie
    conventions, where inputs are chosen by hand)."""
    xs = [_make(lib, np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    y = fn(lib, *xs)
    w = np.ones(tuple(y.shape)) if weights is None else np.asarray(weights, dtype=np.float64)
    gs = _grad(lib, [y], xs, [_make(lib, w)], create_graph=False)
    return [np.zeros(np.shape(a)) if g is None else _numpy(g) for g, a in zip(gs, arrays)]


def assert_same_grads(fn, *arrays, weights=None) -> None:
    """glassgrad's and torch's first-order gradients of ``fn`` are equal at these inputs."""
    got = grads_of(gg, fn, arrays, weights)
    ref = grads_of(torch, fn, arrays, weights)
    for i, (a, e) in enumerate(zip(got, ref)):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12, err_msg=f"gradient of input {i}")
