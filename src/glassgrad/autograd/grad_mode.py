"""Switches that change how ops behave: whether they record the graph, and anomaly detection.

Both are per thread, as in PyTorch: two threads training two models do not switch each other's
recording off, and a new thread starts with grad on and anomaly detection off whatever the
thread that started it is doing.
"""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    """The modes of the current thread. A ``threading.local`` gives each thread its own instance
    attributes; the class attributes below are what a thread sees until it sets its own."""

    grad_enabled = True
    anomaly = False


state = _State()

# How many threads are inside detect_anomaly. Reading a thread-local attribute costs about four
# times a plain one, and every op would read ``state.anomaly``; with this count at 0 (nearly
# always) ops skip that read. Changed under the lock, read without it (a stale 0 or 1 only
# delays the start of checking in a thread that is entering detect_anomaly right then).
anomaly_threads = 0
_anomaly_lock = threading.Lock()


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
        _set_anomaly(self._mode)
        return self

    def __exit__(self, *exc):
        _set_anomaly(self._prev)
        return False


def _set_anomaly(on: bool) -> None:
    """Set this thread's anomaly mode, keeping ``anomaly_threads`` in step."""
    global anomaly_threads
    on = bool(on)
    if on == state.anomaly:
        return
    with _anomaly_lock:
        anomaly_threads += 1 if on else -1
    state.anomaly = on


def is_anomaly_enabled() -> bool:
    return state.anomaly
