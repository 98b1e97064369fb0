"""Moving between a model's parameter tensors and one flat NumPy vector."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import glassgrad as gg


def trainable_parameters(model) -> list[gg.Tensor]:
    return [p for p in model.parameters() if p.requires_grad]


def tensors_to_flat(params: Sequence[gg.Tensor]) -> np.ndarray:
    """All elements of ``params`` as one float64 vector (a copy)."""
    return np.concatenate([p.detach().numpy().reshape(-1).astype(np.float64) for p in params])


def flat_to_tensors(flat: np.ndarray, params: Sequence[gg.Tensor]) -> list[gg.Tensor]:
    """Split ``flat`` into tensors shaped (and typed) like ``params``."""
    out, start = [], 0
    for p in params:
        n = p.numel()
        out.append(gg.tensor(flat[start : start + n].reshape(p.shape), dtype=p.dtype))
        start += n
    if start != flat.size:
        raise ValueError(f"a vector of {flat.size} values does not fit parameters with {start} elements")
    return out


def assign_flat(params: Sequence[gg.Tensor], flat: np.ndarray) -> None:
    """Set ``params`` in place from ``flat`` (under no_grad)."""
    with gg.no_grad():
        for p, v in zip(params, flat_to_tensors(flat, params)):
            p.copy_(v)
