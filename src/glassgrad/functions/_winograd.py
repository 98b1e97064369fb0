"""Winograd's minimal filtering for convolutions whose kernel is twice their stride.

**Polyphase.** A stride-s convolution with a kernel of 2s taps (DCGAN's 4x4 stride-2 layers) is
a stride-1 convolution with a kernel of 2 taps over s times more channels. In 1-D, with ``xp``
the padded input, ``y[o] = sum_k w[k] xp[s*o + k]``; writing ``k = s*i + a`` (tap i in {0, 1},
phase a in [0, s)) and ``u_a[l] = xp[s*l + a]`` gives ``y[o] = sum_(i, a) w[s*i + a] u_a[o + i]``:
each phase ``u_a`` of the input is a channel, correlated with the 2-tap kernel ``(w[a], w[s + a])``.
In 2-D the s*s phases of each input channel become channels (space-to-depth), and a k=4, s=2
layer is a 2x2 stride-1 convolution from 4C channels.

**F(m, 2).** m outputs of a 2-tap correlation, ``y[i] = g0 d[i] + g1 d[i+1]``, need 2m products
done directly, but only m + 1 by Winograd's minimal filtering (Lavin & Gray 2015, "Fast
Algorithms for Convolutional Neural Networks"): ``y = A^T [(G g) * (B^T d)]`` over a tile ``d``
of m + 1 inputs. The smallest, F(2, 2), is

    B^T d = (d0 - d1, d1, d2 - d1),   G g = (g0, g0 + g1, g1),   y = (m0 + m1, m1 + m2)

(check: ``(d0 - d1) g0 + d1 (g0 + g1) = d0 g0 + d1 g1``): the shared product ``d1 (g0 + g1)``
saves one of four. The matrices come from polynomials (Toom-Cook): the correlation is the
transpose of the product of ``g(x) = g0 + g1 x`` with an m-term polynomial, and a product of
degree m is fixed by its values at m + 1 points: evaluate both factors there (G, A: Vandermonde
rows; the point "infinity" picks the leading coefficient), multiply pointwise, interpolate back
(the inverse Vandermonde C, with ``B = C``). F(2, 2) above is this with the points 0, 1 and
infinity. In 2-D the tiles are m x m outputs from (m+1) x (m+1)
inputs, and the transforms nest: ``Y = A^T [(G g G^T) * (B^T d B)] A``, (m+1)^2 products instead
of 4 m^2. Over channels, the pointwise product of each of the (m+1)^2 places is a matrix product
(sum over input channels), so a layer is (m+1)^2 smaller GEMMs instead of one big one; F(4, 2)
(used here) does 25 / 64 of the multiplies per output (more where the tiles overhang the output:
on a 7x7 map, 25 * 4 per 49 outputs instead of 4 * 49).

**All three products.** The layer is the trilinear form ``T(gy, w, x) = sum (A gy)(G w)(B^T x)``
(summed over places, tiles and channels), and each product is one of its partial derivatives:

- the forward, ``y = A^T [(G w) (B^T x)]``, a GEMM over input channels per place;
- the weight gradient, ``gw = G^T [(A gy) (B^T x)]``, a GEMM over tiles, reusing the forward's
  transformed input ``B^T x`` (kept, as the im2col path keeps its columns);
- the input gradient, the transposed convolution: in the phase channels it is again a 2-tap
  stride-1 correlation, of gy padded by one with the flipped kernel, so it runs as a forward.

Exact in real arithmetic; in floating point the transforms round too: float32 results differ
from the direct sum by ~5e-6 of the largest value on DCGAN's layer (im2col: ~5e-7; the other
point sets tried, with 2, -2 or -1/2, did no better), float64 ones by ~1e-15.
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import numpy as np

from glassgrad._backend import array_module
from glassgrad._threads import blas_threads
from glassgrad.functions._windows import channel_major, scratch

# Outputs per tile and dimension, and the points of F(M, 2) (infinity implied last). F(4, 2)
# beat F(2, 2) on DCGAN's 7x7 maps (two 4-wide tiles cover 8; 2-wide ones waste as much).
M = 4
_POINTS = (0, 1, -1, Fraction(1, 2))
ALPHA = M + 1  # inputs per tile and dimension

# The path pays where the channel GEMMs outweigh the transforms, which grow with the channels on
# one side only. Measured (a Conv2d(C, O, 4, 2, 1) forward + backward, batch 64, 14x14, one
# thread, im2col vs this path): C=64, O=128: 34 vs 30 ms; C=32, O=32: 7.6 vs 6.3; C=64, O=32:
# 15.1 vs 14.7; but C=16, O=64: 5.3 vs 5.7 and C=16, O=128: 8.8 vs 11.4 (too few phase channels
# C*sh*sw for the GEMMs to dominate). Batch 4 (26M multiply-adds) still gained (3.2 vs 2.7 ms).
MIN_PHASE_CHANNELS = 128
MIN_OUT_CHANNELS = 32
MIN_MACS = 20_000_000
# ... and on one BLAS thread only. With two, each of the 25 small GEMMs is split across the threads,
# which then wait on each other 25 times per product, while im2col's one big GEMM splits well:
# the DCGAN step on 2 threads ran at 1.55x PyTorch by this path and 1.20x by im2col (1 thread:
# 1.10x and 1.32x). The labs compute on one thread.
MAX_BLAS_THREADS = 1


def applies(x_shape, w_shape, stride, padding, dilation, groups: int, out_hw) -> bool:
    """Whether a convolution of an ``x_shape`` input by a ``w_shape`` weight takes this path: a
    kernel of exactly twice the stride in both dimensions, one group, no dilation, big enough
    (``MIN_PHASE_CHANNELS``, ``MIN_OUT_CHANNELS``, ``MIN_MACS`` multiply-adds done directly) for
    the smaller GEMMs to outweigh the transforms, and NumPy's BLAS on one thread
    (``MAX_BLAS_THREADS``)."""
    n, c, _, _ = x_shape
    o, _, kh, kw = w_shape
    (sh, sw), (ho, wo) = stride, out_hw
    if groups != 1 or tuple(dilation) != (1, 1) or (kh, kw) != (2 * sh, 2 * sw):
        return False
    big = c * sh * sw >= MIN_PHASE_CHANNELS and o >= MIN_OUT_CHANNELS
    return big and o * c * kh * kw * n * ho * wo >= MIN_MACS and blas_threads() <= MAX_BLAS_THREADS


# -- the matrices ------------------------------------------------------------------------------


def _vandermonde(points, size: int) -> list[list[Fraction]]:
    """Rows evaluating a polynomial of ``size`` coefficients at each point, then at infinity
    (where only the leading coefficient counts)."""
    rows = [[Fraction(p) ** k for k in range(size)] for p in points]
    return rows + [[Fraction(0)] * (size - 1) + [Fraction(1)]]


def _inverse(rows: list[list[Fraction]]) -> list[list[Fraction]]:
    """Exact inverse of a small square matrix by Gauss-Jordan elimination."""
    n = len(rows)
    a = [list(r) + [Fraction(int(i == j)) for j in range(n)] for i, r in enumerate(rows)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if a[r][col] != 0)
        a[col], a[pivot] = a[pivot], a[col]
        a[col] = [v / a[col][col] for v in a[col]]
        for r in range(n):
            if r != col and a[r][col] != 0:
                a[r] = [v - a[r][col] * p for v, p in zip(a[r], a[col])]
    return [r[n:] for r in a]


@cache
def _matrices_f64():
    """``(B^T, G, A)`` of F(M, 2) in float64: B^T is ALPHA x ALPHA, G ALPHA x 2, A ALPHA x M."""
    g = np.array(_vandermonde(_POINTS, 2), dtype=np.float64)
    a = np.array(_vandermonde(_POINTS, M), dtype=np.float64)
    b = np.array(_inverse(_vandermonde(_POINTS, ALPHA)), dtype=np.float64)  # B = C, the interpolation
    return b.T, g, a


_cache: dict = {}


def _matrix(name: str, dtype, xp):
    """``bt`` (B^T), ``g``, ``a``, ``at`` (A^T) or ``gt`` (G^T) in ``dtype`` on ``xp``."""
    key = (name, xp.__name__, np.dtype(dtype).str)
    mat = _cache.get(key)
    if mat is None:
        bt, g, a = _matrices_f64()
        base = {"bt": bt, "g": g, "a": a, "at": a.T, "gt": g.T}[name]
        mat = _cache[key] = xp.asarray(np.ascontiguousarray(base), dtype=dtype)
    return mat


def _small_matmul(mat, a, out) -> None:
    """``out = mat @ a`` for a tiny ``mat`` (p x q, q <= 5) and a long ``a`` (q x K), in pieces of
    columns: each piece's operands fit in the cache and its product stays under OpenBLAS's size
    for threading (m*n*k <= 4 * 65536), where two threads only cost synchronization. Measured
    (one thread, 5x5 by 5x147456): 0.23 vs 0.13 ms in pieces of 8192, 0.47 vs 0.30 out of cache."""
    p, q = mat.shape
    width = max(1024, 1 << ((4 * 65536 // (p * q)).bit_length() - 1))
    for start in range(0, a.shape[1], width):
        piece = slice(start, start + width)
        array_module(a).matmul(mat, a[:, piece], out=out[:, piece])


def _both_dims(name: str, arr):
    """``mat X mat^T`` for each of the matrices ``X`` = ``arr[:, :, k]`` ([q, q, K] to [p, p, K]
    for a p x q matrix ``mat``): rows, then columns, each small GEMMs (faster than one GEMM by the
    Kronecker product ``mat (x) mat``, whose inner size q^2 is as small)."""
    xp = array_module(arr)
    mat = _matrix(name, arr.dtype, xp)
    p, q = mat.shape
    k = arr[0, 0].size
    half = xp.empty((p, q, k), dtype=arr.dtype)
    _small_matmul(mat, arr.reshape(q, -1), half.reshape(p, -1))
    out = xp.empty((p, p, k), dtype=arr.dtype)
    for r in range(p):
        _small_matmul(mat, half[r], out[r])
    return out


# -- the three products ------------------------------------------------------------------------
#
# Layouts: images are channel-major [C, N, H, W] as everywhere in convolution.py. An input's
# phases are [rows, columns, N, C'] (C' = sh*sw*C, channel index (a, b, c)), so that a tile's
# rows are contiguous slabs for the transform, whose result is [ALPHA^2, T, C'] (T: tile and
# image, (ti, tj, n)): per place, one matrix ready for a GEMM. Outputs and gy keep channels
# outermost ([.., O, T]); the copies between these layouts and the images are NumPy transposes
# with short runs, ordered so that their inner loops run over the N images.


def _phases(xc, top: int, left: int, stride, lengths):
    """Space-to-depth: ``[Lh, Lw, N, sh*sw*C]`` from channel-major ``xc`` ([C, N, H, W]) padded by
    ``top`` / ``left``, element ``[l, k, n, (a, b, c)] = xpad[c, n, sh*l + a, sw*k + b]``, zero past
    the image (``lengths`` = (Lh, Lw) may reach past its padded end)."""
    xp = array_module(xc)
    c, n, h, w = xc.shape
    (sh, sw), (lh, lw) = stride, lengths
    u = scratch("winograd_phases", (lh, lw, n, sh, sw, c), xc.dtype, xp)
    u.fill(0)
    for a in range(sh):
        rows, ls = _phase_rows(h, top, a, sh, lh)
        for b in range(sw):
            cols, ks = _phase_rows(w, left, b, sw, lw)
            # ordered so that the inner loop runs over images, not channels (whose planes lie
            # far apart in memory): 0.7 vs 0.84 ms for DCGAN's 64x64x14x14, 1.3 vs 1.8 out of cache
            u[ls, ks, :, a, b].transpose(0, 1, 3, 2)[...] = xc[:, :, rows, cols].transpose(2, 3, 0, 1)
    return u.reshape(lh, lw, n, c * sh * sw)


def _phase_rows(size: int, pad: int, a: int, stride: int, length: int):
    """The image rows r of phase a ((r + pad) % stride == a) that have a phase position
    l = (r + pad) // stride below ``length``, and those positions, as two slices."""
    r0 = (a - pad) % stride
    l0 = (r0 + pad) // stride
    count = max(0, min(len(range(r0, size, stride)), length - l0))
    return slice(r0, r0 + stride * count, stride), slice(l0, l0 + count)


