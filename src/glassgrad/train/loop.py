"""``fit`` and ``evaluate``: the training loop every course homework writes by hand, once.

One epoch of ``fit``: ``model.train()``; for each batch ``(inputs..., target)`` of the train
loader: ``optimizer.zero_grad()``, ``loss = loss_fn(model(*inputs), target)``,
``loss.backward()``, ``optimizer.step()``. Then the validation loader is evaluated, the epoch's
means are appended to the history, the scheduler steps, the best epoch and early stopping are
updated, and a checkpoint is written. The model, optimizer and scheduler only need PyTorch's
methods (``train``/``eval``, ``state_dict``/``load_state_dict``, ``zero_grad``/``step``).

Reproducible resume: the checkpoint holds everything the next epoch depends on (weights,
optimizer and scheduler state, history, best epoch, and the state of every random generator),
so a run resumed from the checkpoint of epoch k reaches bit for bit the same weights as a run
that was never interrupted.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterable, Mapping

from glassgrad._tensor import Tensor
from glassgrad.autograd.grad_mode import no_grad
from glassgrad.serialization import load, save
from glassgrad.train.checkpoint import copy_state, loader_generators, rng_state, set_rng_state
from glassgrad.train.history import History, Monitor, infer_mode

_CHECKPOINT_KIND = "glassgrad.train.fit"

Metric = Callable[[Tensor, Tensor], "float | Tensor"]


def accuracy(output: Tensor, target: Tensor) -> float:
    """The fraction of rows whose largest logit is at the target class."""
    correct = (output.argmax(dim=-1) == target).sum().item()
    return correct / max(target.numel(), 1)


def _split_batch(batch) -> tuple[tuple, object]:
    if isinstance(batch, (list, tuple)) and len(batch) >= 2:
        return tuple(batch[:-1]), batch[-1]
    raise TypeError(
        "fit/evaluate expect each batch to be a sequence (inputs..., target), e.g. what a "
        f"DataLoader over TensorDataset(x, y) yields; got {type(batch).__name__}"
    )


def _count(target) -> int:
    """How many samples a batch holds (the weight of its mean loss in the epoch mean)."""
    shape = getattr(target, "shape", None)
    if shape:
        return int(shape[0])
    try:
        return len(target)
    except TypeError:
        return 1


class _Means:
    """Sample-weighted running means of the loss and metrics over an epoch's batches."""

    def __init__(self):
        self.sums: dict[str, float] = {}
        self.count = 0

    def add(self, values: dict[str, float], n: int) -> None:
        for name, value in values.items():
            self.sums[name] = self.sums.get(name, 0.0) + value * n
        self.count += n

    def means(self) -> dict[str, float]:
        return {name: s / self.count for name, s in self.sums.items()}


def _batch_values(output, target, loss, metrics: Mapping[str, Metric]) -> dict[str, float]:
    values = {} if loss is None else {"loss": float(loss.item())}
    with no_grad():
        for name, fn in metrics.items():
            value = fn(output, target)
            values[name] = float(value.item() if isinstance(value, Tensor) else value)
    return values


def _check_metrics(metrics) -> dict[str, Metric]:
    metrics = dict(metrics or {})
    for name, fn in metrics.items():
        if not isinstance(name, str) or not callable(fn):
            raise TypeError(f"metrics should map names to functions fn(output, target), got {name!r}: {fn!r}")
        if name == "loss" or name.startswith("val_") or name == "lr":
            raise ValueError(f"metric name {name!r} is reserved (fit records 'loss', 'lr' and 'val_*' itself)")
    return metrics


