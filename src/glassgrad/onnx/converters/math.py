"""Elementwise arithmetic: each op is one ONNX op of the same meaning (both broadcast like
NumPy)."""

from __future__ import annotations

from glassgrad.functions import math as m
from glassgrad.onnx._registry import register

_BINARY = {m.Add: "Add", m.Sub: "Sub", m.Mul: "Mul", m.Div: "Div", m.Pow: "Pow",
           m.Maximum: "Max", m.Minimum: "Min"}
_UNARY = {m.Neg: "Neg", m.Exp: "Exp", m.Log: "Log", m.Sqrt: "Sqrt", m.Abs: "Abs", m.Sin: "Sin",
          m.Cos: "Cos", m.Erf: "Erf"}


@register(*_BINARY)
def binary(graph, node):
    return graph.add(_BINARY[type(node.fn)], [node.input(0), node.input(1)])


@register(*_UNARY)
def unary(graph, node):
    return graph.add(_UNARY[type(node.fn)], [node.input(0)])


@register(m.PowScalar)
def pow_scalar(graph, node):
    return graph.add("Pow", [node.input(0), graph.scalar(node.fn.exponent, node.dtype(0))])


@register(m.Clamp)
def clamp(graph, node):
    lo, hi = node.fn.lo, node.fn.hi
    dt = node.dtype(0)
    return graph.add("Clip", [node.input(0), None if lo is None else graph.scalar(lo, dt),
                              None if hi is None else graph.scalar(hi, dt)])


@register(m.Where)
def where(graph, node):
    return graph.add("Where", [node.input(0), node.input(1), node.input(2)])
