"""Date normalization: real calendar dates written the many ways people write them, each mapped
to its ISO 8601 form, for a small sequence-to-sequence model (the Transformer lab, lectures 11-12).

    inputs, targets = make_dates(1000, seed=0)   # e.g. "3rd of March 1999" -> "1999-03-03"

Every date is a real day of the Gregorian calendar between 1900-01-01 and 2099-12-31 (Python's
``datetime``, so leap years, 30-day months and weekdays are right). English month and day names
are written from fixed tables, not from the locale.

Two conventions make each written form mean exactly one date:

- **Numbers in month-day-year order are month first** (the United States' convention):
  ``"03/04/99"`` is March 4, 1999. No format here writes day/month/year with numbers only, so
  no string can be read two ways. Numeric forms that start with the year are year-month-day
  (``"1999.03.04"``, ``"19990304"``).
- **Two-digit years follow Python's ``strptime`` (POSIX) rule:** 69-99 are 1969-1999 and 00-68
  are 2000-2068. So the formats with a two-digit year are only used for dates from 1969-01-01 to
  2068-12-31; dates outside that range are written only with four-digit years.

The held-out dates are fixed, whatever the seed: a fixed pseudo-random tenth of all days
(:func:`is_held_out`). ``make_dates(..., split="train")`` draws only from the other nine tenths and
``split="test"`` only from that tenth, so a model is tested on days it never saw in training.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2099, 12, 31)
# the years a two-digit year can stand for (Python's strptime %y: 69-99 -> 19yy, 00-68 -> 20yy)
TWO_DIGIT_YEARS = (1969, 2068)
HELD_OUT_FRACTION = 0.1
_SPLIT_SEED = 20_210_311  # fixes which days are held out; not the data seed

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def ordinal(day: int) -> str:
    """``1 -> "1st"``, ``2 -> "2nd"``, ``3 -> "3rd"``, ``11 -> "11th"``, ``22 -> "22nd"``."""
    if 11 <= day % 100 <= 13:
        return f"{day}th"
    return f"{day}{({1: 'st', 2: 'nd', 3: 'rd'}).get(day % 10, 'th')}"


class DateFormat(NamedTuple):
    """One way of writing a date: a name, the function that writes it, and whether its year has
    two digits (then it is used only for dates of 1969-2068)."""

    name: str
    write: Callable[[dt.date], str]
    two_digit_year: bool = False

    def example(self) -> str:
        return self.write(dt.date(1999, 3, 3))


def _m(d: dt.date) -> str:
    return MONTHS[d.month - 1]


def _mon(d: dt.date) -> str:
    return MONTHS[d.month - 1][:3]


def _wd(d: dt.date) -> str:
    return WEEKDAYS[d.weekday()]


DATE_FORMATS: tuple[DateFormat, ...] = (
    DateFormat("ordinal of month", lambda d: f"{ordinal(d.day)} of {_m(d)} {d.year}"),
    DateFormat("the ordinal of month, year", lambda d: f"the {ordinal(d.day)} of {_m(d)}, {d.year}"),
    DateFormat("ordinal month", lambda d: f"{ordinal(d.day)} {_m(d)} {d.year}"),
    DateFormat("month day, year", lambda d: f"{_m(d)} {d.day}, {d.year}"),
    DateFormat("month ordinal, year", lambda d: f"{_m(d)} {ordinal(d.day)}, {d.year}"),
    DateFormat("weekday, month day, year", lambda d: f"{_wd(d)}, {_m(d)} {d.day}, {d.year}"),
    DateFormat("day month year", lambda d: f"{d.day} {_m(d)} {d.year}"),
    DateFormat("DAY MONTH YEAR", lambda d: f"{d.day} {_m(d).upper()} {d.year}"),
    DateFormat("day mon year", lambda d: f"{d.day} {_mon(d)} {d.year}"),
    DateFormat("mon. day, year", lambda d: f"{_mon(d)}. {d.day}, {d.year}"),
    DateFormat("wkd, dd mon year (e-mail)", lambda d: f"{_wd(d)[:3]}, {d.day:02d} {_mon(d)} {d.year}"),
    DateFormat("dd mon yy", lambda d: f"{d.day:02d} {_mon(d)} {d.year % 100:02d}", True),
    DateFormat("mon dd yy, lower case", lambda d: f"{_mon(d).lower()} {d.day:02d} {d.year % 100:02d}", True),
    DateFormat("mm/dd/yy", lambda d: f"{d.month:02d}/{d.day:02d}/{d.year % 100:02d}", True),
    DateFormat("m/d/yyyy", lambda d: f"{d.month}/{d.day}/{d.year}"),
    DateFormat("mm-dd-yyyy", lambda d: f"{d.month:02d}-{d.day:02d}-{d.year}"),
    DateFormat("yyyy.mm.dd", lambda d: f"{d.year}.{d.month:02d}.{d.day:02d}"),
    DateFormat("yyyy/m/d", lambda d: f"{d.year}/{d.month}/{d.day}"),
    DateFormat("yyyymmdd", lambda d: f"{d.year}{d.month:02d}{d.day:02d}"),
    DateFormat("ISO yyyy-mm-dd", lambda d: d.isoformat()),
)
FORMAT_NAMES: tuple[str, ...] = tuple(f.name for f in DATE_FORMATS)


def alphabet() -> list[str]:
    """Every character any format can write, sorted: a character-level model's vocabulary."""
    probes = [dt.date(2000, m, d) for m in range(1, 13) for d in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 28)]
    probes += [dt.date(1999, 3, d) for d in range(1, 8)]  # every weekday
    return sorted({c for f in DATE_FORMATS for d in probes for c in f.write(d)} | set("0123456789"))


