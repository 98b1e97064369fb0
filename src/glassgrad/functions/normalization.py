"""Normalization layers as single fused ops: batch norm, layer norm and group norm.

All compute  y = gamma * xhat + beta,  xhat = (x - mean) / sqrt(var + eps),  with the mean and
the (biased) variance taken over some axes (batch norm: every axis but the channel axis 1; layer
norm: the last few axes; group norm: each group of channels and the spatial axes), and
``gamma``/``beta`` per channel (batch and group norm) or per normalized element (layer norm). With
g = gy * gamma and m the number of elements each mean is taken over, the gradients are

    gx     = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps)    (means over the axes)
    ggamma = sum of gy * xhat,      gbeta = sum of gy                   (over the other axes)

and when the statistics are fixed constants (batch norm in eval mode) gx is just g / sqrt(var + eps).

One op instead of about ten elementwise ones saves their temporaries and graph nodes. The backward
is written with tensor ops, so second derivatives work: under ``create_graph`` it rebuilds xhat
and 1/sqrt(var + eps) from the input with differentiable ops; otherwise it reuses the arrays kept
from the forward pass, which gives the same numbers without recomputing them.
"""

from __future__ import annotations

import builtins

from glassgrad._backend import array_module
from glassgrad.autograd.function import Function
from glassgrad.autograd.grad_mode import state
from glassgrad.functions._operands import constant, promote
from glassgrad.functions.array import reshape


def _sum_of_products(a, b, axes, shape):
    """sum(a * b) over ``axes``, shaped ``shape`` (keepdims), without the temporary a * b (an
    einsum; its accumulation error, ~1e-6 relative for 1e5 float32 terms, is far below float32
    training noise)."""
    letters = "abcdefghijklmnopqrstuvwxyz"[: a.ndim]
    kept = "".join(c for i, c in enumerate(letters) if i not in axes)
    return array_module(a).einsum(f"{letters},{letters}->{kept}", a, b).reshape(shape)


def _affine_inputs(x, weight, bias):
    """(x, [weight], [bias]) promoted to one dtype, and which of weight and bias are given."""
    params = [p for p in (weight, bias) if p is not None]
    inputs = promote(x, *params) if params else (x,)
    return inputs, weight is not None, bias is not None


