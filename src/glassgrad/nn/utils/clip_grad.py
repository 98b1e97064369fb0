"""Gradient clipping, applied between ``backward()`` and the optimizer step."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from glassgrad._backend import array_module
from glassgrad._tensor import Tensor


def _grads(parameters) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach=None,
) -> Tensor:
    """Scale all gradients together, in place, so that their joint norm is at most ``max_norm``.

    The total norm is the ``norm_type``-norm of the vector of all gradient entries (inf: the
    largest absolute entry). If it exceeds max_norm, every gradient is multiplied by
    max_norm / (total_norm + 1e-6). Returns the total norm before clipping (a 0-dim tensor).
    """
    grads = _grads(parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not grads:
        return Tensor._wrap(np.zeros((), dtype="float32"), False)  # no gradients: a CPU zero, as PyTorch
    xp = array_module(grads[0]._data)
    if norm_type == math.inf:
        norms = [xp.abs(g._data).max() if g._data.size else 0.0 for g in grads]
        total = xp.asarray(max(norms), dtype=grads[0]._data.dtype)
    else:
        per = [(xp.abs(g._data) ** norm_type).sum() for g in grads]
        total = xp.asarray(sum(per) ** (1.0 / norm_type), dtype=grads[0]._data.dtype)
    if error_if_nonfinite and not xp.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is non-finite "
            f"({float(total)}), so it cannot be clipped. Set error_if_nonfinite=False to clip anyway."
        )
    coef = max_norm / (float(total) + 1e-6)
    if coef < 1.0:
        for g in grads:
            g._data *= g._data.dtype.type(coef)
            g._bump_version()
    return Tensor._wrap(total, False)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float, foreach=None) -> None:
    """Clip every gradient entry to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        xp = array_module(g._data)
        xp.clip(g._data, -clip_value, clip_value, out=g._data)
        g._bump_version()
