"""Lecture 6: adaptive learning rates, on the lecture's elongated convex error surface.

The surface is L(w) = 1/2 w^T A w, a bowl whose curvature is 100 across the valley and 0.001
along it (a condition number of 10^5), turned by 0.002 rad so that the valley floor is not
exactly an axis (as in a real model, the two parameters are slightly coupled). Its minimum is
w = 0; every run starts at (-8, 0.5). Every run is gg.optim's, so every claim below fails when the
library's optimizers or schedulers are broken; next to each claim the code says what a broken
library would show.

- A fixed learning rate either oscillates across the valley (large) or crawls along it (small):
  training stalls although the gradient is not small.
- Adagrad, RMSProp and Adam give each parameter its own step size eta / sigma and reach the
  minimum.
- The lecture's Adagrad (sigma = root mean square of all past gradients, eta fixed) "erupts":
  after a long stretch of tiny gradients sigma becomes small, the steps huge, and the parameters
  shoot out of the valley. The lecture's fix, eta_t = eta / sqrt(t + 1), gives
  eta_t / sigma_t = eta / sqrt(sum of g^2): exactly PyTorch's (and glassgrad's) Adagrad. So the
  lecture's undecayed form is gg.optim.Adagrad with its learning rate *grown* by a LambdaLR of
  sqrt(t + 1), and the decayed form is gg.optim.Adagrad as it is.
- Warm-up: at the start sigma is estimated from very few gradients; RMSProp's first steps then
  throw the parameters up the valley wall, unless the learning rate starts small and grows (then
  decays as 1/sqrt(t), as in the Transformer's schedule: with a constant lr after the warm-up,
  RMSProp's sigma, shrunk during the slow start, makes it erupt later instead). The
  Transformer's schedule rises linearly, then decays as step^-0.5: measured from the steps an
  optimizer actually takes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import glassgrad as gg
from glassgrad.labs._lab import Lab, LabContext

CURVATURES = np.array([0.001, 100.0])
ANGLE = 0.002
START = np.array([-8.0, 0.5])
ADAPTIVE_STEPS = 3000
LR_OSCILLATE = 0.99995 * 2 / CURVATURES.max()  # just under the stability limit 2 / lambda_max
LR_CALM = 0.0199  # below 2 / lambda_max with margin: no lasting oscillation
WARMUP, WARMUP_RUN = 300, 2000  # warm-up updates; updates in each warm-up run


def _surface_matrix() -> np.ndarray:
    c, s = np.cos(ANGLE), np.sin(ANGLE)
    rot = np.array([[c, -s], [s, c]])
    return rot.T @ np.diag(CURVATURES) @ rot


A = _surface_matrix()
_A_TENSOR = gg.tensor(A, dtype=gg.float64)
EIGENVECTORS = np.linalg.eigh(A)[1]  # columns: the flat direction, then the steep one


def loss_of(w: gg.Tensor) -> gg.Tensor:
    """L(w) = 1/2 w^T A w."""
    return 0.5 * (w * (_A_TENSOR @ w)).sum()


def loss_grid(w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    """L over a grid (rows: w2, columns: w1), computed directly for the contour plots."""
    W1, W2 = np.meshgrid(w1, w2)  # noqa: N806
    return 0.5 * (A[0, 0] * W1 * W1 + 2 * A[0, 1] * W1 * W2 + A[1, 1] * W2 * W2)


@dataclass
class Trajectory:
    """A run on the surface: positions w_0 .. w_T, the loss and ||g|| before each update, and
    (when asked for) Adagrad's sigma, the root mean square of the gradients so far."""

    path: np.ndarray  # (T + 1, 2)
    losses: np.ndarray  # (T,)
    grad_norms: np.ndarray  # (T,)
    sigmas: np.ndarray | None = None  # (T, 2)

    def distance_left(self, step: int = -1) -> float:
        """||w_step|| / ||w_0||: the share of the way to the minimum still to go."""
        return float(np.linalg.norm(self.path[step]) / np.linalg.norm(START))


