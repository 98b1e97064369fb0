"""K-fold cross-validation: split the indices into ``n_splits`` folds, and let each fold in turn
be the validation set while the others train."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from glassgrad._random import Generator
from glassgrad.utils.data._checks import generator_or_default, positive_int, sized_length
from glassgrad.utils.data.dataset import Subset


class KFold:
    """Indices of ``n_splits`` train/validation splits, as scikit-learn's ``KFold``.

    The n samples are cut into ``n_splits`` consecutive folds (the first ``n % n_splits`` folds
    get one sample more); with ``shuffle=True`` the indices are first permuted by ``generator``
    (the default generator if None). Every sample is in exactly one validation fold.

        for train_idx, val_idx in KFold(5, shuffle=True).split(dataset): ...
        for train_set, val_set in KFold(5).split_dataset(dataset): ...
    """

    def __init__(self, n_splits: int = 5, shuffle: bool = False, generator: Generator | None = None):
        self.n_splits = positive_int(n_splits, "KFold: n_splits")
        if self.n_splits < 2:
            raise ValueError(f"KFold: n_splits should be at least 2 (one fold validates, the others "
                             f"train), got {n_splits}")
        if not isinstance(shuffle, bool):
            raise TypeError(f"KFold: shuffle should be a bool, got {shuffle!r}")
        if generator is not None and not shuffle:
            raise ValueError("KFold: a generator only matters with shuffle=True")
        generator_or_default(generator)
        self.shuffle = shuffle
        self.generator = generator

    def get_n_splits(self) -> int:
        return self.n_splits

    def split(self, data) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_indices, val_indices)`` (int64 arrays) for each fold; ``data`` is a
        dataset (anything with a length) or the number of samples."""
        n = data if isinstance(data, (int, np.integer)) and not isinstance(data, bool) else \
            sized_length(data, "KFold.split")
        if n < self.n_splits:
            raise ValueError(f"KFold: cannot make {self.n_splits} folds from {n} samples "
                             "(each fold needs at least one)")
        order = generator_or_default(self.generator).permutation(n) if self.shuffle else np.arange(n)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        start = 0
        for size in sizes:
            val = order[start:start + size]
            train = np.concatenate([order[:start], order[start + size:]])
            yield train.astype(np.int64), val.astype(np.int64)
            start += size

    def split_dataset(self, dataset) -> Iterator[tuple[Subset, Subset]]:
        """Yield ``(train_subset, val_subset)`` of ``dataset`` for each fold."""
        for train, val in self.split(dataset):
            yield Subset(dataset, train.tolist()), Subset(dataset, val.tolist())
