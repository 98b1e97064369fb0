"""Ops that connect every input to every output: matrix products and the affine map."""

from __future__ import annotations

import math

from glassgrad._backend import array_module
from glassgrad.autograd.function import Function
from glassgrad.functions._operands import constant, promote
from glassgrad.functions.array import GetItemGrad, broadcast_to, reshape, sum_to, transpose, unsqueeze


def _matrix_transpose(x):
    return transpose(x, -2, -1)


def _matmul(a, b):
    """``a @ b`` on arrays. When the inner dimension is 1 (an outer product, e.g. the first layer
    of a net with one input feature), a broadcast multiply gives the same numbers: NumPy's matmul
    takes ~4x longer there (measured: 38 vs 10 us for [256, 1] @ [1, 128], float32)."""
    if a.ndim >= 2 and b.ndim >= 2 and a.shape[-1] == 1 == b.shape[-2]:
        return a * b
    return array_module(a).matmul(a, b)


class MatMul(Function):
    """``a @ b`` with NumPy/PyTorch semantics: 1-D operands are promoted to a row (a) or column
    (b) and the added dim removed again; leading (batch) dims broadcast."""

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(
                f"matmul: both arguments need at least 1 dimension, got shapes "
                f"{tuple(a.shape)} and {tuple(b.shape)}"
            )
        try:
            return _matmul(a, b)
        except ValueError:
            k_a = a.shape[-1]
            k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
            why = f"{k_a} != {k_b}" if k_a != k_b else "batch dims do not broadcast"
            raise RuntimeError(
                f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied ({why})"
            ) from None

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:  # dot product
            return (gy * b if need_a else None), (gy * a if need_b else None)
        a2 = unsqueeze(a, 0) if a.ndim == 1 else a
        b2 = unsqueeze(b, -1) if b.ndim == 1 else b
        gy2 = gy
        if a.ndim == 1:
            gy2 = unsqueeze(gy2, -2)
        if b.ndim == 1:
            gy2 = unsqueeze(gy2, -1)
        ga = reshape(sum_to(gy2 @ _matrix_transpose(b2), a2.shape), a.shape) if need_a else None
        gb = reshape(sum_to(_matrix_transpose(a2) @ gy2, b2.shape), b.shape) if need_b else None
        return ga, gb


class Linear(Function):
    """y = x W^T + b, one op for the three steps so a layer costs one node. W is [out, in], as in
    PyTorch. Backward: gx = gy W, gW = gy^T x (``LinearGradWeight``), gb = sum of gy over the
    batch."""

    uses_inputs = (0, 1)  # x and W; not the bias

    def forward(self, x, w, b=None):
        try:
            if x.ndim > 2:
                # one GEMM over all rows: NumPy would run one per leading index, ~30% slower
                y = _matmul(x.reshape(math.prod(x.shape[:-1]), x.shape[-1]), w.T).reshape(*x.shape[:-1], w.shape[0])
            else:
                y = _matmul(x, w.T)
        except ValueError:
            raise RuntimeError(
                f"linear: input of shape {tuple(x.shape)} has {x.shape[-1] if x.ndim else 0} "
                f"features, but the weight of shape {tuple(w.shape)} expects {w.shape[1]}"
            ) from None
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        x, w = self.inputs[0], self.inputs[1]
        need = self.needs_input_grad
        gx = None
        if need[0]:  # with gy as one 2-D matrix, for the same reason as in forward
            gy2 = reshape(gy, (math.prod(gy.shape[:-1]), gy.shape[-1])) if gy.ndim > 2 else gy
            gx = MatMul()(gy2, w)
            if gy.ndim > 2:
                gx = reshape(gx, (*gy.shape[:-1], w.shape[1]))
        gw = LinearGradWeight()(gy, x) if need[1] else None
        if len(need) == 2:
            return gx, gw
        gb = None
        if need[2]:
            gb = (gy if gy.ndim == 2 else reshape(gy, (math.prod(gy.shape[:-1]), gy.shape[-1]))).sum(0)
        return gx, gw, gb


class LinearGradWeight(Function):
    """gW = gy^T x, summed over all leading dims: Linear's weight gradient as one op (instead of
    a transpose and a product). It is bilinear in (gy, x), so its backward is two products:
    d/dgy = x ggW^T (a Linear without bias) and d/dx = gy ggW."""

    def forward(self, gy, x):
        rows = math.prod(gy.shape[:-1])  # not -1: a size-0 dim would make that ambiguous
        return _matmul(gy.reshape(rows, gy.shape[-1]).T, x.reshape(rows, x.shape[-1]))

    def backward(self, ggw):
        gy, x = self.inputs
        need = self.needs_input_grad
        return (Linear()(x, ggw) if need[0] else None), (MatMul()(gy, ggw) if need[1] else None)


def matmul(a, b):
    return MatMul()(*promote(a, b))


