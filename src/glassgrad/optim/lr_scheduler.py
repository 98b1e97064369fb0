"""Learning-rate schedules, as ``torch.optim.lr_scheduler``.

A scheduler sets ``group["lr"]`` of its optimizer's parameter groups as training goes on. Call
``scheduler.step()`` after ``optimizer.step()``, once per epoch (or once per batch, for per-step
schedules such as warm-up). ``last_epoch`` counts the scheduler's steps: it is 0 right after
construction, which already sets the learning rate of epoch 0. ``base_lrs`` are the groups' learning
rates when the first scheduler was attached (kept in ``group["initial_lr"]``).

In the formulas below e = ``last_epoch``, lr₀ = the group's base lr, lr = the group's current lr.
Most schedules update lr *recursively* (lr ← lr · factor), as PyTorch does, so that two schedulers
stepping one optimizer compose: their factors multiply. Each also has a closed form in e, used by
``step(epoch)`` and by :class:`SequentialLR` when it switches schedules.

The cyclical schedules (:class:`CyclicLR`, :class:`OneCycleLR`, :class:`CosineAnnealingWarmRestarts`)
live in ``glassgrad.optim._cyclic`` and are imported here.
"""

from __future__ import annotations

import math
import types
import warnings
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from glassgrad.optim.optimizer import Optimizer

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "NoamLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
    "WarmupInverseSqrtLR",
]


class LRScheduler:
    """Base class of the schedules: subclasses implement ``get_lr()``, the learning rates of the
    epoch ``last_epoch`` has just become.

    ``last_epoch=-1`` starts a new schedule (and records each group's lr as ``initial_lr``); a
    larger value resumes one, which needs ``initial_lr`` in every group (load the optimizer's
    state dict first).
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: resuming with last_epoch={last_epoch} needs "
                        f"'initial_lr' in param_groups[{i}]; load the optimizer's state dict first, "
                        "or start a new schedule with last_epoch=-1"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Set the learning rate of the first epoch (last_epoch becomes 0, or last_epoch + 1)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr()")

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    def step(self, epoch: int | None = None) -> None:
        """Advance the schedule by one epoch and set the optimizer's learning rates.

        ``epoch`` (deprecated in PyTorch) jumps to that epoch, using the closed form.
        """
        if self._step_count == 1 and not getattr(self.optimizer, "_step_called", True):
            warnings.warn(
                "lr_scheduler.step() was called before optimizer.step(); call them in the order "
                "optimizer.step(), then lr_scheduler.step(), or the first learning rate of the "
                "schedule is skipped",
                UserWarning,
                stacklevel=2,
            )
        self._step_count += 1
        if epoch is not None:
            warnings.warn(
                "scheduler.step(epoch) is deprecated: call scheduler.step() without an argument",
                UserWarning,
                stacklevel=2,
            )
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        self._in_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
        finally:
            self._in_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _warn_if_called_outside_step(self) -> None:
        if not getattr(self, "_in_step", False):
            warnings.warn(
                "get_lr() computes the next learning rates (the recursive forms apply the factor "
                "again); to read the current ones use get_last_lr()",
                UserWarning,
                stacklevel=3,
            )

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer: ``last_epoch``, ``base_lrs``, the schedule's settings."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self._last_lr})"


def _per_group(name: str, value, optimizer: Optimizer) -> list:
    """``value`` given once for all groups, or as a list with one entry per group."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(
                f"expected {len(optimizer.param_groups)} {name} (one per parameter group), got {len(value)}"
            )
        return list(value)
    return [value] * len(optimizer.param_groups)


