"""Metrics for generated outputs. BLEU (machine translation) is computed by sacrebleu, the
reference implementation that papers report, so scores are comparable with published ones."""

from glassgrad.metrics.bleu import corpus_bleu, sentence_bleu

__all__ = ["corpus_bleu", "sentence_bleu"]