def run_optimizer(make_optimizer: Callable, steps: int, schedule: Callable | None = None,
                  adagrad_sigma: bool = False) -> Trajectory:
    """Run ``steps`` updates of ``make_optimizer([w])`` from START (and ``schedule(opt)`` stepped
    after each). ``adagrad_sigma``: read Adagrad's sum of squared gradients from its state."""
    w = gg.tensor(START.copy(), dtype=gg.float64, requires_grad=True)
    opt = make_optimizer([w])
    sched = schedule(opt) if schedule else None
    path, losses, grad_norms = np.empty((steps + 1, 2)), np.empty(steps), np.empty(steps)
    sigmas = np.empty((steps, 2)) if adagrad_sigma else None
    path[0] = START
    for t in range(steps):
        opt.zero_grad()
        loss = loss_of(w)
        loss.backward()
        losses[t] = loss.item()
        grad_norms[t] = float(np.linalg.norm(w.grad.numpy()))
        opt.step()
        if sched:
            sched.step()
        if sigmas is not None:
            sigmas[t] = np.sqrt(opt.state[w]["sum"].numpy() / (t + 1))
        path[t + 1] = w.detach().numpy()
    return Trajectory(path, losses, grad_norms, sigmas)


# ---------------------------------------------------------------- (a) fixed learning rates


@dataclass
class FixedRates:
    oscillating: Trajectory
    crawling: Trajectory
    crawl_steps: int


def fixed_rates(ctx: LabContext) -> FixedRates:
    """A fixed learning rate just under 2/lambda_max oscillates; one with margin below it crawls."""
    osc = run_optimizer(lambda p: gg.optim.SGD(p, lr=LR_OSCILLATE), 1000)
    ratio = osc.losses[-1] / osc.losses[0]
    steep = osc.path @ EIGENVECTORS[:, 1]  # the coordinate across the valley
    flips = float((np.sign(steep[1:]) != np.sign(steep[:-1])).mean())
    # frozen optimizer: w2 never flips; ascent, or a gradient 1% too large: the loss ratio explodes
    ctx.claim(
        "Training can stall without a small gradient: with a fixed learning rate just under 2/lambda_max the "
        "parameters jump across the valley at every update, and after 1,000 updates the loss is still above half "
        "its start (and has not grown) while the gradient norm stays large",
        f"crosses the valley at {100 * flips:.0f}% of updates; loss ratio {ratio:.2f}; smallest ||g|| "
        f"{osc.grad_norms.min():.1f}",
        flips == 1.0 and 0.5 < ratio <= 1.0 and osc.grad_norms.min() > 10,
        expected="100% crossings, ratio in (0.5, 1], ||g|| > 10",
    )

    crawl_steps = ctx.size(10_000, 100_000)
    crawl = run_optimizer(lambda p: gg.optim.SGD(p, lr=LR_CALM), crawl_steps)
    left = crawl.distance_left()
    # gradient descent shrinks the flat coordinate by (1 - lr lambda_min) per update; the steep one dies out
    predicted = abs(START @ EIGENVECTORS[:, 0]) * (1 - LR_CALM * CURVATURES.min()) ** crawl_steps
    predicted /= np.linalg.norm(START)
    falling = bool((np.diff(crawl.losses) < 0).all())
    # frozen: 100% left and the loss never falls; ascent or a gradient 1% too large: the steep direction diverges
    ctx.claim(
        f"A fixed learning rate small enough not to oscillate ({LR_CALM}) crawls: the loss falls at every update, "
        f"but after {crawl_steps:,} updates the parameters are still far from the minimum, as (1 - lr lambda_min)^t "
        "predicts",
        f"{100 * left:.1f}% of the starting distance left (predicted {100 * predicted:.1f}%); loss fell at "
        f"{'every' if falling else 'not every'} update",
        falling and left > 0.1 and abs(left - predicted) < 0.01 * predicted,
        expected=f"> 10% left, within 1% of {100 * predicted:.1f}%",
    )
    return FixedRates(osc, crawl, crawl_steps)


# ---------------------------------------------------------------- (b) adaptive learning rates


ADAPTIVE: dict[str, Callable] = {
    "Adagrad (lr 1)": lambda p: gg.optim.Adagrad(p, lr=1.0),
    "RMSProp (lr 0.01)": lambda p: gg.optim.RMSprop(p, lr=0.01),
    "Adam (lr 0.1)": lambda p: gg.optim.Adam(p, lr=0.1),
}


