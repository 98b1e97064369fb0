"""``export``: trace one forward pass of a model and write the recorded graph as ONNX.

glassgrad is define-by-run: a forward pass records each op (a ``Function``) as the creator
(``grad_fn``) of its output, with its input tensors. Walking that graph back from the outputs
gives every op the model ran, in an order where inputs come first; each is written by its
converter (``_registry``). The model runs in eval mode, as ``torch.onnx.export`` runs it: dropout
is then the identity and batch norm uses its running statistics, which is what a served model
does.

Recording needs an input that requires grad, so during the trace every floating-point parameter
and buffer, and the inputs (integer ones too), are marked as requiring grad: every op that
touches them is then recorded, and what is left unrecorded depends on neither - a constant.

The model is traced a second time on inputs with other values and, with ``dynamic_axes``, larger
dynamic axes. The two graphs have the same ops; a size that differs between them depends on a
dynamic axis and is written as one (``_graph.Graph.size``) instead of being baked in, and a
constant whose values differ was computed from the input's values where no op recorded it.
"""

from __future__ import annotations

import contextlib
import os
import warnings

import numpy as np
import onnx
from onnx import helper, numpy_helper

from glassgrad._tensor import Tensor
from glassgrad.autograd.grad_mode import enable_grad
from glassgrad.onnx import converters  # noqa: F401 - registers the converters
from glassgrad.onnx._graph import REGISTRY_HINT, ExportError, Graph, Node
from glassgrad.onnx._registry import CONVERTERS

MIN_OPSET = 17  # LayerNormalization


def export(model, args, path, input_names: list[str] | None = None, output_names: list[str] | None = None,
           dynamic_axes: dict | None = None, opset_version: int = 17) -> onnx.ModelProto:
    """Trace ``model(*args)`` in eval mode (as torch.onnx.export: dropout off, batch norm on its
    running statistics) and save the recorded graph as an ONNX model at ``path``.

    ``args``: the example input, a Tensor or a tuple of Tensors. ``input_names`` and
    ``output_names`` name the graph's inputs and outputs (default ``input_0``, ``output_0``, ...).
    ``dynamic_axes`` marks the axes whose size may change, as in torch.onnx.export:
    ``{"input_0": {0: "batch"}}`` (or a list of axes, named automatically); axes that share a
    name share a size. Returns the ONNX ModelProto it saved (checked with onnx.checker).
    """
    from glassgrad.nn.modules.module import Module

    if not isinstance(model, Module):
        raise TypeError(f"export: expected model to be an nn.Module, got {type(model).__name__}")
    args = _as_args(args)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"export: expected path to be a str or os.PathLike, got {type(path).__name__}")
    if not isinstance(opset_version, int) or not MIN_OPSET <= opset_version <= onnx.defs.onnx_opset_version():
        raise ValueError(f"export: opset_version must be an int from {MIN_OPSET} to "
                         f"{onnx.defs.onnx_opset_version()}, got {opset_version!r}")
    input_names = _names(input_names, "input_names", len(args), "input")
    with _tracing(model):
        inputs_a, outputs_a = _trace(model, args)
        output_names = _names(output_names, "output_names", len(outputs_a), "output")
        axes = _dynamic_axes(dynamic_axes, input_names, output_names, args, outputs_a)
        dynamic, args_b = _second_inputs(axes, input_names, args)
        outputs_b = _second_trace(model, args_b, dynamic)
    graph = Graph(opset_version, dynamic)
    names = _Names(model, inputs_a, input_names)
    graph.names_of_arrays = {id(t._data): n for n, t in (*model.named_parameters(), *model.named_buffers())}
    _convert(graph, _ops(outputs_a), _ops(outputs_b), names)
    out_values = []
    for name, ta, tb in zip(output_names, outputs_a, outputs_b):
        graph.nodes.append(helper.make_node("Identity", [names.of(ta, graph)], [name]))
        out_values.append(_value_info(name, ta, tb, axes.get(name, {})))
    in_values = [_value_info(n, t, t, axes.get(n, {})) for n, t in zip(input_names, args)]
    _warn_unused(graph, input_names)
    model_proto = _model(graph, in_values, out_values)
    onnx.checker.check_model(model_proto)
    onnx.save(model_proto, os.fspath(path))
    return model_proto


# -- arguments --------------------------------------------------------------------------------


