"""Convolution: glassgrad's Geometry maps one to one onto ONNX Conv's attributes; the transposed
convolution's output size (which output_padding chooses) is recovered from glassgrad's."""

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


@register(c.ConvTranspose2d)
def conv_transpose2d(graph, node):
    """The generator's upsampling (GANs). ONNX's output size is
    stride (in - 1) + output_padding + dilation (k - 1) + 1 - pad_begin - pad_end; output_padding
    is what makes it glassgrad's ``out_hw``."""
    g, fn = node.fn.geom, node.fn
    (top, bottom), (left, right) = g.padding
    kernel = list(node.shape(1)[2:])
    in_hw = node.shape(0)[2:]
    extra = [o - (st * (s - 1) + d * (k - 1) + 1 - a - b) for o, st, s, d, k, (a, b) in
             zip(fn.out_hw, g.stride, in_hw, g.dilation, kernel, g.padding)]
    inputs = [node.input(i) for i in range(node.n_inputs)]
    return graph.add("ConvTranspose", inputs, kernel_shape=kernel, strides=list(g.stride),
                     dilations=list(g.dilation), pads=[top, left, bottom, right], group=g.groups,
                     output_padding=extra)
