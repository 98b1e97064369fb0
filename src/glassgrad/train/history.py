"""What ``fit`` records per epoch (``History``) and how it tracks the best epoch (``Monitor``)."""

from __future__ import annotations

import math


class History(dict):
    """Lists of per-epoch values by name: ``history["loss"][e]`` is the training loss of epoch
    ``e + 1``; validation values are prefixed ``val_``; ``lr`` is the learning rate used."""

    @property
    def epochs(self) -> int:
        """How many epochs are recorded."""
        return max((len(v) for v in self.values()), default=0)

    def append(self, record: dict[str, float]) -> None:
        """Add one epoch's values."""
        for name, value in record.items():
            self.setdefault(name, []).append(value)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.items() if v)
        return f"History({self.epochs} epochs; last: {last})"


_LOWER_IS_BETTER = ("loss", "error", "err", "mse", "mae", "rmse", "perplexity")
_HIGHER_IS_BETTER = ("acc", "accuracy", "f1", "auc", "precision", "recall", "r2")


def infer_mode(monitor: str) -> str:
    """'min' for losses and errors, 'max' for accuracies and scores, judged by the name."""
    base = monitor.removeprefix("val_").lower()
    if base in _LOWER_IS_BETTER or base.endswith("loss"):
        return "min"
    if base in _HIGHER_IS_BETTER or base.endswith("acc") or base.endswith("accuracy"):
        return "max"
    raise ValueError(f"cannot tell whether {monitor!r} should go up or down; pass mode='min' or mode='max'")


class Monitor:
    """Tracks the best value of one recorded quantity and how many epochs passed without an
    improvement of more than ``min_delta`` (the count early stopping compares to its patience)."""

    def __init__(self, name: str, mode: str, min_delta: float = 0.0):
        if mode not in ("min", "max"):
            raise ValueError(f"mode should be 'min', 'max' or 'auto', got {mode!r}")
        if min_delta < 0:
            raise ValueError(f"min_delta should be non-negative, got {min_delta}")
        self.name, self.mode, self.min_delta = name, mode, min_delta
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.bad_epochs = 0

    def update(self, value: float, epoch: int) -> bool:
        """Record ``value`` of ``epoch``; True if it is a new best."""
        improved = not math.isnan(value) and (
            self.best is None
            or (value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta)
        )
        if improved:
            self.best, self.best_epoch, self.bad_epochs = value, epoch, 0
        else:
            self.bad_epochs += 1
        return improved

    def state_dict(self) -> dict:
        return {"name": self.name, "mode": self.mode, "best": self.best, "best_epoch": self.best_epoch,
                "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.best_epoch, self.bad_epochs = state["best"], state["best_epoch"], state["bad_epochs"]