def _as_args(args) -> tuple:
    args = (args,) if isinstance(args, Tensor) else args
    if not isinstance(args, (tuple, list)) or not args or not all(isinstance(a, Tensor) for a in args):
        got = type(args).__name__ if not isinstance(args, (tuple, list)) else (
            "an empty sequence" if not args else "a sequence of " + ", ".join(type(a).__name__ for a in args))
        raise TypeError(f"export: expected args to be a Tensor or a tuple of Tensors (the model's inputs), got {got}")
    return tuple(args)


def _names(names, what: str, count: int, prefix: str) -> list[str]:
    if names is None:
        return [f"{prefix}_{i}" for i in range(count)]
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) and n for n in names):
        raise TypeError(f"export: expected {what} to be a list of non-empty str, got {names!r}")
    if len(names) != count or len(set(names)) != len(names):
        raise ValueError(f"export: {what} must give {count} distinct name(s) (one per {prefix}), got {list(names)}")
    return list(names)


def _dynamic_axes(dynamic_axes, input_names, output_names, args, outputs) -> dict:
    """``dynamic_axes`` as {name: {axis: label}}, checked against the names and the ranks."""
    if dynamic_axes is None:
        return {}
    if not isinstance(dynamic_axes, dict):
        raise TypeError(f"export: expected dynamic_axes to be a dict such as {{'input_0': {{0: 'batch'}}}}, "
                        f"got {type(dynamic_axes).__name__}")
    ranks = {n: t.ndim for n, t in zip(input_names + output_names, list(args) + list(outputs))}
    out = {}
    for name, spec in dynamic_axes.items():
        if name not in ranks:
            raise ValueError(f"export: dynamic_axes names {name!r}, which is not an input or output name; "
                             f"the names are {input_names + output_names}")
        if isinstance(spec, (list, tuple)):
            spec = {a: f"{name}_dim{a}" for a in spec}
        if not isinstance(spec, dict):
            raise TypeError(f"export: dynamic_axes[{name!r}] must be a dict {{axis: name}} or a list of axes, "
                            f"got {type(spec).__name__}")
        for axis in spec:
            if not isinstance(axis, int) or not 0 <= axis < ranks[name]:
                raise ValueError(f"export: dynamic_axes[{name!r}] has axis {axis!r}, but {name} has "
                                 f"{ranks[name]} dimensions (axes 0 to {ranks[name] - 1})")
        out[name] = {a: str(label) for a, label in spec.items()}
    return out


_FACTORS = (2, 3, 5, 7, 11, 13, 17, 19)


def _second_inputs(axes: dict, input_names: list, args: tuple):
    """The inputs of the second trace, and the dynamic input axes (one entry per label: label,
    input, axis, size, second size).

    Each label's axes are multiplied by its own prime: a size then factors uniquely into the
    dynamic sizes it depends on (batch * heads is not mistaken for 2 * seq). The values are the
    example's, repeated to the new shape and shifted by one place: still valid (token ids stay
    ids, a mask stays a mask), but different, so a constant computed from the input's values
    outside glassgrad's ops (``tokens == 0``) differs between the traces and is caught."""
    factor, dynamic = {}, []
    new_args = []
    for name, t in zip(input_names, args):
        shape = list(t.shape)
        for axis, label in sorted(axes.get(name, {}).items()):
            if label not in factor:
                if len(factor) == len(_FACTORS):
                    raise ValueError(f"export: at most {len(_FACTORS)} distinct dynamic axis names are supported")
                factor[label] = (_FACTORS[len(factor)], t.shape[axis])
                dynamic.append((label, name, axis, t.shape[axis], t.shape[axis] * factor[label][0]))
            elif factor[label][1] != t.shape[axis]:
                raise ValueError(f"export: dynamic axis {label!r} has size {factor[label][1]} in one input and "
                                 f"{t.shape[axis]} in {name}; axes that share a name must share a size")
            if t.shape[axis] == 0:
                raise ValueError(f"export: the example input {name} has size 0 on its dynamic axis {axis}")
            shape[axis] *= factor[label][0]
        data = np.resize(t._data, shape).astype(t._data.dtype)
        if data.ndim:
            data = np.roll(data, 1)
        new_args.append(Tensor._wrap(data, False))
    return dynamic, tuple(new_args)


