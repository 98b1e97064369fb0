"""Sums and means over dims. ReduceMean takes its axes as an input from opset 18 (an attribute
before); ReduceSum from opset 13."""

from __future__ import annotations

from glassgrad.functions import reduction as r
from glassgrad.onnx._registry import register


@register(r.Sum)
def sum_(graph, node):
    return graph.add("ReduceSum", [node.input(0), graph.ints(node.fn.dims)], keepdims=int(node.fn.keepdim))


@register(r.Mean)
def mean(graph, node):
    dims, keep = list(node.fn.dims), int(node.fn.keepdim)
    if graph.opset >= 18:
        return graph.add("ReduceMean", [node.input(0), graph.ints(dims)], keepdims=keep)
    return graph.add("ReduceMean", [node.input(0)], axes=dims, keepdims=keep)
