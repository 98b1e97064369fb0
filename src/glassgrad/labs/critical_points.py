"""Lecture 4: critical points. Where the gradient vanishes, the Hessian's eigenvalues tell a local
minimum (all positive) from a saddle point (mixed signs); in a network's high-dimensional
parameter space the critical points that training finds are mostly saddles.

- The lecture's worked example, L = (1 - w1 w2)^2 (the model y = w1 w2 x on one sample x = 1,
  y = 1): at (0, 0) the gradient is 0, H = [[0, -2], [-2, 0]] with eigenvalues 2 and -2, so
  (0, 0) is a saddle point; a step along u = [1, 1] (the eigenvector of -2) lowers the loss.
- The course's homework: fit sin(5 pi x) / (5 pi x) with a 1-128-1 ReLU network, train with Adam
  until the gradient is about zero (||g|| < 1e-3), and look at the point with the exact Hessian
  (385 x 385, float64, by double backprop). Its eigenvalues are checked against the loss itself: the
  curvature the Hessian predicts along a direction, 1/2 d^T H d t^2, must match what forward passes
  measure. Eigenvalues within a tolerance of the largest count as zero: nearly half of them are,
  since a ReLU that is off for every input has three parameters that change nothing.
- The "minimum ratio" is the share of positive eigenvalues (here among the non-zero ones). Over many
  runs: truly all-positive minima are rare; the negative eigenvalues are tiny next to the largest.
  A random symmetric matrix, or a wrong Hessian, has neither zero eigenvalues nor tiny negative
  ones, and fails the claims.
- The homework's second phase (minimizing ||g||^2) is run once and shown, not credited: it does not
  lower ||g|| measurably; the text says why.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.analysis import critical_point, critical_point_of, escape_saddle, model_loss_at
from glassgrad.labs._lab import Lab, LabContext

HIDDEN = 128
N_POINTS = 100  # x on an even grid over [-1, 1]
GRAD_TOL = 1e-3  # the homework's "the gradient is zero"
EIG_TOL = 1e-6  # the worked example: |eigenvalue| below this counts as zero
ZERO_TOL = 1e-11  # |eigenvalue| <= ZERO_TOL * lambda_max is zero: far above rounding (~1e-15), below the rest
NEG_BOUND = 1e-3  # a trained net's negative eigenvalues stay above -NEG_BOUND * lambda_max
FIT_MSE = 0.01  # the curve is fitted (mean of y^2 is 0.097; the untrained nets: 0.1 to 0.4)
FD_STEP = 1e-2  # step of the forward-pass curvature check ...
CURVATURE_DIRECTIONS = 2  # ... along the top eigenvectors ...
CURVATURE_TOL = 0.01  # ... which must agree with the Hessian to 1% (a wrong one: several %)
CREASE_TS = np.array([1e-4, 1e-3])  # where the curvature along the lowest eigenvector is measured
ADAM_STEPS = 8000
ADAM_LR = 3e-3
GRAD_NORM_STEPS = 100
GRAD_NORM_LR = 1e-5
QUICK_RUNS, FULL_RUNS = 12, 40


# ---------------------------------------------------------------- the worked example


def example_loss(w: gg.Tensor) -> gg.Tensor:
    """The lecture's L(w1, w2) = (1 - w1 w2)^2: the model y = w1 w2 x, one sample x = 1, y = 1."""
    return (1 - w[0] * w[1]) ** 2


ESCAPE_STEPS = 300


def descend_from(start: np.ndarray, steps: int = ESCAPE_STEPS) -> np.ndarray:
    """The loss before each of ``steps`` updates of gg.optim.SGD (lr 0.1) on the worked example."""
    w = gg.tensor(start, dtype=gg.float64, requires_grad=True)
    opt = gg.optim.SGD([w], lr=0.1)
    losses = np.empty(steps)
    for t in range(steps):
        opt.zero_grad()
        loss = example_loss(w)
        loss.backward()
        losses[t] = loss.item()
        opt.step()
    return losses


