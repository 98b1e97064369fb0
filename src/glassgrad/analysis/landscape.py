"""Loss landscapes: the loss along a line or over a plane through parameter space, and an
optimizer's path drawn on that plane.

Directions are either chosen by hand (two parameters of a small model: the lecture's (w, b)
contours) or random and *filter-normalized* (Li et al., 2018, "Visualizing the Loss Landscape of
Neural Nets"): each output unit's slice of a random direction is scaled to the norm of the same
slice of the weights, so that the picture does not depend on how the weights happen to be scaled;
one-dimensional parameters (biases, norm scales) get no movement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

import glassgrad as gg
from glassgrad.analysis._params import assign_flat, tensors_to_flat, trainable_parameters


def loss_at_function(loss_fn: Callable[[], gg.Tensor], params: Sequence[gg.Tensor]) -> Callable[[np.ndarray], float]:
    """A function theta -> L(theta) over the flat vector of ``params``; each call sets the
    parameters, evaluates ``loss_fn()`` under no_grad, and puts the original values back."""
    params = list(params)
    original = tensors_to_flat(params)

    def loss_at(theta: np.ndarray) -> float:
        assign_flat(params, theta)
        try:
            with gg.no_grad():
                return float(loss_fn().item())
        finally:
            assign_flat(params, original)

    return loss_at


def model_loss_at(model, loss_fn, data) -> tuple[Callable[[np.ndarray], float], np.ndarray]:
    """(theta -> loss of ``model`` on ``data`` = (x, y), the model's current theta)."""
    x, y = data
    params = trainable_parameters(model)
    return loss_at_function(lambda: loss_fn(model(x), y), params), tensors_to_flat(params)


def random_directions(params: Sequence[gg.Tensor], n: int = 2, filter_normalize: bool = True,
                      generator: gg.Generator | None = None) -> list[np.ndarray]:
    """``n`` random flat directions over ``params`` (filter-normalized unless told otherwise)."""
    gen = generator or gg._random.default_generator
    directions = []
    for _ in range(n):
        parts = []
        for p in params:
            w = p.detach().numpy().astype(np.float64)
            d = gen.normal(0.0, 1.0, w.shape)
            if filter_normalize:
                if w.ndim <= 1:
                    d = np.zeros_like(w)
                else:
                    axes = tuple(range(1, w.ndim))
                    d_norm = np.sqrt((d * d).sum(axis=axes, keepdims=True))
                    w_norm = np.sqrt((w * w).sum(axis=axes, keepdims=True))
                    d = d / np.maximum(d_norm, 1e-12) * w_norm
            parts.append(d.reshape(-1))
        directions.append(np.concatenate(parts))
    return directions


def loss_line(loss_at: Callable[[np.ndarray], float], center: np.ndarray, direction: np.ndarray,
              alphas: np.ndarray) -> np.ndarray:
    """L(center + a * direction) for each a in ``alphas``."""
    return np.array([loss_at(center + a * direction) for a in alphas])


def loss_plane(loss_at: Callable[[np.ndarray], float], center: np.ndarray, d1: np.ndarray, d2: np.ndarray,
               alphas: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """L(center + a d1 + b d2) on the grid: result[i, j] is at (alphas[j], betas[i]), the layout
    matplotlib's ``contour(alphas, betas, result)`` expects."""
    return np.array([[loss_at(center + a * d1 + b * d2) for a in alphas] for b in betas])


def project_trajectory(thetas: Sequence[np.ndarray], center: np.ndarray, d1: np.ndarray,
                       d2: np.ndarray) -> np.ndarray:
    """Coordinates (a, b) of each theta in the plane center + a d1 + b d2 (least squares, so
    points off the plane land on their closest point in it). Shape (len(thetas), 2)."""
    basis = np.stack([d1, d2], axis=1)
    offsets = np.stack([t - center for t in thetas], axis=1)
    coords, *_ = np.linalg.lstsq(basis, offsets, rcond=None)
    return coords.T
