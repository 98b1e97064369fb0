"""Which converter writes which op: a dict from ``Function`` subclass to a small function
``convert(graph, node) -> output name or tuple of names``. The converters live in
``glassgrad/onnx/converters/``, one module per group of ``glassgrad/functions/``; the core never
imports them."""

from __future__ import annotations

from collections.abc import Callable

CONVERTERS: dict[type, Callable] = {}


def register(*function_classes: type) -> Callable:
    """Decorator: ``@register(Tanh)`` makes the decorated function the converter of ``Tanh``
    (several classes may share one converter). Registering a class again replaces its converter,
    so a user can override one."""
    from glassgrad.autograd.function import Function

    for cls in function_classes:
        if not (isinstance(cls, type) and issubclass(cls, Function)):
            raise TypeError(f"register: expected Function subclasses, got {cls!r}")

    def decorate(convert: Callable) -> Callable:
        for cls in function_classes:
            CONVERTERS[cls] = convert
        return convert

    return decorate