def worked_example(ctx: LabContext, step: float = 0.5) -> None:
    import matplotlib.pyplot as plt

    w = gg.zeros(2, dtype=gg.float64, requires_grad=True)
    report = critical_point_of(lambda: example_loss(w), [w], grad_tol=GRAD_TOL, eig_tol=EIG_TOL)
    lecture_h = np.array([[0.0, -2.0], [-2.0, 0.0]])
    ctx.claim(
        "Worked example L = (1 - w1 w2)^2 at (0, 0): the gradient is 0 and H = [[0, -2], [-2, 0]], with "
        "eigenvalues -2 and 2: a saddle point",
        f"||g|| = {report.grad_norm:.3g}, H = {report.hessian.tolist()}, eigenvalues {report.eigenvalues.tolist()}, "
        f"verdict '{report.verdict}'",
        report.grad_norm == 0 and np.allclose(report.hessian, lecture_h, rtol=0, atol=1e-12)
        and np.allclose(report.eigenvalues, [-2.0, 2.0], rtol=0, atol=1e-12) and report.verdict == "saddle point",
        expected="||g|| = 0, eigenvalues -2, 2",
    )
    before, after, u = escape_saddle(lambda: example_loss(w), [w], step=step, report=report)
    alignment = abs(float(u @ np.array([1.0, 1.0]))) / np.sqrt(2)
    v = report.eigenvectors[:, 1]  # the eigenvector of +2, along [1, -1]
    with gg.no_grad():
        uphill = example_loss(gg.tensor(step * v)).item()
    ctx.claim(
        f"Moving from the saddle along u = [1, 1] (the eigenvector of -2) lowers the loss; along [1, -1] "
        f"(eigenvalue +2) it rises (steps of length {step})",
        f"|cos(u, [1, 1])| = {alignment:.6f}; L: {before:.4g} -> {after:.4g} along u, {uphill:.4g} along [1, -1] "
        f"(theory (1 -/+ t^2/2)^2 = {(1 - step ** 2 / 2) ** 2:.4g} / {(1 + step ** 2 / 2) ** 2:.4g})",
        alignment > 1 - 1e-12 and after < before < uphill,
        expected="|cos| = 1; L(along u) < 1 < L(along [1, -1])",
    )
    at_saddle, escaped = descend_from(np.zeros(2)), descend_from(1e-3 * u)
    # frozen: still at the saddle (L = 1); ascent: climbs away, L grows
    ctx.claim(
        "Gradient descent (gg.optim.SGD, lr 0.1) started exactly at the saddle never moves (g = 0); started a "
        "tiny step 0.001 along u, it escapes and reaches the valley of minima w1 w2 = 1",
        f"L after {ESCAPE_STEPS} updates: {at_saddle[-1]:.3g} from the saddle, {escaped[-1]:.2g} from 0.001 u",
        at_saddle[-1] == 1.0 and escaped[-1] < 1e-10,
        expected="1 from the saddle, < 1e-10 from 0.001 u",
    )
    ctx.result("example", {"hessian": report.hessian, "eigenvalues": report.eigenvalues, "u": u,
                           "loss_before": before, "loss_after": after, "loss_uphill": uphill,
                           "escape_losses": escaped})

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5), gridspec_kw={"width_ratios": [1.15, 1]})
    grid = np.linspace(-2, 2, 301)
    w1, w2 = np.meshgrid(grid, grid)
    surface = (1 - w1 * w2) ** 2
    contours = ax1.contourf(w1, w2, np.log10(surface + 1e-3), levels=30, cmap="viridis")
    fig.colorbar(contours, ax=ax1, label="log10(L + 0.001)")
    hyperbola = np.linspace(0.5, 2, 100)
    for sign in (1, -1):
        ax1.plot(sign * hyperbola, sign / hyperbola, "w--", lw=1.2, label="w1 w2 = 1 (L = 0)" if sign > 0 else None)
    ax1.plot(0, 0, "r*", ms=14, label="saddle (0, 0)")
    for vec, color, name in ((u, "tab:red", "eigenvalue -2"), (v, "tab:cyan", "eigenvalue +2")):
        for sign in (1, -1):
            ax1.annotate("", xy=sign * vec, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": color, "lw": 2})
        ax1.plot([], [], color=color, lw=2, label=f"eigenvector of {name}")
    moved = w.detach().numpy()
    ax1.plot(*moved, "o", color="tab:orange", ms=8, label=f"escape step: L = {after:.3f}")
    ax1.set(xlabel="w1", ylabel="w2", title="L(w1, w2) = (1 - w1 w2)^2", aspect="equal", xlim=(-2, 2), ylim=(-2, 2))
    ax1.legend(loc="lower left", fontsize=8, facecolor="0.7", framealpha=0.9)
    t = np.linspace(-1.6, 1.6, 200)
    ax2.plot(t, (1 - t ** 2 / 2) ** 2, color="tab:red", label="along u = [1, 1] / sqrt(2) (eigenvalue -2)")
    ax2.plot(t, (1 + t ** 2 / 2) ** 2, color="tab:cyan", label="along [1, -1] / sqrt(2) (eigenvalue +2)")
    ax2.plot(t, 1 - t ** 2, "r:", label="1 + 1/2 (-2) t^2 (second-order Taylor)")
    ax2.set(xlabel="distance t from the saddle", ylabel="L", ylim=(0, 3), title="The loss along the two eigenvectors")
    ax2.legend(fontsize=8)
    ctx.figure("saddle_example", fig)


# ---------------------------------------------------------------- the homework: training runs


def sinc_data() -> tuple[gg.Tensor, gg.Tensor]:
    """N_POINTS samples of y = sin(5 pi x) / (5 pi x) on an even grid over [-1, 1] (float64)."""
    x = np.linspace(-1, 1, N_POINTS)
    return gg.tensor(x[:, None]), gg.tensor(np.sinc(5 * x)[:, None])  # np.sinc(t) = sin(pi t) / (pi t)


def make_net() -> nn.Module:
    """The homework's network: 1 input, 128 ReLUs, 1 output (385 parameters), in float64."""
    return nn.Sequential(nn.Linear(1, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 1)).double()


def dead_and_linear_units(model: nn.Module, x: gg.Tensor) -> tuple[int, int]:
    """How many hidden ReLUs are off for every input in ``x`` (dead: their three parameters do
    nothing) and how many are on for every input (together they are one linear function)."""
    with gg.no_grad():
        pre_activation = (x @ model[0].weight.T + model[0].bias).numpy()
    return int((pre_activation <= 0).all(axis=0).sum()), int((pre_activation > 0).all(axis=0).sum())


@dataclass
class Run:
    """One training run of the homework's network: the trained model and its curves."""

    seed: int
    model: nn.Module
    losses: np.ndarray  # MSE before each Adam step
    grad_norms: np.ndarray  # ||g|| before each Adam step
    dead_at_init: int


def train_run(seed: int, x: gg.Tensor, y: gg.Tensor, steps: int = ADAM_STEPS) -> Run:
    """Phase 1 of the homework: full-batch Adam on the MSE, its learning rate decayed to 0 by a
    cosine schedule, so that the last steps are too small to jump about and ||g|| can settle."""
    gg.manual_seed(seed)
    model = make_net()
    params = list(model.parameters())
    dead_at_init = dead_and_linear_units(model, x)[0]
    opt = gg.optim.Adam(params, lr=ADAM_LR)
    schedule = gg.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    losses, grad_norms = np.empty(steps), np.empty(steps)
    for t in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        losses[t] = loss.item()
        grad_norms[t] = np.sqrt(sum(float((p.grad.numpy() ** 2).sum()) for p in params))
        opt.step()
        schedule.step()
    return Run(seed, model, losses, grad_norms, dead_at_init)


def squared_grad_norm(model: nn.Module, x: gg.Tensor, y: gg.Tensor) -> gg.Tensor:
    """||dL/dtheta||^2 as a differentiable tensor: the gradient is computed with create_graph=True,
    so backward() through this gives 2 H g (double backprop)."""
    loss = nn.functional.mse_loss(model(x), y)
    grads = gg.autograd.grad(loss, list(model.parameters()), create_graph=True)
    return sum((g * g).sum() for g in grads)


def minimize_grad_norm(model: nn.Module, x: gg.Tensor, y: gg.Tensor, steps: int = GRAD_NORM_STEPS) -> np.ndarray:
    """Phase 2 of the homework, on a copy of ``model``: Adam on ||g||^2 (its gradient 2 H g by
    double backprop). Returns ||g|| before each step; the model itself is not changed."""
    model = copy.deepcopy(model)
    opt = gg.optim.Adam(model.parameters(), lr=GRAD_NORM_LR)
    norms = []
    for _ in range(steps + 1):
        opt.zero_grad()
        sq = squared_grad_norm(model, x, y)
        norms.append(float(np.sqrt(sq.item())))
        sq.backward()
        opt.step()
    return np.array(norms)


# ---------------------------------------------------------------- the homework: reading the Hessian


@dataclass
class HessianShape:
    """The signs of a Hessian's eigenvalues; |lambda| <= ZERO_TOL * lambda_max counts as zero."""

    positive: int
    negative: int
    zero: int
    lowest_relative: float  # lambda_min / lambda_max

    @property
    def minimum_ratio(self) -> float:
        """The lecture's minimum ratio, the share of positive eigenvalues, counted among the non-zero
        ones (the zero ones are flat directions whose sign is rounding noise)."""
        return self.positive / max(self.positive + self.negative, 1)


def hessian_shape(eigenvalues: np.ndarray) -> HessianShape:
    """Count positive, negative and zero eigenvalues, zero meaning within ZERO_TOL of the largest."""
    top = float(np.abs(eigenvalues).max())
    tol = ZERO_TOL * top
    positive, negative = int((eigenvalues > tol).sum()), int((eigenvalues < -tol).sum())
    return HessianShape(positive, negative, len(eigenvalues) - positive - negative,
                        float(eigenvalues.min() / max(eigenvalues.max(), 1e-300)))


def trained_net_shape(shape: HessianShape, dead_units: int) -> bool:
    """The check behind the claim on the Hessian's shape: at least three zero eigenvalues per dead
    ReLU (its weight, bias and outgoing weight change nothing, so their rows of H are exactly 0), and
    negative eigenvalues, if any, tiny: lambda_min >= -NEG_BOUND * lambda_max. A random symmetric
    matrix fails both (no zero eigenvalues; lambda_min about -lambda_max), and so does H + S for a
    random symmetric S of any noticeable size."""
    return shape.zero >= 3 * dead_units and shape.lowest_relative >= -NEG_BOUND


def curvature_error(hessian: np.ndarray, loss_at, theta: np.ndarray, count: int = CURVATURE_DIRECTIONS,
                    t: float = FD_STEP) -> float:
    """How far ``hessian`` is from the loss's own curvature, measured with forward passes only.

    Along each of the ``count`` top eigenvectors d of ``hessian``, the even part
    (L(theta + t d) + L(theta - t d)) / 2 - L(theta) cancels the slope g.d t and leaves
    1/2 d^T H d t^2 (exactly, on the smooth piece of the loss around theta). Returns the largest
    relative difference between the two. The steep directions are used because the flat ones
    cross creases of the ReLU network's loss (see ``Point.crease``), where the loss is not smooth.
    A Hessian that is not this loss's (a wrong one, or any random matrix) is off by percents.
    """
    eigenvectors = np.linalg.eigh(hessian)[1]
    base = loss_at(theta)
    errors = []
    for d in eigenvectors[:, -count:].T:
        even = (loss_at(theta + t * d) + loss_at(theta - t * d)) / 2 - base
        predicted = 0.5 * float(d @ hessian @ d) * t * t
        errors.append(abs(even - predicted) / max(abs(even), 1e-300))
    return float(max(errors))


def even_part_along(loss_at, theta: np.ndarray, direction: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """(L(theta + t d) + L(theta - t d)) / 2 - L(theta) for each t: the loss's curvature along d."""
    base = loss_at(theta)
    return np.array([(loss_at(theta + t * direction) + loss_at(theta - t * direction)) / 2 - base for t in ts])


@dataclass
class Point:
    """Where one run ended, read through its exact Hessian."""

    loss: float
    grad_norm: float
    eigenvalues: np.ndarray
    shape: HessianShape
    dead_units: int
    linear_units: int
    curvature_error: float
    lowest_even: np.ndarray  # even part of the loss along the lowest eigenvector, at CREASE_TS
    newton_distance: float  # || sum_i (v_i . g) / lambda_i v_i || over the non-zero eigenvalues

    @property
    def critical(self) -> bool:
        return self.grad_norm < GRAD_TOL

    @property
    def crease(self) -> bool:
        """The loss curves *up* along the lowest eigenvector and grows like |t| rather than t^2:
        a ReLU's kink sits on a data point there, and the Hessian only describes one side of it."""
        even = self.lowest_even
        return bool((even > 0).all() and even[-1] / even[0] < 0.3 * (CREASE_TS[-1] / CREASE_TS[0]) ** 2)


def analyse(model: nn.Module, x: gg.Tensor, y: gg.Tensor) -> Point:
    """Exact Hessian (float64, double backprop) at the model's point, its eigenvalues' signs, and
    checks of it against the loss itself."""
    report = critical_point(model, nn.functional.mse_loss, (x, y), grad_tol=GRAD_TOL)
    loss_at, theta = model_loss_at(model, nn.functional.mse_loss, (x, y))
    ev, vecs, hess = report.eigenvalues, report.eigenvectors, report.hessian
    shape = hessian_shape(ev)
    grads = gg.autograd.grad(nn.functional.mse_loss(model(x), y), list(model.parameters()))
    g = np.concatenate([gr.numpy().reshape(-1) for gr in grads])
    nonzero = np.abs(ev) > ZERO_TOL * np.abs(ev).max()
    newton = np.linalg.norm(vecs[:, nonzero] @ ((vecs[:, nonzero].T @ g) / ev[nonzero]))
    dead, linear = dead_and_linear_units(model, x)
    return Point(
        loss=report.loss, grad_norm=report.grad_norm, eigenvalues=ev, shape=shape, dead_units=dead,
        linear_units=linear,
        curvature_error=curvature_error(hess, loss_at, theta),
        lowest_even=even_part_along(loss_at, theta, vecs[:, 0], CREASE_TS), newton_distance=float(newton),
    )


# ---------------------------------------------------------------- the homework: claims


def reach_critical_points(ctx: LabContext, x: gg.Tensor, y: gg.Tensor) -> tuple[list[Run], list[Point]]:
    """Train the runs, analyse where each ended, and check that they are critical points."""
    n_runs = ctx.size(QUICK_RUNS, FULL_RUNS)
    runs, points = [], []
    for r in ctx.bar(range(n_runs), desc="runs"):
        runs.append(train_run(ctx.seed * 1000 + r, x, y))
        points.append(analyse(runs[-1].model, x, y))
    n_critical = sum(p.critical for p in points)
    losses = np.array([p.loss for p in points])
    norms = np.array([p.grad_norm for p in points])
    needed = int(np.ceil(0.9 * n_runs))
    # frozen optimizers leave the initial net (MSE 0.1 to 0.4, ||g|| about 2 to 6); ascent blows up
    ctx.claim(
        f"Adam, its learning rate decayed to 0, ends at critical points: ||g|| < {GRAD_TOL:g} with the curve "
        f"fitted (MSE < {FIT_MSE:g}), for the 1-128-1 ReLU net ({len(points[0].eigenvalues)} parameters) on "
        "sin(5 pi x)/(5 pi x)",
        f"{n_critical} of {n_runs} runs; ||g|| {norms.min():.2g} to {norms.max():.2g}, MSE {losses.min():.2g} to "
        f"{losses.max():.2g}",
        n_critical >= needed and losses.max() < FIT_MSE,
        expected=f">= {needed} of {n_runs} runs",
    )
    return runs, points


def hessian_claims(ctx: LabContext, points: list[Point]) -> list[Point]:
    """The lecture's reading of the Hessian at the critical points, checked against the loss. When
    training did not reach enough critical points (a broken library), each claim fails and says so."""
    critical = [p for p in points if p.critical]
    enough = len(critical) >= max(2, int(np.ceil(0.9 * len(points))))
    missing = f"only {len(critical)} of {len(points)} runs reached a critical point"
    n_params = len(points[0].eigenvalues)

    def measured(text: Callable[[], str]) -> str:
        return text() if critical else missing

    errors = np.array([p.curvature_error for p in critical])
    # a wrong Hessian (H + S) or a random matrix: errors of several percent or more
    ctx.claim(
        "The Hessian from double backprop is the loss's curvature at each critical point: along its "
        f"{CURVATURE_DIRECTIONS} top eigenvectors d, (L(theta + t d) + L(theta - t d))/2 - L(theta) (forward passes "
        f"only, t = {FD_STEP:g}) matches 1/2 d^T H d t^2",
        measured(lambda: f"largest relative difference {errors.max():.2g} over {len(critical)} critical points"),
        enough and bool(errors.max() < CURVATURE_TOL),
        expected=f"< {CURVATURE_TOL:g}",
    )
    shapes = [p.shape for p in critical]
    fits = [trained_net_shape(p.shape, p.dead_units) for p in critical]
    lowest = np.array([s.lowest_relative for s in shapes])
    ratios = np.array([s.minimum_ratio for s in shapes])
    # a random symmetric matrix: no zero eigenvalue, lambda_min/lambda_max about -1
    ctx.claim(
        f"Counting |lambda| <= {ZERO_TOL:g} lambda_max as zero, a trained net's Hessian has exactly flat "
        "directions (at least 3 zero eigenvalues per dead ReLU), curves up in every steep direction, and its "
        "negative eigenvalues are "
        f"tiny (lambda_min > -{NEG_BOUND:g} lambda_max) at every critical point",
        measured(lambda: f"{sum(fits)} of {len(critical)}; zero {min(s.zero for s in shapes)} to "
                 f"{max(s.zero for s in shapes)} of {n_params}; lambda_min/lambda_max {lowest.min():.2g} to "
                 f"{lowest.max():.2g}; minimum ratio (among non-zero) {ratios.min():.2f} to {ratios.max():.2f}"),
        enough and all(fits),
        expected=f"all of the critical points ({len(critical)})",
    )
    minima = sum(s.negative == 0 for s in shapes)
    # a wrong or random Hessian fails the shape check this claim includes
    ctx.claim(
        "Truly all-positive minima are rare: by the eigenvalue test (with the tolerance above) at most 1 in 10 "
        "critical points has no negative eigenvalue, on Hessians of the trained net's shape",
        measured(lambda: f"{minima} of {len(critical)} critical points; negative eigenvalues per point "
                 f"{min(s.negative for s in shapes)} to {max(s.negative for s in shapes)}"),
        enough and all(fits) and minima <= 0.1 * len(critical),
        expected=f"<= {int(0.1 * len(critical))} of {len(critical)}",
    )
    return critical


def homework(ctx: LabContext) -> None:
    x, y = sinc_data()
    runs, points = reach_critical_points(ctx, x, y)
    critical = hessian_claims(ctx, points)
    phase2 = minimize_grad_norm(runs[0].model, x, y)
    ctx.result("runs", [{
        "seed": r.seed, "loss": p.loss, "grad_norm": p.grad_norm, "positive": p.shape.positive,
        "negative": p.shape.negative, "zero": p.shape.zero, "minimum_ratio": p.shape.minimum_ratio,
        "lambda_min": float(p.eigenvalues[0]), "lambda_max": float(p.eigenvalues[-1]),
        "curvature_error": p.curvature_error, "crease": p.crease, "dead_units": p.dead_units,
        "linear_units": p.linear_units, "newton_distance": p.newton_distance,
    } for r, p in zip(runs, points)])
    ctx.result("grad_norm_phase2_run0", {"start": phase2[0], "smallest": phase2.min(), "end": phase2[-1]})
    if critical:
        _homework_text(ctx, runs, points, critical, phase2)
    _homework_figures(ctx, runs, points, x, y, phase2)


def _homework_text(ctx: LabContext, runs: list[Run], points: list[Point], critical: list[Point],
                   phase2: np.ndarray) -> None:
    n, n_params = len(critical), len(points[0].eigenvalues)
    ratios = np.array([p.shape.minimum_ratio for p in critical])
    raw_ratio = np.array([float((p.eigenvalues > 0).mean()) for p in critical])
    lowest = np.array([p.eigenvalues[0] for p in critical])
    highest = np.array([p.eigenvalues[-1] for p in critical])
    creases = sum(p.crease for p in critical)
    relative = [np.abs(p.eigenvalues) / p.eigenvalues[-1] for p in critical]
    zeros = np.concatenate([r[r <= ZERO_TOL] for r in relative])  # the exact zeros, as computed
    below = float((zeros < 1e-15).mean())
    sparse = sum(int(((r > 1e-14) & (r < 1e-9)).sum()) for r in relative)
    coarse = 1e-6  # a coarser tolerance, for comparison
    between = np.array([int(((r > ZERO_TOL) & (r <= coarse)).sum()) for r in relative])
    coarse_ratio = np.array([float((p.eigenvalues[r > coarse] > 0).mean()) for p, r in zip(critical, relative)])
    coarse_minima = sum(not (p.eigenvalues[r > coarse] < 0).any() for p, r in zip(critical, relative))
    down = sum(bool((p.lowest_even < 0).all()) for p in critical)
    newton = np.array([p.newton_distance for p in critical])
    theta_norm = np.sqrt(sum(float((q.detach().numpy() ** 2).sum()) for q in runs[0].model.parameters()))
    rows = "\n".join(
        f"| {i} | {p.loss:.2e} | {p.grad_norm:.2e} | {p.shape.positive} | {p.shape.negative} | {p.shape.zero} | "
        f"{p.shape.minimum_ratio:.2f} | {p.eigenvalues[0]:.1e} / {p.eigenvalues[-1]:.0f} | {p.curvature_error:.1e} | "
        f"{p.dead_units} / {p.linear_units} | {'yes' if p.crease else 'no'} |"
        for i, p in enumerate(points)
    )
    ctx.write(
        f"Each run: {ADAM_STEPS:,} full-batch Adam steps on the MSE over {N_POINTS} points (learning rate "
        f"{ADAM_LR:g}, cosine decay to 0), then the exact Hessian in float64 by double backprop. An eigenvalue "
        f"counts as zero when |lambda| <= {ZERO_TOL:g} lambda_max. The minimum ratio is the share of positive "
        "eigenvalues among the non-zero ones. 'Curvature check': the largest relative difference between the "
        "Hessian's prediction 1/2 d^T H d t^2 and the loss's measured even part along its "
        f"{CURVATURE_DIRECTIONS} top eigenvectors. 'Crease': along the lowest eigenvector the loss curves up, like |t| "
        "(see below).\n\n"
        "| run | MSE | ‖g‖ | λ > 0 | λ < 0 | λ = 0 | minimum ratio | λmin / λmax | curvature check | "
        "dead / linear ReLUs | crease |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n" + rows
    )
    ctx.write(
        "| | lecture | ours |\n| --- | --- | --- |\n"
        "| minimum ratio of trained networks | rarely above about 0.6 | "
        f"{ratios.min():.2f} to {ratios.max():.2f} among non-zero eigenvalues; "
        f"{raw_ratio.min():.2f} to {raw_ratio.max():.2f} counting every eigenvalue > 0 as "
        f"positive, over {n} critical points |\n"
        f"| points with all eigenvalues positive | rare | {sum(p.shape.negative == 0 for p in critical)} of {n} |"
    )
    ctx.write(
        f"**What else we see.** (1) {min(p.shape.zero for p in critical)} to {max(p.shape.zero for p in critical)} "
        f"of the {n_params} eigenvalues are zero. In exact arithmetic they are 0: a ReLU that is off for every x "
        "has three parameters that change nothing, and ReLUs that are on for every x act together as one linear "
        f"function, with redundant parameters. Computed, {below:.0%} of them come out below 1e-15 lambda_max, "
        "with signs set by rounding. The tolerance sits in the sparse stretch between that noise and the "
        f"bulk of the small eigenvalues (1e-9 to 1e-5 lambda_max): over all {n} points only {sparse} eigenvalues "
        "lie between 1e-14 and 1e-9 lambda_max, so the counts hardly depend on where in it the tolerance goes. "
        "Counting every eigenvalue > 0 as positive, as "
        "the homework does, lets the noise signs pull the ratio towards 0.5 "
        f"({raw_ratio.min():.2f} to {raw_ratio.max():.2f}); a random symmetric matrix gives 0.5 too, which is why "
        "the claims set the zero eigenvalues apart and bound the negative ones. Among the non-zero eigenvalues "
        f"{ratios.min():.2f} to {ratios.max():.2f} are positive, close to the lecture's 'about 0.6'. Where zero "
        f"ends matters, though: {between.min()} to {between.max()} of the non-zero eigenvalues per point are "
        f"smaller than {coarse:g} lambda_max, of both signs. With that coarser tolerance the share of positive "
        f"ones would be {coarse_ratio.min():.2f} to {coarse_ratio.max():.2f}, and {coarse_minima} of {n} points "
        "would have no negative eigenvalue left: the lecture's picture of saddles rests on these tiny "
        "eigenvalues.\n\n"
        f"(2) The negative eigenvalues are tiny ({lowest.min():.1e} to {lowest.max():.1e}, against a largest of "
        f"{highest.min():.0f} to {highest.max():.0f}), but far above the rounding noise "
        "(below 1e-15 lambda_max). Along the eigenvector u of the most negative one the loss "
        f"curves down, as the eigenvalue says, in {down} of {n} points; in {creases} it curves *up*, and its even "
        f"part grows like |t|, not t^2 (measured at t = {CREASE_TS[0]:g} and {CREASE_TS[-1]:g}): the point sits on "
        "a crease, where a ReLU's kink passes through a data point. The Hessian there is the curvature of one "
        "smooth piece of the loss; Adam's shrinking steps settle on such creases because the slope changes sign "
        "across them. For ReLU networks the eigenvalue test is a statement about that piece, not a promise that "
        "the saddle can be escaped.\n\n"
        f"(3) The homework's second phase, minimizing ||g||^2 by Adam steps (lr {GRAD_NORM_LR:g}, gradient 2 H g by "
        f"double backprop), changes ||g|| of run 0 by a factor of {phase2.min() / phase2[0]:.2f} at best in "
        f"{GRAD_NORM_STEPS} steps, so we do not use it. Newton's method shows why: cancelling the remaining "
        "gradient along the Hessian's own eigenvectors, sum_i (v_i . g) / lambda_i v_i over the non-zero ones, "
        f"would move the parameters by {newton.min():.2g} to {newton.max():.2g} (the whole parameter vector of "
        f"run 0 has length {theta_norm:.1f}): what is left of g lies along nearly flat directions, and a step that "
        "long crosses kinks, where g jumps."
    )


def _homework_figures(ctx: LabContext, runs: list[Run], points: list[Point], x: gg.Tensor, y: gg.Tensor,
                      phase2: np.ndarray) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(16, 4))
    grid = np.linspace(-1, 1, 400)
    ax1.plot(grid, np.sinc(5 * grid), "k", lw=2, label="sin(5 pi x) / (5 pi x)")
    with gg.no_grad():
        xs = gg.tensor(grid[:, None])
        for i, run_ in enumerate(runs[:5]):
            ax1.plot(grid, run_.model(xs).numpy()[:, 0], lw=1, alpha=0.8, label=f"run {i}")
    ax1.plot(x.numpy()[:, 0], y.numpy()[:, 0], ".", color="grey", ms=3, label="training points")
    ax1.set(xlabel="x", ylabel="y", title="1-128-1 ReLU fits")
    ax1.legend(fontsize=7)
    for i, run_ in enumerate(runs[:5]):
        ax2.plot(np.arange(1, len(run_.grad_norms) + 1), run_.grad_norms, lw=0.6, alpha=0.8, label=f"run {i}")
    ax3.plot(phase2, lw=1.2, color="tab:blue", label="run 0")
    for ax in (ax2, ax3):
        ax.axhline(GRAD_TOL, color="k", ls=":", label=f"||g|| = {GRAD_TOL:g}")
        ax.set(yscale="log", ylabel="||g||")
        ax.legend(fontsize=7, loc="upper right")
    ax2.set(xlabel="Adam step (loss = MSE)", title="Adam on the loss, lr decayed to 0")
    ax3.set(xlabel="Adam step (loss = ||g||^2)",
            title=f"The homework's phase 2 (not used): ||g|| x {phase2.min() / phase2[0]:.2f} at best")
    ctx.figure("homework_training", fig)

    example = points[0]
    ev = example.eigenvalues
    tol = ZERO_TOL * np.abs(ev).max()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4))
    colors = np.where(ev > tol, "tab:blue", np.where(ev < -tol, "tab:red", "grey"))
    axes[0].scatter(np.arange(len(ev)), ev, c=colors, s=6)
    axes[0].set_yscale("symlog", linthresh=tol)
    axes[0].axhspan(-tol, tol, color="grey", alpha=0.15)
    axes[0].set(xlabel="index (ascending)", ylabel="eigenvalue (symlog)",
                title=f"Hessian spectrum, run 0: {example.shape.negative} < 0, {example.shape.zero} zero, "
                      f"{example.shape.positive} > 0")
    mags = np.log10(np.abs(ev) / np.abs(ev).max() + 1e-300)
    axes[1].hist([mags[ev > 0], mags[ev < 0]], bins=np.linspace(-20, 0, 41), color=["tab:blue", "tab:red"],
                 label=["lambda > 0", "lambda < 0"])
    axes[1].axvline(np.log10(ZERO_TOL), color="k", ls=":", label=f"zero below {ZERO_TOL:g} lambda_max")
    axes[1].set(xlabel="log10 (|lambda| / lambda_max)", ylabel="count", title="Magnitudes: most are flat")
    axes[1].legend(fontsize=8)
    for p, i in zip(points[:5], range(5)):
        axes[2].plot(CREASE_TS, p.lowest_even, "o-", label=f"run {i}: measured" if i == 0 else None, color=f"C{i}")
        axes[2].plot(CREASE_TS, 0.5 * p.eigenvalues[0] * CREASE_TS ** 2, ":", color=f"C{i}",
                     label="Hessian: 1/2 lambda_min t^2" if i == 0 else None)
    axes[2].set(xscale="log", xlabel="t", ylabel="even part of L along u",
                title="Along u (lambda_min's eigenvector): > 0 on a crease")
    axes[2].set_yscale("symlog", linthresh=1e-14)
    axes[2].legend(fontsize=8)
    ctx.figure("hessian_spectrum", fig)

    critical = [p for p in points if p.critical]
    fig, ax = plt.subplots(figsize=(9, 3.8))
    bins = np.linspace(0, 1, 101)
    ax.hist([float((p.eigenvalues > 0).mean()) for p in critical], bins=bins, alpha=0.7,
            label="share of eigenvalues > 0 (zeros' noise signs included)")
    ax.hist([p.shape.minimum_ratio for p in critical], bins=bins, alpha=0.7,
            label=f"minimum ratio: share > 0 among non-zero (|lambda| > {ZERO_TOL:g} lambda_max)")
    ax.axvline(0.6, color="tab:red", ls="--", label="lecture: rarely above ~0.6")
    ax.axvline(1.0, color="tab:green", lw=2, label="all positive (ratio 1)")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="ratio", ylabel="critical points", title=f"Minimum ratios of the {len(critical)} critical points")
    ax.legend(fontsize=8, loc="upper left")
    ctx.figure("minimum_ratios", fig)


def run(ctx: LabContext) -> None:
    worked_example(ctx)
    homework(ctx)


LAB = Lab(
    name="critical-points",
    lecture="Lecture 4",
    title="Local minimum and saddle point",
    summary="the (1 - w1 w2)^2 saddle and its escape direction; Hessians of trained 1-128-1 ReLU nets",
    run=run,
)
