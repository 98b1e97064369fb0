"""Lectures 11-12's lab, quick setting: every claim holds; and unit tests of its date parts on tiny
untrained models (fast)."""

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.labs import transformer as T


@pytest.fixture(scope="module")
def quick_run(long_lab_runs):
    return long_lab_runs["transformer"]


def test_transformer_claims_hold(quick_run):
    result = quick_run
    assert result.error is None, result.error
    failed = [f"{c.text} -- measured {c.measured}" for c in result.claims if not c.holds]
    assert not failed, failed
    for name in ("dates_cross_attention", "exposure_bias", "dates_training_loss"):
        assert f"{name}.png" in result.figures
    dates = result.results["dates"]
    assert dates["test_exact"] >= 0.98 and dates["stops_at_end"] >= 0.99
    assert len(result.results["exposure_bias"]["scheduled_sampling"]["rows"]) == 6


@pytest.fixture(scope="module")
def tiny():
    gg.manual_seed(0)
    src_vocab, tgt_vocab = T.vocabularies()
    data = T.date_data(40, 0, "test", src_vocab, tgt_vocab)
    model = T.make_model(src_vocab, tgt_vocab, d_model=16)
    model.eval()
    return model, data, tgt_vocab


def test_date_data_layout(tiny):
    _, data, tgt_vocab = tiny
    assert data.tgt.shape == (40, 12)
    assert (data.tgt[:, 0] == tgt_vocab.bos_id).all() and (data.tgt[:, -1] == tgt_vocab.eos_id).all()
    assert "".join(tgt_vocab.decode(data.tgt[0])) == data.iso[0]
    assert data.subset([3, 5]).text == [data.text[3], data.text[5]]


def test_mask_check_tells_a_masked_decoder_from_an_unmasked_one(tiny, monkeypatch):
    model, data, _ = tiny
    check = T.mask_check(model, data, seed=0)
    assert check.with_mask <= 1e-12 and check.without_mask > 1e-6
    # a decoder whose "causal" mask lets every position see the future: the check must notice
    monkeypatch.setattr(nn.Transformer, "generate_square_subsequent_mask",
                        staticmethod(lambda sz, device=None, dtype=None: gg.zeros(sz, sz, dtype=dtype)))
    assert T.mask_check(model, data, seed=0).with_mask > 1e-6


def test_cross_attention_weights_are_distributions_over_the_input(tiny):
    model, data, _ = tiny
    w = T.cross_attention(model, data.src[:3], data.tgt[:3, :-1])
    assert w.shape == (3, 11, data.src.shape[1])
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-6)
    assert (w[data.src[:3, None, :].repeat(11, 1) == 0] == 0).all()  # padding gets no attention


def test_corrupted_decoding_without_corruption_is_greedy(tiny):
    model, data, tgt_vocab = tiny
    rng = np.random.default_rng(0)
    plain = T.greedy_corrupted(model, data.src[:8], tgt_vocab, None, rng)
    hyps = T.greedy(model, data.src[:8], tgt_vocab.bos_id, tgt_vocab.eos_id)
    for row, hyp in zip(plain, hyps):  # greedy_search stops at <eos>; the corrupting loop goes on
        assert row[:len(hyp.tokens)].tolist() == hyp.tokens[:11]
    corrupted = T.greedy_corrupted(model, data.src[:8], tgt_vocab, 2, rng)
    np.testing.assert_array_equal(corrupted[:, :2], plain[:, :2])
    assert (corrupted[:, 2] != plain[:, 2]).all()
    assert set(corrupted[:, 2].tolist()) <= {tgt_vocab[c] for c in "0123456789"}


def test_teacher_forced_exact_match_equals_free_running(tiny):
    model, data, tgt_vocab = tiny
    acc = T.accuracy(model, data, tgt_vocab)
    assert acc.tf_exact == acc.free_exact  # a date right under teacher forcing is decoded the same way
    assert 0 <= acc.free_token <= 1 and 0 <= acc.stops <= 1


def test_training_lowers_the_loss(tiny):
    _, data, _ = tiny
    from glassgrad.labs._lab import LabContext

    src_vocab, tgt_vocab = T.vocabularies()
    gg.manual_seed(1)
    model = T.make_model(src_vocab, tgt_vocab, d_model=16)
    losses = T.train(LabContext(out_dir=None, progress=False), model, data, steps=30, batch=16, lr=3e-3,
                     sampling=0.5)
    assert np.mean(losses[-5:]) < 0.9 * np.mean(losses[:5])


def test_beam_vs_greedy_measures_both(tiny):
    model, data, tgt_vocab = tiny
    res = T.beam_vs_greedy(model, data.subset(range(5)), tgt_vocab)
    assert res.greedy_log_prob.shape == res.beam_log_prob.shape == (5,)
    assert 0 <= res.beam_not_worse <= 1 and res.beam_higher >= 0


def test_gradient_check_delivers_the_promise_and_catches_a_wrong_relu_derivative(tiny):
    from tests.labs.mutations import relu_nomask

    model, data, _ = tiny
    right = T.gradient_check(model, data, n=32)
    assert abs(right.shares[-1] - 1) < 0.01, right
    with relu_nomask() as broken:
        wrong = T.gradient_check(model, data, n=32)
    assert broken.calls > 0 and abs(wrong.shares[-1] - 1) > 0.05, wrong
