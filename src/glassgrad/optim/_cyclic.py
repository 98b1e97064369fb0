"""Cyclical learning-rate schedules, as ``torch.optim.lr_scheduler``: :class:`CyclicLR`,
:class:`OneCycleLR` and :class:`CosineAnnealingWarmRestarts` (re-exported by
``glassgrad.optim.lr_scheduler``; see that module for how schedules are stepped).

All three are meant to be stepped after every batch (CosineAnnealingWarmRestarts also takes
fractional epochs). They compute the learning rate in closed form from the step count, so they do
not compose with another scheduler acting on the same optimizer; CyclicLR and OneCycleLR also
cycle the momentum (SGD's ``momentum``, Adam's β₁) opposite to the learning rate: high momentum
while the learning rate is low, and the other way round.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable, Sequence
from typing import Any

from glassgrad.optim.lr_scheduler import LRScheduler, _per_group
from glassgrad.optim.optimizer import Optimizer


def _check_optimizer(who: str, optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{who}: expected an Optimizer, got {type(optimizer).__name__}")


def _momentum_kind(who: str, optimizer: Optimizer) -> bool:
    """True when the optimizer's momentum is Adam's β₁ (``betas``), False for ``momentum``."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(
            f"{who}: cycle_momentum=True needs an optimizer with a momentum or betas option, but "
            f"{type(optimizer).__name__} has neither; pass cycle_momentum=False"
        )
    return "betas" in optimizer.defaults


def _set_momentum(group: dict, momentum: float, use_beta1: bool) -> None:
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _start_momentum_cycle(who: str, optimizer: Optimizer, base_momentum, max_momentum, last_epoch: int):
    """Check the optimizer, record each group's momentum bounds (in the groups, so they are saved
    with the optimizer) and, for a new schedule, start at the maximum momentum."""
    use_beta1 = _momentum_kind(who, optimizer)
    base = _per_group("base_momentum", base_momentum, optimizer)
    top = _per_group("max_momentum", max_momentum, optimizer)
    if last_epoch == -1:
        for group, b, m in zip(optimizer.param_groups, base, top):
            _set_momentum(group, m, use_beta1)
            group["max_momentum"] = m
            group["base_momentum"] = b
    return use_beta1, base, top


