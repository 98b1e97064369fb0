"""The ONNX graph being built, and the view of one traced op that a converter gets.

``Graph`` keeps the nodes, the initializers and the names; its helpers make the small pieces
every converter needs (constants, shape tensors). ``Node`` wraps one recorded ``Function``: its
input names, its input shapes, and the same op from the second trace (``alt``), which tells
which sizes change with the dynamic axes.

Sizes that depend on the dynamic axes (a reshape to ``(batch * heads, L, d)``, a slice
``pe[:L]``) must not be baked in: the exporter traced the model twice, with the dynamic axes
grown by a little, so a size that differs between the two traces is dynamic. ``Graph.size``
then writes it as a product of the input's runtime sizes (``Shape`` + ``Gather``) times a
constant, or as an offset from one of them, which covers what models do with those sizes.
"""

from __future__ import annotations

import itertools

import numpy as np
import onnx
from onnx import helper, numpy_helper

REGISTRY_HINT = "glassgrad/onnx/converters/ (register one with glassgrad.onnx.register)"


class ExportError(RuntimeError):
    """The model (or an op in it) cannot be written as ONNX; the message says which and why."""


class Graph:
    """Nodes, initializers and fresh names of the ONNX graph under construction."""

    def __init__(self, opset: int, dynamic: list):
        self.opset = opset
        # (name, input name, axis, size in trace A, size in trace B) per dynamic axis
        self.dynamic = dynamic
        self.nodes: list = []
        self.initializers: dict[str, onnx.TensorProto] = {}
        self._counter = itertools.count()
        self._dims: dict[int, str] = {}  # runtime size of dynamic axis k
        # names whose value is only right at the last step (the LSTM's cell states): the
        # converter that may read them (GetItem of that step) knows; every other one refuses
        self.last_step_only: dict[str, tuple[str, set]] = {}
        self.names_of_arrays: dict[int, str] = {}  # id of a parameter's or buffer's array: its name

    def fresh(self, hint: str) -> str:
        return f"{hint}_{next(self._counter)}"

    def add(self, op_type: str, inputs: list, n_out: int = 1, **attrs):
        """Append one node; returns its output name (a list of them when ``n_out > 1``)."""
        outs = [self.fresh(op_type) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, [i or "" for i in inputs], outs,
                                           name=self.fresh(op_type + "_node"), **attrs))
        return outs[0] if n_out == 1 else outs

    def initializer(self, array, name: str | None = None) -> str:
        """An initializer holding ``array`` (named ``name`` or a fresh ``const_k``)."""
        name = name or self.fresh("const")
        if name not in self.initializers:
            array = np.asarray(array)  # (not ascontiguousarray: that makes a 0-d array 1-d)
            self.initializers[name] = numpy_helper.from_array(array if array.flags.c_contiguous else array.copy(), name)
        return name

    def ints(self, values) -> str:
        """A constant 1-D int64 tensor (axes, shapes, indices)."""
        return self.initializer(np.asarray(values, dtype=np.int64).reshape(-1))

    def scalar(self, value, dtype) -> str:
        """A 0-d constant of ``dtype`` (to combine with a tensor of that dtype)."""
        return self.initializer(np.asarray(value, dtype=dtype))

    # -- sizes that may depend on the dynamic axes ---------------------------------------------

    def _axis_size(self, k: int) -> str:
        """The runtime size of dynamic axis ``k`` as a 1-D int64 tensor of one element."""
        if k not in self._dims:
            _, inp, axis, _, _ = self.dynamic[k]
            shape = self.add("Shape", [inp])
            self._dims[k] = self.add("Gather", [shape, self.ints([axis])], axis=0)
        return self._dims[k]

    def size(self, a: int, b: int, what: str) -> str:
        """A 1-element int64 tensor with a size that is ``a`` in the first trace and ``b`` in the
        second: a constant when they agree, else built from the dynamic axes' runtime sizes."""
        if a == b:
            return self.ints([a])
        dyn = [(k, d[3], d[4]) for k, d in enumerate(self.dynamic)]
        for k, sa, sb in dyn:  # c * size
            if sa and sb and a % sa == 0 and b % sb == 0 and a // sa == b // sb:
                return self._times(self._axis_size(k), a // sa)
        for (k1, sa1, sb1), (k2, sa2, sb2) in itertools.combinations_with_replacement(dyn, 2):  # c * size * size
            pa, pb = sa1 * sa2, sb1 * sb2
            if pa and pb and a % pa == 0 and b % pb == 0 and a // pa == b // pb:
                both = self.add("Mul", [self._axis_size(k1), self._axis_size(k2)])
                return self._times(both, a // pa)
        for k, sa, sb in dyn:  # size + c
            if a - sa == b - sb:
                return self.add("Add", [self._axis_size(k), self.ints([a - sa])])
        raise ExportError(
            f"{what}: a size that changes with the dynamic axes ({a} in one trace, {b} in the other) "
            f"is neither a multiple of the dynamic sizes nor an offset from one; it cannot be exported "
            f"with these dynamic_axes"
        )

    def _times(self, t: str, c: int) -> str:
        return t if c == 1 else self.add("Mul", [t, self.ints([c])])

    def shape(self, a, b, what: str, copy_from=None) -> str:
        """A 1-D int64 shape tensor for a shape that is ``a`` in the first trace and ``b`` in the
        second. With ``copy_from`` (the input's shapes in both
        traces) a dimension equal to the input's at the same place is written 0, ONNX Reshape's
        'copy this dimension', which needs no Shape op."""
        a, b = tuple(a), tuple(b)
        if a == b:
            return self.ints(a)
        if len(a) != len(b):
            raise ExportError(f"{what}: the rank changes with the dynamic axes ({a} vs {b})")
        pieces = []
        for i, (va, vb) in enumerate(zip(a, b)):
            if va == vb:
                pieces.append(self.ints([va]))
            elif copy_from is not None and i < len(copy_from[0]) and (copy_from[0][i], copy_from[1][i]) == (va, vb):
                pieces.append(self.ints([0]))
            else:
                pieces.append(self.size(va, vb, what))
        return self.add("Concat", pieces, axis=0)


class Node:
    """One recorded op as a converter sees it: ``fn`` is the Function of the first trace (its
    attributes, ``fn.inputs``), ``alt`` the same op in the second trace."""

    def __init__(self, graph: Graph, fn, alt, names: list, deferred: dict, zeros: set):
        self.graph, self.fn, self.alt = graph, fn, alt
        # deferred: {input: function making it}, for constants made only when read
        self._names, self._deferred, self._zeros = names, deferred, zeros
        self.op = type(fn).__name__

    @property
    def n_inputs(self) -> int:
        return len(self._names)

    def input(self, i: int) -> str:
        """The ONNX name of input ``i`` (a deferred constant is made now, or refused)."""
        if self._names[i] is None:
            self._names[i] = self._deferred[i]()
        name = self._names[i]
        if name in self.graph.last_step_only:
            raise ExportError(
                f"{self.op}: reads the cell states of every step of a fused LSTM layer; ONNX's LSTM "
                f"gives only the last one"
            )
        return name

    def raw_input(self, i: int) -> str:
        """Input ``i``'s name without ``input``'s checks (for a converter that handles them)."""
        return self._names[i]

    def is_zero_constant(self, i: int) -> bool:
        """True when input ``i`` is a constant of zeros (a default initial state)."""
        return i in self._zeros

    def shape(self, i: int) -> tuple:
        return tuple(self.fn.inputs[i].shape)

    def dtype(self, i: int) -> np.dtype:
        return self.fn.inputs[i]._data.dtype

    def both(self, get):
        """``get`` applied to the op of each trace: (first, second)."""
        return get(self.fn), get(self.alt)

    def input_shapes(self, i: int):
        """Input ``i``'s shape in both traces (for ``Graph.shape``'s ``copy_from``)."""
        return self.both(lambda f: tuple(f.inputs[i].shape))