def iso(date: dt.date) -> str:
    """The normalized form, ISO 8601: ``"1999-03-03"``."""
    return date.isoformat()


def all_dates() -> list[dt.date]:
    """Every day from 1900-01-01 to 2099-12-31 (73,049 days)."""
    first = FIRST_DATE.toordinal()
    return [dt.date.fromordinal(o) for o in range(first, LAST_DATE.toordinal() + 1)]


@functools.lru_cache(maxsize=1)
def _held_out_mask() -> np.ndarray:
    """For each day of :func:`all_dates`, whether it is held out (a fixed tenth, drawn once;
    read-only, since the cache shares it)."""
    n = LAST_DATE.toordinal() - FIRST_DATE.toordinal() + 1
    order = np.random.default_rng(_SPLIT_SEED).permutation(n)
    mask = np.zeros(n, dtype=bool)
    mask[order[: round(HELD_OUT_FRACTION * n)]] = True
    mask.flags.writeable = False
    return mask


def is_held_out(date: dt.date) -> bool:
    """Whether ``date`` belongs to the held-out (test) days, which training never draws."""
    _check_date(date)
    return bool(_held_out_mask()[date.toordinal() - FIRST_DATE.toordinal()])


def write_date(date: dt.date, fmt: str | DateFormat) -> str:
    """``date`` written in the format named ``fmt`` (one of :data:`FORMAT_NAMES`)."""
    _check_date(date)
    f = _format(fmt)
    if f.two_digit_year and not TWO_DIGIT_YEARS[0] <= date.year <= TWO_DIGIT_YEARS[1]:
        raise ValueError(
            f"write_date: the format {f.name!r} has a two-digit year, which stands for "
            f"{TWO_DIGIT_YEARS[0]}-{TWO_DIGIT_YEARS[1]} only; got a date of {date.year}"
        )
    return f.write(date)


def make_dates(
    n: int,
    seed: int = 0,
    split: str = "train",
    formats: Sequence[str] | None = None,
    with_formats: bool = False,
) -> tuple[list[str], list[str]] | tuple[list[str], list[str], list[str]]:
    """``n`` dates drawn at random (with ``seed``) from the days of ``split`` ("train": nine tenths
    of all days 1900-2099; "test": the held-out tenth), each written in a format drawn at random
    from ``formats`` (default: all of :data:`FORMAT_NAMES`).

    Returns ``(inputs, targets)``: the written dates and their ISO forms ``"YYYY-MM-DD"``; with
    ``with_formats=True`` also the name of each one's format. A format with a two-digit year is
    drawn only for dates of 1969-2068 (another format is drawn for the others).
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"make_dates: n must be a non-negative integer, got {n!r}")
    if split not in ("train", "test"):
        raise ValueError(f"make_dates: split must be 'train' or 'test', got {split!r}")
    chosen = [_format(f) for f in (FORMAT_NAMES if formats is None else formats)]
    if not chosen:
        raise ValueError("make_dates: formats is empty; give at least one of FORMAT_NAMES")
    rng = np.random.default_rng(seed)
    days = np.flatnonzero(_held_out_mask() == (split == "test")) + FIRST_DATE.toordinal()
    four_digit = [f for f in chosen if not f.two_digit_year]
    if not four_digit:  # only two-digit-year formats: draw only the days they can write
        years = np.array([dt.date.fromordinal(int(o)).year for o in days])
        days = days[(years >= TWO_DIGIT_YEARS[0]) & (years <= TWO_DIGIT_YEARS[1])]
    inputs, targets, names = [], [], []
    for o in rng.choice(days, size=n, replace=True):
        date = dt.date.fromordinal(int(o))
        f = chosen[rng.integers(len(chosen))]
        if f.two_digit_year and not TWO_DIGIT_YEARS[0] <= date.year <= TWO_DIGIT_YEARS[1]:
            f = four_digit[rng.integers(len(four_digit))]
        inputs.append(f.write(date))
        targets.append(iso(date))
        names.append(f.name)
    return (inputs, targets, names) if with_formats else (inputs, targets)


def _format(fmt: str | DateFormat) -> DateFormat:
    if isinstance(fmt, DateFormat):
        return fmt
    for f in DATE_FORMATS:
        if f.name == fmt:
            return f
    raise ValueError(f"unknown date format {fmt!r}; known formats: {', '.join(FORMAT_NAMES)}")


def _check_date(date) -> None:
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise TypeError(f"expected a datetime.date, got {type(date).__name__}")
    if not FIRST_DATE <= date <= LAST_DATE:
        raise ValueError(f"the dates span {FIRST_DATE} to {LAST_DATE}; got {date}")
