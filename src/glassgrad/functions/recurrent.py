"""The time loop of a recurrent layer (one layer, one direction), in two forms:

- ``run_direction`` composes the step from tensor ops (one recurrent matmul and one split per
  step): it handles every case (RNN, GRU, LSTM with projection, packed batches) and is the
  reference the fused form is checked against;
- ``GRULayer`` and ``LSTMLayer`` are single ops for the common case (a padded batch, no
  projection): the forward loop runs on arrays and saves the gates, the backward is the
  textbook backpropagation through time on arrays, with the weight gradient of all steps as one
  matmul. That removes about a dozen graph nodes per step, which on small hidden sizes cost more
  than the arithmetic. Their backward is itself an op (``_LayerGrad``), whose own backward
  rebuilds the composed graph, so gradients of any order still work.

The input projection ``x W_ih^T + b_ih`` of all steps is computed before the loop (one matmul);
here ``gx`` is that projection. Gates are stacked as PyTorch stacks them (r, z, n for the GRU;
i, f, g, o for the LSTM); the equations are in docs/recurrent.md.
"""

from __future__ import annotations

from glassgrad._backend import array_module, special_module
from glassgrad.autograd import grad, grad_mode
from glassgrad.autograd.function import Function
from glassgrad.functions._operands import constant
from glassgrad.functions.activation import relu, sigmoid, tanh
from glassgrad.functions.array import cat, stack
from glassgrad.functions.connection import linear

# -- composed: one time step from tensor ops -------------------------------------------------


def rnn_tanh_step(gx, state, w_hh, b_hh, w_hr=None):
    """h' = tanh(gx + h W_hh^T + b_hh)."""
    return (tanh(gx + linear(state[0], w_hh, b_hh)),)


def rnn_relu_step(gx, state, w_hh, b_hh, w_hr=None):
    """h' = relu(gx + h W_hh^T + b_hh)."""
    return (relu(gx + linear(state[0], w_hh, b_hh)),)


def gru_step(gx, state, w_hh, b_hh, w_hr=None):
    """r, z = sigmoid(gx_rz + gh_rz); n = tanh(gx_n + r * gh_n); h' = (1 - z) * n + z * h."""
    h = state[0]
    hidden = h.shape[-1]
    gx_rz, gx_n = gx.split((2 * hidden, hidden), -1)
    gh_rz, gh_n = linear(h, w_hh, b_hh).split((2 * hidden, hidden), -1)
    r, z = sigmoid(gx_rz + gh_rz).chunk(2, -1)
    n = tanh(gx_n + r * gh_n)
    return (n + z * (h - n),)  # = (1 - z) * n + z * h, one op fewer


def lstm_step(gx, state, w_hh, b_hh, w_hr=None):
    """i, f, g, o from gx + h W_hh^T + b_hh; c' = f c + i g; h' = o tanh(c') (then h' W_hr^T)."""
    h, c = state
    i, f, g, o = (gx + linear(h, w_hh, b_hh)).chunk(4, -1)
    c = sigmoid(f) * c + sigmoid(i) * tanh(g)
    h = sigmoid(o) * tanh(c)
    if w_hr is not None:
        h = linear(h, w_hr)
    return h, c


STEPS = {"RNN_TANH": rnn_tanh_step, "RNN_RELU": rnn_relu_step, "GRU": gru_step, "LSTM": lstm_step}


def run_direction(step, x_proj, batch_sizes, state, weights, reverse: bool):
    """One direction of one layer over time-major packed rows, composed from tensor ops.

    ``x_proj`` holds the input projections of all steps, step after step: ``batch_sizes[t]``
    rows for step t (the sequences still going at t, longest first; a padded batch is the case
    of equal sizes). ``state`` is the initial (h,) or (h, c), one row per sequence. Returns the
    outputs (rows as ``x_proj``) and the final state. Sequences that end early drop out of the
    batch and keep their last state (forward); in reverse they join when their last step comes,
    starting from their initial state.
    """
    steps = x_proj.split(list(batch_sizes), 0)  # one op: a view per step
    order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
    full = state
    running = batch_sizes[order[0]]
    if running < state[0].shape[0]:
        state = tuple(s[:running] for s in full)
    finished = []  # forward: states of the sequences that have ended, latest first
    outputs = [None] * len(steps)
    for t in order:
        size = batch_sizes[t]
        if size < running:  # forward: sequences size..running-1 ended at the step before
            kept = [s.split((size, running - size), 0) for s in state]
            state = tuple(k[0] for k in kept)
            finished.append(tuple(k[1] for k in kept))
        elif size > running:  # reverse: sequences running..size-1 start here
            state = tuple(cat([s, f[running:size]], 0) for s, f in zip(state, full))
        running = size
        state = step(steps[t], state, *weights)
        outputs[t] = state[0]
    if finished:
        state = tuple(cat([s, *(f[k] for f in reversed(finished))], 0) for k, s in enumerate(state))
    return cat(outputs, 0) if len(outputs) > 1 else outputs[0], state


