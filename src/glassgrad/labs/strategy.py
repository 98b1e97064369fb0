"""Lecture 3: general guidance. What to do when the result is not good: look at the training loss
first, then at the test loss.

- Large training loss from an optimization failure, not overfitting: a deeper plain network
  (20 layers of ReLUs, default initialization, no normalization) ends at a higher training loss
  than a 5-layer one trained the same way, although it can compute everything the 5-layer one
  computes (its extra layers as identities). The lecture's example: 56 vs 20 layers. Why: at
  initialization each layer divides the backward signal's mean square by about 6.
- Overfitting, caught by a validation set split from the training data: a big network trained
  long on little data, 30% of whose labels were flipped at random (label noise, so that even the
  8x8 digits overfit plainly), drives its training loss to ~0 while its validation loss rises;
  early stopping (keeping the epoch with the best validation loss) gives a better model.
- Model selection by N-fold cross validation: among models of increasing complexity (linear
  predictors of tomorrow from the past k days, the model of lectures 1-2), 5-fold cross
  validation on the training data picks one whose test error is close to the best.
- The bias-complexity trade-off: the training loss falls as the model grows, the test loss first
  falls (less model bias) then rises (overfitting).
  (These two are fitted by NumPy's exact least squares, so the report states them in its prose
  and its figure, not as claims: a claim is a measurement made with glassgrad.)
- Mismatch: trained on ordinary digits and tested on inverted ones, the test error stays high
  however much training data is used; more data does not fix a mismatch.

Each claim's ``expected`` says what a working library shows; the claims that train also check
that training happened (a loss far below guessing's ln 10), so a broken optimizer fails them.
"""

from __future__ import annotations

import numpy as np

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.labs._lab import Lab, LabContext
from glassgrad.utils.data import DataLoader, KFold, TensorDataset, random_split

BATCH = 64


# ---------------------------------------------------------------- data


