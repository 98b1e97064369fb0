"""Shared test set-up: a fixed seed for every test, and MNIST's location for the tests that use it."""

import os
from pathlib import Path

import pytest

import glassgrad as gg

MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


@pytest.fixture(autouse=True)
def _seed():
    gg.manual_seed(0)
    yield


@pytest.fixture(autouse=True, scope="session")
def _real_mnist():
    """Labs and tests read the real MNIST files shipped beside the project (no download)."""
    if MNIST_DIR.is_dir():
        os.environ.setdefault("GLASSGRAD_DATA", str(MNIST_DIR))
    yield
