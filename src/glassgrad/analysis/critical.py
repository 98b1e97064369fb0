"""Critical points (lecture 4): is a point where the gradient vanishes a local minimum, a local
maximum or a saddle point? Near theta', L(theta) ~ L(theta') + g^T d + 1/2 d^T H d; at a critical
point g = 0 and the signs of the Hessian's eigenvalues decide.

The Hessian comes from double backprop: each row is the gradient of one component of the
gradient. For models of a few thousand parameters the whole H is formed (float64) and all its
eigenvalues computed; for larger ones only the extreme eigenvalues are found by Lanczos
iteration (scipy's ``eigsh``) on Hessian-vector products, which never form H.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

import glassgrad as gg
from glassgrad.analysis._params import flat_to_tensors, trainable_parameters


@dataclass
class CriticalPointReport:
    """What :func:`critical_point` measured, and its verdict."""

    loss: float
    grad_norm: float
    eigenvalues: np.ndarray  # all of them (exact) or the extreme ones (Lanczos), ascending
    minimum_ratio: float  # share of positive eigenvalues (exact method only; nan for Lanczos)
    verdict: str  # 'local minimum', 'local maximum', 'saddle point' or 'not a critical point'
    method: str  # 'exact' or 'lanczos'
    n_params: int
    hessian: np.ndarray | None = field(default=None, repr=False)
    eigenvectors: np.ndarray | None = field(default=None, repr=False)

    @property
    def min_eigenvalue(self) -> float:
        return float(self.eigenvalues[0])

    @property
    def max_eigenvalue(self) -> float:
        return float(self.eigenvalues[-1])


def _flat_grad(loss, params, create_graph):
    grads = gg.autograd.grad(loss, params, create_graph=create_graph, allow_unused=True)
    grads = [gg.zeros_like(p) if g is None else g for p, g in zip(params, grads)]
    return gg.cat([g.reshape(-1) for g in grads])


def hessian_of(loss_fn: Callable[[], gg.Tensor], params: Sequence[gg.Tensor]) -> tuple[float, np.ndarray, np.ndarray]:
    """(loss, gradient, Hessian) of ``loss_fn()`` over all elements of ``params`` (in order), by
    double backprop: one backward pass per parameter for the Hessian's rows."""
    loss = loss_fn()
    g = _flat_grad(loss, params, create_graph=True)
    n = g.shape[0]
    hess = np.zeros((n, n))
    for i in range(n):
        if g.grad_fn is None:  # the gradient does not depend on the parameters: H = 0
            break
        rows = gg.autograd.grad(g[i], params, retain_graph=True, allow_unused=True)
        hess[i] = np.concatenate(
            [np.zeros(p.numel()) if r is None else r.detach().numpy().reshape(-1) for p, r in zip(params, rows)]
        )
    hess = (hess + hess.T) / 2  # symmetric up to rounding; make it exactly so for eigh
    return float(loss.item()), g.detach().numpy().copy(), hess


def hvp_operator(loss_fn: Callable[[], gg.Tensor], params: Sequence[gg.Tensor]):
    """A scipy ``LinearOperator`` v -> H v (two backward passes per product, H never formed)."""
    from scipy.sparse.linalg import LinearOperator  # imported here: scipy is slow to import

    loss = loss_fn()
    g = _flat_grad(loss, params, create_graph=True)
    n = g.shape[0]
    dtype = params[0].dtype.numpy

    def matvec(v):
        v = gg.tensor(np.asarray(v, dtype=dtype).reshape(-1))
        parts = gg.autograd.grad((g * v).sum(), params, retain_graph=True, allow_unused=True)
        return np.concatenate(
            [np.zeros(p.numel()) if r is None else r.detach().numpy().reshape(-1) for p, r in zip(params, parts)]
        )

    return LinearOperator((n, n), matvec=matvec, dtype=np.float64), float(loss.item()), g.detach().numpy().copy()


