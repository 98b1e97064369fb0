"""Data sets for the course: MNIST (with an offline fallback) and real daily time series.

    import glassgrad as gg
    images, labels = gg.datasets.load_mnist(split="train")   # (60000, 28, 28) uint8, (60000,) int64
    dates, births = gg.datasets.load_series("us_births")      # a daily series with a weekly cycle
    inputs, targets = gg.datasets.make_dates(1000, seed=0)    # "3rd of March 1999" -> "1999-03-03"
    vowels = gg.datasets.load_japanese_vowels("train")         # 270 utterances of 9 speakers, (T_i, 12) each
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
from glassgrad.datasets.japanese_vowels import (
    ChecksumError,
    JapaneseVowels,
    PaddedBatch,
    load_japanese_vowels,
    pad_utterances,
)
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
    "ChecksumError",
    "DateFormat",
    "DigitImages",
    "DownloadError",
    "HSKPairs",
    "IDXError",
    "JapaneseVowels",
    "MNISTFallbackWarning",
    "PaddedBatch",
    "SeriesInfo",
    "alphabet",
    "default_root",
    "download_mnist",
    "is_held_out",
    "load_digits_fallback",
    "load_hsk",
    "load_japanese_vowels",
    "load_mnist",
    "load_mnist_float",
    "load_mnist_or_digits",
    "load_series",
    "make_dates",
    "make_lagged",
    "pad_utterances",
    "parse_idx",
    "read_idx",
    "to_float",
    "write_date",
]