def evaluate(model, loader: Iterable, loss_fn: Callable | None = None,
             metrics: Mapping[str, Metric] | None = None) -> dict[str, float]:
    """The mean loss and metrics of ``model`` over ``loader``, in eval mode and without recording
    gradients; the model's train/eval mode is restored afterwards."""
    metrics = _check_metrics(metrics)
    if loss_fn is None and not metrics:
        raise ValueError("evaluate needs a loss_fn or at least one metric")
    was_training = getattr(model, "training", True)
    model.eval()
    means = _Means()
    try:
        with no_grad():
            for batch in loader:
                inputs, target = _split_batch(batch)
                output = model(*inputs)
                loss = None if loss_fn is None else loss_fn(output, target)
                means.add(_batch_values(output, target, loss, metrics), _count(target))
    finally:
        model.train(was_training)
    if means.count == 0:
        raise ValueError("evaluate: the loader produced no batches")
    return means.means()


def _train_epoch(model, optimizer, loss_fn, loader, metrics, batch_scheduler, bar) -> dict[str, float]:
    model.train()
    means = _Means()
    for batch in loader:
        inputs, target = _split_batch(batch)
        optimizer.zero_grad()
        output = model(*inputs)
        loss = loss_fn(output, target)
        loss.backward()
        optimizer.step()
        if batch_scheduler is not None:
            batch_scheduler.step()
        means.add(_batch_values(output, target, loss, metrics), _count(target))
        bar.update()
        if not bar.disable:
            bar.set_postfix({k: f"{v:.4g}" for k, v in means.means().items()}, refresh=False)
    if means.count == 0:
        raise ValueError("fit: train_loader produced no batches")
    return means.means()


def _current_lr(optimizer) -> float | None:
    groups = getattr(optimizer, "param_groups", None)
    if groups and "lr" in groups[0]:
        return float(groups[0]["lr"])
    return None


def _step_scheduler(scheduler, history: History, monitor_name: str) -> None:
    """Step an epoch scheduler; one whose ``step`` takes ``metrics`` (ReduceLROnPlateau) is given
    the monitored value."""
    if "metrics" in inspect.signature(scheduler.step).parameters:
        if monitor_name not in history:
            raise ValueError(f"the scheduler steps on a metric, but {monitor_name!r} is not recorded")
        scheduler.step(history[monitor_name][-1])
    else:
        scheduler.step()


def _restore(path, model, optimizer, scheduler, tracker: Monitor, generators) -> tuple:
    """Load a checkpoint written by ``fit`` into the given objects; return the history, best
    weights, epochs done and whether early stopping had ended the run."""
    state = load(path)
    if not isinstance(state, dict) or state.get("kind") != _CHECKPOINT_KIND:
        raise ValueError(f"{os.fspath(path)!r} is not a checkpoint written by fit")
    if (state["scheduler"] is None) != (scheduler is None):
        raise ValueError("the checkpoint was written " + ("without" if scheduler is not None else "with")
                         + " a scheduler; resume with the same setup as the original run")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(state["scheduler"])
    if state["monitor"]["name"] == tracker.name:
        tracker.load_state_dict(state["monitor"])
    set_rng_state(state["rng"], generators)
    return History(state["history"]), state["best_model"], state["epoch"], state["stopped"]


