"""nll_loss and cross_entropy against PyTorch: class weights, ignore_index, every reduction,
extra (spatial) dims, and the errors of bad targets."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from tests.oracle import ORACLE, check, seeds, uniform


@st.composite
def classification(draw):
    n = draw(st.integers(1, 5))
    c = draw(st.integers(2, 5))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    return n, c, extra


@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
@ORACLE
@given(sizes=classification(), reduction=st.sampled_from(["mean", "sum", "none"]),
       weighted=st.booleans(), ignore=st.booleans(), seed=seeds)
def test_losses(loss, sizes, reduction, weighted, ignore, seed):
    n, c, extra = sizes
    rng = np.random.default_rng(seed)
    x = uniform(rng, (n, c) + extra, -3.0, 3.0)
    target = rng.integers(0, c, (n,) + extra)
    kwargs = {"reduction": reduction}
    if ignore:
        kwargs["ignore_index"] = 1
        target.reshape(-1)[0] = 0  # keep one counted sample, so that 'mean' is defined
    weight = rng.uniform(0.5, 2.0, c) if weighted else None

    def fn(m, t):
        inp = m.log_softmax(t, 1) if loss == "nll_loss" else t * 1.5
        w = None if weight is None else m.tensor(weight, dtype=t.dtype)
        return getattr(m.nn.functional, loss)(inp, m.tensor(target), weight=w, **kwargs)

    check(fn, [x], seed=seed)


def test_ignore_index_default_is_minus_100():
    x = uniform(np.random.default_rng(0), (4, 3))
    target = np.array([0, -100, 2, -100])
    check(lambda m, t: m.nn.functional.cross_entropy(t, m.tensor(target)), [x])


def test_cross_entropy_unbatched_input():
    # torch accepts logits (C,) with a 0-d target
    x = uniform(np.random.default_rng(0), (4,))
    check(lambda m, t: m.nn.functional.cross_entropy(t, m.tensor(2)), [x])
    check(lambda m, t: m.nn.functional.nll_loss(t, m.tensor(1), reduction="none"), [x])


def test_target_errors():
    F = gg.nn.functional
    x = gg.randn(3, 4)
    with pytest.raises(TypeError, match="int64"):
        F.cross_entropy(x, gg.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(3,\).*\(2,\)"):
        F.cross_entropy(x, gg.tensor([0, 1]))
    with pytest.raises(IndexError, match=r"\[0, 4\).*7"):
        F.cross_entropy(x, gg.tensor([0, 7, 1]))
    with pytest.raises(ValueError, match="reduction"):
        F.nll_loss(x, gg.tensor([0, 1, 2]), reduction="avg")


def test_loss_values_match_torch_float32():
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((8, 10)).astype(np.float32), rng.integers(0, 10, 8)
    got = gg.nn.functional.cross_entropy(gg.tensor(x), gg.tensor(t))
    ref = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t))
    assert got.dtype == gg.float32
    np.testing.assert_allclose(got.item(), ref.item(), rtol=1e-6)
