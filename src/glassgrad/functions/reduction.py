"""Reductions over one, several or all dimensions: sum, mean, max/min, var/std, logsumexp and the
vector norm; then products and running totals (prod, cumsum, cumprod)."""

from __future__ import annotations

import builtins
import math
import warnings
from collections import namedtuple

from glassgrad._backend import array_module
from glassgrad._dtype import to_dtype

# Tensor is defined before _tensor imports the op modules (see functions/_operands.py)
from glassgrad._tensor import Tensor
from glassgrad.autograd.function import Function
from glassgrad.functions._operands import constant
from glassgrad.functions.array import broadcast_to, cat, flip, getitem, reshape
from glassgrad.functions.math import _floating, abs, exp, maximum, minimum, where


def _all_dims(dim) -> bool:
    """True for ``dim=None`` and for an empty ``dim=()``, which PyTorch also reads as 'all'."""
    return dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0)


def _dims(dim, ndim: int, op: str):
    """``dim`` (None, an int or a sequence; ``()`` means all) as a sorted tuple of
    non-negative dims."""
    if _all_dims(dim):
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    out = []
    for d in dims:
        bound = builtins.max(ndim, 1)
        if not -bound <= d < bound:
            raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} dimensions")
        if d % bound in out:
            raise RuntimeError(f"{op}: dim {d % bound} appears more than once in dim={dim!r}")
        out.append(d % bound)
    return tuple(sorted(out)) if ndim else ()


def _nonempty(x, dim, dims, op: str) -> None:
    """Reductions without an identity (max, min, the inf-norm) cannot reduce zero elements:
    refuse as PyTorch does, naming the empty dim."""
    if x.numel() == 0 and _all_dims(dim):
        raise RuntimeError(
            f"{op}: cannot reduce the empty tensor of shape {tuple(x.shape)} over all its dims "
            "(the operation has no identity); give dim, over non-empty dims"
        )
    for d in dims:
        if x.shape[d] == 0:
            raise IndexError(
                f"{op}: cannot reduce over dim {d}, which is empty (size 0) in the tensor of shape "
                f"{tuple(x.shape)}; the operation has no identity"
            )


def _kept_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _expand_back(gy, in_shape, dims, keepdim):
    """Undo a reduction's shape change: put back reduced dims (as 1) and broadcast."""
    if not keepdim:
        gy = reshape(gy, _kept_shape(in_shape, dims))
    return broadcast_to(gy, in_shape)


class Sum(Function):
    uses_inputs = False

    def __init__(self, dims, keepdim):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        self.in_shape = x.shape
        # PyTorch sums integers and bools (uint8 included) as int64
        return x.sum(axis=self.dims, keepdims=self.keepdim, dtype="int64" if x.dtype.kind in "biu" else None)

    def backward(self, gy):
        return _expand_back(gy, self.in_shape, self.dims, self.keepdim)


def sum(x, dim=None, keepdim: bool = False):  # noqa: A001 - PyTorch's name
    return Sum(_dims(dim, x.ndim, "sum"), keepdim)(x)


class Mean(Function):
    uses_inputs = False

    def __init__(self, dims, keepdim):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        self.in_shape = x.shape
        self.count = 1
        for d in self.dims:
            self.count *= x.shape[d]
        if self.count == 0:  # the mean of nothing is nan, as in PyTorch (NumPy would also warn)
            shape = _kept_shape(x.shape, self.dims) if self.keepdim else [
                s for i, s in enumerate(x.shape) if i not in self.dims]
            return array_module(x).full(shape, float("nan"), dtype=x.dtype)
        return x.mean(axis=self.dims, keepdims=self.keepdim)

    def backward(self, gy):
        return _expand_back(gy / self.count, self.in_shape, self.dims, self.keepdim)


def mean(x, dim=None, keepdim: bool = False):
    if not x.dtype.is_floating_point:
        raise RuntimeError(
            f"mean: expected a floating point tensor, got {x.dtype}; convert it with .float()"
        )
    return Mean(_dims(dim, x.ndim, "mean"), keepdim)(x)


