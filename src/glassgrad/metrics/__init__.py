"""Metrics for generated outputs.

BLEU (machine translation) is computed by sacrebleu, the reference implementation that papers
report, so scores are comparable with published ones. The generative-model metrics
(:mod:`glassgrad.metrics.generative`) judge samples by their feature statistics (the Fréchet
distance), by a classifier's predictions (confidence, Inception-score-style score, class entropy)
and, for mixtures of Gaussians, by the modes they cover.
"""

from glassgrad.metrics.bleu import corpus_bleu, sentence_bleu
from glassgrad.metrics.generative import (
    class_entropy,
    feature_statistics,
    frechet_distance,
    frechet_distance_from_features,
    high_quality_fraction,
    inception_score,
    mean_max_softmax,
    mode_counts,
    modes_covered,
)

__all__ = [
    "class_entropy",
    "corpus_bleu",
    "feature_statistics",
    "frechet_distance",
    "frechet_distance_from_features",
    "high_quality_fraction",
    "inception_score",
    "mean_max_softmax",
    "mode_counts",
    "modes_covered",
    "sentence_bleu",
]
