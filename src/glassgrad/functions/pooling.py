"""2-D max and average pooling, and their adaptive forms.

Pooling reads the same windows as a convolution (see ``_windows.py``) but reduces each one
elementwise: one vectorized step per kernel offset (kh*kw of them), never a loop over pixels.
Backwards are ops too, so gradients of any order work:

- max pooling remembers which offset won in each window; its gradient scatters gy to those
  places (``MaxPool2dScatter``), whose own gradient gathers from them (``MaxPool2dGather``);
- average pooling is linear; its gradient spreads gy / divisor over each window
  (``AvgPool2dTranspose``, the adjoint), whose gradient is average pooling again.
"""

from __future__ import annotations

import builtins
from typing import NamedTuple

from glassgrad._backend import array_module
from glassgrad._tensor import Tensor
from glassgrad.autograd.function import Function
from glassgrad.functions._operands import constant
from glassgrad.functions._windows import batched, channel_major, offset_slice, out_size, padded, to_pair
from glassgrad.functions.convolution import check_sequence_input, single


class Window(NamedTuple):
    """Pooling geometry: ``buf_hw`` is the size of the padded buffer, which in ceil mode may
    reach past the padding (those places hold -inf for max pooling and 0 for average)."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]
    dilation: tuple[int, int]
    out_hw: tuple[int, int]
    buf_hw: tuple[int, int]


def _offsets(win: Window):
    """(k, slice) for each kernel offset, k = p * kw + q in row-major order (PyTorch's scan)."""
    kh, kw = win.kernel
    for p in range(kh):
        for q in range(kw):
            yield p * kw + q, offset_slice(p, q, win.out_hw, win.stride, win.dilation)


def _crop(buf, win: Window, in_hw):
    (top, _), (left, _) = win.padding
    return buf[:, :, top:top + in_hw[0], left:left + in_hw[1]]


class MaxPool2d(Function):
    """The largest element of each window. Remembers the winning kernel offset of each output
    (``argmax``; on ties the first in row-major order, and a NaN wins, as in PyTorch)."""

    uses_inputs = False

    def __init__(self, win: Window):
        self.win = win

    def forward(self, x):
        xp = array_module(x)
        self.in_shape = x.shape
        buf = padded(channel_major(x), self.win.padding, -xp.inf, self.win.buf_hw)
        # Only plain arithmetic on whole arrays: ufuncs with where= or boolean-mask assignment
        # are ~10x slower than a compare or a maximum over the same strided slice.
        best = argmax = better = None
        for k, where in _offsets(self.win):
            v = buf[where]
            if best is None:
                best = v.copy()
                argmax = xp.zeros(best.shape, dtype=_index_dtype(self.win))
                better = xp.empty(best.shape, dtype=bool)
                # the mask as 0/1 of argmax's dtype (a free view for uint8): no cast in the multiply
                mask = better.view(argmax.dtype) if argmax.dtype.itemsize == 1 else better
                winner = xp.empty(best.shape, dtype=argmax.dtype)
                continue
            xp.greater(v, best, out=better)
            xp.maximum(best, v, out=best)  # propagates NaN
            # offsets come in increasing order, so "set to k where better" is a maximum
            xp.multiply(mask, argmax.dtype.type(k), out=winner)
            xp.maximum(argmax, winner, out=argmax)
        if best.size and xp.isnan(best.max()):  # (max propagates NaN; cheaper than isnan().any())
            argmax = self._nan_argmax(buf, argmax)
        self.argmax = argmax
        return channel_major(best)

    def _nan_argmax(self, buf, argmax):
        """Exact winners where NaNs take part: the last NaN of a window wins (PyTorch's rule)."""
        xp = array_module(buf)
        for k, where in _offsets(self.win):
            argmax = xp.where(xp.isnan(buf[where]), k, argmax).astype(argmax.dtype)
        return argmax

    def backward(self, gy):
        return MaxPool2dScatter(self.win, self.argmax, self.in_shape)(gy)


class MaxPool2dScatter(Function):
    """Max pooling's gradient: each gy goes to the input place that won its window (adding up
    where overlapping windows share a winner)."""

    uses_inputs = False

    def __init__(self, win: Window, argmax, in_shape):
        self.win, self.argmax, self.in_shape = win, argmax, in_shape

    def forward(self, gy):
        xp = array_module(gy)
        n, c, h, w = self.in_shape
        g = channel_major(gy)
        disjoint = _disjoint(self.win)
        # windows that tile the buffer write every place of it: no need to zero it first
        make = xp.empty if disjoint and _tiles(self.win) else xp.zeros
        buf = make((c, n, *self.win.buf_hw), dtype=gy.dtype)
        hit = xp.empty(self.argmax.shape, dtype=bool)
        part_g = None if disjoint else xp.empty(self.argmax.shape, dtype=gy.dtype)
        for k, where in _offsets(self.win):
            xp.equal(self.argmax, k, out=hit)
            if disjoint:  # each place is in one window at most: write, no need to add
                xp.multiply(g, hit, out=buf[where])
            else:
                xp.multiply(g, hit, out=part_g)
                buf[where] += part_g
        return channel_major(_crop(buf, self.win, (h, w)))

    def backward(self, ggx):
        return MaxPool2dGather(self.win, self.argmax)(ggx)


class MaxPool2dGather(Function):
    """Read each window's winning place (by the remembered argmax): the scatter's adjoint."""

    uses_inputs = False

    def __init__(self, win: Window, argmax):
        self.win, self.argmax = win, argmax

    def forward(self, x):
        xp = array_module(x)
        self.in_shape = x.shape
        buf = padded(channel_major(x), self.win.padding, 0, self.win.buf_hw)
        out = xp.zeros(self.argmax.shape, dtype=x.dtype)
        hit = xp.empty(self.argmax.shape, dtype=bool)
        part = xp.empty(self.argmax.shape, dtype=x.dtype)
        for k, where in _offsets(self.win):
            xp.equal(self.argmax, k, out=hit)
            xp.multiply(buf[where], hit, out=part)
            out += part
        return channel_major(out)

    def backward(self, gy):
        return MaxPool2dScatter(self.win, self.argmax, self.in_shape)(gy)


def _tiles(win: Window) -> bool:
    """True when the windows cover the buffer exactly, each place once (kernel == stride, no
    dilation, and the buffer as large as the windows reach)."""
    (oh, ow), (sh, sw) = win.out_hw, win.stride
    return win.kernel == win.stride and win.dilation == (1, 1) and win.buf_hw == (oh * sh, ow * sw)


def _disjoint(win: Window) -> bool:
    """True when no two windows share a place (stride at least the dilated kernel extent)."""
    return all(s >= d * (k - 1) + 1 for s, d, k in zip(win.stride, win.dilation, win.kernel))


class AvgPool2d(Function):
    """The sum of each window divided by ``divisor`` (a number, or an [Ho, Wo] array where
    windows at the border count fewer places)."""

    uses_inputs = False

    def __init__(self, win: Window, divisor):
        self.win, self.divisor = win, divisor

    def forward(self, x):
        self.in_shape = x.shape
        buf = padded(channel_major(x), self.win.padding, 0, self.win.buf_hw)
        acc = None
        for _, where in _offsets(self.win):
            if acc is None:
                acc = buf[where].copy()
            else:
                acc += buf[where]
        acc /= self.divisor
        return channel_major(acc)

    def backward(self, gy):
        return AvgPool2dTranspose(self.win, self.divisor, self.in_shape)(gy)


class AvgPool2dTranspose(Function):
    """Average pooling's adjoint (its gradient): gy / divisor added to every place of its window."""

    uses_inputs = False

    def __init__(self, win: Window, divisor, in_shape):
        self.win, self.divisor, self.in_shape = win, divisor, in_shape

    def forward(self, gy):
        xp = array_module(gy)
        n, c, h, w = self.in_shape
        g = channel_major(gy) / self.divisor
        buf = xp.zeros((c, n, *self.win.buf_hw), dtype=gy.dtype)
        for _, where in _offsets(self.win):
            buf[where] += g
        return channel_major(_crop(buf, self.win, (h, w)))

    def backward(self, ggx):
        return AvgPool2d(self.win, self.divisor)(ggx)


def _index_dtype(win: Window):
    return "uint8" if win.kernel[0] * win.kernel[1] <= 256 else "int32"


# -- argument checks ------------------------------------------------------------------------


def _window(op, x, kernel_size, stride, padding, dilation, ceil_mode) -> Window:
    if x.ndim != 4:
        raise RuntimeError(f"{op}: expected a 3-D (unbatched) or 4-D (batched) input [N, C, H, W], "
                           f"got input of shape {tuple(x.shape)}")
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype}")
    kernel = to_pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None or stride == [] or stride == () else to_pair(stride, "stride", op, 1)
    pad = to_pair(padding, "padding", op, 0)
    dilation = to_pair(dilation, "dilation", op, 1)
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {pad} should be at most half the kernel size {kernel}")
    h, w = x.shape[2:]
    out_hw = tuple(out_size(s, k, st, 2 * p, d, ceil_mode, p)
                   for s, k, st, p, d in zip((h, w), kernel, stride, pad, dilation))
    if min(out_hw) < 1:
        raise RuntimeError(f"{op}: kernel {kernel} (dilation {dilation}) does not fit the padded "
                           f"input (input of shape {tuple(x.shape)}, padding {pad}): output size "
                           f"would be {out_hw}")
    # the buffer must hold the last window even when (ceil mode) it hangs over the padding
    buf_hw = tuple(builtins.max(s + 2 * p, (o - 1) * st + d * (k - 1) + 1)
                   for s, p, o, st, d, k in zip((h, w), pad, out_hw, stride, dilation, kernel))
    return Window(kernel, stride, ((pad[0], pad[0]), (pad[1], pad[1])), dilation, out_hw, buf_hw)


