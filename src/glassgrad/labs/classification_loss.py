"""Lecture 7: classification, the loss function, and batch normalization.

Claims checked:

- Mean squared error on softmax outputs has a flat plateau where the loss is large; cross-entropy
  keeps a slope there. As on the slide: three classes, the target is class 1, the third logit is
  pinned at -1000, and the loss is drawn over the two free logits (y1, y2). At the high-loss
  corner (y1, y2) = (-10, 10) autograd gives a gradient of norm ~1e-8 for MSE, ~1.4 for
  cross-entropy.
- So training from a high-loss start gets stuck with MSE and not with cross-entropy: gradient
  descent from random starts in that corner (same learning rate and number of steps) nearly
  always succeeds with cross-entropy and nearly never with MSE. The same holds for a real
  classifier: softmax regression on MNIST (8x8 digits when MNIST is missing) whose initial logits
  are large and mostly wrong; from the default small initialization both losses train well.
- Feature normalization and batch normalization make a badly scaled problem easy, in different ways.
  On scikit-learn's breast-cancer data with its raw features (standard deviations from 0.003 to
  570), a plain network (two hidden layers of 32 ReLUs, full-batch gradient descent) trains best
  at a small learning rate and slowly. Normalizing the input features alone makes a 1000x larger
  rate usable and reaches a low loss in a few updates. Batch norm alone (BatchNorm1d after each
  hidden linear layer, raw input) makes the large rate usable too, but its first layer still
  sees the raw scales and training stalls. Both together tolerate the largest rate. (The grid of
  rates and the measured best of each set-up are in the report; the claims ask for at least
  100x.) The error surface of a two-input linear model shows why: two features whose standard
  deviations differ about 6x (mean texture and mean perimeter) make it an elongated valley
  (Hessian condition number about 36, measured), standardized features a nearly round bowl
  (about 2: the two features are correlated), and gradient descent needs many times the updates on the valley.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.analysis import hessian_of
from glassgrad.labs._digit_data import DigitData, load_digit_data
from glassgrad.labs._first_order import realized_share
from glassgrad.labs._lab import Lab, LabContext
from glassgrad.utils.data import DataLoader, TensorDataset

PINNED = -1000.0  # the third logit, as on the slide
START = (-10.0, 10.0)  # (y1, y2): class 2 far ahead of the target class 1
NEAR_DIAGONAL = (0.0, 4.0)  # class 2 ahead, but near enough the diagonal that the MSE surface still slopes
TOY_LR, TOY_STEPS = 1.0, 100


# ---------------------------------------------------------------- (a) the two error surfaces


def toy_losses(y12: gg.Tensor) -> tuple[gg.Tensor, gg.Tensor]:
    """Per-row (MSE, cross-entropy) for logits (y1, y2, PINNED) and target class 1.

    MSE is the slide's sum over classes of (softmax_i - onehot_i)^2 (between 0 and 2);
    cross-entropy is -log softmax_1.
    """
    n = y12.shape[0]
    logits = gg.cat([y12, gg.full((n, 1), PINNED, dtype=y12.dtype)], dim=1)
    target = gg.zeros(n, dtype=gg.int64)
    mse = ((F.softmax(logits, dim=1) - F.one_hot(target, 3).to(y12.dtype)) ** 2).sum(dim=1)
    return mse, F.cross_entropy(logits, target, reduction="none")


def descend_toy(starts: np.ndarray, kind: int, lr: float = TOY_LR, steps: int = TOY_STEPS) -> np.ndarray:
    """Gradient descent from each row of ``starts`` (independent runs, done together: the rows'
    losses are summed, so each row gets its own gradient); kind 0 = MSE, 1 = cross-entropy.
    Returns the positions, shape (steps + 1, n, 2)."""
    y = gg.tensor(starts, dtype=gg.float64, requires_grad=True)
    opt = gg.optim.SGD([y], lr=lr)
    path = [starts.copy()]
    for _ in range(steps):
        opt.zero_grad()
        toy_losses(y)[kind].sum().backward()
        opt.step()
        path.append(y.detach().numpy().copy())
    return np.stack(path)


def prob_of_target(y12: np.ndarray) -> np.ndarray:
    """softmax_1 of (y1, y2, PINNED): the pinned class adds exp(-1000) = 0."""
    return 1.0 / (1.0 + np.exp(y12[..., 1] - y12[..., 0]))


def surface_part(ctx: LabContext) -> None:
    import matplotlib.pyplot as plt

    y = gg.tensor([START], dtype=gg.float64, requires_grad=True)
    grads = {}
    for kind, name in enumerate(("MSE", "cross-entropy")):
        y.grad = None
        loss = toy_losses(y)[kind].sum()
        loss.backward()
        grads[name] = (loss.item(), float(np.linalg.norm(y.grad.numpy())))
    (mse_loss, mse_g), (ce_loss, ce_g) = grads["MSE"], grads["cross-entropy"]
    ctx.write(
        f"**(a) The two error surfaces.** Logits (y1, y2, {PINNED:g}), target class 1. MSE = sum over classes of "
        "(softmax_i - onehot_i)^2 saturates at 2 wherever class 2 clearly wins, because softmax_1 is then ~0 "
        "whatever the exact logits: the surface is a plateau and its gradient vanishes "
        "(d MSE / d y1 = -4 p1 (1 - p1)^2 ~ 4 exp(y1 - y2)). Cross-entropy = -log softmax_1 ~ y2 - y1 there: "
        "a plane with slope 1 in each logit."
    )
    ctx.result("gradient_at_start", {k: {"loss": v[0], "gradient_norm": v[1]} for k, v in grads.items()})
    ctx.claim(
        f"MSE is flat where the loss is large: at (y1, y2) = {START} its loss is near its maximum 2 but its "
        "gradient (autograd) is below 1e-6",
        f"MSE loss {mse_loss:.6f}, gradient norm {mse_g:.2e}",
        mse_loss > 1.99 and mse_g < 1e-6,  # autograd alone: a broken optimizer cannot show here
        expected="loss > 1.99, gradient < 1e-6",
    )
    ctx.claim(
        "Cross-entropy keeps a slope there: a gradient norm above 1, over a million times MSE's",
        f"cross-entropy loss {ce_loss:.2f}, gradient norm {ce_g:.3f} ({ce_g / mse_g:.1e}x)",
        ce_g > 1 and ce_g / mse_g > 1e6,
        expected="> 1, > 1e6x",
    )

    axis = np.linspace(-10, 10, 61)
    Y1, Y2 = np.meshgrid(axis, axis)  # noqa: N806
    with gg.no_grad():
        mse_grid, ce_grid = (v.numpy().reshape(Y1.shape) for v in
                             toy_losses(gg.tensor(np.stack([Y1.ravel(), Y2.ravel()], 1), dtype=gg.float64)))
    starts = {START: "tab:red", NEAR_DIAGONAL: "tab:orange"}
    fig = plt.figure(figsize=(13, 10))
    for i, (grid, name) in enumerate(((mse_grid, "Mean square error"), (ce_grid, "Cross-entropy"))):
        # top: the surface, as on the slide; bottom: the same surface seen from above, where the
        # paths cannot hide behind it
        ax = fig.add_subplot(2, 2, i + 1, projection="3d")
        ax.plot_surface(Y1, Y2, grid, cmap="viridis", alpha=0.75, linewidth=0, rcount=61, ccount=61)
        ax.set(xlabel="y1 (target class)", ylabel="y2", zlabel="loss", title=f"{name} (y3 = {PINNED:g})",
               xticks=[-10, -5, 0, 5, 10], yticks=[-10, -5, 0, 5, 10])
        ax.view_init(elev=30, azim=-60 if i == 0 else -120)
        flat = fig.add_subplot(2, 2, i + 3)
        contours = flat.contourf(Y1, Y2, grid, levels=20, cmap="viridis")
        fig.colorbar(contours, ax=flat, label="loss")
        for start, color in starts.items():
            path = descend_toy(np.array([start]), i)[:, 0]
            moved = float(np.linalg.norm(path[-1] - path[0]))
            loss_on_path = toy_losses(gg.tensor(path, dtype=gg.float64))[i].detach().numpy()
            ax.plot(path[:, 0], path[:, 1], loss_on_path + 0.02 * grid.max(), ".-", color=color, ms=3, lw=1,
                    zorder=10)
            flat.plot(path[:, 0], path[:, 1], ".-", color=color, ms=3, lw=1)
            flat.plot(*start, "o", color=color, ms=9, mec="white",
                      label=f"from {start}: moved {moved:.2g}" + (" (stuck)" if moved < 1e-3 else ""))
        flat.set(xlabel="y1 (target class)", ylabel="y2", aspect="equal", xlim=(-10.8, 10.8), ylim=(-10.8, 10.8),
                 title=f"seen from above: {TOY_STEPS} steps of gradient descent, lr {TOY_LR:g}")
        flat.legend(fontsize=8, loc="upper right")
    fig.suptitle(f"Error surfaces over two logits, target class 1. From {START} (red) MSE does not move, "
                 f"cross-entropy does;\nfrom {NEAR_DIAGONAL} (orange, nearer the diagonal y1 = y2) both do")
    ctx.figure("error_surfaces", fig)


# ---------------------------------------------------------------- (b) who succeeds from a high-loss start


def toy_success_part(ctx: LabContext):
    """Shares of toy runs that reach softmax_1 > 0.9; returns data for the figure."""
    n = ctx.size(1000, 10_000)
    corner = np.stack([gg.rand(n, dtype=gg.float64).numpy() * 5 - 10,
                       gg.rand(n, dtype=gg.float64).numpy() * 5 + 5], 1)  # y1 in [-10, -5], y2 in [5, 10]
    square = gg.rand(4 * n, 2, dtype=gg.float64).numpy() * 20 - 10
    wrong = square[square[:, 1] - square[:, 0] > 2][:n]  # class 2 ahead by more than 2
    shares, ends = {}, {}
    for region, starts in (("corner", corner), ("wrong_half", wrong)):
        for kind, name in enumerate(("MSE", "cross-entropy")):
            end = descend_toy(starts, kind)[-1]
            ends[(region, name)] = end
            shares[(region, name)] = float((prob_of_target(end) > 0.9).mean())
    ctx.result("toy_success_share", {f"{r} {k}": v for (r, k), v in shares.items()})
    ctx.claim(
        f"From random starts in the high-loss corner (y1 in [-10, -5], y2 in [5, 10]), {TOY_STEPS} steps of "
        f"gradient descent (lr {TOY_LR}) succeed (softmax_1 > 0.9) almost always with cross-entropy (>= 95%) "
        "and almost never with MSE (<= 5%)",
        f"cross-entropy {100 * shares[('corner', 'cross-entropy')]:.1f}%, MSE {100 * shares[('corner', 'MSE')]:.1f}% "
        f"of {n:,} runs",
        shares[("corner", "cross-entropy")] >= 0.95 and shares[("corner", "MSE")] <= 0.05,  # frozen: 0% both
        expected="cross-entropy >= 95%, MSE <= 5%",
    )
    ctx.write(
        f"**(b) Success from a high-loss start, two logits.** Over all starts where class 2 leads by more than 2 "
        f"(y1, y2 uniform in [-10, 10]), cross-entropy succeeds in "
        f"{100 * shares[('wrong_half', 'cross-entropy')]:.0f}% of runs, MSE in "
        f"{100 * shares[('wrong_half', 'MSE')]:.0f}%: MSE succeeds only from starts near the "
        "diagonal, where the surface still slopes."
    )
    return wrong, ends


def mse_on_softmax(logits: gg.Tensor, target: gg.Tensor) -> gg.Tensor:
    """Mean over examples of sum over classes (softmax_i - onehot_i)^2."""
    onehot = F.one_hot(target, logits.shape[1]).to(logits.dtype)
    return ((F.softmax(logits, dim=1) - onehot) ** 2).sum(dim=1).mean()


LOSSES = {"MSE": mse_on_softmax, "cross-entropy": F.cross_entropy}


def train_softmax_regression(x, y, x_test, y_test, loss_fn, logit_std: float | None, seed: int, steps: int,
                             lr: float = 1.0, every: int = 25) -> dict:
    """Softmax regression (one Linear layer) trained with SGD, batch 100, from the default
    initialization (``logit_std`` None) or from weights scaled so that the initial logits have
    standard deviation about ``logit_std``. Records test accuracy every ``every`` updates."""
    gg.manual_seed(seed)
    model = nn.Linear(x.shape[1], 10)
    if logit_std is not None:
        mean_norm = float(np.linalg.norm(x.numpy(), axis=1).mean())
        with gg.no_grad():
            model.weight.normal_(0.0, logit_std / mean_norm)
            model.bias.zero_()
    opt = gg.optim.SGD(model.parameters(), lr=lr)

    def test_acc() -> float:
        with gg.no_grad():
            return (model(x_test).argmax(dim=-1) == y_test).float().mean().item()

    opt.zero_grad()
    loss_fn(model(x), y).backward()
    grad0 = float(np.sqrt(sum((p.grad.numpy() ** 2).sum() for p in model.parameters())))
    accs, done = [test_acc()], 0
    batches = DataLoader(TensorDataset(x, y), batch_size=100, shuffle=True, generator=gg.Generator(seed))
    while done < steps:
        for xb, yb in batches:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
            done += 1
            if done % every == 0:
                accs.append(test_acc())
            if done == steps:
                break
    return {"test_acc": np.array(accs), "initial_gradient_norm": grad0}


def real_success_part(ctx: LabContext, data: DigitData):
    n = min(len(data.y_train), ctx.size(10_000, 60_000))
    x, y = gg.tensor(data.x_train[:n]), gg.tensor(data.y_train[:n])
    x_test, y_test = gg.tensor(data.x_test), gg.tensor(data.y_test)
    runs, steps, big, threshold = ctx.size(3, 10), ctx.size(500, 2000), 30.0, 0.6
    seeds = [1000 * ctx.seed + r for r in range(runs)]
    results = {}
    for name, loss_fn in ctx.bar(LOSSES.items(), "softmax regression"):
        results[(name, "large")] = [train_softmax_regression(x, y, x_test, y_test, loss_fn, big, s, steps)
                                    for s in seeds]
        results[(name, "default")] = [train_softmax_regression(x, y, x_test, y_test, loss_fn, None, seeds[0], steps)]
    final = {k: [float(r["test_acc"][-1]) for r in v] for k, v in results.items()}
    share = {name: float(np.mean(np.array(final[(name, "large")]) >= threshold)) for name in LOSSES}
    ctx.result("softmax_regression", {
        "train_images": n, "updates": steps, "lr": 1.0, "initial_logit_std": big, "success_threshold": threshold,
        "final_test_acc": {f"{k[0]}, {k[1]} init": v for k, v in final.items()},
        "success_share_large_init": share,
        "initial_gradient_norm": {f"{k[0]}, {k[1]} init": float(np.mean([r["initial_gradient_norm"] for r in v]))
                                  for k, v in results.items()},
    })
    ce, mse = final[("cross-entropy", "large")], final[("MSE", "large")]
    ctx.claim(
        f"A real classifier from a high-loss start: softmax regression on {data.name} with large, mostly wrong "
        f"initial logits (std {big:g}), {steps} updates of SGD (lr 1, batch 100): cross-entropy succeeds "
        f"(test accuracy >= {threshold:.0%}) in at least 90% of {runs} runs, MSE in at most 10%",
        f"success: cross-entropy {share['cross-entropy']:.0%}, MSE {share['MSE']:.0%}; test accuracy "
        f"cross-entropy {min(ce):.1%}-{max(ce):.1%}, MSE {min(mse):.1%}-{max(mse):.1%}",
        share["cross-entropy"] >= 0.9 and share["MSE"] <= 0.1,  # frozen or ascent: cross-entropy fails too
        expected="cross-entropy >= 90%, MSE <= 10%",
    )
    d_mse, d_ce = final[("MSE", "default")][0], final[("cross-entropy", "default")][0]
    ctx.claim(
        "It is the start, not MSE as such: from the default small initialization both losses train "
        "the same model well (test accuracy >= 85%)",
        f"MSE {d_mse:.1%}, cross-entropy {d_ce:.1%}",
        d_mse >= 0.85 and d_ce >= 0.85,  # frozen: chance level, ~10%
        expected=">= 85% both",
    )
    return results, steps


def success_figure(ctx: LabContext, wrong: np.ndarray, ends: dict, results: dict, steps: int, dataset: str) -> None:
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
    margin = wrong[:, 1] - wrong[:, 0]
    edges = np.arange(2, 22, 2)
    centers = (edges[:-1] + edges[1:]) / 2
    for name, color in (("MSE", "tab:red"), ("cross-entropy", "tab:blue")):
        ok = prob_of_target(ends[("wrong_half", name)]) > 0.9
        share = [ok[(margin >= a) & (margin < b)].mean() if ((margin >= a) & (margin < b)).any() else np.nan
                 for a, b in zip(edges[:-1], edges[1:])]
        ax1.plot(centers, 100 * np.array(share), "o-", color=color, label=name)
    ax1.set(xlabel="initial lead of the wrong class, y2 - y1", ylabel="runs that succeed (%)",
            title=f"Two logits: {TOY_STEPS} steps of gradient descent, lr {TOY_LR}", ylim=(-5, 105))
    ax1.legend(fontsize=8)
    every = steps // (len(next(iter(results.values()))[0]["test_acc"]) - 1)
    for (name, init), runs in results.items():
        color = "tab:red" if name == "MSE" else "tab:blue"
        style = "-" if init == "large" else ":"
        for i, r in enumerate(runs):
            label = f"{name}, {'large wrong' if init == 'large' else 'default'} init" if i == 0 else None
            ax2.plot(np.arange(len(r["test_acc"])) * every, 100 * r["test_acc"], style, color=color, lw=1.2,
                     alpha=0.8, label=label)
    ax2.set(xlabel="update", ylabel="test accuracy (%)", title=f"Softmax regression on {dataset}", ylim=(0, 100))
    ax2.legend(fontsize=8)
    fig.suptitle("From a high-loss start, MSE gets stuck on its plateau; cross-entropy does not")
    ctx.figure("success_from_high_loss", fig)


# ---------------------------------------------------------------- (c) batch normalization


BN_LRS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
BN_TARGET = 0.2
HIDDEN = 32


def bn_net(n_in: int, n_out: int, batchnorm: bool) -> nn.Module:
    """Two hidden layers of 32 ReLUs; with ``batchnorm``, BatchNorm1d on each hidden layer's
    pre-activations (the input is left as it is given: normalizing it is a separate choice)."""
    if not batchnorm:
        return nn.Sequential(nn.Linear(n_in, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
                             nn.Linear(HIDDEN, n_out))
    return nn.Sequential(nn.Linear(n_in, HIDDEN), nn.BatchNorm1d(HIDDEN), nn.ReLU(),
                         nn.Linear(HIDDEN, HIDDEN), nn.BatchNorm1d(HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, n_out))


def train_full_batch(x, y, batchnorm: bool, lr: float, steps: int, seed: int) -> np.ndarray:
    """Full-batch gradient descent; the training loss before each update (inf once it diverges)."""
    gg.manual_seed(seed)
    model = bn_net(x.shape[1], int(y.max().item()) + 1, batchnorm)
    opt = gg.optim.SGD(model.parameters(), lr=lr)
    losses = np.full(steps, np.inf)
    for t in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        if not np.isfinite(loss.item()):
            break
        losses[t] = loss.item()
        loss.backward()
        opt.step()
    return losses


def updates_to(losses: np.ndarray, target: float) -> int | None:
    """The first update count at which the loss is below ``target`` (None: never)."""
    hit = np.nonzero(losses < target)[0]
    return int(hit[0]) if hit.size else None


def late_loss(losses: np.ndarray) -> float:
    """The median training loss over the second half of the updates (inf if the run diverged)."""
    return float(np.median(losses[len(losses) // 2:]))


def settled_at(losses: np.ndarray, target: float) -> int | None:
    """The update count from which on the loss stays below ``target`` (None: it ends above it), so
    that a run that dips below the target and then diverges does not count as reaching it."""
    above = np.nonzero(~(losses < target))[0]
    if above.size and above[-1] == len(losses) - 1:
        return None
    return int(above[-1]) + 1 if above.size else 0


PLAIN, INPUT_NORM, BN_ONLY, BOTH = ("plain network, raw features", "input normalization alone",
                                    "batch norm alone (raw features)", "input normalization and batch norm")


@dataclass
class BatchNormRuns:
    """Training-loss curves of the four set-ups at every learning rate, and each one's best rate."""

    steps: int
    curves: dict  # (set-up, lr) -> training loss per update
    best: dict  # set-up -> its best learning rate
    hits: dict  # set-up -> updates until the loss stays below BN_TARGET, at its best rate (None: never)

    def final(self, name: str, lr: float | None = None) -> float:
        return float(self.curves[(name, self.best[name] if lr is None else lr)][-1])


