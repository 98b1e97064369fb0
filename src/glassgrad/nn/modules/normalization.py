"""Layer normalization and group normalization."""

from __future__ import annotations

from glassgrad._creation import ones, zeros
from glassgrad.functions.normalization import group_norm, layer_norm
from glassgrad.nn import init
from glassgrad.nn.modules.module import Module, _describe
from glassgrad.nn.modules.utils import layer_errors
from glassgrad.nn.parameter import Parameter


class _AffineNorm(Module):
    """A normalization followed by an optional elementwise scale (``weight``, ones) and shift
    (``bias``, zeros) of the given shape, registered as None when absent, as PyTorch does."""

    def _affine_parameters(self, shape: tuple, affine: bool, bias: bool, dtype, device) -> None:
        self.register_parameter("weight", Parameter(ones(*shape, dtype=dtype, device=device)) if affine else None)
        has_bias = affine and bias
        self.register_parameter("bias", Parameter(zeros(*shape, dtype=dtype, device=device)) if has_bias else None)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)


class LayerNorm(_AffineNorm):
    """Normalize each sample over its last dims (``normalized_shape``), then scale and shift
    elementwise: y = (x - mean) / sqrt(var + eps) * weight + bias. The statistics are the
    sample's own, so it behaves the same in training and evaluation."""

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self._affine_parameters(self.normalized_shape, elementwise_affine, bias, dtype, device)

    def forward(self, input):
        k = len(self.normalized_shape)
        if input.ndim < k or tuple(input.shape[input.ndim - k :]) != self.normalized_shape:
            expected = ", ".join(map(str, self.normalized_shape))
            raise ValueError(
                f"{_describe(self)}: expected an input of shape (*, {expected}), got {tuple(input.shape)}"
            )
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


class GroupNorm(_AffineNorm):
    """Split the C channels of an (N, C, *) input into ``num_groups`` groups of consecutive
    channels and normalize each sample's group by its own mean and variance, then scale and shift
    per channel: y = (x - mean) / sqrt(var + eps) * weight + bias. Unlike batch norm it does not
    depend on the batch (works with batches of one, same in training and evaluation); with one
    group it is layer norm over (C, *), with C groups instance norm."""

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        for what, v in (("num_groups", num_groups), ("num_channels", num_channels)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"GroupNorm: {what} must be a positive int, got {v!r}")
        if num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        self._affine_parameters((num_channels,), affine, bias, dtype, device)

    def forward(self, input):
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise RuntimeError(
                f"{_describe(self)}: expected an input of shape (N, {self.num_channels}, *), got "
                f"{tuple(input.shape)}"
            )
        with layer_errors(self):
            return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )
