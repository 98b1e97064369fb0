"""Reading PyTorch's ``torch.save`` files without torch, and without running code from them.

A ``torch.save`` file (PyTorch 1.6 and later) is a zip archive::

    <name>/data.pkl      the object, pickled; each tensor's bytes are *not* in it
    <name>/data/<key>    one record per storage: the raw bytes of a flat array
    <name>/byteorder     "little" or "big" (older files lack it: little)
    <name>/version ...   format bookkeeping, not needed here

In ``data.pkl`` a tensor is the call ``torch._utils._rebuild_tensor_v2(storage, offset, size,
stride, requires_grad, hooks)``; the storage is a *persistent id* ``("storage", torch.FloatStorage,
key, location, numel)`` that names the record ``data/<key>``. Several tensors may name one key:
views of one memory (a transpose, a slice, tied weights).

A pickle is a small stack-machine program, and ``pickle.load`` runs it: ``GLOBAL os system``
followed by ``REDUCE`` calls ``os.system``. So this module does not use ``pickle.load``. It walks
the opcodes with ``pickletools.genops`` (which only parses) and executes them itself, knowing a
short list of globals (:data:`_GLOBALS`: the tensor rebuilders, storage types, ``OrderedDict``,
``torch.Size``, dtypes, devices), as torch's ``weights_only=True`` does. Any other global, and
any opcode that builds arbitrary objects, is refused before anything is called.

Each storage becomes one NumPy array and each tensor a strided view of it, so views share memory
as they did in torch. dtypes that glassgrad lacks are widened exactly: float16 and bfloat16
become float32 (NumPy has no bfloat16, and glassgrad computes in float32 or float64), int8 and
int16 become int32. Tensors saved from a GPU load onto the CPU.
"""

from __future__ import annotations

import io
import pickletools
import zipfile
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np

from glassgrad import _dtype
from glassgrad._device import device
from glassgrad._tensor import Tensor


class CheckpointError(RuntimeError):
    """A file that cannot be read as a checkpoint: truncated, corrupted, unsafe, or another format."""


# The first bytes of a legacy (pre-1.6, or _use_new_zipfile_serialization=False) torch.save file:
# protocol 2, then the pickled magic number 0x1950a86a20f9469cfc6c.
LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"


# -- storages: torch's typed storage name -> how its bytes are read and what glassgrad holds --------


def _bfloat16_to_float32(raw: np.ndarray) -> np.ndarray:
    """bfloat16 is the top half of a float32, so shifting its 16 bits up is exact."""
    return (raw.astype(np.uint32) << 16).view(np.float32)


# name: (NumPy dtype of the stored bytes, conversion to a glassgrad dtype or None if none needed)
_STORAGES = {
    "FloatStorage": (np.float32, None),
    "DoubleStorage": (np.float64, None),
    "HalfStorage": (np.float16, lambda a: a.astype(np.float32)),
    "BFloat16Storage": (np.uint16, _bfloat16_to_float32),
    "LongStorage": (np.int64, None),
    "IntStorage": (np.int32, None),
    "ShortStorage": (np.int16, lambda a: a.astype(np.int32)),
    "CharStorage": (np.int8, lambda a: a.astype(np.int32)),
    "ByteStorage": (np.uint8, None),
    "BoolStorage": (np.bool_, None),
}


class _StorageType:
    """What ``GLOBAL torch FloatStorage`` stands for: the element type of a storage."""

    def __init__(self, name: str):
        self.name = name
        self.stored, self.convert = _STORAGES[name]

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class _Storage:
    """A loaded storage: the flat array every tensor naming this key views."""

    def __init__(self, array: np.ndarray, key: str):
        self.array = array
        self.key = key


# -- the globals a checkpoint may name -----------------------------------------------------------


