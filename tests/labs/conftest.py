"""Set-up for the labs' tests: each is marked ``lab`` (so ``-m "not slow and not lab"`` gives a quick
development loop), and the labs read the real MNIST, located as in tests/conftest.py."""

from pathlib import Path

import pytest

from tests.conftest import MNIST_DIR

LABS_TESTS = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items):
    for item in items:
        if LABS_TESTS in item.path.resolve().parents:
            item.add_marker(pytest.mark.lab)


@pytest.fixture
def real_mnist(monkeypatch):
    """Point GLASSGRAD_DATA at the real MNIST when it is on this machine (else the lab finds its own)."""
    if (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        monkeypatch.setenv("GLASSGRAD_DATA", str(MNIST_DIR))
        return MNIST_DIR
    return None


@pytest.fixture
def no_mnist(monkeypatch):
    """Make MNIST unavailable, so that a lab falls back to scikit-learn's 8x8 digits."""
    import glassgrad.datasets.digits as digits

    def missing(*args, **kwargs):
        raise FileNotFoundError("MNIST is hidden for this test")

    monkeypatch.setattr(digits, "load_mnist", missing)
