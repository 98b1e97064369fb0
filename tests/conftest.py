"""Shared test set-up: a fixed seed for every test, and MNIST's location for the tests that use it."""

from pathlib import Path

import pytest

import glassgrad as gg

MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


@pytest.fixture(autouse=True)
def _seed():
    gg.manual_seed(0)
    yield
