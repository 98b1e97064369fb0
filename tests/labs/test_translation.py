"""The transformer lab's translation and architecture parts (labs/_translation.py): the quick
setting once on seed 0 (claims hold, figures exist), and fast checks of the pieces."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.labs._blas import one_blas_thread
from glassgrad.labs._lab import LabContext
from glassgrad.labs._translation import (
    GRUMT,
    BestCheckpoint,
    Block,
    DeepEncoder,
    TransformerMT,
    build_corpus,
    count_params,
    gru_hidden_for,
    nearest_neighbour,
    pad_batch,
    run_architecture,
    run_translation,
    translate,
    valid_loss,
    warmup_factor,
)


def _run(part, tmp_path) -> LabContext:
    import matplotlib

    matplotlib.use("Agg")
    gg.manual_seed(0)
    ctx = LabContext(out_dir=tmp_path, progress=False)
    with one_blas_thread():
        part(ctx)
    return ctx


@pytest.fixture(scope="module")
def translation(tmp_path_factory):
    return _run(run_translation, tmp_path_factory.mktemp("translation"))


@pytest.fixture(scope="module")
def architecture(tmp_path_factory):
    return _run(run_architecture, tmp_path_factory.mktemp("architecture"))


@pytest.mark.slow  # the transformer lab's quick run (tests/labs/test_transformer.py) runs this part
def test_translation_claims_hold(translation):
    failed = [c for c in translation.claims if not c.holds]
    assert not failed, failed
    assert len(translation.claims) == 1  # the comparisons are claimed in the full setting only
    assert translation.figures == ["translation.png"]
    assert (translation.out_dir / "translation.png").is_file()
    bleu = translation.results["translation"]["bleu"]
    assert set(bleu) == {"Transformer", "GRU + attention", "nearest neighbour"}
    assert any("| English | reference | Transformer |" in t for t in translation.text)


@pytest.mark.slow  # the transformer lab's quick run (tests/labs/test_transformer.py) runs this part
def test_architecture_claims_hold(architecture):
    failed = [c for c in architecture.claims if not c.holds]
    assert not failed, failed
    assert len(architecture.claims) == 2
    assert architecture.figures == ["architecture.png"]
    r = architecture.results["architecture"]
    assert len(r["final_loss_warmup"]) == len(r["final_loss_no_warmup"]) == 3


def test_block_flag_only_removes_the_wrappers():
    gg.manual_seed(0)
    full = Block(8, 2, 16, residual_norm=True)
    plain = Block(8, 2, 16, residual_norm=False)
    plain.load_state_dict(full.state_dict())  # the same parameters: the flag adds none
    x = gg.randn(3, 5, 8)
    a = full.attn(x, x, x, need_weights=False)[0]
    h = full.norm1(x + a)
    expected = full.norm2(h + full.linear2(gg.relu(full.linear1(h))))
    assert np.allclose(full(x).detach().numpy(), expected.detach().numpy(), atol=1e-6)
    b = plain.linear2(gg.relu(plain.linear1(a)))
    assert np.allclose(plain(x).detach().numpy(), b.detach().numpy(), atol=1e-6)
    assert count_params(DeepEncoder(10, 8, 2, 16, 6, True)) == count_params(DeepEncoder(10, 8, 2, 16, 6, False))


def test_warmup_factor():
    f = warmup_factor(10)
    assert [f(e) for e in (0, 4, 9)] == pytest.approx([0.1, 0.5, 1.0])
    assert f(39) == pytest.approx(math.sqrt(10 / 40))
    g = warmup_factor(10, "cosine", total=30)
    assert g(9) == pytest.approx(1.0) and g(19) == pytest.approx(0.5) and g(29) == pytest.approx(0.0)


def test_pad_batch():
    assert pad_batch([[5, 6, 7], [8]], 0).tolist() == [[5, 6, 7], [8, 0, 0]]


@pytest.fixture(scope="module")
def corpus():
    return build_corpus()


def test_models_step_agrees_with_the_whole_sequence(corpus):
    """Each model's decoding step gives the logits of a teacher-forced pass at the last position."""
    gg.manual_seed(1)
    src = gg.tensor(np.array([corpus.test_src[3]]))
    tgt = gg.tensor(np.array([[corpus.tgt_vocab.bos_id, 7, 9, 11]]))
    for model in (TransformerMT(len(corpus.src_vocab), len(corpus.tgt_vocab), 16, 2, 1, 32, 0.0),
                  GRUMT(len(corpus.src_vocab), len(corpus.tgt_vocab), 16, 24, 0.0)):
        model.eval()
        with gg.no_grad():
            whole = model(src, tgt).numpy()[0]
            state = model.start(src)
            for t in range(1, 5):
                scores, state = model.step(tgt[:, :t], state)
                assert np.allclose(scores.numpy()[0], whole[t - 1], atol=1e-5)


