"""Metrics for generative models: how good and how varied are the samples?

- **Fréchet distance** (FID-style): fit a Gaussian to the features of real and of generated
  samples and take the Fréchet (2-Wasserstein) distance between the two Gaussians,
  ``||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))``. It falls when the generated features
  match the real ones in mean and in spread, so it catches both bad samples and missing variety.
  FID proper uses Inception-v3 features; here the features come from a classifier of ours.
- **Classifier-based quality and diversity**, from a classifier's class probabilities
  ``p(y|x)`` on generated samples: the mean max-softmax (confident predictions mean recognizable
  samples), an Inception-score-style ``exp(E_x[KL(p(y|x) || p(y))])`` (high when each sample is
  confidently one class and the classes are evenly used), and the entropy of the predicted class
  histogram (``log K`` when all ``K`` classes are predicted equally often).
- **Mixtures of Gaussians** (the toy GAN benchmark, e.g. 8 Gaussians on a ring): how many modes
  receive samples (mode dropping / collapse), and what fraction of samples lies near a mode
  (sample quality).

Every function takes NumPy arrays or Tensors (detached and read as float64) and returns Python
numbers. Entropies and KL divergences use the natural log.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.linalg
from scipy.special import xlogy

from glassgrad._tensor import Tensor


def _array(x, name: str, ndim: int | None = None) -> np.ndarray:
    """``x`` (array, Tensor or nested lists) as a float64 NumPy array of ``ndim`` dims."""
    if isinstance(x, Tensor):
        x = x.detach().cpu()._data
    a = np.asarray(x, dtype=np.float64)
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {a.shape}")
    return a


# -- Fréchet distance ---------------------------------------------------------------------------


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
    """The Fréchet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2):
    ``||mu1 - mu2||^2 + tr(sigma1) + tr(sigma2) - 2 tr((sigma1 sigma2)^(1/2))``.

    ``mu1``, ``mu2`` are D-vectors, ``sigma1``, ``sigma2`` D x D covariance matrices. ``eps`` is
    the ridge added to both covariances when the product is too singular for a reliable square
    root (see below). The result is >= 0 up to rounding (identical inputs give about 0).
    """
    mu1, mu2 = _array(mu1, "frechet_distance: mu1", 1), _array(mu2, "frechet_distance: mu2", 1)
    s1 = _array(sigma1, "frechet_distance: sigma1", 2)
    s2 = _array(sigma2, "frechet_distance: sigma2", 2)
    d = mu1.shape[0]
    for name, shape in (("mu2", mu2.shape), ("sigma1", s1.shape), ("sigma2", s2.shape)):
        expected = (d,) if name == "mu2" else (d, d)
        if shape != expected:
            raise ValueError(
                f"frechet_distance: mu1 has {d} features, so {name} should have shape {expected}, "
                f"got {shape}"
            )
    covmean = _sqrtm_of_product(s1, s2, eps)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))


def _sqrtm_of_product(s1: np.ndarray, s2: np.ndarray, eps: float) -> np.ndarray:
    """``(s1 s2)^(1/2)``, real.

    ``s1 s2`` is not symmetric, but as a product of two positive semi-definite matrices it is
    similar to the PSD matrix ``s1^(1/2) s2 s1^(1/2)``, so its eigenvalues are real and >= 0 and
    its principal square root exists and is real. Numerically two things go wrong:

    - scipy's ``sqrtm`` works through a complex Schur form, and rounding leaves small imaginary
      parts in the result: they are noise and are dropped (an imaginary part that is not small
      means the inputs were not covariance matrices, and is an error);
    - when the product is singular (fewer samples than features, or features that are constant
      or linearly dependent), eigenvalues at zero make the square root ill-conditioned and
      ``sqrtm`` may return inf/NaN or a matrix that does not square back to the product. Then
      ``eps * I`` is added to both covariances (a tiny ridge that makes them positive definite,
      changing the distance by about ``eps`` per feature) and the root is taken again.
    """
    product = s1 @ s2
    with warnings.catch_warnings():  # "matrix is singular": handled below
        warnings.simplefilter("ignore", RuntimeWarning)
        covmean = scipy.linalg.sqrtm(product)
    if not _is_root(covmean, product):
        ridge = eps * np.eye(s1.shape[0])
        product = (s1 + ridge) @ (s2 + ridge)
        covmean = scipy.linalg.sqrtm(product)
    if np.iscomplexobj(covmean):
        imag = np.abs(np.diagonal(covmean).imag).max(initial=0.0)
        if imag > 1e-3 * max(1.0, np.abs(np.diagonal(covmean).real).max(initial=0.0)):
            raise ValueError(
                f"frechet_distance: the square root of sigma1 @ sigma2 has an imaginary part of "
                f"{imag:.3g}; are sigma1 and sigma2 symmetric positive semi-definite covariances?"
            )
        covmean = covmean.real
    return covmean


def _is_root(root: np.ndarray, a: np.ndarray) -> bool:
    """Whether ``root @ root`` is finite and equals ``a`` to a relative 1e-6."""
    if not np.all(np.isfinite(root)):
        return False
    return bool(np.linalg.norm(root @ root - a) <= 1e-6 * max(np.linalg.norm(a), 1e-300))


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """The mean (D,) and the unbiased covariance (D, D) of ``features`` (N x D, N >= 2): the
    Gaussian fitted to a sample set for :func:`frechet_distance`."""
    f = _array(features, "feature_statistics: features", 2)
    if f.shape[0] < 2:
        raise ValueError(f"feature_statistics: need at least 2 samples for a covariance, got {f.shape[0]}")
    return f.mean(axis=0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def frechet_distance_from_features(features1, features2, eps: float = 1e-6) -> float:
    """The Fréchet distance between the Gaussians fitted to two sample sets of features
    (N1 x D and N2 x D; for FID, real and generated samples through the same network)."""
    f1 = _array(features1, "frechet_distance_from_features: features1", 2)
    f2 = _array(features2, "frechet_distance_from_features: features2", 2)
    if f1.shape[1] != f2.shape[1]:
        raise ValueError(
            f"frechet_distance_from_features: the two sets have {f1.shape[1]} and {f2.shape[1]} "
            "features; they must have the same number"
        )
    return frechet_distance(*feature_statistics(f1), *feature_statistics(f2), eps=eps)


# -- classifier-based quality and diversity -----------------------------------------------------


def _probabilities(probs, name: str) -> np.ndarray:
    """``probs`` checked to be N x K class probabilities (rows >= 0 summing to 1)."""
    p = _array(probs, f"{name}: probs", 2)
    if p.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError(f"{name}: expected N x K probabilities with N, K >= 1, got shape {p.shape}")
    sums = p.sum(axis=1)
    if (p < 0).any() or not np.allclose(sums, 1.0, rtol=0, atol=1e-4):
        worst = int(np.argmax(np.abs(sums - 1.0)))
        raise ValueError(
            f"{name}: expected class probabilities (rows >= 0 summing to 1), got row {worst} summing "
            f"to {sums[worst]:.6g} (min entry {p.min():.3g}); pass softmax(logits, dim=1), not logits"
        )
    return p


def mean_max_softmax(probs) -> float:
    """The mean over samples of the largest class probability, ``E_x[max_y p(y|x)]``: near 1 when
    the classifier confidently recognizes every sample, ``1/K`` at worst. ``probs`` is N x K."""
    return float(_probabilities(probs, "mean_max_softmax").max(axis=1).mean())


def inception_score(probs) -> float:
    """``exp(E_x[KL(p(y|x) || p(y))])``, with ``p(y)`` the mean of the rows of ``probs`` (N x K).

    The KL term is large when each prediction is confident (low-entropy ``p(y|x)``) and the
    predictions differ between samples (high-entropy ``p(y)``); the score ranges from 1 (every
    sample gets the same prediction) to ``K`` (one-hot predictions spread evenly over the K
    classes). It equals ``exp(H(p(y)) - E_x[H(p(y|x))])``. Computed on the whole set (no splits).
    """
    p = _probabilities(probs, "inception_score")
    marginal = p.mean(axis=0)
    # xlogy: 0 log 0 = 0, so one-hot rows are fine; where p > 0 the marginal is > 0 too
    kl = (xlogy(p, p) - xlogy(p, marginal)).sum(axis=1)
    return float(np.exp(kl.mean()))


def class_entropy(predictions, num_classes: int | None = None) -> float:
    """The entropy (natural log, nats) of the histogram of predicted classes: ``log K`` when all
    ``K`` classes are predicted equally often, 0 when all samples get one class.

    ``predictions`` is N x K class probabilities (each sample counts for its argmax class), or N
    integer labels with ``num_classes`` given. Divide by ``log K`` for a value in [0, 1].
    """
    if isinstance(predictions, Tensor):
        predictions = predictions.detach().cpu()._data
    a = np.asarray(predictions)
    if a.ndim == 2:
        labels = _probabilities(a, "class_entropy").argmax(axis=1)
        k = a.shape[1]
        if num_classes is not None and num_classes != k:
            raise ValueError(f"class_entropy: num_classes={num_classes} but the probabilities have {k} columns")
    elif a.ndim == 1:
        if num_classes is None:
            raise ValueError("class_entropy: with 1-D labels, num_classes is needed")
        if a.size == 0 or a.dtype.kind not in "iu" or a.min() < 0 or a.max() >= num_classes:
            raise ValueError(
                f"class_entropy: expected N >= 1 integer labels in [0, {num_classes}), got "
                f"{a.size} values of dtype {a.dtype}" + (f" in [{a.min()}, {a.max()}]" if a.size else "")
            )
        labels, k = a, num_classes
    else:
        raise ValueError(
            f"class_entropy: expected N x K probabilities or N labels, got shape {a.shape}"
        )
    freq = np.bincount(labels, minlength=k) / labels.size
    return float(-xlogy(freq, freq).sum())


# -- mixtures of Gaussians ----------------------------------------------------------------------


def _nearest_mode(samples, modes, std, k: float, name: str):
    """Each sample's nearest mode and whether it lies within ``k`` standard deviations of it."""
    x = _array(samples, f"{name}: samples", 2)
    m = _array(modes, f"{name}: modes", 2)
    if x.shape[1] != m.shape[1]:
        raise ValueError(
            f"{name}: samples are {x.shape[1]}-D but modes are {m.shape[1]}-D; they must match"
        )
    if m.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one mode, got shape {m.shape}")
    s = _array(std, f"{name}: std")
    if s.ndim > 1 or (s.ndim == 1 and s.shape[0] != m.shape[0]) or (s <= 0).any():
        raise ValueError(
            f"{name}: std must be one positive number or one per mode ({m.shape[0]}), got {s!r}"
        )
    if k <= 0:
        raise ValueError(f"{name}: k must be positive, got {k}")
    dist = np.linalg.norm(x[:, None, :] - m[None, :, :], axis=2)  # N x M
    nearest = dist.argmin(axis=1)
    radius = k * np.broadcast_to(s, (m.shape[0],))
    close = dist[np.arange(x.shape[0]), nearest] <= radius[nearest]
    return nearest, close, m.shape[0]


