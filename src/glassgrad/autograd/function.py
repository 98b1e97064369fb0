"""``Function``: one differentiable op, with its forward (on arrays) and backward (on tensors).

Calling a Function runs ``forward`` on the input arrays and, when grad mode is on and some input
requires grad, records the call as a node of the graph: the output's ``grad_fn`` is the Function,
which keeps its inputs. ``backward`` receives the gradient of the output as a Tensor and returns
one gradient per input, computed with tensor ops; because those ops are recorded too when
``create_graph=True``, gradients of gradients (any order) need no extra code.
"""

from __future__ import annotations

import weakref

from glassgrad.autograd.grad_mode import state


class Function:
    """Base class of every op. Subclasses define ``forward(*arrays)`` and ``backward(gy)``.

    Class attributes tell the engine what ``backward`` reads, so that an in-place change to one of
    those tensors after the forward is caught (PyTorch's version counter) instead of giving a
    silently wrong gradient:

    - ``uses_inputs``: backward reads the input tensors' values (not only their shapes): True
      for all inputs, or a tuple of the positions of those it reads (where's condition only);
    - ``uses_output``: backward reads the output's value (exp, tanh, sigmoid, softmax ...);
    - ``output_is_view``: the output array is a view of the first input's memory, so the two
      share a version counter.
    """

    uses_inputs = True
    uses_output = False
    output_is_view = False

    inputs: tuple | None
    needs_input_grad: tuple

    def __call__(self, *inputs):
        # This method runs for every op, so it is written for speed: plain loops, no helpers.
        try:  # free unless raised (zero-cost exceptions); lets an op explain NumPy's errors
            y = self.forward(inputs[0]._data) if len(inputs) == 1 else self.forward(*[x._data for x in inputs])
        except ValueError:
            self.explain_value_error(inputs)
            raise
        if len(inputs) == 1:
            record = inputs[0]._requires_grad and state.grad_enabled
        else:
            record = False
            if state.grad_enabled:
                for x in inputs:
                    if x._requires_grad:
                        record = True
                        break
        out = _wrap(y, record)
        if self.output_is_view:
            out._version_box = inputs[0]._version_box
        if record:
            self.inputs = inputs
            self.needs_input_grad = [x._requires_grad for x in inputs]
            if self.uses_inputs:
                read = range(len(inputs)) if self.uses_inputs is True else self.uses_inputs
                self._input_versions = tuple((i, inputs[i]._version_box[0]) for i in read)
            self.output = weakref.ref(out)
            if self.uses_output:
                # keep the output's array, not the tensor: the tensor points back to this node
                self._saved_y = y
                self._output_box = out._version_box
                self._output_version = out._version_box[0]
            out.grad_fn = self
        if state.anomaly:
            from glassgrad.autograd.anomaly import check_forward

            check_forward(self, inputs, y)
        return out

    def forward(self, *xs):
        raise NotImplementedError

    def explain_value_error(self, inputs) -> None:
        """Called when ``forward`` raised a ValueError: raise a clearer error naming the op and
        the shapes, if this op knows what went wrong (the original error is re-raised if not)."""

    def backward(self, gy):
        raise NotImplementedError

    # -- helpers for subclasses -------------------------------------------------------------

    @property
    def saved_output(self):
        """The output tensor, for backwards written in terms of y (e.g. exp: gx = gy * y).

        If the caller no longer holds the output, an equal tensor is rebuilt from the saved
        array with this node as its grad_fn, so higher-order gradients still flow through it.
        """
        y = self.output()
        if y is None:
            from glassgrad._tensor import Tensor

            y = Tensor._wrap(self._saved_y, True)
            y.grad_fn = self
            y._version_box = self._output_box
        return y

    def release(self) -> None:
        """Drop what was kept for backward (after a backward without ``retain_graph``)."""
        self.inputs = None
        self._saved_y = None

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
            if self._output_box[0] != self._output_version:
                _raise_modified(self, self.saved_output, self._output_version)

    @property
    def next_functions(self) -> tuple:
        """The grad_fn of each input (None for leaves and constants), as in PyTorch."""
        if self.inputs is None:
            return ()
        return tuple(x.grad_fn for x in self.inputs)


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