def test_gru_size_matches_the_transformer(corpus):
    n_src, n_tgt = len(corpus.src_vocab), len(corpus.tgt_vocab)
    n = count_params(TransformerMT(n_src, n_tgt, 64, 4, 2, 128, 0.1))
    h = gru_hidden_for(n, n_src, n_tgt, 64)
    assert abs(count_params(GRUMT(n_src, n_tgt, 64, h, 0.1)) - n) / n < 0.05


def test_nearest_neighbour_returns_the_most_overlapping_training_sentence(corpus):
    i = 10
    out = nearest_neighbour(corpus, [corpus.train.english_tokens[i]])
    assert out == [corpus.train.chinese[i]] or corpus.train.english_tokens.count(corpus.train.english_tokens[i]) > 1


def test_translate_returns_chinese_strings(corpus):
    gg.manual_seed(0)
    model = TransformerMT(len(corpus.src_vocab), len(corpus.tgt_vocab), 16, 2, 1, 32, 0.0)
    out = translate(model, corpus, corpus.test_src[:2], beam=2, max_len=5)
    assert len(out) == 2 and all(isinstance(s, str) and len(s) <= 5 for s in out)


def _stub_result(bleu_tf: float, setting: str = "quick"):
    from glassgrad.labs._translation import TRANSLATION, TranslationResult

    cfg = {**TRANSLATION[setting], "gru_hidden": 92, "src_vocab": 1695, "tgt_vocab": 1710, "test_sentences": 2,
           "best_step": {"Transformer": 2500, "GRU + attention": 3000}}
    outputs = {"Transformer": ["你好", ""], "GRU + attention": ["好", "我"], "nearest neighbour": ["你好！", "我|"]}
    return TranslationResult(cfg, {"Transformer": 1000, "GRU + attention": 990},
                             {"Transformer": np.linspace(7, 5, 30), "GRU + attention": np.linspace(7, 5, 30)},
                             {"Transformer": 1.0, "GRU + attention": 1.0},
                             {"Transformer": bleu_tf, "GRU + attention": 1.0, "nearest neighbour": 11.0},
                             outputs, ["Hello!", "I"], ["你好！", "我"])


@pytest.mark.parametrize(("bleu_tf", "holds"), [(2.0, True), (0.0, False)])
def test_translation_claim_and_report_from_given_numbers(tmp_path, monkeypatch, bleu_tf, holds):
    import matplotlib

    import glassgrad.labs._translation as T

    matplotlib.use("Agg")
    monkeypatch.setattr(T, "translation_experiment", lambda ctx: _stub_result(bleu_tf))
    ctx = LabContext(out_dir=tmp_path, progress=False)
    run_translation(ctx)
    assert [c.holds for c in ctx.claims] == [holds]
    assert ctx.results["translation"]["params_gap"] == pytest.approx(0.01)
    table = ctx.text[-1].splitlines()
    assert table[-2:] == ["| Hello! | 你好！ | 你好 | 好 | 你好！ |", "| I | 我 | (empty) | 我 | 我/ |"]
    assert (tmp_path / "translation.png").is_file()