class _AllExtremum(Function):
    """amax/amin: the gradient is shared evenly among the elements that tie for the extremum."""

    uses_inputs = False

    def __init__(self, dims, keepdim):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        self.in_shape = x.shape
        y = self._reduce(x, axis=self.dims, keepdims=True)
        hits = x == y
        with array_module(x).errstate(invalid="ignore"):  # 0 / 0 only when x has no elements
            self.share = hits / hits.sum(axis=self.dims, keepdims=True).astype(x.dtype)
        return y if self.keepdim else y.reshape([s for i, s in enumerate(y.shape) if i not in self.dims])

    def backward(self, gy):
        return _expand_back(gy, self.in_shape, self.dims, self.keepdim) * constant(
            self.share.astype(gy._data.dtype, copy=False)
        )


class Amax(_AllExtremum):
    @staticmethod
    def _reduce(x, **kw):
        return x.max(**kw)


def amax(x, dim=None, keepdim: bool = False):
    dims = _dims(dim, x.ndim, "amax")
    _nonempty(x, dim, dims, "amax")
    return Amax(dims, keepdim)(x)


class Amin(_AllExtremum):
    @staticmethod
    def _reduce(x, **kw):
        return x.min(**kw)


def amin(x, dim=None, keepdim: bool = False):
    dims = _dims(dim, x.ndim, "amin")
    _nonempty(x, dim, dims, "amin")
    return Amin(dims, keepdim)(x)


values_indices = namedtuple("values_indices", ["values", "indices"])


class _DimExtremum(Function):
    """max/min along one dim, returning values; the gradient goes to the selected index only."""

    uses_inputs = False

    def __init__(self, dim, keepdim):
        self.dim, self.keepdim = dim, keepdim

    def forward(self, x):
        if x.shape[self.dim] == 0:
            raise IndexError(f"max/min: cannot reduce over an empty dim {self.dim}")
        xp = array_module(x)
        self.in_shape = x.shape
        idx = self._arg(x, axis=self.dim, keepdims=True)
        self.indices = idx
        y = xp.take_along_axis(x, idx, axis=self.dim)
        return y if self.keepdim else y.squeeze(self.dim)

    def backward(self, gy):
        xp = array_module(gy._data)
        n = self.in_shape[self.dim]
        shape = [1] * len(self.in_shape)
        shape[self.dim] = n
        picked = (self.indices == xp.arange(n).reshape(shape)).astype(gy._data.dtype)
        return _expand_back(gy, self.in_shape, (self.dim,), self.keepdim) * constant(picked)


class MaxDim(_DimExtremum):
    @staticmethod
    def _arg(x, **kw):
        return x.argmax(**kw)


class MinDim(_DimExtremum):
    @staticmethod
    def _arg(x, **kw):
        return x.argmin(**kw)


def _with_indices(op_cls, arg_name, x, dim, keepdim):
    if x.ndim == 0:  # one value: itself, at index 0, for dim 0 or -1 (as in torch)
        _dims(dim, 0, arg_name)
        x, d, keepdim = reshape(x, (1,)), 0, False
    else:
        if not isinstance(dim, int):
            raise TypeError(f"{arg_name}: dim must be an int, got {dim!r}")
        (d,) = _dims(dim, x.ndim, arg_name)
    fn = op_cls(d, keepdim)
    values = fn(x)
    idx = fn.indices if keepdim else fn.indices.squeeze(d)
    return values_indices(values, Tensor._wrap(idx.astype("int64", copy=False), False))


def max(x, dim=None, keepdim: bool = False):  # noqa: A001
    """The largest element; with ``dim``, (values, indices) along it; with a tensor, ``maximum``."""
    if isinstance(dim, Tensor):
        return maximum(x, dim)
    if dim is None:
        return amax(x)
    return _with_indices(MaxDim, "max", x, dim, keepdim)


def min(x, dim=None, keepdim: bool = False):  # noqa: A001
    """The smallest element; with ``dim``, (values, indices) along it; with a tensor, ``minimum``."""
    if isinstance(dim, Tensor):
        return minimum(x, dim)
    if dim is None:
        return amin(x)
    return _with_indices(MinDim, "min", x, dim, keepdim)


