"""DataLoader: batching, shuffling, reproducibility, the TensorDataset fast path, and argument
errors; batch contents and len() are checked against torch's DataLoader."""

import numpy as np
import pytest
import torch
import torch.utils.data as tud
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
)


def ids_dataset(n):
    """Row i of x is (i, -i), so a batch tells which samples it holds."""
    i = np.arange(n)
    return TensorDataset(gg.tensor(np.stack([i, -i], 1).astype(np.float32)), gg.tensor(i))


def epoch_ids(loader):
    return [yb.tolist() for _, yb in loader]


class DictDataset(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return {"x": np.full(3, i, np.float32), "id": i}

    def __len__(self):
        return self.n


@pytest.mark.parametrize("n", [1, 10, 64, 65, 1000])
@pytest.mark.parametrize("batch_size", [1, 3, 64])
@pytest.mark.parametrize("drop_last", [False, True])
def test_len_matches_torch(n, batch_size, drop_last):
    ours = DataLoader(ids_dataset(n), batch_size=batch_size, drop_last=drop_last)
    theirs = tud.DataLoader(range(n), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs) == len(list(ours))


def test_sequential_batches_match_torch():
    x = np.random.default_rng(0).standard_normal((23, 4)).astype(np.float32)
    y = np.arange(23)
    ours = list(DataLoader(TensorDataset(gg.tensor(x), gg.tensor(y)), batch_size=5))
    theirs = list(tud.DataLoader(tud.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=5))
    assert len(ours) == len(theirs)
    for (xa, ya), (xb, yb) in zip(ours, theirs):
        assert isinstance(xa, gg.Tensor) and xa.dtype == gg.float32 and ya.dtype == gg.int64
        np.testing.assert_array_equal(xa.numpy(), xb.numpy())
        np.testing.assert_array_equal(ya.numpy(), yb.numpy())


def test_shuffle_sees_every_sample_once_and_reshuffles():
    loader = DataLoader(ids_dataset(100), batch_size=7, shuffle=True, generator=gg.Generator(0))
    first, second = epoch_ids(loader), epoch_ids(loader)
    for epoch in (first, second):
        flat = [i for batch in epoch for i in batch]
        assert sorted(flat) == list(range(100))
        assert [len(b) for b in epoch] == [7] * 14 + [2]
    assert first != second
    assert [i for b in first for i in b] != list(range(100))


def test_same_seed_same_batches():
    def run(seed, use_default):
        if use_default:
            gg.manual_seed(seed)
            loader = DataLoader(ids_dataset(50), batch_size=8, shuffle=True)
        else:
            gg.manual_seed(1234)  # the default generator must not matter here
            loader = DataLoader(ids_dataset(50), batch_size=8, shuffle=True, generator=gg.Generator(seed))
        return epoch_ids(loader) + epoch_ids(loader)

    for use_default in (False, True):
        assert run(5, use_default) == run(5, use_default)
        assert run(5, use_default) != run(6, use_default)


def test_generator_state_restores_the_order():
    g = gg.Generator(3)
    loader = DataLoader(ids_dataset(30), batch_size=4, shuffle=True, generator=g)
    epoch_ids(loader)
    state = g.get_state()
    expected = epoch_ids(loader)
    g.set_state(state)
    assert epoch_ids(loader) == expected


def test_drop_last():
    loader = DataLoader(ids_dataset(10), batch_size=4, shuffle=True, drop_last=True)
    batches = epoch_ids(loader)
    assert len(loader) == len(batches) == 2 and all(len(b) == 4 for b in batches)
    flat = [i for b in batches for i in b]
    assert len(set(flat)) == 8


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 60), batch_size=st.integers(1, 70), drop_last=st.booleans(), shuffle=st.booleans())
def test_every_sample_exactly_once(n, batch_size, drop_last, shuffle):
    loader = DataLoader(ids_dataset(n), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)
    batches = epoch_ids(loader)
    assert len(batches) == len(loader)
    flat = [i for b in batches for i in b]
    expected = n - n % batch_size if drop_last else n
    assert len(flat) == len(set(flat)) == expected
    assert set(flat) <= set(range(n))
    if not shuffle:
        assert flat == list(range(expected))


def test_fast_path_equals_sample_by_sample_collate():
    ds = TensorDataset(gg.randn(37, 3, 2), gg.randint(0, 5, (37,)), gg.rand(37))
    fast = DataLoader(ds, batch_size=6, shuffle=True, generator=gg.Generator(9))
    slow = DataLoader(ds, batch_size=6, shuffle=True, generator=gg.Generator(9),
                      collate_fn=lambda samples: default_collate(samples))
    for a, b in zip(fast, slow, strict=True):
        assert isinstance(a, list) and len(a) == len(b) == 3
        for ta, tb in zip(a, b):
            assert ta.dtype == tb.dtype
            np.testing.assert_array_equal(ta.numpy(), tb.numpy())


