"""Multi-head attention, as ``torch.nn.MultiheadAttention`` (which PyTorch keeps in
nn/modules/activation.py; it is re-exported from there).

Each head h projects the inputs to its own queries, keys and values (q = W^q_h a, k = W^k_h a,
v = W^v_h a), attends (softmax(q k^T / sqrt(d)) v), and the heads' outputs are concatenated
and projected once more (out_proj). The heads' projections are stored stacked, as PyTorch does:
``in_proj_weight`` is [W^q; W^k; W^v], each (embed_dim, embed_dim), head h owning rows
h*d .. (h+1)*d of each, d = embed_dim / num_heads.
"""

from __future__ import annotations

import math

from glassgrad._backend import array_module
from glassgrad._creation import empty
from glassgrad._tensor import Tensor
from glassgrad.functions.array import cat, reshape, transpose, unbind
from glassgrad.functions.attention import attend
from glassgrad.functions.connection import linear
from glassgrad.functions.math import where
from glassgrad.functions.noise import _check_p
from glassgrad.nn import init
from glassgrad.nn.modules.linear import Linear
from glassgrad.nn.modules.module import Module, _describe
from glassgrad.nn.parameter import Parameter


class NonDynamicallyQuantizableLinear(Linear):
    """PyTorch's name for MultiheadAttention's output projection; a plain Linear here."""