def batchnorm_runs(ctx: LabContext, x_raw, x_norm, y) -> BatchNormRuns:
    """Each set-up trained at each learning rate of BN_LRS; its best rate is the one with the lowest
    median loss over the second half of training (a median, so that one spike does not decide)."""
    steps = ctx.size(200, 2000)
    setups = {PLAIN: (x_raw, False), INPUT_NORM: (x_norm, False), BN_ONLY: (x_raw, True), BOTH: (x_norm, True)}
    curves, best = {}, {}
    for name, (x, bn) in ctx.bar(setups.items(), "batch normalization"):
        for lr in BN_LRS:
            curves[(name, lr)] = train_full_batch(x, y, bn, lr, steps, ctx.seed)

        best[name] = min(BN_LRS, key=lambda lr, name=name: late_loss(curves[(name, lr)]))
    return BatchNormRuns(steps, curves, best, {name: settled_at(curves[(name, best[name])], BN_TARGET)
                                               for name in setups})


def batchnorm_part(ctx: LabContext) -> None:
    from sklearn.datasets import load_breast_cancer

    features, labels = load_breast_cancer(return_X_y=True)
    stds = features.std(axis=0)
    x_raw = gg.tensor(features.astype(np.float32))
    x_norm = gg.tensor(((features - features.mean(0)) / stds).astype(np.float32))
    y = gg.tensor(labels)
    runs = batchnorm_runs(ctx, x_raw, x_norm, y)
    steps, best, hits = runs.steps, runs.best, runs.hits

    def shown(h):
        return f"{h} updates" if h is not None else f"not within {steps}"

    def fewer(a, b, factor=10):  # a reaches the target, in at most 1/factor of b's updates (never: steps + 1)
        return hits[a] is not None and factor * hits[a] <= (hits[b] if hits[b] is not None else steps + 1)

    prior = float(labels.mean())
    constant_loss = -(prior * np.log(prior) + (1 - prior) * np.log(1 - prior))  # always predict the class shares
    ctx.result("batchnorm", {
        "data": "breast cancer (569 x 30)", "feature_std_range": [float(stds.min()), float(stds.max())],
        "updates": steps, "target_loss": BN_TARGET, "lr_grid": BN_LRS, "best_lr": best, "updates_to_target": hits,
        "final_loss": {f"{name}, lr {lr}": float(c[-1]) for (name, lr), c in runs.curves.items()},
        "constant_prediction_loss": constant_loss,
    })
    # frozen or ascending optimizers: no set-up reaches the target and every grid ties, so each of
    # these claims fails
    ctx.claim(
        f"Badly scaled raw features (std {stds.min():.3g} to {stds.max():.0f}) hold a plain network to a small "
        f"learning rate; normalizing the input features alone makes a learning rate at least 100x larger its best "
        f"(of {BN_LRS}, full-batch gradient descent) and gets its training loss below {BN_TARGET} (to stay) "
        "in at least 10x fewer updates",
        f"best learning rate {best[INPUT_NORM]:g} vs {best[PLAIN]:g}; loss {BN_TARGET} in {shown(hits[INPUT_NORM])} "
        f"vs {shown(hits[PLAIN])}",
        best[INPUT_NORM] >= 100 * best[PLAIN] and fewer(INPUT_NORM, PLAIN),
        expected=">= 100x the rate, <= 1/10 the updates",
    )
    # "trains": its median loss over the second half is below half that of always predicting the class
    # shares; "learns nothing": at least that loss
    trains, nothing = 0.5 * constant_loss, constant_loss - 0.01
    large = [lr for lr in BN_LRS if 100 * best[PLAIN] <= lr <= 1.0]
    plain_late = {lr: late_loss(runs.curves[(PLAIN, lr)]) for lr in large}
    bn_late = {lr: late_loss(runs.curves[(BN_ONLY, lr)]) for lr in large}
    ctx.claim(
        "Batch norm alone (BatchNorm1d after each hidden linear layer, raw features in) does much the same for "
        f"the learning rate: at every rate of the grid from 100x the plain network's best up to 1, the plain "
        f"network learns nothing (its loss stays at that of always predicting the class shares, {constant_loss:.3f}), "
        "while with batch norm it trains (median loss over the second half below half that)",
        "; ".join(f"lr {lr:g}: plain {plain_late[lr]:.3f}, batch norm {bn_late[lr]:.3f}" for lr in large),
        bool(large) and all(plain_late[lr] >= nothing and bn_late[lr] < trains for lr in large),
        expected=f"plain >= {nothing:.2f}, batch norm < {trains:.2f}",
    )
    ctx.claim(
        f"... but it does not replace input normalization: its first layer still sees the raw scales, and after "
        f"{steps} updates its training loss is more than 10x that of input normalization alone (each at its best "
        "rate)",
        f"{runs.final(BN_ONLY):.4f} vs {runs.final(INPUT_NORM):.4f}",
        runs.final(BN_ONLY) > 10 * runs.final(INPUT_NORM) and hits[INPUT_NORM] is not None,
        expected="> 10x, and input normalization reaches the target",
    )
    top = BN_LRS[-1]
    late = {name: late_loss(runs.curves[(name, top)]) for name in (BOTH, INPUT_NORM)}
    ctx.claim(
        f"On normalized features, batch norm still widens the usable learning rates: at lr {top:g} the network "
        f"with batch norm trains (median loss over the second half below half of {constant_loss:.3f}), the one "
        "without it learns nothing (it diverges or sticks, at or above that loss)",
        f"median loss, second half: with batch norm {late[BOTH]:.3f}, without {late[INPUT_NORM]:.3f}",
        late[BOTH] < trains and late[INPUT_NORM] >= nothing,
        expected=f"with < {trains:.2f}, without >= {nothing:.2f}",
    )

    # the gradient through the batch statistics: a wrong derivative anywhere in the network (e.g.
    # ReLU's halved) makes the measured fall miss the first-order prediction; a frozen step gives 0
    gg.manual_seed(ctx.seed)
    model = bn_net(x_norm.shape[1], 2, batchnorm=True)
    share = realized_share(model.parameters(), lambda: F.cross_entropy(model(x_norm), y),
                           lambda: F.cross_entropy(model(x_norm), y), 1e-3)
    ctx.result("batchnorm_first_order_share", share)
    ctx.claim(
        "The gradient of a batch-norm network flows through the batch's mean and variance (each example's output "
        "depends on the whole batch), and it is the true slope: one SGD step of lr 0.001 lowers the loss by "
        "lr ||g||^2, as the first-order Taylor expansion predicts (within 1%)",
        f"{share:.4f} of the predicted fall",
        abs(share - 1) < 0.01,
        expected="0.99 to 1.01",
    )

    larger = [lr for lr in BN_LRS if lr > best[PLAIN]]
    too_large = ""
    if larger:
        end = runs.final(PLAIN, larger[0])
        too_large = f" (at {larger[0]:g} its training loss ends at {end:.3f}" + (
            f", no better than always predicting the class shares, {constant_loss:.3f})"
            if end >= constant_loss - 0.01 else ")")
    ctx.write(
        f"**(c) Feature normalization and batch normalization** on scikit-learn's breast-cancer data (569 tumours, "
        f"30 features), full-batch gradient descent, learning rates {BN_LRS}, {steps} updates, two hidden layers of "
        f"{HIDDEN} ReLUs. Each set-up at its best learning rate:\n\n"
        f"| set-up | best learning rate | updates until the loss stays below {BN_TARGET} | training loss after "
        f"{steps} |\n"
        "|---|---|---|---|\n"
        + "\n".join(f"| {name} | {best[name]:g} | {shown(hits[name])} | {runs.final(name):.4f} |"
                    for name in (PLAIN, INPUT_NORM, BN_ONLY, BOTH))
        + f"\n\nThe plain network on raw features trains best at {best[PLAIN]:g}{too_large}. The two remedies do "
        "different things. Normalizing the input (the lecture's feature normalization) makes the error surface "
        "round where it starts, in the first layer's weights: that alone does most of the work. Batch norm "
        "normalizes the hidden layers' inputs, for every batch, so the later layers see well-scaled numbers "
        "whatever the first layer does: it makes large learning rates usable even on raw features, but the "
        f"first layer's surface stays elongated and training stalls. Together they reach loss {BN_TARGET} in "
        f"{shown(hits[BOTH])} and still train at lr {BN_LRS[-1]:g}, where input normalization alone does not. "
        "(A BatchNorm1d on the input would, in full-batch training, be the same as normalizing the features, "
        "up to its learnable scale and shift.)"
    )
    batchnorm_figure(ctx, runs)
    surface_of_scales(ctx, features, labels)


