"""``Parameter``: a tensor that a Module registers as one of its learnable weights."""

from __future__ import annotations

import numpy as np

from glassgrad._creation import empty
from glassgrad._tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and that a Module collects when it is assigned
    as an attribute (``self.weight = Parameter(...)``). It shares memory with ``data``.

    Only the type differs from Tensor (no extra fields), so a Parameter costs what a Tensor costs.
    """

    __slots__ = ()

    def __init__(self, data: Tensor | np.ndarray | None = None, requires_grad: bool = True):
        if data is None:
            data = empty(0)
        super().__init__(data, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        p = Parameter(self._data.copy(), self._requires_grad)  # the copy has no .grad, as in PyTorch
        memo[id(self)] = p
        return p

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._data, self._requires_grad))


def _rebuild_parameter(data, requires_grad: bool) -> Parameter:
    return Parameter(data, requires_grad)
