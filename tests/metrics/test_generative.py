"""Generative metrics against closed forms and hand-made sample sets."""

import math

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.metrics import (
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


def _spd(rng, d, rank=None):
    a = rng.standard_normal((d, rank or d))
    return a @ a.T + (0 if rank else 0.1 * np.eye(d))


def _fd_by_eigenvalues(mu1, s1, mu2, s2):
    """The closed form with tr((S1 S2)^(1/2)) taken another way: S1 S2 is similar to the
    symmetric S1^(1/2) S2 S1^(1/2), whose eigenvalues (from eigh) are those of S1 S2."""
    w, q = np.linalg.eigh(s1)
    root1 = q @ np.diag(np.sqrt(np.clip(w, 0, None))) @ q.T
    lam = np.linalg.eigvalsh(root1 @ s2 @ root1)
    tr_sqrt = np.sqrt(np.clip(lam, 0, None)).sum()
    return float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)


# -- Fréchet distance ---------------------------------------------------------------------------


@pytest.mark.parametrize("d", [1, 3, 8])
def test_frechet_distance_general_gaussians(d):
    rng = np.random.default_rng(d)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    s1, s2 = _spd(rng, d), _spd(rng, d)
    expected = _fd_by_eigenvalues(mu1, s1, mu2, s2)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-9)
    # symmetric in the two distributions
    assert frechet_distance(mu2, s2, mu1, s1) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_diagonal_and_commuting_covariances():
    """When S1 and S2 commute (share eigenvectors), (S1 S2)^(1/2) has eigenvalues sqrt(a_i b_i)
    and the distance is ||mu1 - mu2||^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2."""
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.1, 3.0, 5), rng.uniform(0.1, 3.0, 5)
    mu1, mu2 = rng.standard_normal(5), rng.standard_normal(5)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-10)
    q, _ = np.linalg.qr(rng.standard_normal((5, 5)))  # a rotation: S1, S2 commute, not diagonal
    s1, s2 = q @ np.diag(a) @ q.T, q @ np.diag(b) @ q.T
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2 with s the standard deviations
    assert frechet_distance([1.0], [[4.0]], [-2.0], [[9.0]]) == pytest.approx(9.0 + 1.0)


def test_frechet_distance_singular_covariances():
    """Fewer samples than features: singular covariances, still the closed form (the ridge, if
    used, changes the result by about eps per feature)."""
    rng = np.random.default_rng(1)
    d = 10
    s1, s2 = _spd(rng, d, rank=3), _spd(rng, d, rank=4)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    expected = _fd_by_eigenvalues(mu1, s1, mu2, s2)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-4, abs=1e-4)
    zero = np.zeros((d, d))  # two point masses: just the squared distance of the means
    assert frechet_distance(mu1, zero, mu2, zero) == pytest.approx(np.sum((mu1 - mu2) ** 2), abs=1e-4)


def test_frechet_distance_from_features_hand_made():
    rng = np.random.default_rng(2)
    f = rng.standard_normal((50, 4)) @ rng.standard_normal((4, 4))
    shift = np.array([1.0, -2.0, 0.5, 0.0])
    # a shifted copy: the same covariance, so only the means' distance remains
    assert frechet_distance_from_features(f, f + shift) == pytest.approx(shift @ shift, rel=1e-8)
    # a scaled copy in 1-D: the standard deviation scales, (s - c s)^2 with the sample std s
    g = rng.standard_normal((40, 1))
    s = g.std(ddof=1)
    assert frechet_distance_from_features(g, 3 * g) == pytest.approx(
        (g.mean() - 3 * g.mean()) ** 2 + (s - 3 * s) ** 2, rel=1e-8
    )
    # the statistics are the mean and the unbiased covariance; Tensors are accepted
    mu, sigma = feature_statistics(gg.tensor(f))
    np.testing.assert_allclose(mu, f.mean(0))
    np.testing.assert_allclose(sigma, np.cov(f.T))
    h = rng.standard_normal((30, 4))
    assert frechet_distance_from_features(gg.tensor(f, dtype=gg.float32), h) == pytest.approx(
        _fd_by_eigenvalues(*feature_statistics(f.astype(np.float32)), *feature_statistics(h)), rel=1e-6
    )


def test_frechet_distance_from_gaussian_samples_approaches_the_closed_form():
    rng = np.random.default_rng(3)
    s1, s2 = np.diag([1.0, 4.0]), np.array([[2.0, 0.5], [0.5, 1.0]])
    mu1, mu2 = np.zeros(2), np.array([1.0, 1.0])
    x = rng.multivariate_normal(mu1, s1, size=20000)
    y = rng.multivariate_normal(mu2, s2, size=20000)
    exact = _fd_by_eigenvalues(mu1, s1, mu2, s2)
    assert frechet_distance_from_features(x, y) == pytest.approx(exact, rel=0.05)


