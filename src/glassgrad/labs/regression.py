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
- Backpropagation computes the gradient: autograd's gradient of a trained network's loss matches
  the loss's slope along random directions (central differences).
- Gradient descent on (w, b) over the error surface: a small learning rate crawls, a good one
  reaches the optimum, a too-large one oscillates; on MSE it converges to the least-squares
  solution.

The lab is one function per part of the lecture, each returning a small dataclass that the
figures read. Each claim's ``expected`` says what a working library shows.
"""

from __future__ import annotations

import copy
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


def line_name(lags: int) -> str:
    return f"linear, {lags} day{'s' if lags > 1 else ''}"


# ---------------------------------------------------------------- 1. lines on 1 to 56 past days


@dataclass
class LineFit:
    """A line trained by gradient descent on one loss, and its training MAE and MSE (thousands)."""

    model: nn.Linear
    train_mae: float
    train_mse: float


@dataclass
class Lines:
    """Lines on each number of past days, trained on the MAE and on the MSE (``fits[lags, loss]``),
    the exact optima, and (L, L') of the MAE-trained ones (``table``)."""

    fits: dict[tuple[int, str], LineFit]
    optimum: dict[int, dict]
    table: dict[str, tuple[float, float]]
    w1: float
    b1: float


def lines_part(ctx: LabContext, births: Births, splits: dict[int, Split], epochs: int) -> Lines:
    """Linear models on 1 / 7 / 28 / 56 past days, trained with MAE and with MSE, against the exact optima."""
    optimum, fits, table = {}, {}, {}
    for lags in ctx.bar(LAGS, "linear models"):
        data = splits[lags]
        lad_value, lad_theta = lad_optimum(data.x_train, data.y_train * data.sd)
        ls_theta = least_squares(data.x_train, data.y_train * data.sd)
        design = np.c_[np.ones(len(data.x_train)), data.x_train]
        optimum[lags] = {"mae": lad_value, "mse": float(((design @ ls_theta - data.y_train * data.sd) ** 2).mean()),
                         "lad_theta": lad_theta, "ls_theta": ls_theta}
        for loss_name, loss_fn in (("mae", nn.L1Loss()), ("mse", nn.MSELoss())):
            model = nn.Linear(lags, 1)
            train(model, data, loss_fn, epochs, lr=1e-2, dtype=gg.float64)
            r = residuals(model, data.x_train, data.y_train, data.sd)
            fits[lags, loss_name] = LineFit(model, float(np.abs(r).mean()), float((r * r).mean()))
        table[line_name(lags)] = losses(fits[lags, "mae"].model, data)

    gap_mae = max(fits[g, "mae"].train_mae / optimum[g]["mae"] for g in LAGS) - 1
    gap_mse = max(fits[g, "mse"].train_mse / optimum[g]["mse"] for g in LAGS) - 1
    ctx.claim(
        "Gradient descent (Adam on the MAE) finds the best line: its training loss matches the exact "
        "optimum (least absolute deviations, a linear program) for 1, 7, 28 and 56 days",
        f"at most {100 * gap_mae:.2f}% above the optimum",
        gap_mae < 0.01,
        expected="< 1% above (untrained: several times the optimum)",
    )
    ctx.claim(
        "... and on the MSE it matches the closed-form least-squares optimum",
        f"at most {100 * gap_mse:.2f}% above the optimum",
        gap_mse < 0.01,
        expected="< 1% above",
    )
    w1 = optimum[1]["lad_theta"][1] / births.sd  # back to raw units: y = b + w * (births yesterday)
    b1 = optimum[1]["lad_theta"][0] + births.mu - w1 * births.mu
    ctx.result("line_1_day", {"w": w1, "b_thousands": b1})

    l1, l7, l28, l56 = (table[line_name(g)] for g in LAGS)
    ctx.claim(
        "Seeing the past 7 days (one full weekly cycle) instead of 1 cuts the error by more than half, "
        "on the training years and on the test year",
        f"L {l1[0]:.2f}k -> {l7[0]:.2f}k, L' {l1[1]:.2f}k -> {l7[1]:.2f}k",
        l7[0] < 0.5 * l1[0] and l7[1] < 0.5 * l1[1],
        expected="7 days < half of 1 day, L and L'",
    )
    gain_week, gain_more = l1[1] - l7[1], l7[1] - l56[1]
    ctx.claim(
        "More days help less after a week: going from 7 to 56 days gains less than a quarter of what "
        "going from 1 to 7 gained (test loss)",
        f"1 -> 7 days: -{gain_week:.2f}k; 7 -> 28 -> 56 days: -{l7[1] - l28[1]:.3f}k, -{l28[1] - l56[1]:.3f}k",
        0 < gain_more < 0.25 * gain_week,
        expected="0 < gain 7 -> 56 < 1/4 of gain 1 -> 7",
    )
    return Lines(fits, optimum, table, w1, b1)


# ---------------------------------------------------------------- 2. the lecture's new model


@dataclass
class Sigmoids:
    """The sum of sigmoids of yesterday's value, and its (L, L')."""

    model: nn.Sequential
    name: str
    losses: tuple[float, float]


def sigmoids_part(ctx: LabContext, data1: Split, lines: Lines, epochs: int) -> Sigmoids:
    """b + sum_i c_i sigmoid(b_i + w_i x1) on yesterday's value, against the best line."""
    sig = mlp(1, (N_SIGMOIDS,), act=nn.Sigmoid)
    train(sig, data1, nn.L1Loss(), epochs, lr=5e-2, dtype=gg.float64)
    name = f"b + sum of {N_SIGMOIDS} c_i sigmoid(b_i + w_i x1)"
    fit, line = losses(sig, data1), lines.table[line_name(1)]
    ctx.claim(
        f"A line is too simple (model bias): the lecture's new model, a sum of {N_SIGMOIDS} sigmoids of "
        "the same single input (yesterday), fits better than the best line can",
        f"L {fit[0]:.2f}k vs {lines.optimum[1]['mae']:.2f}k (best line); L' {fit[1]:.2f}k vs {line[1]:.2f}k",
        fit[0] < 0.85 * lines.optimum[1]["mae"] and fit[1] < line[1],
        expected="L < 0.85x the best line's, L' lower too",
    )
    return Sigmoids(sig, name, fit)


# ---------------------------------------------------------------- 3. wider and deeper ReLU networks


@dataclass
class Networks:
    """The ReLU networks on 56 days by name, their training histories and (L, L')."""

    models: dict[str, nn.Sequential]
    histories: dict[str, dict]
    table: dict[str, tuple[float, float]]
    overfit_4: bool


def network_name(depth: int, width: int) -> str:
    return f"{depth} layer{'s' if depth > 1 else ''} x {width} ReLUs"


def networks_part(ctx: LabContext, data56: Split, line56: tuple[float, float], epochs: int, lr: float) -> Networks:
    """One hidden layer of 10 / 100 / 1000 ReLUs, and 1-4 layers of 100, on the past 56 days."""
    models, histories, table = {}, {}, {}
    arch = [(1, w) for w in WIDTHS] + [(d, 100) for d in DEPTHS if d > 1]
    for depth, width in ctx.bar(arch, "ReLU networks"):
        name = network_name(depth, width)
        models[name] = mlp(56, (width,) * depth)
        histories[name] = train(models[name], data56, nn.L1Loss(), epochs, lr)
        table[name] = losses(models[name], data56)
    width_train = [table[network_name(1, w)][0] for w in WIDTHS]
    ctx.claim(
        "A wider hidden layer (10 -> 100 -> 1000 ReLUs on 56 days) lowers the training loss",
        " -> ".join(f"{v:.3f}k" for v in width_train),
        all(a > b for a, b in zip(width_train, width_train[1:])),
        expected="falling at each step",
    )
    depth_loss = {d: table[network_name(d, 100)] for d in DEPTHS}
    ctx.claim(
        "Deeper is better on the training years: 2, 3 and 4 layers of 100 ReLUs all have a lower training "
        "loss than 1 layer",
        f"L with 1 / 2 / 3 / 4 layers: {' / '.join(f'{depth_loss[d][0]:.3f}k' for d in DEPTHS)}",
        max(depth_loss[d][0] for d in DEPTHS[1:]) < depth_loss[1][0],
        expected="2, 3, 4 layers < 1 layer",
    )
    worst_net_test = max(v[1] for n, v in table.items() if "x 10 " not in n)
    ctx.claim(
        "Every network with 100 or more ReLUs beats the best line on the test year (56 days each)",
        f"worst network L' {worst_net_test:.3f}k vs linear L' {line56[1]:.3f}k",
        worst_net_test < line56[1],
        expected="every network's L' < the line's",
    )
    small, big = table[network_name(1, 10)], depth_loss[4]
    train_gain, test_gain = small[0] - big[0], small[1] - big[1]
    ctx.claim(
        "The test loss improves less than the training loss: from 10 ReLUs to 4 layers of 100 the training "
        "loss falls by more than the test loss does, so the gap L' - L grows",
        f"L -{train_gain:.3f}k, L' -{test_gain:.3f}k; gap {small[1] - small[0]:+.3f}k -> {big[1] - big[0]:+.3f}k",
        train_gain > test_gain > 0,
        expected="fall of L > fall of L' > 0",
    )
    overfit_4 = depth_loss[4][0] < depth_loss[3][0] and depth_loss[4][1] > depth_loss[3][1]
    ctx.result("four_layers_overfit", overfit_4)
    backprop_check(ctx, models[network_name(1, 1000)], data56)
    return Networks(models, histories, table, overfit_4)


def backprop_check(ctx: LabContext, model: nn.Sequential, data: Split) -> None:
    """Autograd's gradient g of the trained network's training MAE against the loss's slope along
    unit directions d, by central differences (on a float64 copy): the slope should be g . d."""
    net = copy.deepcopy(model).to(gg.float64)
    x, y = gg.tensor(data.x_train), gg.tensor(data.y_train[:, None])
    params = list(net.parameters())
    loss = nn.L1Loss()(net(x), y)
    net.zero_grad()
    loss.backward()
    grads = [p.grad.numpy().copy() for p in params]
    start = [p.detach().numpy().copy() for p in params]
    rng = np.random.default_rng(ctx.seed)
    g_norm = float(np.sqrt(sum((g * g).sum() for g in grads)))
    # the gradient's own direction (where the slope is largest) and two random ones, of length 1
    directions = [[g / g_norm for g in grads]]
    for _ in range(2):
        d = [rng.normal(size=g.shape) for g in grads]
        d_norm = float(np.sqrt(sum((v * v).sum() for v in d)))
        directions.append([v / d_norm for v in d])
    # eps small enough that few ReLUs and residuals change sign, large enough for float64's rounding.
    # A step that crosses a kink (|residual| or a ReLU at 0) gives a wrong slope at that eps only, while a
    # wrong gradient is wrong at every eps: so each direction keeps its best agreement over two steps.
    worst = 0.0
    for direction in directions:
        along = sum(float((g * d).sum()) for g, d in zip(grads, direction))  # g . d
        errors = []
        for eps in (1e-7, 2e-8):
            values = []
            with gg.no_grad():
                for sign in (1, -1):
                    for p, p0, d in zip(params, start, direction):
                        p.copy_(gg.tensor(p0 + sign * eps * d))
                    values.append(nn.L1Loss()(net(x), y).item())
            slope = (values[0] - values[1]) / (2 * eps)
            errors.append(abs(slope - along) / g_norm)  # relative to the largest slope, |g|
        worst = max(worst, min(errors))
    ctx.claim(
        "Backpropagation gives the gradient that gradient descent follows: for the trained network of 1000 ReLUs, "
        "the slope of the training loss along a direction in its 58,001 parameters (central differences) equals "
        "autograd's gradient . direction, for the gradient's own direction and two random ones",
        f"largest difference {worst:.1e} of the gradient's length",
        worst < 1e-5,
        expected="< 1e-5 (ReLU's derivative halved: about 3e-3)",
    )


# ---------------------------------------------------------------- 4. MAE vs MSE


@dataclass
class LossChoice:
    """Test-year residuals (thousands) of the 56-day lines trained with MAE and with MSE, and the
    10 largest errors of the MAE one: (date, weekday, error, near a holiday)."""

    residuals: dict[str, np.ndarray]
    worst_days: list[tuple[str, str, float, bool]]


def holiday_related(day, holidays: np.ndarray) -> bool:
    """Within a day of a holiday, or a week after one (the holiday's dip is then an input)."""
    gap = (day - holidays).astype(int)
    return bool(np.any(np.abs(gap) <= 1) or np.any(gap == 7))


def loss_choice_part(ctx: LabContext, lines: Lines, data56: Split) -> LossChoice:
    """The 56-day line trained with MAE vs with MSE, on the test year; where the largest errors fall."""
    r_abs = {k: residuals(lines.fits[56, k].model, data56.x_test, data56.y_test, data56.sd) for k in ("mae", "mse")}
    tm = {k: {"mae": float(np.abs(r).mean()), "rmse": float(np.sqrt((r * r).mean())),
              "median": float(np.median(np.abs(r))), "p99": float(np.quantile(np.abs(r), 0.99))}
          for k, r in r_abs.items()}
    ctx.claim(
        "Each loss wins on its own metric on the test year: the line trained with MAE has the lower test "
        "MAE, the line trained with MSE the lower test RMSE",
        f"MAE {tm['mae']['mae']:.3f}k vs {tm['mse']['mae']:.3f}k; RMSE {tm['mae']['rmse']:.3f}k vs "
        f"{tm['mse']['rmse']:.3f}k (MAE-trained vs MSE-trained)",
        tm["mae"]["mae"] < tm["mse"]["mae"] and tm["mse"]["rmse"] < tm["mae"]["rmse"],
        expected="MAE-trained: lower MAE; MSE-trained: lower RMSE",
    )
    ctx.claim(
        "MAE is robust to the holiday outliers, so its fit is better on a typical day (smaller median "
        "error); MSE is sensitive to large errors, so its fit has the smaller largest errors (99th "
        "percentile)",
        f"median |error| {tm['mae']['median']:.3f}k vs {tm['mse']['median']:.3f}k; 99th percentile "
        f"{tm['mae']['p99']:.2f}k vs {tm['mse']['p99']:.2f}k (MAE-trained vs MSE-trained)",
        tm["mae"]["median"] < tm["mse"]["median"] and tm["mse"]["p99"] < tm["mae"]["p99"],
        expected="MAE-trained: lower median; MSE-trained: lower 99th percentile",
    )
    ctx.result("mae_vs_mse_test", tm)
    holidays = us_holidays(TEST_YEAR)
    worst = np.argsort(-np.abs(r_abs["mae"]))[:10]
    worst_days = [(str(data56.test_dates[i]), data56.test_dates[i].item().strftime("%a"), float(r_abs["mae"][i]),
                   holiday_related(data56.test_dates[i], holidays)) for i in worst]
    near = sum(n for *_, n in worst_days)
    share = np.mean([holiday_related(d, holidays) for d in data56.test_dates])
    ctx.claim(
        "The outliers are holidays: most of the 10 largest test errors fall within a day of a U.S. federal "
        f"holiday, or a week after one, when its dip is among the inputs (such days are {100 * share:.0f}% of "
        "the year)",
        f"{near} of 10",
        near >= 7,
        expected=">= 7 of 10",
    )
    ctx.result("largest_test_errors_mae_line", worst_days)
    return LossChoice(r_abs, worst_days)


# ---------------------------------------------------------------- 5. gradient descent on the error surface


@dataclass
class ErrorSurface:
    """Gradient descent on (w, b) of y = b + w x1: the data, the start, the MAE paths and losses
    per learning rate, the MSE path, and the exact optima (w, b)."""

    x: np.ndarray
    y: np.ndarray
    start: np.ndarray
    paths: dict[str, tuple[np.ndarray, np.ndarray]]
    lad_value: float
    lad: tuple[float, float]
    mse_path: np.ndarray
    ls: tuple[float, float]


def error_surface_part(ctx: LabContext, data1: Split) -> ErrorSurface:
    """Plain gradient descent on the MAE of y = b + w x1 with three learning rates, and on the MSE."""
    x, y = data1.x_train[:, 0], data1.y_train * data1.sd + data1.mu  # x standardized, y in thousands
    start = np.array([-2.0, 7.0])
    steps = 300
    lad_val, (lad_b, lad_w) = lad_optimum(x[:, None], y)
    rates = {"too small (0.005)": 0.005, "good (0.1)": 0.1, "too large (8)": 8.0}
    paths = {k: gradient_descent_path(x, y, "mae", lr, steps, start) for k, lr in rates.items()}
    small = paths["too small (0.005)"][1]
    small_final = small[-1] / lad_val
    good_final = paths["good (0.1)"][1][-1] / lad_val
    big_tail = paths["too large (8)"][1][-100:]
    big_rises = float(np.mean(np.diff(big_tail) > 0))
    ctx.claim(
        f"Gradient descent on the MAE of y = b + w x1 with a good learning rate (0.1) reaches the bottom of "
        f"the error surface in {steps} steps",
        f"final loss {100 * (good_final - 1):.2f}% above the optimum",
        good_final < 1.005,
        expected="< 0.5% above",
    )
    ctx.claim(
        "A too-small learning rate (0.005) descends but is still far from the bottom; a too-large one (8) "
        "oscillates: its loss keeps jumping up and down above the optimum",
        f"small: loss {small[0] / lad_val:.2f}x -> {small_final:.2f}x the optimum; large: last 100 steps at "
        f"{big_tail.mean() / lad_val:.2f}x the optimum on average, rising on {100 * big_rises:.0f}% of the steps",
        1.5 < small_final < 0.9 * small[0] / lad_val and big_tail.mean() > 1.2 * lad_val and big_rises > 0.3,
        expected="small: falling by > 10%, still > 1.5x; large: > 1.2x, rising on > 30% of steps",
    )
    mse_path, _ = gradient_descent_path(x, y, "mse", 0.1, steps, start)
    ls_b, ls_w = least_squares(x[:, None], y)
    dist = float(np.hypot(mse_path[-1, 0] - ls_w, mse_path[-1, 1] - ls_b))
    ctx.claim(
        "On the MSE surface gradient descent (learning rate 0.1) converges to the closed-form least-squares "
        "solution",
        f"distance to (w*, b*) after {steps} steps: {dist:.1e}",
        dist < 1e-6,
        expected="< 1e-6",
    )
    return ErrorSurface(x, y, start, paths, lad_val, (lad_w, lad_b), mse_path, (ls_w, ls_b))


# ---------------------------------------------------------------- the lab


def write_table(ctx: LabContext, table: dict[str, tuple[float, float]], lines: Lines, networks: Networks,
                lin_epochs: int, net_epochs: int) -> None:
    """The losses in the lecture's layout, and where ours differ from the lecture's."""
    ctx.result("table", {k: {"L": v[0], "L_test": v[1], "lecture": LECTURE.get(k)} for k, v in table.items()})
    rows = ["| model | L (train) | L' (test) | lecture's L | lecture's L' |", "| --- | --- | --- | --- | --- |"]
    for name, (lt, lte) in table.items():
        lec = LECTURE.get(name)
        lec_s = (f"{lec[0]:.2f}k", f"{lec[1]:.2f}k") if lec else ("-", "-")
        label = name
        if name == line_name(1):
            label = f"y = b + w x1 (w* = {lines.w1:.2f}, b* = {lines.b1:.1f}k; lecture: w* = 0.97, b* = 0.1k)"
        rows.append(f"| {label} | {lt:.3f}k | {lte:.3f}k | {lec_s[0]} | {lec_s[1]} |")
    ctx.write(
        f"Predicting tomorrow's U.S. births from the past days: trained on 2000-{TEST_YEAR - 1}, tested on "
        f"{TEST_YEAR}, mean absolute error in thousands of births (the lecture: views of a channel, "
        f"thousands of views). Linear models and the sum of sigmoids train for {lin_epochs} epochs, the "
        f"networks for {net_epochs} (Adam, mini-batches of 128, cosine-decaying learning rate). The test year "
        "is only watched, never used to choose anything."
    )
    ctx.write("\n".join(rows))
    (l3, l3t), (l4, l4t) = table[network_name(3, 100)], table[network_name(4, 100)]
    fourth = (f"4 layers vs 3: L {l4:.3f}k vs {l3:.3f}k, L' {l4t:.3f}k vs {l3t:.3f}k; "
              + ("the 4th layer overfits here, as in the lecture (a lower L, a higher L')." if networks.overfit_4
                 else "the lecture's overfitting (a lower L but a higher L') does not show in this run. Whether it "
                 "does depends on the seed and the training length, so it is not claimed."))
    l7 = table[line_name(7)]
    ctx.write(
        f"Where ours differ from the lecture: yesterday alone predicts births badly (w* = {lines.w1:.2f}, far from "
        "the lecture's 0.97), because the weekly cycle makes today unlike yesterday (Sunday -> Monday jumps "
        "by half); views change slowly from day to day. Once a full week is seen, the linear model's error "
        f"is close to the lecture's ({l7[0]:.2f}k / {l7[1]:.2f}k vs 0.38k / 0.49k), and so are the networks'. "
        f"Our test year is easier than the training years on average, unlike the lecture's. {fourth}"
    )


def run(ctx: LabContext) -> None:
    births = Births()
    net_epochs, net_lr = ctx.size((30, 3e-3), (300, 1e-3))
    lin_epochs = ctx.size(30, 60)
    splits = {lags: births.split(lags) for lags in LAGS}
    lines = lines_part(ctx, births, splits, lin_epochs)
    sigmoids = sigmoids_part(ctx, splits[1], lines, lin_epochs)
    networks = networks_part(ctx, splits[56], lines.table[line_name(56)], net_epochs, net_lr)
    choice = loss_choice_part(ctx, lines, splits[56])
    surface = error_surface_part(ctx, splits[1])
    table = {**lines.table, sigmoids.name: sigmoids.losses, **networks.table}
    write_table(ctx, table, lines, networks, lin_epochs, net_epochs)
    star = "\\*"  # the text is Markdown, where a bare * would start emphasis
    ctx.write(
        f"The 10 largest test errors of the 56-day line (MAE-trained; {star} = within a day of a federal holiday or "
        "a week after one): "
        + ", ".join(f"{d} ({wd}, {e:+.2f}k){star if n else ''}" for d, wd, e, n in choice.worst_days) + "."
    )
    figure_series(ctx, births, splits, lines)
    figure_one_day(ctx, splits[1], lines.fits[1, "mae"].model, sigmoids.model)
    figure_table(ctx, table)
    figure_network_curves(ctx, networks.histories, splits[56].sd)
    figure_mae_vs_mse(ctx, splits[56], choice.residuals)
    figure_error_surface(ctx, surface)


# ---------------------------------------------------------------- figures


def figure_series(ctx: LabContext, births: Births, splits: dict[int, Split], lines: Lines) -> None:
    """The series, and the lines' predictions over eight weeks of the test year."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 6.5))
    train_mask = births.years < TEST_YEAR
    ax1.plot(births.dates[train_mask], births.values[train_mask], lw=0.3, color="tab:blue", label="training years")
    ax1.plot(births.dates[~train_mask], births.values[~train_mask], lw=0.3, color="tab:orange", label="test year")
    ax1.set(ylabel="births (thousands)", title="U.S. births per day, 2000-2014")
    ax1.legend(loc="lower left", fontsize=8)
    window = slice(120, 176)  # eight weeks of the test year
    data7 = splits[7]
    ax2.plot(data7.test_dates[window], data7.y_test[window] * data7.sd + data7.mu, "k.-", lw=1, label="true")
    for lags in (1, 7, 56):
        d = splits[lags]
        pred = residuals(lines.fits[lags, "mae"].model, d.x_test, d.y_test, d.sd) + d.y_test * d.sd + d.mu
        ax2.plot(d.test_dates[window], pred[window], lw=1, label=f"line on {lags} past day{'s' if lags > 1 else ''}")
    ax2.set(ylabel="births (thousands)", title=f"Predicting tomorrow, eight weeks of {TEST_YEAR}")
    ax2.legend(fontsize=8, ncol=4, loc="lower left")
    fig.tight_layout()
    ctx.figure("series_and_predictions", fig)


def figure_one_day(ctx: LabContext, data1: Split, line: nn.Module, sig: nn.Module) -> None:
    """Yesterday vs today: the best line and the sum of sigmoids."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 5))
    xr = data1.x_train[:, 0] * data1.sd + data1.mu
    yr = data1.y_train * data1.sd + data1.mu
    ax.scatter(xr, yr, s=2, alpha=0.25, color="grey", label="training days")
    grid = np.linspace(xr.min(), xr.max(), 400)
    gx = ((grid - data1.mu) / data1.sd)[:, None]
    for model, label in ((line, "best line"), (sig, f"sum of {N_SIGMOIDS} sigmoids")):
        fy = residuals(model, gx, np.zeros(len(grid)), data1.sd) + data1.mu
        ax.plot(grid, fy, lw=2, label=label)
    ax.set(xlabel="births yesterday (thousands)", ylabel="births today (thousands)",
           title="One input: a line vs a sum of sigmoids")
    ax.legend(fontsize=8)
    ctx.figure("one_day_line_vs_sigmoids", fig)


def figure_table(ctx: LabContext, table: dict[str, tuple[float, float]]) -> None:
    """The table of losses as bars, ours next to the lecture's."""
    import matplotlib.pyplot as plt

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


def figure_network_curves(ctx: LabContext, histories: dict[str, dict], sd: float) -> None:
    """Training and test loss of the ReLU networks, per epoch."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5))
    for (name, hist), color in zip(histories.items(), plt.cm.tab10(np.arange(len(histories)))):
        ep = np.arange(1, len(hist["loss"]) + 1)
        ax.plot(ep, np.array(hist["loss"]) * sd, color=color, lw=1, label=f"{name}: L")
        ax.plot(ep, np.array(hist["val_loss"]) * sd, color=color, lw=1, ls="--", label=f"{name}: L'")
    ax.set(xlabel="epoch", ylabel="MAE (thousands)", yscale="log",
           title="ReLU networks on 56 days: L (solid), L' (dashed)")
    ax.legend(fontsize=7, ncol=2)
    ctx.figure("network_training_curves", fig)


def figure_mae_vs_mse(ctx: LabContext, data56: Split, r_abs: dict[str, np.ndarray]) -> None:
    """The test-year errors of the 56-day lines trained with MAE and with MSE."""
    import matplotlib.pyplot as plt

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


def figure_error_surface(ctx: LabContext, s: ErrorSurface) -> None:
    """The MAE surface with the paths of gradient descent, the loss per step, and the MSE surface."""
    import matplotlib.pyplot as plt

    ws, bs = np.linspace(-2.6, 3.4, 120), np.linspace(6.5, 16.5, 120)
    surface = mae_grid(s.x, s.y, ws, bs)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
    ax = axes[0]
    cs = ax.contourf(ws, bs, surface, levels=25, cmap="viridis_r")
    fig.colorbar(cs, ax=ax, label="MAE (thousands)")
    for (label, (path, _)), color in zip(s.paths.items(), ("white", "tab:orange", "tab:red")):
        shown = path[:15] if "large" in label else path
        ax.plot(shown[:, 0], shown[:, 1], ".-", ms=3, lw=0.7, color=color, zorder=2 if "large" in label else 3,
                label=f"lr {label}" + (", first 15 steps" if "large" in label else ""))  # the crawl on top
    ax.plot(*s.lad, "k*", ms=12, label="optimum (linear program)")
    ax.set(xlabel="w", ylabel="b", title="Gradient descent on the MAE surface")
    ax.legend(fontsize=7, loc="upper right")
    ax = axes[1]
    for (label, (_, values)), color in zip(s.paths.items(), ("grey", "tab:orange", "tab:red")):
        ax.plot(values, color=color, lw=0.8, label=f"lr {label}")
    ax.axhline(s.lad_value, color="k", ls=":", label="optimum")
    ax.set(xlabel="step", ylabel="MAE (thousands)", yscale="log", title="Loss per step")
    ax.legend(fontsize=7)
    ax = axes[2]
    W, B = np.meshgrid(ws, bs)  # noqa: N806
    x, y = s.x, s.y
    # mean((b + w x - y)^2) expanded, so the grid needs only the data's moments
    mse = (B * B + W * W * (x * x).mean() + (y * y).mean() + 2 * B * W * x.mean() - 2 * B * y.mean()
           - 2 * W * (x * y).mean())
    ax.contour(ws, bs, mse, levels=np.quantile(mse, np.linspace(0.01, 0.9, 15)), cmap="viridis_r", linewidths=0.8)
    ax.plot(s.mse_path[:, 0], s.mse_path[:, 1], ".-", ms=2, lw=0.8, color="tab:orange",
            label="gradient descent, lr 0.1")
    ax.plot(*s.ls, "k*", ms=12, label="least squares (closed form)")
    ax.set(xlabel="w", ylabel="b", title="... and on the MSE surface")
    ax.legend(fontsize=7, loc="upper right")
    fig.suptitle(f"y = b + w x1 (x1 = yesterday, standardized; y in thousands), start at ({s.start[0]}, {s.start[1]})")
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
