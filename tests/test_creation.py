"""Creation functions: shapes, dtypes and (where deterministic) values like torch's, and
reproducible random draws under manual_seed."""

import pytest
import torch

import glassgrad as gg


def test_randint_like_torch():
    assert tuple(torch.randint(10, (3,)).shape) == gg.randint(10, (3,)).shape == (3,)
    r = gg.randint(3, 10, (1000,))
    assert r.dtype == gg.int64 and r.numpy().min() == 3 and r.numpy().max() == 9
    r = gg.randint(5, (2, 50))
    assert r.shape == (2, 50) and r.numpy().min() == 0 and r.numpy().max() == 4
    assert gg.randint(0, 2, size=(4,)).shape == (4,)
    with pytest.raises(ValueError, match="low < high"):
        gg.randint(5, 5, (2,))


def test_arange_bad_steps():
    with pytest.raises(ValueError, match="step"):
        gg.arange(0, 5, 0)
    for args in ((3, 1), (0, 5, -1), (1.0, -1.0, 0.5)):
        with pytest.raises(RuntimeError):
            torch.arange(*args)
        with pytest.raises(ValueError, match=r"step.*sign"):
            gg.arange(*args)
