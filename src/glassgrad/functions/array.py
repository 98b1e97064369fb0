"""Ops that move, copy or select elements without arithmetic: shapes, views, indexing, joining.

Their backwards are each other: the gradient of ``broadcast_to`` is ``sum_to`` and back, of
``reshape`` a reshape, of an index a scatter into zeros whose own gradient is the index again.

This is the base of the op modules: math imports it, and reduction imports both, so their
imports form no cycle (the one exception, masked_fill's ``where``, is imported where it is used).
"""

from __future__ import annotations

import builtins

from glassgrad._backend import array_module, asarray_like, is_array
from glassgrad._dtype import from_numpy_dtype

# Tensor is defined before _tensor imports the op modules (see functions/_operands.py)
from glassgrad._tensor import Tensor
from glassgrad.autograd.function import Function
from glassgrad.functions._operands import constant, promote


def _normalize_dim(dim: int, ndim: int, op: str) -> int:
    if not -ndim <= dim < builtins.max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % builtins.max(ndim, 1)


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class Reshape(Function):
    uses_inputs = False
    output_is_view = True

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise RuntimeError(
                f"reshape: shape {tuple(self.shape)} is invalid for an input of shape "
                f"{tuple(x.shape)} ({x.size} elements)"
            ) from None

    def backward(self, gy):
        return reshape(gy, self.in_shape)


def reshape(x, *shape):
    shape = _shape_arg(shape)
    if x.shape == shape:
        return x
    return Reshape(shape)(x)


def flatten(x, start_dim: int = 0, end_dim: int = -1):
    if x.ndim == 0:
        return reshape(x, 1)
    s = _normalize_dim(start_dim, x.ndim, "flatten")
    e = _normalize_dim(end_dim, x.ndim, "flatten")
    shape = x.shape
    n = 1
    for d in shape[s : e + 1]:
        n *= d
    return reshape(x, shape[:s] + (n,) + shape[e + 1 :])


def unflatten(x, dim: int, sizes):
    d = _normalize_dim(dim, x.ndim, "unflatten")
    return reshape(x, x.shape[:d] + tuple(sizes) + x.shape[d + 1 :])


def squeeze(x, dim=None):
    if dim is None:
        shape = tuple(s for s in x.shape if s != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = {_normalize_dim(d, x.ndim, "squeeze") for d in dims}
        shape = tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1))
    return reshape(x, shape)


def unsqueeze(x, dim: int):
    d = _normalize_dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


class Permute(Function):
    uses_inputs = False
    output_is_view = True

    def __init__(self, dims):
        self.dims = dims

    def forward(self, x):
        return x.transpose(self.dims)

    def backward(self, gy):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return Permute(tuple(inverse))(gy)


def permute(x, *dims):
    dims = _shape_arg(dims)
    if len(dims) != x.ndim:
        raise RuntimeError(f"permute: got {len(dims)} dims for a tensor with {x.ndim} dimensions")
    dims = tuple(_normalize_dim(d, x.ndim, "permute") for d in dims)
    if sorted(dims) != list(range(x.ndim)):
        raise RuntimeError(f"permute: dims {dims} are not a permutation of 0..{x.ndim - 1}")
    return Permute(dims)(x)


def transpose(x, dim0: int, dim1: int):
    if x.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return x
    d0 = _normalize_dim(dim0, x.ndim, "transpose")
    d1 = _normalize_dim(dim1, x.ndim, "transpose")
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute(tuple(dims))(x)


class BroadcastTo(Function):
    uses_inputs = False
    output_is_view = True

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return array_module(x).broadcast_to(x, self.shape)
        except ValueError:
            raise RuntimeError(
                f"expand/broadcast_to: a tensor of shape {tuple(x.shape)} cannot be expanded "
                f"to shape {self.shape}"
            ) from None

    def backward(self, gy):
        return sum_to(gy, self.in_shape)


def broadcast_to(x, shape):
    if x.shape == tuple(shape):
        return x
    return BroadcastTo(shape)(x)


def expand(x, *sizes):
    """Broadcast ``x`` to ``sizes`` without copying; -1 keeps a dimension's size."""
    sizes = _shape_arg(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes ({len(sizes)}) must be at least the number of "
            f"dimensions of the tensor ({x.ndim})"
        )
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    return broadcast_to(x, shape)


