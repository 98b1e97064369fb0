"""Reverse-mode traversal of the recorded graph.

``run_backward`` orders the graph's nodes so that every node comes after all the nodes that
consume its output (a depth-first post-order, reversed), then walks that order once: each node
receives the sum of the gradients of its output, calls its ``backward``, and passes one gradient
to each input, either into the buffer of the input's own node or, for a leaf, into ``.grad``
(``Tensor.backward``) or into the result list (``autograd.grad``).
"""

from __future__ import annotations

from glassgrad.autograd.grad_mode import state


def run_backward(
    outputs,
    grad_outputs,
    inputs=None,
    retain_graph: bool = False,
    create_graph: bool = False,
    allow_unused: bool = False,
):
    """Back-propagate ``grad_outputs`` from ``outputs``.

    With ``inputs=None`` gradients accumulate into the ``.grad`` of every leaf that requires grad
    (``Tensor.backward``); otherwise the gradients of ``outputs`` with respect to ``inputs`` are
    returned as a list and no ``.grad`` is touched (``autograd.grad``).
    """
    prev_mode = state.grad_enabled
    state.grad_enabled = create_graph
    try:
        return _run(outputs, grad_outputs, inputs, retain_graph, create_graph, allow_unused)
    finally:
        state.grad_enabled = prev_mode


def _run(outputs, grad_outputs, inputs, retain_graph, create_graph, allow_unused):
    accumulate = inputs is None
    # where each input's gradient is collected: leaves by identity, non-leaves by their node
    leaf_slot = {}
    node_slot = {}
    repeats = []  # (i, j): inputs[i] is inputs[j], given again; it gets the same gradient
    if not accumulate:
        first = {}
        for i, x in enumerate(inputs):
            if id(x) in first:
                repeats.append((i, first[id(x)]))
                continue
            first[id(x)] = i
            if x.grad_fn is None:
                leaf_slot[id(x)] = i
            else:
                node_slot[x.grad_fn] = i
        results = [None] * len(inputs)
    handed_out = set()  # ids of gradient tensors already given to a leaf (see _deliver_to_leaf)

    def deliver_to_leaf(x, g):
        if accumulate:
            _accumulate_into_grad(x, g, handed_out, create_graph)
        else:
            i = leaf_slot.get(id(x))
            if i is not None:
                results[i] = g if results[i] is None else results[i] + g

    buffers = {}
    roots = []
    for y, g in zip(outputs, grad_outputs):
        handed_out.add(id(g))
        if y.grad_fn is None:
            if y.requires_grad:
                deliver_to_leaf(y, g)
        else:
            f = y.grad_fn
            if f in buffers:
                buffers[f] = buffers[f] + g
            else:
                buffers[f] = g
                roots.append(f)

    order, needed = _topological_order(roots, None if accumulate else (leaf_slot, node_slot))

    for f in order:
        gy = buffers.pop(f, None)
        if gy is None:  # no gradient reached this node (all paths to it were unused)
            continue
        if not accumulate and f in node_slot:
            results[node_slot[f]] = gy
        elif accumulate:
            y = f.output()
            if y is not None and y._retains_grad:
                _accumulate_into_grad(y, gy, handed_out, create_graph)
        if needed is not None and not needed[f]:
            continue
        f.check_versions()
        if state.anomaly:
            from glassgrad.autograd.anomaly import checked_backward

            grads = checked_backward(f, gy)
        else:
            grads = f.backward(gy)
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
                deliver_to_leaf(x, g)
            elif needed is None or needed[p]:
                if p in buffers:
                    buffers[p] = buffers[p] + g
                else:
                    buffers[p] = g
        if not retain_graph:
            f.release()

    if accumulate:
        return None
    for i, j in repeats:
        results[i] = results[j]
    for i, (x, r) in enumerate(zip(inputs, results)):
        if r is None and not allow_unused:
            raise RuntimeError(
                f"input {i} (shape {tuple(x.shape)}) was not used in computing the outputs; "
                "pass allow_unused=True to get None for it"
            )
    return results


def _topological_order(roots, targets):
    """Nodes reachable from ``roots``, each before the nodes it reads from.

    With ``targets`` (the inputs of ``autograd.grad``) also says which nodes lead to a target, so
    that backward skips the rest of the graph.
    """
    post = []
    visited = set()
    needed = {} if targets is not None else None
    if targets is not None:
        leaf_slot, node_slot = targets
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
            if needed is not None:
                needed[node] = node in node_slot or any(
                    (x.grad_fn is None and id(x) in leaf_slot)
                    or (x.grad_fn is not None and needed[x.grad_fn])
                    for x, wants in zip(node.inputs, node.needs_input_grad)
                    if wants
                )
    post.reverse()
    return post, needed


def _parents_of(node):
    if node.inputs is None:
        raise RuntimeError(
            f"Trying to backward through the graph a second time ({node.name()} was already "
            "freed). Pass retain_graph=True to the first backward or autograd.grad call if you "
            "need to backward through the same graph again."
        )
    return [x.grad_fn for x, wants in zip(node.inputs, node.needs_input_grad)
            if wants and x.grad_fn is not None]


def _accumulate_into_grad(x, g, handed_out, create_graph):
    """``x.grad += g``, out of place. A first gradient is copied when it may be shared with
    another leaf's gradient or with an array the caller owns, or is a (read-only) view, so that
    a later in-place change of one ``.grad`` (``zero_()``, an optimizer step) cannot change
    another. With ``create_graph`` the copy is a recorded clone, so ``.grad`` stays
    differentiable."""
    if not create_graph and g.grad_fn is not None:
        g = g.detach()
    if x.grad is not None:
        x.grad = x.grad + g
        return
    if id(g) in handed_out or g._data.base is not None:
        g = g.clone()
    handed_out.add(id(g))
    x.grad = g
