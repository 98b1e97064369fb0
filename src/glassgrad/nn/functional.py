"""Functional forms of layers, activations and losses, as ``torch.nn.functional`` (import as F)."""

from glassgrad.functions.activation import (
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from glassgrad.functions.array import one_hot, pad
from glassgrad.functions.connection import linear
from glassgrad.functions.loss import cross_entropy, nll_loss

__all__ = [
    "cross_entropy",
    "gelu",
    "leaky_relu",
    "linear",
    "log_softmax",
    "nll_loss",
    "one_hot",
    "pad",
    "relu",
    "sigmoid",
    "softmax",
    "softplus",
    "tanh",
]
