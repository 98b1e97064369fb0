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
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):  # noqa: N801 - PyTorch's name
    """Ops inside record no graph: for evaluation and for updating parameters by hand."""

    _mode = False


class enable_grad(_GradModeContext):  # noqa: N801
    """Ops inside record the graph again, even within ``no_grad``."""

    _mode = True


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """Set grad mode on or off, as a function call or a context manager."""

    def __init__(self, mode: bool):
        self._mode = bool(mode)
        self._prev = state.grad_enabled
        state.grad_enabled = self._mode

    def __enter__(self):
        return self


class inference_mode(no_grad):  # noqa: N801
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
