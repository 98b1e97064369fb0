"""Utilities around the core library: data loading (``glassgrad.utils.data``)."""

from glassgrad.utils import data

__all__ = ["data"]
