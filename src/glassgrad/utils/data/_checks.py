"""Argument checks shared by the data utilities, so every bad argument gets the same clear message."""

from __future__ import annotations

import numbers

from glassgrad._random import Generator, _generator_of


def positive_int(value, what: str) -> int:
    """``value`` as an int, or a ValueError saying that ``what`` must be a positive integer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{what} should be a positive integer, got {value!r}")
    return int(value)


def non_negative_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{what} should be a non-negative integer, got {value!r}")
    return int(value)


def sized_length(dataset, who: str) -> int:
    """``len(dataset)``, or a TypeError saying that ``who`` needs a dataset with a length."""
    try:
        return len(dataset)
    except TypeError:
        raise TypeError(
            f"{who} needs a dataset with a length (a __len__ method); got {type(dataset).__name__}"
        ) from None


def generator_or_default(generator):
    """The generator to draw from: ``generator``, or glassgrad's default generator if None."""
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"generator should be a glassgrad.Generator or None, got {type(generator).__name__}")
    return _generator_of(generator)
