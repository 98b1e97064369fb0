"""gradcheck and gradgradcheck pass on every differentiable op, and fail on an op whose first or
second derivative is wrong."""

import numpy as np

import glassgrad as gg
from glassgrad.autograd import gradcheck

rng = np.random.default_rng(0)


def _x(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, shape)


def test_gradcheck_on_non_contiguous_input():
    x = gg.tensor(_x(3, 2), dtype=gg.float64).T.detach().requires_grad_()
    assert gradcheck(lambda t: (t * t).sum(0), [x])
