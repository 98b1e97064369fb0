"""Ops that add randomness: dropout."""

from __future__ import annotations

from glassgrad._backend import array_module
from glassgrad._random import _generator_of
from glassgrad.autograd.function import Function
from glassgrad.functions._operands import constant


class Dropout(Function):
    """Zero each element with probability p and scale the rest by 1 / (1 - p), so the expected
    value is unchanged. The mask (already scaled) is kept: gx = gy * mask."""

    uses_inputs = False

    def __init__(self, p: float, generator=None):
        self.p, self.generator = p, generator

    def forward(self, x):
        if self.p == 1.0:
            self.mask = array_module(x).zeros_like(x)
        else:
            keep = _generator_of(self.generator).random(x.shape, x.dtype) >= self.p
            self.mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.p))
        return x * self.mask

    def backward(self, gy):
        return gy * constant(self.mask)


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False, generator=None):
    """Randomly zero elements of ``input`` with probability ``p`` during training (the mask comes
    from glassgrad's default generator, or ``generator``); identity when not training.
    ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if not input.dtype.is_floating_point:
        raise TypeError(f"dropout: expected a floating point input, got {input.dtype}")
    return Dropout(p, generator)(input)
