"""Losses: regression (L1, MSE), classification (negative log-likelihood, cross-entropy) and
binary classification (binary cross-entropy on probabilities or on logits).

Each returns the per-element losses reduced by ``reduction``: 'mean' (default), 'sum' or 'none'.
Losses that are a few elementwise ops are written with tensor ops (their double backward comes
for free); the ones that need care with logs of 0 or with class indices are Functions.
"""

from __future__ import annotations

import warnings

from glassgrad._backend import array_module
from glassgrad._tensor import Tensor
from glassgrad.autograd.function import Function
from glassgrad.functions._operands import constant, promote
from glassgrad.functions.activation import log_softmax, logsigmoid
from glassgrad.functions.array import unsqueeze
from glassgrad.functions.math import clamp, log

_REDUCTIONS = ("mean", "sum", "none")


# -- reductions -----------------------------------------------------------------------------


def _legacy_reduction(size_average, reduce, reduction: str) -> str:
    """PyTorch's deprecated ``size_average``/``reduce`` flags, turned into a ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn(
        "size_average and reduce are deprecated; use reduction='mean' | 'sum' | 'none'",
        UserWarning,
        stacklevel=3,
    )
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "mean" if size_average and reduce else "sum" if reduce else "none"


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(losses, reduction: str):
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


# -- regression -----------------------------------------------------------------------------


def _regression_operands(input, target, op):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"{op}: the target's shape {tuple(target.shape)} differs from the input's shape "
            f"{tuple(input.shape)}; they will be broadcast, which is likely not what you want "
            "(e.g. predictions of shape (N, 1) against targets of shape (N,): squeeze one)",
            UserWarning,
            stacklevel=3,
        )
    return promote(input, target)


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """|input - target|, reduced."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "l1_loss")
    x, t = _regression_operands(input, target, "l1_loss")
    return _reduce((x - t).abs(), reduction)


class MSELoss(Function):
    """(x - t)^2, reduced, in one node: the loss of every regression step, where three separate
    ops (subtract, square, mean) and their backwards cost a good part of a small net's step.

    d/dx = 2 (x - t) gy (/ N for 'mean'), d/dt = -d/dx: tensor ops, so any order works. For
    floating point inputs of one shape (others take the composed ops).
    """

    def __init__(self, reduction: str):
        self.reduction = reduction

    def forward(self, x, t):
        d = x - t
        d *= d
        if self.reduction == "mean":
            return d.mean()
        return d.sum() if self.reduction == "sum" else d

    def backward(self, gy):
        x, t = self.inputs
        scale = 2.0 / x._data.size if self.reduction == "mean" else 2.0
        gx = (x - t) * (gy * scale)
        return gx, (-gx if self.needs_input_grad[1] else None)


def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """(input - target)^2, reduced."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "mse_loss")
    x, t = _regression_operands(input, target, "mse_loss")
    if x.shape == t.shape and x.dtype.is_floating_point:
        return MSELoss(reduction)(x, t)
    diff = x - t
    return _reduce(diff * diff, reduction)


# -- classification -------------------------------------------------------------------------


class NLLLoss(Function):
    """-w[t] * logp[t] per sample, summed, averaged over the weights (``mean``), or per sample.

    ``logp`` is (N, C) or (N, C, d1, ...), ``target`` (N) or (N, d1, ...) of class indices.
    """

    uses_inputs = (1,)  # the target, as self.target

    def __init__(self, weight, ignore_index: int, reduction: str):
        self.weight, self.ignore_index, self.reduction = weight, ignore_index, reduction

    def forward(self, logp, target):
        xp = array_module(logp)
        self.logp_shape, self.target = logp.shape, target
        valid = target != self.ignore_index
        safe_t = xp.where(valid, target, 0)
        picked = xp.take_along_axis(logp, safe_t[:, None], axis=1)[:, 0]
        w = valid.astype(logp.dtype)
        if self.weight is not None:
            w = w * self.weight[safe_t]
        self.w = w
        losses = -picked * w
        if self.reduction == "none":
            return losses
        if self.reduction == "sum":
            return losses.sum()
        self.denom = w.sum()
        with xp.errstate(divide="ignore", invalid="ignore"):  # every target ignored: nan, as PyTorch
            return losses.sum() / self.denom

    def backward(self, gy):
        xp = array_module(gy._data)
        coeff = -self.w
        if self.reduction == "mean":
            with xp.errstate(divide="ignore", invalid="ignore"):
                coeff = coeff / self.denom
        valid_t = xp.where(self.target != self.ignore_index, self.target, 0)
        dense = xp.zeros(self.logp_shape, dtype=gy._data.dtype)
        xp.put_along_axis(dense, valid_t[:, None], coeff[:, None].astype(dense.dtype), axis=1)
        if self.reduction == "none":

            gy = unsqueeze(gy, 1)
        return gy * constant(dense), None


def _class_weight(weight, input, op):
    """The class weights as an array of the input's dtype, after checking their shape."""
    if weight is None:
        return None
    n_classes = input.shape[1]
    if tuple(weight.shape) != (n_classes,):
        raise ValueError(
            f"{op}: weight must have one entry per class, shape ({n_classes},), got {tuple(weight.shape)}"
        )
    return weight._data.astype(input._data.dtype, copy=False)


