"""Real daily time series shipped with glassgrad, for the regression lab of lectures 1-2.

The course predicts tomorrow's views of a video channel from the past days; that series has a
weekly cycle, which is why a model that sees the past 7 days does much better than one that sees
only yesterday. The series here has the same kind of cycle:

``"us_births"``: births in the United States on each day of 2000-2014 (5,479 days), from the U.S.
Social Security Administration as compiled by FiveThirtyEight, CC BY 4.0 (source and license in
``glassgrad/datasets/data/README.md``). Cycle: 7 days (weekends have about a third fewer births).
"""

from __future__ import annotations

from importlib import resources
from typing import NamedTuple

import numpy as np


class SeriesInfo(NamedTuple):
    """What a shipped series is: its file, unit, cycle length and origin."""

    filename: str
    unit: str
    period: int  # length of the main cycle, in time steps (days)
    description: str
    source: str
    license: str


SERIES: dict[str, SeriesInfo] = {
    "us_births": SeriesInfo(
        filename="us_births_2000_2014.csv",
        unit="births per day",
        period=7,
        description="Births in the United States on each day from 2000-01-01 to 2014-12-31 (5,479 days).",
        source="U.S. Social Security Administration data compiled by FiveThirtyEight "
        "(github.com/fivethirtyeight/data, births/US_births_2000-2014_SSA.csv)",
        license="CC BY 4.0",
    ),
}


def load_series(name: str = "us_births") -> tuple[np.ndarray, np.ndarray]:
    """The shipped daily series ``name``: ``dates`` (datetime64[D]) and ``values`` (int64).

    See :data:`SERIES` for the list, each series' cycle length (``SERIES[name].period``), unit,
    source and license. ``"us_births"``: U.S. births per day, 2000-2014, weekly cycle (period 7);
    data of the U.S. Social Security Administration compiled by FiveThirtyEight, CC BY 4.0.
    """
    if name not in SERIES:
        raise ValueError(f"load_series: unknown series {name!r}; available: {sorted(SERIES)}")
    text = resources.files("glassgrad.datasets").joinpath("data", SERIES[name].filename).read_text("ascii")
    header, *rows = text.split()
    if not header.startswith("date,"):
        raise ValueError(f"load_series: {SERIES[name].filename} has an unexpected header {header!r}")
    dates, values = zip(*(row.split(",") for row in rows))
    return np.array(dates, dtype="datetime64[D]"), np.array(values, dtype=np.int64)


def make_lagged(values: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets for predicting a value from the ``lags`` values before it.

    Row ``t`` of ``x`` is ``values[t : t + lags]`` (oldest first) and ``y[t] = values[t + lags]``,
    so ``x`` has shape (len(values) - lags, lags). With ``lags=1``, ``x[:, 0]`` is today and
    ``y`` is tomorrow.
    """
    values = np.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"make_lagged: expected a 1-D series, got shape {values.shape}")
    if not 1 <= lags < len(values):
        raise ValueError(f"make_lagged: lags must be between 1 and len(values) - 1 = {len(values) - 1}, "
                         f"got {lags}")
    x = np.lib.stride_tricks.sliding_window_view(values[:-1], lags)
    return x.copy(), values[lags:].copy()
