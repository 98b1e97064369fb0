"""Lectures 1-2: regression on a real daily series, from a line to deep ReLU networks.

The lecture predicts tomorrow's views of a channel from the past days (train 2017-2020, test
2021, mean absolute error in thousands). We predict tomorrow's number of U.S. births from the
past days (``gg.datasets.load_series("us_births")``: train 2000-2013, test 2014, MAE in
thousands of births), a series with the same kind of weekly cycle. Claims checked:

- The three steps: a function with unknown parameters, a loss (MAE) on the training data,
  optimization by gradient descent. For a linear model gradient descent reaches the exact
  optimum (least absolute deviations, solved as a linear program; least squares in closed form).
- Seeing 7 past days (one full weekly cycle) cuts the error far more than anything after it:
  more days (28, 56) help, but much less.
- A line is too simple (model bias): the lecture's "new model" b + sum_i c_i sigmoid(b_i + w_i x1)
  fits the same single input better.
- One hidden layer of 10 / 100 / 1000 ReLUs on 56 days, and 1-4 layers of 100 ReLUs: wider and
  deeper networks lower the training loss and beat the best line on the test year, but the test
  loss improves less than the training loss (whether the 4th layer overfits is reported as
  measured).
- MAE vs MSE: each fit wins on its own metric; MAE's fit is robust to the holiday outliers (a
  smaller typical error), MSE's is sensitive to large errors (smaller largest errors).
- Gradient descent on (w, b) over the error surface: a small learning rate crawls, a good one
  reaches the optimum, a too-large one oscillates; on MSE it converges to the least-squares
  solution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.labs._lab import Lab, LabContext
from glassgrad.utils.data import DataLoader, TensorDataset

TEST_YEAR = 2014  # train on 2000-2013, test on 2014 (the lecture: train 2017-2020, test 2021)
LAGS = (1, 7, 28, 56)
N_SIGMOIDS = 10
WIDTHS = (10, 100, 1000)
DEPTHS = (1, 2, 3, 4)

# the lecture's table: (L train, L' test), MAE in thousands of views
LECTURE = {
    "linear, 1 day": (0.48, 0.58),
    "linear, 7 days": (0.38, 0.49),
    "linear, 28 days": (0.33, 0.46),
    "linear, 56 days": (0.32, 0.46),
    "1 layer x 10 ReLUs": (0.32, 0.45),
    "1 layer x 100 ReLUs": (0.28, 0.43),
    "1 layer x 1000 ReLUs": (0.27, 0.43),
    "2 layers x 100 ReLUs": (0.18, 0.39),
    "3 layers x 100 ReLUs": (0.14, 0.38),
    "4 layers x 100 ReLUs": (0.10, 0.44),
}


@dataclass
class Split:
    """Inputs (past ``lags`` days) and targets (the next day), standardized with the training
    years' mean and standard deviation ``mu``, ``sd`` (thousands of births)."""

    lags: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    test_dates: np.ndarray
    mu: float
    sd: float

    def tensors(self, dtype):
        t = lambda a: gg.tensor(a, dtype=dtype)  # noqa: E731
        return t(self.x_train), t(self.y_train[:, None]), t(self.x_test), t(self.y_test[:, None])


class Births:
    """The series in thousands of births, and the lagged train/test splits built from it."""

    def __init__(self):
        self.dates, counts = gg.datasets.load_series("us_births")
        self.values = counts / 1000.0
        self.years = self.dates.astype("datetime64[Y]").astype(int) + 1970
        train = self.values[self.years < TEST_YEAR]
        self.mu, self.sd = float(train.mean()), float(train.std())

    def split(self, lags: int) -> Split:
        x, y = gg.datasets.make_lagged(self.values, lags)
        year = self.years[lags:]
        train, test = year < TEST_YEAR, year == TEST_YEAR
        xs, ys = (x - self.mu) / self.sd, (y - self.mu) / self.sd
        return Split(lags, xs[train], ys[train], xs[test], ys[test], self.dates[lags:][test], self.mu, self.sd)


