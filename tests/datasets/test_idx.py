"""The IDX reader on small files written here: every type code, and every kind of damage."""

import gzip
import struct

import numpy as np
import pytest

from glassgrad.datasets import IDXError, parse_idx, read_idx
from glassgrad.datasets._idx import IDX_DTYPES, md5_hex


def idx_bytes(array: np.ndarray, code: int) -> bytes:
    """An IDX file's bytes, built field by field from the format's definition."""
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", s) for s in array.shape)
    return header + array.astype(IDX_DTYPES[code]).tobytes()


@pytest.mark.parametrize(
    "code, dtype", [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32), (0x0D, np.float32),
                    (0x0E, np.float64)]
)
def test_every_type_code_round_trips_in_native_byte_order(code, dtype):
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    array = (rng.integers(info.min, info.max, size=(3, 4, 5), endpoint=True) if info
             else rng.standard_normal((3, 4, 5))).astype(dtype)
    out = parse_idx(idx_bytes(array, code))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, array)
    assert out.flags.writeable  # users may normalize in place


def test_sizes_are_read_big_endian():
    array = np.arange(300 * 2, dtype=np.uint8).reshape(300, 2)  # 300 = 0x012C: byte order matters
    assert parse_idx(idx_bytes(array, 0x08)).shape == (300, 2)


def test_one_dimensional_and_gzipped_files(tmp_path):
    labels = np.array([5, 0, 4, 1, 9], dtype=np.uint8)
    (tmp_path / "labels").write_bytes(idx_bytes(labels, 0x08))
    (tmp_path / "labels.gz").write_bytes(gzip.compress(idx_bytes(labels, 0x08)))
    np.testing.assert_array_equal(read_idx(tmp_path / "labels"), labels)
    np.testing.assert_array_equal(read_idx(tmp_path / "labels.gz"), labels)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x00\x00", "too short"),
        (b"\x00\x01\x08\x01\x00\x00\x00\x01\x07", "bad magic"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x07", "bad magic"),  # 0x07 is no type code
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated header"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02", "truncated"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "trailing bytes"),
        (b"\x00\x00\x0c\x01\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00", "truncated"),  # int32 needs 8 bytes
    ],
)
def test_damaged_bytes_raise_an_error_naming_the_file(data, message):
    with pytest.raises(IDXError, match=rf"my-file.*{message}"):
        parse_idx(data, "my-file")


def test_checksum_mismatch_names_the_file_and_both_sums(tmp_path):
    data = idx_bytes(np.arange(10, dtype=np.uint8), 0x08)
    path = tmp_path / "ten"
    path.write_bytes(data)
    assert read_idx(path, md5_hex(data)).shape == (10,)
    with pytest.raises(IDXError, match=rf"{path}.*checksum mismatch.*{md5_hex(data)}.*expected 0+"):
        read_idx(path, "0" * 32)


def test_missing_file_and_broken_gzip(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        read_idx(tmp_path / "nothing-here")
    packed = gzip.compress(idx_bytes(np.random.default_rng(0).integers(0, 256, 1000, dtype=np.uint8), 0x08))
    (tmp_path / "cut.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(IDXError, match="cut.gz.*gzip"):
        read_idx(tmp_path / "cut.gz")
    (tmp_path / "plain.gz").write_bytes(b"not gzip at all")
    with pytest.raises(IDXError, match="plain.gz.*gzip"):
        read_idx(tmp_path / "plain.gz")