def fit(model, optimizer, loss_fn: Callable, train_loader: Iterable, val_loader: Iterable | None = None,
        epochs: int = 1, *, metrics: Mapping[str, Metric] | None = None, scheduler=None,
        scheduler_interval: str = "epoch", monitor: str | None = None, mode: str = "auto",
        patience: int | None = None, min_delta: float = 0.0, restore_best: bool = False,
        checkpoint: str | os.PathLike | None = None, resume: str | os.PathLike | bool | None = None,
        progress: bool = True, callbacks: Iterable[Callable[[int, History], None]] = ()) -> History:
    """Train ``model`` for ``epochs`` epochs (in total, counting those of a resumed run) and
    return the ``History``: per epoch, the mean ``loss`` and ``metrics`` over the training
    batches, ``val_loss`` and ``val_<metric>`` over ``val_loader``, and the learning rate ``lr``.

    - ``metrics``: ``{"acc": fn}`` with ``fn(output, target)`` giving a number per batch.
    - ``scheduler``: stepped after every epoch (``scheduler_interval="epoch"``) or after every
      optimizer step (``"batch"``); a ReduceLROnPlateau-style scheduler gets the ``monitor`` value.
    - ``monitor`` (default ``val_loss``, or ``loss`` without a val_loader) and ``mode`` ('min',
      'max' or 'auto': judged by the name) define the best epoch. ``patience``: stop after that
      many epochs without an improvement of more than ``min_delta``. ``restore_best``: end with
      the weights of the best epoch.
    - ``checkpoint``: a path written (atomically) after every epoch with everything needed to
      continue. ``resume``: a checkpoint path to continue from, or True to continue from
      ``checkpoint`` if that file exists. The model, optimizer and loaders must be built as in
      the original run; their state is then restored, so the result is bitwise the same.
    - ``progress``: a tqdm bar per epoch showing the running loss and metrics.
    - ``callbacks``: functions ``fn(epoch, history)`` called after each epoch (and its checkpoint).
    """
    from tqdm.auto import tqdm  # imported here: tqdm.auto is slow to import

    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs should be a non-negative integer, got {epochs!r}")
    if scheduler_interval not in ("epoch", "batch"):
        raise ValueError(f"scheduler_interval should be 'epoch' or 'batch', got {scheduler_interval!r}")
    if patience is not None and (isinstance(patience, bool) or not isinstance(patience, int) or patience < 1):
        raise ValueError(f"patience should be a positive integer or None, got {patience!r}")
    metrics = _check_metrics(metrics)
    callbacks = list(callbacks)
    recorded = ["loss", *metrics]
    if val_loader is not None:
        recorded += ["val_loss", *(f"val_{m}" for m in metrics)]
    if monitor is None:
        monitor = "val_loss" if val_loader is not None else "loss"
    if monitor not in recorded:
        raise ValueError(f"monitor={monitor!r} is not recorded by this run; choose one of {recorded}")
    tracker = Monitor(monitor, infer_mode(monitor) if mode == "auto" else mode, min_delta)
    generators = loader_generators(train_loader, val_loader)

    history = History()
    best_state = None
    start_epoch = 0
    stopped = False
    resume_path = checkpoint if resume is True else resume
    if resume is True and checkpoint is None:
        raise ValueError("resume=True resumes from the checkpoint path, but checkpoint is None")
    if resume_path is not None and (resume is not True or os.path.exists(resume_path)):
        history, best_state, start_epoch, stopped = _restore(
            resume_path, model, optimizer, scheduler, tracker, generators)

    epoch_scheduler = scheduler if scheduler_interval == "epoch" else None
    batch_scheduler = scheduler if scheduler_interval == "batch" else None
    epoch = start_epoch
    while epoch < epochs and not stopped:
        epoch += 1
        lr = _current_lr(optimizer)
        total = len(train_loader) if hasattr(train_loader, "__len__") else None
        with tqdm(total=total, desc=f"Epoch {epoch}/{epochs}", unit="batch", disable=not progress,
                  dynamic_ncols=True) as bar:
            record = _train_epoch(model, optimizer, loss_fn, train_loader, metrics, batch_scheduler, bar)
            if val_loader is not None:
                val = evaluate(model, val_loader, loss_fn, metrics)
                record.update({f"val_{k}": v for k, v in val.items()})
            bar.set_postfix({k: f"{v:.4g}" for k, v in record.items()})
        if lr is not None:
            record["lr"] = lr
        history.append(record)
        if epoch_scheduler is not None:
            _step_scheduler(epoch_scheduler, history, monitor)
        if tracker.update(history[monitor][-1], epoch) and restore_best:
            best_state = copy_state(model.state_dict())
        stopped = patience is not None and tracker.bad_epochs >= patience
        if checkpoint is not None:
            save({
                "kind": _CHECKPOINT_KIND, "epoch": epoch, "stopped": stopped,
                "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": None if scheduler is None else scheduler.state_dict(),
                "history": dict(history), "monitor": tracker.state_dict(), "best_model": best_state,
                "rng": rng_state(generators),
            }, checkpoint)
        for callback in callbacks:
            callback(epoch, history)

    if restore_best and best_state is not None:
        model.load_state_dict(best_state)
    return history
