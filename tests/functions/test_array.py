"""Shape, joining, selection and indexing ops against PyTorch (values, gradients, second-order
gradients), one_hot and dtype casts, and the errors of bad shapes."""

import pytest

import glassgrad as gg


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