class CheckpointReader:
    """Reads one ``torch.save`` zip archive held in ``data`` (bytes); ``name`` is for errors."""

    def __init__(self, data: bytes, name: str):
        self.name = name
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            names = self.zip.namelist()
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise self.error(f"it is a damaged zip archive (truncated or corrupted: {e})") from None
        if any(n.endswith("constants.pkl") or "/code/" in n for n in names):
            raise self.error("it is a TorchScript archive (torch.jit.save), not a torch.save "
                             "checkpoint; save model.state_dict() with torch.save instead")
        pickles = [n for n in names if n == "data.pkl" or n.endswith("/data.pkl")]
        if not pickles:
            raise self.error("it is a zip archive without a data.pkl record, so not a torch.save "
                             "checkpoint")
        self.prefix = pickles[0][: -len("data.pkl")]
        order = self._read(self.prefix + "byteorder").decode() if self.prefix + "byteorder" in names else "little"
        if order not in ("little", "big"):
            raise self.error(f"its byteorder record says {order!r}, expected 'little' or 'big'")
        self.byteorder = "<" if order == "little" else ">"
        self.storages: dict[tuple[str, str], _Storage] = {}  # (key, storage type) -> storage
        self.raw: dict[str, bytearray] = {}  # key -> the record's bytes, shared by same-type views

    def error(self, why: str) -> CheckpointError:
        return CheckpointError(f"cannot load {self.name!r}: {why}")

    def _read(self, record: str) -> bytes:
        try:
            return self.zip.read(record)
        except KeyError:
            raise self.error(f"the record {record!r} is missing from the archive (a truncated or "
                             "damaged file)") from None
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:  # a bad CRC, cut-off data
            raise self.error(f"the record {record!r} is damaged ({e})") from None

    def load(self) -> Any:
        return _Unpickler(self).run(self._read(self.prefix + "data.pkl"))

    # -- what the pickle asks for -----------------------------------------------------------------

    def storage(self, pid) -> _Storage:
        """The storage a persistent id ``("storage", type, key, location, numel)`` names."""
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise self.error(f"unexpected persistent id {pid!r}; only tensor storages are supported")
        _, kind, key, _location, numel = pid
        if not isinstance(kind, _StorageType):
            raise self.error(f"a storage of type {kind!r}, expected a torch storage type such as FloatStorage")
        if not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise self.error(f"a malformed storage reference {pid!r}")
        if (key, kind.name) not in self.storages:
            if key not in self.raw:
                self.raw[key] = bytearray(self._read(f"{self.prefix}data/{key}"))
            raw = self.raw[key]
            stored = np.dtype(kind.stored).newbyteorder(self.byteorder)
            if len(raw) < numel * stored.itemsize:
                raise self.error(f"the storage record data/{key} holds {len(raw)} bytes, but "
                                 f"{numel} elements of {kind.name} need {numel * stored.itemsize}")
            array = np.frombuffer(raw, dtype=stored, count=numel)  # writable: it views a bytearray
            if not stored.isnative:
                array = array.astype(stored.newbyteorder("="))
            if kind.convert is not None:
                array = kind.convert(array)
            self.storages[key, kind.name] = _Storage(array, key)
        return self.storages[key, kind.name]

    def tensor(self, storage, offset, size, stride, requires_grad, hooks=None, metadata=None) -> Tensor:
        """``torch._utils._rebuild_tensor_v2``: the strided view of ``storage`` as a tensor."""
        if not isinstance(storage, _Storage):
            raise self.error(f"a tensor's storage is a {type(storage).__name__}, expected a storage record")
        ints = (offset, *size, *stride)
        if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in ints) or len(size) != len(stride):
            raise self.error(f"a tensor has a malformed layout: offset {offset!r}, size {size!r}, stride {stride!r}")
        base = storage.array
        if 0 not in size:  # the last element the view reaches must lie inside the storage
            last = offset + sum((n - 1) * s for n, s in zip(size, stride))
            if last >= base.size:
                raise self.error(f"a tensor of size {tuple(size)}, stride {tuple(stride)} and offset "
                                 f"{offset} reaches past the end of storage data/{storage.key} "
                                 f"({base.size} elements)")
        start = base[offset:] if offset < base.size else base[:0]
        strides = tuple(s * base.itemsize for s in stride)
        array = np.lib.stride_tricks.as_strided(start, shape=tuple(size), strides=strides)
        t = Tensor._wrap(array, False)
        if requires_grad:
            t.requires_grad = True
        return t

    def parameter(self, data, requires_grad, hooks=None, state=None) -> Tensor:
        """``torch._utils._rebuild_parameter``: an ``nn.Parameter`` loads as a tensor."""
        if not isinstance(data, Tensor):
            raise self.error(f"a parameter wraps a {type(data).__name__}, expected a tensor")
        if requires_grad and data.dtype.is_floating_point:
            data.requires_grad = True
        return data


def _torch_size(items=()) -> tuple:
    return tuple(items)


