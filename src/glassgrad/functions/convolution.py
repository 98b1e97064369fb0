"""2-D convolution and transposed convolution, by im2col and one matrix product per layer.

A convolution is a matrix product once every receptive field is laid out as a column (im2col):
with ``cols`` of shape ``[C*kh*kw, N*Ho*Wo]`` and the weight as ``[O, C*kh*kw]``, the output is
``W @ cols``. Three bilinear ops share that machinery, and each one's backward is made of the
other two, so gradients of any order come for free (see docs/cnn.md):

- ``Conv2d(x, w)``:             y  = W @ im2col(x)
- ``ConvTranspose2d(g, w)``:    y  = col2im(W^T @ g)        (the adjoint of Conv2d in x)
- ``Conv2dGradWeight(x, g)``:   gW = g @ im2col(x)^T        (the adjoint of Conv2d in w)

with gradients  Conv2d -> (ConvTranspose2d(gy, w), Conv2dGradWeight(x, gy)),
ConvTranspose2d -> (Conv2d(gy, w), Conv2dGradWeight(gy, g)) and
Conv2dGradWeight -> (ConvTranspose2d(g, ggW), Conv2d(x, ggW)).

Layouts (measured, see docs/cnn.md): the products are ``W @ cols``, ``W^T @ gy`` and
``gy @ cols^T`` on channel-major ([C, N*H*W]) matrices; every other orientation timed (e.g.
``cols^T @ W^T``, which gives NHWC) was as fast at best, and these need no transposed copies of
the big matrices. float32 stays float32, so the BLAS runs sgemm. Products with a small inner
and outer size (few channels, e.g. a first layer) run in pieces along N*Ho*Wo (``_pieces``).

Large layers whose kernel is twice their stride (DCGAN's 4x4 stride 2) take none of this: all
three ops run them by polyphase Winograd, 25 smaller GEMMs instead of one (``_winograd``,
chosen in ``_winograd_path``).
"""

from __future__ import annotations

from typing import NamedTuple

from glassgrad._backend import array_module
from glassgrad.autograd.function import Function
from glassgrad.autograd.grad_mode import state
from glassgrad.functions import _winograd
from glassgrad.functions._operands import promote
from glassgrad.functions._windows import (
    accumulate_row_flat,
    accumulate_windows,
    accumulate_windows_batch_last,
    batch_last_windows,
    batched,
    channel_major,
    clear_wrapped,
    keeps_width,
    out_size,
    padded,
    row_flat_windows,
    scratch,
    to_pair,
    windows,
)


class Geometry(NamedTuple):
    """How windows are laid over an image: ``padding`` is ((top, bottom), (left, right))."""

    stride: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]
    dilation: tuple[int, int]
    groups: int


