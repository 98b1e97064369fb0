"""The built-in demo reaches the exact optimum of its loss: least squares for MSE (numpy's
lstsq) and least absolute deviations for MAE (a linear program, solved by scipy)."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from glassgrad.datasets import load_series
from glassgrad.demo import fit_line_demo


def training_data(test_from="2014-01-01"):
    dates, values = load_series("us_births")
    x, y = values[:-1] / 1000, values[1:] / 1000
    train = dates[1:] < np.datetime64(test_from)
    return x[train], y[train], x[~train], y[~train]


def test_mse_fit_is_the_least_squares_line(capsys):
    result = fit_line_demo(loss="mse")
    x, y, x_test, y_test = training_data()
    (b, w), *_ = np.linalg.lstsq(np.stack([np.ones_like(x), x], 1), y, rcond=None)
    assert result["w"] == pytest.approx(w, rel=1e-9) and result["b"] == pytest.approx(b, rel=1e-9)
    assert result["train_loss"] == pytest.approx(np.mean((b + w * x - y) ** 2), rel=1e-9)
    assert result["test_loss"] == pytest.approx(np.mean((b + w * x_test - y_test) ** 2), rel=1e-9)
    out = capsys.readouterr().out
    assert f"w = {result['w']:.4f}" in out and f"{result['test_loss']:.4f}" in out


def test_mae_fit_is_the_least_absolute_deviations_line():
    result = fit_line_demo(loss="mae", verbose=False)
    x, y, x_test, y_test = training_data()
    n = len(x)
    # minimize sum(e+ + e-) subject to b + w x + e+ - e- = y, e+ >= 0, e- >= 0
    a_eq = sp.hstack([sp.csr_matrix(np.stack([np.ones(n), x], 1)), sp.eye(n), -sp.eye(n)]).tocsr()
    lp = linprog(np.r_[0.0, 0.0, np.ones(2 * n)], A_eq=a_eq, b_eq=y,
                 bounds=[(None, None)] * 2 + [(0, None)] * (2 * n), method="highs")
    assert lp.status == 0
    b, w = lp.x[:2]
    best = lp.fun / n
    assert best <= result["train_loss"] <= best * (1 + 1e-7)
    assert result["w"] == pytest.approx(w, abs=2e-4) and result["b"] == pytest.approx(b, abs=3e-3)
    assert result["test_loss"] == pytest.approx(np.mean(np.abs(result["b"] + result["w"] * x_test - y_test)))


def test_without_standardizing_gradient_descent_is_far_slower():
    fast = fit_line_demo(loss="mse", steps=300, verbose=False)
    slow = fit_line_demo(loss="mse", steps=300, standardize=False, verbose=False)
    assert slow["train_loss"] > 1.2 * fast["train_loss"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="'mae' or 'mse'"):
        fit_line_demo(loss="huber")
    with pytest.raises(ValueError, match="at least 1"):
        fit_line_demo(steps=0)
    with pytest.raises(ValueError, match="no training or no test day"):
        fit_line_demo(test_from="1999-01-01", verbose=False)