class SumTo(Function):
    """Sum ``x`` down to ``shape``: the reverse of broadcasting, used by every broadcasting op's
    backward."""

    uses_inputs = False

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = x.shape
        lead = x.ndim - len(self.shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(self.shape) if s == 1 and x.shape[lead + i] != 1
        )
        y = x.sum(axis=axes, keepdims=True) if axes else x
        return y.reshape(self.shape) if lead else y

    def backward(self, gy):
        return broadcast_to(gy, self.in_shape)


def sum_to(x, shape):
    """``x`` summed down to ``shape`` (``x`` itself when it already has that shape)."""
    if x.shape == tuple(shape):
        return x
    return SumTo(shape)(x)


def _has_advanced(key) -> bool:
    return any(is_array(k) or isinstance(k, list) for k in key)


def _normalize_key(key):
    if not isinstance(key, tuple):
        key = (key,)
    key = tuple(k._data if isinstance(k, Tensor) else k for k in key)
    for k in key:
        if is_array(k) and k.dtype.kind not in "biu":
            raise IndexError(f"tensors used as indices must be long or bool, got {k.dtype}")
    return key


class GetItem(Function):
    uses_inputs = False

    def __init__(self, key):
        self.key = key
        self.advanced = _has_advanced(key)
        self.output_is_view = not self.advanced

    def forward(self, x):
        self.in_shape = x.shape
        y = x[self.key]
        if not self.advanced and not is_array(y):
            # a single element comes back as a NumPy scalar (a copy); with a trailing ... it
            # is a 0-d view, so in-place changes through x[i] reach x, as in PyTorch
            y = x[self.key + (Ellipsis,)]
        return y

    def backward(self, gy):
        return GetItemGrad(self.key, self.advanced, self.in_shape)(gy)


def getitem(x, key):
    return GetItem(_normalize_key(key))(x)


class GetItemGrad(Function):
    """Scatter ``gy`` into zeros of the indexed tensor's shape (adding where an index repeats)."""

    uses_inputs = False

    def __init__(self, key, advanced, shape):
        self.key, self.advanced, self.shape = key, advanced, shape

    def forward(self, gy):
        xp = array_module(gy)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        if self.advanced:
            xp.add.at(gx, self.key, gy)
        else:
            gx[self.key] = gy
        return gx

    def backward(self, ggx):
        return GetItem(self.key)(ggx)


class Cat(Function):
    """Join tensors along ``dim``; with ``new_dim`` (stack, and unbind's backward) along a new
    dim at that place. The backward is one ``Split`` of the gradient, and Split's is a Cat."""

    uses_inputs = False

    def __init__(self, dim, new_dim=False):
        self.dim, self.new_dim = dim, new_dim

    def forward(self, *xs):
        self.sizes = tuple(1 if self.new_dim else x.shape[self.dim] for x in xs)
        xp = array_module(xs[0])
        try:
            return xp.stack(xs, axis=self.dim) if self.new_dim else xp.concatenate(xs, axis=self.dim)
        except ValueError:
            shapes = ", ".join(str(tuple(x.shape)) for x in xs)
            raise RuntimeError(
                f"cat: tensors must have the same shape except in dim {self.dim}; got {shapes}"
            ) from None

    def backward(self, gy):
        pieces = Split(self.sizes, self.dim, self.new_dim)(gy)
        return tuple(g if wants else None for g, wants in zip(pieces, self.needs_input_grad))


def cat(tensors, dim: int = 0):
    """Join tensors along an existing dimension."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    tensors = promote(*tensors)
    d = _normalize_dim(dim, tensors[0].ndim, "cat")
    for t in tensors:
        if t.ndim != tensors[0].ndim:
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise RuntimeError(f"cat: tensors must have the same number of dimensions; got {shapes}")
    return Cat(d)(*tensors)


def stack(tensors, dim: int = 0):
    """Join tensors of the same shape along a new dimension."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        listed = ", ".join(str(tuple(t.shape)) for t in tensors)
        raise RuntimeError(f"stack: all tensors must have the same shape; got {listed}")
    d = _normalize_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