def linear(x, weight, bias=None):
    """Affine map ``x @ weight.T + bias`` over the last dim of ``x``."""
    if x.ndim == 0 or weight.ndim != 2:
        raise RuntimeError(
            f"linear: expected input with at least 1 dim and a 2-D weight, got shapes "
            f"{tuple(x.shape)} and {tuple(weight.shape)}"
        )
    if bias is None:
        return Linear()(*promote(x, weight))
    return Linear()(*promote(x, weight, bias))


class Embedding(Function):
    """Row lookup ``weight[indices]``: out[..., :] = weight[indices[...], :].

    Backward adds each output row's gradient into the row it came from (a scatter-add, since an
    index may repeat); the row ``padding_idx`` gets no gradient.
    """

    uses_inputs = False

    def __init__(self, padding_idx: int | None):
        self.padding_idx = padding_idx

    def forward(self, weight, indices):
        self.weight_shape = weight.shape
        return weight[indices]

    def backward(self, gy):
        return EmbeddingGrad(self.weight_shape, self.padding_idx)(gy, self.inputs[1]), None


class EmbeddingGrad(Function):
    """The scatter-add of Embedding's backward: gw[i] = sum of gy rows whose index is i (zero for
    ``padding_idx``). It is linear in gy; its own backward is the lookup again."""

    uses_inputs = False

    def __init__(self, weight_shape, padding_idx: int | None):
        self.weight_shape, self.padding_idx = weight_shape, padding_idx

    def forward(self, gy, indices):
        gw = array_module(gy).zeros(self.weight_shape, dtype=gy.dtype)
        array_module(gy).add.at(gw, indices.reshape(-1), gy.reshape(-1, self.weight_shape[1]))
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return gw

    def backward(self, ggw):
        indices = self.inputs[1]
        gg = Embedding(self.padding_idx)(ggw, indices)
        if self.padding_idx is not None:
            keep = (indices._data != self.padding_idx)[..., None]
            gg = gg * constant(keep.astype(ggw._data.dtype))
        return gg, None


def embedding(input, weight, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False):
    """Rows of ``weight`` (num_embeddings, embedding_dim) at the integer ``input`` (any shape);
    the output has shape input.shape + (embedding_dim,). The row ``padding_idx`` gets no
    gradient. With ``max_norm``, the rows looked up are first rescaled in place (not recorded) to
    a ``norm_type``-norm of at most max_norm."""
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse gradients are not supported")
    if input.dtype.name not in ("int64", "int32", "uint8"):
        raise TypeError(f"embedding: expected integer indices (int64), got {input.dtype}")
    if weight.ndim != 2:
        raise ValueError(
            f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got {tuple(weight.shape)}"
        )
    n = weight.shape[0]
    idx = input._data
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)].ravel()[0]
        raise IndexError(
            f"embedding: index {bad} is out of range for a weight with {n} rows (valid: 0 to {n - 1})"
        )
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    return Embedding(padding_idx)(weight, input)


