"""Shared test set-up: a fixed seed for every test, and MNIST's location for the tests that use it."""

import os
from pathlib import Path

import pytest
import torch

import glassgrad as gg


def _find_mnist_dir() -> Path:
    """shared/data/mnist beside the project (CI's clone, the main checkout) or beside a folder
    above it (a git worktree one level deeper); the first candidate when none exists."""
    candidates = [parent / "shared" / "data" / "mnist" for parent in Path(__file__).resolve().parents[2:]]
    return next((c for c in candidates if c.is_dir()), candidates[0])


MNIST_DIR = _find_mnist_dir()


@pytest.fixture(autouse=True)
def _seed():
    # torch too: a test that draws its data from torch must not depend on which tests ran before
    torch.manual_seed(0)
    gg.manual_seed(0)
    yield


@pytest.fixture(autouse=True, scope="session")
def _real_mnist():
    """Labs and tests read the real MNIST files shipped beside the project (no download)."""
    if MNIST_DIR.is_dir():
        os.environ.setdefault("GLASSGRAD_DATA", str(MNIST_DIR))
    yield
