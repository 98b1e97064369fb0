"""Shapes, views, indexing and joining. The sizes these ops carry (a reshape's target, a slice's
end) are where dynamic axes matter: they go through ``Graph.shape``/``Graph.size``, which
writes a size that changed between the two traces from the input's runtime shape."""

from __future__ import annotations

import numpy as np

from glassgrad.functions import array as a
from glassgrad.onnx._graph import ExportError
from glassgrad.onnx._registry import register
from onnx import helper

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
    out_b = out_a if out_b is None else out_b

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
    fn, alt = node.fn, node.alt
    source = node.raw_input(0)
    if source in graph.last_step_only:
        return _last_step(graph, node, source)
    if fn.advanced:
        if len(fn.key) == 1 and (alt is None or alt.key[0].shape == fn.key[0].shape) and fn.key[0].dtype.kind in "iu":
            return graph.add("Gather", [node.input(0), graph.initializer(fn.key[0].astype("int64"))], axis=0)
        raise ExportError("GetItem: only indexing with one integer array (x[idx]) is exported, not "
                          f"the key {fn.key!r}; use index_select or gather")
    ndim = len(node.shape(0))
    items_a, items_b = _items(fn.key, ndim), _items(alt.key if alt is not None else fn.key, ndim)
    x = node.input(0)
    starts, stops, steps, axes = ([], []), ([], []), [], []
    axis, out_axis, ints, news = 0, 0, [], []
    for ka, kb in zip(items_a, items_b):
        if ka is None:
            news.append(out_axis)
            out_axis += 1
        elif isinstance(ka, slice):
            if ka != slice(None) or kb != slice(None):
                (sa, ea, step), (sb, eb, _) = _bounds(ka), _bounds(kb)
                starts[0].append(sa), starts[1].append(sb), stops[0].append(ea), stops[1].append(eb)
                steps.append(step), axes.append(axis)
            axis += 1
            out_axis += 1
        else:
            ints.append((axis, int(ka), int(kb)))
            axis += 1
    if axes:
        x = graph.add("Slice", [x, graph.shape(*starts, "slice start"), graph.shape(*stops, "slice stop"),
                                graph.ints(axes), graph.ints(steps)])
    for ax, ia, ib in reversed(ints):  # the last first, so the earlier axes keep their numbers
        if ia == ib:
            x = graph.add("Gather", [x, graph.initializer(np.asarray(ia, dtype=np.int64))], axis=ax)
        else:
            picked = graph.add("Gather", [x, graph.size(ia, ib, "index")], axis=ax)
            x = graph.add("Squeeze", [picked, graph.ints([ax])])
    if news:
        x = graph.add("Unsqueeze", [x, graph.ints(news)])
    return x if x != node.input(0) else graph.add("Identity", [x])


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


def _last_step(graph, node, source):
    """``out[-1]`` of a fused LSTM's cell states: ONNX's LSTM gives exactly that (Y_c)."""
    last_c, allowed = graph.last_step_only[source]
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
