"""Checks run by ``detect_anomaly``: name the first op whose forward or backward gives NaN/inf."""

from __future__ import annotations

from glassgrad._backend import array_module
from glassgrad.autograd.grad_mode import state


def _bad(a) -> bool:
    xp = array_module(a)
    return a.dtype.kind == "f" and not bool(xp.isfinite(a).all())


def _shapes(tensors) -> str:
    return ", ".join(str(tuple(t.shape)) for t in tensors)


def check_forward(fn, inputs, y) -> None:
    if any(_bad(a) for a in (y if isinstance(y, tuple) else (y,))):
        raise FloatingPointError(
            f"detect_anomaly: {type(fn).__name__} produced NaN or inf in its forward "
            f"(input shapes: {_shapes(inputs)})"
        )


def check_backward(fn, grads) -> None:
    for i, g in enumerate(grads):
        if g is not None and _bad(g._data):
            raise FloatingPointError(
                f"detect_anomaly: {fn.name()} produced NaN or inf in the gradient of its input {i} "
                f"(input shapes: {_shapes(fn.inputs)})"
            )


def checked_backward(fn, gys) -> tuple:
    """``fn.backward(*gys)``, then the check of its results. The ops that the backward runs are
    not checked one by one, so a NaN is reported as coming from this backward (``SqrtBackward``),
    not from the division inside it."""
    state.anomaly = False
    try:
        grads = fn.backward(*gys)
    finally:
        state.anomaly = True
    grads = grads if isinstance(grads, tuple) else (grads,)
    check_backward(fn, grads)
    return grads
