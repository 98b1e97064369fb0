"""Lecture 2: any piecewise-linear curve is a constant plus a sum of hard sigmoids; a hard sigmoid
is two ReLUs, or approximately one sigmoid; more pieces fit a curve better.

Claims checked:

- A hard sigmoid (flat, a straight ramp, flat) is exactly the difference of two ReLUs:
  c * clip((x - a) / (b - a), 0, 1) = c / (b - a) * (relu(x - a) - relu(x - b)).
- Any piecewise-linear curve with K segments is a constant plus K hard sigmoids (one per segment,
  its height the segment's rise), so 2K ReLUs build it exactly (checked on random curves).
- A hard sigmoid is approximated by c * sigmoid(b + w x): a larger w makes the sigmoid steeper,
  and the approximation improves as w grows towards the ramp's own steepness; for a step (a ramp
  of zero width) it keeps improving, the area between the two being 2 ln 2 c / w.
- More pieces, better fit: a smooth curve fitted with k = 1 ... 32 pieces (k evenly spaced knots
  solved exactly by least squares; networks of k sigmoids or k ReLUs trained by gradient descent)
  has an error that falls as k grows.
"""

from __future__ import annotations

import numpy as np

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.labs._lab import Lab, LabContext

PIECES = (1, 2, 4, 8, 16, 32)
# the curve of the first figure: knots and values (like the lecture's red curve)
KNOTS = np.array([0.0, 0.15, 0.35, 0.55, 0.7, 1.0])
VALUES = np.array([0.4, 1.2, 0.5, 0.9, -0.2, 0.6])


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
    """height * sigmoid(w (x - m)), centred on the ramp's middle m = (a + b) / 2."""
    from scipy.special import expit  # 1 / (1 + exp(-z)) without overflow

    return height * expit(w * (x - (a + b) / 2))


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


def least_squares_pieces(x: np.ndarray, y: np.ndarray, pieces: int) -> np.ndarray:
    """The best curve with ``pieces`` segments and evenly spaced knots: a constant plus ReLUs
    relu(x - knot_i) at the segments' left ends, weights by least squares (exact)."""
    knots = np.linspace(x.min(), x.max(), pieces + 1)[:-1]
    design = np.c_[np.ones_like(x), np.maximum(x[:, None] - knots, 0)]
    return design @ np.linalg.lstsq(design, y, rcond=None)[0]


