"""Shape, joining, selection and indexing ops against PyTorch (values, gradients, second-order
gradients), one_hot and dtype casts, and the errors of bad shapes."""

import numpy as np
import pytest
from hypothesis import given

import glassgrad as gg
from tests.oracle import ORACLE, check_values, seeds, shapes, uniform


def test_integer_index_of_vector_is_a_view():
    # as in torch, x[i] shares memory with x, so an in-place change through it is visible
    a = gg.zeros(3)
    a[1].fill_(5.0)
    a[-1].add_(2.0)
    assert a.tolist() == [0.0, 5.0, 2.0]
    w = gg.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    with gg.no_grad():
        w[0].mul_(3.0)  # an optimizer-style update of one element, through the view
    assert w.tolist() == [3.0, 2.0]
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


@ORACLE
@given(shape=shapes(), seed=seeds)
def test_casts_to_integer_and_bool(shape, seed):
    x = uniform(np.random.default_rng(seed), shape, -5, 5)
    check_values(lambda m, t: (t.long(), t.int(), t.bool(), (t > 0).float(), t.long().double()), [x])


def test_cast_to_integer_cuts_the_graph():
    x = gg.randn(3, requires_grad=True)
    for y in (x.long(), x.int(), x.bool(), x.to(gg.int64)):
        assert not y.requires_grad and y.grad_fn is None
