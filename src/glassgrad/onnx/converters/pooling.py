"""Pooling. ONNX has no output size attribute: ceil mode is recovered by comparing glassgrad's
output size with the floor formula."""

from __future__ import annotations

import numbers

from glassgrad.functions import pooling as p
from glassgrad.onnx._graph import ExportError
from glassgrad.onnx._registry import register


def _attrs(node):
    win = node.fn.win
    (top, bottom), (left, right) = win.padding
    in_hw = node.shape(0)[2:]
    floor = tuple((s + a + b - d * (k - 1) - 1) // st + 1 for s, (a, b), d, k, st in
                  zip(in_hw, win.padding, win.dilation, win.kernel, win.stride))
    return dict(kernel_shape=list(win.kernel), strides=list(win.stride), pads=[top, left, bottom, right],
                ceil_mode=int(tuple(win.out_hw) != floor))


@register(p.MaxPool2d)
def max_pool2d(graph, node):
    return graph.add("MaxPool", [node.input(0)], dilations=list(node.fn.win.dilation), **_attrs(node))


@register(p.AvgPool2d)
def avg_pool2d(graph, node):
    """count_include_pad: glassgrad divides by the kernel size (a number) when padding counts,
    and by an array of per-window counts when it does not, as ONNX's count_include_pad=0 does."""
    div, (kh, kw) = node.fn.divisor, node.fn.win.kernel
    if isinstance(div, numbers.Number):
        if div != kh * kw:
            raise ExportError(f"AvgPool2d: divisor_override={div} has no ONNX equivalent (only the kernel "
                              f"size {kh * kw}, or the count of places when count_include_pad=False)")
        include = 1
    else:
        include = 0
    return graph.add("AveragePool", [node.input(0)], count_include_pad=include, **_attrs(node))
