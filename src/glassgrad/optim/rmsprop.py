"""RMSprop: steps divided by a running root-mean-square of the gradient."""

from __future__ import annotations

from typing import Any

from glassgrad._backend import array_module
from glassgrad.optim.optimizer import Optimizer, ParamsT


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture notes, 2012), optionally centered and with momentum.

    For each parameter p with gradient g, every step does (α = alpha)::

        t ← t + 1
        g ← −g                                  if maximize
        g ← g + weight_decay · p                if weight_decay ≠ 0
        v ← α · v + (1 − α) · g · g
        if centered:
            ḡ ← ḡ + (1 − α) · (g − ḡ)           i.e. α · ḡ + (1 − α) · g
            avg ← √(v − ḡ · ḡ) + eps            (the gradient's running standard deviation)
        else:
            avg ← √v + eps
        if momentum > 0:
            b ← momentum · b + g / avg
            p ← p − lr · b
        else:
            p ← p − lr · g / avg

    ``state[p]`` holds ``step`` (t, a 0-d tensor), ``square_avg`` (v), and, when used,
    ``momentum_buffer`` (b) and ``grad_avg`` (ḡ); the buffers start at zero.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        super()._check_options(options)
        self._check_number("alpha", options["alpha"], "alpha >= 0", low=0.0)
        self._check_number("eps", options["eps"], "eps >= 0", low=0.0)
        self._check_number("momentum", options["momentum"], "momentum >= 0", low=0.0)
        self._check_number("weight_decay", options["weight_decay"], "weight_decay >= 0", low=0.0)

    def _init_state(self, x, group: dict[str, Any]) -> dict[str, Any]:
        state = {"step": self._new_step_counter(), "square_avg": self._zeros_like(x)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = self._zeros_like(x)
        if group["centered"]:
            state["grad_avg"] = self._zeros_like(x)
        return state

    def _update(self, x, grad, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, alpha, momentum = group["lr"], group["alpha"], group["momentum"]
        xp = array_module(x)
        self._increment(state["step"])
        g = self._direction(x, grad, group["maximize"], group["weight_decay"])
        v = state["square_avg"]._data
        tmp = self._scratch_like(x)

        v *= alpha  # v = α v + (1 - α) g²
        xp.multiply(g, 1 - alpha, out=tmp)
        tmp *= g
        v += tmp
        if group["centered"]:
            g_avg = state["grad_avg"]._data
            xp.subtract(g, g_avg, out=tmp)  # ḡ += (1 - α)(g - ḡ)
            tmp *= 1 - alpha
            g_avg += tmp
            xp.multiply(g_avg, g_avg, out=tmp)  # avg = √(v - ḡ²) + eps
            xp.subtract(v, tmp, out=tmp)
            xp.sqrt(tmp, out=tmp)
        else:
            xp.sqrt(v, out=tmp)
        tmp += group["eps"]
        xp.divide(g, tmp, out=tmp)
        if momentum > 0:
            b = state["momentum_buffer"]._data
            b *= momentum
            b += tmp
            xp.multiply(b, lr, out=tmp)
        else:
            tmp *= lr
        x -= tmp
