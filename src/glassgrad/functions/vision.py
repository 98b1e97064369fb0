"""Resizing images and feature maps: ``interpolate`` (nearest, linear, bilinear, trilinear) and
the pixel shuffles.

Interpolation is linear in the input and *separable*: resizing (N, C, H, W) to (N, C, H', W')
resamples along H, then along W. Along one axis each output place k reads a few input places,

    y[k] = Σ_r weight[k, r] · x[index[k, r]]        (r < taps: 1 for nearest, 2 for linear)

which is a sparse matrix with ``taps`` nonzeros per row, kept as the two small arrays ``index``
and ``weight`` (:class:`Taps`). The gradient of a linear map is its transpose: gx[i] sums
weight · gy over the outputs that read place i. That transpose is again such a matrix (its rows
padded with zero weights to the longest), so the backward of :class:`Resample` is another
``Resample``, and gradients of any order need no more code.

Where the source places come from (PyTorch's conventions, per axis of input size n and output
size m, with s = 1 / scale_factor when a scale factor is used, else n / m):

    nearest         k ↦ min(⌊k · s⌋, n − 1)                  (float32 arithmetic, as PyTorch)
    nearest-exact   k ↦ min(⌊(k + ½) · s⌋, n − 1)
    linear          x = (k + ½) · s − ½, clamped at 0        (align_corners=False)
                    x = k · (n − 1) / (m − 1)                 (align_corners=True)
                    y[k] = (1 − λ) · x[⌊x⌋] + λ · x[⌊x⌋ + 1],  λ = x − ⌊x⌋

``align_corners=True`` maps the centres of the corner pixels onto each other; ``False`` maps the
corners of the image (pixels as squares) and repeats the edge value beyond the centres.

One difference from PyTorch, on purpose: for 3-D and 5-D 'nearest' inputs resized from n to n or
2n places by a scale factor that says otherwise (n = 2, scale_factor = 1.1), PyTorch's forward
reads ⌊k · s⌋ but its backward treats the map as a copy or a 2x repeat, so its gradient is not
its forward's (``torch.autograd.gradcheck`` fails). glassgrad's values equal PyTorch's, and its
gradient is the forward's.
"""

from __future__ import annotations

import builtins
import functools
import numbers
import warnings

import numpy as np

from glassgrad._backend import array_module, asarray_like
from glassgrad.autograd.function import Function
from glassgrad.functions.array import permute, reshape, squeeze, unsqueeze
from glassgrad.functions.pooling import adaptive_avg_pool2d

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "area")
_LINEAR_NDIM = {"linear": 3, "bilinear": 4, "trilinear": 5}


class Taps:
    """A linear map along one axis from ``in_size`` places to ``len(index)`` places: output k is
    Σ_r weight[k, r] · input[index[k, r]]. ``weight`` None means every weight is 1."""

    def __init__(self, index: np.ndarray, weight: np.ndarray | None, in_size: int):
        self.index, self.weight, self.in_size = index, weight, in_size
        self._transposed: Taps | None = None
        self.is_identity = (
            weight is None and index.shape == (in_size, 1) and bool((index[:, 0] == np.arange(in_size)).all())
        )

    def transposed(self) -> Taps:
        """The transposed map (from ``out_size`` places back to ``in_size``): row i lists the
        outputs that read input i with their weights, padded with weight 0 to the longest row."""
        if self._transposed is None:
            self._transposed = self._transpose()
            self._transposed._transposed = self
        return self._transposed

    def _transpose(self) -> Taps:
        m, taps = self.index.shape
        rows = np.repeat(np.arange(m), taps)
        cols = self.index.ravel()
        vals = np.ones(rows.size) if self.weight is None else self.weight.ravel()
        keep = vals != 0  # a zero weight (an exact hit of a linear tap) adds nothing
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
        order = np.argsort(cols, kind="stable")
        rows, cols, vals = rows[order], cols[order], vals[order]
        counts = np.bincount(cols, minlength=self.in_size)
        width = builtins.max(int(counts.max(initial=0)), 1)
        slot = np.arange(cols.size) - (np.cumsum(counts) - counts)[cols]  # place within its row
        index = np.zeros((self.in_size, width), dtype=np.int64)
        weight = np.zeros((self.in_size, width), dtype=vals.dtype)
        index[cols, slot] = rows
        weight[cols, slot] = vals
        if self.weight is None and (counts == width).all():
            return Taps(index, None, m)  # every row sums the same number of outputs, weight 1
        dtype = np.float32 if self.weight is None else self.weight.dtype
        return Taps(index, weight.astype(dtype), m)


