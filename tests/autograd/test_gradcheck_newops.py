"""gradcheck and gradgradcheck (finite differences, no torch) on the sorting, indexing, reordering
and product ops: an independent check of the gradients the torch comparisons also test."""

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck, gradgradcheck

rng = np.random.default_rng(0)


def _x(*shape):
    return rng.uniform(-2.0, 2.0, shape)


INDEX = gg.tensor([[2, 0, 2, 1], [1, 1, 0, 2]])  # repeats: gradients add up
DISTINCT = gg.tensor([[2, 0], [0, 1]])

# name -> (fn, inputs); each op's input is squared so that its second derivative is not zero
OPS = {
    "sort": (lambda a: gg.sort(a * a, 1, descending=True).values, [_x(2, 4)]),
    "topk": (lambda a: gg.topk(a * a, 2, 0, largest=False).values, [_x(3, 2)]),
    "gather": (lambda a: gg.gather(a * a, 1, INDEX), [_x(2, 3)]),
    "scatter": (lambda a, s: gg.scatter(a * a, 1, DISTINCT, s * s), [_x(2, 3), _x(2, 2)]),
    "scatter_value": (lambda a: (a * a).scatter(1, DISTINCT, 0.5), [_x(2, 3)]),
    "scatter_add": (lambda a, s: gg.scatter_add(a, 1, INDEX, s * a.sum()), [_x(2, 3), _x(2, 4)]),
    "index_select": (lambda a: gg.index_select(a * a, 0, gg.tensor([1, 1, 0])), [_x(2, 3)]),
    "flip": (lambda a: gg.flip(a * a, (0, 2)), [_x(2, 3, 2)]),
    "roll": (lambda a: gg.roll(a * a, (1, -1), (0, 1)), [_x(2, 3)]),
    "tril": (lambda a: gg.tril(a * a, -1), [_x(3, 3)]),
    "triu": (lambda a: gg.triu(a * a, 1), [_x(2, 3, 4)]),
    "diag_vector": (lambda a: gg.diag(a * a, 1), [_x(3)]),
    "diag_matrix": (lambda a: gg.diag(a * a, -1), [_x(3, 2)]),
    "cumsum": (lambda a: gg.cumsum(a * a, 0), [_x(3, 2)]),
    "cumprod": (lambda a: gg.cumprod(a, 1), [_x(2, 4)]),
    "prod": (lambda a: gg.prod(a, 0), [_x(3, 2)]),
    "einsum": (lambda a, b: gg.einsum("bij,bkj->bik", a * a, b), [_x(2, 2, 3), _x(2, 4, 3)]),
    "outer": (lambda a, b: gg.outer(a * a, b), [_x(3), _x(2)]),
    "lerp": (lambda a, b, w: gg.lerp(a, b * b, w), [_x(2, 3), _x(3), _x(2, 1)]),
}


@pytest.mark.parametrize("name", OPS)
def test_gradcheck_and_gradgradcheck_pass(name):
    fn, arrays = OPS[name]
    assert gradcheck(fn, [gg.tensor(a, dtype=gg.float64, requires_grad=True) for a in arrays])
    assert gradgradcheck(fn, [gg.tensor(a, dtype=gg.float64, requires_grad=True) for a in arrays])
