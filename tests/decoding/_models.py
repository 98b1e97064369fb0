"""Hand-made models for the decoding tests: every prefix has a next-token distribution drawn
once from a seeded generator, so the exact probability of any sequence is known."""

from __future__ import annotations

import numpy as np

import glassgrad as gg
from glassgrad.decoding import length_penalty

BOS = 0


class TableModel:
    """``log P(next | prefix)`` fixed by hand (a table drawn from ``seed``), for ``vocab`` tokens.
    ``sharpness`` scales the random logits: large values make one token dominate."""

    def __init__(self, seed: int, vocab: int, sharpness: float = 2.0, source: int = 0):
        self.seed, self.vocab, self.sharpness, self.source = seed, vocab, sharpness, source
        self.calls: list[int] = []  # rows per call, to see finished rows leave the batch

    def log_probs(self, prefix, source: int | None = None) -> np.ndarray:
        src = self.source if source is None else source
        logits = np.random.default_rng([self.seed, src, *prefix]).normal(size=self.vocab) * self.sharpness
        return logits - np.log(np.exp(logits).sum())

    def step(self, prefixes, state):
        """Stateless (a Transformer reads the whole prefix); the state, if any, names each row's source."""
        self.calls.append(prefixes.shape[0])
        sources = [self.source] * prefixes.shape[0] if state is None else state.tolist()
        rows = [self.log_probs(p, s) for p, s in zip(prefixes.tolist(), sources)]
        return gg.tensor(np.stack(rows)), state

    def sequence_log_prob(self, tokens, source: int | None = None) -> float:
        prefix = [BOS]
        total = 0.0
        for t in tokens:
            total += self.log_probs(prefix, source)[t]
            prefix.append(t)
        return total


def brute_force(model: TableModel, eos: int, max_len: int, alpha: float = 0.0, kind: str = "gnmt"):
    """Every sequence beam search may return (ending in eos, or stopped at max_len), with its
    log-probability and score, best first."""
    out = []

    def extend(seq, lp):
        if len(seq) == max_len:
            out.append((seq, lp, False))
            return
        nxt = model.log_probs([BOS, *seq])
        for tok in range(model.vocab):
            if tok == eos:
                out.append(([*seq, eos], lp + nxt[eos], True))
            else:
                extend([*seq, tok], lp + nxt[tok])

    extend([], 0.0)
    scored = [(lp / length_penalty(len(s), alpha, kind), s, lp, fin) for s, lp, fin in out]
    return sorted(scored, key=lambda x: -x[0])
