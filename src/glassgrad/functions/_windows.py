"""Sliding windows over images, shared by convolution and pooling.

Images are NCHW tensors, but the ops here compute in a channel-major buffer: ``[C, N, H, W]`` in
memory (CNHW). A convolution's matrix product yields its output as ``[out channels, N * H * W]``,
which *is* CNHW memory; returning it as an NCHW view (``transpose(1, 0, 2, 3)``) costs nothing, and
the next layer's im2col, pooling and the backward's matrix products read that memory again
without any copy. See docs/cnn.md.
"""

from __future__ import annotations

import builtins
import math
import threading

from glassgrad._backend import array_module

_scratch = threading.local()


def scratch(name: str, shape, dtype, xp):
    """A reusable buffer for a large temporary that never leaves an op (the im2col matrix).

    A fresh multi-megabyte array costs a page fault per 4 KiB page on its first write, which
    takes longer than filling it; reusing one buffer per ``name`` (and dtype, per thread) keeps
    those pages mapped. The buffer only grows, to the largest size asked for."""
    store = _scratch.__dict__
    key = (name, xp.__name__, xp.dtype(dtype).str)
    n = math.prod(shape)
    buf = store.get(key)
    if buf is None or buf.size < n:
        buf = store[key] = xp.empty(n, dtype=dtype)
    return buf[:n].reshape(shape)


def to_pair(v, name: str, op: str, minimum: int) -> tuple[int, int]:
    """``(v, v)`` for an int, the pair itself for a pair; checks each is an int >= ``minimum``."""
    pair = (v, v) if isinstance(v, int) else tuple(v)
    if len(pair) == 1:
        pair = pair * 2
    if len(pair) != 2 or not all(isinstance(i, int) and i >= minimum for i in pair):
        raise ValueError(f"{op}: {name} must be an int >= {minimum} or a pair of them, got {v!r}")
    return pair


def batched(fn, x, *args):
    """``fn`` (an op on 4-D [N, C, H, W] input) also for a 3-D unbatched input [C, H, W], by
    adding the batch dim and removing it from the result(s) again, as PyTorch does."""
    if x.ndim != 3:
        return fn(x, *args)
    try:
        out = fn(x.unsqueeze(0), *args)
    except (RuntimeError, ValueError) as e:
        raise type(e)(f"{e} (the 3-D input of shape {tuple(x.shape)} is taken as one unbatched "
                      "image [C, H, W])") from None
    if isinstance(out, tuple):
        return tuple(o.squeeze(0) for o in out)
    return out.squeeze(0)


