"""Losses built on the ops: negative log-likelihood and cross-entropy."""

from __future__ import annotations

from glassgrad._backend import array_module
from glassgrad.autograd.function import Function
from glassgrad.functions._operands import constant


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
        return losses.sum() / self.denom

    def backward(self, gy):
        xp = array_module(gy._data)
        coeff = -self.w
        if self.reduction == "mean":
            coeff = coeff / self.denom
        valid_t = xp.where(self.target != self.ignore_index, self.target, 0)
        dense = xp.zeros(self.logp_shape, dtype=gy._data.dtype)
        xp.put_along_axis(dense, valid_t[:, None], coeff[:, None].astype(dense.dtype), axis=1)
        if self.reduction == "none":
            from glassgrad.functions.array import unsqueeze

            gy = unsqueeze(gy, 1)
        return gy * constant(dense), None


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):  # noqa: A002
    """Negative log-likelihood of class indices ``target`` under log-probabilities ``input``
    ((N, C, ...) with target (N, ...), or one sample: (C,) with a 0-d target)."""
    if input.ndim == 1 and getattr(target, "ndim", None) == 0:  # one unbatched sample
        from glassgrad.functions.array import reshape

        loss = nll_loss(reshape(input, (1, -1)), reshape(target, (1,)), weight, ignore_index, reduction)
        return reshape(loss, ()) if reduction == "none" else loss
    _check_class_target(input, target, "nll_loss", ignore_index)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"nll_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    w = None if weight is None else weight._data.astype(input._data.dtype, copy=False)
    return NLLLoss(w, ignore_index, reduction)(input, target)


def cross_entropy(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):  # noqa: A002
    """Cross-entropy of logits ``input`` against class indices ``target``: log-softmax over
    dim 1, then the negative log-likelihood (softmax is part of the loss, as in PyTorch)."""
    from glassgrad.functions.activation import log_softmax

    if input.ndim < 1:
        raise ValueError(f"cross_entropy: expected logits of shape (N, C), got {tuple(input.shape)}")
    return nll_loss(log_softmax(input, 1 if input.ndim > 1 else 0), target, weight, ignore_index, reduction)


def _check_class_target(input, target, op, ignore_index):  # noqa: A002
    from glassgrad._tensor import Tensor

    if not isinstance(target, Tensor):
        raise TypeError(f"{op}: target must be a tensor of class indices, got {type(target).__name__}")
    if target.dtype.name not in ("int64", "int32", "uint8"):
        raise TypeError(
            f"{op}: target must hold class indices as an int64 tensor, got {target.dtype} "
            "(convert with .long())"
        )
    if input.ndim < 2 or target.shape != (input.shape[0],) + input.shape[2:]:
        raise ValueError(
            f"{op}: input of shape {tuple(input.shape)} (N, C, ...) needs a target of shape "
            f"{(input.shape[0],) + input.shape[2:] if input.ndim >= 2 else '(N,)'}, "
            f"got {tuple(target.shape)}"
        )
    t = target._data
    n_classes = input.shape[1]
    bad = (t != ignore_index) & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(
            f"{op}: target values must be in [0, {n_classes}) (or ignore_index={ignore_index}); "
            f"got {t[bad].ravel()[0]}"
        )
