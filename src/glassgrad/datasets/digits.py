"""The offline fallback for MNIST: scikit-learn's bundled 8x8 digits.

scikit-learn ships 1,797 handwritten digits (from the UCI "Optical Recognition of Handwritten
Digits" set) inside its package, as 8x8 images with pixel values 0..16. They are small, but they
are real digits, and they are always there, even with no internet and no MNIST files.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

from glassgrad.datasets.mnist import DownloadError, default_root, load_mnist

DIGITS_TRAIN_SIZE = 1437  # the first 80% of the 1,797 digits; the last 360 are the test split


def load_digits_fallback(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits: ``images`` (N, 8, 8) uint8 in 0..16 and ``labels`` (N,) int64.

    ``split`` 'train' gives the first 1,437 digits, 'test' the last 360, 'all' all 1,797; the
    split is fixed, so results are comparable from run to run.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"load_digits_fallback: split must be 'train', 'test' or 'all', got {split!r}")
    from sklearn.datasets import load_digits  # imported here: scikit-learn takes a while to import

    bunch = load_digits()
    images = bunch.images.astype(np.uint8)  # the values are whole numbers 0..16 stored as float64
    labels = bunch.target.astype(np.int64)
    part = {"train": slice(0, DIGITS_TRAIN_SIZE), "test": slice(DIGITS_TRAIN_SIZE, None), "all": slice(None)}
    return images[part[split]], labels[part[split]]


class MNISTFallbackWarning(UserWarning):
    """MNIST's files were missing (or could not be downloaded), so the 8x8 digits stand in.

    Its own category so that a program can show it its own way or silence it (the ``glassgrad``
    command prints it once, as one line, and ``--quiet`` hides it)."""


class DigitImages(NamedTuple):
    """Images and labels of handwritten digits, and which set they come from."""

    images: np.ndarray  # (N, H, W) uint8, 0..pixel_max
    labels: np.ndarray  # (N,) int64, 0..9
    is_mnist: bool  # False: the 8x8 scikit-learn digits stand in for MNIST
    pixel_max: int  # 255 for MNIST, 16 for the 8x8 digits: divide by it to get [0, 1]
    message: str


def load_mnist_or_digits(
    root: str | Path | None = None, split: str = "train", download: bool = False
) -> DigitImages:
    """MNIST's ``split`` if its files are available (downloading them only if ``download``),
    else scikit-learn's 8x8 digits, with ``is_mnist=False`` and a warning saying so.

    Only missing files (or a failed download) make it fall back: a damaged MNIST file is still an
    error, since silently training on other data would hide it.
    """
    try:
        images, labels = load_mnist(root, split, download=download)
    except (FileNotFoundError, DownloadError) as err:
        where = Path(root).expanduser() if root is not None else default_root()
        why = f"could not download it into {where}" if isinstance(err, DownloadError) else f"not found in {where}"
        # One line, the same for every split and caller, so that a program warned five times can
        # show it once; the download's per-mirror failures stay in the exception, not the warning.
        warning = (f"MNIST is not available ({why}); using scikit-learn's 8x8 digits instead. "
                   "Set GLASSGRAD_DATA to a folder with MNIST's files to use MNIST.")
        warnings.warn(MNISTFallbackWarning(warning), stacklevel=2)
        message = (
            f"MNIST is not available ({why}); using scikit-learn's 8x8 digits instead "
            f"(split {split!r}: {'1,437' if split == 'train' else '360'} images of 8x8 pixels, 0..16)"
        )
        images, labels = load_digits_fallback(split)
        return DigitImages(images, labels, False, 16, message)
    message = f"MNIST {split}: {len(labels)} images of 28x28 pixels, 0..255"
    return DigitImages(images, labels, True, 255, message)
