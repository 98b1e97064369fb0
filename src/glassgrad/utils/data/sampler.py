"""Samplers decide the order in which a DataLoader visits a dataset's indices.

Each sampler can give a whole epoch's order as one int64 array (``index_array``), which is how
``BatchSampler`` cuts batches without a Python loop over single indices; iterating a sampler
yields Python ints, as in PyTorch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from glassgrad._random import Generator
from glassgrad.utils.data._checks import generator_or_default, positive_int, sized_length


class Sampler:
    """Base class: subclasses define ``__iter__`` (indices of one epoch) and usually ``__len__``.
    Defining ``index_array()`` instead gives both, and lets batches be cut from one array."""

    def index_array(self) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__ or index_array()")

    def __iter__(self) -> Iterator[int]:
        return iter(self.index_array().tolist())


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1, in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def index_array(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A new random permutation of the indices every epoch (or ``num_samples`` draws with
    replacement), drawn from ``generator`` (the default generator if None)."""

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator: Generator | None = None):
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a bool, got {replacement!r}")
        if num_samples is not None:
            positive_int(num_samples, "RandomSampler: num_samples")
            if not replacement:
                raise ValueError("RandomSampler: num_samples can only be given with replacement=True "
                                 "(without replacement, an epoch is one permutation of the dataset)")
        generator_or_default(generator)  # check the type now rather than at the first epoch
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def index_array(self) -> np.ndarray:
        g = generator_or_default(self.generator)
        n = len(self.data_source)
        if self.replacement:
            if n == 0:
                raise ValueError("RandomSampler: cannot draw with replacement from an empty dataset")
            return g.integers(0, n, (self.num_samples,))
        return g.permutation(n)

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a new random order every epoch."""

    def __init__(self, indices: Sequence[int], generator: Generator | None = None):
        generator_or_default(generator)
        self.indices = indices
        self.generator = generator

    def index_array(self) -> np.ndarray:
        order = generator_or_default(self.generator).permutation(len(self.indices))
        return np.asarray(self.indices, dtype=np.int64)[order]

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``; the last, smaller batch is
    dropped if ``drop_last``."""

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        self.sampler = sampler
        self.batch_size = positive_int(batch_size, "BatchSampler: batch_size")
        if not isinstance(drop_last, bool):
            raise TypeError(f"BatchSampler: drop_last should be a bool, got {drop_last!r}")
        self.drop_last = drop_last

    def index_batches(self) -> Iterator:
        """The batches of one epoch: int64 arrays cut from one array when the sampler can give its
        whole order at once (the DataLoader's fast path), else lists of the sampler's indices."""
        b = self.batch_size
        if isinstance(self.sampler, Sampler) and type(self.sampler).__iter__ is Sampler.__iter__:
            order = self.sampler.index_array()
            n = len(order)
            stop = n - n % b if self.drop_last else n
            for start in range(0, stop, b):
                yield order[start:start + b]
            return
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == b:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __iter__(self) -> Iterator[list]:
        for batch in self.index_batches():
            yield batch.tolist() if isinstance(batch, np.ndarray) else batch

    def __len__(self) -> int:
        n = sized_length(self.sampler, "BatchSampler's len()")
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
