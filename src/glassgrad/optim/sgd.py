"""Stochastic gradient descent, with heavy-ball or Nesterov momentum."""

from __future__ import annotations

from typing import Any

from glassgrad._backend import array_module
from glassgrad._tensor import Tensor
from glassgrad.optim.optimizer import Optimizer, ParamsT


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum and weight decay.

    For each parameter p with gradient g, every step does::

        g ← −g                                     if maximize
        g ← g + weight_decay · p                   if weight_decay ≠ 0
        if momentum ≠ 0:
            b ← g                                  at the parameter's first step
            b ← momentum · b + (1 − dampening) · g at later steps
            g ← g + momentum · b                   if nesterov
            g ← b                                  otherwise
        p ← p − lr · g

    ``b`` is ``state[p]["momentum_buffer"]`` (absent when momentum = 0). Nesterov momentum
    needs momentum > 0 and dampening = 0.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        super()._check_options(options)
        self._check_number("momentum", options["momentum"], "momentum >= 0", low=0.0)
        self._check_number("dampening", options["dampening"], "a number", low=None)
        self._check_number("weight_decay", options["weight_decay"], "weight_decay >= 0", low=0.0)
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError(
                "SGD: nesterov=True needs momentum > 0 and dampening = 0, got "
                f"momentum={options['momentum']!r}, dampening={options['dampening']!r}"
            )

    def _init_state(self, x, group: dict[str, Any]) -> dict[str, Any] | None:
        # the momentum buffer is made at the first update (b = g); without momentum, no state
        return {} if group["momentum"] != 0 else None

    def _update(self, x, grad, state: dict[str, Any] | None, group: dict[str, Any]) -> None:
        lr, momentum = group["lr"], group["momentum"]
        xp = array_module(x)
        g = self._direction(x, grad, group["maximize"], group["weight_decay"])
        tmp = self._scratch_like(x)
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:  # the first update: b = g
                state["momentum_buffer"] = buf = Tensor._wrap(g.copy(), False)
                b = buf._data
            else:
                dampening = group["dampening"]
                b = buf._data
                b *= momentum
                b += g if dampening == 0 else xp.multiply(g, 1 - dampening, out=tmp)
            if group["nesterov"]:  # tmp = lr · (g + momentum · b)
                xp.multiply(b, momentum, out=tmp)
                tmp += g
                tmp *= lr
            else:
                xp.multiply(b, lr, out=tmp)
        else:
            xp.multiply(g, lr, out=tmp)
        x -= tmp
