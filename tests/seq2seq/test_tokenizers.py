"""Character and word tokenizers."""

import pytest

from glassgrad.seq2seq import CharTokenizer, Vocab, WordTokenizer


def test_char_tokenizer_splits_chinese_into_characters():
    tok = CharTokenizer()
    assert tok("我爱 北京！") == ["我", "爱", "北", "京", "！"]
    assert tok.detokenize(tok("我爱北京")) == "我爱北京"


def test_char_tokenizer_can_keep_spaces_and_lowercase():
    tok = CharTokenizer(lowercase=True, keep_spaces=True)
    assert tok("Hi yo") == ["h", "i", " ", "y", "o"]
    assert tok.detokenize(tok("a b c")) == "a b c"


def test_word_tokenizer_splits_punctuation_and_keeps_apostrophes():
    assert WordTokenizer()("Don't stop, Bob!  It's 3.5km...") == [
        "don't", "stop", ",", "bob", "!", "it's", "3", ".", "5km", ".", ".", ".",
    ]  # fmt: skip
    assert WordTokenizer(lowercase=False)("Héllo Wörld") == ["Héllo", "Wörld"]
    assert WordTokenizer().detokenize(["a", "b", "!"]) == "a b !"


def test_tokenizers_feed_a_vocab():
    tok = WordTokenizer()
    sentences = ["The cat sat.", "The dog sat!"]
    v = Vocab.build(tok(s) for s in sentences)
    assert v.decode(v.encode(tok("the cat sat!"))) == ["the", "cat", "sat", "!"]


@pytest.mark.parametrize("tok", [CharTokenizer(), WordTokenizer()])
def test_tokenizers_refuse_non_strings(tok):
    with pytest.raises(TypeError, match="expected a string, got list"):
        tok(["a"])