def _codecs_encode(text, encoding="utf-8") -> bytes:
    """How protocol 2 pickles ``bytes``: ``_codecs.encode(text, 'latin1')``."""
    if not isinstance(text, str) or not isinstance(encoding, str):
        raise TypeError("_codecs.encode: expected two strings")
    return text.encode(encoding)


_TORCH_DTYPES = {
    "float32": _dtype.float32, "float": _dtype.float32, "float64": _dtype.float64, "double": _dtype.float64,
    "float16": _dtype.float32, "half": _dtype.float32, "bfloat16": _dtype.float32,
    "int64": _dtype.int64, "long": _dtype.int64, "int32": _dtype.int32, "int": _dtype.int32,
    "int16": _dtype.int32, "short": _dtype.int32, "int8": _dtype.int32, "uint8": _dtype.uint8,
    "bool": _dtype.bool_,
}


def _resolve_global(reader: CheckpointReader, module: str, name: str):
    """The value of ``GLOBAL module name`` if it is one a checkpoint may name; else a clear error.
    Callables come back bound to ``reader``; the rest (dtypes, storage types) are plain values."""
    if module == "__builtin__":  # protocol 2 spells Python 3's builtins the Python 2 way
        module = "builtins"
    if module == "torch._utils" and name == "_rebuild_tensor_v2":
        return reader.tensor
    if module == "torch._utils" and name in ("_rebuild_parameter", "_rebuild_parameter_with_state"):
        return reader.parameter
    if module == "collections" and name == "OrderedDict":
        return OrderedDict
    if module == "torch" and name in _STORAGES:
        return _StorageType(name)
    if module == "torch" and name == "Size":
        return _torch_size
    if module == "torch" and name == "device":
        return device
    if module == "torch" and name in _TORCH_DTYPES:
        return _TORCH_DTYPES[name]
    if module == "_codecs" and name == "encode":
        return _codecs_encode
    if module == "builtins" and name in ("set", "frozenset"):
        return {"set": set, "frozenset": frozenset}[name]
    hint = ""
    if module.split(".")[0] in ("torch", "__main__", "__torch__"):
        hint = ("; a whole model pickled with torch.save(model) needs its code to load, so save "
                "model.state_dict() instead")
    raise reader.error(
        f"it names the global {module}.{name}, which a checkpoint of tensors does not need; glassgrad "
        "loads only tensors, storages, dtypes, devices, OrderedDict and plain containers (as torch's "
        f"weights_only=True), and ran nothing from the file{hint}"
    )


# -- the opcode interpreter ----------------------------------------------------------------------


class _Mark:
    """The MARK opcode's entry on the stack: where a variable-length group of items begins."""


_MARK = _Mark()
_CONSTANTS = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}
_LITERALS = frozenset({  # opcodes whose argument, as pickletools decodes it, is the value itself
    "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT",
    "UNICODE", "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8",
    "SHORT_BINBYTES", "BINBYTES", "BINBYTES8", "SHORT_BINSTRING", "BINSTRING", "STRING",
})
_IGNORED = frozenset({"PROTO", "FRAME"})


