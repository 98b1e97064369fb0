"""Decoding a sequence model: greedy search, beam search and sampling, all driven by a step
function ``step(prefixes, state) -> (scores, state)`` (the protocol is documented in
:mod:`glassgrad.decoding._step` and in docs/decoding.md)."""

from glassgrad.decoding._step import Hypothesis, reorder_state
from glassgrad.decoding.beam import beam_search, length_penalty
from glassgrad.decoding.greedy import greedy_search, sample, sampling_probs

__all__ = [
    "Hypothesis",
    "beam_search",
    "greedy_search",
    "length_penalty",
    "reorder_state",
    "sample",
    "sampling_probs",
]
