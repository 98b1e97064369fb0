"""Elementwise arithmetic and math: each op broadcasts like NumPy and reduces its gradients back
to each input's shape with ``sum_to``."""

from __future__ import annotations

import math

import numpy as np

from glassgrad._backend import array_module, asarray_like, special_module
from glassgrad._dtype import bool_, get_default_dtype, result_type

# Tensor is defined before _tensor imports the op modules (see functions/_operands.py)
from glassgrad._tensor import Tensor
from glassgrad.autograd.function import Function
from glassgrad.functions._operands import constant, operand, promote
from glassgrad.functions.array import sum_to


class _Broadcasting(Function):
    """An op whose inputs broadcast together; a shape mismatch is reported as
    ``add: shapes (2, 3) and (4,) cannot be broadcast together`` (PyTorch raises RuntimeError)."""

    def explain_value_error(self, inputs) -> None:
        shapes = [tuple(x.shape) for x in inputs]
        try:
            array_module(*[x._data for x in inputs]).broadcast_shapes(*shapes)
        except ValueError:
            listed = ", ".join(str(s) for s in shapes[:-1]) + f" and {shapes[-1]}"
            raise RuntimeError(
                f"{type(self).__name__.lower()}: shapes {listed} cannot be broadcast together"
            ) from None


def _check_fits(number, d, what: str) -> None:
    """Refuse a Python number that an integer dtype cannot hold (300 as uint8), as PyTorch does,
    instead of NumPy's OverflowError."""
    info = np.iinfo(d.numpy) if d.numpy.kind in "iu" else None
    if info is not None and not info.min <= number <= info.max:
        raise RuntimeError(f"{what} {number} cannot be converted to {d.name} without overflow")


def _floating(a):
    """Integer inputs of exp/log/... compute in the default float dtype, as in PyTorch."""
    if a.dtype.is_floating_point:
        return a
    return a.to(get_default_dtype())


class Add(_Broadcasting):
    uses_inputs = False

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, gy):
        sa, sb = self.shapes
        return sum_to(gy, sa), sum_to(gy, sb)


def add(a, b, alpha=1):
    a, b = promote(a, b)
    if alpha != 1:
        b = mul(b, alpha)
    return Add()(a, b)


class Sub(_Broadcasting):
    uses_inputs = False

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, gy):
        sa, sb = self.shapes
        gb = -sum_to(gy, sb) if self.needs_input_grad[1] else None
        return sum_to(gy, sa), gb


def sub(a, b, alpha=1):
    a, b = operand(a), operand(b)
    for x in (a, b):
        if isinstance(x, bool) or getattr(x, "dtype", None) is bool_:
            raise RuntimeError(
                "sub: subtraction with a bool operand is not supported (as in PyTorch); to invert "
                "a mask use ~mask or mask.logical_not()"
            )
    a, b = promote(a, b)
    if alpha != 1:
        b = mul(b, alpha)
    return Sub()(a, b)


class Mul(_Broadcasting):
    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        ga = sum_to(gy * b, a.shape) if need_a else None
        gb = sum_to(gy * a, b.shape) if need_b else None
        return ga, gb


def mul(a, b):
    return Mul()(*promote(a, b))


class Div(_Broadcasting):
    def forward(self, a, b):
        with array_module(a).errstate(divide="ignore", invalid="ignore"):
            return a / b

    def backward(self, gy):
        a, b = self.inputs
        ga = gy / b
        gb = sum_to(-ga * a / b, b.shape) if self.needs_input_grad[1] else None
        return sum_to(ga, a.shape), gb


def div(a, b):
    """True division; integer inputs give the default float dtype, as in PyTorch."""
    a, b = promote(a, b)
    if not a.dtype.is_floating_point:
        a, b = a.to(get_default_dtype()), b.to(get_default_dtype())
    return Div()(a, b)


class Neg(Function):
    uses_inputs = False

    def forward(self, a):
        return -a

    def backward(self, gy):
        return -gy


def neg(a):
    return Neg()(a)


class Pow(_Broadcasting):
    """a ** b for two tensors. d/da = b a^(b-1), 0 where b = 0 (also at a = 0); d/db = a^b log a,
    set to 0 where a = 0 and b >= 0 (PyTorch's conventions, which keep 0 ** b differentiable)."""

    uses_output = True

    def forward(self, a, b):
        if a.dtype.kind in "iu":
            return _integer_power(a, b)
        with array_module(a).errstate(divide="ignore", invalid="ignore", over="ignore"):
            return a**b

    def backward(self, gy):
        a, b = self.inputs
        ga = gb = None
        if self.needs_input_grad[0]:
            # where b = 0 the gradient is 0; the exponent there is replaced by 1 so that the
            # masked-out branch is finite (0 * 0^-1 would make a NaN in double backward)
            b_is_zero = constant(b._data == 0)
            safe_exponent = where(b_is_zero, 1.0, b - 1.0)
            ga = sum_to(where(b_is_zero, 0.0, gy * b * a**safe_exponent), a.shape)
        if self.needs_input_grad[1]:
            zero_base = constant((a._data == 0) & (b._data >= 0))
            log_a = where(zero_base, 0.0, log(a))
            gb = sum_to(gy * self.saved_output * log_a, b.shape)
        return ga, gb


