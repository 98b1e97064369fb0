"""Sums, means and extrema over dims. ReduceMean and ReduceMax/Min take their axes as an input
from opset 18 (an attribute before); ReduceSum from opset 13."""

from __future__ import annotations

from glassgrad.functions import reduction as r
from glassgrad.onnx._registry import register


@register(r.Sum)
def sum_(graph, node):
    return graph.add("ReduceSum", [node.input(0), graph.ints(node.fn.dims)], keepdims=int(node.fn.keepdim))


def _reduce(graph, node, op: str):
    dims, keep = list(node.fn.dims), int(node.fn.keepdim)
    if graph.opset >= 18:
        return graph.add(op, [node.input(0), graph.ints(dims)], keepdims=keep)
    return graph.add(op, [node.input(0)], axes=dims, keepdims=keep)


@register(r.Mean)
def mean(graph, node):
    return _reduce(graph, node, "ReduceMean")


@register(r.Amax)
def amax(graph, node):
    return _reduce(graph, node, "ReduceMax")


@register(r.Amin)
def amin(graph, node):
    return _reduce(graph, node, "ReduceMin")
