"""``DataLoader``: iterate over a dataset in (shuffled) mini-batches.

An epoch is: the sampler gives an order of indices, the batch sampler cuts it into batches, and
each batch of samples is fetched and collated into tensors. For a ``TensorDataset`` (or a
``Subset`` of one) with the default collate, a batch is taken with one fancy index per tensor
instead of one ``__getitem__`` per sample, so loading in-memory data costs microseconds per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from glassgrad._random import Generator
from glassgrad.utils.data._checks import generator_or_default, non_negative_int, positive_int
from glassgrad.utils.data.collate import default_collate, default_convert
from glassgrad.utils.data.dataset import Subset, TensorDataset, TransformDataset
from glassgrad.utils.data.sampler import BatchSampler, RandomSampler, SequentialSampler


def _batch_fetcher(dataset) -> Callable[[np.ndarray], list] | None:
    """A function from an int64 index array to the collated batch, for datasets that can take a
    whole batch at once (TensorDataset, Subsets of it and TransformDatasets of those whose
    transforms have a ``batch`` method, unless a subclass changes __getitem__);
    None for any other dataset."""
    if isinstance(dataset, TensorDataset) and type(dataset).__getitem__ is TensorDataset.__getitem__:
        return dataset.fetch_batch
    if isinstance(dataset, Subset) and type(dataset).__getitem__ is Subset.__getitem__:
        inner = _batch_fetcher(dataset.dataset)
        if inner is not None:
            to_inner = np.asarray(dataset.indices, dtype=np.int64)
            return lambda indices: inner(to_inner[indices])
    if isinstance(dataset, TransformDataset) and type(dataset).__getitem__ is TransformDataset.__getitem__ \
            and dataset.transforms_batches():
        inner = _batch_fetcher(dataset.dataset)
        if inner is not None:
            return lambda indices: dataset.transform_batch(inner(indices))
    return None


class DataLoader:
    """Batches of ``dataset``: ``batch_size`` samples each, in order or reshuffled every epoch
    (``shuffle=True``, drawing from ``generator``, or the default generator if None), collated
    by ``collate_fn`` (``default_collate`` stacks them into tensors).

    ``drop_last`` drops the last, incomplete batch. ``sampler`` (an order of indices) or
    ``batch_sampler`` (batches of indices) replace the built-in order. ``batch_size=None`` turns
    batching off: samples come one by one. ``num_workers`` and ``pin_memory`` are accepted for
    PyTorch compatibility; loading always happens in the calling process.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None, sampler=None,
                 batch_sampler=None, num_workers: int = 0, collate_fn: Callable | None = None,
                 pin_memory: bool = False, drop_last: bool = False, generator: Generator | None = None):
        if not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: dataset should support dataset[index] (a map-style dataset), "
                            f"got {type(dataset).__name__}")
        if shuffle is None:
            shuffle = False
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last), ("pin_memory", pin_memory)):
            if not isinstance(flag, bool):
                raise TypeError(f"DataLoader: {name} should be a bool, got {flag!r}")
        if batch_size is not None:
            positive_int(batch_size, "DataLoader: batch_size")
        self.num_workers = non_negative_int(num_workers, "DataLoader: num_workers")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn should be callable, got {type(collate_fn).__name__}")
        generator_or_default(generator)  # checks the type

        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler already decides the batches, so it cannot be "
                                 "combined with batch_size, shuffle, sampler or drop_last")
            batch_size = None
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None turns batching off, so drop_last cannot be set")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: give either sampler or shuffle=True, not both (the sampler "
                             "decides the order)")
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.pin_memory = pin_memory
        self._default_collate = collate_fn is None or collate_fn is default_collate
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        """The number of batches in an epoch (of samples, when batching is off)."""
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def __iter__(self) -> Iterator:
        if self.batch_sampler is None:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        fetch = _batch_fetcher(self.dataset) if self._default_collate else None
        if isinstance(self.batch_sampler, BatchSampler):
            batches = self.batch_sampler.index_batches()
        else:
            batches = iter(self.batch_sampler)
        for indices in batches:
            if fetch is not None:
                yield fetch(np.asarray(indices, dtype=np.int64))
            else:
                if isinstance(indices, np.ndarray):
                    indices = indices.tolist()
                yield self.collate_fn([self.dataset[i] for i in indices])

    def __repr__(self) -> str:
        return (f"DataLoader(dataset={type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, sampler={type(self.sampler).__name__}, "
                f"drop_last={self.drop_last})")