class Split(Function):
    """Cut ``x`` along ``dim`` into consecutive pieces of the given ``sizes``, all views of ``x``
    (with ``squeeze``, pieces of size 1 without that dim: unbind). One op with one output per
    piece; its backward joins the pieces' gradients with one ``Cat``, zeros standing in for the
    pieces that got none."""

    uses_inputs = False
    output_is_view = True

    def __init__(self, sizes, dim, squeeze=False):
        self.sizes, self.dim, self.squeeze = tuple(sizes), dim, squeeze

    def forward(self, x):
        self.xp, self.dtype, self.shape = array_module(x), x.dtype, x.shape
        prefix = (slice(None),) * self.dim
        if self.squeeze:  # the trailing ... keeps a 0-d piece a view (as in GetItem)
            return tuple(x[prefix + (i, Ellipsis)] for i in range(self.shape[self.dim]))
        pieces, start = [], 0
        for size in self.sizes:
            pieces.append(x[prefix + (slice(start, start + size),)])
            start += size
        return tuple(pieces)

    def backward(self, *gys):
        parts = []
        for g, size in zip(gys, self.sizes):
            if g is None:  # a piece that was not used: its gradient is zero
                shape = list(self.shape)
                if self.squeeze:
                    del shape[self.dim]
                else:
                    shape[self.dim] = size
                g = constant(self.xp.zeros(shape, dtype=self.dtype))
            parts.append(g)
        return Cat(self.dim, self.squeeze)(*parts)


class Unbind(Split):
    """``Split`` into slices of size 1 along ``dim``, each without that dim."""

    def __init__(self, n, dim):
        super().__init__([1] * n, dim, squeeze=True)


def _split_dim(x, dim: int, op: str) -> int:
    if x.ndim == 0:
        raise RuntimeError(f"{op} expects at least a 1-dimensional tensor, got a 0-d tensor")
    return _normalize_dim(dim, x.ndim, op)


