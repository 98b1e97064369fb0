"""Reverse-mode automatic differentiation: ``grad``, ``backward``, grad modes, checks."""

from __future__ import annotations

from glassgrad.autograd import functional
from glassgrad.autograd.engine import run_backward
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
    """One tensor, or a sequence of them, as a list (None stays None)."""
    if x is None:
        return None
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _backward_inputs(inputs, who: str) -> list:
    """``backward``'s ``inputs`` as a list, checked: not empty, each requiring grad."""
    inputs = _as_list(inputs)
    if not inputs:
        raise RuntimeError(f"{who}: `inputs` cannot be empty (pass None to fill every leaf's .grad)")
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"{who}: input {i} (shape {tuple(x.shape)}) does not require grad")
    return inputs


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
    # here, not at the top: _tensor imports autograd before it defines its functions
    from glassgrad._tensor import _initial_gradient
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
    return tuple(run_backward(outputs, grads, inputs, retain_graph, create_graph, allow_unused, accumulate=False))


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None, create_graph: bool = False,
             inputs=None) -> None:
    """Accumulate gradients of several outputs in one pass: into the ``.grad`` of every leaf that
    requires grad, or only of ``inputs`` (leaves or not) when it is given."""
    # here, not at the top: _tensor imports autograd before it defines its functions
    from glassgrad._tensor import _initial_gradient
    tensors = _as_list(tensors)
    grad_tensors = _as_list(grad_tensors) or [None] * len(tensors)
    if len(grad_tensors) != len(tensors):
        raise ValueError(f"backward: got {len(grad_tensors)} grad_tensors for {len(tensors)} tensors")
    for i, y in enumerate(tensors):
        if not y.requires_grad:
            raise RuntimeError(f"backward: tensor {i} does not require grad and has no grad_fn")
    if inputs is not None:
        inputs = _backward_inputs(inputs, "backward")
    grads = [_initial_gradient(y, g, "backward") for y, g in zip(tensors, grad_tensors)]
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(tensors, grads, inputs, retain_graph, create_graph)


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