def argmax(x, dim=None, keepdim: bool = False):
    """Index of the largest element (of the flattened tensor when ``dim`` is None); no gradient."""
    return _arg_index(x, dim, keepdim, "argmax")


def argmin(x, dim=None, keepdim: bool = False):
    """Index of the smallest element (of the flattened tensor when ``dim`` is None); no gradient."""
    return _arg_index(x, dim, keepdim, "argmin")


def _arg_index(x, dim, keepdim: bool, name: str):
    """``argmax``/``argmin`` (``name``) as int64 indices, through the array's own method."""
    a = x._data
    d = None
    if dim is not None:
        (d,) = _dims(dim, x.ndim, name) or (None,)  # a 0-d tensor has no dim to reduce
    _nonempty(x, dim, () if d is None else (d,), name)
    if d is None:
        return Tensor._wrap(array_module(a).asarray(getattr(a, name)(), dtype="int64"), False)
    return Tensor._wrap(getattr(a, name)(axis=d, keepdims=keepdim).astype("int64"), False)


def var(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """Variance: sum((x - mean)^2) / (N - correction). ``correction`` defaults to 1 (Bessel's);
    ``unbiased=False`` means correction 0, as in PyTorch."""
    if correction is None:
        correction = 0 if unbiased is False else 1
    dims = _dims(dim, x.ndim, "var")
    n = 1
    for d in dims:
        n *= x.shape[d]
    if n - correction <= 0:
        warnings.warn(
            f"var: degrees of freedom N - correction = {n} - {correction} <= 0, so the result is "
            "inf (or nan); the correction should be less than the number of reduced elements",
            stacklevel=2,
        )
    centered = x - mean(x, dims, keepdim=True)
    # with correction >= N there are no degrees of freedom left: PyTorch divides by 0 (inf, or
    # nan where all values are equal) rather than by a negative count
    return sum(centered * centered, dims, keepdim) / builtins.max(n - correction, 0)


class StdFromVar(Function):
    """sqrt(v) for a variance v. Where the std is 0 (all values equal) the gradient is 0, as in
    PyTorch, instead of sqrt's infinite slope, which would turn the whole gradient into NaN."""

    uses_inputs = False
    uses_output = True

    def forward(self, v):
        return array_module(v).sqrt(v)

    def backward(self, gy):
        y = self.saved_output
        is_zero = constant(y._data == 0)
        return where(is_zero, 0.0, gy / (where(is_zero, 1.0, y) * 2.0))


def std(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """Standard deviation: the square root of ``var`` (same arguments)."""
    return StdFromVar()(var(x, dim, unbiased, keepdim, correction=correction))


class LogSumExp(Function):
    """log sum exp(x), computed as m + log sum exp(x - m) with m the max, so it never overflows.
    Its gradient is softmax: gx = gy * exp(x - y)."""

    uses_output = True

    def __init__(self, dims, keepdim):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        xp = array_module(x)
        if x.size == 0:  # an empty sum: log 0 = -inf (and no max to shift by)
            m = xp.zeros(_kept_shape(x.shape, self.dims), dtype=x.dtype)
        else:
            m = x.max(axis=self.dims, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0)
        with xp.errstate(divide="ignore"):
            y = xp.log(xp.exp(x - m).sum(axis=self.dims, keepdims=True)) + m
        return y if self.keepdim else y.reshape([s for i, s in enumerate(y.shape) if i not in self.dims])

    def backward(self, gy):
        x = self.inputs[0]
        y = self.saved_output
        if not self.keepdim:
            y = reshape(y, _kept_shape(x.shape, self.dims))
        return _expand_back(gy, x.shape, self.dims, self.keepdim) * exp(x - y)


def logsumexp(x, dim, keepdim: bool = False):
    """log(sum(exp(x))) over ``dim`` without overflow; integer inputs compute in the default
    float dtype, as in PyTorch."""
    return LogSumExp(_dims(dim, x.ndim, "logsumexp"), keepdim)(_floating(x))


class VectorNorm(Function):
    """The vector p-norm (sum |x|^p)^(1/p) over ``dims``, with its limits: p = inf is max |x|,
    p = -inf is min |x|, p = 0 counts the non-zero elements.

    Its gradient is sign(x) |x|^(p-1) / y^(p-1) (x / y for p = 2, sign(x) for p = 1; for
    p = +-inf the gradient is shared among the elements that tie for the extremum). Where y = 0
    the quotient is taken as 0, as in PyTorch, so the norm of a zero vector has gradient 0
    instead of 0/0 = NaN; the masks keep the second-order gradient finite there too."""

    uses_output = True

    def __init__(self, ord, dims, keepdim):  # noqa: A002 - PyTorch's name
        self.ord, self.dims, self.keepdim = ord, dims, keepdim

    def forward(self, x):
        xp = array_module(x)
        p, kept = self.ord, {"axis": self.dims, "keepdims": True}
        a = xp.abs(x)
        if p == math.inf:
            y = a.max(**kept)
        elif p == -math.inf:
            y = a.min(**kept)
        elif p == 0:
            y = (x != 0).sum(**kept).astype(x.dtype)
        elif p == 1:
            y = a.sum(**kept)
        elif p == 2:
            y = xp.sqrt((x * x).sum(**kept))
        else:
            with xp.errstate(divide="ignore"):  # 0 ** negative p = inf, whose 1/p-th power is 0
                y = (a**p).sum(**kept) ** (1.0 / p)
        return y if self.keepdim else y.reshape([s for i, s in enumerate(y.shape) if i not in self.dims])

    def backward(self, gy):
        x, p = self.inputs[0], self.ord
        xa = x._data
        xp = array_module(xa)
        if p == 0:  # a count: piecewise constant
            return constant(xp.zeros(xa.shape, dtype=gy._data.dtype))
        g = _expand_back(gy, xa.shape, self.dims, self.keepdim)
        sign = constant(xp.sign(xa))
        if p == 1:
            return g * sign
        y = self.saved_output
        if not self.keepdim:
            y = reshape(y, _kept_shape(xa.shape, self.dims))
        if p in (math.inf, -math.inf):
            hits = xp.abs(xa) == y._data
            count = xp.maximum(hits.sum(axis=self.dims, keepdims=True), 1)
            return g * sign * constant((hits / count).astype(xa.dtype))
        if p == 2:
            y_zero = constant(y._data == 0)
            return x * where(y_zero, 0.0, g / where(y_zero, 1.0, y))
        if p > 1:  # sign(x) |x|^(p-1), finite at x = 0, over y^(p-1) (0 where y = 0)
            y_zero = constant(y._data == 0)
            return sign * abs(x) ** (p - 1) * where(y_zero, 0.0, g / where(y_zero, 1.0, y) ** (p - 1))
        # p < 1: |x|^(p-1) is infinite at x = 0, where the gradient is taken as 0 (PyTorch)
        x_zero = constant(xa == 0)
        part = where(x_zero, 0.0, where(x_zero, 1.0, abs(x)) ** (p - 1))
        return sign * part * g * y ** (1 - p)


def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None):  # noqa: A002
    """The vector ``ord``-norm of ``x`` over ``dim`` (all elements when None), as
    ``torch.linalg.vector_norm``: (sum |x|^ord)^(1/ord); ord = inf / -inf give max / min |x|,
    ord = 0 the number of non-zero elements. ``dtype`` computes (and returns) in that floating
    dtype; it may widen the input's dtype, never narrow it."""
    if isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise TypeError(f"vector_norm: ord must be a number (e.g. 2, 1, inf), got {ord!r}")
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"vector_norm: expected a floating point input, got {x.dtype}; convert it with .float()")
    if dtype is not None:
        d = to_dtype(dtype)
        if not d.is_floating_point:
            raise RuntimeError(f"vector_norm: dtype must be a floating point dtype, got {d}")
        if d.numpy.itemsize < x._data.dtype.itemsize:
            raise RuntimeError(
                f"vector_norm: the input's dtype {x.dtype} cannot be converted to dtype {d} without "
                "narrowing; pass a dtype at least as wide as the input's"
            )
        x = x.to(d)
    dims = _dims(dim, x.ndim, "vector_norm")
    if ord < 0 or ord == math.inf:  # no identity: an empty sum has no -inf, inf or negative norm
        try:
            _nonempty(x, dim, dims, f"vector_norm (ord={ord})")
        except IndexError as e:
            raise RuntimeError(str(e)) from None
    return VectorNorm(float(ord), dims, keepdim)(x)


