"""Activation functions: tanh, sigmoid, ReLU and its relatives, GELU, softplus, softmax."""

from __future__ import annotations

import math

from glassgrad._backend import array_module, special_module
from glassgrad.autograd.function import Function
from glassgrad.functions._operands import constant
from glassgrad.functions.array import _normalize_dim
from glassgrad.functions.math import Mul, _floating, erf, exp, where


def _float_input(x, op):
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating point tensor, got {x.dtype}")
    return x


class Tanh(Function):
    uses_inputs = False
    uses_output = True

    def forward(self, x):
        return array_module(x).tanh(x)

    def backward(self, gy):
        y = self.saved_output
        return gy * (1.0 - y * y)


def tanh(x):

    return Tanh()(_floating(x))


class Sigmoid(Function):
    """1 / (1 + exp(-x)), computed without overflow; d/dx = y (1 - y)."""

    uses_inputs = False
    uses_output = True

    def forward(self, x):
        return special_module(x).expit(x)

    def backward(self, gy):
        y = self.saved_output
        return gy * y * (1.0 - y)


def sigmoid(x):

    return Sigmoid()(_floating(x))


class ReLU(Function):
    """max(x, 0); the gradient at 0 is 0, as in PyTorch."""

    def forward(self, x):
        return array_module(x).maximum(x, 0)

    def backward(self, gy):

        # Mul with the boolean mask as it is (NumPy multiplies float by bool): ``gy * mask``
        # would first promote the mask to a float copy, an extra pass and a fresh full-size array
        return Mul()(gy, constant(self.inputs[0]._data > 0))


def relu(x):
    return ReLU()(x)


class LeakyReLU(Function):
    """x where x > 0, slope * x elsewhere; the gradient at 0 is the slope, as in PyTorch.

    Both directions avoid ``where`` with a data-dependent condition: NumPy runs it with a branch
    per element, which on random signs mispredicts half the time (3.3 vs 0.2 ms forward on
    64x64x14x14 float32, one core)."""

    def __init__(self, negative_slope: float):
        self.slope = negative_slope

    def forward(self, x):
        xp = array_module(x)
        slope = self.slope
        if slope == 0 or not math.isfinite(slope):  # 0 * inf would make a NaN below
            return xp.where(x > 0, x, x * slope)
        # for slope <= 1, x > 0 gives x >= slope x and x < 0 gives slope x >= x (also for a
        # negative slope), so the larger of the two is the answer; for slope > 1 the smaller
        y = xp.multiply(x, slope, out=xp.empty_like(x))  # out=: an array also for a 0-d x
        return (xp.maximum if slope <= 1 else xp.minimum)(x, y, out=y)

    def backward(self, gy):
        x = self.inputs[0]._data
        xp = array_module(x)
        slope = self.slope
        # The factor is exactly 1 where x > 0 and exactly the slope elsewhere (NaN included).
        if not math.isfinite(slope):  # 0 * inf is NaN: the slow way
            factor = xp.where(x > 0, 1.0, slope).astype(x.dtype)
        elif x.dtype.type(1 - slope) + x.dtype.type(slope) == 1:
            # [x > 0] * (1 - slope) + slope, in three passes over one float array (0.36 vs
            # 0.88 ms on 64x64x14x14 float32 for the two-array way below); exact, as the
            # condition checks in x's precision (it fails only for huge slopes)
            factor = xp.greater(x, 0, out=xp.empty_like(x))
            factor *= 1 - slope
            factor += slope
        else:  # one of the two terms is always 0
            positive = x > 0
            factor = xp.multiply(~positive, slope, out=xp.empty_like(x))
            factor += positive
        return gy * constant(factor)


def leaky_relu(x, negative_slope: float = 0.01):
    return LeakyReLU(negative_slope)(_float_input(x, "leaky_relu"))