# -- fused: the whole loop as one op ----------------------------------------------------------


class _Layer(Function):
    """One layer and direction over a padded batch, as one op. Inputs: ``gx`` [T, B, G*H] (the
    input projections), the initial state(s) [B, H], ``w_hh`` [G*H, H] and optionally ``b_hh``.
    Output: the hidden states of all steps [T, B, H] (and for the LSTM the cell states too, so
    that c_n is a slice of an output). Subclasses define ``_forward_steps`` and
    ``_backward_steps`` on arrays and ``n_states``."""

    n_states = 1

    def __init__(self, reverse: bool, has_bias: bool):
        self.reverse, self.has_bias = reverse, has_bias

    def forward(self, gx, *rest):
        states, w_hh = rest[:self.n_states], rest[self.n_states]
        b_hh = rest[self.n_states + 1] if self.has_bias else None
        if self.reverse:  # run (and save the gates) in processing order; flip the outputs back
            gx = gx[::-1]
        outs = self._forward_steps(gx, states, w_hh, b_hh, array_module(gx))
        return tuple(o[::-1] for o in outs) if self.reverse else outs

    def backward(self, *gys):
        grads = _LayerGrad(self)(*self.inputs, *(self._zeros_for(i) if g is None else g
                                                 for i, g in enumerate(gys)))
        return tuple(g if need else None for g, need in zip(grads, self.needs_input_grad))

    def _zeros_for(self, i):

        return constant(array_module(self.saved[0]).zeros(self.out_shape, self.saved[0].dtype))

    def composed(self, gx, *rest):
        """The same layer from tensor ops (``run_direction``), for the higher-order gradients."""
        states, w_hh = rest[:self.n_states], rest[self.n_states]
        b_hh = rest[self.n_states + 1] if self.has_bias else None
        steps, batch = gx.shape[0], gx.shape[1]
        x2 = gx.reshape(steps * batch, gx.shape[2])
        if self.n_states == 2:
            return self._composed_cells(x2, states, w_hh, b_hh)
        out, _ = run_direction(STEPS[self.mode], x2, [batch] * steps, states, (w_hh, b_hh), self.reverse)
        return (out.reshape(steps, batch, -1),)


class _LayerGrad(Function):
    """The gradients of a ``_Layer`` (given its output gradients) as one op on arrays; its own
    backward differentiates the composed graph, so any order works."""

    def __init__(self, layer: _Layer):
        self.layer = layer

    def forward(self, *arrays):
        layer = self.layer
        k = len(layer.inputs)
        gx, rest, gys = arrays[0], arrays[1:k], arrays[k:]
        w_hh = rest[layer.n_states]
        if layer.reverse:
            gys = tuple(g[::-1] for g in gys)
        grads = layer._backward_steps(gys, w_hh, array_module(gx))
        g_gx, g_states, g_w, g_b = grads
        if layer.reverse:
            g_gx = g_gx[::-1]
        out = (g_gx, *g_states, g_w) + ((g_b,) if layer.has_bias else ())
        return tuple(out)

    def backward(self, *ggs):
        # Rebuild the layer from tensor ops and differentiate it twice. It is built on fresh
        # aliases (one clone op each) of this op's inputs: the gradients with respect to an alias
        # are then partial derivatives (no path leads from one alias to another, whereas the
        # inputs themselves can depend on each other through the outer graph), and through the
        # aliases the results stay connected to the inputs, so a third order works too. The output
        # gradients and the incoming ggs enter as grad_outputs, which the engine keeps in the graph.

        layer = self.layer
        k = len(layer.inputs)
        create = grad_mode.is_grad_enabled()
        with grad_mode.enable_grad():
            alias = [x.clone() for x in self.inputs]
            ins, gys = alias[:k], alias[k:]
            wrt = [i for i, x in enumerate(ins) if x.requires_grad and ggs[i] is not None]
            if not wrt:
                return (None,) * len(alias)
            outs = layer.composed(*ins)
            firsts = grad(list(outs), [ins[i] for i in wrt], grad_outputs=list(gys), create_graph=True,
                          allow_unused=True)
            pairs = [(f, ggs[i]) for i, f in zip(wrt, firsts) if f is not None and f.requires_grad]
            targets = [i for i, x in enumerate(alias) if x.requires_grad and self.needs_input_grad[i]]
            if not pairs or not targets:
                return (None,) * len(alias)
            seconds = grad([f for f, _ in pairs], [alias[i] for i in targets],
                           grad_outputs=[g for _, g in pairs], create_graph=create, allow_unused=True)
        result = [None] * len(alias)
        for i, g in zip(targets, seconds):
            result[i] = g
        return tuple(result)


