"""Lecture 5: batch size and momentum, on MNIST (scikit-learn's 8x8 digits when MNIST is missing).

The network is a one-hidden-layer MLP (100 ReLUs) trained with cross-entropy and SGD. Claims:

- Time. One epoch = one pass over all batches. A large batch needs far fewer updates per epoch,
  so an epoch with batch 1000 takes much less time than an epoch with batch 1. The lecture adds
  that on a GPU the time *per update* barely grows up to a batch of about 1000 (the GPU works on
  the examples in parallel); on a CPU it does not hold: an update on 1000 images costs several
  times an update on one. Only the fixed overhead of an update keeps the time flat up to a batch
  of ~100; beyond that the arithmetic grows with the batch. (Timed on one core, BLAS limited to
  one thread, so that the numbers are reproducible on a shared machine.)
- Small batches optimize and generalize better: with the same number of epochs and each batch
  size at its best learning rate from a small grid (chosen by training loss), batch 32 ends with a
  higher training and test accuracy than a batch of 10% of the data (Keskar et al.'s "large").
- Small batches give noisy updates: the per-update loss of batch 8 jumps about, the full-batch
  loss falls smoothly (the spread of loss differences between updates, measured).
- Momentum (movement = last movement minus learning rate times gradient) can carry the
  parameter over a bump: on a designed curve with a shallow minimum before a deeper one, plain
  gradient descent stops in the shallow one, SGD with momentum 0.9 ends in the deeper one. On
  MNIST, at the same learning rate, momentum trains much faster.
"""

from __future__ import annotations

import time

import numpy as np

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.labs._digit_data import load_digit_data
from glassgrad.labs._lab import Lab, LabContext
from glassgrad.utils.data import DataLoader, TensorDataset

HIDDEN = 100


def mlp(n_inputs: int) -> nn.Module:
    """The lab's network: n_inputs -> 100 ReLUs -> 10 class logits."""
    return nn.Sequential(nn.Linear(n_inputs, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 10))


def update(model: nn.Module, optimizer, xb: gg.Tensor, yb: gg.Tensor) -> gg.Tensor:
    """One update: gradient of the batch's mean cross-entropy, then an optimizer step."""
    optimizer.zero_grad()
    loss = F.cross_entropy(model(xb), yb)
    loss.backward()
    optimizer.step()
    return loss


def loader(x: gg.Tensor, y: gg.Tensor, batch: int, seed: int) -> DataLoader:
    """Shuffled batches, reshuffled every epoch, from a generator of their own."""
    return DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=True, generator=gg.Generator(seed))


def evaluate(model: nn.Module, x: gg.Tensor, y: gg.Tensor) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``model`` on all of (x, y)."""
    with gg.no_grad():
        logits = model(x)
        return F.cross_entropy(logits, y).item(), (logits.argmax(dim=-1) == y).float().mean().item()


# ---------------------------------------------------------------- (a) time per update and per epoch


def time_batch_size(x: gg.Tensor, y: gg.Tensor, batch: int, max_timed: int, seed: int) -> dict:
    """Time updates with batch size ``batch`` on (x, y).

    Runs whole epochs until 3 epochs (and at least 3 updates) are timed, or ``max_timed`` updates.
    Time per update: the median of the individual updates. Time per epoch: the median of the whole
    epochs run (data loading included); if not even one epoch fits in ``max_timed`` updates, it is
    estimated as time per update x updates per epoch (``epoch_measured`` False).
    """
    model = mlp(x.shape[1])
    opt = gg.optim.SGD(model.parameters(), lr=0.01)
    batches = loader(x, y, batch, seed)
    update(model, opt, x[:batch], y[:batch])  # warm-up: first-call allocations are not timed
    per_update, per_epoch = [], []
    while len(per_update) < 3 or (len(per_epoch) < 3 and len(per_update) < max_timed):
        start = time.perf_counter()
        for i, (xb, yb) in enumerate(batches):
            t = time.perf_counter()
            update(model, opt, xb, yb)
            per_update.append(time.perf_counter() - t)
            if len(per_update) >= max_timed and i + 1 < len(batches):
                break  # the epoch is too long to time whole
        else:
            per_epoch.append(time.perf_counter() - start)
    t_update = float(np.median(per_update))
    measured = bool(per_epoch)
    t_epoch = float(np.median(per_epoch)) if measured else t_update * len(batches)
    return {"batch": batch, "updates_per_epoch": len(batches), "update_s": t_update, "epoch_s": t_epoch,
            "epoch_measured": measured, "timed_updates": len(per_update)}


def _one_two_five(value: float, _pos) -> str:
    """A log axis's tick label: the number at 1, 2 and 5 times a power of ten, else nothing."""
    if value <= 0:
        return ""
    leading = round(value / 10 ** np.floor(np.log10(value)))
    return f"{value:g}" if leading in (1, 2, 5) else ""


