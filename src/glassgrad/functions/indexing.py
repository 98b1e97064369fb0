"""Ops that pick or place elements by an index tensor: gather, scatter, scatter_add, index_select.

Each pairs with an op that moves the data back: the gradient of gathering is adding into zeros
at the same places (a scatter-add), and the gradient of that is gathering again, so gradients of
any order need only these few ops. The index itself gets no gradient.
"""

from __future__ import annotations

import numbers

from glassgrad._backend import array_module

# Tensor is defined before _tensor imports the op modules (see functions/_operands.py)
from glassgrad._tensor import Tensor
from glassgrad.autograd.function import Function
from glassgrad.functions.array import Pad, _wrap_dim, reshape

_INDEX_DTYPES = ("int64", "int32")


def _grid(index, dim: int):
    """NumPy advanced-index key that pairs each element of ``index`` with its own position in the
    other dims: ``x[_grid(index, 1)][i, j] == x[i, index[i, j]]`` (the gather rule)."""
    grid = list(array_module(index).indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid)


def _crop(a, shape):
    """The leading ``shape`` block of ``a``: a source may be larger than the index, and only the
    part the index covers is used."""
    if a.shape == tuple(shape):
        return a
    return a[tuple(slice(0, s) for s in shape)]


def _pad_to(g, shape):
    """``g`` padded with zeros at the end of each dim up to ``shape`` (the unused part of a
    source larger than the index gets gradient 0)."""
    if g.shape == tuple(shape):
        return g
    return Pad([(0, s - gs) for s, gs in zip(shape, g.shape)], 0.0)(g)


# -- argument checks --------------------------------------------------------------------------


def _check_index_dtype(index, op: str) -> None:
    if index.dtype.name not in _INDEX_DTYPES:
        raise RuntimeError(f"{op}: expected an int64 (or int32) index tensor, got {index.dtype.name}")


def _check_bounds(index, size: int, dim: int, op: str) -> None:
    """Every index value in [0, size): NumPy would read a negative one from the end instead."""
    a = index._data
    if a.size and (a.min() < 0 or a.max() >= size):
        bad = a.min() if a.min() < 0 else a.max()
        raise RuntimeError(f"{op}: index {bad} is out of bounds for dimension {dim} with size {size}")


def _check_index_shape(x, dim: int, index, op: str, src=None) -> None:
    """PyTorch's shape rules: the same number of dims everywhere; the index no larger than the
    input in every dim but ``dim``, and no larger than ``src`` in every dim."""
    for name, t in (("input", x), ("src", src)):
        if t is not None and index.ndim != t.ndim:
            raise RuntimeError(
                f"{op}: index must have as many dimensions as {name} ({t.ndim}), got an index of "
                f"shape {tuple(index.shape)}"
            )
    for d, n in enumerate(index.shape):
        if d != dim and n > x.shape[d]:
            raise RuntimeError(
                f"{op}: index of shape {tuple(index.shape)} is larger than the input of shape "
                f"{tuple(x.shape)} in dim {d} (only dim {dim}, the one indexed, may be larger)"
            )
        if src is not None and n > src.shape[d]:
            raise RuntimeError(
                f"{op}: index of shape {tuple(index.shape)} is larger than src of shape "
                f"{tuple(src.shape)} in dim {d}"
            )


def _prepared(x, dim: int, index, op: str, src=None):
    """Checked arguments, with 0-dim tensors (which PyTorch accepts) as 1-element vectors."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}: index must be a tensor, got {type(index).__name__}")
    _check_index_dtype(index, op)
    d = _wrap_dim(dim, x.ndim, op)
    if x.ndim == 0:
        x = reshape(x, (1,))
        index = reshape(index, (1,)) if index.ndim == 0 else index
        src = reshape(src, (1,)) if src is not None and src.ndim == 0 else src
    _check_index_shape(x, d, index, op, src)
    _check_bounds(index, x.shape[d], d, op)
    return x, d, index, src


def _back_to_0d(out, like):
    return reshape(out, ()) if like.ndim == 0 else out


# -- the ops, each followed by its public function ---------------------------------------------


class Gather(Function):
    """``out[i][j] = x[i][index[i][j]]`` (for dim=1), as ``torch.gather``."""

    uses_inputs = (1,)  # the index

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x, index):
        self.in_shape = x.shape
        return x[_grid(index, self.dim)]

    def backward(self, gy):
        return ScatterAdd(self.dim, self.in_shape)(gy, self.inputs[1]), None


def gather(input, dim: int, index):
    """``out[i][j][k] = input[i][index[i][j][k]][k]`` for dim=1: pick along ``dim`` by ``index``,
    which has the input's number of dims and gives the output its shape."""
    shape = index.shape
    x, d, index, _ = _prepared(input, dim, index, "gather")
    return reshape(Gather(d)(x, index), shape)  # the index's shape (also when 0-dim)


class ScatterAdd(Function):
    """Add ``src`` into zeros of ``shape`` at ``index`` along ``dim`` (adding where an index
    repeats): ``out[i][index[i][j]] += src[i][j]``. Gather's backward, and half of scatter_add."""

    uses_inputs = (1,)  # the index

    def __init__(self, dim, shape):
        self.dim, self.shape = dim, shape

    def forward(self, src, index):
        self.src_shape = src.shape
        xp = array_module(src)
        out = xp.zeros(self.shape, dtype=src.dtype)
        xp.add.at(out, _grid(index, self.dim), _crop(src, index.shape))
        return out

    def backward(self, gout):
        return _pad_to(Gather(self.dim)(gout, self.inputs[1]), self.src_shape), None


