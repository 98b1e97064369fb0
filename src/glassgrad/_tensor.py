"""The Tensor: an array, plus what autograd needs (``requires_grad``, ``grad``, ``grad_fn``).

A tensor made by the user is a leaf (``grad_fn is None``); a tensor computed by an op while grad
mode is on and some input requires grad remembers that op as its ``grad_fn``. ``backward``
walks those links in reverse (see ``autograd/engine.py``). Methods mirror PyTorch's and call
the functions in ``glassgrad.functions``.
"""

from __future__ import annotations

import numbers
import weakref

import numpy as np

from glassgrad import _backend, _dtype
from glassgrad._backend import array_module, is_array
from glassgrad._device import CPU, ToDevice, as_device, device, parse_to
from glassgrad._random import _generator_of
from glassgrad.autograd.grad_mode import state


class Tensor:
    """A multi-dimensional array with reverse-mode automatic differentiation.

    Create tensors with :func:`glassgrad.tensor`, :func:`glassgrad.zeros` and friends; the
    constructor ``Tensor(array)`` wraps an array as it is.
    """

    __slots__ = ("_data", "_requires_grad", "grad", "grad_fn", "_output_nr", "_version_box", "_retains_grad",
                 "_hooks", "__weakref__")
    __array_priority__ = 1000  # NumPy defers to Tensor's reflected operators (ndarray + Tensor)

    def __init__(self, data, requires_grad: bool = False):
        if isinstance(data, Tensor):
            data = data._data
        if not is_array(data):
            data = tensor(data)._data
        self._data = data
        self._requires_grad = False
        self.grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._version_box = [0]
        self._retains_grad = False
        self._hooks = None
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, array, requires_grad: bool) -> Tensor:
        """Wrap an op's result without checks (the fast path used by every op)."""
        t = object.__new__(cls)
        if type(array) is not np.ndarray and not is_array(array):
            array = np.asarray(array)
        t._data = array
        t._requires_grad = requires_grad
        t.grad = None
        t.grad_fn = None
        t._output_nr = 0  # which output of grad_fn this is (ops with several outputs: split)
        t._version_box = [0]
        t._retains_grad = False
        t._hooks = None  # a leaf's gradient hooks (a non-leaf's are kept by its grad_fn)
        return t

    # -- attributes ---------------------------------------------------------------------------

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and not self.dtype.is_floating_point:
            raise RuntimeError(
                f"only tensors of floating point dtype can require gradients, got {self.dtype}; "
                "convert it first with .float() or .double()"
            )
        if self.grad_fn is not None and not value:
            raise RuntimeError(
                "requires_grad can only be turned off on a leaf tensor; use .detach() instead"
            )
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype.from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> device:
        """Where the data lives: ``device(type='cpu')``, or a GPU such as ``cuda:0``."""
        return CPU if type(self._data) is np.ndarray else _backend.device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has seen (shared with its views)."""
        return self._version_box[0]

    @property
    def data(self) -> Tensor:
        """The same memory as a tensor outside the graph (in-place changes to it are not
        tracked, as in PyTorch; prefer ``detach()`` or ``no_grad``)."""
        t = Tensor._wrap(self._data, False)
        return t

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data if isinstance(value, Tensor) else value if is_array(value) else np.asarray(value)

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"item(): a tensor with {self._data.size} elements cannot be converted to a Python number"
            )
        return self._data.item()

    def numpy(self) -> np.ndarray:
        if self._requires_grad:
            raise RuntimeError(
                "can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()"
            )
        if type(self._data) is not np.ndarray:
            raise TypeError(f"can't convert a {self.device} tensor to NumPy; copy it to the CPU first with .cpu()")
        return self._data

    def tolist(self):
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous"
            )
        return bool(self._data.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.item())

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        body = np.array2string(
            _backend.to_numpy(self._data), separator=", ", precision=4, prefix="tensor(", threshold=200
        )
        extras = [] if self.device == CPU else [f"device='{self.device}'"]
        if self._data.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype={self.dtype!r}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # -- autograd -----------------------------------------------------------------------------

    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs=None) -> None:
        """Accumulate d(self)/d(leaf), weighted by ``gradient``, into every leaf's ``.grad``, or
        only into the ``.grad`` of ``inputs`` (tensors, leaves or not, that self depends on).

        ``gradient`` may be omitted only for a single-element tensor (it is then 1).
        """
        if not self._requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require grad and has no grad_fn "
                "(no input of its computation had requires_grad=True, or it was made under no_grad)"
            )
        gradient = _initial_gradient(self, gradient, "backward()")
        if inputs is not None:
            inputs = _autograd._backward_inputs(inputs, "backward()")
        if retain_graph is None:
            retain_graph = create_graph
        _engine.run_backward([self], [gradient], inputs, retain_graph, create_graph)

    def register_hook(self, hook):
        """Call ``hook(grad)`` with this tensor's gradient during each backward; if it returns a
        tensor, that replaces the gradient for the rest of the pass (and for ``.grad``). Returns
        a handle whose ``remove()`` unregisters it. On a leaf the hook sees the summed gradient
        before it is added into ``.grad``."""
        from glassgrad.nn.modules.module import RemovableHandle

        if not callable(hook):
            raise TypeError(f"register_hook: the hook must be callable, got {type(hook).__name__}")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = {}
            hooks = self._hooks
        else:  # kept by the node, so it runs even if this tensor object is dropped, as in PyTorch
            f = self.grad_fn
            if f._hooks is None:
                f._hooks = {}
            hooks = f._hooks.setdefault(self._output_nr, {})
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep theirs)."""

        if not self._requires_grad:
            raise RuntimeError("retain_grad(): this tensor does not require grad")
        if self.grad_fn is not None and not self._retains_grad:
            self._retains_grad = True
            f = self.grad_fn
            if f._hooks is None:
                f._hooks = {}  # the engine looks at the hooks of a node only when this is set
            if f._retained is None:
                f._retained = {}
            f._retained[self._output_nr] = weakref.ref(self)

    @property
    def output_nr(self) -> int:
        """Which output of ``grad_fn`` this tensor is (0 except for ops with several outputs)."""
        return self._output_nr

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def detach(self) -> Tensor:
        """The same memory as a new leaf outside the graph (shares the version counter)."""
        t = Tensor._wrap(self._data, False)
        t._version_box = self._version_box
        return t

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._requires_grad = False
        return self

    # -- dtype and device conversion ----------------------------------------------------------

    def to(self, *args, **kwargs) -> Tensor:
        """This tensor on another device and/or with another dtype, as PyTorch's ``to``:
        ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)`` or
        ``to(device=..., dtype=...)``; ``copy=True`` always returns a new tensor.

        ``self`` comes back when nothing changes. Otherwise the result is a new tensor in the
        graph: gradients flow back through a change of floating dtype and through a change of
        device (to the device ``self`` is on).
        """
        if len(args) == 1 and not kwargs and isinstance(args[0], _dtype.dtype):
            target, dtype, copy = None, args[0], False  # to(dtype): the common case, kept quick
        else:
            target, dtype, copy = parse_to("Tensor.to()", args, kwargs)
        if target is not None:
            target = _backend.resolve(target)  # 'cuda' -> the current GPU, with its index
        out = self
        if dtype is not None and self._data.dtype != dtype.numpy:
            if dtype.is_floating_point:

                out = _a.Cast(dtype)(out)
            else:  # integers and bools carry no gradient, as in PyTorch
                out = Tensor._wrap(out._data.astype(dtype.numpy), False)
        if target is not None and out.device != target:
            out = ToDevice(target)(out)
        if copy and out is self:
            out = self.clone()
        return out

    def type(self, dtype) -> Tensor:
        return self.to(dtype)

    def float(self) -> Tensor:
        return self.to(_dtype.float32)

    def double(self) -> Tensor:
        return self.to(_dtype.float64)

    def long(self) -> Tensor:
        return self.to(_dtype.int64)

    def int(self) -> Tensor:
        return self.to(_dtype.int32)

    def bool(self) -> Tensor:
        return self.to(_dtype.bool_)

    def cpu(self) -> Tensor:
        """This tensor in CPU memory (``self`` if it is there already)."""
        return self.to(CPU)

    def cuda(self, device: device | str | int | None = None, non_blocking: bool = False) -> Tensor:
        """This tensor on a GPU: ``device`` (an index or 'cuda:i'), or the current one if None."""
        target = _cuda_device("Tensor.cuda()", device)
        return self.to(target, non_blocking=non_blocking)

    def clone(self) -> Tensor:

        return _a.Clone()(self)

    def contiguous(self) -> Tensor:
        return self

    # -- in-place changes ---------------------------------------------------------------------

    def _check_inplace(self, op: str, value=None) -> None:
        if not self._data.flags.writeable:
            raise RuntimeError(
                f"{op}: this tensor is a read-only broadcast view (of an expand, or a gradient "
                "of a sum); clone() it before writing to it"
            )
        if not state.grad_enabled:
            return
        if self._requires_grad:
            if self.grad_fn is None:
                raise RuntimeError(
                    f"{op}: a leaf tensor that requires grad is being changed in place; do it "
                    "under `with glassgrad.no_grad():` (as an optimizer step does)"
                )
            raise RuntimeError(
                f"{op}: in-place changes of a tensor that is part of a recorded graph are not "
                "supported in glassgrad; use the out-of-place op (e.g. x = x + y, or "
                "masked_fill instead of masked_fill_)"
            )
        if isinstance(value, Tensor) and value._requires_grad:
            raise RuntimeError(
                f"{op}: the value written in place requires grad but this tensor does not, so "
                "its gradient would be lost; build the result out of place (cat, stack, where) "
                "or write it under `with glassgrad.no_grad():`"
            )

    def _bump_version(self) -> None:
        self._version_box[0] += 1

    def _inplace(self, op: str, value) -> Tensor:
        """Write ``value`` (array or tensor) into self's memory."""
        self._check_inplace(op, value)
        v = value._data if isinstance(value, Tensor) else value
        try:
            xp = array_module(self._data)
            if xp is np:
                np.copyto(self._data, _backend.to_numpy(v) if is_array(v) else v, casting="unsafe")
            else:  # a value from the CPU (a random draw, a state dict) is copied to self's GPU first
                self._data[...] = v if isinstance(v, xp.ndarray) else _backend.asarray_like(v, self._data)
        except ValueError:
            raise RuntimeError(
                f"{op}: a value of shape {tuple(np.shape(v))} cannot be written into a tensor of "
                f"shape {self.shape}"
            ) from None
        self._bump_version()
        return self

    def _binary_inplace(self, op: str, other, fn: str, alpha=1) -> Tensor:
        """``self = fn(self, other * alpha)`` in self's memory, keeping self's dtype; ``fn`` names
        the ufunc of self's array module."""
        self._check_inplace(op, other)
        operand = Tensor._wrap(other, False) if is_array(other) else other
        result = _dtype.result_type(self, operand, *([alpha] if alpha != 1 else []))
        if fn == "divide" and not result.is_floating_point:
            result = _dtype.get_default_dtype()
        if result.category > self.dtype.category:  # as torch: no silent float -> int truncation
            raise RuntimeError(
                f"{op}: the result is {result.name}, which cannot be stored in place in this "
                f"{self.dtype.name} tensor; compute it out of place instead"
            )
        o = other._data if isinstance(other, Tensor) else other
        if alpha != 1:
            o = o * alpha
        try:
            getattr(array_module(self._data), fn)(self._data, o, out=self._data, casting="unsafe")
        except ValueError:
            raise RuntimeError(
                f"{op}: an operand of shape {tuple(np.shape(o))} does not broadcast to the "
                f"tensor's shape {self.shape} (in-place ops cannot grow a tensor)"
            ) from None
        self._bump_version()
        return self

    def __iadd__(self, other):
        return self._binary_inplace("+=", other, "add")

    def __isub__(self, other):
        return self._binary_inplace("-=", other, "subtract")

    def __imul__(self, other):
        return self._binary_inplace("*=", other, "multiply")

    def __itruediv__(self, other):
        return self._binary_inplace("/=", other, "divide")

    def add_(self, other, alpha=1) -> Tensor:
        return self._binary_inplace("add_", other, "add", alpha)

    def sub_(self, other, alpha=1) -> Tensor:
        return self._binary_inplace("sub_", other, "subtract", alpha)

    def mul_(self, other) -> Tensor:
        return self._binary_inplace("mul_", other, "multiply")

    def div_(self, other) -> Tensor:
        return self._binary_inplace("div_", other, "divide")

    def clamp_(self, min=None, max=None) -> Tensor:  # noqa: A002
        return self._inplace("clamp_", array_module(self._data).clip(self._data, min, max))

    def zero_(self) -> Tensor:
        return self._inplace("zero_", 0)

    def fill_(self, value) -> Tensor:
        return self._inplace("fill_", value)

    def copy_(self, src) -> Tensor:
        return self._inplace("copy_", src if isinstance(src, Tensor) or is_array(src) else np.asarray(src))

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:

        g = _generator_of(generator)
        return self._inplace("normal_", g.normal(mean, std, self.shape))

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:

        g = _generator_of(generator)
        return self._inplace("uniform_", g.uniform(a, b, self.shape))

    def masked_fill_(self, mask, value) -> Tensor:
        self._check_inplace("masked_fill_", value)
        m = mask._data if isinstance(mask, Tensor) else mask
        self._data[...] = array_module(self._data).where(m, value, self._data)
        self._bump_version()
        return self

    def __setitem__(self, key, value) -> None:

        self._check_inplace("__setitem__", value)
        self._data[_a._normalize_key(key)] = value._data if isinstance(value, Tensor) else value
        self._bump_version()

    # -- operators ----------------------------------------------------------------------------

    def __add__(self, other):
        return _m.add(self, other)

    def __radd__(self, other):
        return _m.add(other, self)

    def __sub__(self, other):
        return _m.sub(self, other)

    def __rsub__(self, other):
        return _m.sub(other, self)

    def __mul__(self, other):
        return _m.mul(self, other)

    def __rmul__(self, other):
        return _m.mul(other, self)

    def __truediv__(self, other):
        return _m.div(self, other)

    def __rtruediv__(self, other):
        return _m.div(other, self)

    def __pow__(self, other):
        return _m.pow(self, other)

    def __rpow__(self, other):
        # a number takes part in type promotion as a number (2.5 ** int64 tensor is float32)
        return _m.pow(other, self)

    def __neg__(self):
        return _m.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _m.abs(self)

    def __matmul__(self, other):
        return _c.matmul(self, other)

    def __rmatmul__(self, other):
        return _c.matmul(_ops.as_tensor(other), self)

    def __getitem__(self, key):
        return _a.getitem(self, key)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    # comparisons and logic: no gradient, bool results
    def _compare(self, other, fn):
        # a NumPy scalar acts as a Python number, an array as a tensor of its dtype (so neither
        # can make ``bool_tensor & np.int8(3)`` an int8 result, which glassgrad has no name for)
        o = _ops.operand(other)
        o = o._data if isinstance(o, Tensor) else o
        return Tensor._wrap(getattr(array_module(self._data), fn)(self._data, o), False)

    def __eq__(self, other):
        return self._compare(other, "equal")

    def __ne__(self, other):
        return self._compare(other, "not_equal")

    def __lt__(self, other):
        return self._compare(other, "less")

    def __le__(self, other):
        return self._compare(other, "less_equal")

    def __gt__(self, other):
        return self._compare(other, "greater")

    def __ge__(self, other):
        return self._compare(other, "greater_equal")

    def __and__(self, other):
        return self._compare(other, "bitwise_and")

    def __or__(self, other):
        return self._compare(other, "bitwise_or")

    def __xor__(self, other):
        return self._compare(other, "bitwise_xor")

    def __invert__(self):
        return Tensor._wrap(~self._data, False)

    def eq(self, other):
        return self == other

    def ne(self, other):
        return self != other

    def lt(self, other):
        return self < other

    def le(self, other):
        return self <= other

    def gt(self, other):
        return self > other

    def ge(self, other):
        return self >= other

    def logical_not(self):
        return Tensor._wrap(array_module(self._data).logical_not(self._data), False)

    def isnan(self):
        return Tensor._wrap(array_module(self._data).isnan(self._data), False)

    def isfinite(self):
        return Tensor._wrap(array_module(self._data).isfinite(self._data), False)

    def all(self):
        return Tensor._wrap(array_module(self._data).asarray(self._data.all()), False)

    def any(self):
        return Tensor._wrap(array_module(self._data).asarray(self._data.any()), False)

    def allclose(self, other, rtol=1e-5, atol=1e-8) -> bool:
        o = other._data if isinstance(other, Tensor) else other
        return bool(array_module(self._data).allclose(self._data, o, rtol, atol))

    def equal(self, other) -> bool:
        return self.shape == other.shape and bool((self._data == other._data).all())

    # -- math methods -------------------------------------------------------------------------

    def add(self, other, alpha=1):
        return _m.add(self, other, alpha)

    def sub(self, other, alpha=1):
        return _m.sub(self, other, alpha)

    def mul(self, other):
        return _m.mul(self, other)

    def div(self, other):
        return _m.div(self, other)

    def neg(self):
        return _m.neg(self)

    def pow(self, exponent):
        return _m.pow(self, exponent)

    def exp(self):
        return _m.exp(self)

    def log(self):
        return _m.log(self)

    def sqrt(self):
        return _m.sqrt(self)

    def abs(self):
        return _m.abs(self)

    def sin(self):
        return _m.sin(self)

    def cos(self):
        return _m.cos(self)

    def clamp(self, min=None, max=None):  # noqa: A002
        return _m.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _m.maximum(self, other)

    def minimum(self, other):
        return _m.minimum(self, other)

    def tanh(self):
        return _act.tanh(self)

    def sigmoid(self):
        return _act.sigmoid(self)

    def relu(self):
        return _act.relu(self)

    def softmax(self, dim):
        return _act.softmax(self, dim)

    def log_softmax(self, dim):
        return _act.log_softmax(self, dim)

    def matmul(self, other):
        return _c.matmul(self, other)

    def sum(self, dim=None, keepdim=False):
        return _r.sum(self, dim, keepdim)

    def mean(self, dim=None, keepdim=False):
        return _r.mean(self, dim, keepdim)

    def max(self, dim=None, keepdim=False):
        return _r.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return _r.min(self, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return _r.amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return _r.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return _r.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _r.argmin(self, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _r.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _r.std(self, dim, unbiased, keepdim, correction=correction)

    def logsumexp(self, dim, keepdim=False):
        return _r.logsumexp(self, dim, keepdim)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        """The vector p-norm over ``dim`` (all elements when None); see ``glassgrad.norm``."""
        return _r.norm(self, p, dim, keepdim, dtype)

    # -- shape methods ------------------------------------------------------------------------

    def reshape(self, *shape):
        return _a.reshape(self, *shape)

    def view(self, *shape):
        """Same as ``reshape`` (glassgrad does not distinguish views that need contiguity)."""
        return _a.reshape(self, *shape)

    def view_as(self, other):
        return _a.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _a.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return _a.unflatten(self, dim, sizes)

    def permute(self, *dims):
        return _a.permute(self, *dims)

    def transpose(self, dim0, dim1):
        return _a.transpose(self, dim0, dim1)

    @property
    def T(self):  # noqa: N802
        """All dims reversed (the matrix transpose for 2-D tensors)."""
        return _a.permute(self, tuple(reversed(range(self.ndim)))) if self.ndim > 1 else self

    @property
    def mT(self):  # noqa: N802
        """The last two dims swapped (a batch of matrix transposes)."""
        return _a.transpose(self, -2, -1)

    def t(self):
        return self.T

    def squeeze(self, dim=None):
        return _a.squeeze(self, dim)

    def unsqueeze(self, dim):
        return _a.unsqueeze(self, dim)

    def expand(self, *sizes):
        return _a.expand(self, *sizes)

    def expand_as(self, other):
        return _a.expand(self, other.shape)

    def broadcast_to(self, shape):
        return _a.broadcast_to(self, tuple(shape))

    def split(self, split_size, dim=0):
        return _a.split(self, split_size, dim)

    def chunk(self, chunks, dim=0):
        return _a.chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return _a.unbind(self, dim)

    def gather(self, dim, index):
        return _ix.gather(self, dim, index)

    def masked_fill(self, mask, value):
        return _a.masked_fill(self, mask, value)

    def scatter(self, dim, index, src=None, *, value=None):
        return _ix.scatter(self, dim, index, src, value=value)

    def scatter_add(self, dim, index, src):
        return _ix.scatter_add(self, dim, index, src)

    def index_select(self, dim, index):
        return _ix.index_select(self, dim, index)

    def flip(self, *dims):
        return _a.flip(self, *dims)

    def roll(self, shifts, dims=None):
        return _a.roll(self, shifts, dims)

    def tril(self, diagonal=0):
        return _a.tril(self, diagonal)

    def triu(self, diagonal=0):
        return _a.triu(self, diagonal)

    def diag(self, diagonal=0):
        return _a.diag(self, diagonal)

    def sort(self, dim=-1, descending=False, *, stable=False):
        return _s.sort(self, dim, descending, stable=stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return _s.argsort(self, dim, descending, stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return _s.topk(self, k, dim, largest, sorted)

    def prod(self, dim=None, keepdim=False, *, dtype=None):
        return _r.prod(self, dim, keepdim, dtype=dtype)

    def cumsum(self, dim, *, dtype=None):
        return _r.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim, *, dtype=None):
        return _r.cumprod(self, dim, dtype=dtype)

    def lerp(self, end, weight):
        return _m.lerp(self, end, weight)

    def outer(self, vec2):
        return _c.outer(self, vec2)


def _cuda_device(who: str, d) -> device:
    target = device("cuda") if d is None else device(d)
    if target.type != "cuda":
        raise RuntimeError(f"{who}: expected a CUDA device, got {target}")
    return target


def _initial_gradient(y: Tensor, gradient, who: str) -> Tensor:
    if gradient is None:
        if y._data.size != 1:
            raise RuntimeError(
                f"{who}: grad can be implicitly created only for single-element outputs; this one "
                f"has shape {y.shape}, so pass `gradient` (a tensor of that shape)"
            )
        return Tensor._wrap(array_module(y._data).ones_like(y._data), False)
    if not isinstance(gradient, Tensor):
        gradient = tensor(gradient, dtype=y.dtype, device=y.device)
    if gradient.shape != y.shape:
        raise RuntimeError(f"{who}: gradient has shape {gradient.shape}, but the output has shape {y.shape}")
    return gradient


# -- creating tensors ---------------------------------------------------------------------------


def _infer_array(data, dt):
    """``data`` as an array; Python floats become the default float dtype, ints int64; arrays
    and NumPy scalars keep their dtype."""
    if isinstance(data, Tensor):
        arr = data._data.copy()
    elif is_array(data):
        arr = data.copy()
    elif isinstance(data, np.generic):  # a NumPy scalar keeps its dtype, as in torch.tensor
        arr = np.array(data)
    else:
        if isinstance(data, (str, bytes, dict, set)) or data is None:
            raise TypeError(
                "tensor(): expected a number, a (nested) sequence of numbers or an array; "
                f"got {type(data).__name__}"
            )
        try:
            arr = np.array(data)
        except ValueError as e:
            raise ValueError(
                f"tensor(): the nested sequence is ragged (its sublists differ in length): {e}"
            ) from None
        if arr.dtype == object:
            bad = next(_non_number_types(data), None)
            if bad is not None:
                raise TypeError(f"tensor(): expected numbers, got an element of type {bad.__name__}")
            raise ValueError(
                "tensor(): the nested sequence is ragged (its sublists differ in length or "
                "depth), so it is not a rectangular array of numbers"
            )
        if arr.dtype.kind in "US":
            raise TypeError(f"tensor(): expected numbers, got strings ({arr.dtype})")
        if dt is None:
            if arr.dtype.kind == "f":
                arr = arr.astype(_dtype.get_default_dtype().numpy)
            elif arr.dtype.kind in "iu":
                arr = arr.astype(np.int64)
    if dt is not None:
        arr = arr.astype(_dtype.to_dtype(dt).numpy, copy=False)
    else:
        _dtype.from_numpy_dtype(arr.dtype)  # refuses unsupported dtypes with a clear message
    return arr


def _non_number_types(data):
    """The types of the elements of a nested list/tuple that are neither numbers nor sequences."""
    for x in data if isinstance(data, (list, tuple)) else (data,):
        if isinstance(x, (list, tuple)):
            yield from _non_number_types(x)
        elif not isinstance(x, (numbers.Number, np.generic, Tensor)) and not is_array(x):
            yield type(x)


def tensor(data, dtype=None, device: device | str | int | None = None, requires_grad: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (a number, a nested list, an array, a tensor),
    on ``device`` (the CPU by default, or the device of a tensor or GPU array given as data).

    Floats become float32 (the default dtype), ints int64, bools bool; NumPy arrays and scalars
    keep their dtype, as ``torch.tensor`` does.
    """
    array = _infer_array(data, dtype)
    if device is not None:
        array = _backend.to_device(array, as_device(device))
    t = Tensor._wrap(array, False)
    if requires_grad:
        t.requires_grad = True
    return t


def as_tensor(data, dtype=None, device: device | str | int | None = None) -> Tensor:
    """Like ``tensor`` but shares the memory of ``data`` when it is a tensor or a NumPy array that
    already has the dtype and device asked for."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    if isinstance(data, np.ndarray) and (dtype is None or _dtype.to_dtype(dtype).numpy == data.dtype):
        _dtype.from_numpy_dtype(data.dtype)
        return Tensor._wrap(data, False).to(device=device)
    return tensor(data, dtype, device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing the memory of ``array``."""
    _dtype.from_numpy_dtype(array.dtype)
    return Tensor._wrap(array, False)


from glassgrad import autograd as _autograd  # noqa: E402
from glassgrad.autograd import engine as _engine  # noqa: E402
from glassgrad.functions import _operands as _ops  # noqa: E402
from glassgrad.functions import activation as _act  # noqa: E402
from glassgrad.functions import array as _a  # noqa: E402
from glassgrad.functions import connection as _c  # noqa: E402
from glassgrad.functions import indexing as _ix  # noqa: E402
from glassgrad.functions import math as _m  # noqa: E402
from glassgrad.functions import reduction as _r  # noqa: E402
from glassgrad.functions import sorting as _s  # noqa: E402