def norm(x, p="fro", dim=None, keepdim: bool = False, dtype=None):
    """``torch.norm``: the vector ``p``-norm over ``dim`` (see :func:`vector_norm`); ``p='fro'``
    (the default) and ``p=None`` mean the 2-norm."""
    if p is None or p == "fro":
        if not (dim is None or isinstance(dim, int) or len(dim) <= 2):
            raise RuntimeError(f"norm: p='fro' takes at most 2 dims, got dim={dim!r}")
        p = 2
    elif isinstance(p, str):
        if p == "nuc":
            raise NotImplementedError("norm: the nuclear norm (p='nuc') is not implemented in glassgrad")
        raise RuntimeError(f"norm: p={p!r} is not supported; use a number, 'fro' or None")
    return vector_norm(x, p, dim, keepdim, dtype=dtype)


# -- products and running totals ------------------------------------------------------------


def _accumulated_dtype(x):
    """PyTorch accumulates integers and bools (uint8 included) as int64."""
    return "int64" if x.dtype.kind in "biu" else None


def _along(dim: int, ndim: int, part: slice) -> tuple:
    """An indexing key that takes ``part`` of dim ``dim`` and all of the others."""
    return (slice(None),) * dim + (part,) + (slice(None),) * (ndim - dim - 1)