def scatter_add(input, dim: int, index, src):
    """``input`` plus ``src`` added at ``index`` along ``dim``: ``out[i][index[i][j]] += src[i][j]``
    (dim=1), adding every value whose index repeats."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add: src must be a tensor, got {type(src).__name__}")
    if src.dtype != input.dtype:
        raise RuntimeError(
            f"scatter_add: expected src to have the input's dtype {input.dtype.name}, got {src.dtype.name}"
        )
    x, d, index, src = _prepared(input, dim, index, "scatter_add", src)
    return _back_to_0d(x + ScatterAdd(d, x.shape)(src, index), input)


class Scatter(Function):
    """A copy of ``x`` with ``out[i][index[i][j]] = src[i][j]`` (dim=1). Where an index repeats,
    which write wins is unspecified, as in PyTorch. The overwritten places of ``x`` get gradient
    0; each element of ``src`` gets the gradient of the place it was written to."""

    uses_inputs = (1,)  # the index

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x, index, src):
        self.src_shape = src.shape
        out = x.copy()
        out[_grid(index, self.dim)] = _crop(src, index.shape)
        return out

    def backward(self, gy):
        index = self.inputs[1]
        need_x, _, need_src = self.needs_input_grad
        gx = ScatterValue(self.dim, 0)(gy, index) if need_x else None
        gsrc = _pad_to(Gather(self.dim)(gy, index), self.src_shape) if need_src else None
        return gx, None, gsrc


class ScatterValue(Function):
    """A copy of ``x`` with the number ``value`` written at ``index`` along ``dim``; the
    overwritten places get gradient 0 (which is this op again, writing 0)."""

    uses_inputs = (1,)  # the index

    def __init__(self, dim, value):
        self.dim, self.value = dim, value

    def forward(self, x, index):
        out = x.copy()
        out[_grid(index, self.dim)] = self.value
        return out

    def backward(self, gy):
        return ScatterValue(self.dim, 0)(gy, self.inputs[1]), None


def scatter(input, dim: int, index, src=None, *, value=None):
    """A copy of ``input`` with ``out[i][index[i][j]] = src[i][j]`` (dim=1); ``src`` may be a
    tensor or a number (also given as ``value=``), as in ``torch.scatter``."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter: expected src (a tensor) or value (a number), got neither")
    if isinstance(src, Tensor):
        if src.dtype != input.dtype:
            raise RuntimeError(
                f"scatter: expected src to have the input's dtype {input.dtype.name}, got {src.dtype.name}"
            )
        x, d, index, src = _prepared(input, dim, index, "scatter", src)
        return _back_to_0d(Scatter(d)(x, index, src), input)
    if not isinstance(src, numbers.Number):
        raise TypeError(f"scatter: src must be a tensor or a number, got {type(src).__name__}")
    x, d, index, _ = _prepared(input, dim, index, "scatter")
    return _back_to_0d(ScatterValue(d, src)(x, index), input)


class IndexSelect(Function):
    """The slices of ``x`` along ``dim`` at the positions listed in a 1-D ``index``."""

    uses_inputs = (1,)  # the index

    def __init__(self, dim):
        self.dim = dim

    def forward(self, x, index):
        self.in_shape = x.shape
        return array_module(x).take(x, index, axis=self.dim)

    def backward(self, gy):
        return IndexAdd(self.dim, self.in_shape)(gy, self.inputs[1]), None


class IndexAdd(Function):
    """Add the slices of ``src`` into zeros of ``shape`` at the positions ``index`` along ``dim``
    (a slice listed twice is added twice): index_select's backward."""

    uses_inputs = (1,)  # the index

    def __init__(self, dim, shape):
        self.dim, self.shape = dim, shape

    def forward(self, src, index):
        xp = array_module(src)
        out = xp.zeros(self.shape, dtype=src.dtype)
        xp.add.at(out, (slice(None),) * self.dim + (index,), src)
        return out

    def backward(self, gout):
        return IndexSelect(self.dim)(gout, self.inputs[1]), None


def index_select(input, dim: int, index):
    """The slices of ``input`` along ``dim`` at the positions in ``index`` (a vector of ints)."""
    if not isinstance(index, Tensor):
        raise TypeError(f"index_select: index must be a tensor, got {type(index).__name__}")
    if index.ndim > 1:
        raise IndexError(f"index_select: index must be a vector (0 or 1 dims), got {index.ndim} dims")
    _check_index_dtype(index, "index_select")
    d = _wrap_dim(dim, input.ndim, "index_select")
    x = reshape(input, (1,)) if input.ndim == 0 else input
    index = reshape(index, (1,)) if index.ndim == 0 else index
    a = index._data
    if a.size and (a.min() < 0 or a.max() >= x.shape[d]):
        bad = a.min() if a.min() < 0 else a.max()
        raise IndexError(f"index_select: index {bad} is out of range for dim {d} of size {x.shape[d]}")
    return _back_to_0d(IndexSelect(d)(x, index), input)
