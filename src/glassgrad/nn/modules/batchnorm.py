"""Batch normalization. ``_BatchNorm`` holds what every variant shares (parameters, running
statistics, the momentum rule); a variant only says which input shapes it accepts, so BatchNorm2d
for images is ``_BatchNorm`` with 4-dim inputs."""

from __future__ import annotations

from glassgrad import _dtype
from glassgrad._creation import ones, zeros
from glassgrad._tensor import tensor
from glassgrad.autograd.grad_mode import no_grad
from glassgrad.functions.normalization import batch_norm
from glassgrad.nn import init
from glassgrad.nn.modules.module import Module, _describe
from glassgrad.nn.parameter import Parameter


class _BatchNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, per channel (dim 1).

    Training mode normalizes with the batch's statistics and updates the running ones:
    running = (1 - momentum) * running + momentum * batch (batch variance unbiased), or, with
    ``momentum=None``, their cumulative average over all batches seen. Eval mode normalizes with
    the running statistics. With ``track_running_stats=False`` there are none and the batch's
    statistics are used in both modes.
    """

    _accepted_ndims: tuple = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.register_parameter("weight", Parameter(ones(num_features, dtype=dtype, device=device)) if affine else None)
        self.register_parameter(
            "bias", Parameter(zeros(num_features, dtype=dtype, device=device)) if affine and bias else None
        )
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=_dtype.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input(self, input) -> None:
        if input.ndim not in self._accepted_ndims:
            dims = " or ".join(f"{d}-dim" for d in self._accepted_ndims)
            raise ValueError(f"{_describe(self)}: expected a {dims} input, got shape {tuple(input.shape)}")
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{_describe(self)}: expected {self.num_features} features in dim 1, got an input "
                f"of shape {tuple(input.shape)}"
            )

    def forward(self, input):
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            self.num_batches_tracked._bump_version()
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked._data)
        use_batch_stats = self.training or self.running_mean is None
        # the running statistics are updated only in training mode, and only when tracked
        updating = not self.training or self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if updating else None,
            self.running_var if updating else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm of (N, C) features or (N, C, L) sequences, per channel C."""

    _accepted_ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm of images [N, C, H, W]: per channel C, the statistics are taken over the batch
    and every pixel (N * H * W values), so each feature map is normalized as a whole."""

    _accepted_ndims = (4,)
