"""Dropout: regularizers that zero random elements (or whole channels) during training only."""

from __future__ import annotations

from glassgrad.functions.noise import _check_p, dropout, dropout2d
from glassgrad.nn.modules.module import Module


class Dropout(Module):
    """In training mode, zero each element with probability ``p`` and scale the others by
    1 / (1 - p); in eval mode, return the input unchanged."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        _check_p(p)
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """In training mode, zero each channel (a whole feature map of an [N, C, H, W] input) with
    probability ``p`` and scale the others by 1 / (1 - p); in eval mode, return the input."""

    def forward(self, input):
        return dropout2d(input, self.p, self.training)