class MultiheadAttention(Module):
    """Attention with ``num_heads`` heads of size embed_dim / num_heads, computed together.

    Inputs are (L, N, E) (``batch_first=False``, PyTorch's default), (N, L, E) with
    ``batch_first=True``, or unbatched (L, E); keys and values have S positions.
    ``key_padding_mask`` (N, S) hides padded keys (bool: True = padding; float: added to the
    scores); ``attn_mask`` (L, S) or (N * num_heads, L, S) hides pairs of positions the same way.
    Returns (output, attention weights), the weights averaged over the heads (N, L, S), per head
    (N, num_heads, L, S) with ``average_attn_weights=False``, or None with ``need_weights=False``.

    A query for which every key is masked (e.g. a key_padding_mask row of all True) has no
    weights to normalize: as in PyTorch, its output is NaN when need_weights=True and zero
    (before out_proj, whose bias is then the output) when need_weights=False.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None):
        super().__init__()
        for what, n in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"MultiheadAttention: {what} must be a positive int, got {n!r}")
        if embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})"
            )
        _check_p(dropout)
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.head_dim = embed_dim // num_heads
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.batch_first, self.add_zero_attn = batch_first, add_zero_attn
        kw = {"dtype": dtype, "device": device}
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, **kw))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, **kw))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, **kw))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, **kw))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, **kw))
            self.bias_v = Parameter(empty(1, 1, embed_dim, **kw))
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's initialization: Xavier-uniform projections, zero biases (out_proj's weight
        keeps Linear's own initialization), Xavier-normal bias_k/bias_v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    # -- checks ----------------------------------------------------------------------------------

    def _error(self, message: str) -> RuntimeError:
        return RuntimeError(f"{_describe(self)}: {message}")

    def _check_inputs(self, query, key, value) -> bool:
        """Refuse inputs of the wrong rank or feature size; True when batched."""
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise TypeError(f"{_describe(self)}: expected {name} to be a Tensor, got {type(t).__name__}")
        layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
        if query.ndim not in (2, 3):
            raise self._error(
                f"expected a 3-D batched query {layout} or a 2-D unbatched one (L, E), got a query of "
                f"shape {tuple(query.shape)}"
            )
        if key.ndim != query.ndim or value.ndim != query.ndim:
            raise self._error(
                f"expected key and value of the query's rank ({query.ndim}), got shapes query "
                f"{tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}"
            )
        for name, t, size in (("query", query, self.embed_dim), ("key", key, self.kdim), ("value", value, self.vdim)):
            if t.shape[-1] != size:
                raise self._error(f"expected {name} with {size} features in its last dim, got shape {tuple(t.shape)}")
        if key.shape[:-1] != value.shape[:-1]:
            raise self._error(f"key of shape {tuple(key.shape)} does not match value of shape {tuple(value.shape)}")
        if query.ndim == 3:
            b = 0 if self.batch_first else 1
            if key.shape[b] != query.shape[b]:
                raise self._error(
                    f"query and key have different batch sizes, shapes {tuple(query.shape)} and {tuple(key.shape)}"
                )
        for t in (query, key, value):
            if not t.dtype.is_floating_point:
                raise TypeError(f"{_describe(self)}: expected floating point inputs, got {t.dtype}")
        return query.ndim == 3

    def _mask(self, mask, name: str, shapes, dtype):
        """A mask as a float tensor to add to the scores (bool True -> -inf, False -> 0), as
        PyTorch converts them; refuses other dtypes, and shapes not in ``shapes``."""
        if not isinstance(mask, Tensor):
            raise TypeError(f"{_describe(self)}: expected {name} to be a Tensor, got {type(mask).__name__}")
        if mask.dtype.name != "bool" and not mask.dtype.is_floating_point:
            raise TypeError(f"{_describe(self)}: {name} must be a bool or floating point tensor, got {mask.dtype}")
        if tuple(mask.shape) not in shapes:
            expected = " or ".join(str(s) for s in shapes)
            raise self._error(f"expected {name} of shape {expected}, got {tuple(mask.shape)}")
        if mask.dtype.name == "bool":
            # an op, not NumPy on the array: when the mask is a traced input (gg.onnx.export) the
            # conversion is recorded, so the exported graph reads the mask instead of baking it in
            xp = array_module(mask._data)
            hidden, shown = (Tensor._wrap(xp.asarray(v, dtype=dtype.numpy), False) for v in (-math.inf, 0.0))
            return where(mask, hidden, shown)
        return mask if mask.dtype == dtype else mask.to(dtype)

    # -- forward ---------------------------------------------------------------------------------

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        batched = self._check_inputs(query, key, value)
        if is_causal and attn_mask is None:
            raise self._error(
                "is_causal=True is a hint that attn_mask is causal and needs the attn_mask; make it with "
                "Transformer.generate_square_subsequent_mask(L)"
            )
        self_attention, shared_kv = query is key and key is value, key is value
        # internally batch first (N, L, E): the heads then split off the feature dim in place
        if not batched:
            query, key, value = (t.unsqueeze(0) for t in (query, key, value))
        elif not self.batch_first:
            query, key, value = (transpose(t, 0, 1) for t in (query, key, value))
        n, len_q, e = query.shape
        len_k = key.shape[1]
        q, k, v = self._project(query, key, value, self_attention, shared_kv)

        mask = self._merged_mask(attn_mask, key_padding_mask, n, len_q, len_k, batched, query.dtype)
        if self.bias_k is not None:  # one more key/value, learned, that every query sees
            k = cat([k, self.bias_k.expand(n, 1, e)], 1)
            v = cat([v, self.bias_v.expand(n, 1, e)], 1)
        h, d = self.num_heads, self.head_dim
        q, k, v = (transpose(reshape(t, (n, -1, h, d)), 1, 2) for t in (q, k, v))  # (N, H, T, d)
        if self.add_zero_attn:  # and one more of zeros
            zeros = Tensor._wrap(array_module(k._data).zeros((n, h, 1, d), dtype=k._data.dtype), False)
            k, v = cat([k, zeros], 2), cat([v, zeros], 2)
        extra = (self.bias_k is not None) + self.add_zero_attn
        if mask is not None and extra:
            mask = _pad_last(mask, extra)

        p = self.dropout if self.training else 0.0
        out, weights = attend(q, k, v, mask, p, safe=not need_weights)
        out = self.out_proj(reshape(transpose(out, 1, 2), (n, len_q, e)))
        if batched and not self.batch_first:
            out = transpose(out, 0, 1)
        if not batched:
            out = out.squeeze(0)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(1)
        return out, (weights if batched else weights.squeeze(0))

    def _project(self, query, key, value, self_attention: bool, shared_kv: bool):
        """q = W^q a, k = W^k a, v = W^v a with as few matmuls as the inputs allow: one for
        self-attention (the stacked weight), two when key is value."""
        e, b = self.embed_dim, self.in_proj_bias
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if self_attention:
                return unbind(reshape(linear(query, w, b), (*query.shape[:2], 3, e)), 2)
            bq, bkv = (None, None) if b is None else (b[:e], b[e:])
            q = linear(query, w[:e], bq)
            if shared_kv:
                return (q, *unbind(reshape(linear(key, w[e:], bkv), (*key.shape[:2], 2, e)), 2))
            wk, wv = w[e : 2 * e], w[2 * e :]
        else:
            wk, wv = self.k_proj_weight, self.v_proj_weight
            q = linear(query, self.q_proj_weight, None if b is None else b[:e])
        bk, bv = (None, None) if b is None else (b[e : 2 * e], b[2 * e :])
        return q, linear(key, wk, bk), linear(value, wv, bv)

    def _merged_mask(self, attn_mask, key_padding_mask, n, len_q, len_k, batched, dtype):
        """attn_mask and key_padding_mask as one additive float mask that broadcasts to
        (N, H, L, S), or None."""
        h = self.num_heads
        masks = []
        if attn_mask is not None:
            m = self._mask(attn_mask, "attn_mask", [(len_q, len_k), (n * h, len_q, len_k)], dtype)
            masks.append(m if m.ndim == 2 else reshape(m, (n, h, len_q, len_k)))
        if key_padding_mask is not None:
            shape = (n, len_k) if batched else (len_k,)
            m = self._mask(key_padding_mask, "key_padding_mask", [shape], dtype)
            masks.append(reshape(m, (n, 1, 1, len_k)))
        if not masks:
            return None
        return masks[0] if len(masks) == 1 else masks[0] + masks[1]


def _pad_last(mask, n: int):
    """The mask with ``n`` more keys that every query sees (zeros appended to the last dim)."""
    shape = (*mask.shape[:-1], n)
    zeros = Tensor._wrap(array_module(mask._data).zeros(shape, dtype=mask._data.dtype), False)
    return cat([mask, zeros], -1)


__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear"]
