"""Lecture 6: adaptive learning rates, on the lecture's elongated convex error surface.

The surface is L(w) = 1/2 w^T A w, a bowl whose curvature is 100 across the valley and 0.001
along it (a condition number of 10^5), turned by 0.002 rad so that the valley floor is not
exactly an axis (as in a real model, the two parameters are slightly coupled). Its minimum is
w = 0; every run starts at (-8, 0.5).

- A fixed learning rate either oscillates across the valley (large) or crawls along it (small):
  training stalls although the gradient is not small.
- Adagrad, RMSProp and Adam give each parameter its own step size eta / sigma and reach the
  minimum.
- The lecture's Adagrad (sigma = root mean square of all past gradients, eta fixed) "erupts":
  after a long stretch of tiny gradients sigma becomes small, the steps huge, and the parameters
  shoot out of the valley; a decaying eta_t = eta / sqrt(t + 1) (which is exactly PyTorch's and
  glassgrad's Adagrad) fixes it.
- Warm-up: at the start sigma is estimated from very few gradients; RMSProp's first steps then
  throw the parameters up the valley wall, unless the learning rate starts small and grows.
"""

from __future__ import annotations

import numpy as np

import glassgrad as gg
from glassgrad.analysis import OptimizerTrace
from glassgrad.labs._lab import Lab, LabContext

CURVATURES = np.array([0.001, 100.0])
ANGLE = 0.002
START = np.array([-8.0, 0.5])


def _surface_matrix() -> np.ndarray:
    c, s = np.cos(ANGLE), np.sin(ANGLE)
    rot = np.array([[c, -s], [s, c]])
    return rot.T @ np.diag(CURVATURES) @ rot


A = _surface_matrix()
_A_TENSOR = gg.tensor(A, dtype=gg.float64)


def loss_of(w: gg.Tensor) -> gg.Tensor:
    """L(w) = 1/2 w^T A w."""
    return 0.5 * (w * (_A_TENSOR @ w)).sum()


