"""Adagrad: each coordinate's step shrinks with the sum of its squared gradients so far."""

from __future__ import annotations

from typing import Any

from glassgrad._backend import array_module
from glassgrad._tensor import Tensor
from glassgrad.optim.optimizer import Optimizer, ParamsT


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer, 2011).

    For each parameter p with gradient g, every step does (t counts this parameter's steps from 1)::

        t ← t + 1
        g ← −g                                  if maximize
        g ← g + weight_decay · p                if weight_decay ≠ 0
        clr ← lr / (1 + (t − 1) · lr_decay)
        s ← s + g · g
        p ← p − clr · g / (√s + eps)

    ``state[p]`` holds ``step`` (t, a 0-d tensor) and ``sum`` (s, which starts at
    ``initial_accumulator_value``); both are created with the optimizer, before the first step.
    Coordinates that have seen large gradients take small steps, rarely-updated ones large steps.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        super()._check_options(options)
        self._check_number("lr_decay", options["lr_decay"], "lr_decay >= 0", low=0.0)
        self._check_number("weight_decay", options["weight_decay"], "weight_decay >= 0", low=0.0)
        self._check_number("initial_accumulator_value", options["initial_accumulator_value"],
                           "initial_accumulator_value >= 0", low=0.0)
        self._check_number("eps", options["eps"], "eps >= 0", low=0.0)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        for p in param_group["params"]:  # PyTorch makes Adagrad's state up front
            self.state[p] = self._init_state(p._data, param_group)

    def _init_state(self, x, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": self._new_step_counter(),
                "sum": Tensor._wrap(array_module(x).full_like(x, group["initial_accumulator_value"]), False)}

    def _update(self, x, grad, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = array_module(x)
        t = self._increment(state["step"])
        g = self._direction(x, grad, group["maximize"], group["weight_decay"])
        clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        s = state["sum"]._data
        tmp = self._scratch_like(x)

        s += xp.multiply(g, g, out=tmp)
        xp.sqrt(s, out=tmp)
        tmp += group["eps"]
        xp.divide(g, tmp, out=tmp)
        tmp *= clr
        x -= tmp