class LambdaLR(LRScheduler):
    """lr = lr₀ · f(e), where f = ``lr_lambda`` (one function, or one per parameter group).

    Only the state of callable objects (not of plain functions or lambdas) is saved by
    ``state_dict``.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | Sequence[Callable],
                 last_epoch: int = -1) -> None:
        self.lr_lambdas = _per_group("lr_lambdas", lr_lambda, optimizer)
        for f in self.lr_lambdas:
            if not callable(f):
                raise TypeError(
                    f"{type(self).__name__}: lr_lambda should be a function, got {type(f).__name__}"
                )
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        return [base_lr * f(self.last_epoch) for f, base_lr in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(f, types.FunctionType) else dict(f.__dict__)
                               for f in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        saved_lambdas = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for f, saved in zip(self.lr_lambdas, saved_lambdas):
            if saved is not None:
                f.__dict__.update(saved)


class MultiplicativeLR(LambdaLR):
    """lr ← lr · f(e) at each step after the first, where f = ``lr_lambda``."""

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        if self._is_initial:
            return self._current_lrs()
        return [group["lr"] * f(self.last_epoch)
                for f, group in zip(self.lr_lambdas, self.optimizer.param_groups)]


class StepLR(LRScheduler):
    """Multiply lr by ``gamma`` every ``step_size`` epochs: lr = lr₀ · γ^⌊e / step_size⌋."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: expected step_size to be a positive integer, got {step_size!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply lr by ``gamma`` at each milestone epoch: lr = lr₀ · γ^(number of milestones ≤ e)
    (a milestone listed twice counts twice)."""

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        milestones = sorted(self.milestones.elements())
        return [base_lr * self.gamma ** bisect_right(milestones, self.last_epoch)
                for base_lr in self.base_lrs]


class ConstantLR(LRScheduler):
    """lr = lr₀ · factor for e < total_iters, then lr₀."""

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        if not 0 <= factor <= 1:
            raise ValueError(f"ConstantLR: expected factor in [0, 1], got {factor!r}")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._current_lrs()]
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        return [lr * (1.0 / self.factor) for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """The factor on lr₀ goes linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` epochs, then stays: lr = lr₀ · (s + (f − s) · min(e, total_iters) / total_iters).

    Recursively, for 0 < e ≤ total_iters:
    lr ← lr · (1 + (f − s) / (total_iters · s + (e − 1) · (f − s))).
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: expected start_factor in (0, 1], got {start_factor!r}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: expected end_factor in [0, 1], got {end_factor!r}")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._current_lrs()]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        s, f = self.start_factor, self.end_factor
        factor = 1.0 + (f - s) / (self.total_iters * s + (self.last_epoch - 1) * (f - s))
        return [lr * factor for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        s, f = self.start_factor, self.end_factor
        return [base_lr * (s + (f - s) * min(self.total_iters, self.last_epoch) / self.total_iters)
                for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply lr by ``gamma`` every epoch: lr = lr₀ · γ^e."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr = lr₀ · (1 − min(e, total_iters) / total_iters)^power: reaches 0 at total_iters.

    Recursively, for 0 < e ≤ total_iters: lr ← lr · ((1 − e/T) / (1 − (e − 1)/T))^power.
    """

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1) -> None:
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        e, n = self.last_epoch, self.total_iters
        factor = ((1.0 - e / n) / (1.0 - (e - 1) / n)) ** self.power
        return [lr * factor for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
                for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from lr₀ down to ``eta_min`` over ``T_max`` epochs (SGDR without restarts):

        lr = η_min + (lr₀ − η_min) · (1 + cos(π · e / T_max)) / 2

    computed, as PyTorch does, recursively so that other schedulers can act on the same lr::

        lr ← η_min + (lr − η_min) · (1 + cos(π e / T_max)) / (1 + cos(π (e − 1) / T_max))

    except where that divides by zero (e − 1 − T_max a multiple of 2 T_max), where
    lr ← lr + (lr₀ − η_min) · (1 − cos(π / T_max)) / 2. Past T_max the curve rises again (period
    2 T_max).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:  # noqa: N803
        if not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: expected T_max > 0, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        e, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and e > 0:
            return [eta_min + (base_lr - eta_min) * (1 + math.cos(e * math.pi / t_max)) / 2
                    for base_lr in self.base_lrs]
        if (e - 1 - t_max) % (2 * t_max) == 0:
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                    for base_lr, lr in zip(self.base_lrs, self._current_lrs())]
        return [(1 + math.cos(math.pi * e / t_max)) / (1 + math.cos(math.pi * (e - 1) / t_max))
                * (lr - eta_min) + eta_min for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        cos = math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base_lr - self.eta_min) * (1 + cos) / 2 for base_lr in self.base_lrs]


class WarmupInverseSqrtLR(LRScheduler):
    """The Transformer's warm-up schedule (the "Noam" schedule of *Attention Is All You Need*,
    Vaswani et al., 2017, section 5.3), as a factor on each group's lr:

        lr = lr₀ · scale · d_model^(−0.5) · min(n^(−0.5), n · warmup_steps^(−1.5)),   n = e + 1

    The lr grows linearly for ``warmup_steps`` steps, peaks at n = warmup_steps, then decays as
    1/√n. n = e + 1 is the number of the optimizer step the lr is used for (the first step is
    n = 1, as in the paper), so step the scheduler after every optimizer step, not every epoch.
    The paper uses lr₀ = 1 (e.g. ``Adam(params, lr=1.0, betas=(0.9, 0.98), eps=1e-9)``) and
    scale = 1.
    """

    def __init__(self, optimizer: Optimizer, d_model: int, warmup_steps: int = 4000, scale: float = 1.0,
                 last_epoch: int = -1) -> None:
        if not d_model > 0:
            raise ValueError(f"WarmupInverseSqrtLR: expected d_model > 0, got {d_model!r}")
        if not warmup_steps > 0:
            raise ValueError(f"WarmupInverseSqrtLR: expected warmup_steps > 0, got {warmup_steps!r}")
        self.d_model = d_model
        self.warmup_steps = warmup_steps
        self.scale = scale
        super().__init__(optimizer, last_epoch)

    def factor(self, n: int) -> float:
        """The multiplier on lr₀ for optimizer step n (n ≥ 1)."""
        return self.scale * self.d_model**-0.5 * min(n**-0.5, n * self.warmup_steps**-1.5)

    def get_lr(self) -> list[float]:
        self._warn_if_called_outside_step()
        return self._get_closed_form_lr()

    def _get_closed_form_lr(self) -> list[float]:
        f = self.factor(self.last_epoch + 1)
        return [base_lr * f for base_lr in self.base_lrs]


NoamLR = WarmupInverseSqrtLR


def _check_same_optimizer(who: str, schedulers: Sequence, optimizer: Optimizer) -> None:
    if len(schedulers) < 1:
        raise ValueError(f"{who} expects at least one scheduler, got none")
    for i, s in enumerate(schedulers):
        if isinstance(s, ReduceLROnPlateau):
            raise ValueError(
                f"{who} does not support ReduceLROnPlateau (its step needs the metric), but "
                f"scheduler {i} is one"
            )
        if not hasattr(s, "optimizer"):
            raise TypeError(f"{who}: scheduler {i} should be a scheduler, got {type(s).__name__}")
        if s.optimizer is not optimizer:
            raise ValueError(
                f"{who} expects all schedulers to act on the same optimizer; scheduler {i} does not"
            )


class _SchedulerOfSchedulers(LRScheduler):
    """Saves and restores the schedulers it drives along with its own counters."""

    _schedulers: list[LRScheduler]

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        saved = state.pop("_schedulers")
        self.__dict__.update(state)
        for s, sd in zip(self._schedulers, saved):
            s.load_state_dict(sd)


class ChainedScheduler(_SchedulerOfSchedulers):
    """Step several schedulers of one optimizer together: their (recursive) factors multiply."""

    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None) -> None:
        optimizer = optimizer or (schedulers[0].optimizer if schedulers else None)
        _check_same_optimizer("ChainedScheduler", schedulers, optimizer)
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = self._current_lrs()

    def step(self) -> None:  # type: ignore[override]
        for s in self._schedulers:
            s.step()
        self._last_lr = self._current_lrs()

    def __repr__(self) -> str:
        return f"ChainedScheduler({[type(s).__name__ for s in self._schedulers]})"


class SequentialLR(_SchedulerOfSchedulers):
    """Run ``schedulers`` one after another, switching at the ``milestones`` epochs (one fewer
    than schedulers): e.g. ``SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5),
    CosineAnnealingLR(opt, T_max=95)], milestones=[5])`` warms up for 5 epochs, then anneals.
    At a milestone the next scheduler starts from its own epoch 0 (its closed form at e = 0).
    """

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int],
                 last_epoch: int = -1) -> None:
        _check_same_optimizer("SequentialLR", schedulers, optimizer)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR expects one milestone fewer than schedulers, got {len(schedulers)} "
                f"schedulers and {len(milestones)} milestones"
            )
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # Building each scheduler already stepped it once: undo that, restore the base learning
        # rates, and start only the scheduler that runs at epoch 0.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self._undo_initial_steps(self)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def _undo_initial_steps(self, scheduler) -> None:
        if hasattr(scheduler, "_schedulers"):
            for s in scheduler._schedulers:
                self._undo_initial_steps(s)
        elif hasattr(scheduler, "last_epoch"):
            scheduler.last_epoch -= 1

    def step(self) -> None:  # type: ignore[override]
        self.last_epoch += 1
        i = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def __repr__(self) -> str:
        return f"SequentialLR({[type(s).__name__ for s in self._schedulers]}, milestones={self._milestones})"


class ReduceLROnPlateau(LRScheduler):
    """Cut the learning rate when a metric stops improving: ``step(metric)`` once per epoch.

    A metric m improves on the best so far b when (mode, threshold_mode) is
    (min, rel): m < b · (1 − threshold); (min, abs): m < b − threshold;
    (max, rel): m > b · (1 + threshold); (max, abs): m > b + threshold.
    After more than ``patience`` epochs in a row without improvement every group's lr becomes
    max(lr · factor, min_lr) (skipped if that changes lr by eps or less), and the next
    ``cooldown`` epochs are not counted as bad.
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | Sequence[float] = 0, eps: float = 1e-8) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: expected an Optimizer, got {type(optimizer).__name__}")
        if not factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: expected factor < 1.0, got {factor!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: expected mode 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"ReduceLROnPlateau: expected threshold_mode 'rel' or 'abs', got {threshold_mode!r}"
            )
        self.optimizer = optimizer
        self.factor = factor
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else min_lr
        self.min_lrs = _per_group("min_lrs", min_lr, optimizer)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self.best = math.inf if mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _is_better(self, metric: float, best: float) -> bool:
        rel = self.threshold_mode == "rel"
        if self.mode == "min":
            return metric < (best * (1.0 - self.threshold) if rel else best - self.threshold)
        return metric > (best * (self.threshold + 1.0) if rel else best + self.threshold)

    def step(self, metrics, epoch: int | None = None) -> None:  # type: ignore[override]
        """Record this epoch's metric (a number or a one-element tensor) and maybe cut the lr."""
        current = float(metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"ReduceLROnPlateau: the optimizer has {len(groups)} parameter groups but "
                    f"min_lr gives {len(self.min_lrs)}; set .min_lrs to one value per group"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def __repr__(self) -> str:
        return (f"ReduceLROnPlateau(mode={self.mode!r}, factor={self.factor}, patience={self.patience}, "
                f"best={self.best}, num_bad_epochs={self.num_bad_epochs}, last_lr={self._last_lr})")


# The cyclical schedules are in their own file (this one would grow past a comfortable length);
# imported last because they subclass LRScheduler from this module.
from glassgrad.optim._cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR  # noqa: E402
