"""Pooling layers over NCHW images (the 1-D ones over sequences [N, C, L]): max and average
pooling with a fixed window, and their adaptive forms with a fixed output size.
The arithmetic is in ``glassgrad.functions.pooling``."""

from __future__ import annotations

from glassgrad.functions._windows import to_pair
from glassgrad.functions.pooling import (
    _window1d,
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from glassgrad.nn.modules.conv import check_sequence_input
from glassgrad.nn.modules.module import Module
from glassgrad.nn.modules.utils import check_image_input, layer_errors


class _Pool2d(Module):
    """Window arguments as given (an int or a pair, as PyTorch keeps them); ``stride`` defaults
    to the kernel size, so windows do not overlap."""

    def __init__(self, kernel_size, stride, padding):
        super().__init__()
        name = type(self).__name__
        to_pair(kernel_size, "kernel_size", name, 1)
        to_pair(padding, "padding", name, 0)
        if stride is not None:
            to_pair(stride, "stride", name, 1)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding


class MaxPool2d(_Pool2d):
    """The largest value of each ``kernel_size`` window, per channel. Padding counts as -inf;
    with ``ceil_mode`` a last partial window is kept. With ``return_indices`` the layer also
    returns where each maximum was (flat row * W + column of its input plane)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False):
        super().__init__(kernel_size, stride, padding)
        to_pair(dilation, "dilation", type(self).__name__, 1)
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, input):
        check_image_input(self, input)
        with layer_errors(self):
            return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                              self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(_Pool2d):
    """The mean of each ``kernel_size`` window, per channel. Zero padding counts in the mean
    when ``count_include_pad``; ``divisor_override`` replaces the window size as divisor."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None):
        super().__init__(kernel_size, stride, padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        check_image_input(self, input)
        with layer_errors(self):
            return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                              self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePool2d(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptivePool2d):
    """Average pooling to a fixed ``output_size`` (an int, a pair, None in a pair keeps that
    input size), whatever the input size: output (i, j) averages input rows
    floor(i * H / Ho) .. ceil((i + 1) * H / Ho) - 1, and likewise for the columns."""

    def forward(self, input):
        check_image_input(self, input)
        with layer_errors(self):
            return adaptive_avg_pool2d(input, self.output_size)


class AdaptiveMaxPool2d(_AdaptivePool2d):
    """Max pooling to a fixed ``output_size``, over the same windows as AdaptiveAvgPool2d."""

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        check_image_input(self, input)
        with layer_errors(self):
            return adaptive_max_pool2d(input, self.output_size, self.return_indices)


# -- 1-D: sequences [N, C, L] ---------------------------------------------------------------


class MaxPool1d(Module):
    """The largest value of each window of ``kernel_size`` steps, per channel, of sequences
    [N, C, L]; ``stride`` defaults to the kernel size. Padding counts as -inf; with
    ``return_indices`` the layer also returns where each maximum was along L."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False):
        super().__init__()
        _window1d("MaxPool1d", kernel_size, stride, padding, dilation)
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        check_sequence_input(self, input)
        with layer_errors(self):
            return max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                              self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(Module):
    """The mean of each window of ``kernel_size`` steps, per channel, of sequences [N, C, L].
    Zero padding counts in the mean when ``count_include_pad``. The window arguments are kept
    as 1-tuples, as PyTorch keeps them."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True):
        super().__init__()
        k, s, p, _ = _window1d("AvgPool1d", kernel_size, stride, padding)
        self.kernel_size, self.stride, self.padding = (k[1],), (s[1],), (p[1],)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        check_sequence_input(self, input)
        with layer_errors(self):
            return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                              self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(Module):
    """Average pooling of sequences [N, C, L] to ``output_size`` steps, whatever L: output i
    averages steps floor(i L / out) .. ceil((i + 1) L / out) - 1."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        check_sequence_input(self, input)
        with layer_errors(self):
            return adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