def _shift(x, dim: int, fill: float, forward: bool):
    """``x`` moved one place along ``dim`` (towards the end when ``forward``), the emptied place
    holding ``fill`` and the last (or first) element dropped: out_i = x_{i-1} (or x_{i+1})."""
    n = x.shape[dim]
    edge = list(x.shape)
    edge[dim] = 1
    pad = constant(array_module(x._data).full(edge, fill, dtype=x._data.dtype))
    if forward:
        return cat([pad, getitem(x, _along(dim, x.ndim, slice(0, builtins.max(n - 1, 0))))], dim)
    return cat([getitem(x, _along(dim, x.ndim, slice(1, n))), pad], dim)


def _reverse_cumsum(x, dim: int):
    """out_i = sum_{k >= i} x_k: the sum from the end."""
    return flip(CumSum(dim)(flip(x, dim)), dim)


def _products_before(x, dim: int):
    """out_i = prod_{j < i} x_j (1 for the first element), computed without dividing."""
    return CumProd(dim)(_shift(x, dim, 1.0, forward=True))


def _with_dtype(x, dtype):
    return x if dtype is None else x.to(dtype)


def _one_dim(dim, x, op: str) -> int:
    if not isinstance(dim, int):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    bound = builtins.max(x.ndim, 1)
    if not -bound <= dim < bound:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {x.ndim} dimensions")
    return dim % bound


def _running(op_cls, name, x, dim, dtype):
    x = _with_dtype(x, dtype)
    d = _one_dim(dim, x, name)
    if x.ndim == 0:
        return reshape(op_cls(0)(reshape(x, (1,))), ())
    return op_cls(d)(x)


class CumSum(Function):
    """Running sum y_k = sum_{i <= k} x_i; every y_k with k >= i uses x_i once, so the gradient
    is the running sum of gy taken from the end."""

    uses_inputs = False

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        return x.cumsum(axis=self.dim, dtype=_accumulated_dtype(x))

    def backward(self, gy):
        return _reverse_cumsum(gy, self.dim)


