"""BLEU: the wrappers against sacrebleu itself and against values worked out by hand."""

import math

import pytest
import sacrebleu

from glassgrad.metrics import corpus_bleu, sentence_bleu

HYPS = ["The cat is on the mat.", "There is a dog in the garden!", "He reads a book"]
REFS_A = ["The cat sits on the mat.", "A dog is in the garden!", "He is reading a book"]
REFS_B = ["On the mat is a cat.", "There's a dog in the garden.", "He reads books"]


def test_perfect_match_is_100_and_no_overlap_is_0():
    assert corpus_bleu(["a b c d e"], ["a b c d e"]) == pytest.approx(100.0)
    assert corpus_bleu(["a b c d e"], ["v w x y z"]) == 0.0


def test_brevity_penalty_by_hand():
    # every n-gram of the hypothesis is in the reference (p_1..p_4 = 1), but c = 5 < r = 6:
    # BP = exp(1 - r / c) = exp(-0.2)
    assert corpus_bleu(["the cat sat on the"], ["the cat sat on the mat"]) == pytest.approx(100 * math.exp(-0.2))


def test_precisions_by_hand():
    # hyp "a b c d x y" vs ref "a b c d e f": p1 = 4/6, p2 = 3/5, p3 = 2/4, p4 = 1/3, same length (BP = 1)
    expected = 100 * math.exp((math.log(4 / 6) + math.log(3 / 5) + math.log(2 / 4) + math.log(1 / 3)) / 4)
    assert corpus_bleu(["a b c d x y"], ["a b c d e f"]) == pytest.approx(expected)


def test_clipping_counts_an_ngram_at_most_as_often_as_in_a_reference():
    # "the the the the" against "the cat": p1 = 1/4 (one "the" in the reference), p2..p4 = 0
    assert corpus_bleu(["the the the the"], ["the cat"], smooth_method="none") == 0.0
    assert corpus_bleu(["the the the the"], ["the cat"], smooth_method="floor", smooth_value=0.1) == pytest.approx(
        100 * math.exp((math.log(1 / 4) + math.log(0.1 / 3) + math.log(0.1 / 2) + math.log(0.1 / 1)) / 4)
    )


@pytest.mark.parametrize("tokenize", ["13a", "intl", "char", "none"])
@pytest.mark.parametrize("lowercase", [False, True])
def test_corpus_bleu_is_sacrebleus_with_references_per_hypothesis(tokenize, lowercase):
    refs = [[a, b] for a, b in zip(REFS_A, REFS_B)]
    expected = sacrebleu.corpus_bleu(HYPS, [REFS_A, REFS_B], tokenize=tokenize, lowercase=lowercase).score
    assert corpus_bleu(HYPS, refs, tokenize=tokenize, lowercase=lowercase) == pytest.approx(expected, abs=1e-12)
    one = sacrebleu.corpus_bleu(HYPS, [REFS_A], tokenize=tokenize, lowercase=lowercase).score
    assert corpus_bleu(HYPS, REFS_A, tokenize=tokenize, lowercase=lowercase) == pytest.approx(one, abs=1e-12)
    assert 0 < expected < 100 and expected != one


def test_a_varying_number_of_references():
    refs = [[REFS_A[0], REFS_B[0]], [REFS_A[1]], REFS_B[2]]
    expected = sacrebleu.corpus_bleu(HYPS, [[REFS_A[0], REFS_A[1], REFS_B[2]], [REFS_B[0], None, None]]).score
    assert corpus_bleu(HYPS, refs) == pytest.approx(expected)


def test_chinese_tokenizer():
    hyps, refs = ["我喜欢吃苹果。", "今天天气很好"], ["我爱吃苹果。", "今天的天气很好"]
    zh = corpus_bleu(hyps, refs, tokenize="zh")
    assert zh == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs], tokenize="zh").score)
    # without it, each unspaced Chinese sentence is one token, and nothing matches
    assert corpus_bleu(hyps, refs) == 0.0 and zh > 30
    assert sentence_bleu("我爱北京天安门", ["我爱北京天安门"], tokenize="zh") == pytest.approx(100.0)


def test_token_lists_are_joined_and_not_tokenized_again():
    hyps = [h.split() for h in HYPS]
    refs = [[a.split(), b.split()] for a, b in zip(REFS_A, REFS_B)]
    expected = sacrebleu.corpus_bleu(HYPS, [REFS_A, REFS_B], tokenize="none").score
    assert corpus_bleu(hyps, refs) == pytest.approx(expected)
    assert corpus_bleu(hyps, [r.split() for r in REFS_A]) == pytest.approx(corpus_bleu(HYPS, REFS_A, tokenize="none"))
    # characters of Chinese as tokens: the same as sacrebleu's zh tokenizer on this text
    assert corpus_bleu([list("我喜欢吃苹果")], [list("我爱吃苹果")]) == pytest.approx(
        corpus_bleu(["我喜欢吃苹果"], ["我爱吃苹果"], tokenize="zh")
    )


def test_sentence_bleu_is_sacrebleus():
    for h, a, b in zip(HYPS, REFS_A, REFS_B):
        assert sentence_bleu(h, [a, b]) == pytest.approx(sacrebleu.sentence_bleu(h, [a, b]).score)
        assert sentence_bleu(h, a) == pytest.approx(sacrebleu.sentence_bleu(h, [a]).score)
        assert sentence_bleu(h.split(), a.split()) == pytest.approx(
            sacrebleu.sentence_bleu(h, [a], tokenize="none").score
        )
    # smoothing and effective order: a short hypothesis without 4-grams still scores above 0
    assert sentence_bleu("the cat", "the cat sat") > 0


def test_bad_input():
    with pytest.raises(ValueError, match="got 2 hypotheses but 1 reference entries"):
        corpus_bleu(["a", "b"], ["a"])
    with pytest.raises(TypeError, match="hypotheses must be a list of sentences, got a single string"):
        corpus_bleu("a b", ["a b"])
    with pytest.raises(TypeError, match="the hypotheses are strings, so reference of hypothesis 0 must be a string"):
        corpus_bleu(["a b"], [[["a", "b"]]])
    with pytest.raises(TypeError, match="must be a list of tokens"):
        corpus_bleu([["a", "b c"]], [["a"]])
    with pytest.raises(ValueError, match="hypothesis 0 has no reference"):
        corpus_bleu(["a b"], [[]])
