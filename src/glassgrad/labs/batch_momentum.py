"""Lecture 5: batch size and momentum, on MNIST (scikit-learn's 8x8 digits when MNIST is missing).

The network is a one-hidden-layer MLP (100 ReLUs) trained with cross-entropy and SGD. Claims:

- Time. One epoch = one pass over all batches. A large batch needs far fewer updates per epoch,
  so an epoch with batch 1000 takes much less time than an epoch with batch 1. The lecture adds
  that on a GPU the time *per update* barely grows up to a batch of about 1000 (the GPU works on
  the examples in parallel); on a CPU it does not hold: an update on 1000 images costs several
  times an update on one. Only the fixed overhead of an update keeps the time flat up to a batch
  of ~100; beyond that the arithmetic grows with the batch. (Timed on one core, BLAS limited to
  one thread, so that the numbers are reproducible on a shared machine.)
- Small batches generalize better, in the lecture's (and Keskar et al.'s) setting: both trained to
  the same training loss at the same learning rate, batch 32 ends with a higher test accuracy than
  a batch of 10% of the data, in a flatter place (a smaller largest Hessian eigenvalue). Which one
  "optimizes better" depends on what is held equal: per update the large batch gets there first,
  per epoch the small one (it makes 31x more updates an epoch); the report shows both. (On the
  8x8 digits the contrast is batch 8 against the full batch, and only the sharpness is claimed:
  their 360 test images cannot measure a gap of a fraction of a percent.)
- Small batches give noisy updates: at the same learning rate, the per-update loss of batch 8 jumps
  about while the full-batch loss falls smoothly; one step on the full batch lowers the training
  loss exactly as its gradient predicts (first order), one step on 8 images only by a small share
  of what their gradient promises.
- Momentum (movement = last movement minus learning rate times gradient) can carry the
  parameter over a bump: on a designed curve with a shallow minimum before a deeper one, plain
  gradient descent stops in the shallow one, SGD with momentum 0.9 ends in the deeper one. On
  MNIST, at the same learning rate, momentum trains much faster.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.labs._digit_data import load_digit_data
from glassgrad.labs._first_order import realized_share
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
    # these two time the library; a wrong gradient or a broken optimizer costs the same time, so they
    # cannot detect one (the other parts do)
    ctx.claim(
        f"On a CPU, unlike the lecture's GPU, the time per update grows with the batch size: an update on "
        f"{big} images costs more than 2x an update on one image (the lecture's GPU: about the same)",
        f"{1e3 * by[big]['update_s']:.2f} ms vs {1e3 * by[1]['update_s']:.3f} ms per update ({grow:.1f}x); "
        f"full batch of {n:,}: {1e3 * by[n]['update_s']:.1f} ms",
        grow > 2,
        expected="> 2x",
    )
    speedup = by[1]["epoch_s"] / by[big]["epoch_s"]
    ctx.claim(
        f"Still, an epoch with batch {big} takes far less time than an epoch with batch 1 (more than 5x less), "
        f"because it has {by[1]['updates_per_epoch'] // by[big]['updates_per_epoch']:,}x fewer updates",
        f"{by[big]['epoch_s']:.3f} s vs {by[1]['epoch_s']:.2f} s per epoch ({speedup:.0f}x faster)",
        speedup > 5,
        expected="> 5x",
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


SHARPNESS_IMAGES = 2000  # the Hessian's largest eigenvalue is measured on the first 2000 training images
SAME_LR, TARGET_LOSS = 0.3, 0.05  # both batch sizes: the same learning rate, trained to the same loss


def sharpness(model: nn.Module, x: gg.Tensor, y: gg.Tensor) -> float:
    """The largest eigenvalue of the Hessian of the mean cross-entropy on (x, y) with respect to
    all parameters: how sharply the loss curves up in its steepest direction (Keskar et al.'s
    "sharp" vs "flat" minima). Found by Lanczos iteration on Hessian-vector products."""
    from scipy.sparse.linalg import eigsh

    from glassgrad.analysis import hvp_operator

    operator, _, _ = hvp_operator(lambda: F.cross_entropy(model(x), y), list(model.parameters()))
    return float(eigsh(operator, k=1, which="LA", tol=1e-2, maxiter=100)[0][0])


@dataclass
class ToTarget:
    """A run trained until its training loss fell below a target: its path and where it ended."""

    batch: int
    updates_per_epoch: int
    updates: list[int] = field(default_factory=list)  # update counts at which the model was evaluated
    train_loss: list[float] = field(default_factory=list)  # on all training images, at those counts
    test_acc: list[float] = field(default_factory=list)
    reached: bool = False
    sharpness: float = float("nan")
    update_seconds: float = 0.0  # time spent in the updates (the evaluations not counted)

    @property
    def epochs(self) -> float:
        return self.updates[-1] / self.updates_per_epoch


def train_to_loss(x, y, x_test, y_test, batch: int, lr: float, target: float, max_updates: int,
                  seed: int) -> ToTarget:
    """Train a fresh MLP (initialization from ``seed``) with SGD until its loss on all training
    images is below ``target`` (evaluated about six times an epoch, and at least every 10
    updates), or for ``max_updates`` (or until it is clear that it fails); then measure the
    sharpness where it ended."""
    gg.manual_seed(seed)
    model = mlp(x.shape[1])
    opt = gg.optim.SGD(model.parameters(), lr=lr)
    batches = loader(x, y, batch, seed)
    every = max(10, len(batches) // 6)
    run = ToTarget(batch, len(batches))

    def record(done: int) -> None:
        loss = evaluate(model, x, y)[0]
        run.updates.append(done)
        run.train_loss.append(loss if np.isfinite(loss) else float("inf"))
        run.test_acc.append(evaluate(model, x_test, y_test)[1])
        run.reached = loss < target

    record(0)
    done, stop = 0, False
    while not stop:
        for xb, yb in batches:
            start = time.perf_counter()
            update(model, opt, xb, yb)
            run.update_seconds += time.perf_counter() - start
            done += 1
            if done % every == 0 or done == max_updates:
                record(done)
                # a run whose loss is not below where it started after 100 updates has failed (a
                # broken optimizer, or divergence): stop it rather than run out the budget
                failed = done >= 100 and not run.train_loss[-1] < run.train_loss[0]
                stop = run.reached or failed or done == max_updates
                if stop:
                    break
    if run.reached:
        run.sharpness = sharpness(model, x[:SHARPNESS_IMAGES], y[:SHARPNESS_IMAGES])
    return run



def batch_size_part(ctx: LabContext, x, y, x_test, y_test, dataset: str) -> None:
    import matplotlib.pyplot as plt

    n = len(y)
    # on MNIST, Keskar et al.'s sizes: a small batch, and 10% of the data. The 1,437 images of the
    # 8x8 digits need a starker contrast for the difference in sharpness to show: batch 8 and all
    small, large = (32, n // 10) if n >= 5000 else (8, n)
    measurable = len(y_test) >= 5000  # see below: a difference of a fraction of a percent needs many test images
    max_updates = ctx.size(3000, 6000)
    runs = {b: train_to_loss(x, y, x_test, y_test, b, SAME_LR, TARGET_LOSS, max_updates, ctx.seed)
            for b in ctx.bar((small, large), "small vs large batch")}
    s, g = runs[small], runs[large]
    both = s.reached and g.reached
    ctx.result("small_vs_large", {
        "train_images": n, "lr": SAME_LR, "target_train_loss": TARGET_LOSS,
        "runs": {f"batch {b}": {"reached": r.reached, "updates": r.updates[-1], "epochs": r.epochs,
                                "train_loss": r.train_loss[-1], "test_acc": r.test_acc[-1],
                                "sharpness": r.sharpness} for b, r in runs.items()},
    })
    # a broken optimizer (frozen, or climbing the loss) never reaches the target: both claims fail
    if measurable:
        ctx.claim(
            f"Small batches generalize better (the lecture's setting, Keskar et al.'s: both trained to the same "
            f"training loss, below {TARGET_LOSS}, at the same learning rate {SAME_LR}): batch {small} ends with a "
            f"higher test accuracy than batch {large:,} (10% of the data)",
            f"test accuracy {100 * s.test_acc[-1]:.2f}% vs {100 * g.test_acc[-1]:.2f}% (training loss "
            f"{s.train_loss[-1]:.3f} vs {g.train_loss[-1]:.3f})" if both else
            f"target not reached within {max_updates:,} updates (batch {small}: {s.train_loss[-1]:.3g}, "
            f"batch {large:,}: {g.train_loss[-1]:.3g})",
            both and s.test_acc[-1] > g.test_acc[-1],
            expected="both reach the target; small > large",
        )
    caveat = "" if measurable else (
        f" With only {len(y_test):,} test images, one image is {100 / len(y_test):.2f}% of test accuracy, more "
        "than the difference Keskar et al. found on MNIST (0.22%): this run does not claim that the small "
        "batch generalizes better, only that it ends in a flatter place.")
    ratio = s.sharpness / g.sharpness if both else float("nan")
    ctx.claim(
        f"Small batches' noise keeps them out of sharp minima: where batch {small} ends, the "
        f"training loss curves up less than half as steeply (largest Hessian eigenvalue, on "
        f"{SHARPNESS_IMAGES:,} training images) as where batch {large:,} ends",
        f"largest eigenvalue {s.sharpness:.2f} vs {g.sharpness:.2f} ({ratio:.2f}x)" if both else "target not reached",
        both and ratio < 0.5,
        expected="ratio < 0.5",
    )
    ctx.write(
        f"**(b) Small vs large batch**, {n:,} training images of {dataset}, SGD at the same learning rate "
        f"{SAME_LR} for both batch sizes, each trained until its loss on all training images is below "
        f"{TARGET_LOSS}:\n\n"
        "| | updates | epochs | seconds updating | training loss | test accuracy | largest Hessian eigenvalue |\n"
        "|---|---|---|---|---|---|---|\n"
        + "\n".join(f"| batch {r.batch:,} | {r.updates[-1]:,} | {r.epochs:.1f} | {r.update_seconds:.1f} | "
                    f"{r.train_loss[-1]:.3f}{'' if r.reached else ' (not reached)'} | {100 * r.test_acc[-1]:.2f}% | "
                    f"{r.sharpness:.2f} |" for r in (s, g))
        + "\n| Keskar et al. 2017, MNIST (both ~100% training accuracy) | | | | | 98.03% (batch 256) vs 97.81% "
        "(10% of data) | |\n\n"
        "Which batch size \"optimizes better\" depends on what is held equal. Counted in *updates*, the large "
        f"batch got to the target {'first' if g.updates[-1] < s.updates[-1] else 'no sooner'} "
        f"({g.updates[-1]:,} updates against {s.updates[-1]:,}): each of its updates averages {large:,} "
        "gradients, a better step (part (c) shows the same per update). Counted in *epochs*, the small batch "
        f"got there in {s.epochs:.1f} epochs against {g.epochs:.0f}, but only because an epoch of batch {small} "
        f"makes {s.updates_per_epoch // g.updates_per_epoch}x more updates. On the lecture's GPU an update on "
        f"{large:,} images costs about as much as one on {small}, so in time the large batch would train "
        f"faster; on this CPU its updates took {g.update_seconds:.0f} s against {s.update_seconds:.0f} s (part "
        "(a)). Where the small batch wins is the lecture's point: trained to the same training loss, it "
        "ends in a flatter place and does better on the test set (by a fraction of a percent, as in Keskar "
        "et al.)." + caveat
    )

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 3.9))
    for r, color in ((s, "tab:blue"), (g, "tab:red")):
        label = f"batch {r.batch:,}"
        ax1.plot(r.updates, r.train_loss, color=color, label=label)
        ax2.plot(np.array(r.updates[1:]) / r.updates_per_epoch, r.train_loss[1:], color=color, label=label)
        ax3.plot(r.train_loss, 100 * np.array(r.test_acc), "o", ms=3, alpha=0.7, color=color, label=label)
    for ax in (ax1, ax2):
        ax.axhline(TARGET_LOSS, color="grey", ls="--", lw=0.8)
        ax.set(yscale="log", ylabel="training loss")
    ax1.set(xlabel="update", title="Per update: the large batch is faster")
    ax2.set(xlabel="epoch", xscale="log", title="Per epoch: the small batch is faster")
    ax3.set(xscale="log", xlabel="training loss (falls to the right)", ylabel="test accuracy (%)",
            title="At the same training loss: the small batch tests better")
    ax3.set_ylim(100 * min(s.test_acc[-1], g.test_acc[-1]) - 4, 100 * max(s.test_acc[-1], g.test_acc[-1]) + 1)
    ax3.set_xlim(0.5, 0.8 * TARGET_LOSS)  # the late part of training, where the two differ
    ax3.set_xticks([0.5, 0.2, 0.1, TARGET_LOSS], [f"{v:g}" for v in (0.5, 0.2, 0.1, TARGET_LOSS)])
    ax3.xaxis.set_minor_formatter("")
    ax3.invert_xaxis()
    ax1.legend(fontsize=8)
    fig.suptitle(f"Small vs large batch on {dataset}, same learning rate {SAME_LR}, trained to loss {TARGET_LOSS}")
    ctx.figure("small_vs_large_batch", fig)


# ---------------------------------------------------------------- (c) noisy vs smooth updates


NOISE_LR = 0.1  # the same learning rate for batch 8 and the full batch


def noise_part(ctx: LabContext, x, y) -> None:
    import matplotlib.pyplot as plt

    n_images = min(len(y), ctx.size(1000, 5000))
    x, y = x[:n_images], y[:n_images]
    steps = ctx.size(100, 300)
    curves = {}
    for batch in (8, n_images):
        gg.manual_seed(ctx.seed)
        model = mlp(x.shape[1])
        opt = gg.optim.SGD(model.parameters(), lr=NOISE_LR)
        losses = []
        while len(losses) < steps:
            for xb, yb in loader(x, y, batch, ctx.seed + len(losses)):
                losses.append(update(model, opt, xb, yb).item())
                if len(losses) == steps:
                    break
        curves[batch] = (np.array(losses), evaluate(model, x, y)[0])
    # noise: spread of the change of the loss from one update to the next, over the second half
    # (the first updates of full-batch descent fall steeply, which is progress, not noise)
    noise = {b: float(np.std(np.diff(c[0][steps // 2:]))) for b, c in curves.items()}
    ratio = noise[8] / noise[n_images]
    tenth = steps // 10  # both must also descend: a frozen optimizer gives a flat full-batch curve (no noise)
    fell = {b: c[0][:tenth].mean() - c[0][-tenth:].mean() for b, c in curves.items()}
    ctx.result("noise", {"images": n_images, "updates": steps, "lr": NOISE_LR, "std_of_loss_differences": {
        "batch 8": noise[8], "full batch": noise[n_images]},
        "training_loss_after": {"batch 8": curves[8][1], "full batch": curves[n_images][1]}})
    ctx.claim(
        f"Small batches are noisy: at the same learning rate {NOISE_LR}, the loss changes from one update to the "
        f"next scatter far more with batch 8 than with the full batch of {n_images:,} (std of the differences, "
        f"second half of {steps} updates), while both descend",
        f"std {noise[8]:.3g} vs {noise[n_images]:.3g} ({ratio:.0f}x); loss fell by {fell[8]:.2f} and "
        f"{fell[n_images]:.2f} (first vs last {tenth} updates)",
        ratio > 10 and min(fell.values()) > 0,
        expected="> 10x, both falling",
    )
    ctx.claim(
        f"Large batches make more progress per update (\"powerful\"): after {steps} updates at the same learning "
        f"rate, the training loss on all {n_images:,} images is lower with the full batch than with batch 8",
        f"{curves[n_images][1]:.3f} vs {curves[8][1]:.3f}",
        curves[n_images][1] < curves[8][1],  # frozen: the two untrained models tie, so this fails
        expected="full < batch 8",
    )

    # why: the full batch's gradient is the exact slope of the training loss, a batch of 8's is an estimate
    gg.manual_seed(ctx.seed)
    model, step = mlp(x.shape[1]), 0.01

    def loss_on(xs, ys):
        return lambda: F.cross_entropy(model(xs), ys)

    exact = realized_share(model.parameters(), loss_on(x, y), loss_on(x, y), step)
    shares = [realized_share(model.parameters(), loss_on(x, y), loss_on(x[i:i + 8], y[i:i + 8]), step)
              for i in range(0, 160, 8)]
    ctx.result("first_order_share", {"lr": step, "full batch": exact, "batch 8 (20 batches)": shares})
    # a wrong derivative (e.g. ReLU's halved) breaks the first-order prediction; a frozen step gives 0,
    # an ascending one -1
    ctx.claim(
        f"The full batch follows the exact gradient of the training loss: one SGD step (lr {step}) lowers it by "
        "lr ||g||^2, as the first-order Taylor expansion predicts (within 1%)",
        f"{exact:.4f} of the predicted fall",
        abs(exact - 1) < 0.01,
        expected="0.99 to 1.01",
    )
    mean_share = float(np.mean(shares))
    ctx.claim(
        "A batch of 8 gives only a noisy estimate of it: a step on one such batch lowers the loss on all "
        f"{n_images:,} images by less than 30% of what the batch's own gradient promises (mean of 20 batches), "
        "though still by something",
        f"{mean_share:.1%} of the promised fall (batches: {min(shares):.0%} to {max(shares):.0%})",
        0.02 < mean_share < 0.3,  # frozen: 0; ascent: below 0
        expected="2% to 30%",
    )
    ctx.write(
        f"**(c) Noisy vs smooth updates**, {n_images:,} images, both at learning rate {NOISE_LR}: batch 8 follows the "
        "gradient of 8 random images, a noisy estimate of the full gradient; the full batch follows the exact "
        f"gradient of the training loss. Of the fall that a batch of 8 promises itself, only {mean_share:.0%} "
        "happens on all images: the rest is fitting those 8. The lecture's trade-off: the small batch's noise "
        "helps it escape and generalize (part (b)), the large batch's update is more \"powerful\" but costs "
        "more (part (a))."
    )

    fig, ax = plt.subplots(figsize=(9, 3.8))
    for b, (losses, _) in curves.items():
        label = f"batch 8 (lr {NOISE_LR}): loss of the batch" if b == 8 else f"full batch of {b:,} (lr {NOISE_LR})"
        ax.plot(np.arange(1, steps + 1), losses, lw=1.0 if b == 8 else 2.0, label=label)
    ax.set(xlabel="update", ylabel="training loss (cross-entropy)",
           title="Small batch: noisy updates; full batch: a smooth descent (same learning rate)")
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
        all(abs(gd - SHALLOW) < 0.01 for gd, _ in finals.values()),  # frozen: stays at the start; ascent: flies off
        expected=f"all within 0.01 of {SHALLOW:.3f}",
    )
    ctx.claim(
        "SGD with momentum 0.9 (same learning rates, same start) is carried over the bump into the deeper "
        f"minimum (w = {DEEP:.3f}, loss {curve(DEEP):.2f} against {curve(SHALLOW):.2f})",
        "final w: " + ", ".join(f"{m:.3f}" for _, m in finals.values()),
        all(abs(m - DEEP) < 0.01 for _, m in finals.values()),
        expected=f"all within 0.01 of {DEEP:.3f}",
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
        mom < 0.5 * plain,  # frozen: both stay at the initial loss; ascent: both climb
        expected="< 0.5x",
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