def timing_part(ctx: LabContext, x: gg.Tensor, y: gg.Tensor, limited: bool) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    n = len(y)
    sizes = [b for b in (1, 10, 100, 1000) if b < n] + [n]
    max_timed = ctx.size(1000, 60_000)
    rows = [time_batch_size(x, y, b, max_timed, ctx.seed) for b in ctx.bar(sizes, "timing batch sizes")]
    by = {r["batch"]: r for r in rows}
    ctx.result("timing", rows)

    table = ["| batch size | updates per epoch | time per update | time per epoch |", "|---|---|---|---|"]
    for r in rows:
        note = "" if r["epoch_measured"] else " (estimated: updates x time per update)"
        table.append(f"| {r['batch']:,}{' (full)' if r['batch'] == n else ''} | {r['updates_per_epoch']:,} | "
                     f"{1e3 * r['update_s']:.2f} ms | {r['epoch_s']:.3f} s{note} |")
    cores = "one CPU core (the BLAS library limited to one thread)" if limited else "the CPU"
    ctx.write(f"**(a) Time per update and per epoch**, {n:,} training images, on {cores}:\n\n" + "\n".join(table))

    big = 1000 if 1000 in by else sizes[-2]
    grow = by[big]["update_s"] / by[1]["update_s"]
    ctx.claim(
        f"On a CPU, unlike the lecture's GPU, the time per update grows with the batch size: an update on "
        f"{big} images costs more than 2x an update on one image (the lecture's GPU: about the same)",
        f"{1e3 * by[big]['update_s']:.2f} ms vs {1e3 * by[1]['update_s']:.3f} ms per update ({grow:.1f}x); "
        f"full batch of {n:,}: {1e3 * by[n]['update_s']:.1f} ms",
        grow > 2,
    )
    speedup = by[1]["epoch_s"] / by[big]["epoch_s"]
    ctx.claim(
        f"Still, an epoch with batch {big} takes far less time than an epoch with batch 1 (more than 5x less), "
        f"because it has {by[1]['updates_per_epoch'] // by[big]['updates_per_epoch']:,}x fewer updates",
        f"{by[big]['epoch_s']:.3f} s vs {by[1]['epoch_s']:.2f} s per epoch ({speedup:.0f}x faster)",
        speedup > 5,
    )
    flat = by[100]["update_s"] / by[1]["update_s"] if 100 in by else float("nan")
    ctx.write(
        f"The lecture's observation that the time per update barely grows up to a batch of about 1000 is a "
        f"property of a GPU, which processes the examples of a batch in parallel (more CPU cores help a "
        f"little in the same way). On {'one CPU core' if limited else 'this CPU'} an update on "
        f"{big} images costs {grow:.0f}x an update on one. What a CPU shares with the GPU, on a smaller scale, "
        f"is the flat start: up to a batch of 100 the fixed cost of an update (Python, the autograd graph, "
        f"small-array overheads) dominates, and batch 100 costs only {flat:.1f}x batch 1. Beyond that the "
        "arithmetic grows with the batch, so the epoch time stops falling once the batch is large."
    )

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
    b = np.array(sizes)
    ax1.plot(b, [1e3 * by[s]["update_s"] for s in sizes], "o-")
    ax1.set(xscale="log", yscale="log", xlabel="batch size", ylabel="ms per update",
            title=f"Time for one update ({'one CPU core' if limited else 'CPU'})")
    ax2.plot(b, [by[s]["epoch_s"] for s in sizes], "o-", color="tab:red")
    estimated = [s for s in sizes if not by[s]["epoch_measured"]]
    if estimated:
        ax2.plot(estimated, [by[s]["epoch_s"] for s in estimated], "o", mfc="white", color="tab:red",
                 label="estimated: updates x time per update")
        ax2.legend(fontsize=8)
    ax2.set(xscale="log", yscale="log", xlabel="batch size", ylabel="seconds per epoch",
            title=f"Time for one epoch ({n:,} images)")
    for ax in (ax1, ax2):  # plain numbers at 1, 2, 5 x powers of ten
        ax.yaxis.set_major_formatter(FuncFormatter(_one_two_five))
        ax.yaxis.set_minor_formatter(FuncFormatter(_one_two_five))
    fig.suptitle("Larger batch: each update costs more on a CPU, but an epoch needs far fewer updates")
    ctx.figure("time_vs_batch_size", fig)


