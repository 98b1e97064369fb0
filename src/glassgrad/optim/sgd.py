"""Stochastic gradient descent, with heavy-ball or Nesterov momentum."""

from __future__ import annotations

from collections.abc import Callable
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

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient once (see the class docstring)."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            nesterov, maximize, weight_decay = group["nesterov"], group["maximize"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                x = p._data
                xp = array_module(x)
                g = self._direction(x, p.grad._data, maximize, weight_decay)
                tmp = self._scratch_like(x)
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        state["momentum_buffer"] = buf = Tensor._wrap(g.copy(), False)
                        b = buf._data
                    else:
                        b = buf._data
                        b *= momentum
                        b += g if dampening == 0 else xp.multiply(g, 1 - dampening, out=tmp)
                    if nesterov:  # tmp = lr · (g + momentum · b)
                        xp.multiply(b, momentum, out=tmp)
                        tmp += g
                        tmp *= lr
                    else:
                        xp.multiply(b, lr, out=tmp)
                else:
                    xp.multiply(g, lr, out=tmp)
                x -= tmp
                p._bump_version()
        return loss