def batchnorm_figure(ctx: LabContext, runs: BatchNormRuns) -> None:
    import matplotlib.pyplot as plt

    steps = np.arange(1, runs.steps + 1)
    colors = {PLAIN: "tab:red", INPUT_NORM: "tab:green", BN_ONLY: "tab:blue", BOTH: "tab:purple"}
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.2))
    for name, color in colors.items():
        ax1.plot(steps, runs.curves[(name, runs.best[name])], color=color, label=f"{name}, lr {runs.best[name]:g}")
    top = BN_LRS[-1]
    for name in (INPUT_NORM, BOTH):
        ax2.plot(steps, runs.curves[(name, top)], color=colors[name], label=f"{name}, lr {top:g}")
    for ax in (ax1, ax2):
        ax.axhline(BN_TARGET, color="grey", lw=0.8, ls="--")
        ax.set(xscale="log", yscale="log", xlabel="update", ylabel="training loss (cross-entropy)")
        ax.legend(fontsize=8)
    ax1.set_title("Each set-up at its best learning rate")
    ax2.set_ylim(top=100)  # a diverging run leaves the plot at the top
    ax2.set_title(f"Normalized features at lr {top:g}: only with batch norm does it train")
    fig.suptitle("Breast-cancer data: input normalization, batch norm, and both (dashed: loss "
                 f"{BN_TARGET})")
    ctx.figure("batchnorm_loss_curves", fig)