# ---------------------------------------------------------------- (b) small vs large batch


def train_epochs(x, y, x_test, y_test, batch: int, lr: float, epochs: int, seed: int) -> dict:
    """Train a fresh MLP (initialization from ``seed``) for ``epochs``; per-epoch train and test
    loss and accuracy."""
    gg.manual_seed(seed)
    model = mlp(x.shape[1])
    opt = gg.optim.SGD(model.parameters(), lr=lr)
    batches = loader(x, y, batch, seed)
    hist = {"train_loss": [], "train_acc": [], "test_acc": []}
    for _ in range(epochs):
        for xb, yb in batches:
            update(model, opt, xb, yb)
        train_loss, train_acc = evaluate(model, x, y)
        hist["train_loss"].append(train_loss if np.isfinite(train_loss) else float("inf"))
        hist["train_acc"].append(train_acc)
        hist["test_acc"].append(evaluate(model, x_test, y_test)[1])
    return hist


def batch_size_part(ctx: LabContext, x, y, x_test, y_test, dataset: str) -> None:
    import matplotlib.pyplot as plt

    n = len(y)
    small, large = 32, n // 10
    epochs = ctx.size(5, 10)
    lr_grids = {small: (0.1, 0.3, 1.0), large: (0.3, 1.0, 3.0)}
    runs, best = {}, {}
    for batch in ctx.bar((small, large), "small vs large batch"):
        for lr in lr_grids[batch]:
            runs[(batch, lr)] = train_epochs(x, y, x_test, y_test, batch, lr, epochs, ctx.seed)
        best[batch] = min(lr_grids[batch], key=lambda lr, b=batch: runs[(b, lr)]["train_loss"][-1])
    s, g = runs[(small, best[small])], runs[(large, best[large])]
    ctx.result("small_vs_large", {
        "epochs": epochs, "train_images": n, "lr_grids": {str(b): g for b, g in lr_grids.items()},
        "runs": {f"batch {b}, lr {lr}": {k: v[-1] for k, v in h.items()} for (b, lr), h in runs.items()},
        "best_lr": {str(b): lr for b, lr in best.items()},
    })
    ctx.claim(
        f"Small batches optimize better: after the same {epochs} epochs (each batch size at its best learning "
        f"rate), batch {small} reaches a higher training accuracy than batch {large:,} (10% of the data)",
        f"train accuracy {100 * s['train_acc'][-1]:.2f}% (lr {best[small]}) vs {100 * g['train_acc'][-1]:.2f}% "
        f"(lr {best[large]})",
        s["train_acc"][-1] > g["train_acc"][-1],
    )
    ctx.claim(
        f"... and a higher test accuracy after those {epochs} epochs",
        f"test accuracy {100 * s['test_acc'][-1]:.2f}% vs {100 * g['test_acc'][-1]:.2f}%",
        s["test_acc"][-1] > g["test_acc"][-1],
    )
    ctx.write(
        f"**(b) Small vs large batch**, {n:,} training images of {dataset}, {epochs} epochs each, SGD; the "
        f"learning rate of each batch size is the one with the lowest final training loss, of "
        f"{lr_grids[small]} for batch {small} and {lr_grids[large]} for batch {large:,}.\n\n"
        "| | small batch | large batch (10% of data) |\n|---|---|---|\n"
        f"| Keskar et al. 2017, MNIST test accuracy (trained to ~100% on training data) | 98.03% (batch 256) "
        "| 97.81% |\n"
        f"| ours, {epochs} epochs: training accuracy | {100 * s['train_acc'][-1]:.2f}% (batch {small}) | "
        f"{100 * g['train_acc'][-1]:.2f}% (batch {large:,}) |\n"
        f"| ours, {epochs} epochs: test accuracy | {100 * s['test_acc'][-1]:.2f}% | "
        f"{100 * g['test_acc'][-1]:.2f}% |\n\n"
        "Our comparison is at an equal number of epochs, where the small batch has made "
        f"{n // small // max(1, n // large):,}x more updates: that it optimizes better there is robust. "
        "Keskar et al. trained both to ~100% training accuracy and found the small batch still generalizes "
        "better by a fraction of a percent; a gap that small is within the seed-to-seed spread of a short CPU "
        "run, so we do not claim it."
    )

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
    ep = np.arange(1, epochs + 1)
    for hist, label, color in ((s, f"batch {small}, lr {best[small]}", "tab:blue"),
                               (g, f"batch {large:,}, lr {best[large]}", "tab:red")):
        ax1.plot(ep, 100 * np.array(hist["train_acc"]), "o-", color=color, label=label)
        ax2.plot(ep, 100 * np.array(hist["test_acc"]), "o-", color=color, label=label)
    ax1.set(xlabel="epoch", ylabel="accuracy (%)", title="Training accuracy", xticks=ep)
    ax2.set_xticks(ep)
    ax2.set(xlabel="epoch", ylabel="accuracy (%)", title="Test accuracy")
    ax1.legend(fontsize=8)
    fig.suptitle(f"Small vs large batch on {dataset}, same number of epochs")
    ctx.figure("small_vs_large_batch", fig)


