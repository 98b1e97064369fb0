"""Reverse-mode automatic differentiation: ``grad``, ``backward``, grad modes, checks."""

from __future__ import annotations

from glassgrad.autograd import functional
from glassgrad.autograd.function import Function
from glassgrad.autograd.grad_mode import (
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from glassgrad.autograd.gradcheck import gradcheck, gradgradcheck


def _as_list(x):
    if x is None:
        return None
    from glassgrad._tensor import Tensor

    return [x] if isinstance(x, Tensor) else list(x)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
):
    """The gradients of ``outputs`` (weighted by ``grad_outputs``) with respect to ``inputs``,
    returned as a tuple; no ``.grad`` is changed. With ``create_graph=True`` the results are part
    of a graph themselves and can be differentiated again (Hessians, gradient penalties)."""
    from glassgrad._tensor import _initial_gradient
    from glassgrad.autograd.engine import run_backward

    outputs, inputs = _as_list(outputs), _as_list(inputs)
    grad_outputs = _as_list(grad_outputs) or [None] * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {tuple(x.shape)}) does not require grad")
    for i, y in enumerate(outputs):
        if not y.requires_grad:
            raise RuntimeError(
                f"grad: output {i} does not require grad (it does not depend on any input that does)"
            )
    grads = [_initial_gradient(y, g, "grad") for y, g in zip(outputs, grad_outputs)]
    if retain_graph is None:
        retain_graph = create_graph
    return tuple(run_backward(outputs, grads, inputs, retain_graph, create_graph, allow_unused))


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None, create_graph: bool = False):
    """Accumulate gradients of several outputs into the leaves' ``.grad`` in one pass."""
    from glassgrad._tensor import _initial_gradient
    from glassgrad.autograd.engine import run_backward

    tensors = _as_list(tensors)
    grad_tensors = _as_list(grad_tensors) or [None] * len(tensors)
    for i, y in enumerate(tensors):
        if not y.requires_grad:
            raise RuntimeError(f"backward: tensor {i} does not require grad and has no grad_fn")
    grads = [_initial_gradient(y, g, "backward") for y, g in zip(tensors, grad_tensors)]
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(tensors, grads, None, retain_graph, create_graph)


__all__ = [
    "Function",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "inference_mode",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]
