"""Upsampling layers: ``F.interpolate`` as a module (``glassgrad.functions.vision`` explains the
modes and where each output pixel reads from)."""

from __future__ import annotations

from glassgrad.functions.vision import interpolate
from glassgrad.nn.modules.module import Module
from glassgrad.nn.modules.utils import layer_errors


class Upsample(Module):
    """Resize the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) inputs to ``size``
    or by ``scale_factor``, with ``mode`` 'nearest', 'linear', 'bilinear' or 'trilinear' (see
    :func:`glassgrad.nn.functional.interpolate`). It has no parameters."""

    def __init__(
        self,
        size: int | tuple[int, ...] | None = None,
        scale_factor: float | tuple[float, ...] | None = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        with layer_errors(self):
            return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                               recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of (N, C, H, W) images: ``Upsample(mode='nearest')``."""

    def __init__(self, size: int | tuple[int, int] | None = None,
                 scale_factor: float | tuple[float, float] | None = None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling of (N, C, H, W) images with the corner pixels aligned:
    ``Upsample(mode='bilinear', align_corners=True)``."""

    def __init__(self, size: int | tuple[int, int] | None = None,
                 scale_factor: float | tuple[float, float] | None = None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
