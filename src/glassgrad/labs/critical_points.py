"""Lecture 4: critical points. Where the gradient vanishes, the Hessian's eigenvalues tell a local
minimum (all positive) from a saddle point (mixed signs); in a network's high-dimensional
parameter space the critical points that training finds are mostly saddles.

- The lecture's worked example, L = (1 - w1 w2)^2 (the model y = w1 w2 x on one sample x = 1,
  y = 1): at (0, 0) the gradient is 0, H = [[0, -2], [-2, 0]] with eigenvalues 2 and -2, so
  (0, 0) is a saddle point; a step along u = [1, 1] (the eigenvector of -2) lowers the loss.
- The course's homework: fit sin(5 pi x) / (5 pi x) with a 1-128-1 ReLU network, train with Adam,
  then minimize the gradient norm itself (||g||^2 as a loss, by double backprop), and look at the
  point with the exact Hessian (385 x 385, float64). The "minimum ratio" is the share of positive
  eigenvalues; the homework calls the point local-minimum-like when ||g|| < 1e-3 and the ratio is
  above 0.5, a saddle when it is at most 0.5.
- Over many runs: the minimum ratio of trained networks is rarely above about 0.6, and critical
  points whose eigenvalues are all positive (ratio 1) are rare: we check that no run finds one,
  and that every critical point found has clearly negative eigenvalues.
"""

from __future__ import annotations

import numpy as np

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.analysis import critical_point, critical_point_of, escape_saddle, model_loss_at
from glassgrad.labs._lab import Lab, LabContext

HIDDEN = 128
N_POINTS = 100  # x on an even grid over [-1, 1]
GRAD_TOL = 1e-3  # the homework's "the gradient is zero"
EIG_TOL = 1e-6  # |eigenvalue| below this counts as zero (flat direction)
ADAM_STEPS = 8000
ADAM_LR = 3e-3
GRAD_NORM_STEPS = 200
GRAD_NORM_LR = 1e-5


# ---------------------------------------------------------------- the worked example


def example_loss(w: gg.Tensor) -> gg.Tensor:
    """The lecture's L(w1, w2) = (1 - w1 w2)^2: the model y = w1 w2 x, one sample x = 1, y = 1."""
    return (1 - w[0] * w[1]) ** 2


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
    )
    ctx.result("example", {"hessian": report.hessian, "eigenvalues": report.eigenvalues, "u": u,
                           "loss_before": before, "loss_after": after, "loss_uphill": uphill})

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


# ---------------------------------------------------------------- the homework


def sinc_data() -> tuple[gg.Tensor, gg.Tensor]:
    """N_POINTS samples of y = sin(5 pi x) / (5 pi x) on an even grid over [-1, 1] (float64)."""
    x = np.linspace(-1, 1, N_POINTS)
    return gg.tensor(x[:, None]), gg.tensor(np.sinc(5 * x)[:, None])  # np.sinc(t) = sin(pi t) / (pi t)


def make_net() -> nn.Module:
    """The homework's network: 1 input, 128 ReLUs, 1 output (385 parameters), in float64."""
    return nn.Sequential(nn.Linear(1, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 1)).double()


def squared_grad_norm(model: nn.Module, x: gg.Tensor, y: gg.Tensor) -> gg.Tensor:
    """||dL/dtheta||^2 as a differentiable tensor: the gradient is computed with create_graph=True,
    so backward() through this gives 2 H g (double backprop)."""
    loss = nn.functional.mse_loss(model(x), y)
    grads = gg.autograd.grad(loss, list(model.parameters()), create_graph=True)
    return sum((g * g).sum() for g in grads)