def adaptive_rates(ctx: LabContext, fixed: FixedRates) -> dict[str, Trajectory]:
    """Adagrad, RMSProp and Adam reach the minimum in ADAPTIVE_STEPS updates; GD does not."""
    gd_left = fixed.crawling.distance_left(ADAPTIVE_STEPS)
    runs = {}
    for name, make in ADAPTIVE.items():
        runs[name] = traj = run_optimizer(make, ADAPTIVE_STEPS)
        left = traj.distance_left()
        # frozen: 100% left; ascent: far more than 100%
        ctx.claim(
            f"{name.split(' ')[0]} reaches the minimum of the elongated surface in {ADAPTIVE_STEPS:,} updates "
            f"(gradient descent is still {100 * gd_left:.0f}% away)",
            f"{100 * left:.3g}% of the starting distance left",
            left < 0.01,
            expected="< 1%",
        )
    ctx.result("distance_left", {name: t.distance_left() for name, t in runs.items()}
               | {f"GD (lr {LR_CALM}), {ADAPTIVE_STEPS} updates": gd_left})
    return runs


# ---------------------------------------------------------------- (c) Adagrad's eruption


def _eruptions(losses: np.ndarray, low: float, high: float) -> tuple[int, int | None]:
    """How many times the loss, after first falling below ``low``, climbs back above ``high``."""
    below = np.nonzero(losses < low)[0]
    if not below.size:
        return 0, None
    first = int(below[0])
    above = losses[first:] > high
    return int((above[1:] & ~above[:-1]).sum()), first


@dataclass
class Eruption:
    undecayed: Trajectory
    decayed: Trajectory
    steps: int


def adagrad_eruption(ctx: LabContext) -> Eruption:
    """The lecture's Adagrad without and with eta_t = eta / sqrt(t + 1), both by gg.optim.Adagrad."""
    steps = ctx.size(5000, 30_000)

    def lecture_form(opt):
        # lecture: eta / sigma_t with sigma_t = sqrt(sum g^2 / (t + 1)); Adagrad divides by sqrt(sum g^2)
        return gg.optim.lr_scheduler.LambdaLR(opt, lambda t: np.sqrt(t + 1))

    raw = run_optimizer(lambda p: gg.optim.Adagrad(p, lr=0.05), steps, schedule=lecture_form, adagrad_sigma=True)
    dec = run_optimizer(lambda p: gg.optim.Adagrad(p, lr=1.5), steps, adagrad_sigma=True)
    low, high = 1e-3 * raw.losses[0], 0.1 * raw.losses[0]
    n_raw, first_raw = _eruptions(raw.losses, low, high)
    n_dec, first_dec = _eruptions(dec.losses, low, high)
    # frozen or ascent: the loss never gets below 0.1% of its start, so there is nothing to erupt from
    ctx.claim(
        "Without learning-rate decay, the lecture's Adagrad (sigma = RMS of past gradients: gg.optim.Adagrad with "
        "its lr grown as sqrt(t+1)) erupts: after reaching the minimum region the loss shoots back above 10% of "
        "its start",
        f"{n_raw} eruption(s) in {steps:,} updates; first below 0.1% of the start at update {first_raw}",
        n_raw >= 1,
        expected=">= 1 eruption",
    )
    # frozen or ascent: never reaches the minimum region (first_dec is None)
    ctx.claim(
        "With decay eta_t = eta / sqrt(t+1), which is PyTorch's Adagrad (gg.optim.Adagrad as it is), there is no "
        "eruption",
        f"{n_dec} eruption(s); reached the minimum region at update {first_dec}; "
        f"{100 * dec.distance_left():.2g}% of the distance left at the end",
        n_dec == 0 and first_dec is not None and dec.distance_left() < 0.01,
        expected="0 eruptions, < 1% left",
    )
    ctx.result("eruptions", {"without_decay": n_raw, "with_decay": n_dec, "first_low_without_decay": first_raw})
    return Eruption(raw, dec, steps)


# ---------------------------------------------------------------- (d) warm-up


