"""Convolution: glassgrad's Geometry maps one to one onto ONNX Conv's attributes."""

from __future__ import annotations

from glassgrad.functions import convolution as c
from glassgrad.onnx._registry import register


@register(c.Conv2d)
def conv2d(graph, node):
    g = node.fn.geom
    (top, bottom), (left, right) = g.padding
    inputs = [node.input(i) for i in range(node.n_inputs)]
    kernel = list(node.shape(1)[2:])
    return graph.add("Conv", inputs, kernel_shape=kernel, strides=list(g.stride), dilations=list(g.dilation),
                     pads=[top, left, bottom, right], group=g.groups)
