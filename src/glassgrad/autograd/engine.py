"""Reverse-mode traversal of the recorded graph: what ``Tensor.backward`` and ``autograd.grad`` run.

The graph's nodes are ``Function`` calls. A tensor made by an op knows its node (``grad_fn``) and
its place among that node's outputs (``output_nr``); a node knows its input tensors. A backward
pass has three steps, one function each:

1. ``_seed``: each output's starting gradient goes into its node's buffer, in the slot of that
   output (``buffers[node][output_nr]``); an output that is itself a leaf goes to the leaf's
   buffer.
2. ``_sweep``: visit the nodes in a topological order, each node before the nodes that made its
   inputs, so that when a node's turn comes its buffer holds the full gradient of each output:
   the sum over every place that output was used. Run the hooks registered on those outputs,
   call the node's ``backward``, and add the gradient of each input into the buffer of the
   node that made it (or of the leaf). Without ``retain_graph`` the node then frees what it kept.
3. ``_collect``: hand each leaf its summed gradient (after the leaf's own hooks): added into
   ``.grad`` (``backward``), or returned (``autograd.grad``).

``backward`` fills ``.grad`` of every leaf that requires grad, or only of the tensors given as
``inputs``; ``autograd.grad`` returns the gradients of its ``inputs`` and skips the nodes that lead
to none of them. Both run the same sweep.
"""

from __future__ import annotations

from glassgrad.autograd import grad_mode
from glassgrad.autograd.grad_mode import state


def run_backward(
    outputs,
    grad_outputs,
    inputs=None,
    retain_graph: bool = False,
    create_graph: bool = False,
    allow_unused: bool = False,
    accumulate: bool = True,
):
    """Back-propagate ``grad_outputs`` from ``outputs``.

    With ``accumulate`` (``backward``) gradients are added into ``.grad``: of every leaf that
    requires grad when ``inputs`` is None, else only of ``inputs``. Without it (``autograd.grad``)
    the gradients with respect to ``inputs`` are returned as a list and no ``.grad`` is changed.
    """
    prev_mode = state.grad_enabled
    state.grad_enabled = create_graph  # the backwards' own ops are recorded only for create_graph
    try:
        targets = None if inputs is None else _Targets(inputs)
        buffers, roots, leaves, handed_out = _seed(outputs, grad_outputs)
        order, calls = _topological_order(roots, targets)
        sink = _Sink(targets, accumulate, create_graph, handed_out)
        _sweep(order, buffers, leaves, calls, targets, sink, retain_graph)
        return _collect(leaves, targets, sink, allow_unused)
    finally:
        state.grad_enabled = prev_mode


class _Targets:
    """The tensors whose gradients were asked for (``inputs``), and the place of each in the
    results: leaves by identity, non-leaves by (node, output_nr)."""

    def __init__(self, inputs):
        self.tensors = list(inputs)
        self.leaf = {}
        self.node_output = {}
        self.nodes = set()
        for i, x in enumerate(self.tensors):
            if x.grad_fn is None:
                self.leaf.setdefault(id(x), i)
            else:
                self.node_output.setdefault((x.grad_fn, x._output_nr), i)
                self.nodes.add(x.grad_fn)

    def slot_of(self, x) -> int:
        """The result slot of ``x`` (that of its first occurrence in ``inputs``)."""
        return self.leaf[id(x)] if x.grad_fn is None else self.node_output[(x.grad_fn, x._output_nr)]


class _Sink:
    """Where a finished gradient of a target (or, without targets, of any leaf) goes: added into
    the tensor's ``.grad``, or into the list of results."""

    def __init__(self, targets, accumulate, create_graph, handed_out):
        self.accumulate, self.create_graph, self.handed_out = accumulate, create_graph, handed_out
        self.results = None if targets is None else [None] * len(targets.tensors)

    def put(self, slot, x, g):
        if self.accumulate:
            accumulate_grad(x, g, self.handed_out, self.create_graph)
        else:
            self.results[slot] = g