def _im2col(x, geom: Geometry, kernel, out_hw, out_channels: int, keep: bool = False):
    """The receptive fields of NCHW ``x`` as a contiguous ``[G, Cg*kh*kw, N*Ho*Wo]`` array.

    Layout choice: rows are (channel, kernel offset), columns (image, output pixel), so the copy
    from the window view reads runs along image rows, and the product ``W @ cols`` gives the
    output channel-major ([O, N*Ho*Wo]) with no transpose copy. A layer that takes the batch-last
    layout (see ``_batch_last``, which needs the layer's ``out_channels``) takes its columns as
    (output pixel, image) instead. The matrix goes into a reused buffer (see ``scratch``) unless
    ``keep`` asks for an array of its own, to be kept for the backward. Stride-1 'same'
    convolutions take the row-flat view, whose copy moves whole images instead of single rows.
    """
    xp = array_module(x)
    xc = channel_major(x)
    (_, (left, _)), dw = geom.padding, geom.dilation[1]
    row_flat = keeps_width(geom.stride, geom.padding, kernel, geom.dilation, x.shape[3], out_hw[1])
    if _batch_last(x.shape, out_channels, kernel, out_hw, geom):
        view = batch_last_windows(xc, geom.padding, kernel, out_hw, geom.stride, geom.dilation)
        cols = xp.empty(view.shape, view.dtype) if keep else scratch("cols", view.shape, view.dtype, xp)
        xp.copyto(cols, view)
        return cols.reshape(1, view.shape[0] * kernel[0] * kernel[1], -1)
    if row_flat:
        view = row_flat_windows(xc, geom.padding, kernel, out_hw[0], geom.dilation)
    else:
        view = windows(padded(xc, geom.padding), kernel, out_hw, geom.stride, geom.dilation)
    if view.flags.c_contiguous and not (keep and row_flat):
        cols = view  # a 1x1 kernel over channel-major memory: no copy at all
    else:  # the one real copy of im2col
        cols = xp.empty(view.shape, view.dtype) if keep else scratch("cols", view.shape, view.dtype, xp)
        xp.copyto(cols, view)
        if row_flat:
            clear_wrapped(cols, x.shape[3], left, dw)
    g = geom.groups
    return cols.reshape(g, cols.shape[0] // g * kernel[0] * kernel[1], x.shape[0] * out_hw[0] * out_hw[1])


def _winograd_path(x_shape, out_channels: int, kernel, out_hw, geom: Geometry) -> bool:
    """Whether a convolution of an ``x_shape`` input to ``out_channels`` runs by polyphase Winograd
    (see ``_winograd``: a kernel of twice the stride, large enough) instead of im2col. All three
    ops decide it from the same sizes, so a kept matrix always matches the path that reads it."""
    return _winograd.applies(x_shape, (out_channels, x_shape[1], *kernel), geom.stride, geom.padding,
                             geom.dilation, geom.groups, out_hw)


def _batch_last(x_shape, out_channels: int, kernel, out_hw, geom: Geometry) -> bool:
    """Whether the matrices of a convolution of an ``x_shape`` input to ``out_channels`` order their
    columns (output pixel, image) rather than (image, output pixel). Then im2col and col2im move
    runs of Wo * N elements instead of Wo (Wo is 10 in LeNet's second layer: im2col 600 -> 140 us,
    col2im 1270 -> ~450 us), for the price of transposing the input, gy and the output between
    the two layouts. So a batch (N > 1) through one group takes it when its im2col matrix is
    larger than those: not a first layer with few input channels and many output channels (a
    DCGAN discriminator's Conv(1, 64, 4, 2, 1), 28x28: 1.7 -> 0.6 ms forward, as the output's
    transpose alone moved 4x more than its im2col; the generator's last ConvT(64, 1) likewise),
    and not when the row-flat layout applies. All three ops decide it from the same sizes, so a
    kept ``cols`` matches its gradient's ``gy``."""
    n, c, h, w = x_shape
    if _winograd_path(x_shape, out_channels, kernel, out_hw, geom):
        return False  # that path has layouts of its own
    if geom.groups != 1 or n == 1 or keeps_width(geom.stride, geom.padding, kernel, geom.dilation, w, out_hw[1]):
        return False
    pixels = out_hw[0] * out_hw[1]
    return c * kernel[0] * kernel[1] * pixels > c * h * w + out_channels * pixels


def _weight_matrix(w, groups):
    """``[O, C/G, kh, kw]`` weight as ``[G, O/G, C/G*kh*kw]``."""
    return w.reshape(groups, w.shape[0] // groups, w[0].size)


def _gy_matrix(gy, groups):
    """Output gradient ``[N, O, Ho, Wo]`` as ``[G, O/G, N*Ho*Wo]`` (free when gy is channel-major
    in memory, as the outputs of these ops and their gradients are)."""
    n, o, ho, wo = gy.shape
    return channel_major(gy).reshape(groups, o // groups, n * ho * wo)


# Working set (both operands' pieces) of one piece of a skinny product; see ``_pieces``.
_PIECE_BYTES = 384 * 1024


def _pieces(m: int, k_plus_o: int, itemsize: int) -> list[slice]:
    """Column ranges that split a product along its long dimension ``m`` (N*Ho*Wo) when its two
    other sizes are small (``k_plus_o`` = C*kh*kw + O): OpenBLAS runs such skinny products 2-4x
    faster on pieces whose operands fit in the cache (measured on one thread: a LeNet first layer,
    K=25, O=6, M=50176: 700 vs 250 us forward, 1040 vs 220 us weight gradient). Pieces are at least
    1024 columns wide, a power of two; larger products (most layers) stay one product."""
    width = _PIECE_BYTES // (k_plus_o * itemsize)
    if width < 1024 or m <= width:
        return [slice(None)]
    width = 1 << (width.bit_length() - 1)
    return [slice(start, start + width) for start in range(0, m, width)]


def _conv2d(x, w, geom: Geometry, out_hw, keep_cols: bool = False):
    """Array-level convolution: NCHW ``x``, weight ``[O, C/G, kh, kw]``, output ``out_hw``.
    Returns the output and the im2col matrix when ``keep_cols`` (else None)."""
    o, n, g = w.shape[0], x.shape[0], geom.groups
    if _winograd_path(x.shape, o, w.shape[2:], out_hw, geom):
        return _winograd.conv2d(x, w, geom.stride, geom.padding, out_hw, keep_cols)
    cols = _im2col(x, geom, w.shape[2:], out_hw, o, keep_cols)  # [G, K, M]
    kept = cols if keep_cols else None
    batch_last = _batch_last(x.shape, o, w.shape[2:], out_hw, geom)
    wmat = _weight_matrix(w, g)  # [G, O/G, K]
    if g == 1:  # y = W @ cols, in pieces of columns if it is skinny
        xp = array_module(x)
        wmat, cols = wmat[0], cols[0]
        y = xp.empty((o, cols.shape[1]), dtype=cols.dtype)
        for piece in _pieces(cols.shape[1], cols.shape[0] + o, cols.itemsize):
            xp.matmul(wmat, cols[:, piece], out=y[:, piece])
    else:
        y = wmat @ cols  # [G, O/G, M]: one GEMM per group
    if batch_last:  # [O, Ho, Wo, N] to channel-major memory, as the other ops expect
        y = array_module(x).ascontiguousarray(y.reshape(o, *out_hw, n).transpose(0, 3, 1, 2))
    return channel_major(y.reshape(o, n, *out_hw)), kept  # NCHW view of channel-major memory


def _conv_transpose2d(gy, w, geom: Geometry, out_hw, gmat=None):
    """Array-level transposed convolution: the adjoint in x of ``_conv2d(x, w)``. ``gy`` is
    ``[N, O, Ho, Wo]``, ``w`` is ``[O, C/G, kh, kw]``, the output ``[N, C, *out_hw]``. ``gmat``:
    ``gy``'s batch-last matrix if the caller has it already (see ``_gy_matrix_batch_last``)."""
    n, g = gy.shape[0], geom.groups
    kernel = w.shape[2:]
    c = w.shape[1] * g
    (top, bottom), (left, right) = geom.padding
    h, wd = out_hw
    if _winograd_path((n, c, h, wd), w.shape[0], kernel, gy.shape[2:], geom):
        return _winograd.conv_transpose2d(gy, w, geom.stride, geom.padding, out_hw)
    row_flat = keeps_width(geom.stride, geom.padding, kernel, geom.dilation, wd, gy.shape[3])
    if _batch_last((n, c, h, wd), w.shape[0], kernel, gy.shape[2:], geom):
        return _conv_transpose2d_batch_last(gy, w, geom, out_hw, gmat)
    gmat = _gy_matrix(gy, g)
    wmat = _weight_matrix(w, g)
    xp = array_module(gy)
    cols = scratch("cols", (g, wmat.shape[2], gmat.shape[2]), gy.dtype, xp)
    if g == 1:  # cols = W^T @ gy, in pieces of columns if it is skinny
        wt, gm, out = wmat[0].T, gmat[0], cols[0]
        for piece in _pieces(gm.shape[1], wt.shape[0] + wt.shape[1], gm.itemsize):
            xp.matmul(wt, gm[:, piece], out=out[:, piece])
    else:
        xp.matmul(wmat.swapaxes(-1, -2), gmat, out=cols)
    if row_flat:
        cols = cols.reshape(c, *kernel, n, gy.shape[2] * gy.shape[3])
        buf = accumulate_row_flat(cols, (c, n, h + top + bottom, wd), geom.padding, kernel, geom.dilation)
        return channel_major(buf[:, :, top:top + h])
    buf = accumulate_windows(
        cols.reshape(c, *kernel, n, *gy.shape[2:]),
        (c, n, h + top + bottom, wd + left + right),
        kernel, gy.shape[2:], geom.stride, geom.dilation,
    )
    return channel_major(buf[:, :, top:top + h, left:left + wd])


def _conv_transpose2d_batch_last(gy, w, geom: Geometry, out_hw, gmat=None):
    """``_conv_transpose2d`` in the batch-last layout (see ``_batch_last``): the
    product ``W^T @ gy`` takes its rows as (channel, offset) and its columns as (pixel, image),
    so that col2im adds runs of whole rows of the batch (see ``accumulate_windows_batch_last``).
    Only ``gy`` and the result are transposed (copies of the small, non-window-sized arrays).

    ``W^T`` is a transposed view of the weight, not a copy: BLAS reads a transposed operand at
    no cost, while gathering the weight into (offset, channel) rows took 0.4-0.5 ms per call for
    a DCGAN generator's layers. A large product is made and added back in bands of output rows
    (see ``_row_band``), so that col2im reads each band of columns while it is still in the cache
    (the 4x4 stride-2 layer of a DCGAN: 12.4 -> 11.9 ms)."""
    xp = array_module(gy)
    n, o, ho, wo = gy.shape
    _, c, kh, kw = w.shape
    k = c * kh * kw
    wmat = w.reshape(o, k).T  # W^T, rows (c, p, q)
    if gmat is None:
        gmat = _gy_matrix_batch_last(gy)
    (top, bottom), (left, right) = geom.padding
    h, wd = out_hw
    buf = xp.zeros((c, h + top + bottom, wd + left + right, n), dtype=gy.dtype)
    band = _row_band(k, ho, wo * n, gy.itemsize)
    cols = scratch("cols", (k * band * wo * n,), gy.dtype, xp)
    rows_of_gy = gmat.reshape(o, ho, wo * n)
    for i in range(0, ho, band):
        r = min(band, ho - i)
        part = cols[:k * r * wo * n].reshape(k, r * wo * n)
        g = rows_of_gy[:, i:i + r].reshape(o, r * wo * n)
        for piece in _pieces(r * wo * n, k + o, gy.itemsize):
            xp.matmul(wmat, g[:, piece], out=part[:, piece])
        # output rows i..i+r-1 add into the padded rows from i * stride on; part[p, q] is then
        # an [C, r, Wo, N] view
        accumulate_windows_batch_last(
            part.reshape(c, kh, kw, r, wo, n).transpose(1, 2, 0, 3, 4, 5), buf[:, i * geom.stride[0]:],
            (kh, kw), (r, wo), geom.stride, geom.dilation,
        )
    # back to channel-major memory ([C, N, H, W]), whose NCHW view the other ops expect
    out = xp.ascontiguousarray(buf[:, top:top + h, left:left + wd].transpose(0, 3, 1, 2))
    return channel_major(out)


# Bytes of columns a transposed convolution makes at once when it makes them in bands of rows.
_BAND_BYTES = 2 * 1024 * 1024


def _row_band(k: int, ho: int, row_columns: int, itemsize: int) -> int:
    """How many rows of gy one band of ``_conv_transpose2d_batch_last`` covers: all of them when
    the whole column matrix (``k`` x ``ho * row_columns``) is at most 4 bands' worth (small
    layers: one product, as before), else as many as fit in ``_BAND_BYTES`` (at least one)."""
    row_bytes = k * row_columns * itemsize
    if row_bytes * ho <= 4 * _BAND_BYTES:
        return ho
    return max(1, _BAND_BYTES // row_bytes)


def _gy_matrix_batch_last(gy):
    """Output gradient ``[N, O, Ho, Wo]`` as ``[O, Ho*Wo*N]`` (a transposed copy)."""
    n, o, ho, wo = gy.shape
    return array_module(gy).ascontiguousarray(gy.transpose(1, 2, 3, 0)).reshape(o, ho * wo * n)


def _conv2d_grad_weight(x, gy, geom: Geometry, kernel, cols=None, gmat=None):
    """Array-level weight gradient of ``_conv2d``: the correlation of ``x`` with ``gy``,
    ``gW[o, c, p, q] = sum over n, i, j of gy[n, o, i, j] * xpad[n, c, i*s + p*d, j*s + q*d]``.
    ``cols`` is ``x``'s im2col matrix if the forward kept it (else it is made again); ``gmat`` is
    ``gy``'s batch-last matrix if the caller has it (used only in the batch-last layout)."""
    o, g = gy.shape[1], geom.groups
    if _winograd_path(x.shape, o, kernel, gy.shape[2:], geom):  # cols: the kept transformed input
        return _winograd.conv2d_grad_weight(x, gy, geom.stride, geom.padding, kernel, cols)
    if cols is None:
        cols = _im2col(x, geom, kernel, gy.shape[2:], o)  # [G, K, M]
    if _batch_last(x.shape, o, kernel, gy.shape[2:], geom):
        gmat = (_gy_matrix_batch_last(gy) if gmat is None else gmat)[None]  # columns as in cols
    else:
        gmat = _gy_matrix(gy, g)  # [G, O/G, M]
    # cols @ gy^T ([G, K, O/G]) was faster than gy @ cols^T (e.g. 530 vs 1040 us, LeNet's first layer)
    if g == 1:  # a sum over pieces of the columns if it is skinny
        cols, gmat = cols[0], gmat[0]
        gw_t = None
        for piece in _pieces(cols.shape[1], cols.shape[0] + o, cols.itemsize):
            part = cols[:, piece] @ gmat[:, piece].T
            if gw_t is None:
                gw_t = part
            else:
                gw_t += part
        gw = gw_t.T
    else:
        gw = (cols @ gmat.swapaxes(-1, -2)).swapaxes(-1, -2)  # [G, O/G, K]
    return gw.reshape(o, x.shape[1] // g, *kernel)


def _add_bias(y, b):
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def _bias_grad(gy):
    return gy.sum((0, 2, 3))


class Conv2d(Function):
    """y = conv2d(x, w) + b, with x [N, C, H, W] and w [O, C/groups, kh, kw].

    With grad mode on, the forward keeps its im2col matrix (up to ``_KEEP_COLS_BYTES``) for the
    weight gradient, which would otherwise lay out the same columns again (``x`` cannot change
    unnoticed in between: the engine checks its version)."""

    _cols = None

    def __init__(self, geom: Geometry, out_hw, keep_cols: bool | None = None):
        # keep_cols: keep the im2col matrix also with grad mode off (a caller that reuses it)
        self.geom, self.out_hw, self.keep_cols = geom, tuple(out_hw), keep_cols

    def forward(self, x, w, b=None):
        keep = state.grad_enabled if self.keep_cols is None else self.keep_cols
        keep = keep and _cols_bytes(x, w, self.geom, self.out_hw) <= _KEEP_COLS_BYTES
        y, self._cols = _conv2d(x, w, self.geom, self.out_hw, keep)
        return _add_bias(y, b)

    def backward(self, gy):
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        # both gradients read gy as the same batch-last matrix (a transposed copy): make it once
        gmat = None
        if need[0] and need[1] and _batch_last(x.shape, w.shape[0], w.shape[2:], gy.shape[2:], self.geom):
            gmat = _gy_matrix_batch_last(gy._data)
        gx = ConvTranspose2d(self.geom, x.shape[2:], gmat)(gy, w) if need[0] else None
        gw = Conv2dGradWeight(self.geom, w.shape[2:], self._cols, gmat)(x, gy) if need[1] else None
        if len(need) == 2:
            return gx, gw
        return gx, gw, (_bias_grad(gy) if need[2] else None)

    def release(self) -> None:
        super().release()
        self._cols = None


# The largest im2col matrix a Conv2d keeps for its backward; larger ones are made again there.
_KEEP_COLS_BYTES = 64 * 1024 * 1024


def _cols_bytes(x, w, geom: Geometry, out_hw) -> int:
    """Size of the im2col matrix of ``x`` for weight ``w``: C*kh*kw rows, N*Ho*Wo columns."""
    return x.shape[0] * x.shape[1] * w.shape[2] * w.shape[3] * out_hw[0] * out_hw[1] * x.itemsize


class ConvTranspose2d(Function):
    """y = conv_transpose2d(x, w) + b, with x [N, Cin, H, W] and w [Cin, Cout/groups, kh, kw]:
    the adjoint of ``Conv2d`` with the same weight, which maps Cout channels to Cin."""

    def __init__(self, geom: Geometry, out_hw, x_matrix=None):
        # x_matrix: x's batch-last matrix, if the caller made it already (used once)
        self.geom, self.out_hw, self.x_matrix = geom, tuple(out_hw), x_matrix

    def forward(self, x, w, b=None):
        xmat, self.x_matrix = self.x_matrix, None
        return _add_bias(_conv_transpose2d(x, w, self.geom, self.out_hw, xmat), b)

    def backward(self, gy):
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        cols = None
        if need[0]:
            # gy's im2col matrix, laid out for Conv2d(gy, w), is also the one the weight
            # gradient correlates with x: keep it and pass it on instead of making it twice
            conv = Conv2d(self.geom, x.shape[2:], keep_cols=True if need[1] else None)
            gx = conv(gy, w)
            cols = conv._cols  # only read, also by conv's own backward if there is one
        else:
            gx = None
        gw = Conv2dGradWeight(self.geom, w.shape[2:], cols)(gy, x) if need[1] else None
        if len(need) == 2:
            return gx, gw
        return gx, gw, (_bias_grad(gy) if need[2] else None)


class Conv2dGradWeight(Function):
    """gW = the gradient of ``<conv2d(x, W), gy>`` with respect to W: bilinear in (x, gy)."""

    def __init__(self, geom: Geometry, kernel, cols=None, gy_matrix=None):
        # cols: x's im2col matrix, if the Conv2d whose gradient this is kept it; gy_matrix:
        # gy's batch-last matrix, if the caller made it already
        self.geom, self.kernel, self.cols, self.gy_matrix = geom, tuple(kernel), cols, gy_matrix

    def forward(self, x, gy):
        # used once: a later call must not see stale matrices
        cols, gmat, self.cols, self.gy_matrix = self.cols, self.gy_matrix, None, None
        return _conv2d_grad_weight(x, gy, self.geom, self.kernel, cols, gmat)

    def backward(self, ggw):
        x, gy = self.inputs
        need = self.needs_input_grad
        gx = ConvTranspose2d(self.geom, x.shape[2:])(gy, ggw) if need[0] else None
        ggy = Conv2d(self.geom, gy.shape[2:])(x, ggw) if need[1] else None
        return gx, ggy


# -- argument checks ------------------------------------------------------------------------


def _padding(padding, kernel, dilation, stride, op: str):
    """((top, bottom), (left, right)) from an int, a pair, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                             f"(stride={stride})")
        # total padding d*(k-1) per dim; an odd total puts the extra row/column at the end
        totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return tuple((t // 2, t - t // 2) for t in totals)
    ph, pw = to_pair(padding, "padding", op, 0)
    return (ph, ph), (pw, pw)


def _check_operands(op, x, w, weight_layout):
    if x.ndim != 4:
        raise RuntimeError(f"{op}: expected a 3-D (unbatched) or 4-D (batched) input [N, C, H, W], "
                           f"got input of shape {tuple(x.shape)}")
    if w.ndim != 4:
        raise RuntimeError(f"{op}: expected a 4-D weight {weight_layout}, got weight of shape "
                           f"{tuple(w.shape)}")
    if not x.dtype.is_floating_point or not w.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected floating point input and weight, got {x.dtype} and {w.dtype}")


def _check_bias(op, b, channels, w):
    if b is not None and (b.ndim != 1 or b.shape[0] != channels):
        raise RuntimeError(f"{op}: expected a bias of shape ({channels},) for weight of shape "
                           f"{tuple(w.shape)}, got bias of shape {tuple(b.shape)}")


def _operands(x, w, b):
    return promote(x, w) if b is None else promote(x, w, b)


# -- public functions -----------------------------------------------------------------------


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """2-D cross-correlation (PyTorch's conv2d) of ``x`` [N, C, H, W] with ``weight``
    [O, C/groups, kh, kw]. ``padding`` is an int, a pair, 'valid' or 'same' (stride 1 only)."""
    return batched(_conv2d_public, x, weight, bias, stride, padding, dilation, groups)


def _conv2d_public(x, w, b, stride, padding, dilation, groups):
    op = "conv2d"
    _check_operands(op, x, w, "[out_channels, in_channels/groups, kh, kw]")
    _check_bias(op, b, w.shape[0], w)
    stride = to_pair(stride, "stride", op, 1)
    dilation = to_pair(dilation, "dilation", op, 1)
    kernel = w.shape[2:]
    pads = _padding(padding, kernel, dilation, stride, op)
    n, c, h, wd = x.shape
    o = w.shape[0]
    if not isinstance(groups, int) or groups < 1 or c % groups or o % groups:
        raise RuntimeError(f"{op}: groups={groups} must be a positive int dividing both the input "
                           f"channels ({c}) and the output channels ({o}); weight of shape {tuple(w.shape)}")
    if w.shape[1] * groups != c:
        raise RuntimeError(f"{op}: weight of shape {tuple(w.shape)} with groups={groups} expects an "
                           f"input with {w.shape[1] * groups} channels, got input of shape {tuple(x.shape)}")
    hp, wp = h + sum(pads[0]), wd + sum(pads[1])
    ekh, ekw = (d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if ekh > hp or ekw > wp:
        raise RuntimeError(f"{op}: kernel of size {kernel[0]}x{kernel[1]} (spanning {ekh}x{ekw} with "
                           f"dilation {dilation}) is larger than the padded input {hp}x{wp} (input of shape "
                           f"{tuple(x.shape)}, padding {pads})")
    geom = Geometry(stride, pads, dilation, groups)
    out_hw = tuple(out_size(s, k, st, sum(p), d)
                   for s, k, st, p, d in zip((h, wd), kernel, stride, pads, dilation))
    return Conv2d(geom, out_hw)(*_operands(x, w, b))


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1):
    """Transposed 2-D convolution (PyTorch's conv_transpose2d), the gradient of conv2d with
    respect to its input: ``x`` [N, Cin, H, W], ``weight`` [Cin, Cout/groups, kh, kw]; output
    size ``(H - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``."""
    return batched(_conv_transpose2d_public, x, weight, bias, stride, padding, output_padding,
                    groups, dilation)


def _conv_transpose2d_public(x, w, b, stride, padding, output_padding, groups, dilation):
    op = "conv_transpose2d"
    _check_operands(op, x, w, "[in_channels, out_channels/groups, kh, kw]")
    stride = to_pair(stride, "stride", op, 1)
    dilation = to_pair(dilation, "dilation", op, 1)
    ph, pw = to_pair(padding, "padding", op, 0)
    oph, opw = to_pair(output_padding, "output_padding", op, 0)
    if not (oph < stride[0] or oph < dilation[0]) or not (opw < stride[1] or opw < dilation[1]):
        raise ValueError(f"{op}: output_padding {(oph, opw)} must be smaller than either stride "
                         f"{stride} or dilation {dilation}")
    n, cin, h, wd = x.shape
    if not isinstance(groups, int) or groups < 1 or w.shape[0] % groups:
        raise RuntimeError(f"{op}: groups={groups} must be a positive int dividing the input "
                           f"channels of weight of shape {tuple(w.shape)}")
    if w.shape[0] != cin:
        raise RuntimeError(f"{op}: weight of shape {tuple(w.shape)} expects an input with "
                           f"{w.shape[0]} channels, got input of shape {tuple(x.shape)}")
    cout = w.shape[1] * groups
    _check_bias(op, b, cout, w)
    kernel = w.shape[2:]
    out_hw = tuple((s - 1) * st - 2 * p + d * (k - 1) + op_ + 1
                   for s, st, p, d, k, op_ in zip((h, wd), stride, (ph, pw), dilation, kernel, (oph, opw)))
    if min(out_hw) < 1:
        raise RuntimeError(f"{op}: output size {out_hw} is too small (input of shape {tuple(x.shape)}, "
                           f"weight of shape {tuple(w.shape)}, stride {stride}, padding {(ph, pw)})")
    geom = Geometry(stride, ((ph, ph), (pw, pw)), dilation, groups)
    return ConvTranspose2d(geom, out_hw)(*_operands(x, w, b))


# -- 1-D: a sequence [N, C, L] is an image of height 1 ------------------------------------------


def single(v, name: str, op: str, minimum: int) -> int:
    """``v`` from an int or a one-element tuple/list, checked to be an int >= ``minimum``."""
    if isinstance(v, (tuple, list)) and len(v) == 1:
        v = v[0]
    if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
        raise ValueError(f"{op}: {name} must be an int >= {minimum} or a 1-tuple of one, got {v!r}")
    return v


def check_sequence_input(op: str, x) -> None:
    """A batch of sequences [N, C, L] or one unbatched [C, L], else a clear error."""
    if x.ndim not in (2, 3):
        raise RuntimeError(f"{op}: expected a 2-D (unbatched) [C, L] or 3-D (batched) [N, C, L] input, "
                           f"got input of shape {tuple(x.shape)}")


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """1-D cross-correlation (PyTorch's conv1d) of ``x`` [N, C, L] (or unbatched [C, L]) with
    ``weight`` [O, C/groups, k]: the 2-D convolution of the height-1 image [N, C, 1, L] with the
    kernel [O, C/groups, 1, k]. ``padding`` is an int, 'valid' or 'same' (stride 1 only)."""
    op = "conv1d"
    check_sequence_input(op, x)
    if weight.ndim != 3:
        raise RuntimeError(f"{op}: expected a 3-D weight [out_channels, in_channels/groups, k], got weight "
                           f"of shape {tuple(weight.shape)}")
    stride, dilation = single(stride, "stride", op, 1), single(dilation, "dilation", op, 1)
    if not isinstance(padding, str):
        padding = (0, single(padding, "padding", op, 0))
    try:
        y = conv2d(x.unsqueeze(-2), weight.unsqueeze(2), bias, (1, stride), padding, (1, dilation), groups)
    except (RuntimeError, ValueError) as e:
        raise type(e)(f"{op} (run as conv2d on a height-1 image, input of shape {tuple(x.shape)}, "
                      f"weight of shape {tuple(weight.shape)}): {e}") from None
    return y.squeeze(-2)
