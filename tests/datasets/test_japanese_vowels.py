"""The shipped Japanese Vowels data: counts, shapes, values, checksum, and the padding collate."""

import importlib.util
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import torch

import glassgrad.datasets.japanese_vowels as jv
from glassgrad.datasets import ChecksumError, load_japanese_vowels, pad_utterances

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def splits():
    return {split: load_japanese_vowels(split) for split in ("train", "test")}


def test_counts_shapes_and_frame_ranges(splits):
    train, test = splits["train"], splits["test"]
    assert (len(train), len(test)) == (270, 370)
    for data in (train, test):
        assert data.num_speakers == 9 and data.labels.dtype == np.int64 and data.labels.shape == (len(data),)
        assert all(u.dtype == np.float32 and u.ndim == 2 and u.shape[1] == 12 for u in data.utterances)
        assert data.lengths.min() >= 7 and data.lengths.max() <= 29
    # the UCI description: lengths 7-29 over both splits, 9,961 frames in all
    both = np.concatenate([train.lengths, test.lengths])
    assert (both.min(), both.max(), both.sum()) == (7, 29, 9961)


def test_class_balance(splits):
    assert np.bincount(splits["train"].labels).tolist() == [30] * 9
    # the test split's 24-88 utterances per speaker, as in UCI's size_ae.test
    assert np.bincount(splits["test"].labels).tolist() == [31, 35, 88, 44, 29, 24, 40, 50, 29]


def test_values_are_the_source_files(splits):
    first = splits["train"].utterances[0]  # the first data line of JapaneseVowels_TRAIN.ts
    assert first.shape == (20, 12) and splits["train"].labels[0] == 0
    np.testing.assert_allclose(first[:2, :3], [[1.860936, -0.207383, 0.261557], [1.891651, -0.193249, 0.235363]],
                               rtol=1e-6)
    assert all(np.isfinite(u).all() for data in splits.values() for u in data.utterances)


def test_bad_split_is_named():
    with pytest.raises(ValueError, match=r"split must be one of \('train', 'test'\), got 'valid'"):
        load_japanese_vowels("valid")


def test_checksum_mismatch_raises_a_clear_error(monkeypatch):
    monkeypatch.setattr(jv, "SHA256", "0" * 64)
    with pytest.raises(ChecksumError, match=r"japanese_vowels.npz: sha256 is [0-9a-f]{64}, expected 0{64}"):
        load_japanese_vowels("train")


def test_readme_records_source_license_and_the_checksum():
    readme = resources.files("glassgrad.datasets").joinpath("data", "README.md").read_text("utf-8")
    section = readme[readme.index("## japanese_vowels.npz"):]
    assert jv.SHA256 in section and "CC BY 4.0" in section and "Kudo" in section and "aeon-1.6.0" in section


def test_pad_utterances_matches_torch_pad_sequence_and_masks_the_padding(splits):
    utterances = splits["test"].utterances[:6]
    batch = pad_utterances(utterances)
    expected = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(u) for u in utterances], batch_first=True)
    np.testing.assert_array_equal(batch.features, expected.numpy())
    assert batch.features.dtype == np.float32
    np.testing.assert_array_equal(batch.lengths, [len(u) for u in utterances])
    assert batch.padding_mask.dtype == bool and batch.padding_mask.shape == batch.features.shape[:2]
    for row, length in zip(batch.padding_mask, batch.lengths):
        assert not row[:length].any() and row[length:].all()  # True = padding, as key_padding_mask


def test_pad_utterances_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one utterance"):
        pad_utterances([])
    with pytest.raises(ValueError, match=r"same F, got shapes \[\(3, 12\), \(4, 11\)\]"):
        pad_utterances([np.zeros((3, 12)), np.zeros((4, 11))])


def _converter():
    path = ROOT / "tools" / "convert_japanese_vowels.py"
    spec = importlib.util.spec_from_file_location("convert_japanese_vowels", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_converter_parses_the_ts_format():
    channels = [",".join(str(c + 0.5 * t) for t in range(3)) for c in range(12)]
    text = "#comment\n@problemName JapaneseVowels\n@dimensions 12\n@data\n" + ":".join(channels) + ":7\n"
    utterances, labels = _converter().parse_ts(text)
    assert labels == [7] and utterances[0].shape == (3, 12)
    assert utterances[0][2, 5] == 5 + 0.5 * 2  # frame 2 of coefficient 5
    with pytest.raises(ValueError, match="expected 12 channels, got 2"):
        _converter().parse_ts("@data\n1,2:3,4:1\n")