def _tiles(size: int) -> int:
    """Tiles of M outputs that cover ``size`` outputs (the last may overhang)."""
    return -(-size // M)


def _transformed_input(xc, top: int, left: int, stride, tiles):
    """``B^T d B`` for every tile d of the phases of ``xc`` (see :func:`_phases`): returns
    ``[ALPHA^2, th*tw*N, C']``. Rows, then columns, as small GEMMs on contiguous slabs (a tile's
    ALPHA rows are one slab of the phases; its ALPHA columns one slab of the row transform)."""
    xp = array_module(xc)
    th, tw = tiles
    u = _phases(xc, top, left, stride, (M * th + 1, M * tw + 1))
    _, lw, n, c = u.shape
    bt = _matrix("bt", u.dtype, xp)
    v = xp.empty((ALPHA, ALPHA, th, tw, n * c), dtype=u.dtype)
    rows = scratch("winograd_rows", (ALPHA, lw, n * c), u.dtype, xp)
    for i in range(th):
        _small_matmul(bt, u[M * i:M * i + ALPHA].reshape(ALPHA, -1), rows.reshape(ALPHA, -1))
        for p in range(ALPHA):
            for j in range(tw):
                _small_matmul(bt, rows[p, M * j:M * j + ALPHA], v[p, :, i, j])
    return v.reshape(ALPHA * ALPHA, th * tw * n, c)


def _transformed_weight(w, flip: bool = False):
    """``G w G^T`` for the 2x2 kernel of every (out channel, phase channel) pair of ``w``
    ([O, C, 2*sh, 2*sw]): ``[ALPHA^2, O, sh*sw*C]``; the 2x2 kernels flipped if ``flip``."""
    xp = array_module(w)
    o, c, kh, kw = w.shape
    # [i, j, o, (a, b, c)] = w[o, c, sh*i + a, sw*j + b]: each 2x2 kernel's taps
    w4 = xp.ascontiguousarray(w.reshape(o, c, 2, kh // 2, 2, kw // 2).transpose(2, 4, 0, 3, 5, 1))
    w4 = w4.reshape(2, 2, -1)
    if flip:
        w4 = w4[::-1, ::-1]
    return _both_dims("g", w4).reshape(ALPHA * ALPHA, o, -1)


def _product(u, v, channels: int, stride, th: int, tw: int):
    """The per-place GEMMs ``u_p @ v_p^T`` ([ALPHA^2, K, C'] by [ALPHA^2, T, C']) and the output
    transform ``A^T [..] A``: the output tiles as ``[M, M, sh, sw, K/(sh*sw), th, tw, N]``."""
    xp = array_module(v)
    prod = xp.matmul(u, v.swapaxes(1, 2))  # [ALPHA^2, K, T]
    y = _both_dims("at", prod.reshape(ALPHA, ALPHA, -1))
    return y.reshape(M, M, *stride, channels, th, tw, -1)


def _untile(y, top: int, left: int, stride, out_hw):
    """Channel-major ``[C, N, H, W]`` from output tiles ``y`` ([M, M, sh, sw, C, th, tw, N]) of
    phases: element (i, j, a, b, c, ti, tj, n) goes to row sh*(M*ti + i) + a - top (columns
    likewise), padding dropped. One copy per (i, j, a, b), each within channels, and ordered so
    that its inner loop runs over the N images (the tiles' runs are too short)."""
    xp = array_module(y)
    _, _, sh, sw, c, th, tw, n = y.shape
    out = xp.empty((c, n, *out_hw), dtype=y.dtype)
    for i in range(M):
        for a in range(sh):
            rows, ts = _tile_rows(sh * i + a - top, sh * M, out_hw[0])
            for j in range(M):
                for b in range(sw):
                    cols, ss = _tile_rows(sw * j + b - left, sw * M, out_hw[1])
                    out[:, :, rows, cols].transpose(0, 2, 3, 1)[...] = y[i, j, a, b, :, ts, ss]
    return out


def _tile_rows(first: int, step: int, size: int):
    """Rows ``first + step * t`` inside [0, size), and their tiles t, as two slices."""
    t0 = -(first // step) if first < 0 else 0
    r0 = first + step * t0
    count = len(range(r0, size, step))
    return slice(r0, r0 + step * count, step), slice(t0, t0 + count)


def conv2d(x, w, stride, padding, out_hw, keep: bool):
    """The convolution of NCHW ``x`` by ``w`` ([O, C, 2*sh, 2*sw]), output ``out_hw``; also the
    transformed input when ``keep`` (for the weight gradient), else None."""
    (top, _), (left, _) = padding
    th, tw = _tiles(out_hw[0]), _tiles(out_hw[1])
    v = _transformed_input(channel_major(x), top, left, stride, (th, tw))
    y = _product(_transformed_weight(w), v, w.shape[0], (1, 1), th, tw)
    return channel_major(_untile(y, 0, 0, (1, 1), out_hw)), (v if keep else None)


def conv_transpose2d(gy, w, stride, padding, out_hw):
    """The adjoint in x of :func:`conv2d`: ``gy`` [N, O, Ho, Wo] to [N, C, *out_hw].

    In the phase channels, ``y[o] = w'0 u[o] + w'1 u[o+1]`` has the adjoint
    ``gu[l] = w'0 gy[l] + w'1 gy[l-1]``: the correlation of gy padded by one with the flipped
    kernel (channels swapped), a forward of the same kind; its output tiles go back to the
    rows and columns of their phases, the padding cut off."""
    (top, _), (left, _) = padding
    (sh, sw), (h, wd) = stride, out_hw
    # phase positions that reach the input, in tiles
    th, tw = _tiles(-(-(h + top) // sh)), _tiles(-(-(wd + left) // sw))
    v = _transformed_input(channel_major(gy), 1, 1, (1, 1), (th, tw))
    u = _transformed_weight(w, flip=True).swapaxes(1, 2)  # [ALPHA^2, C', O]
    y = _product(u, v, w.shape[1], stride, th, tw)
    return channel_major(_untile(y, top, left, stride, out_hw))


def conv2d_grad_weight(x, gy, stride, padding, kernel, v=None):
    """The weight gradient of :func:`conv2d`, ``G^T [(A gy A^T) (B^T x B)] G`` summed over tiles
    (a GEMM over tiles per place); ``v`` is the forward's transformed input if it kept it."""
    xp = array_module(x)
    (top, _), (left, _) = padding
    n, o, ho, wo = gy.shape
    c = x.shape[1]
    th, tw = _tiles(ho), _tiles(wo)
    if v is None:
        v = _transformed_input(channel_major(x), top, left, stride, (th, tw))
    # gy in tiles [M, M, O, th, tw, N], zero where the tiles overhang the output
    g = xp.zeros((M, M, o, th, tw, n), dtype=gy.dtype)
    gc = channel_major(gy)
    for i in range(M):
        for j in range(M):
            part = gc[:, :, i::M, j::M]
            g[i, j, :, :part.shape[2], :part.shape[3]] = part.transpose(0, 2, 3, 1)
    z = _both_dims("a", g.reshape(M, M, -1)).reshape(ALPHA * ALPHA, o, -1)  # A gy A^T
    s = xp.matmul(z, v)  # [ALPHA^2, O, C']: one GEMM over tiles and images per place
    w4 = _both_dims("gt", s.reshape(ALPHA, ALPHA, -1)).reshape(2, 2, o, *stride, c)
    gw = xp.empty((o, c, 2, stride[0], 2, stride[1]), dtype=gy.dtype)
    gw.transpose(2, 4, 0, 3, 5, 1)[...] = w4  # [i, j, o, a, b, c] to w[o, c, sh*i + a, sw*j + b]
    return gw.reshape(o, c, *kernel)