# -- tracing ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _tracing(model):
    """Eval mode, grad mode on, and every floating-point parameter and buffer marked as requiring
    grad (so the ops on them are recorded); all restored afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    tensors = [t for t in (*model.parameters(), *model.buffers()) if t.dtype.is_floating_point]
    flags = [t._requires_grad for t in tensors]
    model.eval()
    for t in tensors:
        t._requires_grad = True
    try:
        with enable_grad():
            yield
    finally:
        for m, mode in modes:
            m.training = mode
        for t, flag in zip(tensors, flags):
            t._requires_grad = flag


def _trace(model, args):
    # fresh leaves that record (set directly: integer ids cannot require grad through the API,
    # but the trace must see the ops on them too; nothing runs backward)
    inputs = tuple(Tensor._wrap(a._data, True) for a in args)
    try:
        out = model(*inputs)
    except Exception as e:
        if hasattr(e, "add_note"):  # Python 3.11+
            e.add_note("(raised while gg.onnx.export traced the model: in the trace the inputs, parameters "
                       "and buffers require grad so that every op on them is recorded; use .detach() "
                       "before .numpy(), or better, glassgrad ops)")
        raise
    outputs = []
    _flatten(out, outputs)
    if not outputs:
        raise ExportError(f"export: the model returned no tensor (got {type(out).__name__})")
    return inputs, outputs


def _second_trace(model, args, dynamic) -> list:
    try:
        return _trace(model, args)[1]
    except Exception as e:
        grown = "".join(f", {label} {a} -> {b}" for label, _, _, a, b in dynamic)
        raise ExportError(f"export: the second trace (on the example's values shifted{grown}), which finds what "
                          f"depends on the input, failed: {type(e).__name__}: {e}") from e


def _flatten(out, into: list) -> None:
    """The output tensors in order, from nested tuples and lists (None entries skipped, as the
    attention weights of need_weights=False)."""
    if isinstance(out, Tensor):
        into.append(out)
    elif isinstance(out, (tuple, list)):
        for o in out:
            _flatten(o, into)
    elif out is not None:
        raise ExportError(f"export: the model returned a {type(out).__name__}; expected Tensors, "
                          f"or tuples and lists of them")


def _ops(outputs) -> list:
    """The recorded ops that the outputs depend on, each after the ops that make its inputs
    (a depth-first walk from the outputs, inputs in order: the same order in both traces)."""
    order, seen = [], set()
    for t in outputs:
        fn = t.grad_fn
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        stack = [(fn, iter(fn.inputs))]
        while stack:
            f, pending = stack[-1]
            for x in pending:
                g = x.grad_fn
                if g is not None and id(g) not in seen:
                    seen.add(id(g))
                    stack.append((g, iter(g.inputs)))
                    break
            else:
                stack.pop()
                order.append(f)
    return order


# -- building the graph -------------------------------------------------------------------------


class _Names:
    """The ONNX name of every tensor of the first trace: op outputs by (op, output number);
    leaves by tensor id - the inputs, and parameters and buffers by their state-dict names (so
    the initializers read like the model's state dict); other leaves are constants."""

    def __init__(self, model, inputs, input_names):
        self.inputs = set(input_names)
        self.leaves = {id(t): n for t, n in zip(inputs, input_names)}
        for n, t in (*model.named_parameters(), *model.named_buffers()):
            self.leaves.setdefault(id(t), n)
        self.outputs: dict[tuple, str] = {}

    def is_constant(self, x) -> bool:
        return x.grad_fn is None and id(x) not in self.leaves

    def of(self, x, graph: Graph) -> str:
        if x.grad_fn is not None:
            return self.outputs[(id(x.grad_fn), x._output_nr)]
        name = self.leaves.get(id(x))
        if name is None:
            return graph.initializer(x._data)
        if name not in self.inputs:
            graph.initializer(x._data, name)
        return name


def _check_same_ops(ops_a: list, ops_b: list) -> None:
    """Both traces must run the same ops, for the second to tell what depends on the input."""
    kinds_a, kinds_b = [type(f) for f in ops_a], [type(f) for f in ops_b]
    if kinds_a != kinds_b:
        k = next((k for k, (f, g) in enumerate(zip(kinds_a, kinds_b)) if f is not g), min(len(ops_a), len(ops_b)))
        first = " vs ".join(o[k].__name__ if k < len(o) else "the end" for o in (kinds_a, kinds_b))
        raise ExportError(
            f"export: the model runs different ops when the input changes ({len(ops_a)} ops with the example, "
            f"{len(ops_b)} with its values shifted and its dynamic axes grown; op {k} is {first}), so one graph "
            f"cannot serve both. A Python loop over the sequence does this (nn.RNN, an LSTM with proj_size, "
            f"packed sequences run one op per step; nn.GRU and nn.LSTM export as one op): export without that "
            f"dynamic axis. A Python branch on a size or a value does it too: ONNX has no Python"
        )


def _convert(graph: Graph, ops_a: list, ops_b: list | None, names: _Names) -> None:
    """Write every op with its converter, recording the names of its outputs."""
    _check_same_ops(ops_a, ops_b)
    for fn, alt in zip(ops_a, ops_b):
        convert = CONVERTERS.get(type(fn))
        if convert is None:
            raise ExportError(
                f"export: no ONNX converter for the op {type(fn).__name__} (from {type(fn).__module__}); "
                f"converters are registered in {REGISTRY_HINT}"
            )
        in_names, deferred, zeros = [], {}, set()
        for i, (x, xb) in enumerate(zip(fn.inputs, alt.inputs)):
            if not names.is_constant(x):
                in_names.append(names.of(x, graph))
                continue
            if x._data.dtype.kind == "f" and not x._data.any() and not xb._data.any():
                zeros.add(i)
            what = f"{type(fn).__name__} input {i}"
            if tuple(xb.shape) != tuple(x.shape):  # made only if the converter reads it (a GRU
                in_names.append(None)  # leaves out a zero initial state)
                deferred[i] = _sized_constant(graph, x, xb, what)
            elif not _same_values(x._data, xb._data):
                in_names.append(None)
                deferred[i] = _value_dependent(what)
            else:
                in_names.append(names.of(x, graph))
        out = convert(graph, Node(graph, fn, alt, in_names, deferred, zeros))
        for i, name in enumerate(out if isinstance(out, tuple) else (out,)):
            names.outputs[(id(fn), i)] = name


def _same_values(a, b) -> bool:
    return bool(np.array_equal(a, b) or (a.dtype.kind in "fc" and np.array_equal(a, b, equal_nan=True)))


def _value_dependent(what: str):
    def refuse():
        raise ExportError(
            f"{what} is a constant whose values changed with the input's values: it was computed from the input "
            f"outside glassgrad's ops (a comparison such as tokens == 0, .item(), NumPy) or drawn at random, so "
            f"the graph would keep the example's values. Compute it with glassgrad ops on the input (where, "
            f"masked_fill, arithmetic), or pass it to the model as an input"
        )

    return refuse


def _sized_constant(graph: Graph, x, xb, what: str):
    """A constant made during the forward whose shape follows the dynamic axes (the zero initial
    state of an RNN, ``ones(batch, n)``): when all its elements are equal it is ConstantOfShape of
    the runtime shape; otherwise baking it in would be wrong for other sizes, and reading it is an
    error."""
    data = x._data

    def make() -> str:
        if data.size and (data == data.flat[0]).all():
            shape = graph.shape(x.shape, xb.shape, what)
            return graph.add("ConstantOfShape", [shape], value=numpy_helper.from_array(data.reshape(-1)[:1].copy()))
        raise ExportError(
            f"{what} is a constant (made during the forward, not from the inputs or parameters) whose shape "
            f"{tuple(x.shape)} changes with the dynamic axes (to {tuple(xb.shape)}) and whose values differ; "
            f"baking it in would be wrong for other sizes: pass it to the model as an input"
        )

    return make


def _warn_unused(graph: Graph, input_names: list) -> None:
    """An input no op reads was used outside glassgrad's ops (``.numpy()``, a Python branch) or
    not at all: the exported graph ignores it, and would compute with the example's values."""
    used = {i for n in graph.nodes for i in n.input}
    for name in input_names:
        if name not in used:
            warnings.warn(
                f"export: the input {name!r} does not reach the outputs through glassgrad ops (used through "
                f".numpy() or a Python value?); the ONNX graph ignores it and keeps the example's values",
                stacklevel=3,
            )


def _value_info(name: str, ta, tb, labels: dict):
    shape = []
    for axis, (sa, sb) in enumerate(zip(ta.shape, tb.shape)):
        shape.append(labels[axis] if axis in labels else (sa if sa == sb else None))
    elem = helper.np_dtype_to_tensor_dtype(ta._data.dtype)
    return helper.make_tensor_value_info(name, elem, shape)


def _model(graph: Graph, in_values: list, out_values: list) -> onnx.ModelProto:
    used = {i for n in graph.nodes for i in n.input}
    inits = [t for name, t in graph.initializers.items() if name in used]  # drop the unused
    g = helper.make_graph(graph.nodes, "glassgrad", in_values, out_values, initializer=inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", graph.opset)], producer_name="glassgrad")
    return model
