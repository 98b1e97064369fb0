"""Adam and AdamW: steps scaled by running averages of the gradient and of its square."""

from __future__ import annotations

from typing import Any

from glassgrad._backend import array_module
from glassgrad.optim.optimizer import Optimizer, ParamsT


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), optionally with AMSGrad, an L2 penalty or decoupled weight decay.

    For each parameter p with gradient g, every step does (λ = weight_decay, t counts this
    parameter's steps from 1)::

        t ← t + 1
        g ← −g                                  if maximize
        p ← p · (1 − lr · λ)                    if decoupled_weight_decay (as AdamW)
        g ← g + λ · p                           otherwise (an L2 penalty; nothing when λ = 0)
        m ← m + (1 − β1) · (g − m)              i.e. β1 · m + (1 − β1) · g
        v ← β2 · v + (1 − β2) · g · g
        v_max ← max(v_max, v)                   if amsgrad; then v̂ = v_max, else v̂ = v
        denom ← √v̂ / √(1 − β2^t) + eps
        p ← p − (lr / (1 − β1^t)) · m / denom

    The buffers live in ``state[p]``: ``step`` (t, a 0-d tensor), ``exp_avg`` (m), ``exp_avg_sq``
    (v) and, with amsgrad, ``max_exp_avg_sq`` (v_max); all start at zero. Dividing by
    1 − β^t undoes the pull of the zero start towards 0 in the first steps (bias correction).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        super()._check_options(options)
        betas = options["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{type(self).__name__}: betas should be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            self._check_number(f"betas[{i}]", beta, f"betas[{i}] in [0, 1)", low=0.0, high=1.0,
                               high_open=True)
        self._check_number("eps", options["eps"], "eps >= 0", low=0.0)
        self._check_number("weight_decay", options["weight_decay"], "weight_decay >= 0", low=0.0)

    def _init_state(self, x, group: dict[str, Any]) -> dict[str, Any]:
        state = {"step": self._new_step_counter(), "exp_avg": self._zeros_like(x),
                 "exp_avg_sq": self._zeros_like(x)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = self._zeros_like(x)
        return state

    def _update(self, x, grad, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
        xp = array_module(x)
        t = self._increment(state["step"])
        if group["decoupled_weight_decay"]:
            if weight_decay != 0:
                x *= 1 - lr * weight_decay
            g = self._direction(x, grad, group["maximize"], 0)
        else:
            g = self._direction(x, grad, group["maximize"], weight_decay)
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        tmp = self._scratch_like(x)

        xp.subtract(g, m, out=tmp)  # m += (1 - β1)(g - m)
        tmp *= 1 - beta1
        m += tmp
        v *= beta2  # v = β2 v + (1 - β2) g²
        xp.multiply(g, 1 - beta2, out=tmp)
        tmp *= g
        v += tmp

        if group["amsgrad"]:
            v_max = state["max_exp_avg_sq"]._data
            xp.maximum(v_max, v, out=v_max)
            v = v_max
        # m / (√v / √c2 + eps) = √c2 · m / (√v + eps √c2), with c_i = 1 - β_i^t: scaling eps
        # instead of √v saves a pass over the parameter
        c2_sqrt = (1 - beta2**t) ** 0.5
        xp.sqrt(v, out=tmp)
        tmp += group["eps"] * c2_sqrt
        xp.divide(m, tmp, out=tmp)
        tmp *= lr * c2_sqrt / (1 - beta1**t)
        x -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): the decay shrinks the weights
    directly instead of entering the gradient, so the moment estimates never see it.

    Every step does, for each parameter p with gradient g (λ = weight_decay, default 1e-2)::

        t ← t + 1
        g ← −g                                  if maximize
        p ← p · (1 − lr · λ)
        m ← m + (1 − β1) · (g − m)
        v ← β2 · v + (1 − β2) · g · g
        v_max ← max(v_max, v)                   if amsgrad; then v̂ = v_max, else v̂ = v
        denom ← √v̂ / √(1 − β2^t) + eps
        p ← p − (lr / (1 − β1^t)) · m / denom

    with the same ``state[p]`` entries as :class:`Adam`.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
