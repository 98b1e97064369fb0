"""Flattening all parameters into one vector and back (for line searches, second-order methods,
or inspecting a model as a point in weight space)."""

from __future__ import annotations

from collections.abc import Iterable

from glassgrad._tensor import Tensor
from glassgrad.functions.array import cat, reshape


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters, flattened and concatenated in order (differentiable)."""
    return cat([reshape(p, -1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters (in place, not recorded)."""
    if vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D vector, got shape {tuple(vec.shape)}")
    parameters = list(parameters)
    total = sum(p.numel() for p in parameters)
    if vec.numel() != total:
        raise ValueError(
            f"vector_to_parameters: the vector has {vec.numel()} entries, the parameters {total}"
        )
    start = 0
    for p in parameters:
        n = p.numel()
        p._data[...] = vec._data[start : start + n].reshape(p.shape)
        p._bump_version()
        start += n
