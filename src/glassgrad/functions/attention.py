"""Attention: every query position takes a weighted average of the value vectors, with weights
from how well the query matches each key.

    out = softmax(q k^T * scale + mask) v,    scale = 1 / sqrt(d) by default

composed of differentiable ops (matmul, softmax, masked_fill, dropout), so gradients of any order
come for free. All leading dims (batch, heads) go through ONE batched matmul each way: no Python
loop over heads or batch items.
"""

from __future__ import annotations

import math

import numpy as np

from glassgrad._backend import array_module
from glassgrad._tensor import Tensor
from glassgrad.functions._operands import constant
from glassgrad.functions.activation import softmax
from glassgrad.functions.array import masked_fill, transpose
from glassgrad.functions.connection import matmul
from glassgrad.functions.noise import _check_p, dropout


def causal_mask(len_q: int, len_k: int, xp=np) -> np.ndarray:
    """The bool mask of causal attention, True where query i may attend key j (j <= i): the
    lower triangle of an (L, S) matrix, aligned top-left as in PyTorch."""
    return xp.tril(xp.ones((len_q, len_k), dtype=bool))


def attend(query, key, value, mask=None, dropout_p: float = 0.0, scale: float | None = None,
           safe: bool = True):
    """``(softmax(query key^T * scale + mask) value, weights)`` over the last two dims.

    ``mask`` is None, a bool array (True: this key is *hidden*) or a float tensor added to
    the scores; it broadcasts against (..., L, S). With ``safe``, a query row whose every score is
    -inf (all keys hidden) gets zero weights instead of softmax's 0/0 = NaN, as PyTorch's
    scaled_dot_product_attention; without it the NaN is kept (as MultiheadAttention with
    need_weights=True in PyTorch)."""
    s = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    # scale q (L x E numbers) rather than the scores (L x S): fewer multiplications when S > E
    scores = matmul(query * s, transpose(key, -2, -1))
    if mask is not None:
        if not isinstance(mask, Tensor):  # a bool array, True = hidden
            scores = masked_fill(scores, constant(mask), -math.inf)
        else:  # a float tensor (may require grad)
            scores = scores + mask
    full = None
    if mask is not None and safe:
        xp = array_module(scores._data)
        full = xp.isneginf(scores._data).all(axis=-1, keepdims=True)
        if full.any():
            # softmax of a row of -inf is 0/0; give it finite scores, and zero its weights after
            full = constant(full)
            scores = masked_fill(scores, full, 0.0)
        else:
            full = None
    with np.errstate(invalid="ignore"):  # an unsafe all -inf row is NaN on purpose, quietly as torch
        weights = softmax(scores, -1)
    if full is not None:
        weights = masked_fill(weights, full, 0.0)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return matmul(weights, value), weights


def _check_operands(query, key, value) -> None:
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(t).__name__}")
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(
            f"{op}: expected query, key and value with at least 2 dims (..., L or S, E), got shapes "
            f"{tuple(query.shape)}, {tuple(key.shape)} and {tuple(value.shape)}"
        )
    if not (query.dtype == key.dtype == value.dtype) or not query.dtype.is_floating_point:
        raise TypeError(
            f"{op}: expected query, key and value of one floating point dtype, got {query.dtype}, "
            f"{key.dtype} and {value.dtype}"
        )
    if key.shape[-1] != query.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"{op}: expected query (..., L, E), key (..., S, E) and value (..., S, Ev), got shapes "
            f"{tuple(query.shape)}, {tuple(key.shape)} and {tuple(value.shape)}"
        )


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False):
    """softmax(query key^T * scale + mask) value, as ``torch.nn.functional.scaled_dot_product_attention``.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); the leading dims
    broadcast. ``attn_mask`` broadcasts to (..., L, S): a bool mask says which keys each query
    may attend (True = take part), a float mask is added to the scores. ``is_causal`` lets query
    i attend keys 0..i only (with no ``attn_mask``). ``dropout_p`` drops attention weights (always,
    as PyTorch's function; pass 0 in evaluation). ``scale`` defaults to 1 / sqrt(E). A query that
    may attend no key at all gets a zero output (PyTorch's result)."""
    _check_operands(query, key, value)
    _check_p(dropout_p)
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa is not implemented")
    len_q, len_k = query.shape[-2], key.shape[-2]
    mask = None
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("scaled_dot_product_attention: give either attn_mask or is_causal=True, not both")
        mask = ~causal_mask(len_q, len_k, array_module(query._data))
    elif attn_mask is not None:
        if attn_mask.dtype.name == "bool":
            mask = ~attn_mask._data  # our convention is True = hidden
        elif attn_mask.dtype != query.dtype:
            raise TypeError(
                f"scaled_dot_product_attention: expected attn_mask of dtype bool or {query.dtype} (the "
                f"query's), got {attn_mask.dtype}"
            )
        else:
            mask = attn_mask
        try:
            np.broadcast_shapes(tuple(attn_mask.shape), tuple(query.shape[:-2]) + (len_q, len_k))
        except ValueError:
            raise RuntimeError(
                f"scaled_dot_product_attention: attn_mask of shape {tuple(attn_mask.shape)} does not "
                f"broadcast to the scores' shape {(*query.shape[:-2], len_q, len_k)} (..., L, S)"
            ) from None
    return attend(query, key, value, mask, dropout_p, scale)[0]
