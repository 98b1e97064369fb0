"""Sequence-to-sequence tools: vocabularies, tokenizers, teacher forcing and scheduled sampling.

Decoding (greedy, beam search, sampling) lives in :mod:`glassgrad.decoding`, and BLEU in
:mod:`glassgrad.metrics`.
"""

from glassgrad.seq2seq.scheduled_sampling import (
    ExponentialDecay,
    InverseSigmoidDecay,
    LinearDecay,
    SamplingSchedule,
    scheduled_sampling,
    scheduled_sampling_step,
    teacher_forcing,
)
from glassgrad.seq2seq.tokenizers import CharTokenizer, WordTokenizer
from glassgrad.seq2seq.vocab import Vocab

__all__ = [
    "CharTokenizer",
    "ExponentialDecay",
    "InverseSigmoidDecay",
    "LinearDecay",
    "SamplingSchedule",
    "Vocab",
    "WordTokenizer",
    "scheduled_sampling",
    "scheduled_sampling_step",
    "teacher_forcing",
]
