"""Ops that connect every input to every output: matrix products and the affine map."""

from __future__ import annotations

from glassgrad._backend import array_module
from glassgrad.autograd.function import Function
from glassgrad.functions._operands import promote
from glassgrad.functions.array import reshape, sum_to, transpose, unsqueeze


def _mT(x):  # noqa: N802 - PyTorch's name for the batched transpose
    return transpose(x, -2, -1)


class MatMul(Function):
    """``a @ b`` with NumPy/PyTorch semantics: 1-D operands are promoted to a row (a) or column
    (b) and the added dim removed again; leading (batch) dims broadcast."""

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(
                f"matmul: both arguments need at least 1 dimension, got shapes "
                f"{tuple(a.shape)} and {tuple(b.shape)}"
            )
        try:
            return array_module(a).matmul(a, b)
        except ValueError:
            k_a = a.shape[-1]
            k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
            why = f"{k_a} != {k_b}" if k_a != k_b else "batch dims do not broadcast"
            raise RuntimeError(
                f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied ({why})"
            ) from None

    def backward(self, gy):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:  # dot product
            return (gy * b if need_a else None), (gy * a if need_b else None)
        a2 = unsqueeze(a, 0) if a.ndim == 1 else a
        b2 = unsqueeze(b, -1) if b.ndim == 1 else b
        gy2 = gy
        if a.ndim == 1:
            gy2 = unsqueeze(gy2, -2)
        if b.ndim == 1:
            gy2 = unsqueeze(gy2, -1)
        ga = reshape(sum_to(gy2 @ _mT(b2), a2.shape), a.shape) if need_a else None
        gb = reshape(sum_to(_mT(a2) @ gy2, b2.shape), b.shape) if need_b else None
        return ga, gb


class Linear(Function):
    """y = x W^T + b, one op for the three steps so a layer costs one node. W is [out, in], as in
    PyTorch. Backward: gx = gy W, gW = gy^T x, gb = sum of gy over the batch."""

    uses_inputs = (0, 1)  # x and W; not the bias

    def forward(self, x, w, b=None):
        try:
            y = x @ w.T
        except ValueError:
            raise RuntimeError(
                f"linear: input of shape {tuple(x.shape)} has {x.shape[-1] if x.ndim else 0} "
                f"features, but the weight of shape {tuple(w.shape)} expects {w.shape[1]}"
            ) from None
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        x, w = self.inputs[0], self.inputs[1]
        need = self.needs_input_grad
        gx = gy @ w if need[0] else None
        gy2 = reshape(gy, (-1, gy.shape[-1])) if gy.ndim != 2 else gy
        gw = gb = None
        if need[1]:
            x2 = reshape(x, (-1, x.shape[-1])) if x.ndim != 2 else x
            gw = _mT(gy2) @ x2
        if len(need) == 3 and need[2]:
            gb = gy2.sum(0)
        return (gx, gw) if len(need) == 2 else (gx, gw, gb)


def matmul(a, b):
    return MatMul()(*promote(a, b))


def linear(x, weight, bias=None):
    """Affine map ``x @ weight.T + bias`` over the last dim of ``x``."""
    if x.ndim == 0 or weight.ndim != 2:
        raise RuntimeError(
            f"linear: expected input with at least 1 dim and a 2-D weight, got shapes "
            f"{tuple(x.shape)} and {tuple(weight.shape)}"
        )
    if bias is None:
        return Linear()(*promote(x, weight))
    return Linear()(*promote(x, weight, bias))