class Resample(Function):
    """Apply a :class:`Taps` map along ``axis``: y[.., k, ..] = Σ_r w[k, r] · x[.., index[k, r], ..].
    Its gradient is the transposed map applied to gy."""

    uses_inputs = False

    def __init__(self, axis: int, taps: Taps):
        self.axis, self.taps = axis, taps

    def forward(self, x):
        xp = array_module(x)
        index, weight = asarray_like(self.taps.index, x), self.taps.weight  # host taps, copied to x's device
        view = (-1,) + (1,) * (x.ndim - 1 - self.axis)  # weights broadcast along the axis
        if weight is not None:
            weight = asarray_like(weight.astype(x.dtype, copy=False), x)
        y = xp.take(x, index[:, 0], axis=self.axis)
        if weight is not None:
            y *= weight[:, 0].reshape(view)
        for r in range(1, index.shape[1]):
            term = xp.take(x, index[:, r], axis=self.axis)
            if weight is not None:
                term *= weight[:, r].reshape(view)
            y += term
        return y

    def backward(self, gy):
        return Resample(self.axis, self.taps.transposed())(gy)


# -- where each output place reads from ----------------------------------------------------------


def _nearest_scale(n: int, m: int, scale_factor: float | None) -> np.float32:
    """PyTorch computes the nearest-neighbour scale in float32: 1 / scale_factor, or n / m."""
    if scale_factor is not None and scale_factor > 0:
        return np.float32(1.0 / scale_factor)
    return np.float32(n) / np.float32(m)