# ---------------------------------------------------------------- (c) noisy vs smooth updates


def noise_part(ctx: LabContext, x, y) -> None:
    import matplotlib.pyplot as plt

    n_images = min(len(y), ctx.size(1000, 5000))
    x, y = x[:n_images], y[:n_images]
    steps = ctx.size(100, 300)
    curves = {}
    for batch, lr in ((8, 0.05), (n_images, 0.3)):
        gg.manual_seed(ctx.seed)
        model = mlp(x.shape[1])
        opt = gg.optim.SGD(model.parameters(), lr=lr)
        losses = []
        while len(losses) < steps:
            for xb, yb in loader(x, y, batch, ctx.seed + len(losses)):
                losses.append(update(model, opt, xb, yb).item())
                if len(losses) == steps:
                    break
        curves[batch] = (np.array(losses), lr, evaluate(model, x, y)[0])
    # noise: spread of the change of the loss from one update to the next, over the second half
    # (the first updates of full-batch descent fall steeply, which is progress, not noise)
    noise = {b: float(np.std(np.diff(c[0][steps // 2:]))) for b, c in curves.items()}
    ratio = noise[8] / noise[n_images]
    ctx.result("noise", {"images": n_images, "updates": steps, "std_of_loss_differences": {
        "batch 8": noise[8], "full batch": noise[n_images]},
        "training_loss_after": {"batch 8": curves[8][2], "full batch": curves[n_images][2]}})
    ctx.claim(
        "Small batches are noisy: the loss changes from one update to the next scatter far more with batch 8 than "
        f"with the full batch of {n_images:,} (std of the differences, second half of {steps} updates, more than 10x)",
        f"std {noise[8]:.3g} vs {noise[n_images]:.3g} ({ratio:.0f}x)",
        ratio > 10,
    )
    ctx.write(
        f"**(c) Noisy vs smooth updates**, {n_images:,} images: batch 8 follows the gradient of 8 random images, a "
        "noisy estimate of the full gradient; the full batch follows the exact gradient of the training loss. "
        "The lecture's trade-off: the small batch's noise helps it escape and generalize, the large batch's "
        "update is more \"powerful\" but costs more (part (a))."
    )
    ctx.claim(
        f"Large batches make more progress per update (\"powerful\"): after {steps} updates the training loss "
        f"on all {n_images:,} images is lower with the full batch than with batch 8",
        f"{curves[n_images][2]:.3f} vs {curves[8][2]:.3f}",
        curves[n_images][2] < curves[8][2],
    )

    fig, ax = plt.subplots(figsize=(9, 3.8))
    for b, (losses, lr, _) in curves.items():
        label = f"batch 8 (lr {lr}): loss of the batch" if b == 8 else f"full batch of {b:,} (lr {lr})"
        ax.plot(np.arange(1, steps + 1), losses, lw=1.0 if b == 8 else 2.0, label=label)
    ax.set(xlabel="update", ylabel="training loss (cross-entropy)",
           title="Small batch: noisy updates; full batch: a smooth descent")
    ax.legend(fontsize=8)
    ctx.figure("noisy_vs_smooth", fig)


# ---------------------------------------------------------------- (d) momentum


TILT = 0.5  # tilts the double well so that the right-hand minimum is the deeper one
W_START = -3.5
MOMENTUM_LRS = (0.01, 0.02, 0.03)


def curve(w):
    """The designed loss L(w) = (w^2 - 4)^2 / 8 - 0.5 w: a tilted double well with a shallow
    minimum near w = -1.86, a bump near w = -0.25 and a deeper minimum near w = 2.11 (works on
    Tensors and arrays)."""
    return (w * w - 4) ** 2 / 8 - TILT * w


# the critical points, where L'(w) = (w^3 - 4w) / 2 - TILT = 0: shallow minimum, bump, deep minimum
SHALLOW, BUMP, DEEP = np.sort(np.roots([1.0, 0.0, -4.0, -2 * TILT]).real)


def descend(lr: float, momentum: float, steps: int) -> np.ndarray:
    """Positions w_0..w_steps of gg.optim.SGD(lr, momentum) on the curve from W_START."""
    w = gg.tensor([W_START], dtype=gg.float64, requires_grad=True)
    opt = gg.optim.SGD([w], lr=lr, momentum=momentum)
    path = [W_START]
    for _ in range(steps):
        opt.zero_grad()
        curve(w).sum().backward()
        opt.step()
        path.append(w.item())
    return np.array(path)


def momentum_part(ctx: LabContext, x, y, dataset: str) -> None:
    import matplotlib.pyplot as plt

    steps = 300
    finals = {}
    for lr in MOMENTUM_LRS:
        finals[lr] = (descend(lr, 0.0, steps)[-1], descend(lr, 0.9, steps)[-1])
    ctx.result("momentum_curve_final_w", {str(lr): {"gd": gd, "momentum": m} for lr, (gd, m) in finals.items()})
    ctx.claim(
        f"Plain gradient descent stops in the shallow local minimum (w = {SHALLOW:.3f}) for every learning rate "
        f"of {MOMENTUM_LRS}, starting at w = {W_START}",
        "final w: " + ", ".join(f"{gd:.3f}" for gd, _ in finals.values()),
        all(abs(gd - SHALLOW) < 0.01 for gd, _ in finals.values()),
    )
    ctx.claim(
        "SGD with momentum 0.9 (same learning rates, same start) is carried over the bump into the deeper "
        f"minimum (w = {DEEP:.3f}, loss {curve(DEEP):.2f} against {curve(SHALLOW):.2f})",
        "final w: " + ", ".join(f"{m:.3f}" for _, m in finals.values()),
        all(abs(m - DEEP) < 0.01 for _, m in finals.values()),
    )
    ctx.write(
        f"**(d) Momentum** on L(w) = (w^2 - 4)^2/8 - {TILT} w from w = {W_START}. Momentum does not always "
        "escape: with a much smaller learning rate (0.003) it also settles in the shallow minimum, because "
        "the speed it gathers on the way down does not suffice to climb the bump."
    )

    lr = MOMENTUM_LRS[1]
    gd_path, m_path = descend(lr, 0.0, 120), descend(lr, 0.9, 120)
    grid = np.linspace(-3.7, 3.2, 400)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [1.4, 1]})
    ax1.plot(grid, curve(grid), color="black", lw=1.2, label="loss L(w)")
    ax1.plot(gd_path, curve(gd_path), "o", ms=4, color="tab:red", alpha=0.6, label="gradient descent")
    ax1.plot(m_path, curve(m_path), "o-", ms=3, lw=0.6, color="tab:blue", alpha=0.6, label="SGD, momentum 0.9")
    ax1.set(xlabel="w", ylabel="L(w)", ylim=(-1.5, 4), title=f"Same start, same learning rate {lr}")
    ax1.annotate("shallow minimum", (SHALLOW, curve(SHALLOW)), xytext=(SHALLOW - 1.5, -0.3), fontsize=8,
                 arrowprops={"arrowstyle": "->"})
    ax1.annotate("deeper minimum", (DEEP, curve(DEEP)), xytext=(DEEP - 1.6, -1.35), fontsize=8,
                 arrowprops={"arrowstyle": "->"})
    ax1.legend(fontsize=8, loc="upper center")
    ax2.plot(gd_path, color="tab:red", label="gradient descent")
    ax2.plot(m_path, color="tab:blue", label="SGD, momentum 0.9")
    ax2.axhline(BUMP, ls=":", color="grey", lw=0.8)
    ax2.set(xlabel="update", ylabel="w", title="Position per update (dotted: top of the bump)")
    ax2.legend(fontsize=8)
    ctx.figure("momentum_over_the_bump", fig)

    # momentum on MNIST: same learning rate, with and without momentum
    n_images = min(len(y), ctx.size(10_000, 60_000))
    xs, ys = x[:n_images], y[:n_images]
    steps = ctx.size(300, 3000)
    curves = {}
    for name, lr, beta in (("SGD lr 0.01", 0.01, 0.0), ("SGD lr 0.01, momentum 0.9", 0.01, 0.9),
                           ("SGD lr 0.1 (= 0.01 / (1 - 0.9))", 0.1, 0.0)):
        gg.manual_seed(ctx.seed)
        model = mlp(xs.shape[1])
        opt = gg.optim.SGD(model.parameters(), lr=lr, momentum=beta)
        batches, losses = loader(xs, ys, 100, ctx.seed), []
        while len(losses) < steps:
            for xb, yb in batches:
                losses.append(update(model, opt, xb, yb).item())
                if len(losses) == steps:
                    break
        curves[name] = (np.array(losses), evaluate(model, xs, ys)[0])
    plain, mom, big = (curves[k][1] for k in curves)
    ctx.result("momentum_mnist_train_loss", {k: v[1] for k, v in curves.items()})
    ctx.claim(
        f"Momentum speeds up training on {dataset}: at the same learning rate 0.01 and {steps:,} updates of batch "
        "100, momentum 0.9 ends with less than half the training loss of plain SGD",
        f"training loss {mom:.3f} vs {plain:.3f}",
        mom < 0.5 * plain,
    )
    ctx.write(
        f"At a steady slope, heavy-ball momentum 0.9 moves 1/(1 - 0.9) = 10x as far as a plain step, so on "
        f"{dataset} it behaves much like plain SGD with a 10x larger learning rate (training loss {big:.3f} at "
        "lr 0.1); its distinct benefit is in the bumps and ravines of the surface, as on the curve above."
    )

    fig, ax = plt.subplots(figsize=(9, 3.8))
    for name, (losses, _) in curves.items():
        smooth = np.convolve(losses, np.ones(20) / 20, mode="valid")
        ax.plot(np.arange(20, len(losses) + 1), smooth, label=name)
    ax.set(xlabel="update", ylabel="batch loss (mean of 20 updates)", yscale="log",
           title=f"Momentum on {dataset} ({n_images:,} images, batch 100)")
    ax.legend(fontsize=8)
    ctx.figure("momentum_mnist", fig)


def run(ctx: LabContext) -> None:
    data = load_digit_data(ctx)
    n_train = min(len(data.y_train), ctx.size(10_000, 60_000))
    x, y = gg.tensor(data.x_train[:n_train]), gg.tensor(data.y_train[:n_train])
    x_test, y_test = gg.tensor(data.x_test), gg.tensor(data.y_test)

    timing_part(ctx, x, y, ctx.blas_single_thread)
    batch_size_part(ctx, x, y, x_test, y_test, data.name)
    noise_part(ctx, x, y)
    momentum_part(ctx, x, y, data.name)


LAB = Lab(
    name="batch-momentum",
    lecture="Lecture 5",
    title="Batch and momentum",
    summary="time per update and per epoch vs batch size; small vs large batch; noisy updates; momentum",
    run=run,
)