def run(ctx: LabContext) -> None:
    rng = np.random.default_rng(ctx.seed)

    # 1. a hard sigmoid is two ReLUs, exactly; a piecewise-linear curve is a sum of hard sigmoids
    x = gg.tensor(np.linspace(-3, 3, 2001))
    worst_hard = 0.0
    for _ in range(200):
        a, width, c = rng.uniform(-2, 2), rng.uniform(0.01, 2), rng.uniform(-3, 3)
        clipped = c * np.clip((x.numpy() - a) / width, 0, 1)
        worst_hard = max(worst_hard, float(np.abs(hard_sigmoid(x, a, a + width, c).numpy() - clipped).max()))
    torch_style = float(np.abs(F.hardsigmoid(x).numpy() - hard_sigmoid(x, -3.0, 3.0, 1.0).numpy()).max())
    ctx.claim(
        "A hard sigmoid is exactly the difference of two ReLUs: c clip((x-a)/(b-a), 0, 1) = "
        "c/(b-a) (relu(x-a) - relu(x-b)) (200 random hard sigmoids; also glassgrad's F.hardsigmoid = "
        "(relu(x+3) - relu(x-3))/6)",
        f"largest difference {worst_hard:.1e}; F.hardsigmoid: {torch_style:.1e}",
        worst_hard < 1e-12 and torch_style < 1e-12,
    )
    worst_curve, segments = 0.0, []
    for _ in range(200):
        k = int(rng.integers(1, 21))
        knots = np.cumsum(np.r_[rng.uniform(-0.5, 0.5), rng.uniform(0.02, 0.3, k)])  # segments 0.02-0.3 wide
        values = rng.normal(size=k + 1)
        xs = np.linspace(knots[0] - 0.5, knots[-1] + 0.5, 4001)
        built = piecewise_linear(gg.tensor(xs), knots, values).numpy()
        worst_curve = max(worst_curve, float(np.abs(built - np.interp(xs, knots, values)).max()))
        segments.append(k)
    ctx.claim(
        "Any piecewise-linear curve is a constant plus one hard sigmoid per segment, so K segments take 2K "
        "ReLUs: built that way, 200 random curves (1 to 20 segments, float64) match the curve exactly",
        f"largest difference {worst_curve:.1e}",
        worst_curve < 1e-12,
    )

    # 2. a sigmoid approximates a hard sigmoid
    d = 1.0  # ramp width; the hard sigmoid rises from 0 to 1 over [-d/2, d/2]
    grid = np.linspace(-4, 4, 80_001)
    hard = np.clip(grid / d + 0.5, 0, 1)
    ws = np.geomspace(0.5, 256, 49) / d
    max_err = np.array([np.abs(sigmoid_for(grid, -d / 2, d / 2, 1.0, w) - hard).max() for w in ws])
    best = int(np.argmin(max_err))
    err_at_1 = float(np.interp(0.0, np.log(ws), max_err))  # w = 1/d
    falls = bool(np.all(np.diff(max_err[: best + 1]) < 0))
    ctx.claim(
        "c sigmoid(b + w x) approximates a hard sigmoid (ramp width d), better and better as w grows up to "
        "the ramp's own steepness: the largest error falls steadily from w = 1/d to the best w",
        f"largest error {100 * err_at_1:.0f}% of c at w = 1/d -> {100 * max_err[best]:.1f}% at w = "
        f"{ws[best] * d:.1f}/d; steeper still, it tends to a step ({100 * max_err[-1]:.0f}% at w = {ws[-1] * d:.0f}/d)",
        falls and max_err[best] < 0.1 < 0.3 < err_at_1,
    )
    step = (grid > 0).astype(float)
    step_ws = np.array([2.0, 8.0, 32.0, 128.0])
    areas = np.array([np.abs(sigmoid_for(grid, 0.0, 0.0, 1.0, w) - step).sum() * (grid[1] - grid[0]) for w in step_ws])
    ctx.claim(
        "For a step (a hard sigmoid whose ramp has shrunk to nothing) the approximation keeps improving as "
        "w grows: the area between c sigmoid(w x) and the step is 2 ln 2 c / w",
        "w x area = " + ", ".join(f"{w * a:.4f}" for w, a in zip(step_ws, areas)) + f" (2 ln 2 = {2 * np.log(2):.4f})",
        bool(np.all(np.abs(step_ws * areas - 2 * np.log(2)) < 1e-3)),
    )
    kappa = ws[best] * d  # the best steepness, in units of 1 / ramp width
    xc = np.linspace(-0.2, 1.2, 1401)
    curve = piecewise_linear(gg.tensor(xc), KNOTS, VALUES).numpy()
    smooth_curve = VALUES[0] + sum(sigmoid_for(xc, a, b, hi - lo, kappa / (b - a))
                                   for a, b, lo, hi in zip(KNOTS[:-1], KNOTS[1:], VALUES[:-1], VALUES[1:]))
    sig_curve_err = float(np.abs(smooth_curve - curve).max() / np.ptp(VALUES))
    ctx.result("sigmoid_sum_for_the_curve_max_error_relative_to_range", sig_curve_err)

    # 3. more pieces, better fit
    runs, steps, n_points = ctx.size((8, 1500, 101), (16, 6000, 201))
    lrs = {"sigmoid": 0.05, "relu": 0.01}
    xf = np.linspace(-1, 1, n_points)
    yf = target(xf)
    ls_err = np.array([np.sqrt(((least_squares_pieces(xf, yf, k) - yf) ** 2).mean()) for k in PIECES])
    ctx.claim(
        "More pieces, better fit (exact): with k evenly spaced knots and weights by least squares, the error "
        "falls at every doubling of k, more than 100-fold from 1 to 32 pieces",
        " -> ".join(f"{e:.2g}" for e in ls_err),
        bool(np.all(np.diff(ls_err) < 0)) and ls_err[0] > 100 * ls_err[-1],
    )
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
        "them), a local minimum. Gradient descent does not reach the best curve with many pieces: with 32 "
        f"pieces the least-squares curve with evenly spaced knots is {ls_err[-1]:.1g}, the trained ReLU "
        f"network {best_err['relu'][-1]:.1g}."
    )
    ctx.write(
        f"Replacing each hard sigmoid of the first figure's curve by its best sigmoid (w = {kappa:.1f} / ramp "
        f"width) gives a smooth curve within {100 * sig_curve_err:.0f}% of the curve's range."
    )

    _figures(ctx, xc, curve, smooth_curve, kappa, grid, hard, ws, max_err, step_ws, xf, yf, ls_err, gd_err,
             fits, runs)


