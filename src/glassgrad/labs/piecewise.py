"""Lecture 2: any piecewise-linear curve is a constant plus a sum of hard sigmoids; a hard sigmoid
is two ReLUs, or approximately one sigmoid; more pieces fit a curve better.

Facts of arithmetic, shown in the report's prose and figures: a hard sigmoid (flat, a straight
ramp, flat) is c clip((x - a) / (b - a), 0, 1) = c / (b - a) (relu(x - a) - relu(x - b)); a curve
of K segments is a constant plus one hard sigmoid per segment (its height the segment's rise), so
2K ReLUs; the area between c sigmoid(w x) and a step of height c is 2 ln 2 c / w.

Claims, each a measurement with glassgrad (a forward pass, autograd, or training with an
optimizer), so that a broken library fails them:

- Built from glassgrad's ReLUs, random piecewise-linear curves come out exactly, and the slope
  autograd computes on each segment is the segment's rise over its run.
- Gradient descent finds the two ReLUs of a hard sigmoid: a network of 2 ReLUs trained on one fits
  it exactly; 1 ReLU cannot.
- A sigmoid fitted by gradient descent to a hard sigmoid of ramp width d takes a steepness w
  proportional to 1 / d; fitted to a step (width 0) it keeps getting steeper, since no w is best.
- More pieces, better fit: networks of k = 1 ... 32 sigmoids or ReLUs trained by gradient descent
  have an error that falls as k grows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.labs._lab import Lab, LabContext

PIECES = (1, 2, 4, 8, 16, 32)
# the curve of the first figure: knots and values (like the lecture's red curve)
KNOTS = np.array([0.0, 0.15, 0.35, 0.55, 0.7, 1.0])
VALUES = np.array([0.4, 1.2, 0.5, 0.9, -0.2, 0.6])
RAMP_WIDTHS = (0.5, 1.0, 2.0)  # hard sigmoids a sigmoid is fitted to


def target(x: np.ndarray) -> np.ndarray:
    """The smooth curve fitted with more and more pieces (two bumps on [-1, 1])."""
    return np.sin(1.5 * np.pi * x + 0.3) + 0.4 * x * np.sin(5 * x)


def hard_sigmoid(x: gg.Tensor, a: float, b: float, height: float) -> gg.Tensor:
    """0 left of a, ``height`` right of b, a straight ramp in between: the difference of two ReLUs."""
    return height / (b - a) * (F.relu(x - a) - F.relu(x - b))


def piecewise_linear(x: gg.Tensor, knots: np.ndarray, values: np.ndarray) -> gg.Tensor:
    """The curve through (knots[i], values[i]), constant outside, as values[0] plus one hard
    sigmoid per segment (rising by the segment's change in value over the segment)."""
    y = gg.full_like(x, float(values[0]))
    for a, b, lo, hi in zip(knots[:-1], knots[1:], values[:-1], values[1:]):
        y = y + hard_sigmoid(x, float(a), float(b), float(hi - lo))
    return y


def sigmoid_for(x: np.ndarray, a: float, b: float, height: float, w: float) -> np.ndarray:
    """height * sigmoid(w (x - m)), centred on the ramp's middle m = (a + b) / 2 (glassgrad's sigmoid)."""
    return height * F.sigmoid(gg.tensor(w * (x - (a + b) / 2))).numpy()


class ParallelNets(nn.Module):
    """``runs`` independent one-hidden-layer networks of the same shape, trained at once:
    y_r(x) = b_r + sum_i c_ri act(w_ri x + b_ri) for r = 1..runs.

    The training loss is the sum of the runs' losses, so each run's gradient is its own, and
    Adam (which works coordinate by coordinate) updates each run exactly as if it were alone.
    The hidden units start spread over the inputs: unit i has its bend (ReLU) or middle (sigmoid)
    at a random point of [-1, 1], slope +-1 (ReLU) or +-2k (sigmoid: ramps about as wide as the
    spacing of k pieces).
    """

    def __init__(self, runs: int, pieces: int, act: str, rng: np.random.Generator):
        super().__init__()
        centre = rng.uniform(-1, 1, (runs, pieces))
        slope = rng.choice([-1.0, 1.0], (runs, pieces)) * (1.0 if act == "relu" else 2.0 * pieces)
        self.act = F.relu if act == "relu" else F.sigmoid
        self.w = nn.Parameter(gg.tensor(slope))
        self.b = nn.Parameter(gg.tensor(-slope * centre))
        self.c = nn.Parameter(gg.tensor(rng.uniform(-1, 1, (runs, pieces)) / np.sqrt(pieces)))
        self.bias = nn.Parameter(gg.zeros(runs, dtype=gg.float64))

    def forward(self, x: gg.Tensor) -> gg.Tensor:
        """x: (N,) -> (N, runs)."""
        h = self.act(x[:, None, None] * self.w + self.b)
        return (h * self.c).sum(-1) + self.bias


def fit_pieces(x: np.ndarray, y: np.ndarray, pieces: int, act: str, runs: int, steps: int, lr: float,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Train ``runs`` networks of ``pieces`` units on the MSE (full batch, Adam, cosine decay);
    returns each run's final root-mean-square error and predictions (N, runs)."""
    nets = ParallelNets(runs, pieces, act, rng)
    xt, yt = gg.tensor(x), gg.tensor(y[:, None])
    opt = gg.optim.Adam(nets.parameters(), lr=lr)
    sched = gg.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    for _ in range(steps):
        per_run = ((nets(xt) - yt) ** 2).mean(0)
        opt.zero_grad()
        per_run.sum().backward()
        opt.step()
        sched.step()
    with gg.no_grad():
        pred = nets(xt).numpy()
    return np.sqrt(((pred - y[:, None]) ** 2).mean(0)), pred


@dataclass
class SigmoidFit:
    """c sigmoid(w x + b) fitted by gradient descent; ``checkpoints``: (w, MSE) at 4 even steps."""

    w: float
    b: float
    c: float
    max_error: float
    checkpoints: list[tuple[float, float]]


def fit_sigmoid(x: np.ndarray, y: np.ndarray, steps: int, lr: float, cosine: bool) -> SigmoidFit:
    """Fit c sigmoid(w x + b) to (x, y) on the MSE with Adam, from w = 1, b = 0, c = 1 (a
    cosine-decaying learning rate if ``cosine``, else a constant one)."""
    w, b, c = (gg.tensor(v, dtype=gg.float64, requires_grad=True) for v in (1.0, 0.0, 1.0))
    xt, yt = gg.tensor(x), gg.tensor(y)
    opt = gg.optim.Adam([w, b, c], lr=lr)
    sched = gg.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps) if cosine else None
    checkpoints = []
    for t in range(1, steps + 1):
        loss = ((c * F.sigmoid(w * xt + b) - yt) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        if t % (steps // 4) == 0:
            checkpoints.append((w.item(), loss.item()))
    with gg.no_grad():
        max_error = float(np.abs((c * F.sigmoid(w * xt + b) - yt).numpy()).max())
    return SigmoidFit(w.item(), b.item(), c.item(), max_error, checkpoints)


# ---------------------------------------------------------------- 1. curves built from ReLUs


@dataclass
class Construction:
    """The first figure's curve built from hard sigmoids, on the grid ``xc``."""

    xc: np.ndarray
    curve: np.ndarray


def construction_part(ctx: LabContext, rng: np.random.Generator) -> Construction:
    """Random piecewise-linear curves built from glassgrad's ReLUs: their values, and the slopes
    autograd computes for them, against the curves'."""
    worst_value = worst_slope = 0.0
    for _ in range(200):
        k = int(rng.integers(1, 21))
        knots = np.cumsum(np.r_[rng.uniform(-0.5, 0.5), rng.uniform(0.02, 0.3, k)])  # segments 0.02-0.3 wide
        values = rng.normal(size=k + 1)
        xs = np.linspace(knots[0] - 0.5, knots[-1] + 0.5, 4001)
        x = gg.tensor(xs, requires_grad=True)
        built = piecewise_linear(x, knots, values)
        built.sum().backward()  # each output depends on its own x only: x.grad is the slope there
        segment = np.searchsorted(knots, xs) - 1  # -1 left of the curve, k right of it
        rise_over_run = np.r_[0.0, np.diff(values) / np.diff(knots), 0.0][segment + 1]
        off_knots = np.abs(xs[:, None] - knots).min(1) > 1e-9  # at a knot the slope is one-sided
        worst_value = max(worst_value, float(np.abs(built.detach().numpy() - np.interp(xs, knots, values)).max()))
        worst_slope = max(worst_slope, float(np.abs(x.grad.numpy() - rise_over_run)[off_knots].max()))
    ctx.claim(
        "A piecewise-linear curve is a constant plus one hard sigmoid per segment, so K segments take 2K ReLUs: "
        "built from glassgrad's ReLUs, 200 random curves (1 to 20 segments, float64) come out exactly, and on "
        "each segment the slope autograd computes is the segment's rise over its run",
        f"largest difference: values {worst_value:.1e}, slopes {worst_slope:.1e}",
        worst_value < 1e-12 and worst_slope < 1e-9,
        expected="both < 1e-9 (a wrong ReLU or ReLU derivative: errors of order 1)",
    )
    x = gg.tensor(np.linspace(-5, 5, 2001))
    torch_style = float(np.abs(F.hardsigmoid(x).numpy() - hard_sigmoid(x, -3.0, 3.0, 1.0).numpy()).max())
    ctx.write(
        "A hard sigmoid of height c rising from a to b is c clip((x-a)/(b-a), 0, 1) = c/(b-a) (relu(x-a) - "
        "relu(x-b)): left of a both ReLUs are 0, between a and b only the first rises, right of b the second "
        "cancels its rise. PyTorch's (and glassgrad's) F.hardsigmoid is the one with a = -3, b = 3, c = 1: "
        f"(relu(x+3) - relu(x-3))/6 (largest difference here {torch_style:.1e}). A curve with K segments is "
        "its first value plus one hard sigmoid per segment, whose height is the segment's rise."
    )
    xc = np.linspace(-0.2, 1.2, 1401)
    return Construction(xc, piecewise_linear(gg.tensor(xc), KNOTS, VALUES).numpy())


# ---------------------------------------------------------------- 2. gradient descent finds the two ReLUs


@dataclass
class TwoReLUs:
    """A hard sigmoid and the best fits of networks of 1 and 2 ReLUs trained on it."""

    x: np.ndarray
    y: np.ndarray
    fit: dict[int, np.ndarray]
    rmse: dict[int, float]


def two_relus_part(ctx: LabContext, rng: np.random.Generator) -> TwoReLUs:
    """Networks of 1 and 2 ReLUs trained on a hard sigmoid (best of 32 random starts)."""
    a, b, runs, steps = -0.3, 0.4, 32, ctx.size(1500, 3000)
    x = np.linspace(-1, 1, 201)
    y = np.clip((x - a) / (b - a), 0, 1)
    fit, rmse = {}, {}
    for units in (1, 2):
        err, pred = fit_pieces(x, y, units, "relu", runs, steps, 0.01, rng)
        best = int(np.argmin(err))
        fit[units], rmse[units] = pred[:, best], float(err[best])
    ctx.claim(
        f"Gradient descent finds the two ReLUs: a network y = b + c1 relu(w1 x + b1) + c2 relu(w2 x + b2) trained "
        f"on a hard sigmoid (height 1, ramp from {a} to {b}) fits it exactly, and one ReLU cannot (best of {runs} "
        f"random starts, Adam, {steps} steps)",
        f"root-mean-square error: 2 ReLUs {rmse[2]:.1e}, 1 ReLU {rmse[1]:.3f}",
        rmse[2] < 1e-3 and rmse[1] > 0.05,
        expected="2 ReLUs < 1e-3, 1 ReLU > 0.05 (untrained or ascending: 2 ReLUs > 0.05)",
    )
    return TwoReLUs(x, y, fit, rmse)


# ---------------------------------------------------------------- 3. a sigmoid for a hard sigmoid


@dataclass
class SigmoidApproximation:
    """Sigmoids fitted to hard sigmoids of each ramp width and to a step; ``kappa``: the mean
    steepness times ramp width of the fits."""

    fits: dict[float, SigmoidFit]
    step_fit: SigmoidFit
    kappa: float


def sigmoid_part(ctx: LabContext) -> SigmoidApproximation:
    """c sigmoid(w x + b) fitted to hard sigmoids of ramp widths ``RAMP_WIDTHS`` and to a step."""
    grid = np.linspace(-3, 3, 6001)
    steps = ctx.size(1500, 3000)
    fits = {d: fit_sigmoid(grid, np.clip(grid / d + 0.5, 0, 1), steps, 0.2, cosine=True) for d in RAMP_WIDTHS}
    wd = np.array([f.w * d for d, f in fits.items()])
    worst = max(f.max_error for f in fits.values())
    ctx.claim(
        "c sigmoid(b + w x) fitted by gradient descent (Adam on the MSE, from w = 1) to a hard sigmoid with a "
        f"ramp of width d approximates it, with a steepness w proportional to 1/d: w d is the same for "
        f"d = {', '.join(map(str, RAMP_WIDTHS))}",
        "w d = " + ", ".join(f"{v:.2f}" for v in wd) + f"; largest error {100 * worst:.1f}% of the height",
        wd.max() < 1.05 * wd.min() and worst < 0.1,
        expected="w d equal within 5%, error < 10% (untrained: w d = d)",
    )
    step_fit = fit_sigmoid(grid, (grid > 0).astype(float), ctx.size(1000, 2000), 0.05, cosine=False)
    w_path = np.array([w for w, _ in step_fit.checkpoints])
    mse_path = np.array([m for _, m in step_fit.checkpoints])
    ctx.claim(
        "For a step (a ramp of width 0) no steepness is best: fitted by gradient descent, the sigmoid keeps "
        "getting steeper, its w growing and its error falling at every checkpoint",
        "w " + " -> ".join(f"{w:.1f}" for w in w_path) + "; MSE " + " -> ".join(f"{m:.2g}" for m in mse_path),
        bool(np.all(np.diff(w_path) > 0) and np.all(np.diff(mse_path) < 0)) and w_path[-1] > 5,
        expected="w rising (to > 5) and MSE falling at each of 4 checkpoints (untrained: w stays 1)",
    )
    kappa = float(wd.mean())
    ctx.write(
        f"The fitted sigmoids have w = {kappa:.1f} / ramp width (the slope of c sigmoid(w x) at its middle is "
        "c w / 4, a little steeper than the ramp's c / d, which trades the corners against the middle). For a "
        "step, the area between c sigmoid(w x) and the step is 2 ln 2 c / w: any finite w can be beaten by a "
        "steeper one."
    )
    return SigmoidApproximation(fits, step_fit, kappa)


# ---------------------------------------------------------------- 4. more pieces, better fit


def least_squares_pieces(x: np.ndarray, y: np.ndarray, pieces: int) -> np.ndarray:
    """The best curve with ``pieces`` segments and evenly spaced knots: a constant plus ReLUs
    relu(x - knot_i) at the segments' left ends, weights by NumPy's least squares (exact; a
    reference for the figure, not a measurement of glassgrad)."""
    knots = np.linspace(x.min(), x.max(), pieces + 1)[:-1]
    design = np.c_[np.ones_like(x), np.maximum(x[:, None] - knots, 0)]
    return design @ np.linalg.lstsq(design, y, rcond=None)[0]


@dataclass
class MorePieces:
    """Errors of the networks of k pieces (``gd_err[act]``: pieces x runs), the best fits, and
    the least-squares reference ``ls_err``."""

    x: np.ndarray
    y: np.ndarray
    ls_err: np.ndarray
    gd_err: dict[str, np.ndarray]
    fits: dict[tuple[str, int], np.ndarray]
    runs: int


def pieces_part(ctx: LabContext, rng: np.random.Generator) -> MorePieces:
    """Networks of k = 1 ... 32 sigmoids or ReLUs trained on a smooth curve, best of ``runs``."""
    runs, steps, n_points = ctx.size((8, 1500, 101), (16, 6000, 201))
    lrs = {"sigmoid": 0.05, "relu": 0.01}
    xf = np.linspace(-1, 1, n_points)
    yf = target(xf)
    ls_err = np.array([np.sqrt(((least_squares_pieces(xf, yf, k) - yf) ** 2).mean()) for k in PIECES])
    gd_err = {act: np.empty((len(PIECES), runs)) for act in lrs}
    fits = {}
    for act, lr in lrs.items():
        for i, k in enumerate(ctx.bar(PIECES, f"{act} networks")):
            gd_err[act][i], pred = fit_pieces(xf, yf, k, act, runs, steps, lr, rng)
            fits[act, k] = pred[:, int(np.argmin(gd_err[act][i]))]
    best_err = {act: e.min(1) for act, e in gd_err.items()}
    for act in lrs:
        b = best_err[act]
        ctx.claim(
            f"More pieces, better fit (gradient descent, best of {runs} runs): networks of k "
            f"{'ReLUs' if act == 'relu' else 'sigmoids'} have a "
            "smaller error at every quadrupling of k (1 -> 4 -> 16), and 32 pieces fit more than 10 times "
            "better than 1",
            f"k = 1, 4, 16, 32: {b[0]:.3g}, {b[2]:.3g}, {b[4]:.3g}, {b[5]:.3g}",
            b[0] > b[2] > b[4] and b[0] > 10 * b[5],
            expected="falling at each step, 32 pieces < 1/10 of 1 piece (untrained: no trend)",
        )
    ctx.result("error_vs_pieces", {"pieces": list(PIECES), "least_squares_even_knots": ls_err,
                                   **{f"{a}_best": best_err[a] for a in lrs},
                                   **{f"{a}_median": np.median(gd_err[a], 1) for a in lrs}})
    ctx.write(
        f"The curve fitted in the last part is f(x) = sin(1.5 pi x + 0.3) + 0.4 x sin(5x) on [-1, 1] "
        f"({n_points} points; errors are root-mean-square, in units of f, whose values span "
        f"{np.ptp(yf):.1f}). Networks y = b + sum_i c_i act(w_i x + b_i) train by Adam ({steps} full-batch "
        f"steps, learning rate {lrs['sigmoid']} for sigmoids and {lrs['relu']} for ReLUs, cosine decay); "
        f"each k is trained {runs} times from different random starts, and the best run is kept: some "
        "runs end with units whose bends have left the inputs (a ReLU that is zero, or linear, on all of "
        "them), a local minimum. For reference, the best curve with k evenly spaced knots (solved exactly "
        "by NumPy's least squares, not by the library) has an error of "
        + " -> ".join(f"{e:.2g}" for e in ls_err)
        + " for k = " + ", ".join(map(str, PIECES)) + ". Gradient descent does not reach the best curve with "
        f"many pieces: with 32 pieces the least-squares curve is {ls_err[-1]:.1g}, the trained ReLU network "
        f"{best_err['relu'][-1]:.1g}."
    )
    return MorePieces(xf, yf, ls_err, gd_err, fits, runs)


def run(ctx: LabContext) -> None:
    rng = np.random.default_rng(ctx.seed)
    built = construction_part(ctx, rng)
    relus = two_relus_part(ctx, rng)
    sig = sigmoid_part(ctx)
    pieces = pieces_part(ctx, rng)
    smooth_curve = VALUES[0] + sum(sigmoid_for(built.xc, a, b, hi - lo, sig.kappa / (b - a))
                                   for a, b, lo, hi in zip(KNOTS[:-1], KNOTS[1:], VALUES[:-1], VALUES[1:]))
    sig_curve_err = float(np.abs(smooth_curve - built.curve).max() / np.ptp(VALUES))
    ctx.result("sigmoid_sum_for_the_curve_max_error_relative_to_range", sig_curve_err)
    ctx.write(
        f"Replacing each hard sigmoid of the first figure's curve by its fitted sigmoid (w = {sig.kappa:.1f} / ramp "
        f"width) gives a smooth curve within {100 * sig_curve_err:.0f}% of the curve's range."
    )
    figure_pieces(ctx, built, relus, smooth_curve, sig.kappa)
    figure_sigmoids(ctx, sig)
    figure_error_vs_pieces(ctx, pieces)
    figure_fits(ctx, pieces)


# ---------------------------------------------------------------- figures


def figure_pieces(ctx: LabContext, built: Construction, relus: TwoReLUs, smooth_curve: np.ndarray,
                  kappa: float) -> None:
    """Two ReLUs make a hard sigmoid (built, and found by gradient descent); hard sigmoids make the curve."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    xc, xt = built.xc, gg.tensor(built.xc)
    a, b, height = KNOTS[2], KNOTS[3], VALUES[3] - VALUES[2]  # a rising segment
    ax = axes[0, 0]
    slope = height / (b - a)
    ax.plot(xc, slope * F.relu(xt - a).numpy(), label=f"{slope:.2g} relu(x - {a})")
    ax.plot(xc, -slope * F.relu(xt - b).numpy(), label=f"{-slope:.2g} relu(x - {b})")
    ax.plot(xc, hard_sigmoid(xt, a, b, height).numpy(), "k", lw=2.5, label="their sum: a hard sigmoid")
    ax.set(xlabel="x", title="A hard sigmoid = two ReLUs", ylim=(-1.2, 1.2))
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    ax.plot(relus.x, relus.y, "k", lw=3, alpha=0.3, label="hard sigmoid (target)")
    for units, color in ((1, "tab:red"), (2, "tab:blue")):
        ax.plot(relus.x, relus.fit[units], color=color, lw=1.3,
                label=f"{units} ReLU{'s' if units > 1 else ''}, trained (error {relus.rmse[units]:.1g})")
    ax.set(xlabel="x", title="Gradient descent finds the two ReLUs")
    ax.legend(fontsize=8)
    ax = axes[1, 0]
    ax.axhline(VALUES[0], color="grey", ls=":", label=f"constant {VALUES[0]}")
    for i, (a, b, lo, hi) in enumerate(zip(KNOTS[:-1], KNOTS[1:], VALUES[:-1], VALUES[1:])):
        ax.plot(xc, hard_sigmoid(xt, a, b, hi - lo).numpy(), lw=1.5, label=f"hard sigmoid {i + 1}")
    ax.set(xlabel="x", title="One hard sigmoid per segment")
    ax.legend(fontsize=7)
    ax = axes[1, 1]
    ax.plot(xc, built.curve, "k", lw=3, alpha=0.35, label="constant + sum of hard sigmoids")
    ax.plot(KNOTS, VALUES, "r.--", ms=9, lw=1, label="the piecewise-linear curve")
    ax.plot(xc, smooth_curve, "tab:blue", lw=1.2, label=f"hard sigmoids -> sigmoids (w = {kappa:.1f}/width)")
    ax.set(xlabel="x", title="Their sum is the curve (exactly)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    ctx.figure("pieces_and_sum", fig)


def figure_sigmoids(ctx: LabContext, sig: SigmoidApproximation) -> None:
    """Sigmoids of several steepnesses against a hard sigmoid; the largest error against w; the
    steepness of the sigmoid fitted to a step, while training."""
    import matplotlib.pyplot as plt

    grid = np.linspace(-4, 4, 8001)
    hard = np.clip(grid + 0.5, 0, 1)  # ramp width 1
    ws = np.geomspace(0.5, 256, 49)
    max_err = np.array([np.abs(sigmoid_for(grid, -0.5, 0.5, 1.0, w) - hard).max() for w in ws])
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(16, 4))
    ax1.plot(grid, hard, "k", lw=2.5, label="hard sigmoid (ramp width d = 1)")
    for w in (1.0, 2.0, sig.kappa, 30.0):
        ax1.plot(grid, sigmoid_for(grid, -0.5, 0.5, 1.0, w), lw=1.2, label=f"sigmoid(w x), w = {w:.3g}")
    ax1.set(xlim=(-2.5, 2.5), xlabel="x", title="c sigmoid(b + w x): w sets the steepness")
    ax1.legend(fontsize=8)
    ax2.plot(ws, 100 * max_err, ".-", label="largest error vs the hard sigmoid")
    ax2.axvline(sig.kappa, color="grey", ls=":", label=f"fitted by gradient descent: w = {sig.kappa:.1f}")
    ax2.set(xscale="log", xlabel="w (times 1 / ramp width)", ylabel="largest error, % of c",
            title="Too flat or too steep: both miss the ramp")
    ax2.legend(fontsize=8, loc="upper center")
    checks = np.arange(1, len(sig.step_fit.checkpoints) + 1)
    ax3.plot(checks, [w for w, _ in sig.step_fit.checkpoints], "o-", label="w of the sigmoid fitted to a step")
    ax3.set(xlabel="checkpoint (every quarter of the training)", ylabel="w", xticks=checks,
            title="A step: gradient descent keeps steepening")
    ax4 = ax3.twinx()
    ax4.plot(checks, [m for _, m in sig.step_fit.checkpoints], "s--", color="tab:red", label="MSE")
    ax4.set(ylabel="MSE", yscale="log")
    ax4.tick_params(axis="y", colors="tab:red")
    lines, lines2 = ax3.get_legend_handles_labels(), ax4.get_legend_handles_labels()
    ax3.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8, loc="center right")
    fig.tight_layout()
    ctx.figure("sigmoid_approximation", fig)


def figure_error_vs_pieces(ctx: LabContext, pieces: MorePieces) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    p = np.array(PIECES)
    ax.plot(p, pieces.ls_err, "k.-", label="evenly spaced knots, least squares (NumPy, exact)")
    for act, color in (("sigmoid", "tab:blue"), ("relu", "tab:orange")):
        e = pieces.gd_err[act]
        name = "ReLU" if act == "relu" else act
        ax.plot(p, e.min(1), "o-", color=color, label=f"{name} network, gradient descent, best of {pieces.runs}")
        ax.plot(np.repeat(p, e.shape[1]), e.ravel(), ".", color=color, alpha=0.25, ms=4)
    ax.set(xscale="log", yscale="log", xlabel="number of pieces k (hidden units / segments)",
           ylabel="root-mean-square error", title="More pieces, better fit (dots: every run)")
    ax.set_xticks(p, [str(k) for k in p])
    ax.legend(fontsize=8)
    ctx.figure("error_vs_pieces", fig)


def figure_fits(ctx: LabContext, pieces: MorePieces) -> None:
    import matplotlib.pyplot as plt

    shown = (1, 4, 16)
    fig, axes = plt.subplots(2, len(shown), figsize=(13, 6), sharex=True, sharey=True)
    for row, act in enumerate(("sigmoid", "relu")):
        for col, k in enumerate(shown):
            ax = axes[row, col]
            ax.plot(pieces.x, pieces.y, "k", lw=3, alpha=0.3, label="target")
            ax.plot(pieces.x, pieces.fits[act, k], color="tab:blue" if act == "sigmoid" else "tab:orange", lw=1.5,
                    label=f"{k} {'ReLU' if act == 'relu' else act}{'s' if k > 1 else ''}")
            ax.legend(fontsize=8, loc="lower left")
            if row == 1:
                ax.set_xlabel("x")
    fig.suptitle("Fits by gradient descent with k sigmoids (top) and k ReLUs (bottom), best run")
    fig.tight_layout()
    ctx.figure("fits", fig)


LAB = Lab(
    name="piecewise",
    lecture="Lecture 2",
    title="Piecewise-linear curves: hard sigmoids, ReLUs, sigmoids",
    summary="a curve = constant + hard sigmoids = ReLUs, built and found by gradient descent; sigmoid "
            "approximations; error vs number of pieces",
    run=run,
)