def lad_optimum(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The smallest mean absolute error of y ~ b + x @ w, and its (b, w...), exactly.

    Least absolute deviations is a linear program; its dual is small: maximize y^T a subject to
    X^T a = 0 and -1 <= a <= 1 (X with a column of ones). The optimal value is the minimal sum
    of |residuals|, and the multipliers of the equality constraints are the parameters.
    """
    from scipy.optimize import linprog

    design = np.c_[np.ones(len(x)), x]
    res = linprog(-y, A_eq=design.T, b_eq=np.zeros(design.shape[1]), bounds=(-1, 1), method="highs")
    if res.status != 0:
        raise RuntimeError(f"lad_optimum: the linear program failed: {res.message}")
    return -res.fun / len(y), -res.eqlin.marginals


def least_squares(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(b, w...) minimizing the mean squared error of y ~ b + x @ w, in closed form."""
    design = np.c_[np.ones(len(x)), x]
    return np.linalg.lstsq(design, y, rcond=None)[0]


def mlp(inputs: int, hidden: tuple[int, ...], act=nn.ReLU) -> nn.Sequential:
    """inputs -> hidden[0] -> ... -> 1, with ``act`` after each hidden layer."""
    layers, n = [], inputs
    for h in hidden:
        layers += [nn.Linear(n, h), act()]
        n = h
    return nn.Sequential(*layers, nn.Linear(n, 1))


def train(model, data: Split, loss_fn, epochs: int, lr: float, dtype=gg.float32, batch_size: int = 128):
    """Adam on mini-batches with a cosine-decaying learning rate; returns fit's History (train
    loss and, as ``val_loss``, the test year's loss per epoch: watched, never used to choose)."""
    x_tr, y_tr, x_te, y_te = data.tensors(dtype)
    model = model.to(dtype)
    loader = DataLoader(TensorDataset(x_tr, y_tr), batch_size=batch_size, shuffle=True)
    test_loader = DataLoader(TensorDataset(x_te, y_te), batch_size=len(data.y_test))
    opt = gg.optim.Adam(model.parameters(), lr=lr)
    sched = gg.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    return gg.train.fit(model, opt, loss_fn, loader, test_loader, epochs=epochs, scheduler=sched, progress=False)


def residuals(model, x: np.ndarray, y: np.ndarray, sd: float) -> np.ndarray:
    """prediction - target, in thousands of births."""
    dtype = next(model.parameters()).dtype
    with gg.no_grad():
        pred = model(gg.tensor(x, dtype=dtype)).numpy()[:, 0]
    return (pred - y) * sd


def losses(model, data: Split) -> tuple[float, float]:
    """(L, L'): the mean absolute error on the training years and on the test year, thousands."""
    return (float(np.abs(residuals(model, data.x_train, data.y_train, data.sd)).mean()),
            float(np.abs(residuals(model, data.x_test, data.y_test, data.sd)).mean()))


def gradient_descent_path(x, y, loss: str, lr: float, steps: int, start) -> tuple[np.ndarray, np.ndarray]:
    """Plain gradient descent (gg.optim.SGD) on (w, b) of y = b + w x; returns the path of
    (w, b) and the loss before each step."""
    w = gg.tensor(float(start[0]), dtype=gg.float64, requires_grad=True)
    b = gg.tensor(float(start[1]), dtype=gg.float64, requires_grad=True)
    xt, yt = gg.tensor(x), gg.tensor(y)
    opt = gg.optim.SGD([w, b], lr=lr)
    path, values = np.empty((steps + 1, 2)), np.empty(steps)
    path[0] = start
    for t in range(steps):
        r = b + w * xt - yt
        value = r.abs().mean() if loss == "mae" else (r * r).mean()
        opt.zero_grad()
        value.backward()
        opt.step()
        values[t], path[t + 1] = value.item(), (w.item(), b.item())
    return path, values


def us_holidays(year: int) -> np.ndarray:
    """The U.S. federal holidays of ``year`` (datetime64[D]): the fixed dates and the n-th weekday
    of a month (Martin Luther King Jr. Day, Presidents' Day, Memorial Day, Labor Day, Columbus
    Day, Thanksgiving)."""

    def nth(month: int, weekday: str, n: int) -> np.datetime64:  # n-th (0-based) weekday of month
        return np.busday_offset(f"{year}-{month:02d}-01", n, roll="forward", weekmask=weekday)

    return np.array([
        np.datetime64(f"{year}-01-01"), nth(1, "Mon", 2), nth(2, "Mon", 2),
        np.busday_offset(f"{year}-05-31", 0, roll="backward", weekmask="Mon"),  # last Monday of May
        np.datetime64(f"{year}-07-04"), nth(9, "Mon", 0), nth(10, "Mon", 1), np.datetime64(f"{year}-11-11"),
        nth(11, "Thu", 3), np.datetime64(f"{year}-12-25"),
    ], dtype="datetime64[D]")


def mae_grid(x, y, ws, bs) -> np.ndarray:
    """The MAE of y = b + w x over a grid (rows: b, columns: w), for the contour plot."""
    out = np.empty((len(bs), len(ws)))
    for i, b in enumerate(bs):
        out[i] = np.abs(b + np.outer(ws, x) - y).mean(axis=1)
    return out


def run(ctx: LabContext) -> None:
    births = Births()
    net_epochs, net_lr = ctx.size((30, 3e-3), (300, 1e-3))
    lin_epochs = ctx.size(30, 60)
    table: dict[str, tuple[float, float]] = {}
    models: dict[str, nn.Module] = {}
    splits = {lags: births.split(lags) for lags in LAGS}

    # 1. linear models on 1 / 7 / 28 / 56 past days, trained with MAE and with MSE; exact optima
    optimum, fits = {}, {}
    for lags in ctx.bar(LAGS, "linear models"):
        data = splits[lags]
        lad_value, lad_theta = lad_optimum(data.x_train, data.y_train * data.sd)
        ls_theta = least_squares(data.x_train, data.y_train * data.sd)
        design = np.c_[np.ones(len(data.x_train)), data.x_train]
        optimum[lags] = {"mae": lad_value, "mse": float(((design @ ls_theta - data.y_train * data.sd) ** 2).mean()),
                         "lad_theta": lad_theta, "ls_theta": ls_theta}
        for loss_name, loss_fn in (("mae", nn.L1Loss()), ("mse", nn.MSELoss())):
            model = nn.Linear(lags, 1)
            train(model, data, loss_fn, lin_epochs, lr=1e-2, dtype=gg.float64)
            r = residuals(model, data.x_train, data.y_train, data.sd)
            fits[lags, loss_name] = {"model": model, "train_mae": float(np.abs(r).mean()),
                                     "train_mse": float((r * r).mean())}
        name = f"linear, {lags} day{'s' if lags > 1 else ''}"
        models[name] = fits[lags, "mae"]["model"]
        table[name] = losses(models[name], data)

    gap_mae = max(fits[g, "mae"]["train_mae"] / optimum[g]["mae"] for g in LAGS) - 1
    gap_mse = max(fits[g, "mse"]["train_mse"] / optimum[g]["mse"] for g in LAGS) - 1
    ctx.claim(
        "Gradient descent (Adam on the MAE) finds the best line: its training loss matches the exact "
        "optimum (least absolute deviations, a linear program) for 1, 7, 28 and 56 days",
        f"at most {100 * gap_mae:.2f}% above the optimum",
        gap_mae < 0.01,
    )
    ctx.claim(
        "... and on the MSE it matches the closed-form least-squares optimum",
        f"at most {100 * gap_mse:.2f}% above the optimum",
        gap_mse < 0.01,
    )
    w1 = optimum[1]["lad_theta"][1] / births.sd  # back to raw units: y = b + w * (births yesterday)
    b1 = optimum[1]["lad_theta"][0] + births.mu - w1 * births.mu
    ctx.result("line_1_day", {"w": w1, "b_thousands": b1})

    l1, l7, l28, l56 = (table[f"linear, {g} day{'s' if g > 1 else ''}"] for g in LAGS)
    ctx.claim(
        "Seeing the past 7 days (one full weekly cycle) instead of 1 cuts the error by more than half, "
        "on the training years and on the test year",
        f"L {l1[0]:.2f}k -> {l7[0]:.2f}k, L' {l1[1]:.2f}k -> {l7[1]:.2f}k",
        l7[0] < 0.5 * l1[0] and l7[1] < 0.5 * l1[1],
    )
    gain_week, gain_more = l1[1] - l7[1], l7[1] - l56[1]
    ctx.claim(
        "More days help less after a week: going from 7 to 56 days gains less than a quarter of what "
        "going from 1 to 7 gained (test loss)",
        f"1 -> 7 days: -{gain_week:.2f}k; 7 -> 28 -> 56 days: -{l7[1] - l28[1]:.3f}k, -{l28[1] - l56[1]:.3f}k",
        0 < gain_more < 0.25 * gain_week,
    )

    # 2. the lecture's new model: a sum of sigmoids of yesterday's value
    data1 = splits[1]
    sig = mlp(1, (N_SIGMOIDS,), act=nn.Sigmoid)
    train(sig, data1, nn.L1Loss(), lin_epochs, lr=5e-2, dtype=gg.float64)
    sig_name = f"b + sum of {N_SIGMOIDS} c_i sigmoid(b_i + w_i x1)"
    table[sig_name] = losses(sig, data1)
    ctx.claim(
        f"A line is too simple (model bias): the lecture's new model, a sum of {N_SIGMOIDS} sigmoids of "
        "the same single input (yesterday), fits better than the best line can",
        f"L {table[sig_name][0]:.2f}k vs {optimum[1]['mae']:.2f}k (best line); "
        f"L' {table[sig_name][1]:.2f}k vs {l1[1]:.2f}k",
        table[sig_name][0] < 0.85 * optimum[1]["mae"] and table[sig_name][1] < l1[1],
    )

    # 3. ReLU networks on 56 days: wider, then deeper
    data56 = splits[56]
    histories = {}
    arch = [(1, w) for w in WIDTHS] + [(d, 100) for d in DEPTHS if d > 1]
    for depth, width in ctx.bar(arch, "ReLU networks"):
        name = f"{depth} layer{'s' if depth > 1 else ''} x {width} ReLUs"
        models[name] = mlp(56, (width,) * depth)
        histories[name] = train(models[name], data56, nn.L1Loss(), net_epochs, net_lr)
        table[name] = losses(models[name], data56)
    width_train = [table[f"1 layer x {w} ReLUs"][0] for w in WIDTHS]
    ctx.claim(
        "A wider hidden layer (10 -> 100 -> 1000 ReLUs on 56 days) lowers the training loss",
        " -> ".join(f"{v:.3f}k" for v in width_train),
        all(a > b for a, b in zip(width_train, width_train[1:])),
    )
    depth_loss = {d: table[f"{d} layer{'s' if d > 1 else ''} x 100 ReLUs"] for d in DEPTHS}
    ctx.claim(
        "Deeper is better on the training years: 2, 3 and 4 layers of 100 ReLUs all have a lower training "
        "loss than 1 layer",
        f"L with 1 / 2 / 3 / 4 layers: {' / '.join(f'{depth_loss[d][0]:.3f}k' for d in DEPTHS)}",
        max(depth_loss[d][0] for d in DEPTHS[1:]) < depth_loss[1][0],
    )
    net_names = [n for n in table if "ReLU" in n]
    worst_net_test = max(table[n][1] for n in net_names if "x 10 " not in n)
    ctx.claim(
        "Every network with 100 or more ReLUs beats the best line on the test year (56 days each)",
        f"worst network L' {worst_net_test:.3f}k vs linear L' {l56[1]:.3f}k",
        worst_net_test < l56[1],
    )
    small, big = table["1 layer x 10 ReLUs"], depth_loss[4]
    train_gain, test_gain = small[0] - big[0], small[1] - big[1]
    ctx.claim(
        "The test loss improves less than the training loss: from 10 ReLUs to 4 layers of 100 the training "
        "loss falls by more than the test loss does, so the gap L' - L grows",
        f"L -{train_gain:.3f}k, L' -{test_gain:.3f}k; gap {small[1] - small[0]:+.3f}k -> {big[1] - big[0]:+.3f}k",
        train_gain > test_gain,
    )
    overfit_4 = depth_loss[4][0] < depth_loss[3][0] and depth_loss[4][1] > depth_loss[3][1]
    ctx.result("four_layers_overfit", overfit_4)

    # 4. MAE vs MSE: the 56-day line trained with each
    r_abs = {k: residuals(fits[56, k]["model"], data56.x_test, data56.y_test, data56.sd) for k in ("mae", "mse")}
    test_metrics = {k: {"mae": float(np.abs(r).mean()), "rmse": float(np.sqrt((r * r).mean())),
                        "median": float(np.median(np.abs(r))), "p99": float(np.quantile(np.abs(r), 0.99))}
                    for k, r in r_abs.items()}
    tm = test_metrics
    ctx.claim(
        "Each loss wins on its own metric on the test year: the line trained with MAE has the lower test "
        "MAE, the line trained with MSE the lower test RMSE",
        f"MAE {tm['mae']['mae']:.3f}k vs {tm['mse']['mae']:.3f}k; RMSE {tm['mae']['rmse']:.3f}k vs "
        f"{tm['mse']['rmse']:.3f}k (MAE-trained vs MSE-trained)",
        tm["mae"]["mae"] < tm["mse"]["mae"] and tm["mse"]["rmse"] < tm["mae"]["rmse"],
    )
    ctx.claim(
        "MAE is robust to the holiday outliers, so its fit is better on a typical day (smaller median "
        "error); MSE is sensitive to large errors, so its fit has the smaller largest errors (99th "
        "percentile)",
        f"median |error| {tm['mae']['median']:.3f}k vs {tm['mse']['median']:.3f}k; 99th percentile "
        f"{tm['mae']['p99']:.2f}k vs {tm['mse']['p99']:.2f}k (MAE-trained vs MSE-trained)",
        tm["mae"]["median"] < tm["mse"]["median"] and tm["mse"]["p99"] < tm["mae"]["p99"],
    )
    ctx.result("mae_vs_mse_test", test_metrics)
    holidays = us_holidays(TEST_YEAR)

    def holiday_related(day) -> bool:
        """Within a day of a holiday, or a week after one (the holiday's dip is then an input)."""
        gap = (day - holidays).astype(int)
        return bool(np.any(np.abs(gap) <= 1) or np.any(gap == 7))

    worst = np.argsort(-np.abs(r_abs["mae"]))[:10]
    near = [holiday_related(data56.test_dates[i]) for i in worst]
    worst_days = [(str(data56.test_dates[i]), data56.test_dates[i].item().strftime("%a"), float(r_abs["mae"][i]), n)
                  for i, n in zip(worst, near)]
    share = np.mean([holiday_related(d) for d in data56.test_dates])
    ctx.claim(
        "The outliers are holidays: most of the 10 largest test errors fall within a day of a U.S. federal "
        f"holiday, or a week after one, when its dip is among the inputs (such days are {100 * share:.0f}% of "
        "the year)",
        f"{sum(near)} of 10",
        sum(near) >= 7,
    )
    ctx.result("largest_test_errors_mae_line", worst_days)

    # 5. gradient descent on (w, b) of y = b + w x1 over the error surface
    x, y = data1.x_train[:, 0], data1.y_train * data1.sd + data1.mu  # x standardized, y in thousands
    start = np.array([-2.0, 7.0])
    steps = 300
    lad_val, (lad_b, lad_w) = lad_optimum(x[:, None], y)
    rates = {"too small (0.005)": 0.005, "good (0.1)": 0.1, "too large (8)": 8.0}
    paths = {k: gradient_descent_path(x, y, "mae", lr, steps, start) for k, lr in rates.items()}
    small_final = paths["too small (0.005)"][1][-1] / lad_val
    good_final = paths["good (0.1)"][1][-1] / lad_val
    big_tail = paths["too large (8)"][1][-100:]
    big_rises = float(np.mean(np.diff(big_tail) > 0))
    ctx.claim(
        f"Gradient descent on the MAE of y = b + w x1 with a good learning rate (0.1) reaches the bottom of "
        f"the error surface in {steps} steps",
        f"final loss {100 * (good_final - 1):.2f}% above the optimum",
        good_final < 1.005,
    )
    ctx.claim(
        "A too-small learning rate (0.005) is still far from the bottom; a too-large one (8) oscillates: "
        "its loss keeps jumping up and down above the optimum",
        f"small: final loss {small_final:.2f}x the optimum; large: last 100 steps at "
        f"{big_tail.mean() / lad_val:.2f}x the optimum on average, rising on {100 * big_rises:.0f}% of the steps",
        small_final > 1.5 and big_tail.mean() > 1.2 * lad_val and big_rises > 0.3,
    )
    mse_path, mse_values = gradient_descent_path(x, y, "mse", 0.1, steps, start)
    ls_b, ls_w = least_squares(x[:, None], y)
    dist = float(np.hypot(mse_path[-1, 0] - ls_w, mse_path[-1, 1] - ls_b))
    ctx.claim(
        "On the MSE surface gradient descent (learning rate 0.1) converges to the closed-form least-squares "
        "solution",
        f"distance to (w*, b*) after {steps} steps: {dist:.1e}",
        dist < 1e-6,
    )

    # the table, in the lecture's layout
    ctx.result("table", {k: {"L": v[0], "L_test": v[1], "lecture": LECTURE.get(k)} for k, v in table.items()})
    rows = ["| model | L (train) | L' (test) | lecture's L | lecture's L' |", "| --- | --- | --- | --- | --- |"]
    for name, (lt, lte) in table.items():
        lec = LECTURE.get(name)
        lec_s = (f"{lec[0]:.2f}k", f"{lec[1]:.2f}k") if lec else ("-", "-")
        label = name
        if name == "linear, 1 day":
            label = f"y = b + w x1 (w* = {w1:.2f}, b* = {b1:.1f}k; lecture: w* = 0.97, b* = 0.1k)"
        rows.append(f"| {label} | {lt:.3f}k | {lte:.3f}k | {lec_s[0]} | {lec_s[1]} |")
    ctx.write(
        f"Predicting tomorrow's U.S. births from the past days: trained on 2000-{TEST_YEAR - 1}, tested on "
        f"{TEST_YEAR}, mean absolute error in thousands of births (the lecture: views of a channel, "
        f"thousands of views). Linear models and the sum of sigmoids train for {lin_epochs} epochs, the "
        f"networks for {net_epochs} (Adam, mini-batches of 128, cosine-decaying learning rate). The test year "
        "is only watched, never used to choose anything."
    )
    ctx.write("\n".join(rows))
    (l3, l3t), (l4, l4t) = depth_loss[3], depth_loss[4]
    fourth = (f"4 layers vs 3: L {l4:.3f}k vs {l3:.3f}k, L' {l4t:.3f}k vs {l3t:.3f}k; "
              + ("the 4th layer overfits here, as in the lecture (a lower L, a higher L')." if overfit_4 else
                 "the lecture's overfitting (a lower L but a higher L') does not show in this run. Whether it "
                 "does depends on the seed and the training length, so it is not claimed."))
    ctx.write(
        f"Where ours differ from the lecture: yesterday alone predicts births badly (w* = {w1:.2f}, far from "
        "the lecture's 0.97), because the weekly cycle makes today unlike yesterday (Sunday -> Monday jumps "
        "by half); views change slowly from day to day. Once a full week is seen, the linear model's error "
        f"is close to the lecture's ({l7[0]:.2f}k / {l7[1]:.2f}k vs 0.38k / 0.49k), and so are the networks'. "
        f"Our test year is easier than the training years on average, unlike the lecture's. {fourth}"
    )
    star = "\\*"  # the text is Markdown, where a bare * would start emphasis
    ctx.write(
        f"The 10 largest test errors of the 56-day line (MAE-trained; {star} = within a day of a federal holiday or "
        "a week after one): "
        + ", ".join(f"{d} ({wd}, {e:+.2f}k){star if n else ''}" for d, wd, e, n in worst_days) + "."
    )

    _figures(ctx, births, splits, models, table, histories, data1, sig, fits, r_abs, data56,
             (x, y, start, paths, lad_val, (lad_w, lad_b), mse_path, (ls_w, ls_b)))


def _figures(ctx, births, splits, models, table, histories, data1, sig, fits, r_abs, data56, gd):
    import matplotlib.pyplot as plt

    # the series and predictions on the test year
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 6.5))
    train_mask = births.years < TEST_YEAR
    ax1.plot(births.dates[train_mask], births.values[train_mask], lw=0.3, color="tab:blue", label="training years")
    ax1.plot(births.dates[~train_mask], births.values[~train_mask], lw=0.3, color="tab:orange", label="test year")
    ax1.set(ylabel="births (thousands)", title="U.S. births per day, 2000-2014")
    ax1.legend(loc="lower left", fontsize=8)
    window = slice(120, 176)  # eight weeks of the test year
    data7 = splits[7]
    dates = data7.test_dates[window]
    ax2.plot(dates, data7.y_test[window] * data7.sd + data7.mu, "k.-", lw=1, label="true")
    for lags in (1, 7, 56):
        d = splits[lags]
        pred = residuals(models[f"linear, {lags} day{'s' if lags > 1 else ''}"], d.x_test, d.y_test, d.sd) \
            + d.y_test * d.sd + d.mu
        ax2.plot(d.test_dates[window], pred[window], lw=1, label=f"line on {lags} past day{'s' if lags > 1 else ''}")
    ax2.set(ylabel="births (thousands)", title=f"Predicting tomorrow, eight weeks of {TEST_YEAR}")
    ax2.legend(fontsize=8, ncol=4, loc="lower left")
    fig.tight_layout()
    ctx.figure("series_and_predictions", fig)

    # yesterday vs today: the line and the sum of sigmoids
    fig, ax = plt.subplots(figsize=(6.5, 5))
    xr = data1.x_train[:, 0] * data1.sd + data1.mu
    yr = data1.y_train * data1.sd + data1.mu
    ax.scatter(xr, yr, s=2, alpha=0.25, color="grey", label="training days")
    grid = np.linspace(xr.min(), xr.max(), 400)
    gx = ((grid - data1.mu) / data1.sd)[:, None]
    for model, label in ((models["linear, 1 day"], "best line"), (sig, f"sum of {N_SIGMOIDS} sigmoids")):
        fy = residuals(model, gx, np.zeros(len(grid)), data1.sd) + data1.mu
        ax.plot(grid, fy, lw=2, label=label)
    ax.set(xlabel="births yesterday (thousands)", ylabel="births today (thousands)",
           title="One input: a line vs a sum of sigmoids")
    ax.legend(fontsize=8)
    ctx.figure("one_day_line_vs_sigmoids", fig)

    # the table as a figure
    names = list(table)
    fig, ax = plt.subplots(figsize=(10, 6))
    pos = np.arange(len(names))
    h = 0.2
    ax.barh(pos - 1.5 * h, [table[n][0] for n in names], h, color="tab:blue", label="L (train), ours")
    ax.barh(pos - 0.5 * h, [table[n][1] for n in names], h, color="tab:orange", label="L' (test), ours")
    ax.barh(pos + 0.5 * h, [LECTURE.get(n, (np.nan,))[0] for n in names], h, color="tab:blue", alpha=0.35,
            label="L, lecture (views)")
    ax.barh(pos + 1.5 * h, [LECTURE.get(n, (np.nan, np.nan))[1] for n in names], h, color="tab:orange", alpha=0.35,
            label="L', lecture (views)")
    for i, n in enumerate(names):
        ax.text(table[n][1] + 0.01, i - 0.5 * h, f"{table[n][1]:.3f}", va="center", fontsize=7)
    ax.set_yticks(pos, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set(xlabel="mean absolute error (thousands), log scale", title="Training and test loss of each model")
    ax.legend(fontsize=8, loc="lower right")
    ctx.figure("loss_table", fig)

    # training curves of the networks
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for (name, hist), color in zip(histories.items(), plt.cm.tab10(np.arange(len(histories)))):
        ep = np.arange(1, len(hist["loss"]) + 1)
        ax.plot(ep, np.array(hist["loss"]) * data56.sd, color=color, lw=1, label=f"{name}: L")
        ax.plot(ep, np.array(hist["val_loss"]) * data56.sd, color=color, lw=1, ls="--", label=f"{name}: L'")
    ax.set(xlabel="epoch", ylabel="MAE (thousands)", yscale="log",
           title="ReLU networks on 56 days: L (solid), L' (dashed)")
    ax.legend(fontsize=7, ncol=2)
    ctx.figure("network_training_curves", fig)

    # MAE vs MSE
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4), gridspec_kw={"width_ratios": [1.6, 1, 1]})
    for k, color in (("mse", "tab:red"), ("mae", "tab:blue")):
        label = f"trained with {k.upper()}"
        ax1.plot(data56.test_dates, r_abs[k], lw=0.8, color=color, label=label)
        q = np.sort(np.abs(r_abs[k]))
        pct = 100 * np.arange(1, len(q) + 1) / len(q)
        ax2.plot(pct, q, color=color, label=label)
        ax3.plot(pct[-20:], q[-20:], ".-", color=color, label=label)
    ax1.set(ylabel="prediction - true (thousands)", title=f"Errors of the 56-day line on {TEST_YEAR}")
    ax2.set(xlabel="percent of test days", ylabel="|error| (thousands)", yscale="log",
            title="Sorted |errors|: MAE's fit is lower on most days")
    ax3.set(xlabel="percent of test days", ylabel="|error| (thousands)", title="... MSE's on the 20 worst days")
    for ax in (ax1, ax2, ax3):
        ax.legend(fontsize=8)
    fig.tight_layout()
    ctx.figure("mae_vs_mse", fig)

    # gradient descent over the error surface
    x, y, start, paths, lad_val, (lad_w, lad_b), mse_path, (ls_w, ls_b) = gd
    ws, bs = np.linspace(-2.6, 3.4, 120), np.linspace(6.5, 16.5, 120)
    surface = mae_grid(x, y, ws, bs)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
    ax = axes[0]
    cs = ax.contourf(ws, bs, surface, levels=25, cmap="viridis_r")
    fig.colorbar(cs, ax=ax, label="MAE (thousands)")
    for (label, (path, _)), color in zip(paths.items(), ("white", "tab:orange", "tab:red")):
        shown = path[:15] if "large" in label else path
        ax.plot(shown[:, 0], shown[:, 1], ".-", ms=3, lw=0.7, color=color,
                label=f"lr {label}" + (", first 15 steps" if "large" in label else ""))
    ax.plot(lad_w, lad_b, "k*", ms=12, label="optimum (linear program)")
    ax.set(xlabel="w", ylabel="b", title="Gradient descent on the MAE surface")
    ax.legend(fontsize=7, loc="upper right")
    ax = axes[1]
    for (label, (_, values)), color in zip(paths.items(), ("grey", "tab:orange", "tab:red")):
        ax.plot(values, color=color, lw=0.8, label=f"lr {label}")
    ax.axhline(lad_val, color="k", ls=":", label="optimum")
    ax.set(xlabel="step", ylabel="MAE (thousands)", yscale="log", title="Loss per step")
    ax.legend(fontsize=7)
    ax = axes[2]
    W, B = np.meshgrid(ws, bs)  # noqa: N806
    # mean((b + w x - y)^2) expanded, so the grid needs only the data's moments
    mse = (B * B + W * W * (x * x).mean() + (y * y).mean() + 2 * B * W * x.mean() - 2 * B * y.mean()
           - 2 * W * (x * y).mean())
    ax.contour(ws, bs, mse, levels=np.quantile(mse, np.linspace(0.01, 0.9, 15)), cmap="viridis_r", linewidths=0.8)
    ax.plot(mse_path[:, 0], mse_path[:, 1], ".-", ms=2, lw=0.8, color="tab:orange", label="gradient descent, lr 0.1")
    ax.plot(ls_w, ls_b, "k*", ms=12, label="least squares (closed form)")
    ax.set(xlabel="w", ylabel="b", title="... and on the MSE surface")
    ax.legend(fontsize=7, loc="upper right")
    fig.suptitle(f"y = b + w x1 (x1 = yesterday, standardized; y in thousands), start at ({start[0]}, {start[1]})")
    fig.tight_layout()
    ctx.figure("gradient_descent_on_error_surface", fig)


LAB = Lab(
    name="regression",
    lecture="Lectures 1-2",
    title="Regression: predicting tomorrow's births, from a line to deep ReLU networks",
    summary="linear models on 1-56 past days, a sum of sigmoids, wider and deeper ReLU networks, MAE vs MSE, "
    "gradient descent on the error surface",
    run=run,
)
