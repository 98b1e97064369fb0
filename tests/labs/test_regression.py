"""Lectures 1-2's regression lab, quick setting: every claim must hold (fixed seed, real data)."""

import numpy as np

from glassgrad.labs import get_lab, run_lab
from glassgrad.labs.regression import lad_optimum, least_squares, us_holidays


def test_regression_claims_hold(tmp_path):
    result = run_lab(get_lab("regression"), tmp_path, progress=False)
    assert result.error is None, result.error
    failed = [c for c in result.claims if not c.holds]
    assert not failed, failed
    assert len(result.claims) == 16 and len(result.figures) == 6
    table = result.results["table"]
    assert len(table) == 11 and all(0 < row["L"] < 2 and 0 < row["L_test"] < 2 for row in table.values())
    section = (tmp_path / "section.md").read_text()
    assert "| model | L (train) | L' (test) | lecture's L | lecture's L' |" in section


def test_lad_optimum_is_the_least_absolute_deviations_fit():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = 1.0 + x @ np.array([2.0, -1.0, 0.5]) + rng.laplace(size=200)
    value, theta = lad_optimum(x, y)
    design = np.c_[np.ones(200), x]
    assert abs(np.abs(design @ theta - y).mean() - value) < 1e-9
    # no nearby parameters do better, and the least-squares fit does worse on the MAE
    for _ in range(50):
        assert np.abs(design @ (theta + 1e-3 * rng.normal(size=4)) - y).mean() >= value - 1e-12
    assert np.abs(design @ least_squares(x, y) - y).mean() > value


def test_us_holidays_2014():
    days = {str(d) for d in us_holidays(2014)}
    assert days == {"2014-01-01", "2014-01-20", "2014-02-17", "2014-05-26", "2014-07-04", "2014-09-01",
                    "2014-10-13", "2014-11-11", "2014-11-27", "2014-12-25"}