def _seed(outputs, grad_outputs):
    """Step 1: the outputs' gradients into the buffers of their nodes (or of leaves)."""
    buffers = {}  # node -> [gradient of each output, or None]
    leaves = {}  # id(leaf) -> [leaf, summed gradient]
    roots = []
    handed_out = set()  # ids of gradient tensors that some .grad or the caller already holds
    for y, g in zip(outputs, grad_outputs):
        handed_out.add(id(g))
        if y.grad_fn is None:
            _add_to_leaf(leaves, y, g)
        else:
            if y.grad_fn not in buffers:
                roots.append(y.grad_fn)
            _add_to_node(buffers, y.grad_fn, y._output_nr, g)
    return buffers, roots, leaves, handed_out


def _sweep(order, buffers, leaves, calls, targets, sink, retain_graph):
    """Step 2: each node's backward, in topological order, passing gradients towards the leaves."""
    for f in order:
        gys = buffers.pop(f, None)
        if gys is None:  # no gradient reached this node (its outputs were not used)
            continue
        if f._hooks is not None:
            _run_node_hooks(f, gys, sink)
        if targets is not None:
            for k, g in enumerate(gys):
                slot = targets.node_output.get((f, k))
                if slot is not None and g is not None:
                    sink.put(slot, targets.tensors[slot], g)
        if calls is not None and not calls[f]:
            continue
        f.check_versions()
        needs = f.needs_input_grad
        if calls is not None:
            # ask the backward only for the gradients that lead to a target, as PyTorch does:
            # autograd.grad(critic(x), x) then skips the critic's weight gradients (a matrix
            # product per layer); the node's own flags come back afterwards (retain_graph)
            f.needs_input_grad = tuple(
                wants and _leads_to_target(x, targets, calls) for x, wants in zip(f.inputs, needs)
            )
        try:
            if grad_mode.anomaly_threads and state.anomaly:
                from glassgrad.autograd.anomaly import checked_backward

                grads = checked_backward(f, gys)
            else:
                grads = f.backward(gys[0]) if f.n_outputs == 1 else f.backward(*gys)
        finally:
            f.needs_input_grad = needs
        if not isinstance(grads, tuple):
            grads = (grads,)
        for x, g, wants in zip(f.inputs, grads, f.needs_input_grad):
            if g is None or not wants:
                continue
            if g._data.shape != x._data.shape:
                raise RuntimeError(
                    f"{f.name()} returned a gradient of shape {tuple(g.shape)} for an input of "
                    f"shape {tuple(x.shape)} (a bug in that op's backward)"
                )
            p = x.grad_fn
            if p is None:
                if targets is None or id(x) in targets.leaf:
                    _add_to_leaf(leaves, x, g)
            elif calls is None or calls[p] or p in targets.nodes:
                # _add_to_node(buffers, p, x._output_nr, g), inlined: this is the hottest line
                slots = buffers.get(p)
                if slots is None:
                    slots = buffers[p] = [None] * p.n_outputs
                k = x._output_nr
                slots[k] = g if slots[k] is None else slots[k] + g
        if not retain_graph:
            f.release()


def _collect(leaves, targets, sink, allow_unused):
    """Step 3: the leaves' summed gradients, after their hooks, to ``.grad`` or the results."""
    for x, g in leaves.values():
        if x._hooks is not None:
            g = _run_hooks(x._hooks, g, sink.handed_out)
        if targets is None:
            if x._requires_grad:
                sink.put(None, x, g)
        elif id(x) in targets.leaf:
            sink.put(targets.leaf[id(x)], x, g)
    if sink.accumulate:
        return None
    results = sink.results
    for i, x in enumerate(targets.tensors):
        results[i] = results[targets.slot_of(x)]  # an input given twice gets its gradient twice
        if results[i] is None and not allow_unused:
            raise RuntimeError(
                f"input {i} (shape {tuple(x.shape)}) was not used in computing the outputs; "
                "pass allow_unused=True to get None for it"
            )
    return results


def _add_to_node(buffers, f, k, g):
    gys = buffers.get(f)
    if gys is None:
        gys = buffers[f] = [None] * f.n_outputs
    gys[k] = g if gys[k] is None else gys[k] + g


def _add_to_leaf(leaves, x, g):
    entry = leaves.get(id(x))
    if entry is None:
        leaves[id(x)] = [x, g]
    else:
        entry[1] = entry[1] + g


