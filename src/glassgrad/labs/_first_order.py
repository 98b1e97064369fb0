"""A check the labs share: does one optimizer step lower the loss as the gradient predicts?

Gradient descent rests on the first-order Taylor expansion L(theta - lr g) ~ L(theta) - lr ||g||^2.
For a small step the measured fall matches that prediction only if g really is the gradient of L, so
the check catches a wrong derivative anywhere in the network, and a step that does not move the
parameters (or moves them uphill).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

import glassgrad as gg


def realized_share(params: Sequence[gg.Tensor], loss: Callable[[], gg.Tensor], step_loss: Callable[[], gg.Tensor],
                   lr: float) -> float:
    """Take one ``gg.optim.SGD`` step of learning rate ``lr`` on the gradient g of ``step_loss()``
    and return the fall of ``loss()`` as a share of the first-order prediction lr * ||g||^2 (the
    fall of ``step_loss`` itself for a small step). The parameters are put back afterwards.

    With ``step_loss`` = ``loss`` the share is 1 up to a second-order term (lr times the
    curvature along g); with the loss of a part of the data it is the part of that step which is
    downhill for ``loss`` too."""
    params = list(params)
    before = [p.detach().clone() for p in params]
    opt = gg.optim.SGD(params, lr=lr)
    with gg.no_grad():
        start = loss().item()
    opt.zero_grad()
    step_loss().backward()
    promised = lr * sum(float((p.grad.numpy().astype(np.float64) ** 2).sum()) for p in params if p.grad is not None)
    opt.step()
    with gg.no_grad():
        fell = start - loss().item()
        for p, b in zip(params, before):
            p.copy_(b)
    return fell / promised
