"""Vocab: special ids, building from a corpus, encode/decode, saving as JSON."""

import json

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.seq2seq import Vocab

CORPUS = [["the", "cat", "sat"], ["the", "dog", "sat"], ["the", "cat", "ran"], ["a", "cat"]]


def test_specials_take_ids_0_to_3():
    v = Vocab(["x", "y"])
    assert (v.pad_id, v.bos_id, v.eos_id, v.unk_id) == (0, 1, 2, 3)
    assert v.itos == ["<pad>", "<bos>", "<eos>", "<unk>", "x", "y"]
    assert v.stoi["y"] == 5 and len(v) == 6
    assert "x" in v and "z" not in v and "<eos>" in v


def test_configurable_specials_set_the_ids_in_their_order():
    v = Vocab(["x"], specials={"bos": "<s>", "pad": "<pad>", "eos": "</s>", "unk": "<unk>", "mask": "<mask>"})
    assert (v.bos_id, v.pad_id, v.eos_id, v.unk_id) == (0, 1, 2, 3)
    assert v.stoi["<mask>"] == 4 and v.stoi["x"] == 5
    with pytest.raises(ValueError, match=r"missing \['unk'\]"):
        Vocab(specials={"pad": "p", "bos": "b", "eos": "e"})


def test_build_orders_by_frequency_then_first_appearance():
    v = Vocab.build(CORPUS)
    # the:3, cat:3, sat:2, dog:1, ran:1, a:1 - ties keep the order tokens first appeared in
    assert v.itos[4:] == ["the", "cat", "sat", "dog", "ran", "a"]


def test_build_min_freq_and_max_size():
    assert Vocab.build(CORPUS, min_freq=2).itos[4:] == ["the", "cat", "sat"]
    assert Vocab.build(CORPUS, max_size=6).itos[4:] == ["the", "cat"]
    assert len(Vocab.build(CORPUS, max_size=4)) == 4
    with pytest.raises(ValueError, match="max_size=3 leaves no room for the 4 special tokens"):
        Vocab.build(CORPUS, max_size=3)
    with pytest.raises(ValueError, match="min_freq must be at least 1, got 0"):
        Vocab.build(CORPUS, min_freq=0)
    with pytest.raises(TypeError, match="tokenize it first"):
        Vocab.build(["the cat sat"])


def test_build_never_repeats_a_special_token_found_in_the_corpus():
    v = Vocab.build([["<eos>", "a", "<eos>"]])
    assert v.itos == ["<pad>", "<bos>", "<eos>", "<unk>", "a"]


def test_encode_and_decode():
    v = Vocab.build(CORPUS)
    ids = v.encode(["the", "cat", "flew"], add_bos=True, add_eos=True)
    assert ids == [1, 4, 5, 3, 2]
    assert v.decode(ids) == ["the", "cat", "<unk>"]
    assert v.decode(ids + [6, 0], stop_at_eos=False) == ["the", "cat", "<unk>", "sat"]
    assert v.decode(ids, skip_specials=False) == ["<bos>", "the", "cat", "<unk>"]
    assert v.decode(gg.tensor(ids)) == v.decode(np.array(ids)) == v.decode(ids)
    assert v["flew"] == v.unk_id
    with pytest.raises(IndexError, match="id 99 is not in the vocabulary of size 10"):
        v.decode([99])
    with pytest.raises(TypeError, match="expected a list of tokens, got the string"):
        v.encode("the cat")


def test_duplicate_and_non_string_tokens_are_refused():
    with pytest.raises(ValueError, match="'a' is given twice"):
        Vocab(["a", "a"])
    with pytest.raises(TypeError, match="tokens must be strings, got 3"):
        Vocab([3])


def test_save_and_load_round_trip_keeps_chinese_readable(tmp_path):
    v = Vocab.build([["你", "好"], ["好"]], specials={"unk": "<unk>", "pad": "<pad>", "bos": "<s>", "eos": "</s>"})
    path = tmp_path / "vocab.json"
    v.save(path)
    assert "你" in path.read_text(encoding="utf-8")
    w = Vocab.load(path)
    assert w == v and w.unk_id == 0 and w.stoi == v.stoi
    bad = json.loads(path.read_text(encoding="utf-8"))
    bad["itos"] = bad["itos"][1:]
    with pytest.raises(ValueError, match="itos must begin with the special tokens"):
        Vocab.from_dict(bad)
