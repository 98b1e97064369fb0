"""Helpers shared by the image layers (convolution, pooling): input checks and error messages
that name the layer, e.g. ``Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1)): ...``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from glassgrad._tensor import Tensor
from glassgrad.nn.modules.module import Module, _describe


def check_image_input(module: Module, input, channels: int | None = None) -> None:
    """Refuse anything but a batch of images [N, C, H, W] or one unbatched image [C, H, W]
    (with ``channels`` channels, when given), with a message naming ``module`` and the shape."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{_describe(module)}: expected a Tensor, got {type(input).__name__}")
    shape = tuple(input.shape)
    if input.ndim not in (3, 4):
        hint = ""
        if input.ndim == 2:
            hint = " (flattened images? reshape them to [N, C, H, W], e.g. x.reshape(-1, 1, 28, 28))"
        raise RuntimeError(
            f"{_describe(module)}: expected a 4-D input [N, C, H, W] or a 3-D unbatched image "
            f"[C, H, W], got an input of shape {shape}{hint}"
        )
    if channels is None:
        return
    if input.ndim == 4 and shape[1] != channels:
        raise RuntimeError(
            f"{_describe(module)}: expected {channels} input channel(s) in dim 1 of the [N, C, H, W] "
            f"input, got an input of shape {shape}"
        )
    if input.ndim == 3 and shape[0] != channels:
        hint = ""
        if channels == 1:
            hint = "; for a batch of single-channel images [N, H, W], add the channel dim: x.unsqueeze(1)"
        raise RuntimeError(
            f"{_describe(module)}: a 3-D input is one unbatched image [C, H, W] and must have "
            f"{channels} channel(s) in dim 0, got an input of shape {shape}{hint}"
        )


@contextmanager
def layer_errors(module: Module) -> Iterator[None]:
    """Re-raise a RuntimeError or ValueError of the functional form inside with ``module``'s
    description in front, so that the message says which layer of a model refused the input."""
    try:
        yield
    except (RuntimeError, ValueError) as e:
        raise type(e)(f"{_describe(module)}: {e}") from None
