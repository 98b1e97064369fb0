"""Tokenizers: text to the tokens a :class:`~glassgrad.seq2seq.Vocab` maps to ids, and back.

Two simple, documented rules rather than a trained subword model: characters (fit for Chinese,
where every character carries meaning and words are not separated by spaces) and words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# a word: letters, digits or underscores (any script), with apostrophes inside kept ("don't", "l'eau")
_WORD = re.compile(r"\w+(?:'\w+)*|[^\w\s]")


class CharTokenizer:
    """Every character is a token: ``"你好!" -> ["你", "好", "!"]``. Whitespace is dropped
    (``keep_spaces=False``, the default, right for Chinese) or kept as tokens of its own
    (``keep_spaces=True``, so that English can be rebuilt exactly)."""

    def __init__(self, lowercase: bool = False, keep_spaces: bool = False):
        self.lowercase = lowercase
        self.keep_spaces = keep_spaces

    def tokenize(self, text: str) -> list[str]:
        _check_text(text, "CharTokenizer")
        if self.lowercase:
            text = text.lower()
        return [c for c in text if self.keep_spaces or not c.isspace()]

    __call__ = tokenize

    def detokenize(self, tokens: Sequence[str]) -> str:
        return "".join(tokens)

    def __repr__(self) -> str:
        return f"CharTokenizer(lowercase={self.lowercase}, keep_spaces={self.keep_spaces})"


class WordTokenizer:
    """Words and punctuation: a token is a run of letters, digits and underscores (apostrophes
    inside a word kept), or one other non-space character alone, so punctuation is split off:
    ``"Don't stop, Bob!" -> ["don't", "stop", ",", "bob", "!"]`` (with the default
    ``lowercase=True``). Chinese has no spaces, so a whole run of Chinese characters would be
    one token: use :class:`CharTokenizer` for it."""

    def __init__(self, lowercase: bool = True):
        self.lowercase = lowercase

    def tokenize(self, text: str) -> list[str]:
        _check_text(text, "WordTokenizer")
        if self.lowercase:
            text = text.lower()
        return _WORD.findall(text)

    __call__ = tokenize

    def detokenize(self, tokens: Sequence[str]) -> str:
        """The tokens joined by spaces (the original spacing around punctuation is not kept)."""
        return " ".join(tokens)

    def __repr__(self) -> str:
        return f"WordTokenizer(lowercase={self.lowercase})"


def _check_text(text, who: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"{who}: expected a string, got {type(text).__name__}")
