"""The date-normalization data: real dates, each written form read back by Python's own parser,
one meaning per string, and held-out days never drawn for training."""

import datetime as dt

import numpy as np
import pytest

from glassgrad.datasets import DATE_FORMATS, FORMAT_NAMES, alphabet, is_held_out, make_dates, write_date
from glassgrad.datasets.dates import TWO_DIGIT_YEARS, all_dates, ordinal

# each format as datetime.strptime reads it (after the ordinal suffix is removed): an independent
# check that the written string means the date (None: strptime has no code for it)
STRPTIME = {
    "ordinal of month": "%d of %B %Y",
    "the ordinal of month, year": "the %d of %B, %Y",
    "ordinal month": "%d %B %Y",
    "month day, year": "%B %d, %Y",
    "month ordinal, year": "%B %d, %Y",
    "weekday, month day, year": "%A, %B %d, %Y",
    "day month year": "%d %B %Y",
    "DAY MONTH YEAR": "%d %B %Y",
    "day mon year": "%d %b %Y",
    "mon. day, year": "%b. %d, %Y",
    "wkd, dd mon year (e-mail)": "%a, %d %b %Y",
    "dd mon yy": "%d %b %y",
    "mon dd yy, lower case": "%b %d %y",
    "mm/dd/yy": "%m/%d/%y",
    "m/d/yyyy": "%m/%d/%Y",
    "mm-dd-yyyy": "%m-%d-%Y",
    "yyyy.mm.dd": "%Y.%m.%d",
    "yyyy/m/d": "%Y/%m/%d",
    "yyyymmdd": "%Y%m%d",
    "ISO yyyy-mm-dd": "%Y-%m-%d",
}


def _strip_ordinal(text: str) -> str:
    import re

    return re.sub(r"\b(\d{1,2})(st|nd|rd|th)\b", r"\1", text)


def test_the_examples_of_the_issue():
    march3 = dt.date(1999, 3, 3)
    written = {f.name: write_date(march3, f.name) for f in DATE_FORMATS}
    assert written["ordinal of month"] == "3rd of March 1999"
    assert written["mm/dd/yy"] == "03/03/99"
    assert written["month day, year"] == "March 3, 1999"
    assert written["day mon year"] == "3 Mar 1999"
    assert written["yyyy.mm.dd"] == "1999.03.03"
    assert written["weekday, month day, year"] == "Wednesday, March 3, 1999"  # 1999-03-03 was a Wednesday
    assert write_date(dt.date(1999, 3, 4), "mm/dd/yy") == "03/04/99"  # month first: March 4, not April 3


@pytest.mark.parametrize("day, expected", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"),
                                           (12, "12th"), (13, "13th"), (21, "21st"), (22, "22nd"), (23, "23rd"),
                                           (30, "30th"), (31, "31st")])
def test_ordinal(day, expected):
    assert ordinal(day) == expected


def test_every_format_reads_back_as_its_date_with_strptime():
    assert set(STRPTIME) == set(FORMAT_NAMES)
    rng = np.random.default_rng(0)
    days = all_dates()
    picks = [days[i] for i in rng.choice(len(days), 400, replace=False)]
    picks += [dt.date(2000, 2, 29), dt.date(1969, 1, 1), dt.date(2068, 12, 31), dt.date(1900, 1, 1),
              dt.date(2099, 12, 31)]
    for f in DATE_FORMATS:
        for d in picks:
            if f.two_digit_year and not TWO_DIGIT_YEARS[0] <= d.year <= TWO_DIGIT_YEARS[1]:
                with pytest.raises(ValueError, match="two-digit year"):
                    write_date(d, f.name)
                continue
            text = write_date(d, f.name)
            assert dt.datetime.strptime(_strip_ordinal(text), STRPTIME[f.name]).date() == d, (f.name, text)


def test_make_dates_targets_are_the_iso_dates_of_the_inputs():
    inputs, targets, names = make_dates(3000, seed=1, with_formats=True)
    assert len(inputs) == len(targets) == len(names) == 3000
    assert set(names) == set(FORMAT_NAMES)  # every format is drawn
    for text, target, name in zip(inputs, targets, names):
        assert dt.datetime.strptime(_strip_ordinal(text), STRPTIME[name]).date().isoformat() == target
    years = np.array([int(t[:4]) for t in targets])
    assert years.min() < 1920 and years.max() > 2080  # the whole range 1900-2099 is used
    assert set("".join(inputs)) <= set(alphabet())


def test_one_meaning_per_string():
    """No written string stands for two dates, across all formats (so the task is a function)."""
    meaning: dict[str, str] = {}
    inputs, targets = make_dates(40_000, seed=2)
    inputs2, targets2 = make_dates(10_000, seed=3, split="test")
    for text, target in zip(inputs + inputs2, targets + targets2):
        assert meaning.setdefault(text, target) == target, text


def test_held_out_days_are_disjoint_from_training_and_fixed():
    _, train = make_dates(20_000, seed=0)
    _, test = make_dates(5_000, seed=7, split="test")
    assert not set(train) & set(test)
    assert all(is_held_out(dt.date.fromisoformat(t)) for t in test[:500])
    assert not any(is_held_out(dt.date.fromisoformat(t)) for t in train[:500])
    held = sum(is_held_out(d) for d in all_dates()[::37])
    assert 0.07 < held / len(all_dates()[::37]) < 0.13  # about a tenth


def test_make_dates_is_seeded():
    assert make_dates(50, seed=4) == make_dates(50, seed=4)
    assert make_dates(50, seed=4) != make_dates(50, seed=5)


def test_formats_argument_and_two_digit_fallback():
    _, targets, names = make_dates(300, seed=0, formats=["mm/dd/yy", "yyyymmdd"], with_formats=True)
    for target, name in zip(targets, names):
        if name == "mm/dd/yy":
            assert TWO_DIGIT_YEARS[0] <= int(target[:4]) <= TWO_DIGIT_YEARS[1]
    assert {n for n, t in zip(names, targets) if not 1969 <= int(t[:4]) <= 2068} <= {"yyyymmdd"}
    only_two_digit = make_dates(200, seed=0, formats=["dd mon yy"])[1]
    assert all(1969 <= int(t[:4]) <= 2068 for t in only_two_digit)


def test_bad_arguments_say_what_was_expected():
    with pytest.raises(ValueError, match="non-negative integer"):
        make_dates(-1)
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        make_dates(3, split="valid")
    with pytest.raises(ValueError, match="unknown date format 'dd/mm/yy'"):
        make_dates(3, formats=["dd/mm/yy"])
    with pytest.raises(ValueError, match="formats is empty"):
        make_dates(3, formats=[])
    with pytest.raises(ValueError, match="1900-01-01 to 2099-12-31"):
        write_date(dt.date(1899, 12, 31), "yyyymmdd")
    with pytest.raises(TypeError, match="datetime.date"):
        write_date("1999-03-03", "yyyymmdd")
