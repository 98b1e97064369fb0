"""Set-up for the labs' tests: the labs read the real MNIST, located as in tests/conftest.py."""

from pathlib import Path

import pytest

# where tests/conftest.py looks (next to the main checkout), then the shared copy for a worktree elsewhere
_MNIST_CANDIDATES = (Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist",
                     Path("/work/shared/data/mnist"))


@pytest.fixture
def real_mnist(monkeypatch):
    """Point GLASSGRAD_DATA at the real MNIST when it is on this machine (else the lab finds its own)."""
    for folder in _MNIST_CANDIDATES:
        if (folder / "train-images-idx3-ubyte.gz").is_file():
            monkeypatch.setenv("GLASSGRAD_DATA", str(folder))
            return folder
    return None


@pytest.fixture
def no_mnist(monkeypatch):
    """Make MNIST unavailable, so that a lab falls back to scikit-learn's 8x8 digits."""
    import glassgrad.datasets.digits as digits

    def missing(*args, **kwargs):
        raise FileNotFoundError("MNIST is hidden for this test")

    monkeypatch.setattr(digits, "load_mnist", missing)
