"""Recurrent layers: RNN (tanh or relu), GRU and LSTM over whole sequences, and their one-step
cells RNNCell, GRUCell and LSTMCell, with PyTorch's arguments, parameter names and layouts.

A layer runs ``num_layers`` stacked layers, each in one or two directions. Per layer and
direction the input projection ``x W_ih^T + b_ih`` of every time step is one matmul before the
loop; the loop over time steps then does one matmul ``h W_hh^T + b_hh`` per step, whose result
holds every gate and is cut into gates by one split. The update equations (docs/recurrent.md),
with gates stacked in PyTorch's order:

- RNN:  h' = tanh(W_ih x + b_ih + W_hh h + b_hh)                (or relu)
- GRU:  r, z = sigmoid(W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z})
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),   h' = (1 - z) * n + z * h
- LSTM: i, f, o = sigmoid(...), g = tanh(...)   (gates i, f, g, o of W_ih x + b_ih + W_hh h + b_hh)
        c' = f * c + i * g,   h' = o * tanh(c')     (with proj_size: h' = W_hr (o * tanh(c')))

A ``PackedSequence`` (``nn.utils.rnn``) is run step by step on the sequences still going, so
padding never touches the final states.
"""

from __future__ import annotations

import math

from glassgrad._creation import empty, zeros
from glassgrad._tensor import Tensor
from glassgrad.functions.array import cat
from glassgrad.functions.connection import linear
from glassgrad.functions.noise import dropout
from glassgrad.functions.recurrent import STEPS, fused_layer, run_direction
from glassgrad.nn import init
from glassgrad.nn.modules.module import Module, _describe
from glassgrad.nn.parameter import Parameter
from glassgrad.nn.utils.rnn import PackedSequence

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "GRU": 3, "LSTM": 4}


def _check_dtype(module: Module, t: Tensor, what: str) -> None:
    """Inputs and states must have the parameters' dtype (as in PyTorch: no silent casts)."""
    p = next(iter(module.parameters()), None)
    if p is not None and t.dtype != p.dtype:
        raise TypeError(f"{_describe(module)}: expected {what} to have the parameters' dtype {p.dtype}, "
                        f"got {t.dtype}; convert one of them, e.g. with .to({t.dtype}) on the layer")


