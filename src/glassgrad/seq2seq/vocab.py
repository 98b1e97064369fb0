"""A vocabulary: the two-way map between tokens and the integer ids a model reads and writes.

Four special tokens come first: ``<pad>`` (fills short sequences of a batch), ``<bos>`` (starts
every decoder input), ``<eos>`` (the model writes it to say the sequence is over) and ``<unk>``
(stands for every token the vocabulary does not hold).
"""

from __future__ import annotations

import json
import numbers
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

DEFAULT_SPECIALS: dict[str, str] = {"pad": "<pad>", "bos": "<bos>", "eos": "<eos>", "unk": "<unk>"}
_ROLES = ("pad", "bos", "eos", "unk")


class Vocab:
    """Tokens and their ids: the special tokens take ids ``0, 1, 2, ...`` in the order of
    ``specials`` (by default ``<pad>`` = 0, ``<bos>`` = 1, ``<eos>`` = 2, ``<unk>`` = 3), then come
    ``tokens`` in their given order. Unknown tokens encode to ``unk_id``.

    ``specials`` maps each role (``pad``, ``bos``, ``eos``, ``unk``, all four required; more
    roles such as ``mask`` are allowed) to its token; its order sets the ids, so fairseq's layout
    is ``{"bos": "<s>", "pad": "<pad>", "eos": "</s>", "unk": "<unk>"}``.
    """

    def __init__(self, tokens: Iterable[str] = (), specials: Mapping[str, str] | None = None):
        specials = dict(DEFAULT_SPECIALS if specials is None else specials)
        missing = [role for role in _ROLES if role not in specials]
        if missing:
            raise ValueError(f"Vocab: specials must name a token for each of {_ROLES}; missing {missing}")
        self.specials: dict[str, str] = specials
        self.itos: list[str] = []
        self.stoi: dict[str, int] = {}
        for token in list(specials.values()) + list(tokens):
            if not isinstance(token, str):
                raise TypeError(f"Vocab: tokens must be strings, got {token!r} ({type(token).__name__})")
            if token in self.stoi:
                raise ValueError(f"Vocab: the token {token!r} is given twice")
            self.stoi[token] = len(self.itos)
            self.itos.append(token)

    @classmethod
    def build(
        cls,
        sequences: Iterable[Sequence[str]],
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Mapping[str, str] | None = None,
    ) -> Vocab:
        """The vocabulary of a corpus (an iterable of token lists): every token seen at least
        ``min_freq`` times, the most frequent first (ties in order of first appearance), at most
        ``max_size`` tokens in all, special tokens included."""
        if min_freq < 1:
            raise ValueError(f"Vocab.build: min_freq must be at least 1, got {min_freq}")
        if isinstance(sequences, str):
            raise TypeError("Vocab.build: expected an iterable of token lists, got a single string; tokenize it first")
        counts: Counter[str] = Counter()
        for seq in sequences:
            if isinstance(seq, str):
                raise TypeError(f"Vocab.build: expected token lists, got the string {seq!r}; tokenize it first")
            counts.update(seq)
        reserved = set((DEFAULT_SPECIALS if specials is None else specials).values())
        # Counter keeps first-appearance order and sorted() is stable, so ties keep that order
        ranked = [t for t, c in sorted(counts.items(), key=lambda tc: -tc[1]) if c >= min_freq and t not in reserved]
        if max_size is not None:
            n_specials = len(DEFAULT_SPECIALS if specials is None else specials)
            if max_size < n_specials:
                raise ValueError(f"Vocab.build: max_size={max_size} leaves no room for the {n_specials} special tokens")
            ranked = ranked[: max_size - n_specials]
        return cls(ranked, specials)

    # the special ids, by role
    @property
    def pad_id(self) -> int:
        return self.stoi[self.specials["pad"]]

    @property
    def bos_id(self) -> int:
        return self.stoi[self.specials["bos"]]

    @property
    def eos_id(self) -> int:
        return self.stoi[self.specials["eos"]]

    @property
    def unk_id(self) -> int:
        return self.stoi[self.specials["unk"]]

    @property
    def special_ids(self) -> set[int]:
        return {self.stoi[t] for t in self.specials.values()}

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        """The id of ``token``, or ``unk_id`` for a token not in the vocabulary."""
        return self.stoi.get(token, self.unk_id)

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, specials={self.specials})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.itos == other.itos and self.specials == other.specials

    def encode(self, tokens: Sequence[str], add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """The ids of ``tokens`` (unknown ones become ``unk_id``), with ``<bos>``/``<eos>`` around them if asked."""
        if isinstance(tokens, str):
            raise TypeError(f"Vocab.encode: expected a list of tokens, got the string {tokens!r}; tokenize it first")
        ids = [self[t] for t in tokens]
        return ([self.bos_id] if add_bos else []) + ids + ([self.eos_id] if add_eos else [])

    def decode(self, ids: Iterable[int], skip_specials: bool = True, stop_at_eos: bool = True) -> list[str]:
        """The tokens of ``ids`` (a list or a 1-D tensor): reading stops at the first ``<eos>``
        (``stop_at_eos``), and special tokens are left out (``skip_specials``; ``<unk>`` stays,
        since it stands for a real token)."""
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        skipped = self.special_ids - {self.unk_id} if skip_specials else set()
        tokens = []
        for i in ids:
            i = int(i) if isinstance(i, numbers.Integral) and not isinstance(i, bool) else i
            if not isinstance(i, int) or not 0 <= i < len(self):
                raise IndexError(f"Vocab.decode: id {i!r} is not in the vocabulary of size {len(self)}")
            if stop_at_eos and i == self.eos_id:
                break
            if i not in skipped:
                tokens.append(self.itos[i])
        return tokens

    # saving: JSON, readable and stable across versions
    def to_dict(self) -> dict:
        return {"specials": self.specials, "itos": self.itos}

    @classmethod
    def from_dict(cls, d: Mapping) -> Vocab:
        specials, itos = dict(d["specials"]), list(d["itos"])
        if itos[: len(specials)] != list(specials.values()):
            raise ValueError("Vocab.from_dict: itos must begin with the special tokens, in the order of specials")
        return cls(itos[len(specials) :], specials)

    def save(self, path: str | Path) -> None:
        """Write the vocabulary as JSON (UTF-8, so Chinese tokens stay readable)."""
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
