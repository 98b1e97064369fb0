"""The offline fallback: scikit-learn's 8x8 digits, and the MNIST-or-digits chooser."""

import shutil

import numpy as np
import pytest
from sklearn.datasets import load_digits

from glassgrad.datasets import IDXError, load_digits_fallback, load_mnist_or_digits
from glassgrad.datasets import mnist as mnist_module
from tests.conftest import MNIST_DIR


@pytest.fixture(autouse=True)
def _mirrors_point_nowhere(monkeypatch, tmp_path_factory):
    monkeypatch.setattr(mnist_module, "MIRRORS", [tmp_path_factory.mktemp("empty-mirror").as_uri() + "/"])


def test_digits_splits_cover_the_bundled_set_in_order():
    reference = load_digits()
    images, labels = load_digits_fallback("all")
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8 and labels.dtype == np.int64
    np.testing.assert_array_equal(images, reference.images)  # whole numbers: the cast loses nothing
    np.testing.assert_array_equal(labels, reference.target)
    train_x, train_y = load_digits_fallback("train")
    test_x, test_y = load_digits_fallback("test")
    assert len(train_y) == 1437 and len(test_y) == 360
    np.testing.assert_array_equal(np.concatenate([train_x, test_x]), images)
    assert images.max() == 16 and set(np.unique(labels)) == set(range(10))
    with pytest.raises(ValueError, match="'train', 'test' or 'all'"):
        load_digits_fallback("valid")


def test_falls_back_to_digits_with_a_warning_when_mnist_is_missing(tmp_path):
    with pytest.warns(UserWarning, match="MNIST is not available.*8x8 digits"):
        result = load_mnist_or_digits(tmp_path, "test")
    assert not result.is_mnist and result.pixel_max == 16
    assert result.images.shape == (360, 8, 8) and "8x8 digits" in result.message
    with pytest.warns(UserWarning, match="could not download"):  # a failed download falls back too
        assert not load_mnist_or_digits(tmp_path, "train", download=True).is_mnist


def test_gives_mnist_when_its_files_are_there(tmp_path):
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"the real MNIST files are not in {MNIST_DIR}")
    result = load_mnist_or_digits(MNIST_DIR, "test")
    assert result.is_mnist and result.pixel_max == 255 and result.images.shape == (10000, 28, 28)
    # a damaged MNIST file is an error, not a reason to train on other data
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(MNIST_DIR / name, tmp_path / name)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"garbage")
    with pytest.raises(IDXError, match="t10k-labels-idx1-ubyte.gz"):
        load_mnist_or_digits(tmp_path, "test")