def mode_counts(samples, modes, std, k: float = 3.0) -> np.ndarray:
    """How many samples each mode holds: samples (N x D) whose nearest mode (``modes``, M x D) is
    within ``k`` standard deviations (``std``: one number, or one per mode), by Euclidean
    distance. Returns M integers; samples far from every mode count for none."""
    nearest, close, n_modes = _nearest_mode(samples, modes, std, k, "mode_counts")
    return np.bincount(nearest[close], minlength=n_modes)


def modes_covered(samples, modes, std, k: float = 3.0, min_count: int | None = None,
                  min_fraction: float | None = None) -> int:
    """The number of modes that receive samples: a mode counts when at least ``min_count``
    samples, or at least ``min_fraction`` of all samples, lie within ``k`` std of it (and nearer
    to it than to any other mode, see :func:`mode_counts`). Give at most one of the two; with
    neither, a mode needs 1% of the samples (so a few stray samples do not count as coverage).
    A GAN that collapses or drops modes covers fewer than M."""
    if min_count is not None and min_fraction is not None:
        raise ValueError("modes_covered: give min_count or min_fraction, not both")
    counts = mode_counts(samples, modes, std, k)
    n = _array(samples, "modes_covered: samples").shape[0]
    if min_count is None:
        fraction = 0.01 if min_fraction is None else min_fraction
        if not 0 < fraction <= 1:
            raise ValueError(f"modes_covered: min_fraction must be in (0, 1], got {fraction}")
        min_count = max(1, math.ceil(fraction * n))
    elif min_count < 1:
        raise ValueError(f"modes_covered: min_count must be at least 1, got {min_count}")
    return int((counts >= min_count).sum())


def high_quality_fraction(samples, modes, std, k: float = 3.0) -> float:
    """The fraction of samples within ``k`` standard deviations of their nearest mode: the
    samples that look like they came from the mixture (the rest fall between modes)."""
    _, close, _ = _nearest_mode(samples, modes, std, k, "high_quality_fraction")
    if close.size == 0:
        raise ValueError("high_quality_fraction: expected at least one sample, got none")
    return float(close.mean())