class PowScalar(Function):
    """a ** c for a constant exponent c: d/da = c a^(c-1) (zero when c = 0)."""

    def __init__(self, exponent: float):
        self.exponent = exponent

    def forward(self, a):
        if a.dtype.kind == "b":
            # NumPy would compute bool ** bool in int8; PyTorch keeps bool: x ** True is x,
            # x ** False is all True
            return a.copy() if self.exponent else array_module(a).ones_like(a)
        with array_module(a).errstate(divide="ignore", invalid="ignore", over="ignore"):
            return a**self.exponent

    def backward(self, gy):
        (a,) = self.inputs
        c = self.exponent
        if c == 0:
            return gy * 0.0
        if c == 2:
            return gy * a * 2.0
        return gy * c * a ** (c - 1)


def _integer_power(a, b):
    """``a ** b`` for integer arrays with PyTorch's rule for negative exponents (NumPy refuses
    them): 1 ** b = 1, (-1) ** b = +-1 by the parity of b, and any other base gives 0 (the
    integer part of a fraction of magnitude < 1)."""
    xp = array_module(a)
    negative = b < 0
    if not negative.any():
        return a**b
    out = a ** xp.where(negative, 0, b).astype(b.dtype, copy=False)
    odd = (b % 2) != 0
    at_negative = xp.where(a == 1, 1, xp.where(a == -1, xp.where(odd, -1, 1), 0))
    return xp.where(negative, at_negative, out).astype(out.dtype, copy=False)


def pow(a, b):  # noqa: A001 - PyTorch's name
    """``a ** b``, elementwise. With a number as the exponent the result keeps the tensor's dtype
    where the number's kind allows (an int tensor ** 2 is int, a bool tensor ** True is bool,
    any tensor ** 0.5 is floating); integers to negative integer powers are refused, as in
    PyTorch, while a negative integer *tensor* exponent follows PyTorch's integer rule."""
    a, b = operand(a), operand(b)
    if isinstance(a, Tensor) and not isinstance(b, Tensor):
        d = a.dtype if a._data.dtype.kind == "f" else result_type(a, b)
        if not d.is_floating_point:
            if b < 0:
                raise RuntimeError(
                    f"pow: integers to negative integer powers are not allowed (a {a.dtype.name} "
                    f"tensor to the power {b}); convert the tensor with .float() first"
                )
            _check_fits(b, d, "pow: the exponent")
        a2, _ = promote(a, b)
        return PowScalar(b)(a2)
    a, b = promote(a, b)
    if a.dtype is bool_:
        raise NotImplementedError(
            "pow: not implemented for two bool operands (as in PyTorch); convert one with .int() or "
            ".float()"
        )
    return Pow()(a, b)


class Exp(Function):
    uses_inputs = False
    uses_output = True

    def forward(self, a):
        return array_module(a).exp(a)

    def backward(self, gy):
        return gy * self.saved_output


def exp(a):
    return Exp()(_floating(a))


class Log(Function):
    def forward(self, a):
        xp = array_module(a)
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.log(a)

    def backward(self, gy):
        return gy / self.inputs[0]


def log(a):
    return Log()(_floating(a))


class Sqrt(Function):
    uses_inputs = False
    uses_output = True

    def forward(self, a):
        xp = array_module(a)
        with xp.errstate(invalid="ignore"):
            return xp.sqrt(a)

    def backward(self, gy):
        return gy / (self.saved_output * 2.0)


def sqrt(a):
    return Sqrt()(_floating(a))


class Abs(Function):
    """|a|; the gradient at 0 is 0, as in PyTorch (sign(0) = 0)."""

    def forward(self, a):
        return array_module(a).abs(a)  # not abs(): the public abs() below shadows the builtin

    def backward(self, gy):
        a = self.inputs[0]
        return gy * constant(array_module(a._data).sign(a._data))


def abs(a):  # noqa: A001
    return Abs()(a)


class Sin(Function):
    def forward(self, a):
        return array_module(a).sin(a)

    def backward(self, gy):
        return gy * cos(self.inputs[0])


def sin(a):
    return Sin()(_floating(a))


class Cos(Function):
    def forward(self, a):
        return array_module(a).cos(a)

    def backward(self, gy):
        return -gy * sin(self.inputs[0])


def cos(a):
    return Cos()(_floating(a))


class Erf(Function):
    """The error function; d/da erf(a) = 2/sqrt(pi) exp(-a^2). Needed by the exact GELU."""

    def forward(self, a):
        return special_module(a).erf(a)

    def backward(self, gy):
        a = self.inputs[0]
        return gy * exp(-(a * a)) * (2.0 / math.sqrt(math.pi))


def erf(a):
    return Erf()(_floating(a))


