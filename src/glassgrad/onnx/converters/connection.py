"""Matrix products, the affine map and the embedding lookup."""

from __future__ import annotations

from onnx import TensorProto

from glassgrad.functions import connection as c
from glassgrad.onnx._registry import register


@register(c.MatMul)
def matmul(graph, node):
    return graph.add("MatMul", [node.input(0), node.input(1)])


@register(c.Linear)
def linear(graph, node):
    """x W^T + b: one Gemm for a 2-D x (the MLP case); for more dims (a sequence of tokens)
    a MatMul with W^T, since Gemm takes matrices only."""
    x, w = node.input(0), node.input(1)
    b = node.input(2) if node.n_inputs == 3 else None
    if len(node.shape(0)) == 2:
        return graph.add("Gemm", [x, w, b], transB=1)
    y = graph.add("MatMul", [x, graph.add("Transpose", [w], perm=[1, 0])])
    return graph.add("Add", [y, b]) if b is not None else y


@register(c.Embedding)
def embedding(graph, node):
    """weight[indices]: ONNX Gather along the rows (padding_idx only matters for training)."""
    idx = node.input(1)
    if node.dtype(1).name != "int64":
        idx = graph.add("Cast", [idx], to=TensorProto.INT64)
    return graph.add("Gather", [node.input(0), idx], axis=0)
