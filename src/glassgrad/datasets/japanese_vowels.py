"""The Japanese Vowels data set: which of 9 speakers said /ae/, from 12 LPC cepstrum coefficients per frame.

It stands in for the course's speaker-classification homework (lectures 9-10), which classifies
speakers from mel features: each utterance is a variable-length sequence of 12-dimensional frames
(7 to 29 of them), so a model must handle sequences of different lengths, which is what padding
masks are for. 270 training utterances (30 per speaker) and 370 test utterances (24 to 88 per
speaker), from the UCI Machine Learning Repository (Kudo, Toyama and Shimbo, Pattern Recognition
Letters 20, 1999), CC BY 4.0; source, conversion and checksum in ``glassgrad/datasets/data/README.md``.

    import glassgrad as gg
    train = gg.datasets.load_japanese_vowels("train")
    batch = gg.datasets.pad_utterances(train.utterances[:32])
    batch.features.shape, batch.padding_mask.shape      # (32, T_max, 12), (32, T_max); True = padding
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from importlib import resources
from typing import NamedTuple

import numpy as np

FILENAME = "japanese_vowels.npz"
SHA256 = "2cc4d811a3977f6334ae30ed1b2e1b218bd25c8d3838d180cb89dccc6c6f038f"
NUM_SPEAKERS = 9
NUM_FEATURES = 12  # LPC cepstrum coefficients per frame
SPLITS = ("train", "test")


class ChecksumError(ValueError):
    """A shipped data file's bytes are not the ones recorded when it was made."""


@dataclass
class JapaneseVowels:
    """One split: ``utterances[i]`` is a (T_i, 12) float32 array (frames in rows), ``labels[i]`` its speaker 0-8."""

    split: str
    utterances: list[np.ndarray]
    labels: np.ndarray  # int64, (N,)
    num_speakers: int = NUM_SPEAKERS

    def __len__(self) -> int:
        return len(self.utterances)

    @property
    def lengths(self) -> np.ndarray:
        """Frames per utterance, int64 (N,)."""
        return np.array([len(u) for u in self.utterances], dtype=np.int64)


def _verified_bytes(data: bytes, expected_sha256: str, name: str) -> bytes:
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected_sha256:
        raise ChecksumError(f"{name}: sha256 is {digest}, expected {expected_sha256}; the shipped file was "
                            "changed or damaged (reinstall glassgrad, or rebuild it with "
                            "tools/convert_japanese_vowels.py and update the checksum)")
    return data


def load_japanese_vowels(split: str = "train") -> JapaneseVowels:
    """The ``"train"`` (270 utterances) or ``"test"`` (370) split of Japanese Vowels, as shipped.

    The file's sha256 is checked first, so a damaged copy fails loudly instead of training on
    wrong numbers.
    """
    if split not in SPLITS:
        raise ValueError(f"load_japanese_vowels: split must be one of {SPLITS}, got {split!r}")
    raw = resources.files("glassgrad.datasets").joinpath("data", FILENAME).read_bytes()
    with np.load(io.BytesIO(_verified_bytes(raw, SHA256, FILENAME)), allow_pickle=False) as arrays:
        frames, offsets = arrays["frames"], arrays["offsets"]
        labels, is_test = arrays["labels"].astype(np.int64), arrays["is_test"]
    chosen = np.flatnonzero(is_test == (split == "test"))
    return JapaneseVowels(split=split, utterances=[frames[offsets[i]:offsets[i + 1]] for i in chosen],
                          labels=labels[chosen])


class PaddedBatch(NamedTuple):
    """Utterances of different lengths stacked into one array, and which entries are padding."""

    features: np.ndarray  # (B, T_max, F), zeros after each utterance's end
    lengths: np.ndarray  # int64 (B,)
    padding_mask: np.ndarray  # bool (B, T_max): True where there is no frame (key_padding_mask's convention)


def pad_utterances(utterances: list[np.ndarray], padding_value: float = 0.0) -> PaddedBatch:
    """Pad (T_i, F) arrays at the end to the longest one: a batch a Transformer or a packed RNN can take.

    ``padding_mask`` follows ``nn.MultiheadAttention``'s ``key_padding_mask``: True marks a
    padded position, which attention must not look at and pooling must not average.
    """
    if len(utterances) == 0:
        raise ValueError("pad_utterances: expected at least one utterance, got an empty list")
    shapes = [np.shape(u) for u in utterances]
    if any(len(s) != 2 or s[0] == 0 or s[1] != shapes[0][1] for s in shapes):
        raise ValueError(f"pad_utterances: expected non-empty (T_i, F) arrays with the same F, got shapes {shapes}")
    lengths = np.array([s[0] for s in shapes], dtype=np.int64)
    dtype = np.result_type(*utterances)
    features = np.full((len(utterances), lengths.max(), shapes[0][1]), padding_value, dtype=dtype)
    for row, utterance in zip(features, utterances):
        row[:len(utterance)] = utterance
    padding_mask = np.arange(lengths.max())[None, :] >= lengths[:, None]
    return PaddedBatch(features, lengths, padding_mask)
