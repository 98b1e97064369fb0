"""Beam search: keep the ``beam_size`` most likely partial sequences at every step instead of
one, so a token that looks worse now can still win later."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.decoding._step import Hypothesis, ReorderFn, StepFn, _Stepper, check_common


def length_penalty(length: int, alpha: float, kind: str = "gnmt") -> float:
    """The divisor of a hypothesis' log-probability for ranking, for ``length`` generated tokens
    (``<eos>`` counted, ``<bos>`` not):

    - ``"gnmt"`` (Wu et al. 2016, Google's NMT): ``lp(Y) = ((5 + |Y|) / 6) ** alpha``;
    - ``"power"``: ``lp(Y) = |Y| ** alpha`` (``alpha = 1`` ranks by the mean log-probability per token).

    A log-probability only falls as tokens are added, so plain ``log P(Y)`` favours short outputs;
    dividing by a penalty that grows with the length (``alpha > 0``, GNMT uses 0.6 to 0.7)
    offsets that. ``alpha = 0`` gives 1: no penalty.
    """
    if kind == "gnmt":
        return ((5.0 + length) / 6.0) ** alpha
    if kind == "power":
        return float(length) ** alpha
    raise ValueError(f"length_penalty: kind must be 'gnmt' or 'power', got {kind!r}")


def beam_search(
    step: StepFn,
    bos_id: int,
    eos_id: int,
    max_len: int,
    beam_size: int = 4,
    n_best: int = 1,
    alpha: float = 0.0,
    penalty: str = "gnmt",
    state: Any = None,
    reorder_state: ReorderFn | None = None,
) -> list[Hypothesis]:
    """The ``n_best`` (at most ``beam_size``) best sequences found for one input, best first, each ranked by
    ``score = log P(Y) / length_penalty(|Y|, alpha, penalty)``.

    At every step each live hypothesis is extended by every token, and the candidates are ranked
    by log-probability (ties: earlier hypothesis, then lower token id). Those ending in ``eos_id``
    among the ``beam_size`` best are finished; the ``beam_size`` best of the others stay live.
    The search stops at ``max_len`` tokens (live hypotheses are then returned unfinished), when
    none is live, or as soon as no live hypothesis can beat the ``n_best``-th finished one: its
    log-probability can only fall, so its best possible score is its log-probability divided by
    the largest penalty it could still reach.

    ``step`` and ``state`` follow the protocol of :mod:`glassgrad.decoding`; ``state`` holds one
    row (the input), and the step is called with one row per live hypothesis (at most
    ``beam_size``). With ``beam_size=1`` and ``alpha=0`` this is greedy decoding.
    """
    who = "beam_search"
    check_common(bos_id, eos_id, max_len, who)
    if not isinstance(beam_size, (int, np.integer)) or beam_size < 1:
        raise ValueError(f"{who}: beam_size must be a positive integer, got {beam_size!r}")
    if not isinstance(n_best, (int, np.integer)) or not 1 <= n_best <= beam_size:
        raise ValueError(f"{who}: n_best must be between 1 and beam_size={beam_size}, got {n_best!r}")
    length_penalty(1, alpha, penalty)  # checks the kind

    def score(log_prob: float, length: int) -> float:
        return log_prob / length_penalty(length, alpha, penalty)

    stepper = _Stepper(step, state, reorder_state, eos_id, who)
    tokens = np.zeros((1, 0), dtype=np.int64)  # generated tokens of each live hypothesis
    log_probs = np.zeros(1)
    finished: list[Hypothesis] = []
    for t in range(1, max_len + 1):
        prefixes = np.concatenate([np.full((len(tokens), 1), bos_id, dtype=np.int64), tokens], axis=1)
        candidates = (log_probs[:, None] + stepper(prefixes)).ravel()
        vocab = stepper.vocab_size
        # best first; the stable sort breaks ties by (hypothesis, token) order; -inf is impossible
        order = np.argsort(-candidates, kind="stable")
        order = order[np.isfinite(candidates[order])]
        is_eos = order % vocab == eos_id
        for i in order[:beam_size][is_eos[:beam_size]]:
            seq = tokens[i // vocab].tolist() + [eos_id]
            finished.append(Hypothesis(seq, float(candidates[i]), score(float(candidates[i]), t), True))
        kept = order[~is_eos][:beam_size]
        parents = kept // vocab
        tokens = np.concatenate([tokens[parents], (kept % vocab)[:, None]], axis=1)
        log_probs = candidates[kept]
        if len(kept) == 0 or t == max_len:
            break
        if len(finished) >= n_best:
            nth_best = sorted((h.score for h in finished), reverse=True)[n_best - 1]
            # the penalty is monotone in the length, so its largest future value is at an end
            largest = max(length_penalty(t + 1, alpha, penalty), length_penalty(max_len, alpha, penalty))
            if log_probs.max() / largest <= nth_best:
                tokens = tokens[:0]
                break
        stepper.keep_rows(parents)
    unfinished = [
        Hypothesis(seq, float(lp), score(float(lp), len(seq)), False) for seq, lp in zip(tokens.tolist(), log_probs)
    ]
    # sorted() is stable: on equal scores, finished hypotheses (and earlier ones) come first
    return sorted(finished + unfinished, key=lambda h: -h.score)[:n_best]
