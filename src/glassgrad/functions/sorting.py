"""Sorting: sort, argsort and topk.

The order itself is found on the arrays and has no gradient; the sorted values are then a
``gather`` of the input at those indices, so their gradient (and every higher one) is gather's:
each value's gradient goes back to the place it came from.
"""

from __future__ import annotations

from collections import namedtuple

from glassgrad._backend import array_module

# Tensor is defined before _tensor imports the op modules (see functions/_operands.py)
from glassgrad._tensor import Tensor
from glassgrad.functions.array import _wrap_dim, reshape
from glassgrad.functions.indexing import Gather

# what torch.sort and torch.topk return: a tuple that also has .values and .indices
sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])


def _order(a, axis: int, descending: bool):
    """Indices that sort ``a`` along ``axis``, stably: equal values keep their original order.
    NaN counts as the largest value (last ascending, first descending), as in PyTorch."""
    xp = array_module(a)
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable")
    # Negating would overflow integers and flip bools wrongly; instead sort the reversed array
    # ascending and read that order backwards: equal values then keep their original order too.
    n = a.shape[axis]
    backwards = xp.flip(xp.argsort(xp.flip(a, axis), axis=axis, kind="stable"), axis)
    return n - 1 - backwards


def _as_vector(x, dim: int, op: str):
    """(x, dim) with a 0-dim tensor (one value, which PyTorch sorts too) as a 1-element vector."""
    d = _wrap_dim(dim, x.ndim, op)
    return (reshape(x, (1,)), 0) if x.ndim == 0 else (x, d)


def _indices(array, like):
    return Tensor._wrap(array.reshape(like.shape).astype("int64", copy=False), False)


def sort(input, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """``(values, indices)``: ``input`` sorted along ``dim`` and where each value came from. The
    sort is always stable (``stable`` is accepted for PyTorch's sake), so ties keep their order."""
    x, d = _as_vector(input, dim, "sort")
    index = _indices(_order(x._data, d, descending), x)
    values = Gather(d)(x, index)
    return sort_result(reshape(values, input.shape), reshape(index, input.shape))


def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    """The indices that sort ``input`` along ``dim`` (int64, no gradient); stable, as ``sort``."""
    x, d = _as_vector(input, dim, "argsort")
    return reshape(_indices(_order(x._data, d, descending), x), input.shape)


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """``(values, indices)`` of the ``k`` largest (or, with ``largest=False``, smallest) elements
    along ``dim``, ordered from the most extreme. ``sorted=False`` lets PyTorch return them in any
    order; here they always come sorted."""
    x, d = _as_vector(input, dim, "topk")
    n = x.shape[d]
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: k must be between 0 and the size of dim {d} ({n}), got k={k}")
    a = x._data
    xp = array_module(a)
    # the positions 0..n-1 along dim, for every slice
    chosen = xp.broadcast_to(xp.arange(n).reshape([-1] + [1] * (a.ndim - d - 1)), a.shape)
    if k == 0:
        chosen = xp.take(chosen, xp.arange(0), axis=d)
    elif k < n:
        # partition first (linear time) so that only the k selected values are sorted
        part = xp.argpartition(a, n - k if largest else k - 1, axis=d)
        chosen = xp.take(part, xp.arange(n - k, n) if largest else xp.arange(k), axis=d)
    chosen = xp.take_along_axis(chosen, _order(xp.take_along_axis(a, chosen, axis=d), d, largest), axis=d)
    index = _indices(chosen, chosen)
    values = Gather(d)(x, index)
    if input.ndim == 0 and k == 1:
        values, index = reshape(values, ()), reshape(index, ())
    return topk_result(values, index)
