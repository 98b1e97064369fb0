"""``Function``: one differentiable op, with its forward (on arrays) and backward (on tensors).

Calling a Function runs ``forward`` on the input arrays and, when grad mode is on and some input
requires grad, records the call as a node of the graph: the output's ``grad_fn`` is the Function,
which keeps its inputs. ``backward`` receives the gradient of the output as a Tensor and returns
one gradient per input, computed with tensor ops; because those ops are recorded too when
``create_graph=True``, gradients of gradients (any order) need no extra code.

An op may have several outputs (``split``): its ``forward`` returns a tuple of arrays, the call
returns a tuple of tensors that share the one ``grad_fn`` and differ in ``output_nr``, and its
``backward`` receives one gradient per output.
"""

from __future__ import annotations

from glassgrad.autograd import grad_mode
from glassgrad.autograd.grad_mode import state


class Function:
    """Base class of every op. Subclasses define ``forward(*arrays)`` and ``backward(*grads)``.

    ``forward`` returns an array, or a tuple of arrays for an op with several outputs.
    ``backward`` receives one gradient per output, each a tensor of that output's shape, except
    that an output no gradient reached (an unused piece of a split) gets ``None``: the op knows
    best what that means (zeros, or work it can skip). It returns one gradient per input, ``None``
    where ``self.needs_input_grad`` says none is needed.

    Class attributes tell the engine what ``backward`` reads, so that an in-place change to one of
    those tensors after the forward is caught (PyTorch's version counter) instead of giving a
    silently wrong gradient:

    - ``uses_inputs``: backward reads the input tensors' values (not only their shapes): True
      for all inputs, or a tuple of the positions of those it reads (where's condition only);
    - ``uses_output``: backward reads the outputs' values (exp, tanh, sigmoid, softmax ...)
      through ``saved_output`` (``saved_outputs`` for several outputs);
    - ``output_is_view``: each output array is a view of the first input's memory, so they
      share a version counter.
    """

    uses_inputs = True
    uses_output = False
    output_is_view = False
    # gradient hooks of the outputs (register_hook on a non-leaf, retain_grad):
    # {output_nr: {handle id: hook}}, made on the first registration
    _hooks: dict | None = None
    _retained: dict | None = None  # {output_nr: weakref to the tensor} of retain_grad
    n_outputs = 1

    inputs: tuple | None
    needs_input_grad: tuple

    def __call__(self, *inputs):
        # This method runs for every op, so it is written for speed: plain code, no helpers, and
        # one- and two-input ops (nearly all) called without building an argument list (a
        # ``forward(*list)`` call cost ~1 us more than the op's NumPy work on small arrays).
        n = len(inputs)
        try:  # free unless raised (zero-cost exceptions); lets an op explain NumPy's errors
            if n == 1:
                y = self.forward(inputs[0]._data)
            elif n == 2:
                y = self.forward(inputs[0]._data, inputs[1]._data)
            else:
                y = self.forward(*[x._data for x in inputs])
        except ValueError:
            self.explain_value_error(inputs)
            raise
        if n == 1:
            record = inputs[0]._requires_grad and state.grad_enabled
            needs = _ONE_INPUT_NEEDS_GRAD  # (only stored when recording, so it is (True,))
        elif n == 2:
            needs = [inputs[0]._requires_grad, inputs[1]._requires_grad]
            record = True in needs and state.grad_enabled
        else:
            needs = []
            for x in inputs:
                needs.append(x._requires_grad)
            record = True in needs and state.grad_enabled  # (the thread-local read only if needed)
        if type(y) is tuple:
            out = self._wrap_outputs(inputs, y, record)
        else:
            out = _wrap(y, record)
            if self.output_is_view:
                out._version_box = inputs[0]._version_box
            if record:
                out.grad_fn = self
                if self.uses_output:
                    # keep the array, not the tensor: the tensor points back to this node
                    self._saved_ys = (y,)
                    self._output_versions = ((out._version_box, out._version_box[0]),)
        if record:
            self.inputs = inputs
            self.needs_input_grad = needs
            if self.uses_inputs:
                read = range(len(inputs)) if self.uses_inputs is True else self.uses_inputs
                versions = []
                for i in read:
                    versions.append((i, inputs[i]._version_box[0]))
                self._input_versions = versions
        if grad_mode.anomaly_threads and state.anomaly:
            from glassgrad.autograd.anomaly import check_forward

            check_forward(self, inputs, y)
        return out

    def _wrap_outputs(self, inputs, ys: tuple, record: bool) -> tuple:
        """The tensors of an op with several outputs: each knows its place (``output_nr``)."""
        self.n_outputs = len(ys)
        outs = tuple(_wrap(y, record) for y in ys)
        for i, out in enumerate(outs):
            if self.output_is_view:
                out._version_box = inputs[0]._version_box
            if record:
                out.grad_fn = self
                out._output_nr = i
        if record and self.uses_output:
            self._saved_ys = ys
            self._output_versions = tuple((out._version_box, out._version_box[0]) for out in outs)
        return outs

    def forward(self, *xs):
        raise NotImplementedError

    def explain_value_error(self, inputs) -> None:
        """Called when ``forward`` raised a ValueError: raise a clearer error naming the op and
        the shapes, if this op knows what went wrong (the original error is re-raised if not)."""

    def backward(self, *gys):
        raise NotImplementedError

    # -- helpers for subclasses -------------------------------------------------------------

    @property
    def saved_output(self):
        """The output as a tensor, for backwards written in terms of y (exp: gx = gy * y).

        It is rebuilt from the saved array with this node as its grad_fn (the caller's tensor
        may be gone), so higher-order gradients flow through it as through the original."""
        return self._saved_output(0)

    @property
    def saved_outputs(self) -> tuple:
        """All outputs as tensors (see ``saved_output``), for ops with several outputs."""
        return tuple(self._saved_output(i) for i in range(len(self._saved_ys)))

    def _saved_output(self, i: int):
        from glassgrad._tensor import Tensor

        y = Tensor._wrap(self._saved_ys[i], True)
        y.grad_fn = self
        y._output_nr = i
        y._version_box = self._output_versions[i][0]
        return y

    def release(self) -> None:
        """Drop what was kept for backward (after a backward without ``retain_graph``)."""
        self.inputs = None
        self._saved_ys = None

    @classmethod
    def name(cls) -> str:
        """``MulBackward``-style name, as PyTorch prints a grad_fn."""
        return cls.__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    def check_versions(self) -> None:
        """Refuse to run backward when a tensor it reads was changed in place since forward."""
        if self.uses_inputs:
            for i, v in self._input_versions:
                if self.inputs[i]._version_box[0] != v:
                    _raise_modified(self, self.inputs[i], v)
        if self.uses_output:
            for i, (box, v) in enumerate(self._output_versions):
                if box[0] != v:
                    _raise_modified(self, self._saved_output(i), v)

    @property
    def next_functions(self) -> tuple:
        """The grad_fn of each input (None for leaves and constants), as in PyTorch."""
        if self.inputs is None:
            return ()
        return tuple(x.grad_fn for x in self.inputs)


_ONE_INPUT_NEEDS_GRAD = (True,)


def _wrap(array, requires_grad):
    """Bound on first use to ``Tensor._wrap`` (importing it at module level would be circular)."""
    global _wrap
    from glassgrad._tensor import Tensor

    _wrap = Tensor._wrap
    return _wrap(array, requires_grad)


def _raise_modified(fn: Function, x, expected: int) -> None:
    raise RuntimeError(
        "one of the tensors needed for gradient computation has been modified by an in-place "
        f"operation: [{x.dtype.name} {tuple(x.shape)}] is at version {x._version_box[0]}; "
        f"expected version {expected} instead (needed by {fn.name()}). Change it out of place, "
        "or make the change before the forward pass."
    )
