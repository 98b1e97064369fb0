"""Batch norm in eval mode (its running statistics, initializers named as in the state dict) and
layer norm (ONNX LayerNormalization, opset 17)."""

from __future__ import annotations

import numpy as np

from glassgrad.functions import normalization as n
from glassgrad.onnx._graph import ExportError
from glassgrad.onnx._registry import register


def _affine(graph, node, channels, dt):
    """gamma and beta: the op's inputs when given, else ones and zeros."""
    k = 1
    if node.fn.has_weight:
        gamma, k = node.input(k), k + 1
    else:
        gamma = graph.initializer(np.ones(channels, dt))
    beta = node.input(k) if node.fn.has_bias else graph.initializer(np.zeros(channels, dt))
    return gamma, beta


@register(n.BatchNorm)
def batch_norm(graph, node):
    fn = node.fn
    if fn.fixed is None:
        raise ExportError("BatchNorm: ran with the batch's statistics (training mode); export runs the model "
                          "in eval mode, so this batch_norm was called with training=True explicitly")
    channels, dt = node.shape(0)[1], node.dtype(0)
    gamma, beta = _affine(graph, node, channels, dt)
    mean, var = (graph.initializer(r.reshape(-1), graph.names_of_arrays.get(_root(r))) for r in fn.fixed)
    return graph.add("BatchNormalization", [node.input(0), gamma, beta, mean, var], epsilon=float(fn.eps))


def _root(array):
    """id of the array a view was made from (the running statistic buffer's, by its name)."""
    while array.base is not None:
        array = array.base
    return id(array)


@register(n.LayerNorm)
def layer_norm(graph, node):
    fn = node.fn
    shape = tuple(fn.param_view)
    gamma, beta = _affine(graph, node, shape, node.dtype(0))
    return graph.add("LayerNormalization", [node.input(0), gamma, beta], axis=-len(shape), epsilon=float(fn.eps))
