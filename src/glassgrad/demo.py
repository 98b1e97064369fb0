"""Lecture 1's three steps on a real series: a line y = b + w*x, fitted by gradient descent.

    python -m glassgrad.demo            # or: from glassgrad.demo import fit_line_demo

The course predicts tomorrow's views of a channel from today's. Here the series is U.S. births
per day (:func:`glassgrad.datasets.load_series`), counted in thousands as the lecture counts
views. Like the lecture's, it has a weekly cycle, so today says only so much about tomorrow:
a Friday is followed by a Saturday with far fewer births. A model that sees the past 7 days
does much better (``make_lagged(values, 7)``), as in the lecture.
"""

from __future__ import annotations

import numpy as np

import glassgrad as gg
from glassgrad.datasets.series import load_series, make_lagged

DEFAULT_LR = {"mae": 1.0, "mse": 0.25}


def _loss(pred: gg.Tensor, y: gg.Tensor, kind: str) -> gg.Tensor:
    r = pred - y
    return r.abs().mean() if kind == "mae" else (r * r).mean()


def fit_line_demo(
    series: str = "us_births",
    loss: str = "mae",
    lr: float | None = None,
    steps: int = 1000,
    test_from: str = "2014-01-01",
    scale: float = 1000.0,
    standardize: bool = True,
    verbose: bool = True,
) -> dict[str, float]:
    """Fit tomorrow = b + w * today on the days before ``test_from``; test on the days after.

    The three steps of lecture 1: (1) the model y = b + w*x with unknown w, b; (2) the loss,
    ``"mae"`` (mean |y - pred|, the lecture's) or ``"mse"`` (mean (y - pred)^2), on the
    training days; (3) gradient descent from w = b = 0, for ``steps`` updates
    ``theta <- theta - lr_t * dL/dtheta``, the gradient coming from ``loss.backward()``.

    Two choices make it converge in well under a second:

    - ``standardize``: descent runs on u = (x - mean) / std of the training inputs, i.e. on
      y = b' + w'*u, and the line is reported back as w = w'/std, b = b' - w'*mean/std. On raw x
      (about 11 +- 2 thousand) the loss surface is a long narrow valley, and plain gradient
      descent needs tens of thousands of steps (lecture 5's case for feature normalization).
    - the learning rate decays linearly to 0, ``lr_t = lr * (1 - t/steps)``: the MAE's gradient
      does not shrink near the minimum (it is a mean of signs), so a constant step would keep
      jumping around the minimum instead of settling in it.

    Values are divided by ``scale`` (thousands) before fitting, so w, b and the losses are in
    thousands, like the lecture's "L = 0.48k". Returns ``w``, ``b``, ``train_loss``,
    ``test_loss`` and ``steps``, and prints them if ``verbose``.
    """
    if loss not in DEFAULT_LR:
        raise ValueError(f"fit_line_demo: loss must be 'mae' or 'mse', got {loss!r}")
    if steps < 1:
        raise ValueError(f"fit_line_demo: steps must be at least 1, got {steps}")
    if lr is None:
        lr = DEFAULT_LR[loss] if standardize else DEFAULT_LR[loss] / 100

    dates, values = load_series(series)
    x_all, y_all = make_lagged(values / scale, 1)
    x_all = x_all[:, 0]
    is_train = dates[1:] < np.datetime64(test_from)  # the date of the predicted day decides
    if is_train.all() or not is_train.any():
        raise ValueError(f"fit_line_demo: test_from={test_from!r} leaves no training or no test day")
    mean, std = (x_all[is_train].mean(), x_all[is_train].std()) if standardize else (0.0, 1.0)

    def inputs(mask: np.ndarray) -> tuple[gg.Tensor, gg.Tensor]:
        return gg.tensor((x_all[mask] - mean) / std), gg.tensor(y_all[mask])

    x, y = inputs(is_train)
    w = gg.tensor(0.0, dtype=gg.float64, requires_grad=True)
    b = gg.tensor(0.0, dtype=gg.float64, requires_grad=True)
    for t in range(steps):
        train_loss = _loss(b + w * x, y, loss)
        train_loss.backward()
        step = lr * (1.0 - t / steps)
        with gg.no_grad():
            w -= step * w.grad
            b -= step * b.grad
        w.grad.zero_()
        b.grad.zero_()

    with gg.no_grad():
        train_loss = _loss(b + w * x, y, loss).item()
        x_test, y_test = inputs(~is_train)
        test_loss = _loss(b + w * x_test, y_test, loss).item()
    result = {
        "w": w.item() / std,
        "b": b.item() - w.item() * mean / std,
        "train_loss": train_loss,
        "test_loss": test_loss,
        "steps": steps,
    }
    if verbose:
        unit = "k" if scale == 1000 else f" x {scale:g}"
        loss_unit = unit if loss == "mae" else f" ({unit.strip()})^2"
        print(f"{series}: tomorrow = b + w * today, {loss.upper()} loss, {steps} steps of gradient descent")
        print(f"  w = {result['w']:.4f}, b = {result['b']:.4f}{unit}")
        print(f"  L  (train, before {test_from}) = {train_loss:.4f}{loss_unit}")
        print(f"  L' (test,  from   {test_from}) = {test_loss:.4f}{loss_unit}")
    return result


if __name__ == "__main__":
    fit_line_demo()