def _figures(ctx, xc, curve, smooth_curve, kappa, grid, hard, ws, max_err, step_ws, xf, yf, ls_err, gd_err,
             fits, runs):
    import matplotlib.pyplot as plt

    # the pieces and their sum
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    xt = gg.tensor(xc)
    a, b, height = KNOTS[2], KNOTS[3], VALUES[3] - VALUES[2]  # a rising segment
    ax = axes[0]
    slope = height / (b - a)
    ax.plot(xc, slope * F.relu(xt - a).numpy(), label=f"{slope:.2g} relu(x - {a})")
    ax.plot(xc, -slope * F.relu(xt - b).numpy(), label=f"{-slope:.2g} relu(x - {b})")
    ax.plot(xc, hard_sigmoid(xt, a, b, height).numpy(), "k", lw=2.5, label="their sum: a hard sigmoid")
    ax.set(xlabel="x", title="A hard sigmoid = two ReLUs", ylim=(-1.2, 1.2))
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.axhline(VALUES[0], color="grey", ls=":", label=f"constant {VALUES[0]}")
    for i, (a, b, lo, hi) in enumerate(zip(KNOTS[:-1], KNOTS[1:], VALUES[:-1], VALUES[1:])):
        ax.plot(xc, hard_sigmoid(xt, a, b, hi - lo).numpy(), lw=1.5, label=f"hard sigmoid {i + 1}")
    ax.set(xlabel="x", title="One hard sigmoid per segment")
    ax.legend(fontsize=7)
    ax = axes[2]
    ax.plot(xc, curve, "k", lw=3, alpha=0.35, label="constant + sum of hard sigmoids")
    ax.plot(KNOTS, VALUES, "r.--", ms=9, lw=1, label="the piecewise-linear curve")
    ax.plot(xc, smooth_curve, "tab:blue", lw=1.2, label=f"hard sigmoids -> sigmoids (w = {kappa:.1f}/width)")
    ax.set(xlabel="x", title="Their sum is the curve (exactly)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    ctx.figure("pieces_and_sum", fig)

    # the sigmoid approximation
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
    ax1.plot(grid, hard, "k", lw=2.5, label="hard sigmoid (ramp width d = 1)")
    for w in (1.0, 2.0, kappa, 30.0):
        ax1.plot(grid, sigmoid_for(grid, -0.5, 0.5, 1.0, w), lw=1.2, label=f"sigmoid(w x), w = {w:.3g}")
    ax1.set(xlim=(-2.5, 2.5), xlabel="x", title="c sigmoid(b + w x): w sets the steepness")
    ax1.legend(fontsize=8)
    ax2.plot(ws, 100 * max_err, ".-", label="vs the hard sigmoid (ramp width 1)")
    ax2.axvline(kappa, color="grey", ls=":", label=f"best w = {kappa:.1f}")
    ax2.set(xscale="log", xlabel="w (times 1 / ramp width)", ylabel="largest error, % of c",
            title="Error of the best-centred sigmoid")
    ax3 = ax2.twinx()
    ax3.plot(step_ws, 2 * np.log(2) / step_ws, "s--", color="tab:red", ms=4, label="area vs a step: 2 ln2 / w")
    ax3.set(ylabel="area between sigmoid and step", yscale="log")
    ax3.tick_params(axis="y", colors="tab:red")
    lines = ax2.get_legend_handles_labels()
    lines2 = ax3.get_legend_handles_labels()
    ax2.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8, loc="lower left")
    fig.tight_layout()
    ctx.figure("sigmoid_approximation", fig)

    # error vs number of pieces
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    p = np.array(PIECES)
    ax.plot(p, ls_err, "k.-", label="evenly spaced knots, least squares (exact)")
    for act, color in (("sigmoid", "tab:blue"), ("relu", "tab:orange")):
        e = gd_err[act]
        name = "ReLU" if act == "relu" else act
        ax.plot(p, e.min(1), "o-", color=color, label=f"{name} network, gradient descent, best of {runs}")
        ax.plot(np.repeat(p, e.shape[1]), e.ravel(), ".", color=color, alpha=0.25, ms=4)
    ax.set(xscale="log", yscale="log", xlabel="number of pieces k (hidden units / segments)",
           ylabel="root-mean-square error", title="More pieces, better fit (dots: every run)")
    ax.set_xticks(p, [str(k) for k in p])
    ax.legend(fontsize=8)
    ctx.figure("error_vs_pieces", fig)

    # the fits
    shown = (1, 4, 16)
    fig, axes = plt.subplots(2, len(shown), figsize=(13, 6), sharex=True, sharey=True)
    for row, act in enumerate(("sigmoid", "relu")):
        for col, k in enumerate(shown):
            ax = axes[row, col]
            ax.plot(xf, yf, "k", lw=3, alpha=0.3, label="target")
            ax.plot(xf, fits[act, k], color="tab:blue" if act == "sigmoid" else "tab:orange", lw=1.5,
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
    summary="a curve = constant + hard sigmoids = ReLUs, exactly; sigmoid approximations; error vs number of pieces",
    run=run,
)