class Digits:
    """MNIST (or, offline, scikit-learn's 8x8 digits) as flat float32 pixels in [0, 1]."""

    def __init__(self):
        train = gg.datasets.load_mnist_or_digits(split="train", download=True)
        test = gg.datasets.load_mnist_or_digits(split="test", download=True)
        self.is_mnist, self.message = train.is_mnist, train.message
        self.side = train.images.shape[1]
        self.x = train.images.reshape(len(train.images), -1).astype(np.float32) / train.pixel_max
        self.y = train.labels
        self.x_test = test.images.reshape(len(test.images), -1).astype(np.float32) / test.pixel_max
        self.y_test = test.labels

    def subset(self, n: int, generator: gg.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` random training images (all of them if there are fewer)."""
        idx = generator.permutation(len(self.y))[: min(n, len(self.y))]
        return self.x[idx], self.y[idx]


def standardizer(x: np.ndarray):
    """x -> (x - mean) / std with the mean and std of the pixels of ``x`` (the training images)."""
    mean, std = float(x.mean()), float(x.std())
    return lambda z: gg.tensor(((z - mean) / std).astype(np.float32))


def mlp(n_in: int, width: int, n_linear: int) -> nn.Sequential:
    """A plain network of ``n_linear`` Linear layers with ReLUs between them: no normalization,
    no residual connections, PyTorch's default initialization."""
    layers: list[nn.Module] = [nn.Linear(n_in, width), nn.ReLU()]
    for _ in range(n_linear - 2):
        layers += [nn.Linear(width, width), nn.ReLU()]
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def mean_loss(model: nn.Module, x: gg.Tensor, y: gg.Tensor) -> float:
    """The cross-entropy of ``model`` over all of (x, y), in eval mode."""
    return gg.train.evaluate(model, DataLoader(TensorDataset(x, y), batch_size=2048), F.cross_entropy)["loss"]


def error_rate(model: nn.Module, x: gg.Tensor, y: gg.Tensor) -> float:
    metrics = gg.train.evaluate(model, DataLoader(TensorDataset(x, y), batch_size=2048),
                                metrics={"acc": gg.train.accuracy})
    return 1.0 - metrics["acc"]


# ---------------------------------------------------------------- (a) optimization, not overfitting


def identity_extension(shallow: nn.Sequential, n_linear: int) -> nn.Sequential:
    """A ``n_linear``-layer copy of ``shallow`` whose extra hidden layers are identities (weight I,
    bias 0): after a ReLU every value is >= 0, so ReLU(I h + 0) = h and the deep network computes
    exactly what the shallow one does."""
    hidden = [m for m in shallow if isinstance(m, nn.Linear)]
    width = hidden[0].out_features
    deep = mlp(hidden[0].in_features, width, n_linear)
    deep_linear = [m for m in deep if isinstance(m, nn.Linear)]
    with gg.no_grad():
        for i, layer in enumerate(deep_linear):
            if i < len(hidden) - 1:
                source = hidden[i]
            elif i == len(deep_linear) - 1:
                source = hidden[-1]
            else:
                layer.weight.copy_(gg.eye(width))
                layer.bias.zero_()
                continue
            layer.weight.copy_(source.weight)
            layer.bias.copy_(source.bias)
    return deep


def backward_signal(model: nn.Sequential, x: gg.Tensor, y: gg.Tensor) -> np.ndarray:
    """The mean square of the loss's gradient with respect to each ReLU's output, first to last,
    at the model's current weights (read with ``retain_grad``; the parameters' grads are cleared)."""
    outputs, h = [], x
    for layer in model:
        h = layer(h)
        if isinstance(layer, nn.ReLU):
            h.retain_grad()
            outputs.append(h)
    F.cross_entropy(h, y).backward()
    model.zero_grad()
    return np.array([float((o.grad.numpy().astype(np.float64) ** 2).mean()) for o in outputs])


def optimization_issue(ctx: LabContext, data: Digits) -> None:
    import matplotlib.pyplot as plt

    n, epochs, width = ctx.size(1000, 5000), ctx.size(8, 20), 64
    depths = ctx.size([5, 20], [5, 20, 56])
    gen = gg.Generator(ctx.seed + 1)
    x_raw, y_raw = data.subset(n, gen)
    scale = standardizer(x_raw)
    x, y = scale(x_raw), gg.tensor(y_raw)
    x_test, y_test = scale(data.x_test[:2000]), gg.tensor(data.y_test[:2000])
    histories, models, train_loss, test_loss, spread = {}, {}, {}, {}, {}
    for depth in ctx.bar(depths, desc="depths"):
        gg.manual_seed(ctx.seed)
        model = mlp(x.shape[1], width, depth)
        with gg.no_grad():  # how much the untrained network's outputs differ from one input to another
            spread[depth] = float(model(x[:500]).numpy().std(axis=0).mean())
        if depth == depths[1]:
            signal = backward_signal(model, x[:500], y[:500])
        loader = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=True, generator=gg.Generator(ctx.seed))
        histories[depth] = gg.train.fit(model, gg.optim.Adam(model.parameters(), lr=1e-3), F.cross_entropy, loader,
                                        epochs=epochs, progress=False)
        models[depth] = model
        train_loss[depth], test_loss[depth] = mean_loss(model, x, y), mean_loss(model, x_test, y_test)
    shallow, deep = depths[0], depths[1]
    # between the hidden ReLUs every Linear is width x width: per layer the backward pass multiplies
    # the gradient's mean square by fan_out Var(w) / 2 = width / (3 width) / 2 = 1/6
    fade = float(np.exp(np.mean(np.log(signal[1:] / signal[:-1]))))
    ctx.claim(
        f"The error fades on its way back through the untrained {deep}-layer network, as the input does on its way "
        "forward: each hidden Linear + ReLU divides the mean square of the gradient with respect to the "
        "activations by about 6 (fan_out Var(w) / 2 = 1/6 with PyTorch's default initialization)",
        f"{fade:.2f}x per layer (geometric mean over {len(signal) - 1} layers); the first hidden layer's gradient has "
        f"{signal[0] / signal[-1]:.1e} of the mean square of the last one's",
        4 < fade < 9,
        expected="between 4 and 9 per layer (a ReLU derivative halved: about 24)",
    )
    copy = identity_extension(models[shallow], deep)
    copy_loss = mean_loss(copy, x, y)
    ctx.claim(
        f"Optimization, not overfitting: a deeper plain network ({deep} layers) ends at a higher TRAINING loss than "
        f"a shallower one ({shallow} layers), same data, optimizer (Adam, lr 1e-3) and {epochs} epochs",
        f"training loss {train_loss[deep]:.3f} ({deep} layers) vs {train_loss[shallow]:.3f} ({shallow} layers); "
        f"test loss {test_loss[deep]:.3f} vs {test_loss[shallow]:.3f}",
        train_loss[deep] > 2 * train_loss[shallow] and train_loss[shallow] < 0.5,
        expected=f"{deep} layers > 2x {shallow} layers, which learned (< 0.5; guessing: ln 10 = 2.30)",
    )
    ctx.claim(
        f"The {deep}-layer network is not too simple: with its extra layers set to identities it computes exactly "
        f"the trained {shallow}-layer network, so training could have reached that loss and failed to",
        f"training loss of the {deep}-layer copy {copy_loss:.4f} = {shallow}-layer {train_loss[shallow]:.4f}; "
        f"the trained {deep}-layer one: {train_loss[deep]:.3f}",
        abs(copy_loss - train_loss[shallow]) < 1e-4 and copy_loss < 0.5 * train_loss[deep] and copy_loss < 0.5,
        expected=f"copy = {shallow}-layer loss (within 1e-4), < 0.5 and < half the trained {deep}-layer one's",
    )
    if len(depths) > 2:
        deepest = depths[-1]
        ctx.claim(
            f"The lecture's pair: {deepest} layers train worse still than {deep}",
            f"training loss {train_loss[deepest]:.3f} ({deepest} layers) vs {train_loss[deep]:.3f} ({deep} layers)",
            train_loss[deepest] > train_loss[deep],
            expected=f"{deepest} layers > {deep} layers",
        )
    ctx.result("depth", {"train_loss": train_loss, "test_loss": test_loss, "identity_copy_loss": copy_loss,
                         "output_spread_at_init": spread, "train_images": len(y_raw), "epochs": epochs,
                         "width": width})
    ctx.write(
        "The lecture's example (from the ResNet paper) compares convolutional networks of 20 and 56 layers on "
        f"CIFAR-10; here plain fully-connected ReLU networks of width {width} on {len(y_raw)} digits, trained "
        f"with Adam (lr 1e-3, batches of {BATCH}) for {epochs} epochs. Why the deep one fails: with PyTorch's "
        "default initialization (weights uniform in +-1/sqrt(fan_in), variance 1/(3 fan_in)) every Linear + "
        "ReLU divides the second moment of the activations by about 6, so the input barely reaches the output "
        "of a deep network; on the way back the error fades as fast (the claim above), so it barely reaches the "
        "first layers' activations. Spread of the untrained networks' "
        "outputs over different inputs: "
        + ", ".join(f"{spread[d]:.1e} ({d} layers)" for d in depths)
        + ". Batch normalization and residual connections (later lectures) are the cures."
    )

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
    for depth in depths:
        ax1.plot(np.arange(1, epochs + 1), histories[depth]["loss"], marker="o", ms=3, label=f"{depth} layers")
    ax1.set(xlabel="epoch", ylabel="training loss (cross-entropy)", title="Training loss while training")
    ax1.legend()
    pos = np.arange(len(depths))
    ax2.bar(pos - 0.2, [train_loss[d] for d in depths], 0.4, label="training")
    ax2.bar(pos + 0.2, [test_loss[d] for d in depths], 0.4, label="test")
    ax2.axhline(copy_loss, color="k", ls=":", label=f"{deep} layers, copy of the {shallow}-layer net")
    ax2.set_xticks(pos, [f"{d} layers" for d in depths])
    ax2.set(ylabel="loss after training", title="Deeper trains worse: not overfitting")
    ax2.legend(fontsize=8)
    fig.suptitle(f"Plain ReLU networks (width {width}) on {len(y_raw)} {'MNIST' if data.is_mnist else '8x8'} digits")
    ctx.figure("deeper_trains_worse", fig)


# ---------------------------------------------------------------- (b) overfitting and early stopping


# Adam's learning rate for the overfitting run: small enough that the validation loss takes a few
# epochs to reach its minimum (a U, not a rise from epoch 1), large enough to memorize in 60 epochs.
# MNIST's 784 pixels are fitted faster than the 8x8 digits' 64.
OVERFIT_LR = {"mnist": 3e-4, "digits": 1e-3}
NOISE = 0.3  # the fraction of the training data's labels replaced by a different, random digit


def flip_labels(y: np.ndarray, fraction: float, generator: gg.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A copy of the labels ``y`` in which a random ``fraction`` of them is changed to another digit
    (uniformly among the other nine), and the mask of the changed ones."""
    flipped = generator.bernoulli(fraction, (len(y),))
    shift = generator.integers(1, 10, (len(y),))
    return np.where(flipped, (y + shift) % 10, y).astype(y.dtype), flipped


def overfitting(ctx: LabContext, data: Digits) -> None:
    import matplotlib.pyplot as plt

    n, epochs, width, patience = ctx.size(800, 2000), 60, ctx.size(256, 512), 5
    lr = OVERFIT_LR["mnist" if data.is_mnist else "digits"]
    gen = gg.Generator(ctx.seed + 2)
    x_raw, y_true = data.subset(n, gen)
    # Label noise makes the overfitting plain on any digits: a big network memorizes the flipped labels
    # too, and what it learns from them is wrong on new images (without noise the 8x8 digits barely overfit).
    y_raw, flipped = flip_labels(y_true, NOISE, gen)
    scale = standardizer(x_raw)
    dataset = TensorDataset(scale(x_raw), gg.tensor(y_raw))
    # half of the little data set validates: a smaller validation set would make its loss too noisy
    train_set, val_set = random_split(dataset, [0.5, 0.5], generator=gen)
    x_test, y_test = scale(data.x_test[:2000]), gg.tensor(data.y_test[:2000])
    test_loader = DataLoader(TensorDataset(x_test, y_test), batch_size=2048)

    def train(patience: int | None):
        """The same run (same initial weights, same batches) for ``epochs`` epochs, or until early
        stopping, which ends with the weights of the best validation epoch. Also returns the test
        loss and accuracy after each epoch."""
        gg.manual_seed(ctx.seed)
        model = nn.Sequential(nn.Linear(x_raw.shape[1], width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                              nn.Linear(width, 10))
        test_curve = []
        history = gg.train.fit(
            model, gg.optim.Adam(model.parameters(), lr=lr), F.cross_entropy,
            DataLoader(train_set, batch_size=32, shuffle=True, generator=gg.Generator(ctx.seed + 20)),
            DataLoader(val_set, batch_size=1000), epochs=epochs, patience=patience, restore_best=patience is not None,
            progress=False, callbacks=[lambda epoch, h: test_curve.append(
                gg.train.evaluate(model, test_loader, F.cross_entropy, {"acc": gg.train.accuracy}))],
        )
        return model, history, test_curve

    model, history, test_curve = train(patience=None)
    train_idx = np.asarray(train_set.indices)
    noisy_idx = train_idx[flipped[train_idx]]
    with gg.no_grad():  # how many of the flipped training labels the network ends up reproducing
        memorized = float(np.mean(model(scale(x_raw[noisy_idx])).numpy().argmax(axis=1) == y_raw[noisy_idx]))
    stopped_model, stopped_history, _ = train(patience=patience)
    val = np.array(history["val_loss"])
    test_loss = np.array([t["loss"] for t in test_curve])
    test_acc = np.array([t["acc"] for t in test_curve])
    best = int(val.argmin())
    stopped_epochs = len(stopped_history["loss"])
    kept = int(np.argmin(stopped_history["val_loss"]))  # the epoch whose weights the stopped run returns
    stopped_test = mean_loss(stopped_model, x_test, y_test)
    stopped_accuracy = 1 - error_rate(stopped_model, x_test, y_test)
    ctx.claim(
        f"Overfitting: a big network ({width}-{width} ReLUs) trained {epochs} epochs on {len(train_set)} images, "
        f"{NOISE:.0%} of whose labels were flipped at random, drives its training loss near 0 (below 0.1) by "
        "memorizing even the wrong labels, while its loss on the validation split first falls, then rises (to "
        "over 1.5 times its minimum)",
        f"training loss {history['loss'][-1]:.4f} at the end, the flipped label reproduced for {memorized:.0%} of "
        f"the {len(noisy_idx)} flipped training images; validation loss {val[best]:.3f} at epoch {best + 1}, "
        f"{val[-1]:.3f} at epoch {epochs}",
        history["loss"][-1] < 0.1 and memorized > 0.9 and val[-1] > 1.5 * val[best] and 3 <= best + 1 <= epochs // 2,
        expected=f"training < 0.1, > 90% memorized, best validation epoch 3 to {epochs // 2}, last > 1.5x best",
    )
    ctx.claim(
        f"Early stopping on the validation split (fit with patience={patience}, restore_best=True) stops early and "
        "gives a better model than training to the end: lower loss on the test set (labels not flipped), which the "
        "choice never saw",
        f"stopped after epoch {stopped_epochs} of {epochs} with the weights of epoch {kept + 1}: test loss "
        f"{stopped_test:.3f}, vs {test_loss[-1]:.3f} after all {epochs} epochs; test accuracy {stopped_accuracy:.1%}",
        stopped_epochs < epochs and stopped_test < 0.9 * test_loss[-1] and abs(stopped_test - test_loss[kept]) < 1e-5
        and stopped_accuracy > 0.5,
        expected="stops early; test loss < 0.9x the full run's; test accuracy > 50% (guessing: 10%)",
    )
    ctx.result("overfitting", {"train_loss": history["loss"], "val_loss": val, "test_loss": test_loss,
                               "test_accuracy": test_acc, "best_epoch": best + 1, "stopped_after": stopped_epochs,
                               "label_noise": NOISE, "flipped_train_labels_memorized": memorized})
    ctx.write(
        f"Overfitting run: {len(train_set)} training and {len(val_set)} validation images (a random half/half split "
        f"of {len(y_raw)}), Adam with learning rate {lr:g} (small enough that the validation loss takes a few "
        f"epochs to reach its minimum), batches of 32, up to {epochs} epochs. Label noise was added on purpose: "
        f"{NOISE:.0%} of "
        "these images (training and validation alike, as noise in real data would be) got a random wrong label; "
        "the test images keep their true ones. A network this big can memorize the wrong labels, and what it "
        "learns doing so does not hold on new images: that is overfitting, made plain. (Without the noise, 8x8 "
        "digits, the offline fallback for MNIST, barely overfit within the run.) What rises is the loss, i.e. "
        f"the confidence of the wrong answers, more than the error: test accuracy {test_acc[best]:.3f} at the best "
        f"validation epoch, {test_acc[-1]:.3f} at the last."
    )

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
    ep = np.arange(1, epochs + 1)
    ax1.plot(ep, history["loss"], label="training")
    for ax in (ax1, ax2):
        ax.plot(ep, val, color="tab:orange", label=f"validation (split from the training data, {NOISE:.0%} flipped)")
        ax.plot(ep, test_loss, color="tab:green", ls="--", label="test (true labels)")
        ax.axvline(best + 1, color="k", ls=":", label=f"best validation epoch ({best + 1})")
        ax.axvline(stopped_epochs, color="tab:red", ls=":", label=f"patience {patience} stops ({stopped_epochs})")
        ax.set(xlabel="epoch", ylabel="cross-entropy")
    ax1.set(yscale="log",
            title=f"Overfitting: {width}-{width} ReLU net, {len(train_set)} digits, {NOISE:.0%} labels flipped")
    ax2.set(title="Validation and test loss (linear scale)")
    ax1.legend(fontsize=8, loc="lower left")
    ctx.figure("overfitting_early_stopping", fig)


# ---------------------------------------------------------------- (c, e) cross validation, bias-complexity


LAGS = [1, 2, 3, 5, 7, 10, 14, 21, 28, 42, 56, 70, 84, 98, 112]
N_TRAIN_DAYS = 150
SPAN_DAYS = 3 * 365


def lagged_design(series: np.ndarray, targets: np.ndarray, k: int) -> np.ndarray:
    """Rows [y_{t-k}, ..., y_{t-1}, 1] for each target day t: lectures 1-2's linear model on k past days."""
    past = np.stack([series[targets - j] for j in range(k, 0, -1)], axis=1)
    return np.hstack([past, np.ones((len(targets), 1))])


def least_squares(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The weights that minimize the MSE of a linear model, exactly."""
    return np.linalg.lstsq(x, y, rcond=None)[0]


def mse(x: np.ndarray, w: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((x @ w - y) ** 2))


def model_selection_sample(series: np.ndarray, gen: gg.Generator, n_folds: int = 5) -> dict:
    """One experiment: 150 random days of a random 3-year stretch train, the other days of that stretch
    test. For each k: training MSE, test MSE, and the mean validation MSE over ``n_folds`` folds."""
    start = int(gen.integers(max(LAGS), len(series) - SPAN_DAYS, ()))
    days = start + gen.permutation(SPAN_DAYS)
    train, test = days[:N_TRAIN_DAYS], days[N_TRAIN_DAYS:]
    folds = list(KFold(n_folds, shuffle=True, generator=gen).split(N_TRAIN_DAYS))
    out = {"train": [], "test": [], "cv": [], "start": start}
    for k in LAGS:
        x, x_test = lagged_design(series, train, k), lagged_design(series, test, k)
        w = least_squares(x, series[train])
        out["train"].append(mse(x, w, series[train]))
        out["test"].append(mse(x_test, w, series[test]))
        y = series[train]
        out["cv"].append(np.mean([mse(x[v], least_squares(x[t], y[t]), y[v]) for t, v in folds]))
    return {key: np.array(v) if key != "start" else v for key, v in out.items()}


def model_selection(ctx: LabContext) -> None:
    import matplotlib.pyplot as plt

    dates, births = gg.datasets.load_series("us_births")
    series = births / 1000.0
    gen = gg.Generator(ctx.seed + 3)
    n_samples = ctx.size(10, 50)
    samples = [model_selection_sample(series, gen) for _ in ctx.bar(range(n_samples), desc="samples")]
    train = np.array([s["train"] for s in samples])
    test = np.array([s["test"] for s in samples])
    cv = np.array([s["cv"] for s in samples])
    rows = np.arange(n_samples)
    best = test.min(axis=1)
    chosen = cv.argmin(axis=1)
    by_cv = test[rows, chosen] / best
    by_train = test[rows, train.argmin(axis=1)] / best
    nested = bool(np.all(np.diff(train, axis=1) <= 1e-9 * train[:, :-1]))
    mean_train, mean_test = train.mean(axis=0), test.mean(axis=0)
    k_best = int(mean_test.argmin())
    # Reported, not claimed: the models are fitted by NumPy's exact least squares, so these numbers
    # measure the method of model selection, not glassgrad (only its KFold splits the days).
    ctx.write(
        f"**Cross validation** (fits by NumPy's exact least squares, so not a test of the library): 5-fold cross "
        f"validation on the training days picks a model (how many past days, among {LAGS[0]}..{LAGS[-1]}) whose "
        f"test error is close to the best one's: the chosen model's test MSE is {by_cv.mean():.3f}x the best on "
        f"average (median {np.median(by_cv):.3f}, worst {by_cv.max():.2f}) over {n_samples} training samples; "
        f"choosing by training error instead gives {by_train.mean():.2f}x. **The bias-complexity trade-off:** as "
        f"the model grows, the training MSE only falls (never rises with k: {nested}), while the mean test MSE "
        f"first falls, {mean_test[0]:.2f} (k = {LAGS[0]}) -> {mean_test[k_best]:.2f} (k = {LAGS[k_best]}) (less "
        f"model bias), then rises to {mean_test[-1]:.2f} (k = {LAGS[-1]}) (overfitting)."
    )
    ctx.result("model_selection", {"lags": LAGS, "mean_train_mse": mean_train, "mean_test_mse": mean_test,
                                   "mean_cv_mse": cv.mean(axis=0), "chosen_lags": [LAGS[i] for i in chosen],
                                   "best_lags": [LAGS[i] for i in test.argmin(axis=1)], "ratio_cv": by_cv})
    lecture = {7: ("0.38k", "0.49k"), 28: ("0.33k", "0.46k"), 56: ("0.32k", "0.46k")}
    table = "\n".join(
        f"| {k} | {lecture[k][0]} / {lecture[k][1]} | {np.sqrt(mean_train[LAGS.index(k)]):.2f}k / "
        f"{np.sqrt(mean_test[LAGS.index(k)]):.2f}k |" for k in lecture
    )
    ctx.write(
        f"Model selection runs on the US-births series (births per day, in thousands): {n_samples} times, "
        f"{N_TRAIN_DAYS} random days of a random {SPAN_DAYS}-day stretch are the training data and the other days "
        "of the stretch the test data; the model predicts a day's births from the k days before it, linearly "
        "(k + 1 parameters, fitted exactly by least squares). With only 150 training days, 112 past days nearly "
        "interpolate them. The lecture's numbers come from its views series and a chronological split "
        "(train 2017-2020, test 2021, MAE); ours from a random split of births (root mean square error), so "
        "only the shape compares: 7 past days capture the weekly cycle, and more helps little.\n\n"
        "| past days k | lecture: train / test MAE (views) | ours: train / test RMSE (births) |\n"
        "| --- | --- | --- |\n" + table
    )

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
    for values, name, style in ((train, "training", "-o"), (cv, "5-fold validation", "-s"), (test, "test", "-^")):
        ax1.plot(LAGS, values.mean(axis=0), style, ms=4, label=name)
        ax1.fill_between(LAGS, np.percentile(values, 25, axis=0), np.percentile(values, 75, axis=0), alpha=0.15)
    ax1.axvline(LAGS[k_best], color="k", ls=":", lw=0.8)
    ax1.set(xscale="log", yscale="log", xlabel="model complexity: past days k (k + 1 parameters)",
            ylabel="MSE (thousand births)^2", title="Bias-complexity trade-off (mean, 25-75% band)")
    ax1.legend(fontsize=8)
    counts = np.array([[np.sum(chosen == i), np.sum(test.argmin(axis=1) == i)] for i in range(len(LAGS))])
    pos = np.arange(len(LAGS))
    ax2.bar(pos - 0.2, counts[:, 0], 0.4, label="chosen by 5-fold CV")
    ax2.bar(pos + 0.2, counts[:, 1], 0.4, label="best on the test set")
    ax2.set_xticks(pos, [str(k) for k in LAGS])
    ax2.set(xlabel="past days k", ylabel=f"of {n_samples} samples", title="Which model is picked")
    ax2.legend(fontsize=8)
    ctx.figure("bias_complexity", fig)


# ---------------------------------------------------------------- (d) mismatch


def mismatch(ctx: LabContext, data: Digits) -> None:
    import matplotlib.pyplot as plt

    sizes = sorted({min(s, len(data.y)) for s in ctx.size([300, 1000, 3000], [500, 2000, 8000, 30000])})
    epochs = ctx.size(4, 5)
    gen = gg.Generator(ctx.seed + 4)
    x_pool, y_pool = data.subset(max(sizes), gen)
    scale = standardizer(x_pool)
    x_test, y_test = scale(data.x_test[:2000]), gg.tensor(data.y_test[:2000])
    x_inverted = scale(1.0 - data.x_test[:2000])
    upright, inverted = [], []
    for n in ctx.bar(sizes, desc="training sizes"):
        gg.manual_seed(ctx.seed)
        model = mlp(x_pool.shape[1], 128, 2)
        loader = DataLoader(TensorDataset(scale(x_pool[:n]), gg.tensor(y_pool[:n])), batch_size=BATCH, shuffle=True,
                            generator=gg.Generator(ctx.seed))
        gg.train.fit(model, gg.optim.Adam(model.parameters(), lr=1e-3), F.cross_entropy, loader, epochs=epochs,
                     progress=False)
        upright.append(error_rate(model, x_test, y_test))
        inverted.append(error_rate(model, x_inverted, y_test))
    upright, inverted = np.array(upright), np.array(inverted)
    ctx.claim(
        "Mismatch: trained on ordinary digits and tested on inverted (negative) ones, the test error stays high "
        "however much training data is used, while the error on ordinary test digits falls with more data",
        f"inverted-test error {', '.join(f'{e:.2f}' for e in inverted)}; ordinary-test error "
        f"{', '.join(f'{e:.3f}' for e in upright)} (training sizes {', '.join(map(str, sizes))})",
        inverted.min() > 0.7 and upright[-1] < 0.7 * upright[0],
    )
    ctx.result("mismatch", {"sizes": sizes, "upright_error": upright, "inverted_error": inverted, "epochs": epochs})

    fig = plt.figure(figsize=(12, 3.8))
    grid = fig.add_gridspec(2, 6)
    ax = fig.add_subplot(grid[:, :4])
    ax.plot(sizes, upright, "-o", label="test: ordinary digits")
    ax.plot(sizes, inverted, "-o", label="test: inverted digits (1 - x)")
    ax.axhline(0.9, color="grey", ls=":", label="guessing (90% error)")
    ax.set(xscale="log", ylim=(0, 1.02), xlabel="training images (ordinary digits)", ylabel="error rate",
           title="Mismatch: more data does not help")
    ax.set_xticks(sizes, [str(n) for n in sizes])
    ax.minorticks_off()
    ax.legend(fontsize=8)
    for i in range(2):
        for j, image in enumerate((data.x_test[i], 1.0 - data.x_test[i])):
            sub = fig.add_subplot(grid[i, 4 + j])
            sub.imshow(image.reshape(data.side, data.side), cmap="gray", vmin=0, vmax=1)
            sub.set(xticks=[], yticks=[], title=("ordinary" if j == 0 else "inverted") if i == 0 else None)
    ctx.figure("mismatch", fig)


def run(ctx: LabContext) -> None:
    data = Digits()
    ctx.result("data", data.message)
    if not data.is_mnist:
        ctx.write(f"**MNIST was not available: the digit experiments use scikit-learn's 8x8 digits.** {data.message}")
    optimization_issue(ctx, data)
    overfitting(ctx, data)
    model_selection(ctx)
    mismatch(ctx, data)


LAB = Lab(
    name="strategy",
    lecture="Lecture 3",
    title="General guidance",
    summary="deeper trains worse (optimization); overfitting and early stopping; cross validation; mismatch",
    run=run,
)