@dataclass
class WarmUp:
    cold: Trajectory
    warm: Trajectory
    applied_lrs: np.ndarray  # the Transformer schedule's lr, as measured from the optimizer's steps
    d_model: int
    warmup_steps: int


def applied_learning_rates(make_schedule: Callable, steps: int) -> np.ndarray:
    """The learning rate an optimizer actually applies at each step, measured: SGD on L(w) = w,
    whose gradient is 1, moves w by exactly -lr per step."""
    w = gg.zeros(1, dtype=gg.float64, requires_grad=True)
    opt = gg.optim.SGD([w], lr=1.0)
    sched = make_schedule(opt)
    positions = np.empty(steps + 1)
    positions[0] = 0.0
    for t in range(steps):
        opt.zero_grad()
        w.sum().backward()
        opt.step()
        sched.step()
        positions[t + 1] = w.item()
    return -np.diff(positions)


def warm_up(ctx: LabContext) -> WarmUp:
    """RMSProp with and without a warm-up, then the Transformer's warm-up schedule."""
    def warm_then_decay(opt):
        # lr_0 min(n / W, sqrt(W / n)) for update n: the Transformer's shape, peaking at lr_0 at n = W
        return gg.optim.lr_scheduler.WarmupInverseSqrtLR(opt, d_model=1, warmup_steps=WARMUP,
                                                         scale=np.sqrt(WARMUP))

    def decay_only(opt):  # the same lr from update W on, but the full lr_0 from the start
        return gg.optim.lr_scheduler.LambdaLR(opt, lambda e: min(1.0, np.sqrt(WARMUP / (e + 1))))

    def rmsprop(p):
        return gg.optim.RMSprop(p, lr=0.1, alpha=0.999)

    cold = run_optimizer(rmsprop, WARMUP_RUN, schedule=decay_only)
    warm = run_optimizer(rmsprop, WARMUP_RUN, schedule=warm_then_decay)
    cold_peak = cold.losses[:WARMUP].max() / cold.losses[0]
    warm_peak = warm.losses.max() / warm.losses[0]
    ends = max(cold.losses[-1], warm.losses[-1]) / cold.losses[0]
    # frozen: no peak (1.0x) and no progress; ascent: both runs blow up
    ctx.claim(
        "Warm-up: RMSProp's first steps, with sigma estimated from few gradients, throw the parameters up the "
        f"valley wall; the same run with a {WARMUP}-update linear warm-up (then the same lr ~ 1/sqrt(t)) never "
        "lets the loss rise above its start (it still jumps once, less high, when the full lr meets a sigma that "
        "shrank during the slow start), and both reach the minimum",
        f"peak loss {cold_peak:.1f}x the start in the first {WARMUP} updates without warm-up; {warm_peak:.2f}x over "
        f"all {WARMUP_RUN:,} updates with it; final losses <= {ends:.1e}x the start",
        cold_peak > 2 and warm_peak <= 1.0 and ends < 1e-6,
        expected="> 2x vs <= 1x; < 1e-6 at the end",
    )

    d_model, warmup_steps = 512, 4000
    lrs = applied_learning_rates(
        lambda opt: gg.optim.lr_scheduler.WarmupInverseSqrtLR(opt, d_model=d_model, warmup_steps=warmup_steps),
        4 * warmup_steps)
    n = np.arange(1, lrs.size + 1)
    rising = lrs[:warmup_steps] / (n[:warmup_steps] * lrs[0])  # 1 everywhere if the rise is linear
    linear_error = float(np.abs(rising - 1).max()) if lrs[0] > 0 else np.inf
    peak = int(np.argmax(lrs)) + 1
    decay = lrs[-1] / lrs[warmup_steps - 1]
    formula = d_model ** -0.5 * np.minimum(n ** -0.5, n * warmup_steps ** -1.5)  # the paper's, written out
    formula_error = float(np.abs(lrs / formula - 1).max())
    # frozen: the parameter never moves (every measured lr 0); ascent: it moves the wrong way (negative)
    ctx.claim(
        "The Transformer's warm-up schedule, as the optimizer applies it, rises linearly for `warmup` steps, "
        "then decays as step^-0.5: d_model^-0.5 min(n^-0.5, n warmup^-1.5)",
        f"step n moves w by n x step 1 up to n = {warmup_steps} (largest deviation {linear_error:.1e}); peak at "
        f"step {peak}; lr(4 warmup) / lr(warmup) = {decay:.4f}; largest deviation from the formula "
        f"{formula_error:.1e}",
        lrs[0] > 0 and linear_error < 1e-9 and peak == warmup_steps and abs(decay - 0.5) < 1e-9
        and formula_error < 1e-9,
        expected=f"deviations < 1e-9, peak {warmup_steps}, ratio 0.5",
    )
    return WarmUp(cold, warm, lrs, d_model, warmup_steps)


