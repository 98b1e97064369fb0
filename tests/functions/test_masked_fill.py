"""masked_fill where the mask is larger than the input: PyTorch's out-of-place masked_fill
broadcasts the input up to the mask's shape, and the gradient is summed back to the input's
shape. Also a 0-dim tensor value (which gets a gradient), dtypes and errors."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from tests.oracle import ORACLE, check, seeds, shapes, uniform


@ORACLE
@given(shape=shapes(min_dims=0, max_dims=3), data=st.data(), seed=seeds)
def test_input_broadcasts_up_to_the_mask(shape, data, seed):
    rng = np.random.default_rng(seed)
    # the input has some of the mask's dims as 1, and may lack its leading dims
    xshape = tuple(1 if data.draw(st.booleans()) else s for s in shape)
    xshape = xshape[data.draw(st.integers(0, len(shape)), label="dropped leading dims"):]
    x = uniform(rng, xshape)
    mask = rng.random(shape) < 0.5
    value = data.draw(st.sampled_from([0.0, 2.5, float("-inf")]), label="value")
    check(lambda m, t: m.masked_fill(t * t, m.tensor(mask), value), [x], exact=True, seed=seed)
    check(lambda m, t: (t * t).masked_fill(m.tensor(mask), value), [x], exact=True, seed=seed)


def test_the_reported_case():
    x = gg.ones(3, requires_grad=True)
    mask = gg.tensor([[True, False, True]] * 2)
    y = gg.masked_fill(x, mask, 0.5)
    assert y.shape == (2, 3) and y.tolist() == [[0.5, 1.0, 0.5]] * 2
    (y * gg.arange(6.0).reshape(2, 3)).sum().backward()
    assert x.grad.tolist() == [0.0, 5.0, 0.0]


def test_zero_dim_tensor_value_gets_the_gradient_of_the_filled_places():
    mask = np.array([[True, False, True], [False, False, True]])
    check(lambda m, x, v: m.masked_fill(x, m.tensor(mask), v * 1.0), [np.ones(3), np.array(2.0)], exact=True)


def test_dtypes_follow_the_input():
    mask = gg.tensor([[True, False, True]] * 2)
    tmask = torch.tensor([[True, False, True]] * 2)
    cases = [
        (gg.ones(3, dtype=gg.int64), torch.ones(3, dtype=torch.long), 2.5),
        (gg.ones(3), torch.ones(3), 2.5),
    ]
    for x, t, value in cases:
        got, ref = gg.masked_fill(x, mask, value), torch.masked_fill(t, tmask, value)
        assert got.dtype.name == str(ref.dtype).split(".")[-1]
        np.testing.assert_array_equal(got.numpy(), ref.numpy())
    got = gg.masked_fill(gg.ones(3), mask, gg.tensor(2.5, dtype=gg.float64))
    assert got.dtype == gg.float32 and got.tolist()[0] == [2.5, 1.0, 2.5]


def test_errors():
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        gg.masked_fill(gg.ones(3), gg.ones(2, 2, dtype=gg.bool), 0.0)
    with pytest.raises(RuntimeError, match="bool"):
        gg.masked_fill(gg.ones(3), gg.ones(3), 0.0)
    with pytest.raises(RuntimeError, match="0-dim"):
        gg.masked_fill(gg.ones(3), gg.ones(3, dtype=gg.bool), gg.tensor([1.0]))
