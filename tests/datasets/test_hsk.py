"""The HSK English-Chinese pairs: the fixed, stratified split, its sizes, and the tokenization."""

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.datasets import HSKPairs, load_hsk
from glassgrad.datasets.hsk import split_indices, tokenize_chinese, tokenize_english


@pytest.fixture(scope="module")
def splits():
    return {s: load_hsk(s) for s in ("train", "valid", "test")}


def test_sizes_and_no_placeholders(splits):
    assert [len(splits[s]) for s in ("train", "valid", "test")] == [3429, 430, 430]
    for d in splits.values():
        assert isinstance(d, HSKPairs)
        assert len(d.english) == len(d.chinese) == len(d.levels) == len(d.ids) == len(d.english_tokens)
        assert "placeholder" not in {e.strip().lower() for e in d.english}


def test_splits_are_disjoint_and_cover_the_data(splits):
    ids = [set(d.ids) for d in splits.values()]
    assert sum(len(s) for s in ids) == len(set().union(*ids)) == 4289


def test_split_is_stratified_by_level(splits):
    counts = {s: np.bincount(d.levels, minlength=7)[1:] for s, d in splits.items()}
    total = sum(counts.values())
    assert (total == [281, 538, 727, 801, 935, 1007]).all()  # 4,354 records less 65 placeholders (HSK 5, 6)
    for s in ("valid", "test"):
        assert np.abs(counts[s] - 0.1 * total).max() <= 0.5 + 1e-9  # each level's 10 %, rounded


def test_split_is_fixed_whatever_the_global_seed():
    gg.manual_seed(123)
    np.random.seed(7)
    a = load_hsk("test").ids
    gg.manual_seed(0)
    np.random.seed(0)
    assert load_hsk("test").ids == a
    first = load_hsk("test")
    assert (first.english[0], first.chinese[0]) == ("Excuse me, what is your name?", "请问，你叫什么名字？")


def test_split_indices_depends_on_the_seed_only():
    levels = np.repeat([1, 2, 3], [10, 20, 30])
    a, b, c = split_indices(levels, seed=1), split_indices(levels, seed=1), split_indices(levels, seed=2)
    assert all((a[s] == b[s]).all() for s in a)
    assert any(len(a[s]) != len(c[s]) or (a[s] != c[s]).any() for s in a)
    assert [len(a[s]) for s in ("train", "valid", "test")] == [48, 6, 6]


def test_tokenization():
    assert tokenize_english("Don't go, Bob!") == ["don't", "go", ",", "bob", "!"]
    assert tokenize_chinese("老师，您好！") == ["老", "师", "，", "您", "好", "！"]
    d = load_hsk("valid")
    i = d.ids.index("hsk1-0001")
    assert d.english_tokens[i] == ["hello", ",", "teacher", "!"]
    assert "".join(d.chinese_tokens[i]) == d.chinese[i] == "老师，您好！"


def test_bad_split_is_named():
    with pytest.raises(ValueError, match="split must be one of .* got 'dev'"):
        load_hsk("dev")
