"""English-Chinese sentence pairs graded by HSK level, for translation (lectures 11-12).

The data is that of the PyPI package ``hsk-sentences-audio`` (a dependency of glassgrad): 4,354
Chinese sentences of the HSK 3.0 levels 1-6, each with pinyin and an English translation. Its
JSON file is read as it is shipped; nothing is downloaded. 65 records (of levels 5 and 6) carry
the English text ``"placeholder"`` instead of a translation: they are left out, which leaves
4,289 pairs.

**Source and license.** hsk-sentences-audio 1.0.0 (https://github.com/no7z/hsk-sentences-audio):
the packaged data set is CC-BY-SA-4.0 (Creative Commons Attribution-ShareAlike 4.0,
https://creativecommons.org/licenses/by-sa/4.0/), the package's code MIT. Attribution:
"HSK sentences from hsk-sentences-audio (CC BY-SA 4.0)".

**The split** is fixed (it does not depend on a lab's seed, so every run tests on the same
sentences): within each HSK level the pairs are shuffled with the fixed seed ``SPLIT_SEED`` and
cut 80 / 10 / 10 % into train / valid / test, so every split has the levels in the same
proportions. That gives 3,429 training, 430 validation and 430 test pairs.

**Tokens.** English: lowercased words and punctuation marks (:class:`~glassgrad.seq2seq.WordTokenizer`,
``"Hello, teacher!" -> ["hello", ",", "teacher", "!"]``). Chinese: one token per character,
punctuation included (:class:`~glassgrad.seq2seq.CharTokenizer`, ``"老师，您好！" -> ["老", "师",
"，", "您", "好", "！"]``): Chinese writes no spaces between words, and a character-level model
needs no word segmenter. The Chinese text of a split is given untouched, so BLEU can be taken on
it with sacrebleu's Chinese tokenizer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from glassgrad.seq2seq.tokenizers import CharTokenizer, WordTokenizer

SPLIT_SEED = 2024  # fixed: the split is part of the data set, not of an experiment
SPLITS = ("train", "valid", "test")
_FRACTIONS = {"valid": 0.1, "test": 0.1}  # the rest is train

_english = WordTokenizer(lowercase=True)
_chinese = CharTokenizer()


def tokenize_english(text: str) -> list[str]:
    """Lowercased words and punctuation: ``"Don't go, Bob!" -> ["don't", "go", ",", "bob", "!"]``."""
    return _english(text)


def tokenize_chinese(text: str) -> list[str]:
    """One token per character (spaces dropped): ``"你好！" -> ["你", "好", "！"]``."""
    return _chinese(text)


@dataclass
class HSKPairs:
    """One split of the HSK pairs: parallel lists of English and Chinese sentences, their HSK
    level (1-6) and record id, and the tokens of each side (see :func:`tokenize_english` and
    :func:`tokenize_chinese`)."""

    split: str
    english: list[str]
    chinese: list[str]
    levels: np.ndarray
    ids: list[str]
    english_tokens: list[list[str]] = field(init=False, repr=False)
    chinese_tokens: list[list[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.english_tokens = [tokenize_english(s) for s in self.english]
        self.chinese_tokens = [tokenize_chinese(s) for s in self.chinese]

    def __len__(self) -> int:
        return len(self.english)

    def __repr__(self) -> str:
        return f"HSKPairs(split={self.split!r}, pairs={len(self)})"


def _records() -> list[dict]:
    """The package's records that have an English translation."""
    try:
        from hsk_sentences_audio import load_sentences
    except ImportError as e:  # a dependency, but say what to install if it is missing
        raise ImportError(
            "load_hsk needs the package hsk-sentences-audio (a dependency of glassgrad): "
            "pip install 'hsk-sentences-audio>=1.0'"
        ) from e
    return [r for r in load_sentences() if r["translation"]["en"].strip().lower() != "placeholder"]


def split_indices(levels: np.ndarray, seed: int = SPLIT_SEED) -> dict[str, np.ndarray]:
    """Row indices of train, valid and test, stratified by ``levels``: each level's rows are
    shuffled with ``seed`` and cut into 10 % valid, 10 % test (rounded) and the rest train."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {s: [] for s in SPLITS}
    for level in np.unique(levels):
        rows = rng.permutation(np.flatnonzero(levels == level))
        n_valid = round(len(rows) * _FRACTIONS["valid"])
        n_test = round(len(rows) * _FRACTIONS["test"])
        parts["valid"].append(rows[:n_valid])
        parts["test"].append(rows[n_valid:n_valid + n_test])
        parts["train"].append(rows[n_valid + n_test:])
    return {s: np.sort(np.concatenate(p)) for s, p in parts.items()}


def load_hsk(split: str = "train") -> HSKPairs:
    """The ``"train"``, ``"valid"`` or ``"test"`` pairs (3,429 / 430 / 430) of the fixed split
    described in this module's docstring."""
    if split not in SPLITS:
        raise ValueError(f"load_hsk: split must be one of {SPLITS}, got {split!r}")
    records = _records()
    levels = np.array([r["hsk_level"] for r in records], dtype=np.int64)
    rows = split_indices(levels)[split]
    picked = [records[i] for i in rows]
    return HSKPairs(
        split=split,
        english=[r["translation"]["en"] for r in picked],
        chinese=[r["chinese"] for r in picked],
        levels=levels[rows],
        ids=[r["id"] for r in picked],
    )
