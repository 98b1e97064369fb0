"""Ops that add randomness: dropout of elements and of whole channels."""

from __future__ import annotations

from glassgrad._backend import array_module, asarray_like
from glassgrad._random import _generator_of
from glassgrad.autograd.function import Function
from glassgrad.functions._operands import constant


class Dropout(Function):
    """Zero each element with probability p and scale the rest by 1 / (1 - p), so the expected
    value is unchanged. The mask (already scaled) is kept: gx = gy * mask.

    With ``channelwise`` one draw decides for a whole channel: the mask has shape
    [N, C, 1, ...] and broadcasts over the other dims (dropout2d)."""

    uses_inputs = False

    def __init__(self, p: float, generator=None, channelwise: bool = False):
        self.p, self.generator, self.channelwise = p, generator, channelwise

    def forward(self, x):
        shape = x.shape[:2] + (1,) * (x.ndim - 2) if self.channelwise else x.shape
        if self.p == 1.0:
            self.mask = array_module(x).zeros(shape, dtype=x.dtype)
        else:
            # drawn on the host by the one generator (the same mask on every device), then copied
            keep = asarray_like(_generator_of(self.generator).random(shape, x.dtype) >= self.p, x)
            self.mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.p))
        return x * self.mask

    def backward(self, gy):
        return gy * constant(self.mask)


def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False, generator=None):
    """Randomly zero elements of ``input`` with probability ``p`` during training (the mask comes
    from glassgrad's default generator, or ``generator``); identity when not training.
    ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if not input.dtype.is_floating_point:
        raise TypeError(f"dropout: expected a floating point input, got {input.dtype}")
    return Dropout(p, generator)(input)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False, generator=None):
    """Randomly zero whole channels of ``input`` [N, C, H, W] with probability ``p`` during
    training, scaling the kept ones by 1 / (1 - p); identity when not training. Neighbouring
    pixels of a feature map are strongly correlated, so dropping single pixels regularizes
    little; dropping whole maps does. A 3-D input is taken as [N, C, L], as PyTorch does today
    (one draw per (n, c) pair)."""
    _check_p(p)
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 4-D input [N, C, H, W] (or 3-D [N, C, L]), got an "
                         f"input of shape {tuple(input.shape)}")
    if not training or p == 0.0:
        return input
    if not input.dtype.is_floating_point:
        raise TypeError(f"dropout2d: expected a floating point input, got {input.dtype}")
    return Dropout(p, generator, channelwise=True)(input)