class RNNBase(Module):
    """What RNN, GRU and LSTM share: the parameters (``weight_ih_l{k}``, ``weight_hh_l{k}``,
    ``bias_ih_l{k}``, ``bias_hh_l{k}``, with ``weight_hr_l{k}`` for a projected LSTM and the
    suffix ``_reverse`` for the backward direction), their initialization
    U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), the input checks and the layer loop."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        for what, v, least in (("input_size", input_size, 0), ("hidden_size", hidden_size, 1),
                               ("num_layers", num_layers, 1), ("proj_size", proj_size, 0)):
            if not isinstance(v, int) or isinstance(v, bool) or v < least:
                raise ValueError(f"{name}: {what} must be an int >= {least}, got {v!r}")
        if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be a number in [0, 1] (the probability of an "
                             f"element being zeroed), got {dropout!r}")
        if proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size is only supported by LSTM, got proj_size={proj_size}")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size ({proj_size}) has to be smaller than hidden_size "
                             f"({hidden_size})")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        gate_size = _GATES[mode] * hidden_size
        out_size = proj_size or hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        self.use_fused = True  # False: always the composed loop (the reference; see functions/recurrent.py)
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else out_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes = {f"weight_ih_l{layer}{suffix}": (gate_size, layer_in),
                          f"weight_hh_l{layer}{suffix}": (gate_size, out_size)}
                if bias:
                    shapes[f"bias_ih_l{layer}{suffix}"] = (gate_size,)
                    shapes[f"bias_hh_l{layer}{suffix}"] = (gate_size,)
                if proj_size:
                    shapes[f"weight_hr_l{layer}{suffix}"] = (proj_size, hidden_size)
                for pname, shape in shapes.items():
                    setattr(self, pname, Parameter(empty(*shape, dtype=dtype, device=device)))
                    self._flat_weights_names.append(pname)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters per layer and direction, in the order of the parameter names."""
        per = len(self._flat_weights_names) // (self.num_layers * (2 if self.bidirectional else 1))
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[i:i + per]] for i in range(0, len(names), per)]

    def _weights(self, layer: int, suffix: str) -> tuple:
        """(weight_ih, bias_ih, weight_hh, bias_hh, weight_hr) of one layer and direction."""
        get = lambda n: getattr(self, f"{n}_l{layer}{suffix}", None)  # noqa: E731
        return get("weight_ih"), get("bias_ih"), get("weight_hh"), get("bias_hh"), get("weight_hr")

    # -- checks -------------------------------------------------------------------------------

    def _check_input(self, data, packed: bool) -> None:
        me = _describe(self)
        if not isinstance(data, Tensor):
            raise TypeError(f"{me}: expected a Tensor or a PackedSequence, got {type(data).__name__}")
        if data.ndim not in ((2,) if packed else (2, 3)):
            layout = "[N, H_in] packed data" if packed else (
                "a 3-D input [N, L, H_in] (batch_first) or a 2-D unbatched [L, H_in]" if self.batch_first
                else "a 3-D input [L, N, H_in] or a 2-D unbatched [L, H_in]")
            raise ValueError(f"{me}: expected {layout}, got an input of shape {tuple(data.shape)}")
        if data.shape[-1] != self.input_size:
            raise RuntimeError(f"{me}: expected input_size={self.input_size} features in the last dim "
                               f"of the input, got an input of shape {tuple(data.shape)}")
        if not data.dtype.is_floating_point:
            raise TypeError(f"{me}: expected a floating point input, got {data.dtype}")
        _check_dtype(self, data, "the input")

    def _check_state(self, h, expected: tuple, what: str, input_shape) -> None:
        if not isinstance(h, Tensor):
            raise TypeError(f"{_describe(self)}: expected {what} to be a Tensor, got {type(h).__name__}")
        _check_dtype(self, h, what)
        if tuple(h.shape) != expected:
            raise RuntimeError(f"{_describe(self)}: expected {what} of shape {expected} "
                               f"(num_layers * num_directions, batch, size) for an input of shape "
                               f"{input_shape}, got {what} of shape {tuple(h.shape)}")

    def _initial_states(self, hx, batch: int, unbatched: bool, data, input_shape) -> tuple:
        """The initial (h0,) or (h0, c0) as 3-D tensors, checked, zeros when not given."""
        layers = self.num_layers * (2 if self.bidirectional else 1)
        sizes = [self.proj_size or self.hidden_size] + ([self.hidden_size] if self.mode == "LSTM" else [])
        names = ["h0", "c0"][:len(sizes)]
        if hx is None:
            return tuple(zeros(layers, batch, s, dtype=data.dtype, device=data.device) for s in sizes)
        states = tuple(hx) if self.mode == "LSTM" else (hx,)
        if self.mode == "LSTM" and len(states) != 2:
            raise TypeError(f"{_describe(self)}: expected hx to be a pair (h0, c0), got {len(states)} tensors")
        out = []
        for h, s, what in zip(states, sizes, names):
            if unbatched:
                self._check_state(h, (layers, s), what, input_shape)
                h = h.unsqueeze(1)
            else:
                self._check_state(h, (layers, batch, s), what, input_shape)
            out.append(h)
        return tuple(out)

    # -- forward ------------------------------------------------------------------------------

    def forward(self, input, hx=None):
        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes = input.data, [int(b) for b in input.batch_sizes.tolist()]
            self._check_input(data, True)
            batch, unbatched = batch_sizes[0], False
            input_shape = f"PackedSequence(data of shape {tuple(data.shape)})"
        else:
            self._check_input(input, False)
            unbatched = input.ndim == 2
            x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first else input)
            steps, batch = x.shape[0], x.shape[1]
            batch_sizes = [batch] * steps
            data = x.reshape(steps * batch, self.input_size)
            input_shape = tuple(input.shape)
        state = self._initial_states(hx, batch, unbatched, data, input_shape)
        if packed and input.sorted_indices is not None:  # states are given in the caller's order
            state = tuple(s.index_select(1, input.sorted_indices) for s in state)
        data, finals = self._layers(data, batch_sizes, state)
        final = [cat(f, 0) for f in zip(*finals)]
        if packed and input.unsorted_indices is not None:
            final = [f.index_select(1, input.unsorted_indices) for f in final]
        if unbatched:
            final = [f.squeeze(1) for f in final]
        final = tuple(final) if self.mode == "LSTM" else final[0]
        if packed:
            return PackedSequence(data, input.batch_sizes, input.sorted_indices, input.unsorted_indices), final
        out = data.reshape(steps, batch, data.shape[-1])
        if unbatched:
            return out.squeeze(1), final
        return (out.transpose(0, 1) if self.batch_first else out), final

    def _layers(self, data, batch_sizes, state):
        """Every layer and direction over the packed rows ``data``; returns the last layer's
        outputs and the final states, one (h[1, B, *],) or (h, c) tuple per layer and direction."""
        step = STEPS[self.mode]
        # GRU and LSTM over a padded batch run each layer's time loop as one op (same results)
        fused = (self.mode in ("GRU", "LSTM") and not self.proj_size and self.use_fused
                 and all(b == batch_sizes[0] for b in batch_sizes))
        directions = ("", "_reverse") if self.bidirectional else ("",)
        finals = []
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                data = dropout(data, self.dropout, True)
            outs = []
            for d, suffix in enumerate(directions):
                w_ih, b_ih, w_hh, b_hh, w_hr = self._weights(layer, suffix)
                k = layer * len(directions) + d
                init_state = tuple(s[k] for s in state)
                x_proj = linear(data, w_ih, b_ih)  # every step's input projection: one matmul
                if fused:
                    steps, batch = len(batch_sizes), batch_sizes[0]
                    out, last = fused_layer(self.mode, x_proj.reshape(steps, batch, -1), init_state, w_hh, b_hh,
                                            reverse=bool(d))
                    out = out.reshape(steps * batch, -1)
                else:
                    out, last = run_direction(step, x_proj, batch_sizes, init_state, (w_hh, b_hh, w_hr),
                                              reverse=bool(d))
                outs.append(out)
                finals.append(tuple(s.unsqueeze(0) for s in last))
            data = cat(outs, -1) if len(outs) > 1 else outs[0]
        return data, finals

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (``nonlinearity='relu'``
    uses relu). ``forward(input, h0=None)`` returns (output, h_n): output [L, N, D * H_out]
    ([N, L, ...] with ``batch_first``) holds the last layer's h_t, h_n [num_layers * D, N, H_out]
    the final state of every layer and direction."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, 0, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit: a reset gate r and an update gate z choose how much of the old
    state to read and to keep (see the module docstring). Returns (output, h_n) as ``RNN``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)


