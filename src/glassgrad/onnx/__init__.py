"""Export a glassgrad model to ONNX, the open format that serving runtimes (onnxruntime, TensorRT,
OpenVINO, browsers through onnxruntime-web) read: the route from a model trained here to a model
served elsewhere. ``export`` traces one forward pass and writes the recorded graph.

The ``onnx`` package is needed only here (``pip install glassgrad[onnx]``); ``import glassgrad``
does not import this package until ``gg.onnx`` is first used, and this package imports onnx (and
registers its converters) when one of its names is first used. See docs/onnx.md.
"""

from __future__ import annotations

__all__ = ["export", "register", "CONVERTERS", "ExportError"]


def __getattr__(name: str):
    if name not in __all__:
        raise AttributeError(f"module 'glassgrad.onnx' has no attribute {name!r}")
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ImportError("glassgrad.onnx needs the onnx package: pip install onnx (or glassgrad[onnx])") from None
    # the built-in converters register on this import, so a user's register() comes after them
    # and replaces them
    from glassgrad.onnx import _export, _graph, _registry

    return {"export": _export.export, "ExportError": _graph.ExportError, "register": _registry.register,
            "CONVERTERS": _registry.CONVERTERS}[name]
