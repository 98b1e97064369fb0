"""Switches that change how ops behave: whether they record the graph, and anomaly detection."""

from __future__ import annotations

import functools


class _State:
    grad_enabled = True
    anomaly = False


state = _State()


def is_grad_enabled() -> bool:
    """True when ops record the graph for backward."""
    return state.grad_enabled


class _GradModeContext:
    """A context manager that is also a decorator, setting grad mode to ``self._mode``."""

    _mode: bool

    def __enter__(self):
        self._prev = state.grad_enabled
        state.grad_enabled = self._mode
        return self

    def __exit__(self, *exc):
        state.grad_enabled = self._prev
        return False

    def __call__(self, fn):
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = state.grad_enabled
            state.grad_enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                state.grad_enabled = prev

        return wrapper


class _BareDecorator(_GradModeContext):
    """Also usable without parentheses, as ``@no_grad`` (PyTorch allows both forms)."""

    def __new__(cls, fn=None):
        if fn is None:
            return super().__new__(cls)
        return cls()(fn)


class no_grad(_BareDecorator):  # noqa: N801 - PyTorch's name
    """Ops inside record no graph: for evaluation and for updating parameters by hand."""

    _mode = False


class enable_grad(_BareDecorator):  # noqa: N801
    """Ops inside record the graph again, even within ``no_grad``."""

    _mode = True


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """Set grad mode on or off, as a function call, a context manager or a decorator."""

    def __init__(self, mode: bool):
        self._mode = bool(mode)
        self._prev = state.grad_enabled
        state.grad_enabled = self._mode

    def __enter__(self):
        return self

    def __call__(self, fn):
        state.grad_enabled = self._prev  # as a decorator it changes the mode only inside fn
        return super().__call__(fn)


class inference_mode(_GradModeContext):  # noqa: N801
    """Same as ``no_grad`` in glassgrad (PyTorch's extra speed-ups do not apply here)."""

    def __init__(self, mode: bool = True):
        self._mode = not mode


class detect_anomaly:  # noqa: N801
    """Within this context the first op whose forward or backward gives NaN or inf raises an error
    naming that op and the shapes of its inputs, instead of letting the NaN spread silently."""

    def __init__(self, check_nan: bool = True):
        self._mode = check_nan

    def __enter__(self):
        self._prev = state.anomaly
        state.anomaly = self._mode
        return self

    def __exit__(self, *exc):
        state.anomaly = self._prev
        return False


def is_anomaly_enabled() -> bool:
    return state.anomaly