def cumsum(x, dim: int, *, dtype=None):
    """Running sum along ``dim``: out_k = x_0 + ... + x_k."""
    return _running(CumSum, "cumsum", x, dim, dtype)


class CumProd(Function):
    """Running product y_k = prod_{i <= k} x_i.

    d y_k / d x_i = prod_{j <= k, j != i} x_j for k >= i. Without zeros that is y_k / x_i, and
    the gradient is reverse_cumsum(gy * y) / x. A zero makes that 0/0, so then it is computed
    without division: gx_i = (prod_{j < i} x_j) * r_i with r_i = sum_{k >= i} gy_k prod_{i < j <= k} x_j,
    which obeys r_i = gy_i + x_{i+1} r_{i+1} (``ReverseScan``). Both forms are built from
    differentiable ops, so gradients of every order are right, zeros or not."""

    uses_output = True

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        return x.cumprod(axis=self.dim, dtype=_accumulated_dtype(x))

    def backward(self, gy):
        (x,) = self.inputs
        d = self.dim
        if not (x._data == 0).any():
            return _reverse_cumsum(gy * self.saved_output, d) / x
        return _products_before(x, d) * ReverseScan(d)(_shift(x, d, 0.0, forward=False), gy)


def cumprod(x, dim: int, *, dtype=None):
    """Running product along ``dim``: out_k = x_0 * ... * x_k (gradients right with zeros too)."""
    return _running(CumProd, "cumprod", x, dim, dtype)


class ReverseScan(Function):
    """The linear recurrence r_i = b_i + a_i r_{i+1} run from the end of ``dim`` (r_n = 0).

    Its gradient is the same recurrence run from the start, c_i = h_i + a_{i-1} c_{i-1} for the
    upstream gradient h, giving d/db = c and d/da_i = c_i r_{i+1}; so it is its own backward (on
    flipped inputs). A Python loop over ``dim``, vectorized over the other dims."""

    uses_output = True

    def __init__(self, dim):
        self.dim = dim

    def forward(self, a, b):
        xp = array_module(a)
        a0, b0 = xp.moveaxis(a, self.dim, 0), xp.moveaxis(b, self.dim, 0)
        r = xp.empty_like(b0)
        carry = xp.zeros_like(b0[0]) if len(b0) else None
        for i in range(len(b0) - 1, -1, -1):
            carry = b0[i] + a0[i] * carry
            r[i] = carry
        return xp.moveaxis(r, 0, self.dim)

    def backward(self, h):
        a = self.inputs[0]
        d = self.dim
        c = flip(ReverseScan(d)(flip(_shift(a, d, 0.0, forward=True), d), flip(h, d)), d)
        ga = c * _shift(self.saved_output, d, 0.0, forward=False) if self.needs_input_grad[0] else None
        return ga, c


class Prod(Function):
    """Product along ``dim``. d y / d x_i = prod_{j != i} x_j: y / x_i without zeros, else the
    products before i times the products after i (no division, so zeros are handled)."""

    uses_output = True

    def __init__(self, dim, keepdim):
        self.dim, self.keepdim = dim, keepdim

    def forward(self, x):
        return x.prod(axis=self.dim, keepdims=self.keepdim, dtype=_accumulated_dtype(x))

    def backward(self, gy):
        (x,) = self.inputs
        d = self.dim
        gy = _expand_back(gy, x.shape, (d,), self.keepdim)
        if not (x._data == 0).any():
            return gy * _expand_back(self.saved_output, x.shape, (d,), self.keepdim) / x
        after = flip(_products_before(flip(x, d), d), d)
        return gy * _products_before(x, d) * after


def prod(x, dim=None, keepdim: bool = False, *, dtype=None):
    """The product of all elements, or along one ``dim``; integers and bools multiply as int64."""
    x = _with_dtype(x, dtype)
    if dim is None:
        return Prod(0, False)(reshape(x, (-1,)))
    d = _one_dim(dim, x, "prod")
    if x.ndim == 0:  # one value: the product of itself, still 0-dim
        return Prod(0, False)(reshape(x, (1,)))
    return Prod(d, keepdim)(x)
