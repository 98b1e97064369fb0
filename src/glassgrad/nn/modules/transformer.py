"""The Transformer of "Attention Is All You Need" (Vaswani et al. 2017), with PyTorch's classes,
arguments, parameter names and state-dict layout.

An encoder layer is self-attention then a position-wise feed-forward network, each wrapped in a
residual connection and a LayerNorm: x = norm(x + sublayer(x)) (post-norm, the paper's), or
x = x + sublayer(norm(x)) with ``norm_first=True`` (pre-norm, easier to train deep). A decoder
layer adds cross-attention to the encoder's output (``memory``) between the two.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from glassgrad._creation import full
from glassgrad._tensor import Tensor
from glassgrad.functions.activation import gelu, relu
from glassgrad.functions.array import triu
from glassgrad.nn import init
from glassgrad.nn.modules.attention import MultiheadAttention
from glassgrad.nn.modules.container import ModuleList
from glassgrad.nn.modules.dropout import Dropout
from glassgrad.nn.modules.linear import Linear
from glassgrad.nn.modules.module import Module, _describe
from glassgrad.nn.modules.normalization import LayerNorm


def _activation(activation) -> Callable:
    if isinstance(activation, str):
        if activation == "relu":
            return relu
        if activation == "gelu":
            return gelu
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    if not callable(activation):
        raise TypeError(f"activation should be 'relu', 'gelu' or a callable, got {activation!r}")
    return activation


def _generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
    return triu(full((sz, sz), float("-inf"), dtype=dtype, device=device), diagonal=1)


def _is_causal(mask, is_causal: bool | None, size: int) -> bool:
    """PyTorch's rule: an explicit ``is_causal`` wins; otherwise a mask that equals the square
    subsequent mask is detected as causal. (Only a hint: the mask itself is always applied.)"""
    if is_causal is not None or mask is None:
        return bool(is_causal)
    if tuple(mask.shape) != (size, size):
        return False
    causal = _generate_square_subsequent_mask(size, mask.device, None if mask.dtype.name == "bool" else mask.dtype)
    if mask.dtype.name == "bool":
        return bool((mask._data == (causal._data != 0)).all())
    return bool((mask._data == causal._data).all())


class _Layer(Module):
    """What the encoder and decoder layers share: the feed-forward block and the checks."""

    def _feed_forward(self, x):
        return self._ff_dropout(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def _check(self, x, name: str) -> None:
        if not isinstance(x, Tensor):
            raise TypeError(f"{_describe(self)}: expected {name} to be a Tensor, got {type(x).__name__}")
        layout = "(N, L, E)" if self.self_attn.batch_first else "(L, N, E)"
        if x.ndim not in (2, 3) or x.shape[-1] != self.self_attn.embed_dim:
            raise RuntimeError(
                f"{_describe(self)}: expected {name} of shape {layout} or unbatched (L, E) with "
                f"E = d_model = {self.self_attn.embed_dim}, got {tuple(x.shape)}"
            )

    def extra_repr(self) -> str:
        a = self.self_attn
        return f"d_model={a.embed_dim}, nhead={a.num_heads}, dim_feedforward={self.linear1.out_features}"


class TransformerEncoderLayer(_Layer):
    """Self-attention and a feed-forward network (Linear, activation, Linear), each with a
    residual connection, dropout and LayerNorm; PyTorch's arguments and parameter names."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable = relu, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation)

    def _ff_dropout(self, x):
        return self.dropout2(x)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        self._check(src, "src")
        x = src
        if self.norm_first:
            x = x + self._self_attention(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._feed_forward(self.norm2(x))
        x = self.norm1(x + self._self_attention(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._feed_forward(x))

    def _self_attention(self, x, mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)


class TransformerDecoderLayer(_Layer):
    """Masked self-attention over the target, cross-attention from the target to ``memory`` (the
    encoder's output), and a feed-forward network, each with a residual connection, dropout and
    LayerNorm; PyTorch's arguments and parameter names."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable = relu, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kw)
        self.multihead_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kw
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation)

    def _ff_dropout(self, x):
        return self.dropout3(x)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False, memory_is_causal: bool = False):
        self._check(tgt, "tgt")
        self._check(memory, "memory")
        x = tgt
        if self.norm_first:
            x = x + self._self_attention(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._cross_attention(self.norm2(x), memory, memory_mask, memory_key_padding_mask,
                                          memory_is_causal)
            return x + self._feed_forward(self.norm3(x))
        x = self.norm1(x + self._self_attention(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._cross_attention(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
        return self.norm3(x + self._feed_forward(x))

    def _self_attention(self, x, mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _cross_attention(self, x, memory, mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, memory, memory, attn_mask=mask, key_padding_mask=key_padding_mask,
                                need_weights=False, is_causal=is_causal)[0]
        return self.dropout2(x)


def _clones(layer: Module, n: int) -> ModuleList:
    """``n`` independent deep copies of ``layer`` (as PyTorch: same initial weights in every layer)."""
    return ModuleList([copy.deepcopy(layer) for _ in range(n)])


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` applied in turn, then ``norm`` if given.
    ``enable_nested_tensor`` and ``mask_check`` (PyTorch's fast path) are accepted and ignored:
    the result is the math of PyTorch's slow path. (In evaluation without grad, PyTorch's
    nested-tensor path returns zeros at padded positions; glassgrad returns the slow path's
    values there. The non-padded positions agree.)"""

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal: bool | None = None):
        seq_dim = 1 if self.layers and self.layers[0].self_attn.batch_first and src.ndim == 3 else 0
        is_causal = _is_causal(mask, is_causal, src.shape[seq_dim])
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=is_causal)
        return self.norm(x) if self.norm is not None else x


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` applied in turn (each attending to the same
    ``memory``), then ``norm`` if given."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool | None = None, memory_is_causal: bool = False):
        seq_dim = 1 if self.layers and self.layers[0].self_attn.batch_first and tgt.ndim == 3 else 0
        tgt_is_causal = _is_causal(tgt_mask, tgt_is_causal, tgt.shape[seq_dim])
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return self.norm(x) if self.norm is not None else x


class Transformer(Module):
    """An encoder-decoder Transformer: ``encoder`` (num_encoder_layers TransformerEncoderLayers
    and a final LayerNorm) reads ``src``; ``decoder`` (num_decoder_layers
    TransformerDecoderLayers and a LayerNorm) reads ``tgt`` and attends to the encoder's output.
    Every weight matrix is initialized Xavier-uniform, as PyTorch does."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable = relu, custom_encoder: Module | None = None,
                 custom_decoder: Module | None = None, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        layer_kw = {"dim_feedforward": dim_feedforward, "dropout": dropout, "activation": activation,
                    "layer_norm_eps": layer_norm_eps, "batch_first": batch_first, "norm_first": norm_first,
                    "bias": bias, **kw}
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, **layer_kw)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, **layer_kw)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, norm)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False):
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and tgt.ndim == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError(
                f"{_describe(self)}: the batch number of src and tgt must be equal, got shapes "
                f"{tuple(src.shape)} and {tuple(tgt.shape)}"
            )
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(
                f"{_describe(self)}: the feature number of src and tgt must be equal to d_model "
                f"({self.d_model}), got shapes {tuple(src.shape)} and {tuple(tgt.shape)}"
            )
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """The (sz, sz) causal mask for a decoder's self-attention: 0 where query i may attend
        key j (j <= i), -inf above the diagonal (the future)."""
        return _generate_square_subsequent_mask(sz, device, dtype)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, nhead={self.nhead}"
