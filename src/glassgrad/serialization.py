"""Checkpoints: ``save(obj, path)`` and ``load(path)``, as ``torch.save`` / ``torch.load``.

``obj`` is a (nested) state: dicts, lists, tuples, tensors, NumPy arrays, numbers, strings, bools
and None, e.g. ``{"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}``.
The file is a `safetensors <https://github.com/huggingface/safetensors>`_ file: every tensor and
array is stored there by name (``model.fc1.weight``), and the rest of the structure, with
references to those names, is JSON in the file's metadata header. Unlike a pickle, loading such a
file never runs code, and other tools can read the tensors.

A SHA-256 digest of the structure and of every array's name, dtype, shape and bytes is stored
with them, so a truncated or corrupted file is refused with a clear error instead of loading
wrong numbers. Writes are atomic: the bytes go to a temporary file in the same directory, which
is flushed to disk and then renamed over the target, so a crash mid-save leaves the previous
file intact.

``load`` also reads PyTorch's ``torch.save`` files (``.pt``/``.pth``: state dicts and nested
dicts and lists of tensors) without torch and without running code from them; see
``_torch_format.py``. docs/serialization.md describes moving weights both ways.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
from typing import IO, Any

import numpy as np
import safetensors
import safetensors.numpy

from glassgrad import _backend, _dtype
from glassgrad._tensor import Tensor, from_numpy
from glassgrad._torch_format import LEGACY_MAGIC, CheckpointError, CheckpointReader

__all__ = ["CheckpointError", "load", "save"]

_FORMAT = "glassgrad"
_VERSION = 1

# JSON markers of values that JSON cannot hold directly; a dict whose keys collide with them, or
# that has non-string keys, is stored as a list of [key, value] pairs under "__dict__".
_MARKERS = ("__tensor__", "__ndarray__", "__tuple__", "__dict__", "__float__", "__dtype__")


# -- save --------------------------------------------------------------------------------------


class _Encoder:
    """Turns a nested state into JSON-able structure plus a flat ``{name: array}`` dict."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self._name_of_id: dict[int, str] = {}  # the same tensor twice is stored once
        self._keep_alive: list = []  # objects whose id() is in _name_of_id

    def _name_for(self, obj, path: str) -> str:
        name = path or "tensor"
        base, i = name, 1
        while name in self.arrays:  # two paths can spell the same name ("a.b" vs "a" -> "b")
            name, i = f"{base}#{i}", i + 1
        self._name_of_id[id(obj)] = name
        self._keep_alive.append(obj)
        return name

    def _store(self, obj, array: np.ndarray, path: str) -> str:
        if id(obj) in self._name_of_id:
            return self._name_of_id[id(obj)]
        array = np.asarray(array)
        if array.dtype.kind not in "biuf":
            where = path or "the top level"
            raise TypeError(f"save: cannot store an array of dtype {array.dtype} at {where}")
        name = self._name_for(obj, path)
        # (not np.ascontiguousarray: it turns a 0-d array into a 1-d one)
        self.arrays[name] = array if array.flags.c_contiguous else array.copy(order="C")
        return name

    def encode(self, obj, path: str = ""):
        where = path or "the top level"
        if isinstance(obj, Tensor):
            # a GPU tensor is stored from a CPU copy; it loads onto the CPU, as every tensor does
            entry = {"__tensor__": self._store(obj, _backend.to_numpy(obj._data), path)}
            if obj.requires_grad:
                entry["requires_grad"] = True
            return entry
        if isinstance(obj, np.ndarray):
            return {"__ndarray__": self._store(obj, obj, path)}
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, np.generic) and obj.dtype.kind in "biuf":
            obj = obj.item()
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj) if math.isfinite(obj) else {"__float__": repr(float(obj))}
        if isinstance(obj, _dtype.dtype):
            return {"__dtype__": obj.name}
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]
        if isinstance(obj, dict):
            if all(isinstance(k, str) and k not in _MARKERS for k in obj):
                return {k: self.encode(v, _join(path, k)) for k, v in obj.items()}
            return {"__dict__": [[self._encode_key(k, where), self.encode(v, _join(path, k))]
                                 for k, v in obj.items()]}
        raise TypeError(
            f"save: cannot store a {type(obj).__name__} at {where}; a checkpoint holds tensors, NumPy "
            "arrays, numbers, strings, bools, None, and lists, tuples and dicts of them (save "
            "model.state_dict() rather than the model)"
        )

    def _encode_key(self, key, where: str):
        if isinstance(key, (Tensor, np.ndarray, list, dict)):
            raise TypeError(f"save: a dict key at {where} is a {type(key).__name__}; keys must be "
                            "numbers, strings, bools, None or tuples of them")
        return self.encode(key, "")


def _join(path: str, key) -> str:
    return f"{path}.{key}" if path else str(key)


