"""Functional forms of layers, activations and losses, as ``torch.nn.functional`` (import as F)."""

from glassgrad.functions.activation import (
    gelu,
    hardsigmoid,
    leaky_relu,
    log_softmax,
    logsigmoid,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from glassgrad.functions.array import one_hot, pad
from glassgrad.functions.connection import embedding, linear
from glassgrad.functions.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from glassgrad.functions.noise import dropout
from glassgrad.functions.normalization import batch_norm, layer_norm

__all__ = [
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "embedding",
    "gelu",
    "hardsigmoid",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "pad",
    "relu",
    "sigmoid",
    "softmax",
    "softplus",
    "tanh",
]
