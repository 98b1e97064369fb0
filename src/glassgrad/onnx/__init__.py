"""Export a glassgrad model to ONNX, the open format that serving runtimes (onnxruntime, TensorRT,
OpenVINO, browsers through onnxruntime-web) read: the route from a model trained here to a model
served elsewhere. ``export`` traces one forward pass and writes the recorded graph.

The ``onnx`` package is needed only here (``pip install glassgrad[onnx]``); ``import glassgrad``
does not import this package until ``gg.onnx`` is first used. See docs/onnx.md.
"""

from __future__ import annotations

from glassgrad.onnx._registry import CONVERTERS, register

__all__ = ["export", "register", "CONVERTERS", "ExportError"]


def __getattr__(name: str):
    # export and ExportError need the onnx package: import it on first use, with a clear error
    if name in ("export", "ExportError"):
        try:
            import onnx  # noqa: F401
        except ImportError:
            raise ImportError(
                "glassgrad.onnx needs the onnx package: pip install onnx (or glassgrad[onnx])"
            ) from None
        from glassgrad.onnx import _export, _graph

        return _export.export if name == "export" else _graph.ExportError
    raise AttributeError(f"module 'glassgrad.onnx' has no attribute {name!r}")