def test_subset_of_tensor_dataset_uses_its_indices():
    ds = ids_dataset(20)
    sub = Subset(ds, [3, 17, 5, 11, 0])
    assert epoch_ids(DataLoader(sub, batch_size=2)) == [[3, 17], [5, 11], [0]]
    nested = Subset(sub, [4, 1])
    assert epoch_ids(DataLoader(nested, batch_size=5)) == [[0, 17]]


def test_subclass_getitem_is_respected():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y

    xb, _ = next(iter(DataLoader(Doubled(gg.ones(4, 2), gg.arange(4)), batch_size=4)))
    np.testing.assert_array_equal(xb.numpy(), np.full((4, 2), 2.0))


def test_generic_dataset_dict_samples():
    batches = list(DataLoader(DictDataset(5), batch_size=2))
    assert len(batches) == 3
    assert batches[0]["x"].shape == (2, 3) and batches[0]["id"].tolist() == [0, 1]
    assert batches[2]["id"].tolist() == [4]


def test_batch_size_none_gives_samples():
    loader = DataLoader(DictDataset(3), batch_size=None)
    samples = list(loader)
    assert len(loader) == 3 and isinstance(samples[1]["x"], gg.Tensor) and samples[1]["id"] == 1


def test_custom_sampler_batch_sampler_and_collate():
    ds = ids_dataset(10)
    loader = DataLoader(ds, batch_size=3, sampler=[9, 8, 7, 6])
    assert epoch_ids(loader) == [[9, 8, 7], [6]]
    loader = DataLoader(ds, batch_sampler=[[1, 2], [5]])
    assert epoch_ids(loader) == [[1, 2], [5]]
    loader = DataLoader(ds, batch_sampler=BatchSampler(SequentialSampler(ds), 4, drop_last=True))
    assert epoch_ids(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    loader = DataLoader(ds, batch_size=5, collate_fn=lambda samples: len(samples))
    assert list(loader) == [5, 5]
    sampler = SubsetRandomSampler([2, 4, 6], generator=gg.Generator(0))
    assert sorted(i for b in epoch_ids(DataLoader(ds, batch_size=2, sampler=sampler)) for i in b) == [2, 4, 6]
    assert list(BatchSampler(iter(range(5)), 2, drop_last=False)) == [[0, 1], [2, 3], [4]]


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "64"])
def test_bad_batch_size(bad):
    with pytest.raises(ValueError, match=f"batch_size should be a positive integer, got {bad!r}"):
        DataLoader(ids_dataset(4), batch_size=bad)


def test_bad_arguments():
    ds = ids_dataset(4)
    with pytest.raises(TypeError, match="shuffle should be a bool, got 'yes'"):
        DataLoader(ds, shuffle="yes")
    with pytest.raises(TypeError, match="drop_last should be a bool"):
        DataLoader(ds, drop_last=1)
    with pytest.raises(ValueError, match="either sampler or shuffle=True"):
        DataLoader(ds, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="cannot be combined with batch_size"):
        DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="cannot be combined"):
        DataLoader(ds, batch_sampler=[[0]], drop_last=True)
    with pytest.raises(ValueError, match="batch_size=None turns batching off"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_workers should be a non-negative integer, got -1"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(TypeError, match="collate_fn should be callable"):
        DataLoader(ds, collate_fn=3)
    with pytest.raises(TypeError, match="glassgrad.Generator or None, got int"):
        DataLoader(ds, shuffle=True, generator=3)
    with pytest.raises(TypeError, match="map-style dataset"):
        DataLoader(5)
    with pytest.raises(ValueError, match="num_samples can only be given with replacement=True"):
        gg.utils.data.RandomSampler(ds, num_samples=3)


def test_num_workers_accepted():
    loader = DataLoader(ids_dataset(6), batch_size=4, num_workers=2, pin_memory=True)
    assert epoch_ids(loader) == [[0, 1, 2, 3], [4, 5]]


def test_random_sampler_with_replacement():
    sampler = gg.utils.data.RandomSampler(ids_dataset(5), replacement=True, num_samples=50,
                                          generator=gg.Generator(0))
    draws = list(sampler)
    assert len(sampler) == len(draws) == 50 and set(draws) <= set(range(5)) and len(set(draws)) == 5