def train_to_critical_point(seed: int, x: gg.Tensor, y: gg.Tensor, adam_steps: int = ADAM_STEPS,
                            grad_norm_steps: int = GRAD_NORM_STEPS) -> dict:
    """The homework's procedure: (1) Adam on the MSE, its learning rate decayed to 0 by a cosine
    schedule; (2) Adam on ||g||^2, keeping the weights with the smallest ||g|| seen (phase 2 stops
    early once ||g|| < GRAD_TOL/10). Returns the model and the curves of loss and ||g||."""
    gg.manual_seed(seed)
    model = make_net()
    params = list(model.parameters())
    dead_at_init = dead_and_linear_units(model, x)[0]
    opt = gg.optim.Adam(params, lr=ADAM_LR)
    schedule = gg.optim.lr_scheduler.CosineAnnealingLR(opt, adam_steps)
    losses, grad_norms = np.empty(adam_steps), np.empty(adam_steps)
    for t in range(adam_steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        losses[t] = loss.item()
        grad_norms[t] = np.sqrt(sum(float((p.grad.numpy() ** 2).sum()) for p in params))
        opt.step()
        schedule.step()

    opt = gg.optim.Adam(params, lr=GRAD_NORM_LR)
    best, best_norm, norm_curve = None, np.inf, []
    for _ in range(grad_norm_steps + 1):
        opt.zero_grad()
        sq = squared_grad_norm(model, x, y)
        norm = float(np.sqrt(sq.item()))
        norm_curve.append(norm)
        if norm < best_norm:
            best, best_norm = [p.detach().clone() for p in params], norm
        if norm < GRAD_TOL / 10:
            break
        sq.backward()
        opt.step()
    with gg.no_grad():
        for p, b in zip(params, best):
            p.copy_(b)
    return {"model": model, "losses": losses, "grad_norms": grad_norms, "grad_norm_phase": np.array(norm_curve),
            "dead_at_init": dead_at_init}


def dead_and_linear_units(model: nn.Module, x: gg.Tensor) -> tuple[int, int]:
    """How many hidden ReLUs are off for every input in ``x`` (dead: their three parameters do
    nothing) and how many are on for every input (together they are one linear function)."""
    with gg.no_grad():
        pre_activation = (x @ model[0].weight.T + model[0].bias).numpy()
    return int((pre_activation <= 0).all(axis=0).sum()), int((pre_activation > 0).all(axis=0).sum())


def loss_along(model: nn.Module, x: gg.Tensor, y: gg.Tensor, direction: np.ndarray,
               ts: np.ndarray) -> tuple[np.ndarray, float]:
    """L(theta + t d) - L(theta) for each t in ``ts``, and the slope g . d at t = 0 (the model is
    left unchanged)."""
    loss_at, theta = model_loss_at(model, nn.functional.mse_loss, (x, y))
    base = loss_at(theta)
    params = list(model.parameters())
    grads = gg.autograd.grad(nn.functional.mse_loss(model(x), y), params)
    slope = float(np.concatenate([g.numpy().reshape(-1) for g in grads]) @ direction)
    return np.array([loss_at(theta + t * direction) - base for t in ts]), slope


def analyse(model: nn.Module, x: gg.Tensor, y: gg.Tensor) -> dict:
    """Exact Hessian analysis of the model's point: gradient norm, eigenvalues, the course's minimum
    ratio (share of eigenvalues > 0), the counts of clearly positive / negative / ~zero ones, and
    the homework's verdict."""
    report = critical_point(model, nn.functional.mse_loss, (x, y), grad_tol=GRAD_TOL, eig_tol=EIG_TOL)
    ev = report.eigenvalues
    positive, negative = int((ev > EIG_TOL).sum()), int((ev < -EIG_TOL).sum())
    if report.grad_norm >= GRAD_TOL:
        homework = "not critical"
    else:
        homework = "local-minimum-like" if report.minimum_ratio > 0.5 else "saddle"
    dead, linear = dead_and_linear_units(model, x)
    return {
        "loss": report.loss, "grad_norm": report.grad_norm, "eigenvalues": ev,
        "minimum_ratio": report.minimum_ratio, "positive": positive, "negative": negative,
        "flat": len(ev) - positive - negative, "ratio_nonzero": positive / max(positive + negative, 1),
        "verdict": report.verdict, "homework_verdict": homework,
        "dead_units": dead, "linear_units": linear, "lowest_eigenvector": report.eigenvectors[:, 0],
    }


def homework(ctx: LabContext) -> None:
    x, y = sinc_data()
    n_runs = ctx.size(3, 24)
    runs, points = [], []
    for r in ctx.bar(range(n_runs), desc="runs"):
        run_ = train_to_critical_point(ctx.seed * 1000 + r, x, y)
        runs.append(run_)
        points.append(analyse(run_["model"], x, y))
    n_params = len(points[0]["eigenvalues"])
    critical = [p for p in points if p["grad_norm"] < GRAD_TOL]
    norms = np.array([p["grad_norm"] for p in points])
    ctx.claim(
        f"The homework's procedure (Adam, then minimizing ||g||^2) reaches a critical point, ||g|| < {GRAD_TOL:g}, "
        f"with the 1-128-1 ReLU net ({n_params} parameters) on sin(5 pi x)/(5 pi x)",
        f"{len(critical)} of {n_runs} runs; ||g|| from {norms.min():.2g} to {norms.max():.2g}",
        len(critical) >= max(2, int(np.ceil(0.9 * n_runs))),
    )
    if not critical:
        return
    ratios = np.array([p["minimum_ratio"] for p in critical])
    negatives = np.array([p["negative"] for p in critical])
    ctx.claim(
        "Truly all-positive local minima are rare: no critical point found has minimum ratio 1; every one has "
        f"clearly negative eigenvalues (< -{EIG_TOL:g}), i.e. is a saddle point by the eigenvalue test",
        f"minimum ratios {ratios.min():.3f} to {ratios.max():.3f}; negative eigenvalues per point: "
        f"{negatives.min()} to {negatives.max()} of {n_params}",
        ratios.max() < 1 and negatives.min() >= 1 and all(p["verdict"] == "saddle point" for p in critical),
    )
    above = float((ratios > 0.6).mean())
    ctx.claim(
        "The minimum ratio (share of positive eigenvalues) of trained networks is rarely above about 0.6 "
        "(here: for at most 10% of the critical points)",
        f"{100 * above:.0f}% of {len(critical)} critical points above 0.6; largest {ratios.max():.3f}, "
        f"mean {ratios.mean():.3f}",
        above <= 0.1,
    )

    # Does the loss really go down along the most negative eigenvector, as at the worked example's saddle?
    ts = np.linspace(-0.1, 0.1, 81)
    for run_, p in zip(runs, points):
        p["along_lowest"], p["slope_lowest"] = loss_along(run_["model"], x, y, p["lowest_eigenvector"], ts)
    arrays = ("eigenvalues", "lowest_eigenvector", "along_lowest", "slope_lowest")
    ctx.result("runs", [{k: v for k, v in p.items() if k not in arrays} for p in points])
    ctx.result("grad_norm_after_adam", [r["grad_norms"][-1] for r in runs])
    ctx.result("dead_units_at_init", [r["dead_at_init"] for r in runs])
    _homework_text(ctx, runs, points, critical, ts)
    _homework_figures(ctx, runs, points, critical, x, y, ts)


def _homework_text(ctx: LabContext, runs, points, critical, ts) -> None:
    after_adam = np.array([r["grad_norms"][-1] for r in runs])
    phase_change = np.array([r["grad_norm_phase"].min() / r["grad_norm_phase"][0] for r in runs])
    ratios = np.array([p["minimum_ratio"] for p in critical])
    nonflat = np.array([p["ratio_nonzero"] for p in critical])
    flat = np.array([p["flat"] for p in critical])
    lowest = np.array([p["eigenvalues"][0] for p in critical])
    highest = np.array([p["eigenvalues"][-1] for p in critical])
    dead_init = np.array([r["dead_at_init"] for r in runs])
    tiny = np.array([int((np.abs(p["eigenvalues"]) < 1e-12).sum()) for p in critical])
    median_nonflat = np.median(np.concatenate([np.abs(p["eigenvalues"])[np.abs(p["eigenvalues"]) > EIG_TOL]
                                               for p in critical]))
    n_params = len(critical[0]["eigenvalues"])
    # (L(theta + t u) + L(theta - t u)) / 2 - L(theta) cancels the first-order term g.u t: what is left
    # is the curvature along u, which the Hessian predicts to be 1/2 lambda t^2 < 0
    even = np.array([(p["along_lowest"][-1] + p["along_lowest"][0]) / 2 for p in critical])
    predicted = np.array([0.5 * p["eigenvalues"][0] * ts.max() ** 2 for p in critical])
    ctx.result("curvature_along_lowest", {"t": ts.max(), "measured_even_part": even, "hessian_prediction": predicted})
    verdicts = [p["homework_verdict"] for p in critical]
    n = len(critical)
    rows = "\n".join(
        f"| {i} | {p['loss']:.2e} | {a:.2e} | {p['grad_norm']:.2e} | {p['minimum_ratio']:.3f} | {p['positive']} | "
        f"{p['negative']} | {p['flat']} | {p['ratio_nonzero']:.3f} | {p['dead_units']} / {p['linear_units']} | "
        f"{p['homework_verdict']} |"
        for i, (p, a) in enumerate(zip(points, after_adam))
    )
    ctx.write(
        f"Each run: {ADAM_STEPS:,} full-batch Adam steps on the MSE over {N_POINTS} points (learning rate "
        f"{ADAM_LR:g}, cosine decay to 0), then up to {GRAD_NORM_STEPS} Adam steps (lr {GRAD_NORM_LR:g}) on "
        "||g||^2 by double backprop, keeping the smallest ||g||; then the exact Hessian in float64. 'Flat' counts "
        f"eigenvalues with |lambda| <= {EIG_TOL:g}; dead / linear units are ReLUs that are off / on for every "
        "training x.\n\n"
        "| run | MSE | ‖g‖ after Adam | ‖g‖ final | minimum ratio | λ > 0 | λ < 0 | flat | share > 0 among "
        "non-flat | dead / linear ReLUs | homework verdict |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n" + rows
    )
    ctx.write(
        "| | lecture | ours |\n| --- | --- | --- |\n"
        f"| minimum ratio of trained networks | rarely above about 0.6 (approx.) | {ratios.min():.3f} to "
        f"{ratios.max():.3f} over {n} critical points |\n"
        f"| points with all eigenvalues positive | rare | {int((ratios >= 1).sum())} of {n} |"
    )
    ctx.write(
        f"**What else we see.** (1) Adam with a decaying learning rate alone ends at ||g|| = {after_adam.min():.1e} "
        f"to {after_adam.max():.1e}; the homework's second phase, minimizing ||g||^2 by gradient steps, does not "
        f"lower it further (smallest ||g|| reached / start: {phase_change.min():.2f} to {phase_change.max():.2f}). "
        "Minimizing ||g||^2 is a harder problem than minimizing L: its gradient is 2 H g and its curvature "
        f"about H^2, so the spread of curvatures is squared (largest eigenvalue {highest.max():.0f}, median non-flat "
        f"|lambda| {median_nonflat:.1e}), and the loss of a ReLU network is only piecewise smooth: g jumps whenever "
        "a ReLU's kink crosses a data point. (The jump of ||g|| right after phase 2 starts comes from Adam's first "
        f"step, which moves every parameter by about lr: a step of length {GRAD_NORM_LR * np.sqrt(n_params):.1e} "
        f"changes g by up to lambda_max times that, {highest.max() * GRAD_NORM_LR * np.sqrt(n_params):.1e}.)\n\n"
        f"(2) {flat.min()} to {flat.max()} of the {n_params} eigenvalues are flat. A ReLU "
        "that is off for every x has three parameters that change nothing (exactly flat directions); "
        f"with PyTorch's default initialization that is the case for about a quarter of them ({dead_init.min()} "
        f"to {dead_init.max()} of {HIDDEN} at the start of our runs). ReLUs that are on for every x together act "
        "as one linear function, with redundant parameters. Most flat eigenvalues are rounding noise around an "
        f"exact 0 ({tiny.min()} to {tiny.max()} per point have |lambda| < 1e-12), their sign set by rounding, so "
        "the course's minimum ratio (share of eigenvalues > 0) is pulled towards 0.5 by them; "
        f"among the non-flat eigenvalues the share of positive ones is {nonflat.min():.2f} to {nonflat.max():.2f}.\n\n"
        f"(3) The homework's rule (ratio > 0.5 means local-minimum-like) calls {verdicts.count('local-minimum-like')} "
        f"of {n} points local-minimum-like, although every one has negative eigenvalues. These are tiny: the most "
        f"negative is {lowest.min():.1e} to {lowest.max():.1e}, against a largest eigenvalue of {highest.min():.0f} "
        f"to {highest.max():.0f}. Does the loss curve down along the eigenvector u of the most negative eigenvalue, "
        "as at the worked example's saddle? The even part (L(theta + t u) + L(theta - t u)) / 2 - L(theta) at "
        f"t = {ts.max():g}, which cancels the slope and measures the curvature along u, is positive (curving up) in "
        f"{int((even > 0).sum())} of {n} runs ({even.min():.1e} to {even.max():.1e}), where the Hessian predicts "
        f"1/2 lambda t^2 = {predicted.min():.1e} to {predicted.max():.1e}. The Hessian describes only the smooth "
        "piece of the loss around the point; a step of that size moves kinks across data points, and there the "
        "loss bends up. For ReLU networks the eigenvalue test is a statement about that piece, not a promise "
        "that the saddle can be escaped."
    )


def _homework_figures(ctx: LabContext, runs, points, critical, x, y, ts) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(16, 4))
    grid = np.linspace(-1, 1, 400)
    ax1.plot(grid, np.sinc(5 * grid), "k", lw=2, label="sin(5 pi x) / (5 pi x)")
    with gg.no_grad():
        xs = gg.tensor(grid[:, None])
        for i, run_ in enumerate(runs[:5]):
            ax1.plot(grid, run_["model"](xs).numpy()[:, 0], lw=1, alpha=0.8, label=f"run {i}")
    ax1.plot(x.numpy()[:, 0], y.numpy()[:, 0], ".", color="grey", ms=3, label="training points")
    ax1.set(xlabel="x", ylabel="y", title="1-128-1 ReLU fits")
    ax1.legend(fontsize=7)
    for i, run_ in enumerate(runs[:5]):
        line, = ax2.plot(np.arange(1, len(run_["grad_norms"]) + 1), run_["grad_norms"], lw=0.6, alpha=0.8,
                         label=f"run {i}")
        ax3.plot(run_["grad_norm_phase"], lw=1.2, color=line.get_color())
    for ax in (ax2, ax3):
        ax.axhline(GRAD_TOL, color="k", ls=":", label=f"||g|| = {GRAD_TOL:g}")
        ax.set(yscale="log", ylabel="||g||")
    ax2.set(xlabel="Adam step (loss = MSE)", title="Phase 1: Adam on the loss, lr decayed to 0")
    ax2.legend(fontsize=7, loc="upper right")
    ax3.set(xlabel="Adam step (loss = ||g||^2)", title="Phase 2: minimizing ||g||^2 (double backprop)")
    ctx.figure("homework_training", fig)

    example = points[0]
    ev = example["eigenvalues"]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4))
    colors = np.where(ev > EIG_TOL, "tab:blue", np.where(ev < -EIG_TOL, "tab:red", "grey"))
    axes[0].scatter(np.arange(len(ev)), ev, c=colors, s=6)
    axes[0].set_yscale("symlog", linthresh=EIG_TOL)
    axes[0].axhspan(-EIG_TOL, EIG_TOL, color="grey", alpha=0.15)
    axes[0].set(xlabel="index (ascending)", ylabel="eigenvalue (symlog)",
                title=f"Hessian spectrum, run 0: {example['negative']} < 0, {example['flat']} flat, "
                      f"{example['positive']} > 0")
    mags = np.log10(np.abs(ev) + 1e-300)
    axes[1].hist([mags[ev > 0], mags[ev < 0]], bins=np.linspace(-17, 3, 41), color=["tab:blue", "tab:red"],
                 label=["lambda > 0", "lambda < 0"])
    axes[1].axvline(np.log10(EIG_TOL), color="k", ls=":", label=f"|lambda| = {EIG_TOL:g}")
    axes[1].set(xlabel="log10 |lambda|", ylabel="count", title="Magnitudes: the flat ones are rounding noise")
    axes[1].legend(fontsize=8)
    lam = ev[0]
    axes[2].plot(ts, example["along_lowest"], color="tab:red", label="L(theta + t u) - L(theta), measured")
    g_u = example["slope_lowest"]
    axes[2].plot(ts, g_u * ts + 0.5 * lam * ts ** 2, "k:", label=f"Taylor: g.u t + 1/2 ({lam:.1e}) t^2")
    axes[2].set(xlabel="t", ylabel="change of the loss",
                title="The loss along u, eigenvector of the most negative eigenvalue")
    axes[2].legend(fontsize=8)
    ctx.figure("hessian_spectrum", fig)

    ratios = np.array([p["minimum_ratio"] for p in critical])
    fig, ax = plt.subplots(figsize=(9, 3.8))
    bins = np.linspace(0, 1, 101)
    ax.hist(ratios, bins=bins, alpha=0.8, label="minimum ratio (share of eigenvalues > 0)")
    ax.hist([p["ratio_nonzero"] for p in critical], bins=bins, alpha=0.6, label="share > 0 among non-flat eigenvalues")
    ax.axvline(0.5, color="k", ls=":", label="homework threshold 0.5")
    ax.axvline(0.6, color="tab:red", ls="--", label="lecture: rarely above ~0.6")
    ax.axvline(1.0, color="tab:green", lw=2, label="true local minimum (ratio 1)")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="ratio", ylabel="critical points",
           title=f"Minimum ratios of the {len(critical)} critical points found")
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