def test_frechet_distance_errors():
    i2 = np.eye(2)
    with pytest.raises(ValueError, match=r"mu1 has 2 features, so sigma2 should have shape \(2, 2\), got \(3, 3\)"):
        frechet_distance(np.zeros(2), i2, np.zeros(2), np.eye(3))
    with pytest.raises(ValueError, match=r"mu1: expected a 1-D array, got shape \(2, 2\)"):
        frechet_distance(i2, i2, np.zeros(2), i2)
    with pytest.raises(ValueError, match="imaginary part.*positive semi-definite"):
        frechet_distance(np.zeros(2), -i2, np.zeros(2), i2)
    with pytest.raises(ValueError, match="have 2 and 3 features"):
        frechet_distance_from_features(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="at least 2 samples"):
        feature_statistics(np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"features1: expected a 2-D array, got shape \(5,\)"):
        frechet_distance_from_features(np.zeros(5), np.zeros((4, 3)))


# -- classifier-based metrics -------------------------------------------------------------------


def test_inception_score_closed_forms():
    k = 10
    one_hot_uniform = np.eye(k)[np.repeat(np.arange(k), 7)]  # every class 7 times, confidently
    assert inception_score(one_hot_uniform) == pytest.approx(k)
    assert inception_score(np.eye(k)[[3] * 20]) == pytest.approx(1.0)  # total collapse
    assert inception_score(np.full((5, k), 1 / k)) == pytest.approx(1.0)  # no confidence
    # two of four classes used equally and confidently: 2
    assert inception_score(gg.tensor(np.eye(4)[[0, 1, 0, 1]])) == pytest.approx(2.0)
    # in general exp(H(p(y)) - E_x[H(p(y|x))])
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.full(k, 0.3), size=64)
    marginal = p.mean(0)
    h_marginal = -(marginal * np.log(marginal)).sum()
    h_rows = -(p * np.log(p)).sum(1).mean()
    assert inception_score(p) == pytest.approx(math.exp(h_marginal - h_rows), rel=1e-10)


