"""Set-up for the labs' tests: each is marked ``lab`` (so ``-m "not slow and not lab"`` gives a quick
development loop), and the labs read the real MNIST, located as in tests/conftest.py."""

import os
from pathlib import Path

import pytest

from glassgrad.labs import get_lab
from glassgrad.labs._parallel import run_labs
from tests.conftest import MNIST_DIR

# The labs whose quick run takes more than 20 s, longest first: their tests share one run of
# them side by side, one worker process per core (as `glassgrad course` runs them), which
# takes about as long as the longest alone instead of their sum.
LONG_LABS = ("transformer", "gan", "self-attention")

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


@pytest.fixture(scope="session")
def long_lab_runs(tmp_path_factory) -> dict:
    """The quick run (seed 0) of each of ``LONG_LABS``, by name, on the real MNIST when it is here."""
    with pytest.MonkeyPatch.context() as mp:
        if (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
            mp.setenv("GLASSGRAD_DATA", str(MNIST_DIR))
        labs = [get_lab(name) for name in LONG_LABS]
        results = run_labs(labs, tmp_path_factory.mktemp("long-labs"), [0], progress=False,
                           jobs=max(1, min(len(labs), os.cpu_count() or 1)))
    return {r.name: r for r in results}
