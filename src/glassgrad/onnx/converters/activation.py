"""Activations. GELU has an ONNX op only from opset 20, so it is written out from its formula,
which every opset runs: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) (or the tanh form)."""

from __future__ import annotations

import math

from glassgrad.functions import activation as a
from glassgrad.onnx._registry import register

_UNARY = {a.Tanh: "Tanh", a.Sigmoid: "Sigmoid", a.ReLU: "Relu"}


@register(*_UNARY)
def unary(graph, node):
    return graph.add(_UNARY[type(node.fn)], [node.input(0)])


@register(a.LeakyReLU)
def leaky_relu(graph, node):
    return graph.add("LeakyRelu", [node.input(0)], alpha=float(node.fn.slope))


@register(a.Hardsigmoid)
def hardsigmoid(graph, node):
    return graph.add("HardSigmoid", [node.input(0)], alpha=1.0 / 6.0, beta=0.5)


@register(a.Softplus)
def softplus(graph, node):
    """log(1 + exp(beta x)) / beta. ONNX's Softplus has no threshold; above it (beta x > 20 by
    default) the two forms differ by less than exp(-20), below float32's resolution of x."""
    x, beta = node.input(0), float(node.fn.beta)
    if beta == 1.0:
        return graph.add("Softplus", [x])
    dt = node.dtype(0)
    soft = graph.add("Softplus", [graph.add("Mul", [x, graph.scalar(beta, dt)])])
    return graph.add("Div", [soft, graph.scalar(beta, dt)])


@register(a.LogSigmoid)
def logsigmoid(graph, node):
    """log(sigmoid(x)) = -softplus(-x), which stays finite for large |x|."""
    return graph.add("Neg", [graph.add("Softplus", [graph.add("Neg", [node.input(0)])])])


@register(a.Softmax)
def softmax(graph, node):
    return graph.add("Softmax", [node.input(0)], axis=node.fn.dim)


@register(a.LogSoftmax)
def log_softmax(graph, node):
    return graph.add("LogSoftmax", [node.input(0)], axis=node.fn.dim)


@register(a.GELU)
def gelu(graph, node):
    x, dt = node.input(0), node.dtype(0)

    def c(v):
        return graph.scalar(v, dt)

    if node.fn.approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = graph.add("Mul", [graph.add("Pow", [x, c(3.0)]), c(0.044715)])
        inner = graph.add("Mul", [graph.add("Add", [x, cube]), c(math.sqrt(2.0 / math.pi))])
        phi2 = graph.add("Add", [graph.add("Tanh", [inner]), c(1.0)])
    else:  # 0.5 x (1 + erf(x / sqrt 2))
        phi2 = graph.add("Add", [graph.add("Erf", [graph.add("Mul", [x, c(1.0 / math.sqrt(2.0))])]), c(1.0)])
    return graph.add("Mul", [graph.add("Mul", [x, phi2]), c(0.5)])