def _flat_indices(win: Window, argmax, width: int):
    """PyTorch's return_indices: the winner's place as row * W + column of the (unpadded) input."""
    xp = array_module(argmax)
    kh, kw = win.kernel
    (sh, sw), (dh, dw) = win.stride, win.dilation
    (top, _), (left, _) = win.padding
    ho, wo = win.out_hw
    row = (argmax // kw) * dh + (xp.arange(ho) * sh - top)[:, None]
    col = (argmax % kw) * dw + (xp.arange(wo) * sw - left)
    return (row.astype("int64") * width + col).transpose(1, 0, 2, 3)


# -- public functions -----------------------------------------------------------------------


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over each ``kernel_size`` window of ``x`` [N, C, H, W]; ``stride`` defaults to the
    kernel size, padding counts as -inf. With ``return_indices``, also the flat (row * W + col)
    place of each max in its input plane."""
    return batched(_max_pool2d, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    win = _window("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    fn = MaxPool2d(win)
    y = fn(x)
    if not return_indices:
        return y

    return y, Tensor._wrap(_flat_indices(win, fn.argmax.astype("int64"), x.shape[3]), False)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None):
    """Mean over each ``kernel_size`` window of ``x`` [N, C, H, W]; ``stride`` defaults to the
    kernel size. Zero padding counts in the mean when ``count_include_pad`` (places past the
    padding, possible in ceil mode, never do)."""
    return batched(_avg_pool2d, x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                    divisor_override)


def _avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    win = _window("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError("avg_pool2d: divisor_override must not be zero")
        divisor = float(divisor_override)
    else:
        divisor = _avg_divisor(win, x.shape[2:], count_include_pad, array_module(x._data), x._data.dtype)
    return AvgPool2d(win, divisor)(x)


def _avg_divisor(win: Window, in_hw, count_include_pad, xp, dtype):
    """The number of places each window averages over: a number when every window has the full
    kernel size, else an [Ho, Wo] array. A window is cut at the end of the padding (ceil mode)
    and, without ``count_include_pad``, also at the input's border."""
    sizes = []
    for size, k, st, (pad, _), o in zip(in_hw, win.kernel, win.stride, win.padding, win.out_hw):
        start = xp.arange(o) * st - pad
        end = xp.minimum(start + k, size + pad)
        if not count_include_pad:
            start, end = xp.maximum(start, 0), xp.minimum(end, size)
        sizes.append(end - start)
    divisor = (sizes[0][:, None] * sizes[1][None, :]).astype(dtype)
    if (divisor == divisor.flat[0]).all():
        return float(divisor.flat[0])
    return divisor


def _adaptive_bounds(size: int, out: int, xp):
    """Start and end of each adaptive window: floor(i * size / out) to ceil((i + 1) * size / out)."""
    i = xp.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _adaptive_size(op, x, output_size):
    if x.ndim != 4:
        raise RuntimeError(f"{op}: expected a 3-D (unbatched) or 4-D (batched) input [N, C, H, W], "
                           f"got input of shape {tuple(x.shape)}")
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size, output_size)
    sizes = tuple(s if o is None else o for o, s in zip(output_size, x.shape[2:]))
    if len(sizes) != 2 or not all(isinstance(s, int) and s >= 1 for s in sizes):
        raise ValueError(f"{op}: output_size must be a positive int or a pair of them (None keeps "
                         f"the input size), got {output_size!r}")
    return sizes