# ---------------------------------------------------------------- figures and text


def _trajectories_figure(ctx: LabContext, fixed: FixedRates, adaptive: dict[str, Trajectory]) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(17, 4.6), gridspec_kw={"width_ratios": [1, 1.5, 1.5]})
    osc = fixed.oscillating.path[:31]
    pad = 0.15 * np.ptp(osc[:, 0])
    zoom1 = np.linspace(osc[:, 0].min() - pad, osc[:, 0].max() + pad, 200)  # w1 moves little: zoom in on it
    w1, w2 = np.linspace(-9, 1.5, 300), np.linspace(-0.7, 0.7, 300)
    for ax, (a, b) in zip(axes, ((zoom1, w2), (w1, w2), (w1, w2))):
        ax.contour(a, b, loss_grid(a, b), levels=np.logspace(-3, 1.5, 14), cmap="Greys", linewidths=0.7)
        ax.set(xlabel="w1 (flat direction)", ylim=(-0.7, 0.7))
    for ax in axes[1:]:
        ax.plot(0, 0, "kx", ms=10, label="minimum")
    axes[0].plot(osc[:, 0], osc[:, 1], "o-", ms=3, lw=0.8, color="tab:red", label=f"lr {LR_OSCILLATE:.5f}")
    axes[0].set(xlim=(zoom1[0], zoom1[-1]), ylabel="w2 (steep direction)",
                title=f"(a) Large fixed lr: across the valley and back\n(first 30 updates; w1 zoomed to "
                      f"{zoom1[0]:.3f}..{zoom1[-1]:.3f})")
    crawl = fixed.crawling.path
    axes[1].plot(crawl[:, 0], crawl[:, 1], lw=1.5, color="tab:orange", label=f"lr {LR_CALM}")
    axes[1].plot(*crawl[-1], "o", color="tab:orange", ms=8)
    axes[1].annotate(f"after {fixed.crawl_steps:,} updates:\n{100 * fixed.crawling.distance_left():.0f}% of the "
                     "way still to go", crawl[-1], xytext=(-5.5, 0.35), fontsize=9,
                     arrowprops={"arrowstyle": "->", "color": "tab:orange"})
    axes[1].set(title="(b) Small fixed lr: crawls along the valley floor")
    colors = iter(["tab:blue", "tab:green", "tab:purple"])
    for name, traj in adaptive.items():
        axes[2].plot(traj.path[:, 0], traj.path[:, 1], lw=1.0, alpha=0.85, color=next(colors), label=name)
    axes[2].set(title=f"(c) Adaptive lr: to the minimum in {ADAPTIVE_STEPS:,} updates")
    for ax in axes:
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle("The elongated convex error surface: fixed learning rates oscillate (a) or crawl (b), "
                 "adaptive ones arrive (c)", y=1.04)
    ctx.figure("trajectories", fig)