class GRULayer(_Layer):
    """A GRU layer's time loop as one op (see the module docstring)."""

    mode = "GRU"

    def _forward_steps(self, gx, states, w_hh, b_hh, xp):
        # every step writes in place into the arrays the backward keeps: few, large-ish calls
        steps, batch, h3 = gx.shape
        hidden = h3 // 3
        expit = special_module(gx).expit
        h = states[0]
        out = xp.empty((steps, batch, hidden), gx.dtype)
        rz_all = xp.empty((steps, batch, 2 * hidden), gx.dtype)  # r and z after the sigmoid
        n_all = xp.empty((steps, batch, hidden), gx.dtype)
        hn_all = xp.empty((steps, batch, hidden), gx.dtype)  # W_hn h + b_hn, which r scales
        w_t = xp.ascontiguousarray(w_hh.T)  # h @ w_t runs faster on a contiguous matrix
        gh = xp.empty((batch, h3), gx.dtype)
        for t in range(steps):
            xp.matmul(h, w_t, out=gh)
            if b_hh is not None:
                gh += b_hh
            rz, n, h_new = rz_all[t], n_all[t], out[t]
            xp.add(gx[t, :, :2 * hidden], gh[:, :2 * hidden], out=rz)
            expit(rz, out=rz)
            hn_all[t] = gh[:, 2 * hidden:]
            xp.multiply(rz[:, :hidden], gh[:, 2 * hidden:], out=n)
            n += gx[t, :, 2 * hidden:]
            xp.tanh(n, out=n)
            xp.subtract(h, n, out=h_new)  # h' = n + z * (h - n)
            h_new *= rz[:, hidden:]
            h_new += n
            h = h_new
        self.saved = (out, rz_all, n_all, hn_all, states[0])
        self.out_shape = out.shape
        return (out,)

    def _backward_steps(self, gys, w_hh, xp):
        out, rz_all, n_all, hn_all, h0 = self.saved
        gy = gys[0]
        steps, batch, hidden = out.shape
        dt = out.dtype
        h_prevs = xp.concatenate([h0[None], out[:-1]], 0)
        # what does not depend on the running gradient, for all steps at once
        z_all = rz_all[:, :, hidden:]
        d_n = n_all * n_all  # d h' / d(pre-activation of n) = (1 - z)(1 - n^2), per unit of dh
        xp.subtract(1.0, d_n, out=d_n)
        d_n *= 1.0 - z_all
        d_z = h_prevs - n_all  # d h' / dz
        d_sig = 1.0 - rz_all  # sigmoid' of r and z: s (1 - s)
        d_sig *= rz_all
        g_gates = xp.empty((steps, batch, 3 * hidden), dt)  # gradient of gx
        g_gh = xp.empty((steps, batch, 3 * hidden), dt)  # gradient of h W_hh^T + b_hh
        dh = xp.zeros((batch, hidden), dt)
        back = xp.empty((batch, hidden), dt)
        for t in range(steps - 1, -1, -1):
            dh += gy[t]
            d_pre_n = g_gates[t, :, 2 * hidden:]
            xp.multiply(dh, d_n[t], out=d_pre_n)
            d_rz = g_gh[t, :, :2 * hidden]
            xp.multiply(d_pre_n, hn_all[t], out=d_rz[:, :hidden])
            xp.multiply(dh, d_z[t], out=d_rz[:, hidden:])
            d_rz *= d_sig[t]
            xp.multiply(d_pre_n, rz_all[t, :, :hidden], out=g_gh[t, :, 2 * hidden:])
            dh *= z_all[t]
            xp.matmul(g_gh[t], w_hh, out=back)
            dh += back
        g_gates[:, :, :2 * hidden] = g_gh[:, :, :2 * hidden]
        g_gh2 = g_gh.reshape(steps * batch, 3 * hidden)
        g_w = g_gh2.T @ h_prevs.reshape(steps * batch, hidden)  # every step's weight gradient at once
        g_b = g_gh2.sum(0) if self.has_bias else None
        return g_gates, (dh,), g_w, g_b


