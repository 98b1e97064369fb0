"""Greedy decoding and sampling: one token per step for each sequence of a batch, the most
likely one (greedy) or one drawn from the model's distribution (sampling), until ``<eos>``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassgrad._random import Generator, _generator_of
from glassgrad._tensor import Tensor, tensor
from glassgrad.decoding._step import Hypothesis, ReorderFn, StepFn, _Stepper, check_common


def greedy_search(
    step: StepFn,
    bos_id: int,
    eos_id: int,
    max_len: int,
    batch_size: int = 1,
    state: Any = None,
    reorder_state: ReorderFn | None = None,
) -> list[Hypothesis]:
    """Decode ``batch_size`` sequences by taking the most likely next token at every step
    (the first one on a tie), each until it writes ``eos_id`` or has ``max_len`` tokens.

    ``step`` and ``state`` follow the protocol of :mod:`glassgrad.decoding` (state rows = batch
    items). Returns one :class:`Hypothesis` per batch item. Greedy decoding is beam search with a
    beam of 1: fast, but a likely token now may lead to an unlikely sequence.
    """
    return _decode(
        step, lambda lp: lp.argmax(axis=1), bos_id, eos_id, max_len, batch_size, state, reorder_state, "greedy_search"
    )


def sample(
    step: StepFn,
    bos_id: int,
    eos_id: int,
    max_len: int,
    batch_size: int = 1,
    state: Any = None,
    reorder_state: ReorderFn | None = None,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: Generator | None = None,
) -> list[Hypothesis]:
    """Decode ``batch_size`` sequences by drawing each next token from the model's distribution,
    reshaped by ``temperature``, ``top_k`` and ``top_p`` (see :func:`sampling_probs`), with
    glassgrad's random generator (so ``gg.manual_seed`` makes it reproducible). ``log_prob`` of
    each result is the model's own (untempered, untruncated) log-probability of it."""
    _check_sampling(temperature, top_k, top_p)
    rng = _generator_of(generator)

    def choose(log_probs: np.ndarray) -> np.ndarray:
        probs = _sampling_probs(log_probs, temperature, top_k, top_p)
        # inverse CDF: the first token whose cumulative probability exceeds u ~ U[0, 1)
        cdf = np.cumsum(probs, axis=1)
        u = rng.random((probs.shape[0], 1), np.float64) * cdf[:, -1:]
        return np.minimum((cdf <= u).sum(axis=1), probs.shape[1] - 1)

    return _decode(step, choose, bos_id, eos_id, max_len, batch_size, state, reorder_state, "sample")


def sampling_probs(
    scores: Tensor, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None
) -> Tensor:
    """The distribution that :func:`sample` draws the next token from, given scores (..., vocab)
    (logits or log-probabilities), in three steps:

    - temperature: ``softmax(scores / T)``; T < 1 sharpens the distribution, T > 1 flattens it;
    - top-k: keep the ``k`` most likely tokens (ties broken towards the lower id), zero the rest;
    - top-p (nucleus, Holtzman et al. 2020): keep the fewest most likely tokens whose
      probabilities sum to at least ``p`` (always at least one);

    then renormalize to sum 1.
    """
    _check_sampling(temperature, top_k, top_p)
    if not isinstance(scores, Tensor) or not scores.is_floating_point() or scores.ndim < 1:
        raise TypeError(f"sampling_probs: scores must be a float tensor (..., vocab), got {scores!r}")
    a = scores.detach().cpu().numpy()
    flat = a.reshape(-1, a.shape[-1]).astype(np.float64)
    probs = _sampling_probs(flat - flat.max(axis=1, keepdims=True), temperature, top_k, top_p)
    return tensor(probs.reshape(a.shape).astype(a.dtype), device=scores.device)


def _sampling_probs(log_probs: np.ndarray, temperature: float, top_k: int | None, top_p: float | None) -> np.ndarray:
    """Rows of ``log_probs`` (shifted so the max is 0 or below) to rows of sampling probabilities."""
    z = log_probs / temperature
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    if top_k is None and top_p is None:
        return p
    # tokens from the most likely down; a stable sort keeps the lower id first on ties, as argmax does
    order = np.argsort(-p, axis=1, kind="stable")
    sorted_p = np.take_along_axis(p, order, axis=1)
    keep = np.ones_like(sorted_p, dtype=bool)
    if top_k is not None:
        keep[:, top_k:] = False
    if top_p is not None:
        sorted_p = np.where(keep, sorted_p, 0.0)
        sorted_p /= sorted_p.sum(axis=1, keepdims=True)
        # keep a token if the tokens before it sum to less than p: the smallest set reaching p
        before = np.cumsum(sorted_p, axis=1) - sorted_p
        keep &= before < top_p
    out = np.zeros_like(p)
    np.put_along_axis(out, order, np.where(keep, np.take_along_axis(p, order, axis=1), 0.0), axis=1)
    return out / out.sum(axis=1, keepdims=True)


def _check_sampling(temperature: float, top_k: int | None, top_p: float | None) -> None:
    if not temperature > 0:
        raise ValueError(f"sample: temperature must be positive, got {temperature} (for T -> 0, use greedy_search)")
    if top_k is not None and (not isinstance(top_k, (int, np.integer)) or top_k < 1):
        raise ValueError(f"sample: top_k must be a positive integer or None, got {top_k!r}")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise ValueError(f"sample: top_p must be in (0, 1] or None, got {top_p!r}")


def _decode(
    step: StepFn,
    choose: Callable[[np.ndarray], np.ndarray],
    bos_id: int,
    eos_id: int,
    max_len: int,
    batch_size: int,
    state: Any,
    reorder: ReorderFn | None,
    who: str,
) -> list[Hypothesis]:
    """The loop shared by greedy search and sampling: one token per live row per step; a row
    that writes ``<eos>`` is finished and dropped from the batch (with its state rows)."""
    check_common(bos_id, eos_id, max_len, who)
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"{who}: batch_size must be a positive integer, got {batch_size!r}")
    stepper = _Stepper(step, state, reorder, eos_id, who)
    items = np.arange(batch_size)  # the batch item of each live row
    prefixes = np.full((batch_size, 1), bos_id, dtype=np.int64)
    results = [Hypothesis([], 0.0, 0.0, False) for _ in range(batch_size)]
    for _ in range(max_len):
        log_probs = stepper(prefixes)
        chosen = choose(log_probs)
        gained = log_probs[np.arange(len(chosen)), chosen]
        for item, token, lp in zip(items, chosen.tolist(), gained.tolist()):
            hyp = results[item]
            hyp.tokens.append(token)
            hyp.log_prob += lp
            hyp.finished = token == eos_id
        live = chosen != eos_id
        if not live.any():
            break
        if not live.all():
            keep = np.flatnonzero(live)
            stepper.keep_rows(keep)
            items, prefixes, chosen = items[keep], prefixes[keep], chosen[keep]
        prefixes = np.concatenate([prefixes, chosen[:, None]], axis=1)
    for hyp in results:
        hyp.score = hyp.log_prob
    return results
