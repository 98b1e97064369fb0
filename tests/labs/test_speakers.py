"""The self-attention lab's speaker part (Japanese Vowels), quick setting: its claims, results and
figures; and the helpers it rests on (masked mean, padding, attention weights, schedule)."""

import math

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.labs._lab import Lab, run_lab
from glassgrad.labs._speakers import (
    SpeakerGRU,
    SpeakerMLP,
    SpeakerTransformer,
    Split,
    count_params,
    gru_hidden_for,
    load_speakers,
    masked_mean,
    mlp_hidden_for,
    run_speakers,
    utterance_statistics,
    warmup_cosine,
)

SPEAKERS = Lab(name="speakers", lecture="Lectures 9-10", title="Speaker classification",
               summary="the self-attention lab's speaker part, run alone", run=run_speakers)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run_lab(SPEAKERS, tmp_path_factory.mktemp("speakers"), progress=False)


@pytest.mark.slow  # the self-attention lab's quick run (tests/labs/test_self_attention.py) runs this part
def test_claims_hold(result):
    assert result.error is None, result.error
    assert len(result.claims) == 2
    failed = [c for c in result.claims if not c.holds]
    assert not failed, failed


@pytest.mark.slow  # the self-attention lab's quick run (tests/labs/test_self_attention.py) runs this part
def test_results_report_every_model_as_measured(result):
    models = result.results["speakers"]["models"]
    assert list(models) == ["Transformer", "mean-pooling MLP", "GRU", "logistic regression (mean, std)"]
    assert all(0.9 <= m["test_accuracy"] <= 1 for m in models.values())  # all trained, none at chance
    sizes = [models[k]["params"] for k in ("Transformer", "mean-pooling MLP", "GRU")]
    assert max(sizes) <= 1.1 * min(sizes)  # "the same size": within 10%
    cm = np.array(result.results["speakers"]["confusion_matrix"])
    assert cm.shape == (9, 9) and cm.sum() == 370
    assert np.isclose(np.trace(cm) / 370, models["Transformer"]["test_accuracy"])


@pytest.mark.slow  # the self-attention lab's quick run (tests/labs/test_self_attention.py) runs this part
def test_figures_and_text(result):
    assert sorted(result.figures) == ["speakers_attention.png", "speakers_confusion.png"]
    text = "\n".join(result.text)
    assert "Japanese Vowels" in text and "| Transformer |" in text and "| GRU |" in text


# -- helpers ---------------------------------------------------------------------------------------


def _ragged_batch(rng, lengths, pad_to, pad_value):
    x = np.full((len(lengths), pad_to, 12), pad_value, dtype=np.float32)
    for i, n in enumerate(lengths):
        x[i, :n] = rng.normal(size=(n, 12))
    mask = np.arange(pad_to)[None, :] >= np.array(lengths)[:, None]
    return x, mask


def test_masked_mean_averages_each_utterance_over_its_own_frames():
    rng = np.random.default_rng(0)
    x, mask = _ragged_batch(rng, [3, 5, 1], 6, pad_value=7.0)
    got = masked_mean(gg.tensor(x), gg.tensor(mask)).numpy()
    expected = [x[i, :n].mean(0) for i, n in enumerate([3, 5, 1])]
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize("make", [lambda: SpeakerTransformer(16, 32), lambda: SpeakerMLP(20),
                                  lambda: SpeakerGRU(12)], ids=["transformer", "mlp", "gru"])
def test_models_ignore_the_padding(make):
    """The padding mask keeps padded frames out of attention, pooling and the GRU: more padding,
    with any values in it, leaves every utterance's logits as they were."""
    gg.manual_seed(0)
    model = make().eval()
    lengths = [4, 7, 2]
    short_x, short_mask = _ragged_batch(np.random.default_rng(1), lengths, 7, pad_value=0.0)
    long_x, long_mask = _ragged_batch(np.random.default_rng(1), lengths, 11, pad_value=-3.0)
    with gg.no_grad():
        short = model(gg.tensor(short_x), gg.tensor(short_mask)).numpy()
        long = model(gg.tensor(long_x), gg.tensor(long_mask)).numpy()
    np.testing.assert_allclose(short, long, rtol=1e-5, atol=1e-6)