def _digest(version: str, structure: str, arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of the format version, the structure, and each array's name, dtype, shape and
    bytes: everything the file holds except the digest itself."""
    h = hashlib.sha256(json.dumps([version, structure]).encode())
    for name in sorted(arrays):
        a = arrays[name]
        h.update(json.dumps([name, a.dtype.str, list(a.shape)]).encode())
        h.update(a.data if a.size else b"")
    return h.hexdigest()


def save(obj: Any, f: str | os.PathLike | IO[bytes]) -> None:
    """Write ``obj`` (a nested state of tensors, arrays and plain values) to the path ``f``
    atomically, or to the binary file object ``f``. See the module docstring for the format."""
    encoder = _Encoder()
    structure = json.dumps(encoder.encode(obj), allow_nan=False, separators=(",", ":"))
    metadata = {
        "format": _FORMAT,
        "glassgrad.version": str(_VERSION),
        "glassgrad.structure": structure,
        "glassgrad.sha256": _digest(str(_VERSION), structure, encoder.arrays),
    }
    data = safetensors.numpy.save(encoder.arrays, metadata=metadata)
    if hasattr(f, "write"):
        f.write(data)
    else:
        _atomic_write(os.fspath(f), data)


def _atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` always holds either its old or its new
    content: write a temporary file next to it, fsync it, then rename it over ``path``."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: the directory {directory!r} of {path!r} does not exist")
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    # os.open with mode 0o666 lets the umask decide the permissions, as open(path, "wb") would
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    if os.name == "posix":  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# -- load --------------------------------------------------------------------------------------


def load(f: str | os.PathLike | IO[bytes], map_location=None, weights_only: bool | None = None) -> Any:
    """Read a checkpoint (from a path or a binary file object): one written by :func:`save`, any
    safetensors file (it loads as a flat ``{name: Tensor}`` dict), or a ``torch.save`` file.

    A ``torch.save`` file loads as what was saved, with each torch tensor a glassgrad tensor
    (``OrderedDict`` state dicts stay ``OrderedDict``); float16 and bfloat16 become float32, int8
    and int16 become int32. Only tensors, storages, dtypes, devices and plain containers are
    accepted, as torch's ``weights_only=True``: a file that names any other function is refused
    before anything runs. ``map_location`` and ``weights_only`` are accepted for PyTorch
    compatibility and change nothing: tensors load onto the CPU, and loading never runs code.
    """
    if hasattr(f, "read"):
        name, data = getattr(f, "name", repr(f)), f.read()
    else:
        name = os.fspath(f)
        with open(name, "rb") as fh:
            data = fh.read()
    if data[:4] == b"PK\x03\x04":  # a zip archive: torch.save's format
        return CheckpointReader(data, name).load()
    if data.startswith(LEGACY_MAGIC):
        raise CheckpointError(
            f"cannot load {name!r}: it is a torch.save file in the legacy format (PyTorch before 1.6, or "
            "_use_new_zipfile_serialization=False), which glassgrad does not read; load it in torch and "
            "save it again with torch.save (or safetensors)"
        )
    return _decode_file(data, name)


def _decode_file(data: bytes, name: str):
    def fail(why: str) -> CheckpointError:
        return CheckpointError(f"cannot load {name!r}: {why}")

    try:
        arrays = safetensors.numpy.load(data)
        header_len = int.from_bytes(data[:8], "little")
        metadata = json.loads(data[8:8 + header_len]).get("__metadata__") or {}
    except Exception as e:  # safetensors' own error says what is wrong with the bytes
        if data[:1] == b"\x80":
            raise fail("it looks like a bare pickle, which glassgrad does not load (it could run "
                       "code); glassgrad reads safetensors files and torch.save zip archives") from None
        raise fail(f"not a valid safetensors file (truncated, corrupted, or another format): {e}") from None

    ours = metadata.get("format") == _FORMAT or any(k.startswith("glassgrad") for k in metadata)
    if not ours:  # a plain safetensors file from another tool
        return {k: from_numpy(_writable(a)) for k, a in arrays.items()}
    try:
        if metadata["format"] != _FORMAT:
            raise KeyError("format")
        version_text = metadata["glassgrad.version"]
        structure_text = metadata["glassgrad.structure"]
        expected = metadata["glassgrad.sha256"]
    except KeyError:
        raise fail("its glassgrad metadata is incomplete or corrupted") from None
    if _digest(version_text, structure_text, arrays) != expected:
        raise fail("the file is corrupted: its content does not match the checksum stored in it")
    if version_text != str(_VERSION):
        raise fail(f"it has checkpoint format version {version_text}; this glassgrad reads "
                   f"version {_VERSION}")
    try:
        return _Decoder(arrays).decode(json.loads(structure_text))
    except (KeyError, TypeError, ValueError) as e:
        raise fail(f"its structure is corrupted ({e})") from None


def _writable(array: np.ndarray) -> np.ndarray:
    """A writable copy (safetensors gives read-only views of the file's bytes); float16, which
    glassgrad does not support, becomes float32."""
    return array.astype(np.float32) if array.dtype == np.float16 else array.copy()


class _Decoder:
    def __init__(self, arrays: dict[str, np.ndarray]):
        self.arrays = arrays
        self._objects: dict[str, Tensor | np.ndarray] = {}  # one object per stored name, as saved

    def decode(self, node):
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            return node
        if "__tensor__" in node:
            name = node["__tensor__"]
            if name not in self._objects:
                self._objects[name] = t = Tensor._wrap(_writable(self.arrays[name]), False)
                if node.get("requires_grad"):
                    t.requires_grad = True
            return self._objects[name]
        if "__ndarray__" in node:
            name = node["__ndarray__"]
            if name not in self._objects:
                self._objects[name] = _writable(self.arrays[name])
            return self._objects[name]
        if "__tuple__" in node:
            return tuple(self.decode(v) for v in node["__tuple__"])
        if "__float__" in node:
            return float(node["__float__"])
        if "__dtype__" in node:
            return _dtype.to_dtype(node["__dtype__"])
        if "__dict__" in node:
            return {self.decode(k): self.decode(v) for k, v in node["__dict__"]}
        return {k: self.decode(v) for k, v in node.items()}
