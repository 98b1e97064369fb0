"""Datasets, samplers and the ``DataLoader`` that turns a dataset into shuffled mini-batches, as
``torch.utils.data``.

    from glassgrad.utils.data import DataLoader, TensorDataset
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    for xb, yb in loader:
        ...
"""

from glassgrad.utils.data.collate import default_collate, default_convert
from glassgrad.utils.data.dataloader import DataLoader
from glassgrad.utils.data.dataset import (
    ConcatDataset,
    Dataset,
    Subset,
    TensorDataset,
    TransformDataset,
    random_split,
)
from glassgrad.utils.data.kfold import KFold
from glassgrad.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
)

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "KFold",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "TransformDataset",
    "default_collate",
    "default_convert",
    "random_split",
]
