"""einsum and outer against PyTorch: values, first- and second-order gradients for every kind of
subscripts (products, sums, transposes, diagonals from repeated letters, '...' with broadcasting,
implicit outputs, three operands), dtypes and the errors of bad equations."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.autograd import gradcheck, gradgradcheck
from tests.functions.exact import same_outputs
from tests.oracle import ORACLE, broadcastable, check, seeds, shapes, uniform

CASES = {
    "ij,jk->ik": [(2, 3), (3, 4)],
    "ij,jk": [(2, 3), (3, 4)],  # implicit output: the letters used once, sorted
    "bij,bjk->bik": [(2, 2, 3), (2, 3, 4)],
    "bhqd,bhkd->bhqk": [(2, 2, 3, 4), (2, 2, 5, 4)],  # attention scores
    "ij->ji": [(2, 3)],
    "ij->": [(2, 3)],
    "ij->j": [(2, 3)],
    "i,j->ij": [(2,), (3,)],
    "i,i->": [(3,), (3,)],
    "ii->i": [(3, 3)],  # a diagonal
    "ii": [(3, 3)],  # the trace
    "iji->ij": [(3, 2, 3)],  # a repeated letter that is not adjacent
    "bii->b": [(2, 3, 3)],
    "ii,i->i": [(3, 3), (3,)],
    "iij,kjk->ik": [(2, 2, 3), (4, 3, 4)],
    "...ij->...ji": [(2, 3, 4)],
    "...ij,...jk->...ik": [(2, 1, 2, 3), (4, 3, 2)],  # batch dims broadcast
    "i...,i...->...": [(5, 2, 3), (5, 1, 3)],
    "...": [(2, 3)],
    "...ii->...": [(2, 3, 3)],
    "ij,ij->ij": [(1, 3), (4, 3)],  # a named dim of size 1 broadcasts too
    "ij,jk,kl->il": [(2, 3), (3, 4), (4, 2)],
    "ab,ab,ab->a": [(2, 3), (2, 3), (2, 3)],
    "Ab,bC": [(2, 3), (3, 4)],
    "bA": [(2, 3)],  # implicit order: upper case before lower case
    " ij , jk -> ik ": [(2, 3), (3, 4)],
    "i->": [(0,)],
    "ij,jk->ik ": [(2, 0), (0, 3)],
}


@pytest.mark.parametrize("equation", CASES)
def test_einsum(equation):
    rng = np.random.default_rng(0)
    arrays = [uniform(rng, s) for s in CASES[equation]]
    check(lambda m, *ts: m.einsum(equation, *(t * t for t in ts)), arrays)
    check(lambda m, *ts: m.einsum(equation, [t * 1.5 for t in ts]), arrays)  # operands as one list


@ORACLE
@given(batch=broadcastable(2, max_dims=2), n=st.integers(1, 3), k=st.integers(1, 3), p=st.integers(1, 3),
       seed=seeds)
def test_einsum_batched_matmul(batch, n, k, p, seed):
    rng = np.random.default_rng(seed)
    a, b = uniform(rng, batch[0] + (n, k)), uniform(rng, batch[1] + (k, p))
    check(lambda m, s, t: m.einsum("...nk,...kp->...pn", s * s, t), [a, b], seed=seed)


@ORACLE
@given(shape=shapes(min_dims=1, max_dims=4), seed=seeds)
def test_einsum_permute_and_sum(shape, seed):
    x = uniform(np.random.default_rng(seed), shape)
    letters = "abcd"[: len(shape)]
    check(lambda m, t: m.einsum(f"{letters}->{letters[::-1]}", t * t), [x], seed=seed)
    check(lambda m, t: m.einsum(f"{letters}->{letters[1:]}", t * t), [x], seed=seed)


def test_einsum_gradients_by_finite_differences():
    rng = np.random.default_rng(1)
    for equation, shapes_ in [("ii,ij->j", [(3, 3), (3, 2)]), ("...ij,j->...i", [(2, 3, 2), (2,)])]:
        xs = [gg.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes_]
        assert gradcheck(lambda *ts, e=equation: gg.einsum(e, *ts), xs)
        assert gradgradcheck(lambda *ts, e=equation: gg.einsum(e, *ts), xs)


def test_einsum_integers_and_its_output_is_not_a_view():
    x = np.arange(9).reshape(3, 3)
    same_outputs(lambda m, t: m.einsum("ij,jk->ik", t, t), x)
    same_outputs(lambda m, t: m.einsum("ii->i", t), x)
    t = gg.tensor(x)
    d = gg.einsum("ii->i", t)
    d[0] = 100
    assert t[0, 0].item() == 0


@ORACLE
@given(n=st.integers(0, 4), k=st.integers(0, 4), seed=seeds)
def test_outer(n, k, seed):
    rng = np.random.default_rng(seed)
    a, b = uniform(rng, (n,)), uniform(rng, (k,))
    check(lambda m, s, t: m.outer(s * s, t), [a, b], seed=seed)
    check(lambda m, s, t: s.outer(t * s.sum()), [a, b], seed=seed)


def test_outer_promotes_dtypes():
    same_outputs(lambda m, s, t: m.outer(s, t), np.arange(3), np.linspace(0, 1, 2).astype(np.float32))


def test_errors():
    a, b = gg.ones(2, 3), gg.ones(4, 3)
    with pytest.raises(RuntimeError, match=r"einsum: the equation 'ij,jk' has 2 operand\(s\), but 1 were given"):
        gg.einsum("ij,jk", a)
    with pytest.raises(RuntimeError, match=r"'ij' name 2 dimensions, but operand 0 has 3 \(shape \(2, 3, 4\)\)"):
        gg.einsum("ij", gg.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match="'j' has size 4 in operand 1, which does not broadcast with size 3"):
        gg.einsum("ij,jk", a, b)
    with pytest.raises(RuntimeError, match="subscript 'i' is repeated in operand 0 for dims of sizes 2 and 3"):
        gg.einsum("ii->i", a)
    with pytest.raises(RuntimeError, match="invalid subscripts 'i1'"):
        gg.einsum("i1->i", a)
    with pytest.raises(RuntimeError, match="output subscript 'k'"):
        gg.einsum("ij->k", a)
    with pytest.raises(RuntimeError, match="output subscript 'i'"):
        gg.einsum("ij->ii", a)
    with pytest.raises(RuntimeError, match="fewer than the 3 subscripts"):
        gg.einsum("...ijk", a)
    with pytest.raises(RuntimeError, match=r"same dtype, got \['float32', 'int64'\]"):
        gg.einsum("i,i", gg.ones(2), gg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="outer: expected input to be a 1-D vector, got shape \\(2, 3\\)"):
        gg.outer(a, gg.ones(2))
    with pytest.raises(RuntimeError, match="outer: expected vec2 to be a 1-D vector"):
        gg.ones(2).outer(a)