def _renorm_rows(weight, idx, max_norm: float, norm_type: float) -> None:
    """Scale the rows ``idx`` of ``weight`` in place so that their norms are at most max_norm."""
    xp = array_module(weight._data)
    rows_at = xp.unique(idx)
    rows = weight._data[rows_at]
    norms = (xp.abs(rows) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(rows.dtype)
    weight._data[rows_at] = rows * scale[:, None]
    weight._bump_version()


# -- outer products and Einstein summation ---------------------------------------------------

import string  # noqa: E402


class Outer(Function):
    """out[i, j] = a[i] b[j]; so d/da = gy @ b and d/db = a @ gy (matrix-vector products)."""

    def forward(self, a, b):
        return array_module(a).outer(a, b)

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (gy @ b if need_a else None), (a @ gy if need_b else None)


def outer(input, vec2):
    """The outer product of two vectors: out[i, j] = input[i] * vec2[j]."""
    for name, v in (("input", input), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"outer: expected {name} to be a 1-D vector, got shape {tuple(v.shape)}")
    return Outer()(*promote(input, vec2))


class Einsum(Function):
    """Einstein summation over letter subscripts, e.g. 'bij,bjk->bik' (batched matmul).

    ``terms`` holds each operand's letters (an ellipsis already spelled out as letters) and ``out``
    the output's. The gradient of operand k is again an einsum: the output gradient and the other
    operands, summed to operand k's letters. Three things einsum itself cannot express are done
    around it: letters only operand k has were summed away, so their gradient is broadcast back;
    dims of size 1 that were broadcast are summed back to 1; and a letter repeated in operand k
    ('ii->i' reads a diagonal) gets its gradient written back onto that diagonal."""

    def __init__(self, terms, out):
        self.terms, self.out = terms, out

    def forward(self, *xs):
        xp = array_module(*xs)
        y = xp.einsum(",".join(self.terms) + "->" + self.out, *xs, optimize=len(xs) > 2)
        # einsum may hand back a view of an input ('ii->i') or a NumPy scalar: make it an own array
        if any(xp.may_share_memory(y, x) for x in xs):
            y = y.copy()
        return xp.asarray(y)

    def backward(self, gy):
        xs = self.inputs
        grads = []
        for k, (x, term) in enumerate(zip(xs, self.terms)):
            if not self.needs_input_grad[k]:
                grads.append(None)
                continue
            others = [t for j, t in enumerate(self.terms) if j != k]
            tensors = [xs[j] for j in range(len(xs)) if j != k]
            present = set(self.out).union(*others)
            letters = "".join(dict.fromkeys(term))  # each letter once, in order
            kept = "".join(c for c in letters if c in present)
            g = Einsum([self.out, *others], kept)(gy, *tensors)
            size = {c: n for c, n in zip(term, x.shape)}
            # letters summed only in operand k come back as dims of size 1, broadcast below
            g = reshape(g, tuple(g.shape[kept.index(c)] if c in kept else 1 for c in letters))
            # a dim operand k has as 1 but the others as n was broadcast: sum it back to 1
            target = tuple(size[c] for c in letters)
            g = sum_to(g, tuple(1 if t == 1 else n for n, t in zip(g.shape, target)))
            g = broadcast_to(g, target)
            if len(letters) != len(term):
                # out[..., i, ..., i, ...] = g[..., i, ...]: index the diagonal with one arange
                # per dim of operand k, shaped to broadcast over g's letters
                grid = array_module(gy._data).indices(g.shape, sparse=True)
                key = tuple(grid[letters.index(c)] for c in term)
                g = GetItemGrad(key, True, x.shape)(g)
            grads.append(g)
        return tuple(grads)


def _parse_einsum(equation: str, shapes) -> tuple:
    """(terms, out): each operand's subscripts and the output's, with '...' replaced by letters
    the equation does not use (the ellipsis dims of all operands aligned from the right, as in
    broadcasting) and the implicit output (no '->') made explicit: the ellipsis dims, then the
    letters used once, in alphabetical order."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(
            f"einsum: the equation {equation!r} has {len(terms)} operand(s), but {len(shapes)} were given"
        )
    for t in terms + [rhs]:
        bad = set(t.replace("...", "")) - set(string.ascii_letters)
        if bad or t.count("...") > 1:
            raise RuntimeError(
                f"einsum: invalid subscripts {t!r} in {equation!r}; expected letters and at most one '...'"
            )
    free = [c for c in string.ascii_letters if c not in eq]
    n_ellipsis = 0
    for k, (t, shape) in enumerate(zip(terms, shapes)):
        named = len(t.replace("...", ""))
        if "..." in t:
            if named > len(shape):
                raise RuntimeError(
                    f"einsum: operand {k} has {len(shape)} dimensions, fewer than the {named} subscripts in {t!r}"
                )
            n_ellipsis = max(n_ellipsis, len(shape) - named)
        elif named != len(shape):
            raise RuntimeError(
                f"einsum: the subscripts {t!r} name {named} dimensions, but operand {k} has "
                f"{len(shape)} (shape {tuple(shape)}) and no ellipsis was given"
            )
    ellipsis = "".join(free[:n_ellipsis])
    terms = [
        t.replace("...", ellipsis[n_ellipsis - (len(shape) - len(t) + 3):]) if "..." in t else t
        for t, shape in zip(terms, shapes)
    ]
    used = "".join(terms)
    if arrow:
        out = rhs.replace("...", ellipsis)
        for c in out:
            if out.count(c) > 1 or c not in used:
                raise RuntimeError(
                    f"einsum: output subscript {c!r} in {equation!r} appears more than once or in no operand"
                )
    else:
        out = ellipsis + "".join(sorted(c for c in set(used) if used.count(c) == 1 and c not in ellipsis))
    sizes: dict = {}
    for k, (t, shape) in enumerate(zip(terms, shapes)):
        own: dict = {}
        for c, n in zip(t, shape):
            if own.setdefault(c, n) != n:
                raise RuntimeError(
                    f"einsum: subscript {c!r} is repeated in operand {k} for dims of sizes {own[c]} "
                    f"and {n}; a repeated subscript (a diagonal) needs equal sizes"
                )
            seen = sizes.get(c, 1)
            if n != seen and 1 not in (n, seen):
                raise RuntimeError(
                    f"einsum: subscript {c!r} has size {n} in operand {k}, which does not broadcast "
                    f"with size {seen} seen before"
                )
            sizes[c] = n if seen == 1 else seen
    return terms, out


def einsum(equation: str, *operands):
    """Einstein summation, as ``torch.einsum``: each operand is labelled by letters, one per dim;
    the output keeps the letters after '->' and sums over the rest. 'ij,jk->ik' is a matrix
    product, 'ii->i' a diagonal, 'bi,bi->b' a batch of dot products, '...ij->...ji' a transpose
    of the last two dims. Operands may also be given as one list."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum: expected at least one operand")
    dtypes = {t.dtype.name for t in operands}
    if len(dtypes) > 1:
        raise RuntimeError(f"einsum: expected all operands to have the same dtype, got {sorted(dtypes)}")
    terms, out = _parse_einsum(equation, [t.shape for t in operands])
    return Einsum(terms, out)(*operands)