class GELU(Function):
    """x * Phi(x), with Phi the standard normal CDF (``approximate='none'``), or the tanh form
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (``approximate='tanh'``)."""

    def __init__(self, approximate: str):
        self.approximate = approximate

    def forward(self, x):
        xp = array_module(x)
        if self.approximate == "tanh":
            k = math.sqrt(2.0 / math.pi)
            return 0.5 * x * (1.0 + xp.tanh(k * (x + 0.044715 * x**3)))
        return 0.5 * x * (1.0 + special_module(x).erf(x / math.sqrt(2.0)))

    def backward(self, gy):

        x = self.inputs[0]
        if self.approximate == "tanh":
            k = math.sqrt(2.0 / math.pi)
            t = tanh((x + x * x * x * 0.044715) * k)
            dt = (1.0 - t * t) * k * (1.0 + x * x * (3 * 0.044715))
            return gy * ((1.0 + t) * 0.5 + x * dt * 0.5)
        cdf = (1.0 + erf(x * (1.0 / math.sqrt(2.0)))) * 0.5
        pdf = exp(x * x * -0.5) * (1.0 / math.sqrt(2.0 * math.pi))
        return gy * (cdf + x * pdf)


def gelu(x, approximate: str = "none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU(approximate)(_float_input(x, "gelu"))


class LogSigmoid(Function):
    """log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|)), which neither overflows nor loses
    precision for large |x|. d/dx = sigmoid(-x)."""

    def forward(self, x):
        xp = array_module(x)
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy):
        return gy * sigmoid(-self.inputs[0])


def logsigmoid(x):
    return LogSigmoid()(_float_input(x, "logsigmoid"))


class Hardsigmoid(Function):
    """A piecewise-linear sigmoid: 0 below -3, 1 above 3, x / 6 + 1/2 between (slope 1/6 strictly
    inside, 0 at the kinks, as PyTorch)."""

    def forward(self, x):
        return array_module(x).clip(x / 6 + 0.5, 0, 1).astype(x.dtype, copy=False)

    def backward(self, gy):
        x = self.inputs[0]._data
        return gy * constant(((x > -3) & (x < 3)).astype(x.dtype) / 6)


def hardsigmoid(x):
    return Hardsigmoid()(_float_input(x, "hardsigmoid"))


class Softplus(Function):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (as PyTorch)."""

    def __init__(self, beta: float, threshold: float):
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        xp = array_module(x)
        bx = x * self.beta
        soft = xp.logaddexp(xp.zeros((), dtype=x.dtype), bx) / self.beta
        return xp.where(bx > self.threshold, x, soft).astype(x.dtype, copy=False)

    def backward(self, gy):

        x = self.inputs[0]
        linear = constant(x._data * self.beta > self.threshold)
        return gy * where(linear, 1.0, sigmoid(x * self.beta))


def softplus(x, beta: float = 1.0, threshold: float = 20.0):
    return Softplus(beta, threshold)(_float_input(x, "softplus"))


class Softmax(Function):
    """exp(x_i) / sum_j exp(x_j) along ``dim`` (shifted by the max, so it never overflows).
    Backward: gx = y * (gy - sum(gy * y))."""

    uses_inputs = False
    uses_output = True

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        xp = array_module(x)
        if x.size == 0:  # nothing to normalize (and no max to shift by): an empty result
            return x.copy()
        e = xp.exp(x - x.max(axis=self.dim, keepdims=True))
        e /= e.sum(axis=self.dim, keepdims=True)
        return e

    def backward(self, gy):
        y = self.saved_output
        return y * (gy - (gy * y).sum(self.dim, keepdim=True))


def _softmax_dim(x, dim, op):
    if dim is None:
        raise TypeError(f"{op}: give the dim to normalize over, e.g. {op}(x, dim=-1)")

    return _normalize_dim(dim, x.ndim, op)


def softmax(x, dim=None):
    return Softmax(_softmax_dim(x, dim, "softmax"))(_float_input(x, "softmax"))


class LogSoftmax(Function):
    """x_i - log sum_j exp(x_j) along ``dim``. Backward: gx = gy - exp(y) * sum(gy)."""

    uses_inputs = False
    uses_output = True

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        xp = array_module(x)
        if x.size == 0:  # nothing to normalize (and no max to shift by): an empty result
            return x.copy()
        shifted = x - x.max(axis=self.dim, keepdims=True)
        shifted -= xp.log(xp.exp(shifted).sum(axis=self.dim, keepdims=True))
        return shifted

    def backward(self, gy):

        y = self.saved_output
        return gy - exp(y) * gy.sum(self.dim, keepdim=True)


def log_softmax(x, dim=None):
    return LogSoftmax(_softmax_dim(x, dim, "log_softmax"))(_float_input(x, "log_softmax"))
