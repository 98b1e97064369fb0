"""Beam search against brute force enumeration, greedy decoding, and its state protocol."""

import math
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.decoding import beam_search, greedy_search, length_penalty, reorder_state
from tests.decoding._models import BOS, TableModel, brute_force
from tests.oracle import ORACLE


@settings(ORACLE, max_examples=100)  # many small models: cheap, and the early stop needs some to show
@given(
    seed=st.integers(0, 2**32 - 1),
    vocab=st.integers(2, 4),
    max_len=st.integers(1, 4),
    eos=st.integers(0, 3),
    alpha=st.sampled_from([0.0, 0.6, 1.0, 2.0, -0.5]),
    kind=st.sampled_from(["gnmt", "power"]),
    n_best=st.integers(1, 4),
    sharpness=st.sampled_from([0.5, 2.0, 4.0]),
)
def test_a_beam_wide_enough_finds_what_brute_force_ranks_best(
    seed, vocab, max_len, eos, alpha, kind, n_best, sharpness
):
    eos = eos % vocab
    model = TableModel(seed, vocab, sharpness)
    expected = brute_force(model, eos, max_len, alpha, kind)
    n_best = min(n_best, len(expected))
    # a beam as wide as every possible prefix searches exhaustively
    found = beam_search(model.step, BOS, eos, max_len, beam_size=vocab**max_len, n_best=n_best, alpha=alpha,
                        penalty=kind)  # fmt: skip
    assert [h.tokens for h in found] == [s for _, s, _, _ in expected[:n_best]]
    for h, (score, _, lp, fin) in zip(found, expected):
        assert h.score == pytest.approx(score, rel=1e-9) and h.log_prob == pytest.approx(lp, rel=1e-9)
        assert h.finished == fin


@ORACLE
@given(seed=st.integers(0, 2**32 - 1), vocab=st.integers(2, 5), max_len=st.integers(1, 5), beam=st.integers(1, 4))
def test_a_narrow_beam_returns_true_scores_no_better_than_the_best(seed, vocab, max_len, beam):
    model = TableModel(seed, vocab, sharpness=1.0)
    eos = vocab - 1
    best = brute_force(model, eos, max_len, alpha=0.6)[0][0]
    found = beam_search(model.step, BOS, eos, max_len, beam_size=beam, n_best=beam, alpha=0.6)
    assert 1 <= len(found) <= beam
    assert [h.score for h in found] == sorted((h.score for h in found), reverse=True)
    assert found[0].score <= best + 1e-12
    for h in found:
        assert h.log_prob == pytest.approx(model.sequence_log_prob(h.tokens), rel=1e-9)
        assert h.score == pytest.approx(h.log_prob / length_penalty(len(h.tokens), 0.6))
        assert h.finished == (h.tokens[-1] == eos) and eos not in h.tokens[:-1]
        assert len(h.tokens) <= max_len


@ORACLE
@given(seed=st.integers(0, 2**32 - 1), vocab=st.integers(2, 6), max_len=st.integers(1, 8))
def test_beam_size_one_is_greedy_decoding(seed, vocab, max_len):
    model = TableModel(seed, vocab, sharpness=1.0)
    eos = seed % vocab
    beam = beam_search(model.step, BOS, eos, max_len, beam_size=1)
    (greedy,) = greedy_search(model.step, BOS, eos, max_len)
    assert beam[0].tokens == greedy.tokens and beam[0].finished == greedy.finished
    assert beam[0].log_prob == pytest.approx(greedy.log_prob, rel=1e-12)


def _hand_model(prefixes, state):
    """bos=0, eos=1, a=2, b=3: P(a)=.6, P(b)=.4 first; after a, eos has .4; after b, eos has .9."""
    table = {(0,): [0, 0, 0.6, 0.4], (0, 2): [0, 0.4, 0.3, 0.3], (0, 3): [0, 0.9, 0.05, 0.05]}
    with np.errstate(divide="ignore"):  # impossible tokens have log-probability -inf
        rows = [np.log(table.get(tuple(p), [0, 1, 0, 0])) for p in prefixes.tolist()]
    return gg.tensor(np.array(rows)), state


def test_beam_finds_what_greedy_misses():
    (greedy,) = greedy_search(_hand_model, 0, 1, max_len=5)
    assert greedy.tokens == [2, 1] and greedy.log_prob == pytest.approx(math.log(0.24))
    best, second = beam_search(_hand_model, 0, 1, max_len=5, beam_size=2, n_best=2)
    assert best.tokens == [3, 1] and best.log_prob == pytest.approx(math.log(0.36))
    assert second.tokens == [2, 1]