def test_attention_weights_are_distributions_over_the_real_frames():
    gg.manual_seed(0)
    model = SpeakerTransformer(16, 32).train()
    x, mask = _ragged_batch(np.random.default_rng(2), [5, 3], 6, pad_value=1.0)
    weights = model.attention_weights(gg.tensor(x), gg.tensor(mask))
    assert weights.shape == (2, 2, 6, 6)  # (batch, heads, query, key)
    np.testing.assert_allclose(weights.sum(-1), 1, rtol=1e-5)
    assert (weights[1, :, :, 3:] == 0).all() and (weights[0, :, :, 5:] == 0).all()  # no weight on padding
    assert (weights[:, :, :, :3] > 0).all()  # eval mode: no dropout zeroed a weight
    assert model.training  # and the model is left as it was


def test_same_size_models():
    n = count_params(SpeakerTransformer(32, 64))
    for model in (SpeakerMLP(mlp_hidden_for(n)), SpeakerGRU(gru_hidden_for(n))):
        assert abs(count_params(model) - n) <= 0.05 * n


def test_warmup_then_cosine_schedule():
    """Linear from lr/warmup up to lr at step ``warmup``, then a cosine down to 0; as PyTorch's
    SequentialLR of the same two schedulers."""
    import torch

    opt = gg.optim.AdamW([gg.zeros(1, requires_grad=True)], lr=1.0)
    sched = warmup_cosine(opt, warmup=4, total=20)
    t_opt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=1.0)
    t_sched = torch.optim.lr_scheduler.SequentialLR(
        t_opt, [torch.optim.lr_scheduler.LinearLR(t_opt, start_factor=0.25, total_iters=4),
                torch.optim.lr_scheduler.CosineAnnealingLR(t_opt, T_max=16)], milestones=[4])
    lrs, t_lrs = [], []
    for _ in range(21):
        lrs.append(sched.get_last_lr()[0])
        t_lrs.append(t_sched.get_last_lr()[0])
        opt.step()
        sched.step()
        t_opt.step()
        t_sched.step()
    np.testing.assert_allclose(lrs[:5], [0.25, 0.4375, 0.625, 0.8125, 1.0])
    np.testing.assert_allclose(lrs[4:], [0.5 * (1 + math.cos(math.pi * k / 16)) for k in range(17)], atol=1e-12)
    np.testing.assert_allclose(lrs, t_lrs, atol=1e-12)


def test_standardized_with_training_statistics_and_utterance_statistics():
    train, test, info = load_speakers()
    frames = train.features[~train.padding_mask]
    np.testing.assert_allclose(frames.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(frames.std(0), 1, atol=1e-4)
    assert (train.features[train.padding_mask] == 0).all()
    assert len(train) == 270 and len(test) == 370 and test.features.shape[1] == 29
    stats = utterance_statistics(test)
    n = test.lengths[7]
    np.testing.assert_allclose(stats[7], np.concatenate([test.features[7, :n].mean(0), test.features[7, :n].std(0)]),
                               rtol=1e-5, atol=1e-6)


def test_split_batch_cuts_to_the_longest_utterance():
    split = Split(np.zeros((3, 9, 12), np.float32), np.array([2, 5, 9]),
                  np.arange(9)[None] >= np.array([2, 5, 9])[:, None], np.array([0, 1, 2]))
    x, mask, lengths = split.batch(np.array([0, 1]))
    assert tuple(x.shape) == (2, 5, 12) and tuple(mask.shape) == (2, 5) and lengths.tolist() == [2, 5]
