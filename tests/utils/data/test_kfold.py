"""KFold, checked against scikit-learn's KFold."""

import numpy as np
import pytest
from sklearn.model_selection import KFold as SkKFold

import glassgrad as gg
from glassgrad.utils.data import KFold, Subset, TensorDataset


@pytest.mark.parametrize("n, k", [(10, 2), (10, 3), (11, 5), (5, 5), (103, 10)])
def test_unshuffled_folds_match_sklearn(n, k):
    ours = list(KFold(k).split(n))
    theirs = list(SkKFold(k).split(np.zeros(n)))
    assert len(ours) == len(theirs) == k
    for (tr, va), (str_, sva) in zip(ours, theirs):
        np.testing.assert_array_equal(tr, str_)
        np.testing.assert_array_equal(va, sva)
        assert tr.dtype == va.dtype == np.int64


def test_shuffled_folds_partition_and_are_reproducible():
    n, k = 23, 4
    folds = list(KFold(k, shuffle=True, generator=gg.Generator(1)).split(n))
    vals = np.concatenate([va for _, va in folds])
    assert sorted(vals.tolist()) == list(range(n))
    assert [len(va) for _, va in folds] == [6, 6, 6, 5]
    for tr, va in folds:
        assert sorted(np.concatenate([tr, va]).tolist()) == list(range(n))
    again = list(KFold(k, shuffle=True, generator=gg.Generator(1)).split(n))
    assert all((a[1] == b[1]).all() for a, b in zip(folds, again))
    assert not np.array_equal(vals, np.arange(n))


def test_split_dataset_gives_subsets():
    ds = TensorDataset(gg.arange(10))
    pairs = list(KFold(5).split_dataset(ds))
    assert len(pairs) == 5
    train, val = pairs[1]
    assert isinstance(train, Subset) and isinstance(val, Subset)
    assert val.indices == [2, 3] and len(train) == 8
    assert [val[i][0].item() for i in range(2)] == [2, 3]


def test_kfold_errors():
    with pytest.raises(ValueError, match="at least 2"):
        KFold(1)
    with pytest.raises(ValueError, match="positive integer"):
        KFold(0)
    with pytest.raises(ValueError, match="cannot make 5 folds from 3 samples"):
        list(KFold(5).split(3))
    with pytest.raises(ValueError, match="only matters with shuffle=True"):
        KFold(3, generator=gg.Generator(0))
    with pytest.raises(TypeError, match="needs a dataset with a length"):
        list(KFold(3).split(object()))