def test_corpus_has_the_three_splits_and_prunes_rare_english_words(corpus):
    assert (len(corpus.train_src), len(corpus.valid_src), len(corpus.test_src)) == (3429, 430, 430)
    assert len(corpus.valid_tgt) == 430 and corpus.valid_tgt[0][0] == corpus.tgt_vocab.bos_id
    assert len(build_corpus(src_min_freq=3).src_vocab) < len(corpus.src_vocab) < len(build_corpus(1).src_vocab)


def test_tied_transformer_shares_the_decoder_embedding_with_the_output_layer(corpus):
    n_src, n_tgt = len(corpus.src_vocab), len(corpus.tgt_vocab)
    gg.manual_seed(0)
    tied = TransformerMT(n_src, n_tgt, 16, 2, 1, 32, 0.0, tie=True)
    untied = TransformerMT(n_src, n_tgt, 16, 2, 1, 32, 0.0)
    assert tied.out.weight is tied.tgt_emb.weight
    assert count_params(untied) - count_params(tied) == n_tgt * 16
    w = tied.tgt_emb.weight.detach().numpy()
    assert np.all(w[0] == 0) and 0.8 < w[1:].std() * 4 < 1.2  # pad row zero, std 1/sqrt(16)
    src = gg.tensor(np.array([corpus.train_src[0]]))
    tgt = gg.tensor(np.array([corpus.train_tgt[0]]))
    tied(src, tgt).sum().backward()
    assert tied.tgt_emb.weight.grad is not None  # one gradient, from both uses


def test_valid_loss_is_the_mean_cross_entropy_per_character(corpus):
    gg.manual_seed(0)
    model = TransformerMT(len(corpus.src_vocab), len(corpus.tgt_vocab), 16, 2, 1, 32, 0.0)
    loss = valid_loss(model, corpus, batch_size=100)
    assert loss == pytest.approx(valid_loss(model, corpus, batch_size=430), rel=1e-6)  # batches do not matter
    assert abs(loss - math.log(len(corpus.tgt_vocab))) < 2.0  # untrained: near uniform


def test_best_checkpoint_restores_the_lowest_validation_loss(corpus, monkeypatch):
    import glassgrad.labs._translation as T

    gg.manual_seed(0)
    model = TransformerMT(len(corpus.src_vocab), len(corpus.tgt_vocab), 8, 2, 1, 16, 0.0)
    losses = iter([3.0, 1.0, 2.0])
    monkeypatch.setattr(T, "valid_loss", lambda m, c: next(losses))
    ck = BestCheckpoint(model, corpus, every=2)
    w = model.out.bias
    for n in range(1, 7):
        with gg.no_grad():
            w.fill_(float(n))
        ck(n)
    assert ck.curve == [(2, 3.0), (4, 1.0), (6, 2.0)]
    assert ck.restore() == 4 and np.all(model.out.bias.detach().numpy() == 4.0)


def test_length_penalty_reaches_the_beam(corpus, monkeypatch):
    import glassgrad.labs._translation as T

    seen = []

    def fake_beam(step, bos, eos, max_len, beam_size, alpha, state):
        seen.append((beam_size, alpha))
        return [type("H", (), {"tokens": [7]})()]
    monkeypatch.setattr(T, "beam_search", fake_beam)
    model = TransformerMT(len(corpus.src_vocab), len(corpus.tgt_vocab), 8, 2, 1, 16, 0.0)
    assert translate(model, corpus, corpus.test_src[:1], beam=3, alpha=0.6) == [corpus.tgt_vocab.decode([7])[0]]
    assert seen == [(3, 0.6)]


def test_full_report_names_the_selected_checkpoints(tmp_path, monkeypatch):
    import matplotlib

    import glassgrad.labs._translation as T

    matplotlib.use("Agg")
    monkeypatch.setattr(T, "translation_experiment", lambda ctx: _stub_result(9.0, "full"))
    ctx = LabContext(out_dir=tmp_path, progress=False, full=True)
    run_translation(ctx)
    assert [c.holds for c in ctx.claims] == [True]
    assert any("lowest validation loss kept (steps 2,500 and 3,000)" in t for t in ctx.text)
