"""Convolution layers: Conv2d and ConvTranspose2d (NCHW images), and Conv1d (sequences [N, C, L]).

The weight is ``[out_channels, in_channels / groups, kh, kw]`` for Conv2d and
``[in_channels, out_channels / groups, kh, kw]`` for ConvTranspose2d (PyTorch's layouts, so state
dicts carry over). Both are initialized as PyTorch does: W ~ kaiming_uniform_(a=sqrt(5)), which
is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), with fan_in =
``weight.shape[1] * kh * kw`` (for the transposed layer that is out_channels / groups * kh * kw).
The arithmetic is in ``glassgrad.functions.convolution`` (see docs/cnn.md).
"""

from __future__ import annotations

import math

from glassgrad._creation import empty
from glassgrad._tensor import Tensor
from glassgrad.functions._windows import to_pair
from glassgrad.functions.convolution import conv1d, conv2d, conv_transpose2d, single
from glassgrad.nn import init
from glassgrad.nn.modules.module import Module, _describe
from glassgrad.nn.modules.utils import check_image_input, layer_errors
from glassgrad.nn.parameter import Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What Conv2d and ConvTranspose2d share: argument checks, the parameters, their
    initialization and the repr."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride, padding, dilation,
                 transposed: bool, output_padding, groups: int, bias: bool, padding_mode: str, device, dtype):
        super().__init__()
        name = type(self).__name__
        for what, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}: {what} must be a positive int, got {v!r}")
        if not isinstance(groups, int) or groups < 1:
            raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        if padding_mode != "zeros":
            raise NotImplementedError(
                f"{name}: padding_mode={padding_mode!r} is not implemented in glassgrad, only 'zeros'"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = to_pair(kernel_size, "kernel_size", name, 1)
        self.stride = to_pair(stride, "stride", name, 1)
        self.dilation = to_pair(dilation, "dilation", name, 1)
        self.padding = self._check_padding(padding)
        self.output_padding = to_pair(output_padding, "output_padding", name, 0)
        self.transposed, self.padding_mode = transposed, padding_mode
        if transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _check_padding(self, padding):
        name = type(self).__name__
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions "
                                 f"(stride={self.stride})")
            return padding
        return to_pair(padding, "padding", name, 0)

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D convolution (a cross-correlation, as in PyTorch) of [N, C_in, H, W] images with
    ``out_channels`` learned kernels of ``kernel_size``, plus a bias per output channel:

        y[n, o, i, j] = b[o] + sum over c, p, q of W[o, c, p, q] * xpad[n, c, i*s + p*d, j*s + q*d]

    ``padding`` is an int, a pair, 'valid' (none) or 'same' (output as large as the input;
    stride 1 only). With ``groups`` = G the channels are split in G groups convolved separately.
    A 3-D input is taken as one unbatched image [C, H, W], as in PyTorch.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, padding_mode, device, dtype)

    def forward(self, input):
        check_image_input(self, input, self.in_channels)
        with layer_errors(self):
            return conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution: the gradient of a Conv2d with respect to its input, used to
    upsample (decoders, GAN generators). Each input pixel adds its kernel-weighted copy into the
    output, ``stride`` apart; the output size per dim is

        (H - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1.

    ``forward(input, output_size)`` can instead ask for an output size, which sets output_padding.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None):
        if isinstance(padding, str):
            raise ValueError(f"ConvTranspose2d: padding must be an int or a pair, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         True, output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size) -> tuple[int, int]:
        """The output_padding that makes the output ``output_size`` ([..., H, W]), which must lie
        between the smallest output size and that plus stride - 1."""
        if output_size is None:
            return self.output_padding
        size = tuple(output_size)[-2:]
        out = []
        for i, (want, n, k, s, p, d) in enumerate(
            zip(size, input.shape[-2:], self.kernel_size, self.stride, self.padding, self.dilation)
        ):
            smallest = (n - 1) * s - 2 * p + d * (k - 1) + 1
            if not smallest <= want < smallest + s:
                raise ValueError(
                    f"{_describe(self)}: requested an output size of {size}, but for an input of "
                    f"shape {tuple(input.shape)} dim {i} can only be {smallest} to {smallest + s - 1}"
                )
            out.append(want - smallest)
        return tuple(out)

    def forward(self, input, output_size=None):
        check_image_input(self, input, self.in_channels)
        output_padding = self._output_padding(input, output_size)
        with layer_errors(self):
            return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                    output_padding, self.groups, self.dilation)


def check_sequence_input(module: Module, input, channels: int | None = None) -> None:
    """Refuse anything but a batch of sequences [N, C, L] or one unbatched [C, L] (with
    ``channels`` channels, when given), with a message naming ``module`` and the shape."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{_describe(module)}: expected a Tensor, got {type(input).__name__}")
    shape = tuple(input.shape)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{_describe(module)}: expected a 3-D input [N, C, L] or a 2-D unbatched "
                           f"sequence [C, L], got an input of shape {shape}")
    if channels is not None and shape[-2] != channels:
        raise RuntimeError(f"{_describe(module)}: expected {channels} input channel(s) in dim "
                           f"{input.ndim - 2} of the [N, C, L] (or [C, L]) input, got an input of shape {shape}")


class Conv1d(Module):
    """1-D convolution (a cross-correlation) of sequences [N, C_in, L] with ``out_channels``
    kernels of ``kernel_size`` steps, plus a bias per output channel:

        y[n, o, i] = b[o] + sum over c, p of W[o, c, p] * xpad[n, c, i*s + p*d]

    The weight is [out_channels, in_channels / groups, kernel_size], initialized as Conv2d
    (kaiming_uniform_(a=sqrt(5)), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))). ``padding`` is an
    int, 'valid' or 'same' (stride 1 only). Computed as a Conv2d over a height-1 image.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__()
        name = "Conv1d"
        for what, v in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}: {what} must be a positive int, got {v!r}")
        for what, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if v % groups:
                raise ValueError(f"{name}: {what} ({v}) must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        if padding_mode != "zeros":
            raise NotImplementedError(f"{name}: padding_mode={padding_mode!r} is not implemented in "
                                      f"glassgrad, only 'zeros'")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = (single(kernel_size, "kernel_size", name, 1),)
        self.stride = (single(stride, "stride", name, 1),)
        self.dilation = (single(dilation, "dilation", name, 1),)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be an int, 'valid' or 'same', got {padding!r}")
            if padding == "same" and self.stride != (1,):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions "
                                 f"(stride={self.stride})")
            self.padding = padding
        else:
            self.padding = (single(padding, "padding", name, 0),)
        self.output_padding, self.transposed, self.padding_mode = (0,), False, padding_mode
        self.weight = Parameter(empty(out_channels, in_channels // groups, *self.kernel_size,
                                      dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    reset_parameters = _ConvNd.reset_parameters

    def forward(self, input):
        check_sequence_input(self, input, self.in_channels)
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        with layer_errors(self):
            return conv1d(input, self.weight, self.bias, self.stride[0], padding, self.dilation[0], self.groups)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,):
            s += f", padding={self.padding}"  # as PyTorch: padding=same, unquoted
        if self.dilation != (1,):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