class Clamp(Function):
    """Clip to [lo, hi]; the gradient passes where lo <= a <= hi (bounds included, as PyTorch)."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, a):
        return array_module(a).clip(a, self.lo, self.hi).astype(a.dtype, copy=False)

    def backward(self, gy):
        a = self.inputs[0]._data
        inside = True
        if self.lo is not None:
            inside = a >= self.lo
        if self.hi is not None:
            inside = inside & (a <= self.hi)
        return gy * constant(inside)


def clamp(a, min=None, max=None):  # noqa: A002
    """Clip ``a`` to [min, max]; either bound may be None, or a tensor."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    # a NumPy scalar bound acts as the Python number it holds (it must not make float32 float64)
    min = None if min is None else operand(min)  # noqa: A001
    max = None if max is None else operand(max)  # noqa: A001
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        # where the input equals a bound it keeps the whole gradient, as in PyTorch (maximum
        # and minimum would split it); if min > max the result is max
        out = a
        if min is not None:
            out = where(out < min, min, out)
        if max is not None:
            out = where(out > max, max, out)
        return out
    d = result_type(a, *(bound for bound in (min, max) if bound is not None))
    for bound in (min, max):
        if bound is not None and not d.is_floating_point:
            _check_fits(bound, d, "clamp: the bound")
    if d.numpy != a._data.dtype:  # an integer tensor with a float bound is clamped as float
        a = a.to(d)
    return Clamp(min, max)(a)


class _Extremum(_Broadcasting):
    """maximum/minimum of two tensors. Where they are equal the gradient is split in half between
    them, as PyTorch does."""

    def backward(self, gy):
        a, b = self.inputs
        av, bv = a._data, b._data
        wins_a = self._wins(av, bv)
        tie = av == bv
        dt = gy._data.dtype
        share_a = constant((wins_a + 0.5 * tie).astype(dt))
        share_b = constant(((~wins_a & ~tie) + 0.5 * tie).astype(dt))
        ga = sum_to(gy * share_a, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(gy * share_b, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Maximum(_Extremum):
    def forward(self, a, b):
        return array_module(a).maximum(a, b)

    @staticmethod
    def _wins(a, b):
        return a > b


def maximum(a, b):
    return Maximum()(*promote(a, b))


class Minimum(_Extremum):
    def forward(self, a, b):
        return array_module(a).minimum(a, b)

    @staticmethod
    def _wins(a, b):
        return a < b


def minimum(a, b):
    return Minimum()(*promote(a, b))


class Where(_Broadcasting):
    """``cond ? a : b``; the condition gets no gradient."""

    uses_inputs = (0,)  # backward reads only the condition

    def forward(self, cond, a, b):
        return array_module(a).where(cond, a, b)

    def backward(self, gy):
        cond, a, b = self.inputs
        zero = constant(array_module(gy._data).zeros((), dtype=gy._data.dtype))
        ga = sum_to(where(cond, gy, zero), a.shape) if self.needs_input_grad[1] else None
        gb = sum_to(where(cond, zero, gy), b.shape) if self.needs_input_grad[2] else None
        return None, ga, gb


def where(cond, a, b):
    """Elementwise ``a`` where ``cond`` is true, else ``b`` (both broadcast with ``cond``)."""
    if not isinstance(cond, Tensor):  # a list or an array: on the device of the tensor operands
        like = next((x._data for x in (a, b) if isinstance(x, Tensor)), None)
        cond = constant(asarray_like(cond, like) if like is not None else np.asarray(cond))
    if cond._data.dtype.kind != "b":
        raise TypeError(f"where: condition must be a bool tensor, got {cond.dtype}")
    a, b = promote(a, b)
    return Where()(cond, a, b)


class Lerp(_Broadcasting):
    """Linear interpolation ``a + w (b - a)``: d/da = 1 - w, d/db = w, d/dw = b - a.

    For |w| >= 0.5 the value is computed from the other end, ``b - (b - a)(1 - w)``, as PyTorch
    does: then w = 1 gives exactly b (``a + 1 * (b - a)`` may round away from it)."""

    def forward(self, a, b, w):
        xp = array_module(a)
        diff = b - a
        return xp.where(xp.abs(w) < 0.5, a + w * diff, b - diff * (1 - w))

    def backward(self, gy):
        a, b, w = self.inputs
        need_a, need_b, need_w = self.needs_input_grad
        ga = sum_to(gy * (1.0 - w), a.shape) if need_a else None
        gb = sum_to(gy * w, b.shape) if need_b else None
        gw = sum_to(gy * (b - a), w.shape) if need_w else None
        return ga, gb, gw


def lerp(input, end, weight):
    """``input + weight * (end - input)``: the point a fraction ``weight`` of the way from
    ``input`` to ``end``; ``weight`` is a number or a tensor (all three broadcast together)."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"lerp: expected floating point tensors, got {input.dtype.name}")
    if end.dtype != input.dtype:
        raise RuntimeError(f"lerp: expected end to have the input's dtype {input.dtype.name}, got {end.dtype.name}")
    if isinstance(weight, Tensor):
        if weight.dtype != input.dtype:
            raise RuntimeError(
                f"lerp: expected weight to have the input's dtype {input.dtype.name}, got {weight.dtype.name}"
            )
    else:
        weight = constant(asarray_like(weight, input._data, input._data.dtype))
    return Lerp()(input, end, weight)