def out_size(size: int, kernel: int, stride: int, pad_total: int, dilation: int,
             ceil_mode: bool = False, pad_before: int = 0) -> int:
    """Number of window positions along one dim: floor (or ceil) of
    ``(size + pad_total - dilation * (kernel - 1) - 1) / stride`` plus one, or 0 if none fits.

    In ceil mode the last window may hang over the end of the padded input, even when the
    input is smaller than the kernel (the span is negative: a 1x1 input pooled by 2x2 gives one
    window), but it must start inside the input or its leading padding (PyTorch's rule)."""
    span = size + pad_total - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return builtins.max(span // stride + 1, 0)
    n = -(-span // stride) + 1  # ceil division, also for a negative span
    if (n - 1) * stride >= size + pad_before:
        n -= 1
    return builtins.max(n, 0)


def channel_major(x):
    """The ``[C, N, H, W]`` view of an NCHW array (free: only the strides change)."""
    return x.transpose(1, 0, 2, 3)


def padded(xc, padding, fill=0, shape=None):
    """``xc`` ([C, N, H, W]) in a new channel-major buffer with ``padding`` ((top, bottom),
    (left, right)) filled with ``fill``; ``shape`` (H', W') can ask for a larger buffer (ceil-mode
    pooling, whose last window may hang over the padding). Without padding, ``xc`` itself."""
    (top, bottom), (left, right) = padding
    c, n, h, w = xc.shape
    hp, wp = shape if shape is not None else (h + top + bottom, w + left + right)
    if (hp, wp) == (h, w):
        return xc
    xp = array_module(xc)
    buf = xp.full((c, n, hp, wp), fill, dtype=xc.dtype)
    buf[:, :, top:top + h, left:left + w] = xc
    return buf


def offset_slice(p: int, q: int, out_hw, stride, dilation):
    """Index of the ``[C, N, Ho, Wo]`` slice of a padded buffer that kernel offset (p, q) sees:
    row ``p * dilation + i * stride`` for output row i (same for columns)."""
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dilation
    return (
        slice(None),
        slice(None),
        slice(p * dh, p * dh + sh * (ho - 1) + 1, sh),
        slice(q * dw, q * dw + sw * (wo - 1) + 1, sw),
    )


def windows(buf, kernel, out_hw, stride, dilation):
    """Strided view ``[C, kh, kw, N, Ho, Wo]`` of a channel-major buffer: element
    ``[c, p, q, n, i, j]`` is ``buf[c, n, i*sh + p*dh, j*sw + q*dw]``. No data is copied; the
    view's elements share memory (a place is in several windows), so it is only ever read.
    (``writeable=False`` would say so, but CuPy's ``as_strided`` does not take it.)"""
    xp = array_module(buf)
    (kh, kw), (ho, wo), (sh, sw), (dh, dw) = kernel, out_hw, stride, dilation
    c, n = buf.shape[:2]
    s_c, s_n, s_h, s_w = buf.strides
    return xp.lib.stride_tricks.as_strided(
        buf,
        shape=(c, kh, kw, n, ho, wo),
        strides=(s_c, s_h * dh, s_w * dw, s_n, s_h * sh, s_w * sw),
    )


def accumulate_windows(cols, shape, kernel, out_hw, stride, dilation):
    """The adjoint of :func:`windows` followed by a copy: a new ``[C, N, H, W]`` buffer of
    ``shape`` where every element of ``cols`` ([C, kh, kw, N, Ho, Wo]) is added at the place its
    window view would have read it from (col2im). One strided add per kernel offset."""
    xp = array_module(cols)
    kh, kw = kernel
    buf = xp.zeros(shape, dtype=cols.dtype)
    for p in range(kh):
        for q in range(kw):
            buf[offset_slice(p, q, out_hw, stride, dilation)] += cols[:, p, q]
    return buf


def batch_last_windows(xc, padding, kernel, out_hw, stride, dilation):
    """Window view ``[C, kh, kw, Ho, Wo, N]`` of ``xc`` ([C, N, H, W]), padded, in a batch-last
    scratch copy ``[C, H', W', N]``: element ``[c, p, q, i, j, n]`` is
    ``xpad[n, c, i*sh + p*dh, j*sw + q*dw]``. Its copy (im2col) moves runs of Wo * N elements
    (stride 1) where :func:`windows` moves runs of Wo; the transpose into the scratch buffer is one
    pass over the (much smaller) input."""
    (top, bottom), (left, right) = padding
    c, n, h, w = xc.shape
    xp = array_module(xc)
    buf = scratch("batch_last", (c, h + top + bottom, w + left + right, n), xc.dtype, xp)
    if top or bottom or left or right:
        buf.fill(0)
    buf[:, top:top + h, left:left + w] = xc.transpose(0, 2, 3, 1)
    (kh, kw), (ho, wo), (sh, sw), (dh, dw) = kernel, out_hw, stride, dilation
    s_c, s_h, s_w, s_n = buf.strides
    return xp.lib.stride_tricks.as_strided(
        buf,
        shape=(c, kh, kw, ho, wo, n),
        strides=(s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw, s_n),
    )


def accumulate_windows_batch_last(cols, buf, kernel, out_hw, stride, dilation):
    """col2im like :func:`accumulate_windows`, in a batch-last layout: ``cols`` is
    ``[kh, kw, C, Ho, Wo, N]`` and is added into ``buf``, ``[C, H, W, N]`` (returned). For each
    kernel offset the strided add then runs along whole rows of images (Wo * N contiguous elements
    for stride 1) rather than along single rows of one image (Wo elements), which is 2-3x faster
    (LeNet's second layer, N=64, Wo=10: 1270 vs ~450 us)."""
    kh, kw = kernel
    for p in range(kh):
        for q in range(kw):
            _, _, rows, columns = offset_slice(p, q, out_hw, stride, dilation)
            buf[:, rows, columns] += cols[p, q]
    return buf


# -- row-flat windows: stride 1 and a padding that keeps the width (Wo == W) ---------------------


def keeps_width(stride, padding, kernel, dilation, in_w: int, out_w: int) -> bool:
    """True for a stride-1 window whose left + right padding is exactly the kernel's reach, so
    that the output is as wide as the input ('same' padding, e.g. 3x3 with padding 1): such
    windows can use the row-flat layout below."""
    (_, (left, right)), kw, dw = padding, kernel[1], dilation[1]
    return tuple(stride) == (1, 1) and left + right == dw * (kw - 1) and in_w == out_w


def row_flat_windows(xc, padding, kernel, out_rows: int, dilation):
    """Window view ``[C, kh, kw, N, Ho * W]`` for a :func:`keeps_width` window, whose copy runs at
    memory speed.

    The image is padded only vertically, into a flat scratch buffer with ``left`` spare elements
    before it and ``right`` after. Kernel offset (p, q) is then one constant shift
    (p*dh rows, q*dw - left elements) of the whole flat image, so for each (c, p, q, n) the
    Ho * W outputs are one contiguous run of memory; the strided view of :func:`windows` only has
    runs of one row. Where a shifted row passes the left or right border it reads the end of the
    neighbouring row instead of zero padding: :func:`clear_wrapped` zeroes those places."""
    (top, bottom), (left, right) = padding
    c, n, h, w = xc.shape
    hp = h + top + bottom
    xp = array_module(xc)
    size = c * n * hp * w
    flat = scratch("padded", (left + size + right,), xc.dtype, xp)
    flat.fill(0)
    flat[left:left + size].reshape(c, n, hp, w)[:, :, top:top + h] = xc
    (kh, kw), (dh, dw), item = kernel, dilation, flat.itemsize
    # element [c, p, q, n, t] is flat[left + (c*n + n)*hp*w + p*dh*w + q*dw - left + t]
    return xp.lib.stride_tricks.as_strided(
        flat,
        shape=(c, kh, kw, n, out_rows * w),
        strides=(n * hp * w * item, dh * w * item, dw * item, hp * w * item, item),
    )


def clear_wrapped(cols, width: int, left: int, dilation_w: int):
    """Zero, in a row-flat ``[C, kh, kw, N, Ho * W]`` array, the places whose column j + q*dw - left
    falls outside [0, W): there the flat shift wrapped into the neighbouring row."""
    rows = cols.reshape(*cols.shape[:4], cols.shape[4] // width, width)
    for q in range(cols.shape[2]):
        shift = q * dilation_w - left
        if shift < 0:
            rows[:, :, q, :, :, :-shift] = 0
        elif shift > 0:
            rows[:, :, q, :, :, width - shift:] = 0


def accumulate_row_flat(cols, shape, padding, kernel, dilation):
    """The adjoint of :func:`row_flat_windows` (col2im for a :func:`keeps_width` window): a new
    vertically padded ``[C, N, Hp, W]`` buffer of ``shape`` with every element of ``cols``
    ([C, kh, kw, N, Ho * W], changed in place: its wrapped places are cleared first) added where
    the view reads it. One add of long contiguous runs per kernel offset."""
    xp = array_module(cols)
    (_, _), (left, right) = padding
    (kh, kw), (dh, dw) = kernel, dilation
    c, n, hp, w = shape
    clear_wrapped(cols, w, left, dw)
    size = c * n * hp * w
    flat = xp.zeros(left + size + right, dtype=cols.dtype)
    item = flat.itemsize
    for p in range(kh):
        for q in range(kw):
            target = xp.lib.stride_tricks.as_strided(
                flat[p * dh * w + q * dw:],
                shape=(c, n, cols.shape[-1]),
                strides=(n * hp * w * item, hp * w * item, item),
            )
            target += cols[:, p, q]
    return flat[left:left + size].reshape(shape)