class CyclicLR(LRScheduler):
    """The cyclical learning rate of Smith (2017, "Cyclical Learning Rates for Training Neural
    Networks"): the lr goes linearly from ``base_lr`` up to ``max_lr`` in ``step_size_up`` steps,
    back down in ``step_size_down`` (default: the same), and again. With T = up + down steps a
    cycle and e = ``last_epoch``,

        cycle = ⌊1 + e / T⌋,   x = 1 + e / T − cycle ∈ [0, 1)      (position in the cycle)
        h = x / p if x ≤ p else (x − 1) / (p − 1),   p = up / T     (0 → 1 → 0 over a cycle)
        lr = base_lr + (max_lr − base_lr) · h · scale

    where ``mode`` sets the amplitude's scale: 'triangular' 1, 'triangular2' 1 / 2^(cycle − 1)
    (halved every cycle), 'exp_range' γ^e. A custom ``scale_fn`` is called with the cycle
    (``scale_mode='cycle'``) or with e (``'iterations'``). With ``cycle_momentum`` the momentum
    moves the other way, from ``max_momentum`` down to ``base_momentum`` and back:
    momentum = max_momentum − (max_momentum − base_momentum) · h · scale.

    Constructing it sets each group's lr to ``base_lr``. Step it after every batch.
    """

    def __init__(self, optimizer: Optimizer, base_lr: float | Sequence[float], max_lr: float | Sequence[float],
                 step_size_up: int = 2000, step_size_down: int | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn: Callable[[float], float] | None = None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum: float | Sequence[float] = 0.8,
                 max_momentum: float | Sequence[float] = 0.9, last_epoch: int = -1) -> None:
        _check_optimizer("CyclicLR", optimizer)
        base_lrs = _per_group("base_lr", base_lr, optimizer)
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs):
                group["lr"] = lr
        self.max_lrs = _per_group("max_lr", max_lr, optimizer)
        for what, size in (("step_size_up", step_size_up), ("step_size_down", step_size_down)):
            if size is not None and not size > 0:
                raise ValueError(f"CyclicLR: expected {what} > 0, got {size!r}")
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(
                f"CyclicLR: expected mode 'triangular', 'triangular2' or 'exp_range' (or a scale_fn), got {mode!r}"
            )
        if scale_fn is not None and scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"CyclicLR: expected scale_mode 'cycle' or 'iterations', got {scale_mode!r}")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        # the built-in modes fix what their scale is a function of
        self.scale_mode = scale_mode if scale_fn is not None else ("iterations" if mode == "exp_range" else "cycle")
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, self.base_momentums, self.max_momentums = _start_momentum_cycle(
                "CyclicLR", optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x: float) -> float:
        """The amplitude's scale at ``x`` (the cycle number or the step, per ``scale_mode``)."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            height = x / self.step_ratio
        else:
            height = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base_lr + (max_lr - base_lr) * height * scale for base_lr, max_lr in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, base, top in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                _set_momentum(group, top - (top - base) * height * scale, self.use_beta1)
        return lrs

    def state_dict(self) -> dict[str, Any]:
        """As the base class, with ``scale_fn`` saved only when it is a callable object (its
        ``__dict__``), not a plain function or lambda."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_scale_fn_custom")}
        fn = self._scale_fn_custom
        state["_scale_fn_custom"] = None if fn is None or isinstance(fn, types.FunctionType) else dict(fn.__dict__)
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        saved_fn = state.pop("_scale_fn_custom", None)
        self.__dict__.update(state)
        if saved_fn is not None and self._scale_fn_custom is not None:
            self._scale_fn_custom.__dict__.update(saved_fn)


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter, 2017, "SGDR: Stochastic Gradient Descent with Warm Restarts"):
    cosine annealing from the base lr down to ``eta_min`` over T_i epochs, then a restart at the
    base lr, with periods T_0, T_0 · T_mult, T_0 · T_mult², ...:

        lr = η_min + (lr₀ − η_min) · (1 + cos(π · T_cur / T_i)) / 2

    where T_cur counts the epochs since the last restart. ``step()`` adds one epoch;
    ``step(epoch)`` jumps to ``epoch``, which may be fractional (``step(epoch + i / iters)``
    after batch i anneals within the epoch): the restart it falls in is
    n = ⌊log_{T_mult}(epoch / T_0 · (T_mult − 1) + 1)⌋, with T_i = T_0 · T_mult^n and
    T_cur = epoch − T_0 · (T_mult^n − 1) / (T_mult − 1) (for T_mult = 1: T_cur = epoch mod T_0).
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,  # noqa: N803
                 last_epoch: int = -1) -> None:
        if isinstance(T_0, bool) or not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected a positive integer T_0, got {T_0!r}")
        if isinstance(T_mult, bool) or not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected an integer T_mult >= 1, got {T_mult!r}")
        if isinstance(eta_min, bool) or not isinstance(eta_min, (float, int)):
            raise ValueError(
                f"CosineAnnealingWarmRestarts: expected a float or int eta_min, got {type(eta_min).__name__}"
            )
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        cos = math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (base_lr - self.eta_min) * (1 + cos) / 2 for base_lr in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Advance one epoch, or go to ``epoch`` (fractional epochs allowed; no warning, unlike the
        other schedules, since this is how the schedule is meant to be stepped within an epoch)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:  # a restart: the next period is T_mult times longer
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts: expected a non-negative epoch, got {epoch!r}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._in_step = True
        try:
            values = self.get_lr()
        finally:
            self._in_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = self._current_lrs()


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2018, "Super-Convergence"): over ``total_steps`` steps
    (or ``epochs · steps_per_epoch``) the lr rises from max_lr / ``div_factor`` to ``max_lr`` in
    the first ``pct_start`` of the steps, then anneals down to
    max_lr / (div_factor · ``final_div_factor``), far below where it started. Each phase goes from
    a to b as ``anneal_strategy``:

        'cos':     b + (a − b) · (1 + cos(π · t)) / 2,     'linear':  a + (b − a) · t

    with t ∈ [0, 1] the fraction of the phase done (phase ends at step pct_start · total − 1 and
    total − 1). With ``three_phase=True`` the lr rises, comes back down symmetrically to the
    initial lr, and only then anneals to the minimum (fastai's schedule is the two-phase one).
    With ``cycle_momentum`` the momentum (SGD's ``momentum``, Adam's β₁) does the opposite, from
    ``max_momentum`` to ``base_momentum`` while the lr rises, and back.

    Constructing it sets each group's ``initial_lr``, ``max_lr`` and ``min_lr``. Step it after
    every batch; stepping more than ``total_steps`` times is an error.
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | Sequence[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | Sequence[float] = 0.85, max_momentum: float | Sequence[float] = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        _check_optimizer("OneCycleLR", optimizer)
        self.total_steps = self._total_steps(total_steps, epochs, steps_per_epoch)
        if isinstance(pct_start, bool) or not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: expected pct_start to be a float in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: expected anneal_strategy 'cos' or 'linear', got {anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        # each phase: (its last step, the group keys of the lr and the momentum it goes between)
        rise = float(pct_start * self.total_steps) - 1
        if three_phase:
            self._phases = [
                (rise, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:
            self._phases = [
                (rise, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        max_lrs = _per_group("max_lr", max_lr, optimizer)
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _start_momentum_cycle("OneCycleLR", optimizer, base_momentum, max_momentum,
                                                   last_epoch)[0]
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _total_steps(total_steps, epochs, steps_per_epoch) -> int:
        def positive_int(v) -> bool:
            return isinstance(v, int) and not isinstance(v, bool) and v > 0

        if total_steps is not None:
            if not positive_int(total_steps):
                raise ValueError(f"OneCycleLR: expected a positive integer total_steps, got {total_steps!r}")
            return total_steps
        if epochs is not None and steps_per_epoch is not None:
            for what, v in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if not positive_int(v):
                    raise ValueError(f"OneCycleLR: expected a positive integer {what}, got {v!r}")
            return epochs * steps_per_epoch
        raise ValueError("OneCycleLR: give either total_steps, or both epochs and steps_per_epoch")

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {step} times, but the schedule has total_steps="
                f"{self.total_steps}; make total_steps (or epochs * steps_per_epoch) cover every step"
            )
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr_from, lr_to, m_from, m_to) in enumerate(self._phases):
                if step <= end or i == len(self._phases) - 1:
                    pct = (step - start) / (end - start)
                    lrs.append(self._anneal(group[lr_from], group[lr_to], pct))
                    if self.cycle_momentum:
                        _set_momentum(group, self._anneal(group[m_from], group[m_to], pct), self.use_beta1)
                    break
                start = end
        return lrs
