"""MNIST on the real files (shared/data/mnist), on damaged copies of them, and downloads from
file:// mirrors. Nothing here touches the network."""

import gzip
import shutil
import urllib.request

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.datasets import MNIST, DownloadError, IDXError, load_mnist, load_mnist_float, to_float
from glassgrad.datasets import mnist as mnist_module
from tests.conftest import MNIST_DIR

NAMES = list(mnist_module.MD5)
_real_urlopen = urllib.request.urlopen


@pytest.fixture(autouse=True)
def _no_network(monkeypatch, tmp_path_factory):
    """Only file:// URLs open, and the default mirrors point nowhere: nothing can download."""

    def local_only(url, *args, **kwargs):
        full = url if isinstance(url, str) else url.full_url
        if not full.startswith("file:"):
            raise AssertionError(f"a test tried to download {full}")
        return _real_urlopen(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", local_only)
    monkeypatch.setattr(mnist_module, "MIRRORS", [tmp_path_factory.mktemp("empty-mirror").as_uri() + "/"])


@pytest.fixture(scope="module")
def mnist_dir():
    if not all((MNIST_DIR / f"{name}.gz").is_file() for name in NAMES):
        pytest.skip(f"the real MNIST files are not in {MNIST_DIR}")
    return MNIST_DIR


@pytest.fixture(scope="module")
def train(mnist_dir):
    return load_mnist(mnist_dir, "train", download=False)


@pytest.fixture
def copied_test_split(mnist_dir, tmp_path):
    """A directory holding copies of the real test-split files, to damage."""
    for name in NAMES[2:]:
        shutil.copy(mnist_dir / f"{name}.gz", tmp_path / f"{name}.gz")
    return tmp_path


def test_train_split_is_real_mnist(train):
    images, labels = train
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.int64
    assert labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    # the normalization constants are the mean and std of the training pixels scaled to [0, 1]
    counts = np.bincount(images.ravel(), minlength=256)
    level = np.arange(256) / 255.0
    mean = (counts * level).sum() / counts.sum()
    std = np.sqrt((counts * (level - mean) ** 2).sum() / counts.sum())
    assert abs(mean - gg.datasets.MNIST_MEAN) < 1e-4 and abs(std - gg.datasets.MNIST_STD) < 1e-4


def test_test_split(mnist_dir):
    images, labels = load_mnist(mnist_dir, "test", download=False)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8 and labels.dtype == np.int64
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_float_helpers(train, mnist_dir):
    images, labels = train
    x = to_float(images[:1000])
    assert x.dtype == np.float32 and x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(x, images[:1000].astype(np.float32) / np.float32(255))
    z = to_float(images, standardize=True)
    assert abs(float(z.mean())) < 1e-3 and abs(float(z.std()) - 1) < 1e-3
    flat, flat_labels = load_mnist_float(mnist_dir, "test", download=False, flatten=True)
    assert flat.shape == (10000, 784) and flat.dtype == np.float32 and flat_labels.dtype == np.int64
    with pytest.raises(TypeError, match="uint8"):
        to_float(x)


def test_dataset_class_gives_image_label_pairs_through_transforms(copied_test_split):
    ds = MNIST(copied_test_split, train=False, download=False)
    assert len(ds) == 10000 and ds.data.shape == (10000, 28, 28) and ds.targets.shape == (10000,)
    image, label = ds[0]
    assert image.shape == (28, 28) and image.dtype == np.uint8 and label == 7 and type(label) is int
    ds = MNIST(copied_test_split, train=False, download=False, transform=lambda im: gg.tensor(im / 255.0),
               target_transform=lambda y: y * 10)
    image, label = ds[1]
    assert isinstance(image, gg.Tensor) and image.shape == (28, 28) and label == 20
    np.testing.assert_allclose(image.numpy(), ds.data[1] / 255.0)


def test_where_files_are_looked_for(copied_test_split, tmp_path, monkeypatch):
    data_root = tmp_path / "data-root"
    shutil.copytree(copied_test_split, data_root / "mnist", ignore=shutil.ignore_patterns("data-root"))
    monkeypatch.setenv("GLASSGRAD_DATA", str(data_root))
    assert gg.datasets.default_root() == data_root / "mnist"
    assert load_mnist(split="test", download=False)[1][0] == 7
    monkeypatch.setenv("GLASSGRAD_DATA", str(data_root / "mnist"))  # or the MNIST folder itself
    assert gg.datasets.default_root() == data_root / "mnist"
    monkeypatch.delenv("GLASSGRAD_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert gg.datasets.default_root() == tmp_path / "home" / ".cache" / "glassgrad" / "mnist"
    with pytest.raises(FileNotFoundError, match=r"t10k-images-idx3-ubyte.*home/.cache/glassgrad/mnist"):
        load_mnist(split="test", download=False)


def test_uncompressed_file_is_preferred_to_gz(copied_test_split):
    labels = copied_test_split / "t10k-labels-idx1-ubyte"
    labels.write_bytes(gzip.decompress((copied_test_split / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    (copied_test_split / "t10k-labels-idx1-ubyte.gz").write_bytes(b"broken")  # would fail if it were read
    assert load_mnist(copied_test_split, "test", download=False)[1][:3].tolist() == [7, 2, 1]


def test_missing_file_without_download_names_it(copied_test_split):
    (copied_test_split / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_mnist(copied_test_split, "test", download=False)


def test_bad_split():
    with pytest.raises(ValueError, match="'train' or 'test'.*'validation'"):
        load_mnist(split="validation")


def _unpacked(directory, name):
    """Replace ``name``.gz by its uncompressed bytes; return them and the new path."""
    data = gzip.decompress((directory / f"{name}.gz").read_bytes())
    (directory / f"{name}.gz").unlink()
    return bytearray(data), directory / name


def damage_truncated_gz(d):
    gz = d / "t10k-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:100_000])
    return gz, "gzip"


def damage_truncated(d):
    data, path = _unpacked(d, "t10k-images-idx3-ubyte")
    path.write_bytes(data[: len(data) - 784])  # one image short
    return path, "truncated"


def damage_magic(d):
    data, path = _unpacked(d, "t10k-images-idx3-ubyte")
    data[0] = 0x01
    path.write_bytes(data)
    return path, "bad magic"


def damage_one_pixel(d):
    data, path = _unpacked(d, "t10k-images-idx3-ubyte")
    data[16 + 400] ^= 0xFF  # valid IDX, wrong content: only the checksum can tell
    path.write_bytes(data)
    return path, "checksum mismatch"


def damage_swapped_files(d):
    shutil.copy(d / "t10k-labels-idx1-ubyte.gz", d / "t10k-images-idx3-ubyte.gz")
    return d / "t10k-images-idx3-ubyte.gz", "checksum mismatch"


@pytest.mark.parametrize(
    "damage", [damage_truncated_gz, damage_truncated, damage_magic, damage_one_pixel, damage_swapped_files]
)
def test_damaged_copy_is_an_error_naming_the_file(copied_test_split, damage):
    path, message = damage(copied_test_split)
    with pytest.raises(IDXError, match=rf"{path}.*{message}"):
        load_mnist(copied_test_split, "test", download=False)


def test_without_checksum_a_wrong_file_is_still_caught(copied_test_split):
    path, _ = damage_swapped_files(copied_test_split)
    with pytest.raises(IDXError, match=rf"{path}: expected uint8 images of shape \(10000, 28, 28\)"):
        load_mnist(copied_test_split, "test", download=False, verify=False)


def test_download_takes_the_first_mirror_with_the_right_file(mnist_dir, tmp_path, monkeypatch):
    wrong = tmp_path / "wrong-mirror"
    wrong.mkdir()
    for name in NAMES:
        (wrong / f"{name}.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x01\x07"))
    missing = tmp_path / "missing-mirror"
    monkeypatch.setattr(mnist_module, "MIRRORS", [missing.as_uri() + "/", wrong.as_uri() + "/",
                                                  mnist_dir.as_uri() + "/"])
    root = tmp_path / "cache" / "mnist"
    images, labels = load_mnist(root, "test")  # download=True is the default
    assert images.shape == (10000, 28, 28) and labels[:3].tolist() == [7, 2, 1]
    assert sorted(p.name for p in root.iterdir()) == [f"{name}.gz" for name in NAMES[2:]]
    assert gg.datasets.download_mnist(root) == root  # fetches the two training files
    assert sorted(p.name for p in root.iterdir()) == sorted(f"{n}.gz" for n in NAMES)


def test_download_keeps_nothing_when_no_mirror_has_the_right_file(tmp_path, monkeypatch):
    wrong = tmp_path / "wrong-mirror"
    wrong.mkdir()
    for name in NAMES:
        (wrong / f"{name}.gz").write_bytes(b"not even gzip")
    monkeypatch.setattr(mnist_module, "MIRRORS", [wrong.as_uri() + "/"])
    root = tmp_path / "cache"
    with pytest.raises(DownloadError, match=r"t10k-images-idx3-ubyte(.|\n)*wrong-mirror"):
        load_mnist(root, "test")
    assert list(root.iterdir()) == []
