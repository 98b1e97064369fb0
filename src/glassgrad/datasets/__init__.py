"""Data sets for the course: MNIST (with an offline fallback) and real daily time series.

    import glassgrad as gg
    images, labels = gg.datasets.load_mnist(split="train")   # (60000, 28, 28) uint8, (60000,) int64
    dates, births = gg.datasets.load_series("us_births")      # a daily series with a weekly cycle
    inputs, targets = gg.datasets.make_dates(1000, seed=0)    # "3rd of March 1999" -> "1999-03-03"
"""

from glassgrad.datasets._idx import IDXError, parse_idx, read_idx
from glassgrad.datasets.dates import (
    DATE_FORMATS,
    FORMAT_NAMES,
    DateFormat,
    alphabet,
    is_held_out,
    make_dates,
    write_date,
)
from glassgrad.datasets.digits import DigitImages, MNISTFallbackWarning, load_digits_fallback, load_mnist_or_digits
from glassgrad.datasets.hsk import HSKPairs, load_hsk
from glassgrad.datasets.mnist import (
    MNIST,
    MNIST_MEAN,
    MNIST_STD,
    DownloadError,
    default_root,
    download_mnist,
    load_mnist,
    load_mnist_float,
    to_float,
)
from glassgrad.datasets.series import SERIES, SeriesInfo, load_series, make_lagged

__all__ = [
    "DATE_FORMATS",
    "FORMAT_NAMES",
    "MNIST",
    "MNIST_MEAN",
    "MNIST_STD",
    "SERIES",
    "DateFormat",
    "DigitImages",
    "DownloadError",
    "HSKPairs",
    "IDXError",
    "MNISTFallbackWarning",
    "SeriesInfo",
    "alphabet",
    "default_root",
    "download_mnist",
    "is_held_out",
    "load_digits_fallback",
    "load_hsk",
    "load_mnist",
    "load_mnist_float",
    "load_mnist_or_digits",
    "load_series",
    "make_dates",
    "make_lagged",
    "parse_idx",
    "read_idx",
    "to_float",
    "write_date",
]