def grid_loss(c: np.ndarray, b: np.ndarray, target: np.ndarray, w: np.ndarray) -> np.ndarray:
    """L(w) = w^T C w - 2 w^T b + mean(target^2) with C = X^T X / n and b = X^T target / n, the mean
    squared error of the linear model, at w of shape (2, ...)."""
    w1, w2 = w[0], w[1]
    return (c[0, 0] * w1 * w1 + 2 * c[0, 1] * w1 * w2 + c[1, 1] * w2 * w2 - 2 * (b[0] * w1 + b[1] * w2)
            + float((target ** 2).mean()))


def surface_of_scales(ctx: LabContext, features: np.ndarray, labels: np.ndarray) -> None:
    """The lecture's picture: the error surface of y = w1 x1 + w2 x2 on two features of very
    different scale (mean texture, std ~4, and mean perimeter, std ~24), raw and standardized."""
    import matplotlib.pyplot as plt

    names, columns = ("mean texture", "mean perimeter"), [1, 2]
    x2 = features[:, columns] - features[:, columns].mean(0)
    target = labels - labels.mean()
    settings = {"raw features": x2, "normalized features": x2 / x2.std(0)}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    info = {}
    for ax, (name, xs) in zip(axes, settings.items()):
        xt, yt = gg.tensor(xs, dtype=gg.float64), gg.tensor(target, dtype=gg.float64)
        w = gg.zeros(2, dtype=gg.float64, requires_grad=True)

        def loss_fn(xt=xt, yt=yt, w=w):
            return ((xt @ w - yt) ** 2).mean()

        _, _, hess = hessian_of(loss_fn, [w])
        eig = np.linalg.eigvalsh(hess)
        w_star = np.linalg.solve(hess, 2 * xs.T @ target / len(target))
        lr = 1.0 / eig.max()  # well inside the stability limit 2 / lambda_max
        start = w_star + np.abs(w_star).max() * np.array([-1.0, 0.6])
        with gg.no_grad():
            w.copy_(gg.tensor(start, dtype=gg.float64))
        opt = gg.optim.SGD([w], lr=lr)
        path = [start]
        for _ in range(1000):
            opt.zero_grad()
            loss_fn().backward()
            opt.step()
            path.append(w.detach().numpy().copy())
        distance = np.linalg.norm(np.array(path) - w_star, axis=1)
        steps_to = updates_to(distance, 0.01 * distance[0])
        info[name] = {"condition_number": float(eig.max() / eig.min()), "lr": lr, "steps_to_1pct": steps_to}
        path = np.array(path)
        r = 1.1 * np.abs(start - w_star).max()
        g1, g2 = np.meshgrid(np.linspace(w_star[0] - r, w_star[0] + r, 200),
                             np.linspace(w_star[1] - r, w_star[1] + r, 200))
        c, b = hess / 2, xs.T @ target / len(target)
        grid = grid_loss(c, b, target, np.stack([g1, g2]))
        l_min, l_start = grid_loss(c, b, target, w_star), grid_loss(c, b, target, start)
        ax.contour(g1, g2, grid, levels=l_min + (l_start - l_min) * np.geomspace(0.003, 2, 12), cmap="Greys_r",
                   linewidths=0.8)
        ax.plot(path[:200, 0], path[:200, 1], ".-", color="tab:red", ms=2, lw=0.8,
                label="gradient descent, lr 1/lambda_max")
        ax.plot(*w_star, "k*", ms=10)
        ax.set(xlabel=f"w1 ({names[0]})", ylabel=f"w2 ({names[1]})", aspect="equal",
               title=f"{name}: condition number {eig.max() / eig.min():.1f}")
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("Error surface of a linear model on two features: elongated when their scales differ")
    ctx.figure("error_surface_feature_scales", fig)

    raw, norm = info["raw features"], info["normalized features"]
    ctx.result("two_feature_surface", info)
    ctx.claim(
        f"Features on different scales ({names[0]}, std {np.std(features[:, columns[0]]):.1f}; {names[1]}, std "
        f"{np.std(features[:, columns[1]]):.0f}) make the error surface an elongated valley, normalized features a "
        "round bowl: Hessian condition number more than 10x larger",
        f"{raw['condition_number']:.1f} vs {norm['condition_number']:.2f}",
        # a Hessian, not training: no optimizer breakage shows here
        raw["condition_number"] > 10 * norm["condition_number"],
        expected="> 10x",
    )
    ctx.claim(
        "So gradient descent (lr 1/lambda_max) needs far longer on the raw features to get to the minimum (to 1% "
        "of the starting distance): more than 10x the updates",
        f"raw: {raw['steps_to_1pct'] if raw['steps_to_1pct'] is not None else 'not within 1000'} updates; "
        f"normalized: {norm['steps_to_1pct']}",
        norm["steps_to_1pct"] is not None
        and (raw["steps_to_1pct"] is None or raw["steps_to_1pct"] > 10 * max(norm["steps_to_1pct"], 1)),
        expected="> 10x",  # frozen or ascending: neither gets there
    )


def run(ctx: LabContext) -> None:
    data = load_digit_data(ctx)
    surface_part(ctx)
    wrong, ends = toy_success_part(ctx)
    results, steps = real_success_part(ctx, data)
    success_figure(ctx, wrong, ends, results, steps, data.name)
    batchnorm_part(ctx)


LAB = Lab(
    name="classification-loss",
    lecture="Lecture 7",
    title="Classification: MSE vs cross-entropy, and batch normalization",
    summary="MSE's flat plateau vs cross-entropy's slope; training from a high-loss start; BatchNorm on badly "
            "scaled features",
    run=run,
)