class _Unpickler:
    """Executes the opcodes of ``data.pkl`` on a stack, calling nothing but the allowed globals."""

    def __init__(self, reader: CheckpointReader):
        self.reader = reader
        self.callables = {reader.tensor, reader.parameter, OrderedDict, _torch_size, device,
                          _codecs_encode, set, frozenset}

    def _pop_mark(self) -> list:
        """The items pushed since the last MARK (removing them and the mark)."""
        stack = self.stack
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] is _MARK:
                items = stack[i + 1:]
                del stack[i:]
                return items
        raise self.reader.error("its pickle is malformed (a MARK is missing)")

    def run(self, program: bytes) -> Any:
        self.stack: list = []
        memo: dict = {}
        stack = self.stack
        try:
            for op, arg, _pos in pickletools.genops(program):
                name = op.name
                if name in _IGNORED:
                    continue
                if name in _LITERALS:
                    stack.append(arg)
                elif name in _CONSTANTS:
                    stack.append(_CONSTANTS[name])
                elif name == "STOP":
                    if len(stack) != 1:
                        break
                    return stack.pop()
                elif name == "MARK":
                    stack.append(_MARK)
                elif name == "POP":
                    stack.pop()
                elif name == "POP_MARK":
                    self._pop_mark()
                elif name == "DUP":
                    stack.append(stack[-1])
                elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                    memo[arg] = stack[-1]
                elif name == "MEMOIZE":
                    memo[len(memo)] = stack[-1]
                elif name in ("GET", "BINGET", "LONG_BINGET"):
                    stack.append(memo[arg])
                elif name == "EMPTY_LIST":
                    stack.append([])
                elif name == "EMPTY_DICT":
                    stack.append({})
                elif name == "EMPTY_SET":
                    stack.append(set())
                elif name == "EMPTY_TUPLE":
                    stack.append(())
                elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                    n = int(name[-1])
                    items = tuple(stack[-n:])
                    del stack[-n:]
                    stack.append(items)
                elif name == "TUPLE":
                    stack.append(tuple(self._pop_mark()))
                elif name == "LIST":
                    stack.append(self._pop_mark())
                elif name == "DICT":
                    items = self._pop_mark()
                    stack.append(dict(zip(items[::2], items[1::2])))
                elif name == "FROZENSET":
                    stack.append(frozenset(self._pop_mark()))
                elif name == "APPEND":
                    value = stack.pop()
                    self._container(stack[-1], list).append(value)
                elif name == "APPENDS":
                    items = self._pop_mark()
                    self._container(stack[-1], list).extend(items)
                elif name == "ADDITEMS":
                    items = self._pop_mark()
                    self._container(stack[-1], set).update(items)
                elif name == "SETITEM":
                    value, key = stack.pop(), stack.pop()
                    self._container(stack[-1], dict)[key] = value
                elif name == "SETITEMS":
                    items = self._pop_mark()
                    target = self._container(stack[-1], dict)
                    for key, value in zip(items[::2], items[1::2]):
                        target[key] = value
                elif name == "GLOBAL":
                    module, _, qualname = arg.partition(" ")
                    stack.append(_resolve_global(self.reader, module, qualname))
                elif name == "STACK_GLOBAL":
                    qualname, module = stack.pop(), stack.pop()
                    if not (isinstance(module, str) and isinstance(qualname, str)):
                        raise self.reader.error("its pickle names a global that is not a string")
                    stack.append(_resolve_global(self.reader, module, qualname))
                elif name == "REDUCE":
                    args, func = stack.pop(), stack.pop()
                    stack.append(self._call(func, args))
                elif name in ("BINPERSID", "PERSID"):
                    pid = stack.pop() if name == "BINPERSID" else arg
                    stack.append(self.reader.storage(pid))
                elif name == "BUILD":
                    state = stack.pop()
                    self._build(stack[-1], state)
                else:  # INST, OBJ, NEWOBJ, EXT1, buffers...: ways to make other objects
                    raise self.reader.error(f"its pickle uses the opcode {name}, which a checkpoint of "
                                            "tensors does not need; nothing was run")
        except CheckpointError:
            raise
        except (ValueError, IndexError, KeyError, TypeError, AttributeError, OverflowError) as e:
            # pickletools' errors for cut-off data, and an empty stack or a missing memo entry
            raise self.reader.error(f"its pickle is truncated or malformed ({type(e).__name__}: {e})") from None
        raise self.reader.error("its pickle is malformed (it does not end with one object)")

    def _container(self, target, kind: type):
        if not isinstance(target, kind):
            raise self.reader.error(f"its pickle adds items to a {type(target).__name__}, expected a {kind.__name__}")
        return target

    def _call(self, func, args):
        allowed = isinstance(func, Hashable) and func in self.callables
        if not allowed or not isinstance(args, tuple):
            raise self.reader.error(f"its pickle calls {func!r}, which is not one of the allowed "
                                    "constructors; nothing was run")
        try:
            return func(*args)
        except CheckpointError:
            raise
        except Exception as e:  # e.g. torch.device("mps"), which glassgrad has no backend for
            name = getattr(func, "__name__", repr(func))
            raise self.reader.error(f"rebuilding a value with {name} failed ({type(e).__name__}: {e})") from None

    def _build(self, target, state) -> None:
        """BUILD sets an object's state. torch's state dicts carry one attribute, ``_metadata``
        (the version of each module's format); nothing else is accepted."""
        if isinstance(target, OrderedDict) and isinstance(state, dict) and set(state) <= {"_metadata"}:
            for key, value in state.items():
                setattr(target, key, value)
            return
        raise self.reader.error(f"its pickle sets the state of a {type(target).__name__}, which a "
                                "checkpoint of tensors does not do; nothing was run")
