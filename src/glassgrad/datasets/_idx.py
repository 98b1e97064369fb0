"""Reading IDX files, the simple binary format MNIST is stored in.

An IDX file is a header, then the array's values in C order, big-endian:

    bytes 0-1   zero
    byte  2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    then d      big-endian uint32 sizes, one per dimension
    then        prod(sizes) values of the type

Every check below turns a damaged file into an :class:`IDXError` that names it, so a bad
download can never come back as an array of garbage.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

import numpy as np

# type code -> big-endian NumPy dtype of the values
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class IDXError(ValueError):
    """An IDX file that is missing, truncated, damaged, or not the file that was expected."""


def read_bytes(path: str | Path) -> bytes:
    """The file's content, gunzipped when its name ends in ``.gz``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    raw = path.read_bytes()
    if path.suffix != ".gz":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError
        raise IDXError(f"{path}: not a valid gzip file, or a truncated one ({err})") from None


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes into an array of the file's shape, in native byte order.

    ``name`` is only used in error messages.
    """
    if len(data) < 4:
        raise IDXError(f"{name}: {len(data)} bytes is too short for an IDX header (4 bytes at least)")
    zero0, zero1, code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0 or code not in IDX_DTYPES:
        raise IDXError(
            f"{name}: bad magic number 0x{int.from_bytes(data[:4], 'big'):08x}; an IDX file starts with "
            f"0x0000 then a type code in {{{', '.join(f'0x{c:02x}' for c in IDX_DTYPES)}}}"
        )
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise IDXError(f"{name}: truncated header ({len(data)} bytes, {header_len} needed for {ndim} dims)")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = header_len + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has trailing bytes"
        raise IDXError(
            f"{name}: {what}: header says shape {shape} of {dtype.name}, i.e. {expected} bytes, "
            f"but the file has {len(data)}"
        )
    # bytearray -> a writable array; astype makes it native-endian (no copy for uint8 beyond this one)
    values = np.frombuffer(bytearray(memoryview(data)[header_len:]), dtype=dtype)
    return values.astype(dtype.newbyteorder("="), copy=False).reshape(shape)


def read_idx(path: str | Path, md5: str | None = None) -> np.ndarray:
    """Read an IDX file (gzipped or not); check the MD5 of its uncompressed bytes if given."""
    data = read_bytes(path)
    array = parse_idx(data, str(path))  # structural errors first: they say more than a checksum
    if md5 is not None:
        got = md5_hex(data)
        if got != md5:
            raise IDXError(
                f"{path}: checksum mismatch: MD5 of the uncompressed content is {got}, expected {md5} "
                "(the file is damaged or is not the expected file; delete it to download it again)"
            )
    return array
