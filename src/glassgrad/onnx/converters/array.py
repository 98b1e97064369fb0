"""Shapes, views, indexing and joining. The sizes these ops carry (a reshape's target, a slice's
end) are where dynamic axes matter: they go through ``Graph.shape``/``Graph.size``, which
writes a size that changed between the two traces from the input's runtime shape."""

from __future__ import annotations

import numpy as np
from onnx import helper

from glassgrad.functions import array as a
from glassgrad.onnx._graph import ExportError
from glassgrad.onnx._registry import register

_BIG = 2**62  # a slice bound past any end ('to the end' in ONNX Slice)


@register(a.Reshape)
def reshape(graph, node):
    target_a, target_b = node.both(lambda f: f.shape)
    shape = graph.shape(target_a, target_b, "reshape", copy_from=node.input_shapes(0))
    return graph.add("Reshape", [node.input(0), shape])


@register(a.Permute)
def permute(graph, node):
    return graph.add("Transpose", [node.input(0)], perm=list(node.fn.dims))


@register(a.BroadcastTo)
def broadcast_to(graph, node):
    # ONNX Expand broadcasts both ways, so a 1 keeps the input's size: dims the input already
    # has (which may be dynamic) are written 1 and need no Shape op
    (in_a, in_b), (out_a, out_b) = node.input_shapes(0), node.both(lambda f: f.shape)

    def ones_where_kept(out, inp):
        lead = len(out) - len(inp)
        return [1 if i >= lead and s == inp[i - lead] else s for i, s in enumerate(out)]

    shape = graph.shape(ones_where_kept(out_a, in_a), ones_where_kept(out_b, in_b), "expand")
    return graph.add("Expand", [node.input(0), shape])


def _bounds(item: slice):
    step = 1 if item.step is None else item.step
    start = item.start if item.start is not None else (0 if step > 0 else _BIG)
    stop = item.stop if item.stop is not None else (_BIG if step > 0 else -_BIG)
    return start, stop, step


@register(a.GetItem)
def getitem(graph, node):
    """Basic indexing as at most three ops: one Slice for all the slices, a Gather per integer
    (which drops that dim), one Unsqueeze for the ``None``s. Slice bounds and integers that differ
    between the traces (``pe[:L]``) are written from the runtime sizes."""
    fn, alt = node.fn, node.alt
    if node.raw_input(0) in graph.last_step_only:
        return _last_step(graph, node)
    if fn.advanced:
        return _take(graph, node)
    ndim = len(node.shape(0))
    items_a, items_b = _items(fn.key, ndim), _items(alt.key, ndim)
    slices, ints, news = [], [], []  # (axis, item in trace A, item in trace B); new axes
    axis = out_axis = 0  # the place in the input, in the output
    for ka, kb in zip(items_a, items_b):
        if ka is None:
            news.append(out_axis)
            out_axis += 1
            continue
        if not isinstance(ka, slice):
            ints.append((axis, int(ka), int(kb)))
        elif ka != slice(None) or kb != slice(None):
            slices.append((axis, _bounds(ka), _bounds(kb)))
        out_axis += isinstance(ka, slice)
        axis += 1
    x = node.input(0)
    if slices:
        starts = graph.shape([a[0] for _, a, _ in slices], [b[0] for _, _, b in slices], "slice start")
        stops = graph.shape([a[1] for _, a, _ in slices], [b[1] for _, _, b in slices], "slice stop")
        axes, steps = graph.ints([ax for ax, _, _ in slices]), graph.ints([a[2] for _, a, _ in slices])
        x = graph.add("Slice", [x, starts, stops, axes, steps])
    for ax, ia, ib in reversed(ints):  # the last first, so the earlier axes keep their numbers
        if ia == ib:
            x = graph.add("Gather", [x, graph.initializer(np.asarray(ia, dtype=np.int64))], axis=ax)
        else:
            x = graph.add("Squeeze", [graph.add("Gather", [x, graph.size(ia, ib, "index")], axis=ax),
                                      graph.ints([ax])])
    if news:
        x = graph.add("Unsqueeze", [x, graph.ints(news)])
    return x if slices or ints or news else graph.add("Identity", [x])


def _take(graph, node):
    """``x[idx]`` with one integer array: a Gather of rows."""
    key = node.fn.key
    if len(key) == 1 and key[0].dtype.kind in "iu":
        return graph.add("Gather", [node.input(0), graph.initializer(key[0].astype(np.int64))], axis=0)
    raise ExportError(f"GetItem: only indexing with one integer array (x[idx]) is exported, not the key {key!r}; "
                      f"use index_select or gather")


def _items(key, ndim: int) -> list:
    """The key with its Ellipsis written out as full slices."""
    used = sum(1 for k in key if k is not None and k is not Ellipsis)
    out = []
    for k in key:
        if k is Ellipsis:
            out.extend([slice(None)] * (ndim - used))
        else:
            out.append(k)
    if Ellipsis not in key:
        out.extend([slice(None)] * (ndim - used))
    for k in out:
        if k is not None and not isinstance(k, (slice, int)) and not hasattr(k, "__index__"):
            raise ExportError(f"GetItem: cannot export the index {k!r}")
    return out


def _last_step(graph, node):
    """``out[-1]`` of a fused LSTM's cell states: ONNX's LSTM gives exactly that (Y_c)."""
    last_c, allowed = graph.last_step_only[node.raw_input(0)]
    key = node.fn.key
    if len(key) == 1 and isinstance(key[0], int) and key[0] in allowed:
        return last_c
    raise ExportError(f"GetItem: reads the cell states of a fused LSTM layer at {key!r}; ONNX's LSTM "
                      f"gives only the final cell state")


@register(a.Cat)
def cat(graph, node):
    dim = node.fn.dim
    xs = [node.input(i) for i in range(node.n_inputs)]
    if node.fn.new_dim:  # stack
        xs = [graph.add("Unsqueeze", [x, graph.ints([dim])]) for x in xs]
    return graph.add("Concat", xs, axis=dim)


@register(a.Split, a.Unbind)
def split(graph, node):
    fn = node.fn
    sizes_a, sizes_b = node.both(lambda f: f.sizes)
    outs = graph.add("Split", [node.input(0), graph.shape(sizes_a, sizes_b, "split")], n_out=len(fn.sizes),
                     axis=fn.dim)
    outs = outs if isinstance(outs, list) else [outs]
    if fn.squeeze:
        outs = [graph.add("Squeeze", [o, graph.ints([fn.dim])]) for o in outs]
    return tuple(outs)


@register(a.Pad)
def pad(graph, node):
    """Constant padding; ONNX lists all the 'before' widths, then all the 'after' ones."""
    widths = node.fn.widths
    pads = [b for b, _ in widths] + [e for _, e in widths]
    return graph.add("Pad", [node.input(0), graph.ints(pads), graph.scalar(node.fn.value, node.dtype(0))])


@register(a.Cast)
def cast(graph, node):
    return graph.add("Cast", [node.input(0)], to=helper.np_dtype_to_tensor_dtype(node.fn.dtype.numpy))


@register(a.Clone)
def clone(graph, node):
    return graph.add("Identity", [node.input(0)])
