"""Handwritten digits for the labs: MNIST when it is available, else scikit-learn's 8x8 digits,
flattened to float32 rows in [0, 1], with the fallback said in the lab's report."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

import glassgrad as gg
from glassgrad.labs._lab import LabContext


class DigitData(NamedTuple):
    """Flattened training and test digits (float32 in [0, 1]) and which set they come from."""

    x_train: np.ndarray  # (N, 784) for MNIST, (N, 64) for the 8x8 digits
    y_train: np.ndarray  # (N,) int64
    x_test: np.ndarray
    y_test: np.ndarray
    is_mnist: bool
    name: str  # "MNIST" or "8x8 digits"


def load_digit_data(ctx: LabContext) -> DigitData:
    """MNIST (downloaded if missing and possible), or the 8x8 digits, saying which in the report."""
    train = gg.datasets.load_mnist_or_digits(split="train", download=True)
    if train.is_mnist:  # the test split must then be MNIST's too (an error if it cannot be had)
        test_images, test_labels = gg.datasets.load_mnist(split="test", download=True)
    else:
        test_images, test_labels = gg.datasets.load_digits_fallback("test")

    def rows(images: np.ndarray) -> np.ndarray:
        return (images.reshape(len(images), -1) / np.float32(train.pixel_max)).astype(np.float32)

    name = "MNIST" if train.is_mnist else "8x8 digits"
    ctx.result("dataset", name)
    if not train.is_mnist:
        ctx.write(
            f"**MNIST was not available, so this run uses scikit-learn's 8x8 digits instead** "
            f"({len(train.labels)} training and {len(test_labels)} test images of 8x8 pixels): the "
            "numbers below are for that much smaller set, not for MNIST."
        )
    return DigitData(rows(train.images), train.labels, rows(test_images), test_labels, train.is_mnist, name)