def test_mean_max_softmax_hand_made():
    p = np.array([[0.9, 0.1, 0.0], [0.2, 0.3, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    assert mean_max_softmax(p) == pytest.approx((0.9 + 0.5 + 1 / 3) / 3)
    assert mean_max_softmax(gg.tensor(p, dtype=gg.float32)) == pytest.approx((0.9 + 0.5 + 1 / 3) / 3)
    logits = gg.randn(6, 4)
    expected = gg.softmax(logits, dim=1)._data.max(1).mean()
    assert mean_max_softmax(gg.softmax(logits, dim=1)) == pytest.approx(float(expected), rel=1e-6)


def test_class_entropy_closed_forms_and_hand_made():
    k = 10
    uniform = np.eye(k)[np.tile(np.arange(k), 3)] * 0.8 + 0.02  # argmax spreads evenly
    assert class_entropy(uniform) == pytest.approx(math.log(k))
    assert class_entropy(np.eye(k)[[4] * 9]) == pytest.approx(0.0)
    labels = np.array([0, 0, 1, 1, 1, 1])  # 1/3, 2/3 and an empty third class
    expected = -(1 / 3 * math.log(1 / 3) + 2 / 3 * math.log(2 / 3))
    assert class_entropy(labels, num_classes=3) == pytest.approx(expected)
    assert class_entropy(gg.tensor(labels), num_classes=3) == pytest.approx(expected)
    assert class_entropy(np.eye(3)[labels]) == pytest.approx(expected)


def test_classifier_metric_errors():
    logits = np.array([[2.0, -1.0], [0.5, 0.5]])
    for fn in (mean_max_softmax, inception_score, class_entropy):
        with pytest.raises(ValueError, match="expected class probabilities.*row 0 summing to 1.*not logits"):
            fn(logits)
    with pytest.raises(ValueError, match=r"probs: expected a 2-D array, got shape \(3,\)"):
        inception_score(np.ones(3) / 3)
    with pytest.raises(ValueError, match="with 1-D labels, num_classes is needed"):
        class_entropy(np.array([0, 1]))
    with pytest.raises(ValueError, match=r"integer labels in \[0, 2\).*in \[0, 5\]"):
        class_entropy(np.array([0, 5]), num_classes=2)
    with pytest.raises(ValueError, match="num_classes=3 but the probabilities have 2 columns"):
        class_entropy(np.eye(2), num_classes=3)


# -- mixtures of Gaussians ----------------------------------------------------------------------

RING = np.stack([2 * np.cos(np.arange(8) * np.pi / 4), 2 * np.sin(np.arange(8) * np.pi / 4)], 1)
STD = 0.02


def _ring_samples():
    """100 samples at each of modes 0-5, 3 at mode 6, none at mode 7, and 10 off the ring."""
    rng = np.random.default_rng(0)
    parts = [RING[i] + STD * rng.standard_normal((100, 2)) for i in range(6)]
    parts.append(RING[6] + STD * rng.standard_normal((3, 2)))
    parts.append(np.zeros((10, 2)) + rng.uniform(-0.5, 0.5, (10, 2)))  # near the centre: no mode
    return np.concatenate(parts)


def test_modes_and_quality_on_a_ring_hand_made():
    x = _ring_samples()  # 613 samples
    # 3 std of a 2-D Gaussian holds 98.9% of its samples: nearly all 100 per mode count
    counts = mode_counts(x, RING, STD)
    assert counts[:6].min() >= 95 and counts[6] == 3 and counts[7] == 0
    assert modes_covered(x, RING, STD) == 6  # 1% of 613 is 7 samples: mode 6's 3 are too few
    assert modes_covered(x, RING, STD, min_count=3) == 7
    assert modes_covered(x, RING, STD, min_fraction=0.2) == 0
    assert high_quality_fraction(x, RING, STD) == pytest.approx(counts.sum() / 613)
    assert 0.95 < high_quality_fraction(x, RING, STD) < 603 / 613 + 1e-12
    assert high_quality_fraction(gg.tensor(x), RING, STD, k=1000.0) == 1.0  # everything is near


def test_mode_distance_is_k_std_with_per_mode_std():
    modes = np.array([[0.0, 0.0], [10.0, 0.0]])
    x = np.array([[0.0, 0.29], [0.0, 0.31], [10.0, 0.59], [10.0, 0.61], [5.0, 0.0]])
    # mode 0 has std 0.1, mode 1 std 0.2: within 3 std means 0.3 and 0.6
    np.testing.assert_array_equal(mode_counts(x, modes, [0.1, 0.2]), [1, 1])
    assert high_quality_fraction(x, modes, [0.1, 0.2]) == pytest.approx(2 / 5)
    np.testing.assert_array_equal(mode_counts(x, modes, 0.1, k=6.0), [2, 1])


def test_mixture_metric_errors():
    with pytest.raises(ValueError, match="samples are 3-D but modes are 2-D"):
        mode_counts(np.zeros((4, 3)), RING, STD)
    with pytest.raises(ValueError, match=r"std must be one positive number or one per mode \(8\)"):
        mode_counts(np.zeros((4, 2)), RING, [0.1, 0.2])
    with pytest.raises(ValueError, match="std must be one positive"):
        high_quality_fraction(np.zeros((4, 2)), RING, 0.0)
    with pytest.raises(ValueError, match="min_count or min_fraction, not both"):
        modes_covered(np.zeros((4, 2)), RING, STD, min_count=2, min_fraction=0.1)
    with pytest.raises(ValueError, match=r"min_fraction must be in \(0, 1\], got 2"):
        modes_covered(np.zeros((4, 2)), RING, STD, min_fraction=2)
    with pytest.raises(ValueError, match=r"samples: expected a 2-D array, got shape \(2,\)"):
        high_quality_fraction(np.zeros(2), RING, STD)
    with pytest.raises(ValueError, match="k must be positive"):
        modes_covered(np.zeros((4, 2)), RING, STD, k=0)


def test_frechet_distance_retries_with_a_ridge_when_the_root_fails(monkeypatch):
    """When sqrtm's answer is not a square root (NaN here, as it can be for a badly singular
    product), eps * I is added to both covariances: the result moves by about eps per feature."""
    import glassgrad.metrics.generative as generative

    real_sqrtm, calls = generative.scipy.linalg.sqrtm, []

    def failing_once(a):
        calls.append(a.copy())
        return np.full_like(a, np.nan) if len(calls) == 1 else real_sqrtm(a)

    monkeypatch.setattr(generative.scipy.linalg, "sqrtm", failing_once)
    rng = np.random.default_rng(4)
    s1, s2 = _spd(rng, 3), _spd(rng, 3)
    mu = np.zeros(3)
    got = frechet_distance(mu, s1, mu, s2, eps=1e-3)
    ridge = 1e-3 * np.eye(3)
    assert len(calls) == 2
    np.testing.assert_allclose(calls[1], (s1 + ridge) @ (s2 + ridge))
    assert got == pytest.approx(_fd_by_eigenvalues(mu, s1 + ridge, mu, s2 + ridge) - 6e-3, rel=1e-9)
