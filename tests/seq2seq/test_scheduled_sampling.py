"""Teacher forcing, scheduled sampling and its decay schedules (Bengio et al. 2015)."""

import math

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.seq2seq import (
    ExponentialDecay,
    InverseSigmoidDecay,
    LinearDecay,
    scheduled_sampling,
    scheduled_sampling_step,
    teacher_forcing,
)


def test_teacher_forcing_shifts_inputs_and_targets():
    seqs = gg.tensor([[1, 7, 8, 2, 0], [1, 9, 2, 0, 0]])
    inputs, targets = teacher_forcing(seqs)
    assert inputs.tolist() == [[1, 7, 8, 2], [1, 9, 2, 0]]
    assert targets.tolist() == [[7, 8, 2, 0], [9, 2, 0, 0]]
    with pytest.raises(ValueError, match="at least 2 tokens"):
        teacher_forcing(gg.tensor([[1]]))
    with pytest.raises(TypeError, match="integer token ids, got glassgrad.float32"):
        teacher_forcing(gg.zeros(2, 3))


def _batch(rows=200, cols=50):
    rng = np.random.default_rng(0)
    gold = gg.tensor(rng.integers(4, 10, (rows, cols)))
    predicted = gg.tensor(rng.integers(10, 20, (rows, cols)))  # never equal to a gold token
    return gold, predicted


def test_p_zero_is_teacher_forcing_and_p_one_reads_every_shifted_prediction():
    gold, predicted = _batch(3, 6)
    assert scheduled_sampling(gold, predicted, 0.0).tolist() == gold.tolist()
    mixed = scheduled_sampling(gold, predicted, 1.0).numpy()
    # input t is the prediction made at t-1; input 0 (<bos>) has none and is kept
    np.testing.assert_array_equal(mixed[:, 0], gold.numpy()[:, 0])
    np.testing.assert_array_equal(mixed[:, 1:], predicted.numpy()[:, :-1])
    assert mixed.dtype == np.int64


def test_each_input_is_replaced_with_probability_p():
    gold, predicted = _batch()
    p = 0.3
    mixed = scheduled_sampling(gold, predicted, p).numpy()[:, 1:]
    replaced = mixed >= 10
    n = replaced.size
    # a binomial count: within 5 standard deviations of n p
    assert abs(replaced.sum() - n * p) < 5 * math.sqrt(n * p * (1 - p))
    kept = ~replaced
    np.testing.assert_array_equal(mixed[kept], gold.numpy()[:, 1:][kept])


def test_reproducible_with_manual_seed_and_generator():
    gold, predicted = _batch(10, 10)
    gg.manual_seed(3)
    a = scheduled_sampling(gold, predicted, 0.5)
    gg.manual_seed(3)
    b = scheduled_sampling(gold, predicted, 0.5)
    assert a.tolist() == b.tolist()
    c = scheduled_sampling(gold, predicted, 0.5, generator=gg.Generator(3))
    d = scheduled_sampling(gold, predicted, 0.5, generator=gg.Generator(3))
    assert c.tolist() == d.tolist()
    assert a.tolist() != scheduled_sampling(gold, predicted, 0.5).tolist()


def test_scores_are_read_as_their_argmax_and_padding_is_kept():
    gold = gg.tensor([[1, 5, 6, 0]])
    scores = gg.zeros(1, 4, 12)
    scores[0, :, 11] = 1.0
    mixed = scheduled_sampling(gold, scores, 1.0, pad_id=0)
    assert mixed.tolist() == [[1, 11, 11, 0]]


def test_step_version_does_not_shift():
    gold = gg.tensor([4, 5, 0])
    assert scheduled_sampling_step(gold, gg.tensor([7, 8, 9]), 1.0, pad_id=0).tolist() == [7, 8, 0]
    assert scheduled_sampling_step(gold, gg.tensor([7, 8, 9]), 0.0).tolist() == [4, 5, 0]
    scores = gg.tensor([[0.0, 2.0], [3.0, 1.0], [0.0, 0.0]])
    assert scheduled_sampling_step(gold, scores, 1.0).tolist() == [1, 0, 0]


def test_bad_input():
    gold, predicted = _batch(2, 3)
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\], got 1.5"):
        scheduled_sampling(gold, predicted, 1.5)
    with pytest.raises(ValueError, match=r"ids of shape \(2, 3\) or float scores of shape \(2, 3\) \+ \(vocab,\)"):
        scheduled_sampling(gold, predicted[:, :2], 0.5)
    with pytest.raises(TypeError, match="decoder_inputs must hold integer token ids"):
        scheduled_sampling(gold.float(), predicted, 0.5)
    with pytest.raises(TypeError, match="must be a tensor of token ids, got list"):
        scheduled_sampling_step([1, 2], predicted, 0.5)


def test_linear_decay_follows_the_paper():
    s = LinearDecay(c=0.1, k=1.0, epsilon=0.25)
    # epsilon_i = max(epsilon, k - c i); p = 1 - epsilon_i
    assert [round(s.teacher_forcing_prob(i), 10) for i in (0, 1, 5, 7, 8, 100)] == [1.0, 0.9, 0.5, 0.3, 0.25, 0.25]
    assert s(5) == pytest.approx(0.5) and s(100) == pytest.approx(0.75)


def test_exponential_decay_follows_the_paper():
    s = ExponentialDecay(0.9)
    assert s.teacher_forcing_prob(0) == 1.0
    assert s.teacher_forcing_prob(10) == pytest.approx(0.9**10)
    assert s(10) == pytest.approx(1 - 0.9**10)


def test_inverse_sigmoid_decay_follows_the_paper_and_never_overflows():
    k = 50.0
    s = InverseSigmoidDecay(k)
    for i in (0, 10, 200, 500):
        assert s.teacher_forcing_prob(i) == pytest.approx(k / (k + math.exp(i / k)), rel=1e-12)
    assert s.teacher_forcing_prob(10**6) == 0.0 and s(10**6) == 1.0
    values = [s(i) for i in range(0, 1000, 10)]
    assert values == sorted(values)  # p only grows


def test_schedule_errors():
    with pytest.raises(ValueError, match="k must be in \\(0, 1\\), got 1.5"):
        ExponentialDecay(1.5)
    with pytest.raises(ValueError, match="k must be at least 1, got 0.5"):
        InverseSigmoidDecay(0.5)
    with pytest.raises(ValueError, match="0 <= epsilon < 1"):
        LinearDecay(c=0.1, epsilon=1.0)
    with pytest.raises(ValueError, match="the step i must be non-negative, got -1"):
        ExponentialDecay(0.5)(-1)