class _Normalize(Function):
    """Shared by BatchNorm, LayerNorm and GroupNorm. Subclasses set, in ``__init__``:

    - ``stat_axes``: the axes a mean and variance are taken over;
    - ``param_axes``: the axes gamma and beta's gradients are summed over;
    - ``param_view``: the shape gamma and beta are reshaped to so that they broadcast against x;
    - ``fixed``: None, or (mean, var) arrays already shaped to broadcast (running statistics).

    Inputs: ``x``, then gamma if ``has_weight``, then beta if ``has_bias``.
    """

    def __init__(self, eps: float, has_weight: bool, has_bias: bool):
        self.eps, self.has_weight, self.has_bias = eps, has_weight, has_bias
        self.fixed = None

    def forward(self, x, *params):
        xp = array_module(x)
        if self.fixed is None:
            mean = x.mean(axis=self.stat_axes, keepdims=True)
            xc = x - mean
            var = _sum_of_products(xc, xc, self.stat_axes, mean.shape) / (x.size // max(mean.size, 1))
            self.batch_mean, self.batch_var = mean, var
        else:
            mean, var = self.fixed
            xc = x - mean
        invstd = 1.0 / xp.sqrt(var + self.eps)
        xhat = xc
        xhat *= invstd
        self.xhat, self.invstd = xhat, invstd
        # one new array for the output (xhat is kept for backward, so it must not be the output)
        if self.has_weight:
            y = xhat * params[0].reshape(self.param_view)
            if self.has_bias:
                y += params[-1].reshape(self.param_view)
            return y
        if self.has_bias:
            return xhat + params[-1].reshape(self.param_view)
        return xhat.copy()

    def _xhat_invstd(self):
        """xhat and 1/sqrt(var + eps) as tensors: differentiable functions of x when the backward
        itself is being recorded (double backward), else constants from the forward pass."""
        if not state.grad_enabled:
            return constant(self.xhat), constant(self.invstd)
        x = self.inputs[0]
        if self.fixed is not None:
            invstd = constant(self.invstd)
            return (x - constant(self.fixed[0])) * invstd, invstd
        xc = x - x.mean(self.stat_axes, keepdim=True)
        invstd = ((xc * xc).mean(self.stat_axes, keepdim=True) + self.eps) ** -0.5
        return xc * invstd, invstd

    def backward(self, gy):
        xhat, invstd = self._xhat_invstd()
        need = self.needs_input_grad
        weight = reshape(self.inputs[1], self.param_view) if self.has_weight else None
        gx = gw = gb = None
        if need[0]:
            g = gy * weight if self.has_weight else gy
            if self.fixed is None:
                axes = self.stat_axes
                g = g - g.mean(axes, keepdim=True) - xhat * (g * xhat).mean(axes, keepdim=True)
            gx = g * invstd
        if self.has_weight and need[1]:
            gw = reshape((gy * xhat).sum(self.param_axes), self.inputs[1].shape)
        if self.has_bias and need[-1]:
            gb = reshape(gy.sum(self.param_axes), self.inputs[-1].shape)
        grads = [gx]
        if self.has_weight:
            grads.append(gw)
        if self.has_bias:
            grads.append(gb)
        return tuple(grads)

    def release(self) -> None:
        super().release()
        self.xhat = self.invstd = None


class BatchNorm(_Normalize):
    """Normalize each channel (axis 1) of an (N, C, *) input over the batch and the other axes,
    with the batch's statistics (training) or with given running statistics (evaluation)."""

    def __init__(self, ndim: int, eps: float, has_weight: bool, has_bias: bool, running=None):
        super().__init__(eps, has_weight, has_bias)
        self.stat_axes = self.param_axes = (0,) + tuple(range(2, ndim))
        self.param_view = (1, -1) + (1,) * (ndim - 2)
        if running is not None:
            self.fixed = tuple(r.reshape(self.param_view) for r in running)

    def backward(self, gy):
        if state.grad_enabled:  # double backward: the differentiable version
            return super().backward(gy)
        return tuple(None if g is None else constant(g) for g in self._backward_arrays(gy._data))

    def _backward_arrays(self, gy):
        """First-order gradients on arrays, fused. With k = gamma * invstd and means over the
        statistics axes (gamma is constant along them, so it factors out of the means):

            gx = k * (gy - mean(gy) - xhat * mean(gy * xhat))     (batch statistics)
            gx = k * gy                                           (fixed statistics)

        computed in one new array: gx = xhat * mean(gy xhat); gx -= gy; gx += mean(gy); gx *= -k."""
        need = self.needs_input_grad
        xhat, invstd, axes = self.xhat, self.invstd, self.stat_axes
        count = xhat.size // invstd.size
        want_w = self.has_weight and need[1]
        want_b = self.has_bias and need[-1]
        batch = self.fixed is None
        sum_gy = gy.sum(axes, keepdims=True) if want_b or (need[0] and batch) else None
        sum_gy_xhat = _sum_of_products(gy, xhat, axes, invstd.shape) if want_w or (need[0] and batch) else None
        gx = None
        if need[0]:
            k = invstd * self.inputs[1]._data.reshape(self.param_view) if self.has_weight else invstd
            if batch:
                gx = xhat * (sum_gy_xhat / count)
                gx -= gy
                gx += sum_gy / count
                gx *= -k
            else:
                gx = gy * k
        grads = [gx]
        if self.has_weight:
            grads.append(sum_gy_xhat.reshape(self.inputs[1].shape) if want_w else None)
        if self.has_bias:
            grads.append(sum_gy.reshape(self.inputs[-1].shape) if want_b else None)
        return grads


def batch_norm(
    input,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
):
    """Batch normalization of an (N, C, *) input over every axis but the channel axis 1.

    With ``training=True`` the batch's statistics are used, and the running statistics (when
    given) are updated in place:  running = (1 - momentum) * running + momentum * batch,  with the
    batch variance made unbiased (times n / (n - 1)). With ``training=False`` the running
    statistics are used.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, *), got {tuple(input.shape)}")
    if not input.dtype.is_floating_point:
        raise TypeError(f"batch_norm: expected a floating point input, got {input.dtype}")
    channels = input.shape[1]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and tuple(t.shape) != (channels,):
            raise ValueError(
                f"batch_norm: {name} has shape {tuple(t.shape)}, but the input of shape "
                f"{tuple(input.shape)} has {channels} channels (dim 1)"
            )
    inputs, has_w, has_b = _affine_inputs(input, weight, bias)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when training=False")
        dt = inputs[0]._data.dtype
        running = (running_mean._data.astype(dt, copy=False), running_var._data.astype(dt, copy=False))
        return BatchNorm(input.ndim, eps, has_w, has_b, running)(*inputs)
    count = input.numel() // builtins.max(channels, 1)
    if count <= 1:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel when training, got an input of "
            f"shape {tuple(input.shape)}"
        )
    fn = BatchNorm(input.ndim, eps, has_w, has_b)
    out = fn(*inputs)
    if running_mean is not None:
        _update_running(running_mean, fn.batch_mean.reshape(-1), momentum)
    if running_var is not None:
        _update_running(running_var, fn.batch_var.reshape(-1) * (count / (count - 1)), momentum)
    return out


def _update_running(running, batch_stat, momentum: float) -> None:
    """running <- (1 - momentum) running + momentum batch_stat, in place (a buffer, no graph)."""
    r = running._data
    r *= 1.0 - momentum
    r += (momentum * batch_stat).astype(r.dtype, copy=False)
    running._bump_version()


class LayerNorm(_Normalize):
    """Normalize each sample over its last ``len(normalized_shape)`` axes."""

    def __init__(self, ndim: int, normalized_shape: tuple, eps: float, has_weight: bool, has_bias: bool):
        super().__init__(eps, has_weight, has_bias)
        lead = ndim - len(normalized_shape)
        self.stat_axes = tuple(range(lead, ndim))
        self.param_axes = tuple(range(lead))
        self.param_view = normalized_shape  # gamma and beta broadcast from the right as they are


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Normalize over the last ``len(normalized_shape)`` dims of ``input``, which must have that
    shape; ``weight`` and ``bias`` (if given) have shape ``normalized_shape``."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[input.ndim - k :]) != shape or input.ndim < k:
        raise ValueError(
            f"layer_norm: expected an input of shape (*, {', '.join(map(str, shape))}) for "
            f"normalized_shape={shape}, got {tuple(input.shape)}"
        )
    if not input.dtype.is_floating_point:
        raise TypeError(f"layer_norm: expected a floating point input, got {input.dtype}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise ValueError(
                f"layer_norm: {name} has shape {tuple(t.shape)}, expected normalized_shape {shape}"
            )
    inputs, has_w, has_b = _affine_inputs(input, weight, bias)
    return LayerNorm(input.ndim, shape, eps, has_w, has_b)(*inputs)


class GroupNorm(_Normalize):
    """Normalize each sample's channels in groups: x of shape (N, C, *) is viewed as
    (N, G, C / G, L), L the product of the spatial sizes, and each (sample, group) is normalized
    over its C / G channels and L places. gamma and beta are per channel, i.e. over axes 1 and 2
    of that view."""

    def __init__(self, num_groups: int, channels: int, eps: float, has_weight: bool, has_bias: bool):
        super().__init__(eps, has_weight, has_bias)
        self.stat_axes = (2, 3)
        self.param_axes = (0, 3)
        self.param_view = (1, num_groups, channels // num_groups, 1)


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """Group normalization (Wu & He, 2018) of an (N, C, *) input: the C channels are split into
    ``num_groups`` groups of consecutive channels, and each sample's group is normalized by its
    own mean and (biased) variance, then scaled and shifted per channel by ``weight`` and
    ``bias`` of shape (C,). One group is layer norm over (C, *); C groups is instance norm. The
    statistics never mix samples, so the batch size does not matter."""
    if input.ndim < 2:
        raise RuntimeError(
            f"group_norm: expected an input of shape (N, C, *), got {tuple(input.shape)}"
        )
    if not input.dtype.is_floating_point:
        raise TypeError(f"group_norm: expected a floating point input, got {input.dtype}")
    n, channels = input.shape[:2]
    if isinstance(num_groups, bool) or not isinstance(num_groups, int) or num_groups < 1:
        raise ValueError(f"group_norm: expected num_groups to be a positive int, got {num_groups!r}")
    if channels % num_groups:
        raise RuntimeError(
            f"group_norm: expected the number of channels to be divisible by num_groups, got an "
            f"input of shape {tuple(input.shape)} ({channels} channels) and num_groups={num_groups}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise RuntimeError(
                f"group_norm: expected {name} of shape ({channels},), one value per channel of the "
                f"input of shape {tuple(input.shape)}, got {tuple(t.shape)}"
            )
    inputs, has_w, has_b = _affine_inputs(input, weight, bias)
    places = 1
    for s in input.shape[2:]:
        places *= s
    grouped = reshape(inputs[0], (n, num_groups, channels // num_groups, places))
    out = GroupNorm(num_groups, channels, eps, has_w, has_b)(grouped, *inputs[1:])
    return reshape(out, input.shape)