class LSTM(RNNBase):
    """Long short-term memory: a cell state c that input, forget and output gates write, keep
    and read. ``forward(input, (h0, c0)=None)`` returns (output, (h_n, c_n)); with
    ``proj_size`` > 0, h is projected to proj_size by ``weight_hr_l{k}`` after every step."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)


# -- cells ----------------------------------------------------------------------------------


class RNNCellBase(Module):
    """One time step of a recurrent layer, for writing the loop yourself: parameters
    ``weight_ih`` [G * H, input_size], ``weight_hh`` [G * H, H], ``bias_ih`` and ``bias_hh``
    [G * H] (G gates), initialized U(-1/sqrt(H), 1/sqrt(H)) as PyTorch does."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, bias: bool, device, dtype):
        super().__init__()
        name = type(self).__name__
        for what, v, least in (("input_size", input_size, 0), ("hidden_size", hidden_size, 1)):
            if not isinstance(v, int) or isinstance(v, bool) or v < least:
                raise ValueError(f"{name}: {what} must be an int >= {least}, got {v!r}")
        self.mode, self.input_size, self.hidden_size, self.bias = mode, input_size, hidden_size, bias
        gates = _GATES[mode] * hidden_size
        self.weight_ih = Parameter(empty(gates, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(empty(gates, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(empty(gates, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(gates, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _step(self, input, hx: tuple, names: tuple):
        me = _describe(self)
        if not isinstance(input, Tensor):
            raise TypeError(f"{me}: expected a Tensor, got {type(input).__name__}")
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(f"{me}: expected an input of shape [N, {self.input_size}] or unbatched "
                             f"[{self.input_size}], got an input of shape {tuple(input.shape)}")
        _check_dtype(self, input, "the input")
        unbatched = input.ndim == 1
        x = input.unsqueeze(0) if unbatched else input
        want = (x.shape[0], self.hidden_size)
        if hx is None:
            state = tuple(zeros(*want, dtype=x.dtype, device=x.device) for _ in names)
        else:
            state = []
            for h, what in zip(hx, names):
                if not isinstance(h, Tensor) or tuple(h.shape) != want[unbatched:]:
                    got = tuple(h.shape) if isinstance(h, Tensor) else type(h).__name__
                    raise RuntimeError(f"{me}: expected {what} of shape {want[unbatched:]} for an input "
                                       f"of shape {tuple(input.shape)}, got {what} of shape {got}")
                _check_dtype(self, h, what)
                state.append(h.unsqueeze(0) if unbatched else h)
        gx = linear(x, self.weight_ih, self.bias_ih)
        out = STEPS[self.mode](gx, tuple(state), self.weight_hh, self.bias_hh)
        return tuple(o.squeeze(0) for o in out) if unbatched else out

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu); ``forward(input, hx=None)``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, None if hx is None else (hx,), ("hx",))[0]

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (", nonlinearity=relu" if self.nonlinearity == "relu" else "")  # unquoted, as PyTorch


class GRUCell(RNNCellBase):
    """One GRU step (see the module docstring); ``forward(input, hx=None)`` returns h'."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, None if hx is None else (hx,), ("hx",))[0]


class LSTMCell(RNNCellBase):
    """One LSTM step; ``forward(input, (h, c)=None)`` returns (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"{_describe(self)}: expected hx to be a pair (h, c), got {type(hx).__name__}")
        return self._step(input, hx, ("h", "c"))
