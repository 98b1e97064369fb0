"""Positional encodings: attention itself ignores order (permuting the inputs permutes the
outputs), so the position of each token is added to its embedding. Not in PyTorch, which leaves
them to the user; these follow "Attention Is All You Need" (Vaswani et al. 2017)."""

from __future__ import annotations

import math

import numpy as np

from glassgrad._creation import arange
from glassgrad._dtype import get_default_dtype
from glassgrad._tensor import Tensor, tensor
from glassgrad.nn.modules.dropout import Dropout
from glassgrad.nn.modules.module import Module, _describe
from glassgrad.nn.modules.sparse import Embedding


def sinusoidal_table(max_len: int, d_model: int) -> np.ndarray:
    """PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(pos / 10000^(2i/d)): each pair
    of features is a rotation at its own frequency, so PE[pos + k] is a linear function of PE[pos]
    and relative offsets are easy to attend to."""
    pos = np.arange(max_len, dtype=np.float64)[:, None]
    inv_freq = np.exp(np.arange(0, d_model, 2, dtype=np.float64) * (-math.log(10000.0) / d_model))
    pe = np.zeros((max_len, d_model))
    pe[:, 0::2] = np.sin(pos * inv_freq)
    pe[:, 1::2] = np.cos(pos * inv_freq[: d_model // 2])
    return pe


class _PositionalEncoding(Module):
    def _check(self, x, d_model: int, max_len: int) -> int:
        """The sequence length of ``x`` (L, N, E), (N, L, E) with batch_first, or (L, E)."""
        if not isinstance(x, Tensor):
            raise TypeError(f"{_describe(self)}: expected a Tensor, got {type(x).__name__}")
        layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
        if x.ndim not in (2, 3) or x.shape[-1] != d_model:
            raise RuntimeError(
                f"{_describe(self)}: expected an input {layout} or unbatched (L, E) with E = {d_model}, "
                f"got {tuple(x.shape)}"
            )
        length = x.shape[1 if self.batch_first and x.ndim == 3 else 0]
        if length > max_len:
            raise RuntimeError(f"{_describe(self)}: the input has {length} positions, more than max_len={max_len}")
        return length

    def _add(self, x, pe):
        """x + pe with pe (L, E) broadcast over the batch dim, then dropout."""
        if x.ndim == 3 and not self.batch_first:
            pe = pe.unsqueeze(1)
        return self.dropout(x + pe)


class SinusoidalPositionalEncoding(_PositionalEncoding):
    """Adds the fixed sinusoids of Vaswani et al. (2017) to the input, then dropout. The table is
    a (max_len, d_model) buffer ``pe`` (not saved in the state dict: it is a function of the
    arguments). Input (L, N, E), (N, L, E) with ``batch_first``, or unbatched (L, E)."""

    def __init__(self, d_model: int, dropout: float = 0.1, max_len: int = 5000, batch_first: bool = False,
                 device=None, dtype=None):
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.dropout = Dropout(dropout)
        pe = tensor(sinusoidal_table(max_len, d_model), dtype=dtype or get_default_dtype(), device=device)
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, x):
        length = self._check(x, self.d_model, self.max_len)
        pe = self.pe[:length]
        return self._add(x, pe if pe.dtype == x.dtype else pe.to(x.dtype))

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"


class LearnedPositionalEncoding(_PositionalEncoding):
    """Adds a learned vector per position (an Embedding of the positions 0..L-1, ``embedding``)
    to the input, then dropout, as BERT and GPT do. Input (L, N, E), (N, L, E) with
    ``batch_first``, or unbatched (L, E); at most ``max_len`` positions."""

    def __init__(self, max_len: int, d_model: int, dropout: float = 0.1, batch_first: bool = False,
                 device=None, dtype=None):
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.embedding = Embedding(max_len, d_model, device=device, dtype=dtype)
        self.dropout = Dropout(dropout)

    def forward(self, x):
        length = self._check(x, self.d_model, self.max_len)
        return self._add(x, self.embedding(arange(length, device=self.embedding.weight.device)))

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, d_model={self.d_model}, batch_first={self.batch_first}"
