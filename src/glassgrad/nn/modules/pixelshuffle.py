"""Pixel shuffle layers: trade channels for resolution and back, without arithmetic. The
rearrangement is in ``glassgrad.functions.vision``."""

from __future__ import annotations

from glassgrad.functions.vision import pixel_shuffle, pixel_unshuffle
from glassgrad.nn.modules.module import Module
from glassgrad.nn.modules.utils import layer_errors


class PixelShuffle(Module):
    """(*, C·r², H, W) -> (*, C, H·r, W·r), r = ``upscale_factor``: each group of r² channels
    becomes an r × r block of pixels. After a convolution with C·r² output channels this is the
    "sub-pixel convolution" upsampling layer (Shi et al., 2016)."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        with layer_errors(self):
            return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H·r, W·r) -> (*, C·r², H, W), r = ``downscale_factor``: the inverse of PixelShuffle."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        with layer_errors(self):
            return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
