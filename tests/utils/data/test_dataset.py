"""Datasets and random_split, checked against torch.utils.data."""

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import glassgrad as gg
from glassgrad.utils.data import ConcatDataset, Dataset, Subset, TensorDataset, random_split


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i

    def __len__(self):
        return self.n


def test_tensor_dataset_rows_and_len():
    x = gg.arange(12.0).reshape(6, 2)
    y = gg.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    xi, yi = ds[4]
    np.testing.assert_array_equal(xi.numpy(), [8.0, 9.0])
    assert yi.item() == 4
    xs, ys = ds[1:3]
    assert xs.shape == (2, 2) and ys.tolist() == [1, 2]


def test_tensor_dataset_accepts_numpy_without_copy():
    a = np.zeros((3, 2), np.float32)
    ds = TensorDataset(a)
    a[1, 0] = 5.0
    assert ds[1][0][0].item() == 5.0


def test_tensor_dataset_fetch_batch_equals_stacked_samples():
    x = gg.randn(10, 3)
    y = gg.randint(0, 4, (10,))
    ds = TensorDataset(x, y)
    idx = np.array([7, 0, 3, 3])
    xb, yb = ds.fetch_batch(idx)
    np.testing.assert_array_equal(xb.numpy(), np.stack([ds[i][0].numpy() for i in idx]))
    np.testing.assert_array_equal(yb.numpy(), [ds[i][1].item() for i in idx])


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match="same size in dimension 0.*\\[3, 4\\]"):
        TensorDataset(gg.zeros(3, 2), gg.zeros(4))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(TypeError, match="argument 1 should be a Tensor or a NumPy array, got list"):
        TensorDataset(gg.zeros(3), [1, 2, 3])
    with pytest.raises(ValueError, match="0-d tensor"):
        TensorDataset(gg.tensor(1.0))


def test_base_dataset_needs_getitem():
    with pytest.raises(NotImplementedError, match="must define __getitem__"):
        Dataset()[0]


def test_subset_and_concat_match_torch():
    ours = Squares(5) + Squares(3)
    theirs = tud.ConcatDataset([[i * i for i in range(5)], [i * i for i in range(3)]])
    assert isinstance(ours, ConcatDataset)
    assert len(ours) == len(theirs) == 8
    assert ours.cumulative_sizes == theirs.cumulative_sizes
    assert [ours[i] for i in range(-8, 8)] == [theirs[i] for i in range(-8, 8)]
    sub = Subset(ours, [7, 2, 5])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [4, 4, 0]
    assert sub[[0, 2]] == [4, 0]


def test_concat_errors():
    ds = ConcatDataset([Squares(2)])
    with pytest.raises(IndexError, match="index 2 is out of range for a ConcatDataset of 2"):
        ds[2]
    with pytest.raises(ValueError, match="at least one dataset"):
        ConcatDataset([])
    with pytest.raises(TypeError, match="needs a dataset with a length"):
        ConcatDataset([object()])


@pytest.mark.filterwarnings("ignore:Length of split")  # torch warns about empty parts
@pytest.mark.parametrize("lengths", [[0.8, 0.2], [0.3, 0.3, 0.4], [1 / 3] * 3, [0.05, 0.95], [0.0, 1.0]])
@pytest.mark.parametrize("n", [1, 7, 10, 101])
def test_random_split_fraction_lengths_match_torch(n, lengths):
    ours = random_split(Squares(n), lengths)
    theirs = tud.random_split(range(n), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]


def test_random_split_partitions_and_is_reproducible():
    parts = random_split(Squares(50), [20, 25, 5], generator=gg.Generator(3))
    indices = [i for p in parts for i in p.indices]
    assert sorted(indices) == list(range(50))
    again = random_split(Squares(50), [20, 25, 5], generator=gg.Generator(3))
    assert [p.indices for p in parts] == [p.indices for p in again]
    other = random_split(Squares(50), [20, 25, 5], generator=gg.Generator(4))
    assert [p.indices for p in parts] != [p.indices for p in other]
    # without a generator it draws from the default one, so manual_seed makes it reproducible
    gg.manual_seed(11)
    a = random_split(Squares(50), [0.5, 0.5])
    gg.manual_seed(11)
    b = random_split(Squares(50), [0.5, 0.5])
    assert a[0].indices == b[0].indices


def test_random_split_errors():
    with pytest.raises(ValueError, match="sum to 9, but the dataset has 10 samples"):
        random_split(Squares(10), [4, 5])
    with pytest.raises(ValueError, match="fractions must lie in \\[0, 1\\] and sum to 1"):
        random_split(Squares(10), [0.5, 0.4])
    with pytest.raises(ValueError, match="non-negative integer"):
        random_split(Squares(10), [-1, 11])
    with pytest.raises(TypeError, match="all integers or all fractions"):
        random_split(Squares(10), [5, "5"])
    with pytest.raises(TypeError, match="glassgrad.Generator"):
        random_split(Squares(10), [5, 5], generator=torch.Generator())
