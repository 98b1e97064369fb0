"""Map-style datasets: anything with ``__getitem__(i)`` and ``__len__``, and ways to combine and
split them (``Subset``, ``ConcatDataset``, ``random_split``)."""

from __future__ import annotations

import bisect
import itertools
import math
import numbers
from collections.abc import Sequence

import numpy as np

from glassgrad._random import Generator
from glassgrad._tensor import Tensor, as_tensor
from glassgrad.utils.data._checks import generator_or_default, non_negative_int, sized_length


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__(index)`` (one sample)
    and ``__len__`` (the number of samples). ``a + b`` concatenates two datasets."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index)")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the ``index``-th rows of the given tensors: ``(x[i], y[i])``.

    All tensors must have the same first dimension. NumPy arrays are accepted and wrapped without
    a copy. The DataLoader takes whole batches from it with one fancy index per tensor (see
    ``fetch_batch``), instead of collating samples one by one.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        converted = []
        for i, t in enumerate(tensors):
            if isinstance(t, np.ndarray):
                t = as_tensor(t)
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {i} should be a Tensor or a NumPy array, "
                                f"got {type(t).__name__}")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {i} is a 0-d tensor; samples are its rows, "
                                 "so it needs at least one dimension")
            converted.append(t)
        sizes = [t.shape[0] for t in converted]
        if len(set(sizes)) != 1:
            raise ValueError(
                f"TensorDataset: all tensors must have the same size in dimension 0, got {sizes}"
            )
        self.tensors = tuple(converted)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def fetch_batch(self, indices: np.ndarray) -> list[Tensor]:
        """The batch of samples ``indices`` (an int64 array), one tensor per field, stacked as
        ``default_collate`` would stack them (a list, as for tuple samples)."""
        batch = []
        for t in self.tensors:
            if t.requires_grad:  # keep the batch in the graph, as stacking the samples would
                batch.append(t[as_tensor(indices)])
            else:
                batch.append(Tensor._wrap(t._data[indices], False))  # one copy of the chosen rows
        return batch


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class TransformDataset(Dataset):
    """``dataset`` with ``transform`` applied to each sample's input (the first field of a tuple
    sample, or the whole sample) and ``target_transform`` to its target (the second field), as
    they are read: e.g. augmentation of in-memory data,
    ``TransformDataset(TensorDataset(x, y), T.RandomCrop(28, padding=2))``.

    When the DataLoader can take whole batches from ``dataset`` (a TensorDataset) and the
    transforms have a ``batch`` method (glassgrad's do), each batch is transformed at once, one
    random draw per sample, instead of sample by sample."""

    def __init__(self, dataset, transform=None, target_transform=None):
        self.dataset, self.transform, self.target_transform = dataset, transform, target_transform

    def __len__(self) -> int:
        return sized_length(self.dataset, "TransformDataset")

    def __getitem__(self, index):
        sample = self.dataset[index]
        if not isinstance(sample, (tuple, list)):
            return self.transform(sample) if self.transform is not None else sample
        fields = list(sample)
        if self.transform is not None:
            fields[0] = self.transform(fields[0])
        if self.target_transform is not None and len(fields) > 1:
            fields[1] = self.target_transform(fields[1])
        return tuple(fields)

    def transforms_batches(self) -> bool:
        """True when both transforms (those given) can transform a whole batch."""
        return all(t is None or hasattr(t, "batch") for t in (self.transform, self.target_transform))

    def transform_batch(self, batch: list) -> list:
        """A collated batch (a list of fields) with each transform's ``batch`` applied."""
        batch = list(batch)
        if self.transform is not None:
            batch[0] = self.transform.batch(batch[0])
        if self.target_transform is not None and len(batch) > 1:
            batch[1] = self.target_transform.batch(batch[1])
        return batch


class ConcatDataset(Dataset):
    """Datasets one after the other: index ``i`` falls in the first dataset whose cumulative
    length exceeds it."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset, got an empty sequence")
        lengths = [sized_length(d, "ConcatDataset") for d in self.datasets]
        self.cumulative_sizes = list(itertools.accumulate(lengths))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        n = len(self)
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise TypeError(f"ConcatDataset indices must be integers, got {type(index).__name__}")
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of range for a ConcatDataset of {n} samples")
        index = int(index) % n
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]


def _split_lengths(n: int, lengths: Sequence) -> list[int]:
    """Integer lengths from ``lengths``: given as counts summing to ``n``, or as fractions summing
    to 1 (each gets floor(fraction * n); the remainder goes one by one to the first parts)."""
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    if all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in lengths):
        counts = [non_negative_int(x, "random_split: each length") for x in lengths]
        if sum(counts) != n:
            raise ValueError(f"random_split: the lengths {counts} sum to {sum(counts)}, but the dataset "
                             f"has {n} samples")
        return counts
    if all(isinstance(x, numbers.Real) and not isinstance(x, bool) for x in lengths):
        if any(not 0 <= x <= 1 for x in lengths) or not math.isclose(sum(lengths), 1.0, abs_tol=1e-9):
            raise ValueError(f"random_split: fractions must lie in [0, 1] and sum to 1, got {lengths}")
        counts = [int(math.floor(n * x)) for x in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        return counts
    raise TypeError(f"random_split: lengths must be all integers or all fractions, got {lengths}")


def random_split(dataset, lengths: Sequence, generator: Generator | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths (counts, or
    fractions of the dataset such as ``[0.8, 0.2]``). The permutation is drawn from ``generator``
    (the default generator if None), so a seeded split is reproducible."""
    n = sized_length(dataset, "random_split")
    counts = _split_lengths(n, lengths)
    order = generator_or_default(generator).permutation(n).tolist()
    subsets, start = [], 0
    for c in counts:
        subsets.append(Subset(dataset, order[start:start + c]))
        start += c
    return subsets
