"""MNIST: 70,000 handwritten digits (LeCun, Cortes, Burges), 28x28 grey pixels, labels 0-9.

Where the files are looked for, first match wins:

1. the ``root`` argument: a directory holding the four IDX files;
2. the directory named by the environment variable ``GLASSGRAD_DATA``, if it holds the files,
   else its ``mnist`` subdirectory (so it may point at MNIST itself or at a folder of data sets);
3. ``~/.cache/glassgrad/mnist``.

Each file may be gzipped (``train-images-idx3-ubyte.gz``) or not. When the files are missing and
``download=True``, they are downloaded once into that directory from the first mirror that
answers, and kept only if the MD5 of their uncompressed content matches the published value.
The same checksum is verified on every load (about 0.2 s for the whole training set), so a
damaged or wrong file is an error naming it, never garbage data.

The data's license is Creative Commons Attribution-Share Alike 3.0.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from glassgrad.datasets._idx import IDXError, md5_hex, read_idx

# split -> (images file, labels file, number of examples)
SPLITS: dict[str, tuple[str, str, int]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60000),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10000),
}

# MD5 of the uncompressed files, as published with the original set.
MD5: dict[str, str] = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}

# Tried in order; each serves the four files gzipped, as ``<mirror><name>.gz``.
MIRRORS: list[str] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]

# Mean and standard deviation of the training pixels once scaled to [0, 1] (the usual constants).
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

DOWNLOAD_TIMEOUT_S = 60


class DownloadError(RuntimeError):
    """No mirror gave a file with the right checksum (offline, mirrors down, or damaged downloads)."""


def default_root() -> Path:
    """The directory MNIST is read from when no ``root`` is given (see the module docstring)."""
    data_root = os.environ.get("GLASSGRAD_DATA")
    if data_root:
        root = Path(data_root).expanduser()
        holds_mnist = any(find_file(root, name) for name in MD5)
        return root if holds_mnist else root / "mnist"
    return Path.home() / ".cache" / "glassgrad" / "mnist"


def find_file(root: Path, name: str) -> Path | None:
    """The path of ``name`` in ``root``, uncompressed preferred to ``.gz``; None if neither exists."""
    for candidate in (root / name, root / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _fetch(name: str, root: Path, mirrors: list[str]) -> Path:
    """Download ``name``.gz into ``root`` from the first mirror that gives the right file."""
    import urllib.error  # imported here: urllib.request alone adds ~12 ms to `import glassgrad`
    import urllib.request

    root.mkdir(parents=True, exist_ok=True)
    failures = []
    for mirror in mirrors:
        url = f"{mirror}{name}.gz"
        fd, tmp_name = tempfile.mkstemp(dir=root, prefix=f".{name}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp:
                shutil.copyfileobj(resp, out)
            got = md5_hex(gzip.decompress(tmp.read_bytes()))
            if got != MD5[name]:
                raise IDXError(f"MD5 of the uncompressed content is {got}, expected {MD5[name]}")
            target = root / f"{name}.gz"
            tmp.replace(target)  # atomic: a reader never sees half a file
            return target
        except (urllib.error.URLError, OSError, EOFError, zlib.error, IDXError) as err:
            failures.append(f"  {url}: {err}")
        finally:
            tmp.unlink(missing_ok=True)
    raise DownloadError(f"could not download MNIST file {name!r} into {root}; tried:\n" + "\n".join(failures))


def download_mnist(root: str | Path | None = None, mirrors: list[str] | None = None) -> Path:
    """Make sure the four MNIST files are in ``root`` (default: :func:`default_root`), downloading
    the missing ones; return the directory."""
    root = Path(root).expanduser() if root is not None else default_root()
    for name in MD5:
        if find_file(root, name) is None:
            _fetch(name, root, MIRRORS if mirrors is None else mirrors)
    return root


def load_mnist(
    root: str | Path | None = None, split: str = "train", download: bool = True, verify: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's ``split`` ('train': 60,000 examples, 'test': 10,000) as NumPy arrays.

    Returns ``images`` of shape (N, 28, 28), uint8 in 0..255, and ``labels`` of shape (N,), int64
    in 0..9. ``verify`` checks each file's MD5 against the published one. Raises
    ``FileNotFoundError`` when a file is missing and ``download`` is False, and
    :class:`~glassgrad.datasets.IDXError` for a truncated, damaged or wrong file.
    """
    if split not in SPLITS:
        raise ValueError(f"load_mnist: split must be 'train' or 'test', got {split!r}")
    root = Path(root).expanduser() if root is not None else default_root()
    images_name, labels_name, n = SPLITS[split]
    paths = []
    for name in (images_name, labels_name):
        path = find_file(root, name)
        if path is None:
            if not download:
                raise FileNotFoundError(
                    f"MNIST file {name}(.gz) not found in {root}; pass download=True, or point root= "
                    "(or the GLASSGRAD_DATA environment variable) to a directory that has it"
                )
            path = _fetch(name, root, MIRRORS)
        paths.append(path)
    images, labels = (read_idx(p, MD5[name] if verify else None) for p, name in zip(paths, SPLITS[split]))
    # The checksum already pins the content; these checks guard verify=False against a wrong file.
    if images.dtype != np.uint8 or images.shape != (n, 28, 28):
        raise IDXError(f"{paths[0]}: expected uint8 images of shape {(n, 28, 28)}, got {images.dtype} "
                       f"{images.shape}")
    if labels.dtype != np.uint8 or labels.shape != (n,):
        raise IDXError(f"{paths[1]}: expected {n} uint8 labels, got {labels.dtype} {labels.shape}")
    if labels.max() > 9:
        raise IDXError(f"{paths[1]}: labels must be digits 0..9, found {int(labels.max())}")
    return images, labels.astype(np.int64)