def loss_grid(w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    """L over a grid (rows: w2, columns: w1), computed directly for the contour plots."""
    W1, W2 = np.meshgrid(w1, w2)  # noqa: N806
    return 0.5 * (A[0, 0] * W1 * W1 + 2 * A[0, 1] * W1 * W2 + A[1, 1] * W2 * W2)


def run_optimizer(make_optimizer, steps: int, schedule=None, trace_sigma: bool = False):
    """Run ``steps`` updates from START; returns (path (steps+1, 2), losses, grad norms, trace)."""
    w = gg.tensor(START.copy(), dtype=gg.float64, requires_grad=True)
    opt = make_optimizer([w])
    sched = schedule(opt) if schedule else None
    trace = OptimizerTrace(opt, keep_arrays=True) if trace_sigma else None
    path = np.empty((steps + 1, 2))
    path[0] = START
    losses, grad_norms = np.empty(steps), np.empty(steps)
    for t in range(steps):
        opt.zero_grad()
        loss = loss_of(w)
        loss.backward()
        losses[t] = loss.item()
        grad_norms[t] = float(np.linalg.norm(w.grad.numpy()))
        (trace or opt).step()
        if sched:
            sched.step()
        path[t + 1] = w.detach().numpy()
    return path, losses, grad_norms, trace


def lecture_adagrad(steps: int, eta: float, decay: bool):
    """The lecture's Adagrad, written out: sigma_t = sqrt(mean of g_0^2 .. g_t^2) per coordinate,
    w <- w - eta_t / sigma_t * g_t, with eta_t = eta (no decay) or eta / sqrt(t + 1)."""
    w = gg.tensor(START.copy(), dtype=gg.float64, requires_grad=True)
    sum_sq = np.zeros(2)
    path, losses, sigmas = np.empty((steps + 1, 2)), np.empty(steps), np.empty((steps, 2))
    path[0] = START
    for t in range(steps):
        w.grad = None
        loss = loss_of(w)
        loss.backward()
        g = w.grad.numpy()
        sum_sq += g * g
        sigma = np.sqrt(sum_sq / (t + 1))
        eta_t = eta / np.sqrt(t + 1) if decay else eta
        with gg.no_grad():
            w -= gg.tensor(eta_t * g / (sigma + 1e-12))
        losses[t], sigmas[t], path[t + 1] = loss.item(), sigma, w.detach().numpy()
    return path, losses, sigmas


def _eruptions(losses: np.ndarray, low: float, high: float) -> tuple[int, int | None]:
    """How many times the loss, after first falling below ``low``, climbs back above ``high``."""
    below = np.nonzero(losses < low)[0]
    if not below.size:
        return 0, None
    first = int(below[0])
    above = losses[first:] > high
    return int((above[1:] & ~above[:-1]).sum()), first


def run(ctx: LabContext) -> None:
    import matplotlib.pyplot as plt

    dist0 = float(np.linalg.norm(START))
    lam_max = CURVATURES.max()
    lr_oscillate = 0.99995 * 2 / lam_max  # just under the stability limit 2 / lambda_max
    lr_largest_calm = 0.0199  # below 2 / lambda_max with margin: no lasting oscillation
    crawl_steps = ctx.size(10_000, 100_000)
    adaptive_steps = 3000

    # 1. stuck with a large gradient: oscillation across the valley
    osc_path, osc_loss, osc_gnorm, _ = run_optimizer(lambda p: gg.optim.SGD(p, lr=lr_oscillate), 1000)
    drop = osc_loss[-1] / osc_loss[0]
    ctx.claim(
        "Training can stall without a small gradient: with a fixed learning rate that oscillates across "
        "the valley, 1,000 updates leave the loss above half its start while the gradient norm stays large",
        f"loss ratio {drop:.2f}, smallest gradient norm {osc_gnorm.min():.1f}",
        drop > 0.5 and osc_gnorm.min() > 10,
    )

    # 2. a small fixed learning rate crawls along the valley
    crawl_path, crawl_loss, _, _ = run_optimizer(lambda p: gg.optim.SGD(p, lr=lr_largest_calm), crawl_steps)
    remaining = float(np.linalg.norm(crawl_path[-1])) / dist0
    ctx.claim(
        f"A fixed learning rate small enough not to oscillate ({lr_largest_calm}) crawls: after "
        f"{crawl_steps:,} updates the parameters are still far from the minimum",
        f"{100 * remaining:.0f}% of the starting distance left",
        remaining > 0.1,
    )

    # 3. adaptive learning rates reach the minimum
    adaptive = {
        "Adagrad (lr 1)": lambda p: gg.optim.Adagrad(p, lr=1.0),
        "RMSProp (lr 0.01)": lambda p: gg.optim.RMSprop(p, lr=0.01),
        "Adam (lr 0.1)": lambda p: gg.optim.Adam(p, lr=0.1),
    }
    paths = {f"GD (lr {lr_oscillate:.5f})": osc_path, f"GD (lr {lr_largest_calm})": crawl_path[: adaptive_steps + 1]}
    losses = {f"GD (lr {lr_largest_calm})": crawl_loss[:adaptive_steps]}
    gd_left = float(np.linalg.norm(crawl_path[adaptive_steps])) / dist0
    for name, make in adaptive.items():
        path, loss, _, _ = run_optimizer(make, adaptive_steps)
        paths[name], losses[name] = path, loss
        left = float(np.linalg.norm(path[-1])) / dist0
        ctx.claim(
            f"{name.split(' ')[0]} reaches the minimum of the elongated surface in {adaptive_steps:,} updates "
            f"(gradient descent is still {100 * gd_left:.0f}% away)",
            f"{100 * left:.3g}% of the starting distance left",
            left < 0.01,
        )
    ctx.result("distance_left", {k: float(np.linalg.norm(p[-1])) / dist0 for k, p in paths.items()})

    # 4. Adagrad's eruption without decay, fixed by decay
    erupt_steps = ctx.size(5000, 30_000)
    raw_path, raw_loss, raw_sigma = lecture_adagrad(erupt_steps, eta=0.05, decay=False)
    dec_path, dec_loss, dec_sigma = lecture_adagrad(erupt_steps, eta=1.5, decay=True)
    low, high = 1e-3 * raw_loss[0], 0.1 * raw_loss[0]
    n_raw, first_raw = _eruptions(raw_loss, low, high)
    n_dec, first_dec = _eruptions(dec_loss, low, high)
    ctx.claim(
        "Without learning-rate decay, the lecture's Adagrad (sigma = RMS of past gradients) erupts: after "
        "reaching the minimum the loss shoots back above 10% of its start",
        f"{n_raw} eruption(s) in {erupt_steps:,} updates",
        n_raw >= 1,
    )
    ctx.claim(
        "With decay eta_t = eta / sqrt(t+1) (PyTorch's Adagrad) there is no eruption",
        f"{n_dec} eruption(s); reached the minimum region at update {first_dec}",
        n_dec == 0 and first_dec is not None,
    )
    ctx.result("eruptions", {"without_decay": n_raw, "with_decay": n_dec, "first_low_without_decay": first_raw})

    # 5. warm-up
    def warmup(opt):
        return gg.optim.lr_scheduler.LinearLR(opt, start_factor=0.01, total_iters=100)

    _, cold_loss, _, _ = run_optimizer(lambda p: gg.optim.RMSprop(p, lr=0.3), 1000)
    _, warm_loss, _, _ = run_optimizer(lambda p: gg.optim.RMSprop(p, lr=0.3), 1000, schedule=warmup)
    cold_peak, warm_peak = cold_loss[:100].max() / cold_loss[0], warm_loss[:100].max() / warm_loss[0]
    ctx.claim(
        "Warm-up: RMSProp's first steps, with sigma estimated from few gradients, throw the parameters up "
        "the valley wall; a learning rate that starts small and grows keeps the loss down",
        f"peak loss in the first 100 updates: {cold_peak:.1f}x the start without warm-up, "
        f"{warm_peak:.2f}x with a 100-update linear warm-up",
        cold_peak > 2 and warm_peak <= 1.0,
    )

    # the Transformer's schedule: d_model^-0.5 * min(step^-0.5, step * warmup^-1.5)
    d_model, warm = 512, 4000
    param = gg.zeros(1, requires_grad=True)
    opt = gg.optim.SGD([param], lr=1.0)
    sched = gg.optim.lr_scheduler.WarmupInverseSqrtLR(opt, d_model=d_model, warmup_steps=warm)
    lrs = []
    for _ in range(20_000):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    lrs = np.array(lrs)
    peak = int(np.argmax(lrs)) + 1
    ctx.claim(
        "The Transformer's warm-up schedule rises linearly for `warmup` steps, then decays as step^-0.5",
        f"peak at step {peak} (warmup {warm}); lr(4 warmup) / lr(warmup) = {lrs[4 * warm - 1] / lrs[warm - 1]:.3f}",
        peak == warm and abs(lrs[4 * warm - 1] / lrs[warm - 1] - 0.5) < 1e-9,
    )

    # figures
    w1 = np.linspace(-9, 1.5, 300)
    w2 = np.linspace(-0.7, 0.7, 300)
    grid = loss_grid(w1, w2)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
    groups = [("Fixed learning rates", [k for k in paths if k.startswith("GD")]),
              ("Adaptive learning rates", [k for k in paths if not k.startswith("GD")])]
    colors = iter(["tab:red", "tab:orange", "tab:blue", "tab:green", "tab:purple"])
    for ax, (title, names) in zip(axes, groups):
        ax.contour(w1, w2, grid, levels=np.logspace(-3, 1.5, 14), cmap="Greys", linewidths=0.7)
        for name in names:
            path = paths[name][:200] if name.startswith(f"GD (lr {lr_oscillate:.5f}") else paths[name]
            ax.plot(path[:, 0], path[:, 1], lw=0.8, alpha=0.85, color=next(colors), label=name)
        ax.plot(0, 0, "kx", ms=10)
        ax.set(xlabel="w1 (flat direction)", title=title)
        ax.legend(loc="upper right", fontsize=8)
    axes[0].set_ylabel("w2 (steep direction)")
    fig.suptitle(f"Elongated convex error surface, {adaptive_steps:,} updates each (oscillating GD: first 200)")
    ctx.figure("trajectories", fig)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
    ax1.plot(osc_loss)
    ax1.set(title="Loss: stuck", xlabel="update", ylabel="loss", yscale="log")
    ax2.plot(osc_gnorm, color="tab:red")
    ax2.set(title="Gradient norm: not small", xlabel="update", ylabel="||g||", yscale="log")
    fig.suptitle(f"Gradient descent, lr {lr_oscillate:.5f}: oscillating across the valley")
    ctx.figure("stuck_not_small_gradient", fig)

    fig, ax = plt.subplots(figsize=(9, 3.5))
    for name, loss in losses.items():
        ax.plot(loss, label=name)
    ax.set(yscale="log", xlabel="update", ylabel="loss", title="Loss per update")
    ax.legend(fontsize=8)
    ctx.figure("loss_curves", fig)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
    ax1.plot(raw_loss, label="no decay (eta 0.05)", lw=0.8)
    ax1.plot(dec_loss, label="eta / sqrt(t+1) (eta 1.5)", lw=0.8)
    ax1.set(yscale="log", xlabel="update", ylabel="loss", title="Adagrad (lecture's form): eruptions")
    ax1.legend(fontsize=8)
    ax2.plot(raw_sigma[:, 1], label="sigma of w2, no decay", lw=0.8)
    ax2.plot(dec_sigma[:, 1], label="sigma of w2, with decay", lw=0.8)
    ax2.set(yscale="log", xlabel="update", ylabel="sigma", title="sigma shrinks during flat stretches")
    ax2.legend(fontsize=8)
    ctx.figure("adagrad_eruption", fig)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
    ax1.plot(cold_loss[:300], label="RMSProp lr 0.3")
    ax1.plot(warm_loss[:300], label="... with 100-update warm-up")
    ax1.set(yscale="log", xlabel="update", ylabel="loss", title="Warm-up avoids the early blow-up")
    ax1.legend(fontsize=8)
    ax2.plot(np.arange(1, lrs.size + 1), lrs)
    ax2.axvline(warm, ls=":", color="grey")
    ax2.set(xlabel="step", ylabel="lr", title=f"Transformer schedule (d_model {d_model}, warmup {warm})")
    ctx.figure("warmup", fig)

    ctx.write(
        "The error surface is L(w) = 1/2 w^T A w with curvatures 0.001 (along the valley) and 100 "
        "(across it). A fixed learning rate has to stay below 2/100 for the steep direction, which "
        "makes it crawl along the flat one; adaptive methods divide each parameter's step by its "
        "own sigma. The lecture's Adagrad divides by the root *mean* square of past gradients: "
        "during long flat stretches sigma keeps shrinking until the steps erupt; PyTorch's Adagrad "
        "divides by the root of the *sum*, which is the same as decaying eta as 1/sqrt(t+1)."
    )


LAB = Lab(
    name="adaptive-lr",
    lecture="Lecture 6",
    title="Adaptive learning rate",
    summary="fixed rates oscillate or crawl; Adagrad, RMSProp, Adam; Adagrad's eruption; warm-up",
    run=run,
)