def test_length_penalty_formulas_and_their_effect():
    assert length_penalty(7, 0.6) == pytest.approx((12 / 6) ** 0.6)
    assert length_penalty(7, 1.0, "power") == 7.0
    assert length_penalty(3, 0.0) == 1.0

    # the short sequence [eos] has P = .5; the long one [a, a, eos] has P = .5 * .9 * .9 = .405
    def step(prefixes, state):
        rows = [[0.0, 0.5, 0.5] if p == [0] else [0.0, 0.9, 0.1] if len(p) == 3 else [0.0, 0.1, 0.9]
                for p in prefixes.tolist()]  # fmt: skip
        with np.errstate(divide="ignore"):
            return gg.tensor(np.log(rows)), state

    assert beam_search(step, 0, 1, 3, beam_size=3, alpha=0.0)[0].tokens == [1]
    # with the per-token mean (power, alpha=1): log(.5)/1 < log(.405)/3
    assert beam_search(step, 0, 1, 3, beam_size=3, alpha=1.0, penalty="power")[0].tokens == [2, 2, 1]


class _Recurrent:
    """A stateful step in the shape of an RNN decoder: it reads only the last token and keeps
    the history in its state (nested structure with a tensor and an array, batch on dim 0),
    so a wrong reordering of the state gives wrong probabilities."""

    def __init__(self, model: TableModel):
        self.model = model

    def initial_state(self, rows=1):
        return {"history": (gg.zeros(rows, 0, dtype=gg.int64), [np.zeros((rows, 0), dtype=np.int64)]), "n": 0}

    def step(self, prefixes, state):
        hist_t, (hist_a,) = state["history"]
        last = prefixes[:, -1:]
        hist_t = gg.cat([hist_t, last], 1)
        hist_a = np.concatenate([hist_a, last.numpy()], 1)
        np.testing.assert_array_equal(hist_t.numpy(), hist_a)
        rows = [self.model.log_probs(h) for h in hist_t.tolist()]
        return gg.tensor(np.stack(rows)), {"history": (hist_t, [hist_a]), "n": state["n"] + 1}


@pytest.mark.parametrize("seed", range(5))
def test_stateful_steps_get_their_state_reordered_with_the_beams(seed):
    model = TableModel(seed, 5, sharpness=1.0)
    rnn = _Recurrent(model)
    stateless = beam_search(model.step, BOS, 4, 6, beam_size=3, n_best=3, alpha=0.6)
    stateful = beam_search(rnn.step, BOS, 4, 6, beam_size=3, n_best=3, alpha=0.6, state=rnn.initial_state())
    assert [h.tokens for h in stateful] == [h.tokens for h in stateless]


def test_a_custom_reorder_state_for_batch_on_dim_1():
    model = TableModel(1, 5, sharpness=1.0)
    rnn = _Recurrent(model)

    def step(prefixes, h):  # h is (layers, rows, t), as nn.GRU keeps it
        scores, state = rnn.step(prefixes, {"history": (h[0], [h[0].numpy()]), "n": 0})
        return scores, gg.stack([state["history"][0]] * 2)

    init = gg.zeros(2, 1, 0, dtype=gg.int64)
    found = beam_search(step, BOS, 4, 5, beam_size=3, n_best=2, state=init,
                        reorder_state=lambda h, index: h.index_select(1, index))  # fmt: skip
    assert [h.tokens for h in found] == [h.tokens for h in beam_search(model.step, BOS, 4, 5, beam_size=3, n_best=2)]


def test_reorder_state_default():
    hc = namedtuple("hc", ["h", "c"])
    state = ({"a": gg.tensor([10, 11, 12])}, [np.array([[0], [1], [2]])], None, 7, hc(gg.arange(3), gg.arange(3) * 2))
    out = reorder_state(state, gg.tensor([2, 2, 0]))
    assert out[0]["a"].tolist() == [12, 12, 10] and out[1][0].tolist() == [[2], [2], [0]]
    assert out[2] is None and out[3] == 7
    assert isinstance(out[4], hc) and out[4].h.tolist() == [2, 2, 0] and out[4].c.tolist() == [4, 4, 0]
    with pytest.raises(TypeError, match="cannot reorder rows of a state of type object; pass reorder_state"):
        reorder_state(object(), gg.tensor([0]))


def test_bad_input():
    model = TableModel(0, 4)
    with pytest.raises(ValueError, match="n_best must be between 1 and beam_size=2, got 3"):
        beam_search(model.step, BOS, 1, 3, beam_size=2, n_best=3)
    with pytest.raises(ValueError, match="beam_size must be a positive integer, got 0"):
        beam_search(model.step, BOS, 1, 3, beam_size=0)
    with pytest.raises(ValueError, match="max_len must be a positive number of tokens, got 0"):
        beam_search(model.step, BOS, 1, 0)
    with pytest.raises(ValueError, match="kind must be 'gnmt' or 'power', got 'wu'"):
        beam_search(model.step, BOS, 1, 3, penalty="wu")
    with pytest.raises(ValueError, match="eos_id=9 is not a token of the step's vocabulary of 4"):
        beam_search(model.step, BOS, 9, 3)
    with pytest.raises(ValueError, match=r"step must return scores of shape \(1, vocab\), got \(4,\)"):
        beam_search(lambda p, s: (gg.zeros(4), s), BOS, 1, 3)
    with pytest.raises(ValueError, match="a row with no finite value"):
        beam_search(lambda p, s: (gg.full((p.shape[0], 3), float("-inf")), s), BOS, 1, 3)
    with pytest.raises(TypeError, match="step must be a function"):
        beam_search("model", BOS, 1, 3)