def _other_figures(ctx: LabContext, fixed: FixedRates, adaptive: dict[str, Trajectory], eruption: Eruption,
                   warm: WarmUp) -> None:
    import matplotlib.pyplot as plt

    osc = fixed.oscillating
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
    ax1.plot(osc.losses)
    ax1.set(title="Loss: stuck", xlabel="update", ylabel="loss", yscale="log")
    ax2.plot(osc.grad_norms, color="tab:red")
    ax2.set(title="Gradient norm: not small", xlabel="update", ylabel="||g||", yscale="log")
    fig.suptitle(f"Gradient descent, lr {LR_OSCILLATE:.5f}: oscillating across the valley")
    ctx.figure("stuck_not_small_gradient", fig)

    fig, ax = plt.subplots(figsize=(9, 3.5))
    ax.plot(fixed.crawling.losses[:ADAPTIVE_STEPS], label=f"GD (lr {LR_CALM})")
    for name, traj in adaptive.items():
        ax.plot(traj.losses, label=name)
    ax.set(yscale="log", xlabel="update", ylabel="loss", title="Loss per update")
    ax.legend(fontsize=8)
    ctx.figure("loss_curves", fig)

    raw, dec = eruption.undecayed, eruption.decayed
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
    ax1.plot(raw.losses, label="no decay (eta 0.05)", lw=0.8)
    ax1.plot(dec.losses, label="eta / sqrt(t+1) (eta 1.5)", lw=0.8)
    ax1.set(yscale="log", xlabel="update", ylabel="loss", title="Adagrad (lecture's form): eruptions")
    ax1.legend(fontsize=8)
    ax2.plot(raw.sigmas[:, 1], label="sigma of w2, no decay", lw=0.8)
    ax2.plot(dec.sigmas[:, 1], label="sigma of w2, with decay", lw=0.8)
    ax2.set(yscale="log", xlabel="update", ylabel="sigma", title="sigma shrinks during flat stretches")
    ax2.legend(fontsize=8)
    ctx.figure("adagrad_eruption", fig)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
    ax1.plot(warm.cold.losses, label="RMSProp (lr 0.1, alpha 0.999), lr ~ 1/sqrt(t) after update 300")
    ax1.plot(warm.warm.losses, label=f"... with a {WARMUP}-update linear warm-up instead")
    ax1.axhline(warm.cold.losses[0], color="grey", ls=":", lw=0.8)
    ax1.axvline(WARMUP, color="grey", ls=":", lw=0.8)
    ax1.set(yscale="log", xlabel="update", ylabel="loss", title="Warm-up avoids the early blow-up")
    ax1.legend(fontsize=8)
    ax2.plot(np.arange(1, warm.applied_lrs.size + 1), warm.applied_lrs)
    ax2.axvline(warm.warmup_steps, ls=":", color="grey")
    ax2.set_xticks(np.arange(0, warm.applied_lrs.size + 1, warm.warmup_steps))
    ax2.set(xlabel="step", ylabel="lr applied (from the step taken)",
            title=f"Transformer schedule (d_model {warm.d_model}, warmup {warm.warmup_steps})")
    ctx.figure("warmup", fig)


def run(ctx: LabContext) -> None:
    fixed = fixed_rates(ctx)
    adaptive = adaptive_rates(ctx, fixed)
    eruption = adagrad_eruption(ctx)
    warm = warm_up(ctx)
    _trajectories_figure(ctx, fixed, adaptive)
    _other_figures(ctx, fixed, adaptive, eruption, warm)
    ctx.write(
        "The error surface is L(w) = 1/2 w^T A w with curvatures 0.001 (along the valley) and 100 "
        "(across it). A fixed learning rate has to stay below 2/100 for the steep direction, which "
        "makes it crawl along the flat one; adaptive methods divide each parameter's step by its "
        "own sigma. The lecture's Adagrad divides by the root *mean* square of past gradients: "
        "during long flat stretches sigma keeps shrinking until the steps erupt. PyTorch's Adagrad "
        "divides by the root of the *sum*, which is the lecture's form with eta decayed as "
        "1/sqrt(t+1); so the lab runs the lecture's undecayed form as gg.optim.Adagrad with a LambdaLR "
        "that grows its lr as sqrt(t+1) (tests/labs/test_adaptive_lr.py checks that this equals the "
        "lecture's formula, written out). Warm-up here is followed by a decay of the lr as 1/sqrt(t), as in "
        "the Transformer's schedule: with a constant lr after the warm-up, RMSProp's sigma, which shrank while the "
        "steps were small, meets the full lr and the loss erupts a few updates after the warm-up instead."
    )


LAB = Lab(
    name="adaptive-lr",
    lecture="Lecture 6",
    title="Adaptive learning rate",
    summary="fixed rates oscillate or crawl; Adagrad, RMSProp, Adam; Adagrad's eruption; warm-up",
    run=run,
)