def classify(grad_norm: float, eigenvalues: np.ndarray, grad_tol: float = 1e-3, eig_tol: float = 1e-6) -> str:
    """The lecture's verdict: not critical if ||g|| >= grad_tol; else local minimum if every
    eigenvalue > -eig_tol (and some > eig_tol), local maximum if every one < eig_tol (and some
    < -eig_tol), saddle point if there are clearly positive and clearly negative ones."""
    if grad_norm >= grad_tol:
        return "not a critical point"
    has_pos = bool((eigenvalues > eig_tol).any())
    has_neg = bool((eigenvalues < -eig_tol).any())
    if has_pos and has_neg:
        return "saddle point"
    if has_neg:
        return "local maximum"
    if has_pos:
        return "local minimum"
    return "flat (all eigenvalues ~ 0): undecided"


def critical_point_of(
    loss_fn: Callable[[], gg.Tensor],
    params: Sequence[gg.Tensor],
    grad_tol: float = 1e-3,
    eig_tol: float = 1e-6,
    exact_limit: int = 4000,
    k: int = 6,
) -> CriticalPointReport:
    """Analyse the point ``params`` of ``loss_fn`` (a function of those tensors, which must
    require grad). Exact Hessian up to ``exact_limit`` parameters, else the ``k`` extreme
    eigenvalues at each end by Lanczos."""
    params = list(params)
    n = sum(p.numel() for p in params)
    if n <= exact_limit:
        loss, g, hess = hessian_of(loss_fn, params)
        eigenvalues, eigenvectors = np.linalg.eigh(hess)
        ratio = float((eigenvalues > 0).mean())
        gnorm = float(np.linalg.norm(g))
        return CriticalPointReport(loss, gnorm, eigenvalues, ratio, classify(gnorm, eigenvalues, grad_tol, eig_tol),
                                   "exact", n, hess, eigenvectors)
    from scipy.sparse.linalg import eigsh  # imported here: scipy is slow to import

    op, loss, g = hvp_operator(loss_fn, params)
    k = min(k, n - 1)
    low, low_vecs = eigsh(op, k=k, which="SA")
    high = eigsh(op, k=k, which="LA", return_eigenvectors=False)
    eigenvalues = np.sort(np.concatenate([low, high]))
    gnorm = float(np.linalg.norm(g))
    return CriticalPointReport(loss, gnorm, eigenvalues, float("nan"), classify(gnorm, eigenvalues, grad_tol, eig_tol),
                               "lanczos", n, None, low_vecs)


def critical_point(model, loss_fn, data, grad_tol: float = 1e-3, eig_tol: float = 1e-6,
                   exact_limit: int = 4000, k: int = 6) -> CriticalPointReport:
    """Gradient norm, Hessian eigenvalues, minimum ratio and verdict for ``model`` at its current
    weights, on ``data`` = (inputs, targets) with ``loss_fn(model(inputs), targets)``.

    The analysis runs on a float64 copy of the model (the model itself is not changed).
    """
    inputs, targets = data
    model64 = copy.deepcopy(model).double()
    x = inputs.double() if inputs.dtype.is_floating_point else inputs
    y = targets.double() if targets.dtype.is_floating_point else targets
    params = trainable_parameters(model64)
    return critical_point_of(lambda: loss_fn(model64(x), y), params, grad_tol, eig_tol, exact_limit, k)


def escape_saddle(loss_fn: Callable[[], gg.Tensor], params: Sequence[gg.Tensor], step: float = 0.1,
                  report: CriticalPointReport | None = None) -> tuple[float, float, np.ndarray]:
    """Step from a saddle along u, the eigenvector of the most negative eigenvalue: since
    L(theta' + t u) ~ L(theta') + 1/2 t^2 lambda with lambda < 0, the loss goes down.

    Returns (loss before, loss after, u); ``params`` are moved in place to theta' + step u.
    """
    params = list(params)
    report = report or critical_point_of(loss_fn, params)
    if report.eigenvectors is None:
        raise ValueError("escape_saddle: the report has no eigenvectors")
    u = report.eigenvectors[:, 0]
    if report.eigenvalues[0] >= 0:
        raise ValueError(f"escape_saddle: no negative eigenvalue (smallest is {report.eigenvalues[0]:.3g})")
    before = float(loss_fn().item())
    with gg.no_grad():
        for p, du in zip(params, flat_to_tensors(step * u, params)):
            p += du
    after = float(loss_fn().item())
    return before, after, u
