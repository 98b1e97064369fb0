"""Activation layers: modules around the functions of ``glassgrad.functions.activation``."""

from __future__ import annotations

import warnings

from glassgrad.functions import activation as A
from glassgrad.nn.modules.module import Module


class ReLU(Module):
    """max(x, 0). ``inplace`` is accepted for PyTorch compatibility (the result is a new tensor)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return A.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return A.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    def forward(self, input):
        return A.sigmoid(input)


class LogSigmoid(Module):
    def forward(self, input):
        return A.logsigmoid(input)


class Tanh(Module):
    def forward(self, input):
        return A.tanh(input)


class Hardsigmoid(Module):
    """clip(x / 6 + 1/2, 0, 1), a cheap piecewise-linear sigmoid."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return A.hardsigmoid(input)


class GELU(Module):
    """x * Phi(x) (``approximate='none'``) or its tanh approximation (``'tanh'``)."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return A.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return A.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


def _implicit_dim(ndim: int, name: str) -> int:
    """PyTorch's legacy choice when no dim is given: 0 for 0-, 1- and 3-dim inputs, else 1."""
    warnings.warn(
        f"Implicit dimension choice for {name} is deprecated; pass dim explicitly, e.g. {name}(dim=-1)",
        UserWarning,
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """exp(x_i) / sum_j exp(x_j) along ``dim``."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        dim = _implicit_dim(input.ndim, "softmax") if self.dim is None else self.dim
        return A.softmax(input, dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        dim = _implicit_dim(input.ndim, "log_softmax") if self.dim is None else self.dim
        return A.log_softmax(input, dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


# PyTorch keeps MultiheadAttention in this file; glassgrad gives it its own (attention.py)
from glassgrad.nn.modules.attention import MultiheadAttention  # noqa: E402, F401
