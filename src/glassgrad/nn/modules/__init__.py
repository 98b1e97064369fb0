"""The layers of ``glassgrad.nn``, one file per family as in PyTorch."""

from glassgrad.nn.modules.activation import (
    GELU,
    Hardsigmoid,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from glassgrad.nn.modules.attention import MultiheadAttention
from glassgrad.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d
from glassgrad.nn.modules.container import ModuleDict, ModuleList, Sequential
from glassgrad.nn.modules.conv import Conv1d, Conv2d, ConvTranspose2d
from glassgrad.nn.modules.dropout import Dropout, Dropout2d
from glassgrad.nn.modules.flatten import Flatten, Unflatten
from glassgrad.nn.modules.linear import Identity, Linear
from glassgrad.nn.modules.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from glassgrad.nn.modules.module import Module
from glassgrad.nn.modules.normalization import GroupNorm, LayerNorm
from glassgrad.nn.modules.pixelshuffle import PixelShuffle, PixelUnshuffle
from glassgrad.nn.modules.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from glassgrad.nn.modules.positional import LearnedPositionalEncoding, SinusoidalPositionalEncoding
from glassgrad.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from glassgrad.nn.modules.sparse import Embedding
from glassgrad.nn.modules.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from glassgrad.nn.modules.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "GRUCell",
    "LSTMCell",
    "RNNBase",
    "RNNCell",
    "RNNCellBase",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "Dropout",
    "Dropout2d",
    "Embedding",
    "Flatten",
    "GELU",
    "GroupNorm",
    "Hardsigmoid",
    "Identity",
    "L1Loss",
    "LayerNorm",
    "LearnedPositionalEncoding",
    "LeakyReLU",
    "Linear",
    "LogSigmoid",
    "LogSoftmax",
    "MSELoss",
    "MaxPool1d",
    "MaxPool2d",
    "Module",
    "MultiheadAttention",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "PixelShuffle",
    "PixelUnshuffle",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "SinusoidalPositionalEncoding",
    "Softmax",
    "Softplus",
    "Tanh",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "Unflatten",
    "Upsample",
    "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
]