def _unbatched(input, target):
    """PyTorch accepts one sample without a batch dim: input (C,), target () or (C,)."""

    return unsqueeze(input, 0), unsqueeze(target, 0)


def nll_loss(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
):
    """Negative log-likelihood of class indices ``target`` under log-probabilities ``input``
    (N, C) or (N, C, d1, ...): the mean over samples of -weight[t] * input[t], normalized by the
    sum of the weights of the non-ignored targets."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "nll_loss")
    if input.ndim == 1:
        out = nll_loss(*_unbatched(input, target), weight, None, ignore_index, None, reduction)
        return out[0] if reduction == "none" else out
    _check_class_target(input, target, "nll_loss", ignore_index)
    return NLLLoss(_class_weight(weight, input, "nll_loss"), ignore_index, reduction)(input, target)


def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
):
    """Cross-entropy between logits ``input`` (N, C) or (N, C, d1, ...) and ``target``, which is
    either class indices (N) / (N, d1, ...) (int64) or class probabilities of the input's shape
    (float). Softmax is part of the loss: pass raw scores, not probabilities.

    With label smoothing e the target becomes (1 - e) * target + e / C (for class indices:
    (1 - e) * the usual loss + e * the loss against the uniform distribution).
    """

    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if input.ndim == 0:
        raise ValueError("cross_entropy: expected logits of shape (N, C) or (C,), got a 0-dim tensor")
    if not input.dtype.is_floating_point:
        raise TypeError(f"cross_entropy: expected floating point logits, got {input.dtype}")
    if input.ndim == 1:
        out = cross_entropy(
            *_unbatched(input, target), weight, None, ignore_index, None, reduction, label_smoothing
        )
        return out[0] if reduction == "none" else out
    if target.dtype.is_floating_point and tuple(target.shape) == tuple(input.shape):
        if ignore_index >= 0:
            raise ValueError("cross_entropy: ignore_index is not supported for class-probability targets")
        return _cross_entropy_probs(log_softmax(input, 1), target, weight, reduction, label_smoothing)
    _check_class_target(input, target, "cross_entropy", ignore_index)
    logp = log_softmax(input, 1)
    w = _class_weight(weight, input, "cross_entropy")
    nll = NLLLoss(w, ignore_index, reduction)(logp, target)
    if label_smoothing == 0.0:
        return nll
    return (1.0 - label_smoothing) * nll + _uniform_target_loss(logp, target, w, ignore_index, reduction) * (
        label_smoothing / input.shape[1]
    )


def _uniform_target_loss(logp, target, w, ignore_index, reduction):
    """-sum_c w[c] logp[c] per sample (zero for ignored targets), reduced: the smoothing part of
    cross-entropy with class indices. 'mean' divides by the summed weights of the non-ignored
    targets, like the NLL part."""
    xp = array_module(logp._data)
    view = (1, -1) + (1,) * (logp.ndim - 2)
    weighted = logp if w is None else logp * constant(w.reshape(view))
    valid = target._data != ignore_index
    per_sample = -weighted.sum(1) * constant(valid.astype(logp._data.dtype))
    if reduction == "none":
        return per_sample
    total = per_sample.sum()
    if reduction == "sum":
        return total
    denom = valid.sum() if w is None else w[xp.where(valid, target._data, 0)][valid].sum()
    return total / float(denom)


def _cross_entropy_probs(logp, target, weight, reduction, label_smoothing):
    """-sum_c w[c] p[c] logp[c] per sample, for a target p of class probabilities; 'mean'
    averages over the samples (not the weights)."""
    n_classes = logp.shape[1]
    logp, target = promote(logp, target)
    if label_smoothing > 0.0:
        target = target * (1.0 - label_smoothing) + label_smoothing / n_classes
    prod = logp * target
    w = _class_weight(weight, logp, "cross_entropy")
    if w is not None:
        prod = prod * constant(w.reshape((1, -1) + (1,) * (logp.ndim - 2)))
    per_sample = -prod.sum(1)
    return _reduce(per_sample, reduction)


def _check_class_target(input, target, op, ignore_index):  # noqa: A002

    if not isinstance(target, Tensor):
        raise TypeError(f"{op}: target must be a tensor of class indices, got {type(target).__name__}")
    expected = (input.shape[0],) + tuple(input.shape[2:])
    if target.dtype.name not in ("int64", "uint8"):
        probs = (
            " or class probabilities (a float tensor of the input's shape)" if op == "cross_entropy" else ""
        )
        raise TypeError(
            f"{op}: target must be class indices (an int64 tensor of shape {expected}){probs}; "
            f"got a {target.dtype.name} tensor of shape {tuple(target.shape)}. Convert class "
            "indices with .long()"
        )
    if tuple(target.shape) != expected:
        raise ValueError(
            f"{op}: input of shape {tuple(input.shape)} (N, C, ...) needs a target of class "
            f"indices of shape {expected}, got {tuple(target.shape)}"
        )
    t = target._data
    n_classes = input.shape[1]
    bad = (t != ignore_index) & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(
            f"{op}: target values must be in [0, {n_classes}) (or ignore_index={ignore_index}); "
            f"got {t[bad].ravel()[0]}"
        )


# -- binary classification ------------------------------------------------------------------


class BinaryCrossEntropy(Function):
    """-(t log x + (1 - t) log(1 - x)) elementwise, each log clamped to >= -100 as PyTorch does,
    so that x = 0 or 1 gives a large finite loss instead of inf.

    d/dx = (x - t) / max(x (1 - x), 1e-12),   d/dt = log(1 - x) - log(x)  (clamped logs).
    """

    def forward(self, x, t):
        xp = array_module(x)
        with xp.errstate(divide="ignore"):
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(xp.log1p(-x), -100)
        return (t - 1) * log_1mx - t * log_x

    def backward(self, gy):

        x, t = self.inputs
        gx = gt = None
        if self.needs_input_grad[0]:
            gx = gy * (x - t) / clamp(x * (1.0 - x), min=1e-12)
        if self.needs_input_grad[1]:
            gt = gy * (clamp(log(1.0 - x), min=-100) - clamp(log(x), min=-100))
        return gx, gt


def _check_same_shape(input, target, op):
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"{op}: target shape {tuple(target.shape)} must be the same as the input shape "
            f"{tuple(input.shape)} (e.g. squeeze predictions of shape (N, 1) to (N,))"
        )


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
    """Binary cross-entropy between probabilities ``input`` (in [0, 1], e.g. after sigmoid) and
    targets of the same shape; ``weight`` rescales each element (broadcast)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "binary_cross_entropy")
    _check_same_shape(input, target, "binary_cross_entropy")
    p = input._data
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(
            "binary_cross_entropy: all elements of input should be probabilities in [0, 1] "
            f"(got values from {p.min()} to {p.max()}); for raw scores use "
            "binary_cross_entropy_with_logits"
        )
    losses = BinaryCrossEntropy()(*promote(input, target))
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction)


def binary_cross_entropy_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean", pos_weight=None
):
    """Binary cross-entropy of sigmoid(input) against ``target``, computed from the logits
    without overflow:  loss = -(pos_weight * t * log sigmoid(x) + (1 - t) * log sigmoid(-x)),
    and log sigmoid(-x) = log sigmoid(x) - x.  ``pos_weight`` (broadcast over the last dim, one
    per class) weighs the positive examples; ``weight`` rescales each element."""

    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    _check_same_shape(input, target, "binary_cross_entropy_with_logits")
    x, t = promote(input, target)
    log_sig = logsigmoid(x)
    if pos_weight is None:
        losses = (1.0 - t) * x - log_sig
    else:
        log_weight = (pos_weight - 1.0) * t + 1.0
        losses = (1.0 - t) * x - log_weight * log_sig
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction)