def adaptive_avg_pool2d(x, output_size):
    """Average pooling to a fixed output size: output (i, j) averages rows
    floor(i H / Ho) .. ceil((i+1) H / Ho) - 1, and likewise for columns."""
    return batched(_adaptive_avg_pool2d, x, output_size)


def _adaptive_avg_pool2d(x, output_size):
    oh, ow = _adaptive_size("adaptive_avg_pool2d", x, output_size)
    h, w = x.shape[2:]
    if h % oh == 0 and w % ow == 0:  # equal windows: plain average pooling
        return avg_pool2d(x, (h // oh, w // ow))
    # unequal (possibly overlapping) windows: y = A_h x A_w^T with averaging matrices
    xp = array_module(x._data)
    mats = []
    for size, out in ((h, oh), (w, ow)):
        start, end = _adaptive_bounds(size, out, xp)
        pos = xp.arange(size)
        inside = (pos >= start[:, None]) & (pos < end[:, None])
        mats.append((inside / (end - start)[:, None]).astype(x._data.dtype))
    return constant(mats[0]) @ x @ constant(mats[1].T)


def adaptive_max_pool2d(x, output_size, return_indices: bool = False):
    """Max pooling to a fixed output size, over the same windows as ``adaptive_avg_pool2d``."""
    return batched(_adaptive_max_pool2d, x, output_size, return_indices)


def _adaptive_max_pool2d(x, output_size, return_indices):
    oh, ow = _adaptive_size("adaptive_max_pool2d", x, output_size)
    h, w = x.shape[2:]
    if h % oh == 0 and w % ow == 0:
        return max_pool2d(x, (h // oh, w // ow), return_indices=return_indices)
    # unequal windows: gather each window, padded to the largest by repeating its last place
    # (a repeat comes after the original, so the first max is still a real place), then max
    xp = array_module(x._data)
    places = []
    for size, out in ((h, oh), (w, ow)):
        start, end = _adaptive_bounds(size, out, xp)
        longest = int((end - start).max())
        places.append(xp.minimum(start[:, None] + xp.arange(longest), (end - 1)[:, None]))
    rows, cols = places  # [oh, kh], [ow, kw]
    kh, kw = rows.shape[1], cols.shape[1]
    r = rows[:, None, :, None]  # -> [oh, ow, kh, kw]
    c = cols[None, :, None, :]
    windows = x[:, :, r, c].reshape(*x.shape[:2], oh, ow, kh * kw)
    y, which = windows.max(-1)
    if not return_indices:
        return y

    k = which._data
    flat = xp.broadcast_to(r, (oh, ow, kh, kw)).reshape(oh, ow, -1)
    flat = flat * w + xp.broadcast_to(c, (oh, ow, kh, kw)).reshape(oh, ow, -1)
    idx = xp.take_along_axis(flat[None, None], k[..., None], axis=-1)[..., 0]
    return y, Tensor._wrap(idx.astype("int64"), False)


# -- 1-D: a sequence [N, C, L] is an image of height 1 ------------------------------------------


def _pool1d(op, fn, x, *args):

    check_sequence_input(op, x)
    try:
        out = fn(x.unsqueeze(-2), *args)
    except (RuntimeError, ValueError) as e:
        raise type(e)(f"{op} (run as its 2-D form on a height-1 image, input of shape "
                      f"{tuple(x.shape)}): {e}") from None
    if isinstance(out, tuple):
        return tuple(o.squeeze(-2) for o in out)
    return out.squeeze(-2)


def _window1d(op, kernel_size, stride, padding, dilation=1):
    """The 1-D window arguments as height-1 pairs for the 2-D ops."""

    k = single(kernel_size, "kernel_size", op, 1)
    s = k if stride is None or stride == [] or stride == () else single(stride, "stride", op, 1)
    return (1, k), (1, s), (0, single(padding, "padding", op, 0)), (1, single(dilation, "dilation", op, 1))


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over each window of ``kernel_size`` steps of ``x`` [N, C, L] (or [C, L]); with
    ``return_indices`` also where each max was along L."""
    k, s, p, d = _window1d("max_pool1d", kernel_size, stride, padding, dilation)
    return _pool1d("max_pool1d", max_pool2d, x, k, s, p, d, ceil_mode, return_indices)


def avg_pool1d(x, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True):
    """Mean over each window of ``kernel_size`` steps of ``x`` [N, C, L] (or [C, L])."""
    k, s, p, _ = _window1d("avg_pool1d", kernel_size, stride, padding)
    return _pool1d("avg_pool1d", avg_pool2d, x, k, s, p, ceil_mode, count_include_pad)


def adaptive_avg_pool1d(x, output_size):
    """Average pooling of ``x`` [N, C, L] (or [C, L]) to ``output_size`` steps: output i averages
    steps floor(i L / out) .. ceil((i + 1) L / out) - 1."""

    out = single(output_size, "output_size", "adaptive_avg_pool1d", 1)
    return _pool1d("adaptive_avg_pool1d", adaptive_avg_pool2d, x, (1, out))