@functools.lru_cache(maxsize=256)
def _taps(mode: str, n: int, m: int, scale_factor: float | None, align_corners: bool, dtype: str,
          image: bool = False) -> Taps:
    """The map of one axis from size n to size m (cached: a model resizes the same shapes every
    step). ``dtype`` is the arithmetic of the linear source places: float64 for float64 input,
    float32 otherwise (PyTorch's opmath type). ``image``: the axis belongs to a 4-D input."""
    k = np.arange(m)
    if mode == "nearest" and image and m in (n, 2 * n):
        # PyTorch's 2-D nearest kernel treats these sizes as a copy and a 2x repeat, even when a
        # scale factor says otherwise (n = 5, scale_factor = 1.1: a copy, not ⌊k / 1.1⌋)
        return Taps((k if m == n else k >> 1)[:, None], None, n)
    if mode in ("nearest", "nearest-exact"):
        s = _nearest_scale(n, m, scale_factor)
        if mode == "nearest":
            src = np.floor(k.astype(np.float32) * s)
        else:  # (k + 0.5) is a double in PyTorch, rounded to float before the floor
            src = np.floor(((k + 0.5) * np.float64(s)).astype(np.float32))
        return Taps(np.minimum(src.astype(np.int64), n - 1)[:, None], None, n)

    if m == n:  # the identity, as PyTorch special-cases it (even with a scale factor near 1)
        return Taps(k[:, None], None, n)
    dt = np.dtype(dtype)
    if align_corners:
        s = dt.type(n - 1) / dt.type(m - 1) if m > 1 else dt.type(0)
        src = s * k.astype(dt)
    else:
        s = dt.type(1.0 / scale_factor) if scale_factor is not None and scale_factor > 0 else dt.type(n) / dt.type(m)
        src = np.maximum(s * (k.astype(dt) + dt.type(0.5)) - dt.type(0.5), dt.type(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    lam = np.clip(src - i0.astype(dt), 0, 1).astype(dt)
    i1 = np.minimum(i0 + 1, n - 1)
    return Taps(np.stack([i0, i1], axis=1), np.stack([1 - lam, lam], axis=1), n)


# -- public functions ---------------------------------------------------------------------------


def _per_axis(value, dims: int, what: str, input) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != dims:
            raise ValueError(
                f"interpolate: expected {what} with one entry per spatial dimension ({dims} for an "
                f"input of shape {tuple(input.shape)}), got {what}={tuple(value)}"
            )
        return list(value)
    return [value] * dims


def _output_size(input, size, scale_factor, recompute_scale_factor):
    """The output's spatial size, and the scale factors the kernels use (None: recompute n / m)."""
    dims = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an explicit size")
        sizes = _per_axis(size, dims, "size", input)
        if not all(isinstance(s, numbers.Integral) for s in sizes):
            raise TypeError(f"interpolate: expected size to be an int or a tuple of ints, got {size!r}")
        sizes, scales = [int(s) for s in sizes], [None] * dims
    elif scale_factor is not None:
        scales = [float(s) for s in _per_axis(scale_factor, dims, "scale_factor", input)]
        sizes = [int(n * s) for n, s in zip(input.shape[2:], scales)]  # floor, as PyTorch
        if recompute_scale_factor:
            scales = [None] * dims
    else:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    if not all(s > 0 for s in sizes):
        raise RuntimeError(
            f"interpolate: input and output sizes should be greater than 0, but got input "
            f"{tuple(input.shape[2:])} and output {tuple(sizes)}"
        )
    return sizes, scales


def interpolate(
    input,
    size: int | tuple[int, ...] | None = None,
    scale_factor: float | tuple[float, ...] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
):
    """Resize the spatial dims of an (N, C, L), (N, C, H, W) or (N, C, D, H, W) input to ``size``,
    or to ⌊n · scale_factor⌋ per dim.

    ``mode``: 'nearest' (3-D/4-D/5-D), 'nearest-exact', 'linear' (3-D), 'bilinear' (4-D),
    'trilinear' (5-D) or 'area' (adaptive average pooling, 3-D/4-D). With a ``scale_factor`` the
    source places use 1 / scale_factor, unless ``recompute_scale_factor=True``, which uses
    n / output size (they differ when n · scale_factor is not a whole number).
    """
    if mode not in _MODES:
        raise NotImplementedError(
            f"interpolate: mode {mode!r} is not implemented in glassgrad; expected one of {_MODES}"
        )
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not implemented in glassgrad")
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError(
                "interpolate: align_corners option can only be set with the interpolating modes: "
                f"linear | bilinear | trilinear, got mode={mode!r}"
            )
    elif align_corners is None:
        align_corners = False
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(
            f"interpolate: expected a 3-D, 4-D or 5-D input (N, C, *spatial), got one of shape {tuple(input.shape)}"
        )
    needs = _LINEAR_NDIM.get(mode)
    if (needs is not None and input.ndim != needs) or (mode == "area" and input.ndim == 5):
        spatial = {"linear": "3-D", "bilinear": "4-D", "trilinear": "5-D", "area": "3-D or 4-D"}[mode]
        raise NotImplementedError(
            f"interpolate: mode {mode!r} needs a {spatial} input, got one of shape {tuple(input.shape)}"
        )
    sizes, scales = _output_size(input, size, scale_factor, recompute_scale_factor)
    if mode == "area":
        if input.ndim == 3:
            return squeeze(adaptive_avg_pool2d(unsqueeze(input, 2), (1, sizes[0])), 2)
        return adaptive_avg_pool2d(input, tuple(sizes))
    if mode not in ("nearest", "nearest-exact") and not input.dtype.is_floating_point:
        raise TypeError(f"interpolate: mode {mode!r} needs a floating point input, got {input.dtype}")
    dtype = "float64" if input.dtype.name == "float64" else "float32"
    out = input
    for axis, (n, m, s) in enumerate(zip(input.shape[2:], sizes, scales), start=2):
        taps = _taps(mode, n, m, s, bool(align_corners), dtype, input.ndim == 4)
        if not taps.is_identity:  # skip axes the map leaves as they are
            out = Resample(axis, taps)(out)
    return input.clone() if out is input else out


def upsample(input, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None):
    """Deprecated name of :func:`interpolate` (as in PyTorch)."""
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.",
                  UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def _check_factor(op: str, factor) -> int:
    name = "upscale_factor" if op == "pixel_shuffle" else "downscale_factor"
    if isinstance(factor, bool) or not isinstance(factor, numbers.Integral):
        raise TypeError(f"{op}: expected {name} to be an int, got {type(factor).__name__}")
    if factor < 1:
        raise RuntimeError(f"{op}: expected a positive {name}, got {factor}")
    return int(factor)


def pixel_shuffle(input, upscale_factor: int):
    """(*, C·r², H, W) -> (*, C, H·r, W·r): the r² channels of each output channel become an
    r × r block of pixels, out[c, h·r + i, w·r + j] = in[c·r² + i·r + j, h, w] (the sub-pixel
    convolution's upsampling, Shi et al., 2016)."""
    r = _check_factor("pixel_shuffle", upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(
            f"pixel_shuffle: expected an input of at least 3 dimensions (*, C, H, W), got shape {tuple(input.shape)}"
        )
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(
            f"pixel_shuffle: expected the channel dimension to be divisible by upscale_factor² = "
            f"{r * r}, got {c} channels in an input of shape {tuple(input.shape)}"
        )
    lead = len(batch)
    x = reshape(input, (*batch, c // (r * r), r, r, h, w))
    x = permute(x, (*range(lead), lead, lead + 3, lead + 1, lead + 4, lead + 2))  # (*, C, H, r, W, r)
    return reshape(x, (*batch, c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor: int):
    """(*, C, H·r, W·r) -> (*, C·r², H, W), the inverse of :func:`pixel_shuffle`: each r × r block
    of pixels becomes r² channels."""
    r = _check_factor("pixel_unshuffle", downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(
            f"pixel_unshuffle: expected an input of at least 3 dimensions (*, C, H, W), got shape {tuple(input.shape)}"
        )
    *batch, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(
            f"pixel_unshuffle: expected height and width divisible by downscale_factor = {r}, "
            f"got an input of shape {tuple(input.shape)}"
        )
    lead = len(batch)
    x = reshape(input, (*batch, c, h // r, r, w // r, r))
    x = permute(x, (*range(lead), lead, lead + 2, lead + 4, lead + 1, lead + 3))  # (*, C, r, r, H, W)
    return reshape(x, (*batch, c * r * r, h // r, w // r))

