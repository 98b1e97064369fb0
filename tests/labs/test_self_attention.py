"""Lectures 9-10's lab, quick setting: every claim must hold; and its helpers, on small inputs."""

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.labs._lab import LabContext
from glassgrad.labs.self_attention import (
    AttentionClassifier,
    CNNClassifier,
    attention_by_hand,
    equivariance_error,
    far_pair_task,
    formulas_part,
    growth_exponent,
    make_model,
    mean_attention,
    receptive_field,
    sorted_task,
)


@pytest.fixture(scope="module")
def quick_run(long_lab_runs):
    return long_lab_runs["self-attention"]


def test_self_attention_claims_hold(quick_run):
    assert quick_run.error is None, quick_run.error
    failed = [c for c in quick_run.claims if not c.holds]
    assert not failed, failed
    assert len(quick_run.claims) == 7 + 2  # this module's and the speaker part's
    assert all(c.expected for c in quick_run.claims)
    assert sorted(quick_run.figures) == sorted(
        f"{n}.png" for n in ("accuracy_vs_distance", "attention_far_pair", "time_vs_length", "speakers_attention",
                             "speakers_confusion")
    )
    assert "speakers" in quick_run.results
    times = quick_run.results["step_times"]
    assert set(times["ms"]) == {"GRU", "self-attention"}
    assert all(len(v) == len(times["lengths"]) for v in times["ms"].values())


def test_attention_by_hand_is_scaled_dot_product_attention():
    rng = np.random.default_rng(0)
    length, e, heads = 5, 6, 2
    a = rng.normal(size=(length, e))
    w_q, w_k, w_v = (rng.normal(size=(e, e)) for _ in range(3))
    b, weights = attention_by_hand(a, w_q, w_k, w_v, np.eye(e), heads)
    d = e // heads
    q, k, v = (gg.tensor((a @ w.T).reshape(length, heads, d).transpose(1, 0, 2)) for w in (w_q, w_k, w_v))
    expected = F.scaled_dot_product_attention(q, k, v).numpy().transpose(1, 0, 2).reshape(length, e)
    np.testing.assert_allclose(b, expected, rtol=0, atol=1e-13)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=0, atol=1e-14)


def test_the_formulas_claim_fails_when_the_library_scales_wrongly(tmp_path, monkeypatch):
    right = LabContext(out_dir=tmp_path)
    formulas_part(right)
    assert right.claims[-1].holds
    sdpa = F.scaled_dot_product_attention
    monkeypatch.setattr(F, "scaled_dot_product_attention", lambda q, k, v: sdpa(q, k, v, scale=1.0))
    ctx = LabContext(out_dir=tmp_path)
    formulas_part(ctx)
    assert not ctx.claims[-1].holds


def test_sorted_task_pairs_are_the_same_digits_in_two_orders():
    x, y = sorted_task(200, 8, np.random.default_rng(1))
    assert x.shape == (400, 8) and y.tolist() == [1, 0] * 200
    sorted_rows, unsorted_rows = x[0::2], x[1::2]
    assert np.all(np.diff(sorted_rows, axis=1) >= 0)
    assert np.all(np.any(np.diff(unsorted_rows, axis=1) < 0, axis=1))
    np.testing.assert_array_equal(np.sort(unsorted_rows, axis=1), sorted_rows)


def test_far_pair_task_label_is_first_equals_last():
    x, y = far_pair_task(2000, 10, np.random.default_rng(2))
    assert x.shape == (2000, 11)
    np.testing.assert_array_equal(y, x[:, 0] == x[:, -1])
    assert set(np.unique(x[:, [0, -1]])) == {0, 1}
    assert np.all(x[:, 1:-1] >= 2)
    assert 0.45 < y.mean() < 0.55


def test_receptive_field_is_what_the_convolutions_see():
    assert receptive_field(3, 3) == 7
    gg.manual_seed(0)
    cnn = CNNClassifier(8, 2, layers=2, kernel=5)
    x = gg.randn(1, 32, 21)
    with gg.no_grad():
        base = cnn.convs(x).numpy()
        moved = x.numpy().copy()
        moved[0, :, 10] += 1.0  # one input position changed: which outputs see it?
        changed = np.abs(cnn.convs(gg.tensor(moved)).numpy() - base).max(axis=1)[0] > 0
    assert changed.sum() == cnn.receptive_field == receptive_field(2, 5) == 9


def test_only_positional_encoding_breaks_permutation_equivariance():
    gg.manual_seed(0)
    tokens = np.random.default_rng(3).integers(0, 10, size=(4, 8))
    rng = np.random.default_rng(4)
    assert equivariance_error(AttentionClassifier(10, 2, 8, positions=False), tokens, rng) < 1e-12
    assert equivariance_error(AttentionClassifier(10, 2, 8, positions=True), tokens, rng) > 1e-2


def test_make_model_names_the_kinds():
    assert isinstance(make_model("CNN", 5), CNNClassifier)
    with pytest.raises(ValueError, match="'self-attention', 'GRU' or 'CNN', got 'LSTM'"):
        make_model("LSTM", 5)


def test_growth_exponent_reads_the_power_of_the_length():
    lengths = [16, 32, 64, 128]
    assert growth_exponent(lengths, 3.0 * np.array(lengths) ** 2) == pytest.approx(2.0)
    assert growth_exponent(lengths, np.array(lengths) + 0.0) == pytest.approx(1.0)


def test_mean_attention_is_a_distribution_over_the_keys():
    gg.manual_seed(0)
    tokens = np.random.default_rng(5).integers(0, 8, size=(6, 9))
    w = mean_attention(make_model("self-attention", 9), tokens)
    assert w.shape == (9, 9)
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=0, atol=1e-6)
