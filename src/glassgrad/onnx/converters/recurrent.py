"""The fused GRU and LSTM layers as ONNX's GRU and LSTM ops (not an unrolled graph: one node per
layer and direction keeps the graph small whatever the sequence length, runs the runtime's
optimized loop, and works for any length without a Loop).

glassgrad's fused op receives ``gx``, the input projections of all steps (``x W_ih^T + b_ih``,
computed before it by one Linear). ONNX's ops project the input themselves, so they get ``gx``
as their input with W the identity (permuted into ONNX's gate order) and zero input bias; the
recurrent weight W_hh and bias b_hh are reordered by a Gather of their rows:

- GRU: torch stacks the gates r, z, n; ONNX z, r, h. torch's n = tanh(gx_n + r * (W_hn h + b_hn))
  applies the reset gate after the recurrent product: ONNX's ``linear_before_reset=1``.
- LSTM: torch stacks i, f, g, o; ONNX i, o, f, c. ONNX outputs every step's h but only the final
  cell state, which is all glassgrad reads of the cell states (c_n).
"""

from __future__ import annotations

import numpy as np

from glassgrad.functions import recurrent as rec
from glassgrad.onnx._registry import register


def _blocks(hidden: int, order) -> np.ndarray:
    """Row indices that put torch's gate blocks in ONNX's order (``order``: torch's block index
    of each ONNX block)."""
    return np.concatenate([np.arange(k * hidden, (k + 1) * hidden) for k in order]).astype(np.int64)


def _weights(graph, node, n_states: int, order):
    """X, W, R, B of the ONNX op (each with the leading num_directions=1 axis)."""
    gates, hidden = node.shape(n_states + 1)  # w_hh: [G*H, H]
    dt = node.dtype(0)
    perm = _blocks(hidden, order)
    one = graph.ints([0])
    w = graph.initializer(np.eye(gates, dtype=dt)[perm][None])
    r = graph.add("Unsqueeze", [graph.add("Gather", [node.input(n_states + 1), graph.initializer(perm)], axis=0), one])
    if node.fn.has_bias:
        b_hh = graph.add("Gather", [node.input(n_states + 2), graph.initializer(perm)], axis=0)
        b = graph.add("Unsqueeze", [graph.add("Concat", [graph.initializer(np.zeros(gates, dt)), b_hh], axis=0), one])
    else:
        b = None
    return node.input(0), w, r, b, hidden


def _state(graph, node, i: int):
    """The initial state as [1, B, H], or "" (zeros, ONNX's default) for a constant of zeros: the
    default state's shape depends on the batch, so it must not be baked in."""
    if node.is_zero_constant(i):
        return ""
    return graph.add("Unsqueeze", [node.input(i), graph.ints([0])])


def _direction(node) -> str:
    return "reverse" if node.fn.reverse else "forward"


@register(rec.GRULayer)
def gru(graph, node):
    x, w, r, b, hidden = _weights(graph, node, 1, (1, 0, 2))
    y = graph.add("GRU", [x, w, r, b, "", _state(graph, node, 1)], n_out=2, hidden_size=hidden,
                  linear_before_reset=1, direction=_direction(node))[0]
    return (graph.add("Squeeze", [y, graph.ints([1])]),)  # [T, 1, B, H] -> [T, B, H]


@register(rec.LSTMLayer)
def lstm(graph, node):
    x, w, r, b, hidden = _weights(graph, node, 2, (0, 3, 1, 2))
    y, _, y_c = graph.add("LSTM", [x, w, r, b, "", _state(graph, node, 1), _state(graph, node, 2)], n_out=3,
                          hidden_size=hidden, direction=_direction(node))
    h_all = graph.add("Squeeze", [y, graph.ints([1])])
    # every step's cell states are not available; only their final one (see the module docstring)
    cells = graph.fresh("lstm_cell_states")
    steps = node.shape(0)[0]
    graph.last_step_only[cells] = (graph.add("Squeeze", [y_c, graph.ints([0])]),
                                   {0} if node.fn.reverse else {-1, steps - 1})
    return h_all, cells
