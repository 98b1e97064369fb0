"""The shipped daily series: its values, its weekly cycle, and the lag-window helper."""

from importlib import resources

import numpy as np
import pytest

from glassgrad.datasets import SERIES, load_series, make_lagged


def test_us_births_values_and_dates():
    dates, births = load_series("us_births")
    assert dates.dtype == np.dtype("datetime64[D]") and births.dtype == np.int64
    assert len(dates) == len(births) == 5479
    assert dates[0] == np.datetime64("2000-01-01") and dates[-1] == np.datetime64("2014-12-31")
    assert (np.diff(dates) == np.timedelta64(1, "D")).all()  # every day, no gap
    # a few values as published in FiveThirtyEight's US_births_2000-2014_SSA.csv
    by_date = dict(zip(dates.astype(str), births))
    assert [by_date[d] for d in ("2000-01-01", "2001-09-11", "2012-12-12", "2014-12-25", "2014-12-31")] == [
        9083, 13590, 14667, 6749, 11990]
    assert births.min() == 5728 and births.max() == 16081


def test_us_births_has_a_weekly_cycle():
    dates, births = load_series("us_births")
    assert SERIES["us_births"].period == 7
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    weekend, workday = births[weekday >= 5].mean(), births[weekday < 5].mean()
    assert weekend < 0.7 * workday
    # the strongest cycle in the spectrum (after removing the mean) is 7 days long
    power = np.abs(np.fft.rfft(births - births.mean())) ** 2
    freqs = np.fft.rfftfreq(len(births))
    peak = freqs[1 + np.argmax(power[1:])]
    assert round(1 / peak) == 7


def test_data_file_has_its_source_and_license_beside_it():
    readme = resources.files("glassgrad.datasets").joinpath("data", "README.md").read_text("utf-8")
    assert SERIES["us_births"].filename in readme and "CC BY 4.0" in readme and "FiveThirtyEight" in readme


def test_unknown_series():
    with pytest.raises(ValueError, match="unknown series 'views'.*us_births"):
        load_series("views")


def test_make_lagged():
    x, y = make_lagged(np.arange(10), 3)
    assert x.shape == (7, 3) and y.shape == (7,)
    assert x[0].tolist() == [0, 1, 2] and y[0] == 3 and x[-1].tolist() == [6, 7, 8] and y[-1] == 9
    x[0, 0] = 100  # a copy, not a view into the series
    assert make_lagged(np.arange(10), 3)[0][0, 0] == 0
    with pytest.raises(ValueError, match="between 1 and"):
        make_lagged(np.arange(5), 5)
    with pytest.raises(ValueError, match="1-D"):
        make_lagged(np.zeros((3, 3)), 1)