def _run_hooks(hooks, g, handed_out):
    """Pass ``g`` through each hook in turn; a hook may return a replacement. A replacement may be
    a tensor the hook keeps, so it counts as handed out (``.grad`` gets a copy of it)."""
    for hook in list(hooks.values()):
        new = hook(g)
        if new is not None:
            from glassgrad._tensor import Tensor

            if not isinstance(new, Tensor):
                raise TypeError(
                    f"hook {getattr(hook, '__name__', hook)!r} returned a {type(new).__name__}; "
                    "a hook returns a tensor (the new gradient) or None"
                )
            if new.shape != g.shape:
                raise RuntimeError(
                    f"hook {getattr(hook, '__name__', hook)!r} returned a gradient of shape "
                    f"{tuple(new.shape)} for a tensor of shape {tuple(g.shape)}"
                )
            g = new
            handed_out.add(id(g))
    return g


def _run_node_hooks(f, gys, sink):
    """The hooks of a node's outputs (register_hook on non-leaves), then, as in PyTorch, the
    ``.grad`` of outputs that ``retain_grad`` (so it holds the gradient the hooks made)."""
    for k, hooks in f._hooks.items():
        if gys[k] is not None and hooks:
            gys[k] = _run_hooks(hooks, gys[k], sink.handed_out)
    if f._retained is not None:
        for k, ref in f._retained.items():
            y = ref()
            if y is not None and gys[k] is not None:
                accumulate_grad(y, gys[k], sink.handed_out, sink.create_graph)


def _topological_order(roots, targets):
    """Nodes reachable from ``roots``, each before the nodes that made its inputs.

    With ``targets`` also says, per node, whether its backward must run: whether some input that
    wants a gradient is a target or comes from a node whose backward must run or that made a
    target. Nodes that lead to no target are skipped by the sweep.
    """
    post = []
    visited = set()
    calls = {} if targets is not None else None
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(_parents_of(root)))]
        while stack:
            node, parents = stack[-1]
            advanced = False
            for p in parents:
                if p not in visited:
                    visited.add(p)
                    stack.append((p, iter(_parents_of(p))))
                    advanced = True
                    break
            if advanced:
                continue
            stack.pop()
            post.append(node)
            if calls is not None:  # all of node's parents are done (post-order)
                calls[node] = any(
                    _leads_to_target(x, targets, calls)
                    for x, wants in zip(node.inputs, node.needs_input_grad)
                    if wants
                )
    post.reverse()
    return post, calls


def _leads_to_target(x, targets, calls) -> bool:
    """Whether the gradient of node input ``x`` is wanted: ``x`` is a target, or was made by a
    node whose backward must run (``calls``, already filled for it)."""
    if x.grad_fn is None:
        return id(x) in targets.leaf
    return (x.grad_fn, x._output_nr) in targets.node_output or calls[x.grad_fn]


def _parents_of(node):
    if node.inputs is None:
        raise RuntimeError(
            f"Trying to backward through the graph a second time ({node.name()} was already "
            "freed). Pass retain_graph=True to the first backward or autograd.grad call if you "
            "need to backward through the same graph again."
        )
    return [x.grad_fn for x, wants in zip(node.inputs, node.needs_input_grad)
            if wants and x.grad_fn is not None]


def accumulate_grad(x, g, handed_out, create_graph):
    """``x.grad += g``, as PyTorch does it.

    Without ``create_graph`` a second gradient is added in place, so a reference kept to
    ``x.grad`` sees the sum. A first gradient is stored as it is unless it may be shared (with
    another ``.grad``, the caller, a hook) or is a view (read-only when it is a broadcast), in
    which case a copy is stored, so that an in-place change of one ``.grad`` (``zero_()``, the
    next in-place sum, an optimizer step) cannot change another tensor. With ``create_graph``
    ``.grad`` must stay differentiable: the sum is out of place and the copy a recorded clone.
    """
    if not create_graph and g.grad_fn is not None:
        g = g.detach()
    old = x.grad
    if old is not None:
        if create_graph or not old._data.flags.writeable or old._data.shape != g._data.shape:
            x.grad = old + g
        else:
            old._data += g._data
            old._version_box[0] += 1
        return
    if id(g) in handed_out or g._data.base is not None:
        g = g.clone()
    handed_out.add(id(g))
    x.grad = g