class LSTMLayer(_Layer):
    """An LSTM layer's time loop (no projection) as one op; outputs h and c of every step."""

    mode = "LSTM"
    n_states = 2

    def _forward_steps(self, gx, states, w_hh, b_hh, xp):
        steps, batch, h4 = gx.shape
        hidden = h4 // 4
        expit = special_module(gx).expit
        h, c = states
        hs = xp.empty((steps, batch, hidden), gx.dtype)
        cs = xp.empty((steps, batch, hidden), gx.dtype)
        gates_all = xp.empty((steps, batch, 4 * hidden), gx.dtype)  # i, f, g, o after activation
        tanh_cs = xp.empty((steps, batch, hidden), gx.dtype)
        w_t = xp.ascontiguousarray(w_hh.T)
        ig = xp.empty((batch, hidden), gx.dtype)
        for t in range(steps):
            gates = gates_all[t]
            xp.matmul(h, w_t, out=gates)
            gates += gx[t]
            if b_hh is not None:
                gates += b_hh
            g_part = gates[:, 2 * hidden:3 * hidden]
            xp.tanh(g_part, out=g_part)
            expit(gates[:, :2 * hidden], out=gates[:, :2 * hidden])
            expit(gates[:, 3 * hidden:], out=gates[:, 3 * hidden:])
            xp.multiply(gates[:, :hidden], g_part, out=ig)  # c' = f c + i g
            c_new = cs[t]
            xp.multiply(gates[:, hidden:2 * hidden], c, out=c_new)
            c_new += ig
            c = c_new
            xp.tanh(c, out=tanh_cs[t])  # h' = o tanh(c')
            xp.multiply(gates[:, 3 * hidden:], tanh_cs[t], out=hs[t])
            h = hs[t]
        self.saved = (hs, cs, gates_all, tanh_cs, states[0], states[1])
        self.out_shape = hs.shape
        return hs, cs

    def _backward_steps(self, gys, w_hh, xp):
        hs, cs, gates_all, tanh_cs, h0, c0 = self.saved
        gy_h, gy_c = gys
        steps, batch, hidden = hs.shape
        dt = hs.dtype
        i_all, f_all = gates_all[:, :, :hidden], gates_all[:, :, hidden:2 * hidden]
        g_all, o_all = gates_all[:, :, 2 * hidden:3 * hidden], gates_all[:, :, 3 * hidden:]
        c_prevs = xp.concatenate([c0[None], cs[:-1]], 0)
        # per unit of dc or dh, for all steps at once: d(pre-activation) of each gate
        d_i = g_all * i_all * (1.0 - i_all)
        d_f = c_prevs * f_all * (1.0 - f_all)
        d_g = i_all * (1.0 - g_all * g_all)
        d_o = tanh_cs * o_all * (1.0 - o_all)
        d_c = o_all * (1.0 - tanh_cs * tanh_cs)  # d c' from d h'
        g_a = xp.empty((steps, batch, 4 * hidden), dt)  # gradient of the gate pre-activations
        dh = xp.zeros((batch, hidden), dt)
        dc = xp.zeros((batch, hidden), dt)
        tmp = xp.empty((batch, hidden), dt)
        for t in range(steps - 1, -1, -1):
            dh += gy_h[t]
            dc += gy_c[t]
            xp.multiply(dh, d_c[t], out=tmp)
            dc += tmp
            ga = g_a[t]
            xp.multiply(dc, d_i[t], out=ga[:, :hidden])
            xp.multiply(dc, d_f[t], out=ga[:, hidden:2 * hidden])
            xp.multiply(dc, d_g[t], out=ga[:, 2 * hidden:3 * hidden])
            xp.multiply(dh, d_o[t], out=ga[:, 3 * hidden:])
            dc *= f_all[t]
            xp.matmul(ga, w_hh, out=dh)
        h_prevs = xp.concatenate([h0[None], hs[:-1]], 0).reshape(steps * batch, hidden)
        g_a2 = g_a.reshape(steps * batch, 4 * hidden)
        g_w = g_a2.T @ h_prevs  # every step's weight gradient in one matmul
        g_b = g_a2.sum(0) if self.has_bias else None
        return g_a, (dh, dc), g_w, g_b

    def _composed_cells(self, x2, states, w_hh, b_hh):
        # run_direction returns only h per step; the LSTM op also outputs c per step, so the
        # composed form runs the steps itself to keep both
        steps, batch = self.out_shape[0], self.out_shape[1]
        pieces = x2.split([batch] * steps, 0)
        order = range(steps - 1, -1, -1) if self.reverse else range(steps)
        hs, cs, state = [None] * steps, [None] * steps, tuple(states)
        for t in order:
            state = lstm_step(pieces[t], state, w_hh, b_hh)
            hs[t], cs[t] = state
        return stack(hs, 0), stack(cs, 0)


def fused_layer(mode: str, gx, states, w_hh, b_hh, reverse: bool):
    """Run one GRU or LSTM layer direction over a padded batch ``gx`` [T, B, G*H] as one op;
    returns the outputs [T, B, H] and the final state(s), each [B, H]."""
    op = (GRULayer if mode == "GRU" else LSTMLayer)(reverse, b_hh is not None)
    args = (gx, *states, w_hh) + ((b_hh,) if b_hh is not None else ())
    outs = op(*args)
    outs = outs if isinstance(outs, tuple) else (outs,)
    last = 0 if reverse else -1
    return outs[0], tuple(o[last] for o in outs)