def split(x, split_size_or_sections, dim: int = 0) -> tuple:
    """Views of consecutive pieces along ``dim``: of ``split_size`` each (the last may be
    smaller), or of the listed sizes. One op, however many pieces."""
    d = _split_dim(x, dim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size < 0:
            raise RuntimeError(f"split expects split_size to be non-negative, got {size}")
        if size == 0 and n != 0:
            raise RuntimeError(f"split_size can only be 0 if the dimension's size is 0, but it is {n}")
        sizes = [builtins.min(size, n - s) for s in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"split expects non-negative sizes, got {sizes}")
        if builtins.sum(sizes) != n:
            raise RuntimeError(
                f"split: sizes {sizes} must sum to the size of dim {dim} ({n}), got {builtins.sum(sizes)}"
            )
    return Split(sizes, d)(x)


def chunk(x, chunks: int, dim: int = 0) -> tuple:
    """``chunks`` pieces along ``dim`` of ceil(n / chunks) elements each (fewer pieces when that
    size leaves nothing for the last ones, as in PyTorch; ``chunks`` empty pieces when n = 0)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects chunks to be greater than 0, got {chunks}")
    d = _split_dim(x, dim, "chunk")
    n = x.shape[d]
    if n == 0:
        return Split([0] * chunks, d)(x)
    return split(x, -(-n // chunks), d)


def unbind(x, dim: int = 0) -> tuple:
    """The slices along ``dim``, each without that dim: ``x[0], x[1], ...`` for dim 0. One op."""
    d = _split_dim(x, dim, "unbind")
    if x.shape[d] == 0:
        return ()
    return Unbind(x.shape[d], d)(x)


class Cast(Function):
    uses_inputs = False

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.in_dtype = x.dtype
        return x.astype(self.dtype.numpy)

    def backward(self, gy):
        return gy.to(from_numpy_dtype(self.in_dtype))


class Clone(Function):
    uses_inputs = False

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return gy


def masked_fill(x, mask, value):
    """``x`` with ``value`` where ``mask`` is true; no gradient flows to the filled places.

    ``x`` and ``mask`` broadcast together, as in PyTorch's out-of-place ``masked_fill``: the
    result has their common shape and ``x``'s dtype, and ``x``'s gradient is summed back to its
    shape. ``value`` is a number or a 0-dim tensor (which then gets the gradient of the filled
    places)."""
    # here, not at the top: math imports array (sum_to), so array is imported first
    from glassgrad.functions.math import where

    if mask.dtype.name != "bool":
        raise RuntimeError(f"masked_fill: mask must be a bool tensor, got {mask.dtype}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"masked_fill: value must be a number or a 0-dim tensor, got a tensor of shape "
                f"{tuple(value.shape)}"
            )
        fill = value if value.dtype == x.dtype else value.to(x.dtype)
    else:
        # converted, not created, in x's dtype: -1 into uint8 wraps to 255 as in PyTorch (NumPy
        # refuses to create a uint8 -1)
        fill = constant(asarray_like(value, x._data).astype(x._data.dtype))
    xp = array_module(x._data)
    try:
        xp.broadcast_shapes(tuple(x.shape), tuple(mask.shape))
    except ValueError:
        raise RuntimeError(
            f"masked_fill: mask of shape {tuple(mask.shape)} and input of shape {tuple(x.shape)} "
            "cannot be broadcast together"
        ) from None
    return where(mask, fill, x)


class Pad(Function):
    """Constant padding; ``widths`` is NumPy's list of (before, after) pairs, one per dim."""

    uses_inputs = False

    def __init__(self, widths, value):
        self.widths, self.value = widths, value

    def forward(self, x):
        return array_module(x).pad(x, self.widths, mode="constant", constant_values=self.value)

    def backward(self, gy):
        key = tuple(slice(b, gy.shape[d] - a) for d, (b, a) in enumerate(self.widths))
        return gy[key]


def pad(x, pad, mode: str = "constant", value: float = 0.0):
    """Pad the last ``len(pad) // 2`` dims; ``pad`` lists (left, right) of the last dim first, then
    of the one before, as ``torch.nn.functional.pad``. Only constant mode is implemented."""
    if mode != "constant":
        raise NotImplementedError(f"pad: mode {mode!r} is not implemented; use 'constant'")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(
            f"pad: expected an even number of values, at most 2 per dim ({2 * x.ndim}), got {len(pad)}"
        )
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding is not supported, got {tuple(pad)}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return Pad(widths, value)(x)


def one_hot(x, num_classes: int = -1):
    """Class indices to one-hot rows (int64, no gradient)."""
    if x.dtype.name not in ("int64", "int32", "uint8"):
        raise RuntimeError(f"one_hot: expected an integer tensor of class indices, got {x.dtype}")
    a = x._data
    xp = array_module(a)
    if num_classes == -1:
        num_classes = int(a.max()) + 1 if a.size else 0
    if a.size and (a.min() < 0 or a.max() >= num_classes):
        raise RuntimeError(
            f"one_hot: class values must be in [0, {num_classes}), got values from {a.min()} to {a.max()}"
        )
    out = (a[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return Tensor._wrap(out, False)


# -- reordering and triangular/diagonal parts ------------------------------------------------


def _wrap_dim(dim: int, ndim: int, op: str) -> int:
    """``dim`` as a non-negative index; a 0-dim tensor accepts 0 and -1, as in PyTorch."""
    bound = builtins.max(ndim, 1)
    if not -bound <= dim < bound:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % bound


def _dim_list(dims, ndim: int, op: str) -> tuple:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    out = tuple(_wrap_dim(d, ndim, op) for d in dims)
    for d in out:
        if out.count(d) > 1:
            raise RuntimeError(f"{op}: dim {d} appears multiple times in the list of dims {dims}")
    return out


class Flip(Function):
    """Reverse the order of elements along ``dims``; its own backward (flipping twice is the
    identity)."""

    uses_inputs = False

    def __init__(self, dims):
        self.dims = dims

    def forward(self, x):
        # a copy, as in PyTorch: NumPy's flip is a view, and writing to it would change x
        return array_module(x).flip(x, self.dims).copy()

    def backward(self, gy):
        return Flip(self.dims)(gy)


def flip(x, *dims):
    """``x`` with the order of elements reversed along each of ``dims`` (a copy)."""
    dims = _dim_list(_shape_arg(dims), x.ndim, "flip")
    if x.ndim == 0 or not dims:
        return Clone()(x)
    return Flip(dims)(x)


class Roll(Function):
    """Shift elements cyclically by ``shifts`` along ``dims`` (of the flattened tensor when
    ``dims`` is None); the backward rolls back by ``-shifts``."""

    uses_inputs = False

    def __init__(self, shifts, dims):
        self.shifts, self.dims = shifts, dims

    def forward(self, x):
        return array_module(x).roll(x, self.shifts, self.dims)

    def backward(self, gy):
        back = -self.shifts if isinstance(self.shifts, int) else tuple(-s for s in self.shifts)
        return Roll(back, self.dims)(gy)


def roll(x, shifts, dims=None):
    """Shift elements by ``shifts`` places along ``dims``, those pushed off the end coming back at
    the start; with ``dims`` None, roll the flattened tensor and restore its shape."""
    if dims is None:
        if not isinstance(shifts, int):
            if len(shifts) != 1:
                raise RuntimeError(f"roll: without dims, expected one shift, got shifts {tuple(shifts)}")
            (shifts,) = shifts
        return Roll(shifts, None)(x)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(
            f"roll: shifts and dims must have the same length, got {len(shifts)} shifts and {len(dims)} dims"
        )
    if x.ndim == 0:
        raise IndexError(f"roll: a 0-dim tensor has no dim to roll along, got dims {dims}")
    return Roll(shifts, tuple(_wrap_dim(d, x.ndim, "roll") for d in dims))(x)


def _triangle(op_cls, name, x, diagonal):
    if x.ndim < 2:
        raise RuntimeError(f"{name}: expected a tensor with at least 2 dimensions, got shape {tuple(x.shape)}")
    return op_cls(int(diagonal))(x)


class Tril(Function):
    """The lower triangle of the last two dims (on and below diagonal ``k``), zeros elsewhere.
    The gradient keeps the same triangle, so the backward is this op again."""

    uses_inputs = False

    def __init__(self, k):
        self.k = k

    def forward(self, x):
        return array_module(x).tril(x, self.k)

    def backward(self, gy):
        return Tril(self.k)(gy)


def tril(x, diagonal: int = 0):
    """Zero all but the lower triangle of the last two dims: element (i, j) is kept where
    j - i <= diagonal (0: the main diagonal, positive: above it, negative: below)."""
    return _triangle(Tril, "tril", x, diagonal)


class Triu(Function):
    """The upper triangle of the last two dims (on and above diagonal ``k``), zeros elsewhere."""

    uses_inputs = False

    def __init__(self, k):
        self.k = k

    def forward(self, x):
        return array_module(x).triu(x, self.k)

    def backward(self, gy):
        return Triu(self.k)(gy)


def triu(x, diagonal: int = 0):
    """Zero all but the upper triangle of the last two dims: element (i, j) is kept where
    j - i >= diagonal."""
    return _triangle(Triu, "triu", x, diagonal)


def diag(x, diagonal: int = 0):
    """A vector to a square matrix with it on diagonal ``diagonal`` (zeros elsewhere), or a matrix
    to the vector of that diagonal. Both are indexing at the places (i, i + diagonal), so this
    reuses the indexing ops: reading them is ``GetItem``, and writing a vector into zeros at them
    is ``GetItemGrad`` (each the other's backward)."""
    xp = array_module(x._data)
    k = int(diagonal)
    if x.ndim == 1:
        n = x.shape[0]
        rows = xp.arange(n) + builtins.max(-k, 0)
        size = n + builtins.abs(k)
        return GetItemGrad((rows, rows + k), True, (size, size))(x)
    if x.ndim == 2:
        r0, c0 = builtins.max(-k, 0), builtins.max(k, 0)
        length = builtins.max(0, builtins.min(x.shape[0] - r0, x.shape[1] - c0))
        rows = xp.arange(length) + r0
        return GetItem((rows, rows - r0 + c0))(x)
    raise RuntimeError(f"diag: expected a 1-D or 2-D tensor, got {x.ndim}-D of shape {tuple(x.shape)}")


# gather moved to indexing.py with the other index ops; re-exported here for old imports' sake.
# At the end, not the top: indexing imports array (Pad, reshape), which must be defined by then.
from glassgrad.functions.indexing import Gather, ScatterAdd, gather  # noqa: E402, F401