def to_float(images: np.ndarray, standardize: bool = False) -> np.ndarray:
    """uint8 pixels as float32 in [0, 1], i.e. ``x / 255``; with ``standardize``, also
    ``(x / 255 - MNIST_MEAN) / MNIST_STD`` so that the training pixels have mean 0, std 1."""
    if images.dtype != np.uint8:
        raise TypeError(f"to_float: expected uint8 pixels (0..255), got dtype {images.dtype}")
    x = images.astype(np.float32) / np.float32(255)
    if standardize:
        x = (x - np.float32(MNIST_MEAN)) / np.float32(MNIST_STD)
    return x


def load_mnist_float(
    root: str | Path | None = None,
    split: str = "train",
    download: bool = True,
    flatten: bool = False,
    standardize: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`load_mnist` with float32 images (see :func:`to_float`), shaped (N, 784) if ``flatten``."""
    images, labels = load_mnist(root, split, download)
    x = to_float(images, standardize)
    return (x.reshape(len(x), -1) if flatten else x), labels


class MNIST:
    """MNIST as a map-style dataset: ``dataset[i]`` is ``(image, label)``.

    ``image`` is the (28, 28) uint8 array, passed through ``transform`` if given; ``label`` is an
    int, passed through ``target_transform`` if given. ``data`` and ``targets`` hold all the
    images (N, 28, 28) and labels (N,). ``train`` picks the 60,000 training or the 10,000 test
    examples; ``root`` and ``download`` are as in :func:`load_mnist`.
    """

    def __init__(
        self,
        root: str | Path | None = None,
        train: bool = True,
        transform: Callable[[np.ndarray], Any] | None = None,
        target_transform: Callable[[int], Any] | None = None,
        download: bool = True,
    ):
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self.data, self.targets = load_mnist(root, "train" if train else "test", download)

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, label = self.data[index], int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def __repr__(self) -> str:
        return f"MNIST(split={'train' if self.train else 'test'!r}, size={len(self)})"


__all__ = [
    "MD5",
    "MIRRORS",
    "MNIST",
    "MNIST_MEAN",
    "MNIST_STD",
    "DownloadError",
    "SPLITS",
    "default_root",
    "download_mnist",
    "load_mnist",
    "load_mnist_float",
    "to_float",
]
