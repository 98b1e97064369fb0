"""One module of converters per module of ``glassgrad/functions/``. Importing this package
registers them all. A converter is ``convert(graph, node)``: it appends ONNX nodes for the op
``node.fn`` (reading its inputs with ``node.input(i)``) and returns the name of its output, or a
tuple of names for an op with several outputs."""

from glassgrad.onnx.converters import (  # noqa: F401
    activation,
    array,
    connection,
    convolution,
    math,
    normalization,
    pooling,
    recurrent,
    reduction,
)
