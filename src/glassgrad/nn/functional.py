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
from glassgrad.functions.attention import scaled_dot_product_attention
from glassgrad.functions.connection import embedding, linear
from glassgrad.functions.convolution import conv1d, conv2d, conv_transpose2d
from glassgrad.functions.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from glassgrad.functions.noise import dropout, dropout2d
from glassgrad.functions.normalization import batch_norm, group_norm, layer_norm
from glassgrad.functions.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from glassgrad.functions.vision import interpolate, pixel_shuffle, pixel_unshuffle, upsample

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "cross_entropy",
    "dropout",
    "dropout2d",
    "embedding",
    "gelu",
    "group_norm",
    "hardsigmoid",
    "interpolate",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "max_pool1d",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "pad",
    "pixel_shuffle",
    "pixel_unshuffle",
    "relu",
    "scaled_dot_product_attention",
    "sigmoid",
    "softmax",
    "softplus",
    "tanh",
    "upsample",
]
