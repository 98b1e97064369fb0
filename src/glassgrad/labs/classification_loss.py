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
- Batch normalization makes a badly scaled problem easy: on scikit-learn's breast-cancer data
  with its raw features (standard deviations from 0.003 to 570), the plain network only tolerates
  a small learning rate and trains slowly, while the same network with BatchNorm1d (on the input
  and after each hidden linear layer) trains at a 1000x larger learning rate and reaches a low
  training loss in a few updates. The error surface of a two-input linear model shows why:
  features of different scales make it an elongated valley (condition number in the thousands),
  normalized features a round bowl.
"""

from __future__ import annotations

import numpy as np

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.analysis import hessian_of
from glassgrad.labs._digit_data import DigitData, load_digit_data
from glassgrad.labs._lab import Lab, LabContext
from glassgrad.utils.data import DataLoader, TensorDataset

PINNED = -1000.0  # the third logit, as on the slide
START = (-10.0, 10.0)  # (y1, y2): class 2 far ahead of the target class 1
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
        mse_loss > 1.99 and mse_g < 1e-6,
    )
    ctx.claim(
        "Cross-entropy keeps a slope there: a gradient norm above 1, over a million times MSE's",
        f"cross-entropy loss {ce_loss:.2f}, gradient norm {ce_g:.3f} ({ce_g / mse_g:.1e}x)",
        ce_g > 1 and ce_g / mse_g > 1e6,
    )

    axis = np.linspace(-10, 10, 61)
    Y1, Y2 = np.meshgrid(axis, axis)  # noqa: N806
    with gg.no_grad():
        mse_grid, ce_grid = (v.numpy().reshape(Y1.shape) for v in
                             toy_losses(gg.tensor(np.stack([Y1.ravel(), Y2.ravel()], 1), dtype=gg.float64)))
    start = np.array([START])
    fig = plt.figure(figsize=(13, 5))
    for i, (grid, name) in enumerate(((mse_grid, "Mean square error"), (ce_grid, "Cross-entropy"))):
        ax = fig.add_subplot(1, 2, i + 1, projection="3d")
        ax.plot_surface(Y1, Y2, grid, cmap="viridis", alpha=0.75, linewidth=0, rcount=61, ccount=61)
        path = descend_toy(start, i)[:, 0]
        loss_on_path = np.array([toy_losses(gg.tensor(p[None], dtype=gg.float64))[i].item() for p in path])
        ax.plot(path[:, 0], path[:, 1], loss_on_path + 0.02 * grid.max(), "r.-", ms=3, lw=1, zorder=10,
                label=f"gradient descent, lr {TOY_LR}, {TOY_STEPS} steps")
        ax.scatter(*START, loss_on_path[0] + 0.02 * grid.max(), color="red", s=40, zorder=11)
        ax.set(xlabel="y1 (target class)", ylabel="y2", zlabel="loss", title=f"{name} (y3 = {PINNED:g})",
               xticks=[-10, -5, 0, 5, 10], yticks=[-10, -5, 0, 5, 10])
        ax.view_init(elev=30, azim=-60 if i == 0 else -120)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(f"Error surfaces over two logits, target class 1; start at (y1, y2) = {START} (red)")
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
        shares[("corner", "cross-entropy")] >= 0.95 and shares[("corner", "MSE")] <= 0.05,
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
        share["cross-entropy"] >= 0.9 and share["MSE"] <= 0.1,
    )
    d_mse, d_ce = final[("MSE", "default")][0], final[("cross-entropy", "default")][0]
    ctx.claim(
        "It is the start, not MSE as such: from the default small initialization both losses train "
        "the same model well (test accuracy >= 85%)",
        f"MSE {d_mse:.1%}, cross-entropy {d_ce:.1%}",
        d_mse >= 0.85 and d_ce >= 0.85,
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


BN_LRS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
BN_TARGET = 0.2
HIDDEN = 32


def bn_net(n_in: int, n_out: int, batchnorm: bool) -> nn.Module:
    """Two hidden layers of 32 ReLUs; with ``batchnorm``, BatchNorm1d on the input (feature
    normalization done by the network) and on each hidden layer's pre-activations."""
    if not batchnorm:
        return nn.Sequential(nn.Linear(n_in, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
                             nn.Linear(HIDDEN, n_out))
    return nn.Sequential(nn.BatchNorm1d(n_in), nn.Linear(n_in, HIDDEN), nn.BatchNorm1d(HIDDEN), nn.ReLU(),
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


def batchnorm_part(ctx: LabContext) -> None:
    import matplotlib.pyplot as plt
    from sklearn.datasets import load_breast_cancer

    features, labels = load_breast_cancer(return_X_y=True)
    stds = features.std(axis=0)
    x_raw = gg.tensor(features.astype(np.float32))
    x_norm = gg.tensor(((features - features.mean(0)) / stds).astype(np.float32))
    y = gg.tensor(labels)
    steps = ctx.size(200, 2000)
    configs = {"plain, raw features": (x_raw, False), "BatchNorm, raw features": (x_raw, True),
               "plain, normalized features": (x_norm, False)}
    curves, best = {}, {}
    for name, (x, bn) in ctx.bar(configs.items(), "batch normalization"):
        for lr in BN_LRS:
            curves[(name, lr)] = train_full_batch(x, y, bn, lr, steps, ctx.seed)

        def score(lr, name=name):  # fewest updates to the target; else the lowest final loss
            hit = updates_to(curves[(name, lr)], BN_TARGET)
            return (hit if hit is not None else steps, curves[(name, lr)][-1])

        best[name] = min(BN_LRS, key=score)
    hits = {name: updates_to(curves[(name, best[name])], BN_TARGET) for name in configs}
    plain, bn = "plain, raw features", "BatchNorm, raw features"

    def shown(h):
        return f"{h} updates" if h is not None else f"not within {steps}"

    ctx.result("batchnorm", {
        "data": "breast cancer (569 x 30), raw features", "feature_std_range": [float(stds.min()), float(stds.max())],
        "updates": steps, "target_loss": BN_TARGET, "lr_grid": BN_LRS,
        "best_lr": best, "updates_to_target": hits,
        "final_loss": {f"{name}, lr {lr}": float(c[-1]) for (name, lr), c in curves.items()},
    })
    ctx.claim(
        f"Badly scaled raw features (std {stds.min():.3g} to {stds.max():.0f}) hold the plain network to a small "
        f"learning rate; with BatchNorm1d the same network trains best at a learning rate at least 100x larger "
        f"(best of {BN_LRS}, full-batch gradient descent)",
        f"best learning rate: plain {best[plain]:g}, BatchNorm {best[bn]:g}",
        best[bn] >= 100 * best[plain],
    )
    bn_hit = hits[bn] if hits[bn] is not None else steps + 1
    plain_hit = hits[plain] if hits[plain] is not None else steps + 1
    ctx.claim(
        f"... and reaches training loss {BN_TARGET} in at least 10x fewer updates than the plain network "
        "(each at its best learning rate)",
        f"BatchNorm: {shown(hits[bn])}; plain: {shown(hits[plain])}",
        hits[bn] is not None and 10 * bn_hit <= plain_hit,
    )
    same_lr = curves[(bn, best[plain])][-1]
    prior = float(labels.mean())
    constant_loss = -(prior * np.log(prior) + (1 - prior) * np.log(1 - prior))  # always predict the class shares
    larger = [lr for lr in BN_LRS if lr > best[plain]]
    too_large = ""
    if larger:
        end = curves[(plain, larger[0])][-1]
        too_large = f" (at {larger[0]:g} its training loss ends at {end:.3f}" + (
            f", no better than always predicting the class shares, {constant_loss:.3f})"
            if end >= constant_loss - 0.01 else ")")
    plain_end = curves[(plain, best[plain])][-1]
    ctx.write(
        f"**(c) Batch normalization** on scikit-learn's breast-cancer data (569 tumours, 30 raw features), "
        f"full-batch gradient descent, learning rates {BN_LRS}, {steps} updates. Each network is shown at its "
        f"best learning rate: the plain one at {best[plain]:g}{too_large}, the BatchNorm one at {best[bn]:g}. "
        f"At the *same* learning rate as the plain network ({best[plain]:g}) the BatchNorm network is "
        f"{'not faster' if same_lr >= plain_end else 'hardly better'} (training loss {same_lr:.3f} after "
        f"{steps} updates, against {plain_end:.3f}): inside, everything is now well scaled, and a well-scaled network "
        "needs an ordinary learning rate. What batch normalization buys is that such a rate becomes usable. "
        f"Normalizing the input features alone (the lecture's feature normalization) already gets the plain "
        f"network to loss {BN_TARGET} in {shown(hits['plain, normalized features'])} at lr "
        f"{best['plain, normalized features']:g}."
    )

    fig, ax = plt.subplots(figsize=(9, 4))
    colors = {plain: "tab:red", bn: "tab:blue", "plain, normalized features": "tab:green"}
    for name in configs:
        c = curves[(name, best[name])]
        ax.plot(np.arange(1, steps + 1), c, color=colors[name], label=f"{name}, lr {best[name]:g}")
    ax.plot(np.arange(1, steps + 1), curves[(bn, best[plain])], ":", color="tab:blue",
            label=f"BatchNorm, raw features, lr {best[plain]:g} (the plain net's)")
    ax.axhline(BN_TARGET, color="grey", lw=0.8, ls="--")
    ax.set(xscale="log", yscale="log", xlabel="update", ylabel="training loss (cross-entropy)",
           title="Breast-cancer data, raw features: training loss per update (best learning rate of each)")
    ax.legend(fontsize=8)
    ctx.figure("batchnorm_loss_curves", fig)

    surface_of_scales(ctx, features, labels)


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
        raw["condition_number"] > 10 * norm["condition_number"],
    )
    ctx.claim(
        "So gradient descent (lr 1/lambda_max) needs far longer on the raw features to get to the minimum (to 1% "
        "of the starting distance): more than 10x the updates",
        f"raw: {raw['steps_to_1pct'] if raw['steps_to_1pct'] is not None else 'not within 1000'} updates; "
        f"normalized: {norm['steps_to_1pct']}",
        norm["steps_to_1pct"] is not None
        and (raw["steps_to_1pct"] is None or raw["steps_to_1pct"] > 10 * max(norm["steps_to_1pct"], 1)),
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
