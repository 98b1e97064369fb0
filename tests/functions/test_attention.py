"""F.scaled_dot_product_attention against torch: values, first- and second-order gradients of
query, key, value (and of a float mask), float64 and float32, on random shapes with broadcast
leading dims; bool and float masks, is_causal, scale; fully masked rows; dropout; errors."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F
from tests.oracle import ORACLE, check, seeds


def _sdpa(m, *args, **kw):
    return m.nn.functional.scaled_dot_product_attention(*args, **kw)


dims = st.integers(1, 4)


@ORACLE
@given(lead=st.lists(dims, min_size=0, max_size=2), L=dims, S=dims, E=dims, Ev=dims, seed=seeds,
       how=st.sampled_from(["none", "bool", "float", "causal", "scale"]))
def test_matches_torch(lead, L, S, E, Ev, seed, how):  # noqa: N803
    rng = np.random.default_rng(seed)
    lead = tuple(lead)
    q = rng.standard_normal((*lead, L, E))
    k = rng.standard_normal((*lead, S, E))
    v = rng.standard_normal((*lead, S, Ev))
    if how == "bool":
        mask = rng.random((L, S)) < 0.7
        mask[:, 0] = True  # every query attends something (fully masked rows: their own test)
        check(lambda m, a, b, c: _sdpa(m, a, b, c, attn_mask=m.tensor(mask)), [q, k, v], seed=seed)
    elif how == "float":  # a float mask is an input too, and gets gradients
        mask = rng.standard_normal((*lead[-1:], 1, S))
        check(lambda m, a, b, c, f: _sdpa(m, a, b, c, attn_mask=f), [q, k, v, mask], seed=seed)
    elif how == "causal":
        check(lambda m, a, b, c: _sdpa(m, a, b, c, is_causal=True), [q, k, v], seed=seed)
    elif how == "scale":
        check(lambda m, a, b, c: _sdpa(m, a, b, c, scale=0.3), [q, k, v], seed=seed)
    else:
        check(lambda m, a, b, c: _sdpa(m, a, b, c), [q, k, v], seed=seed)


def test_leading_dims_broadcast():
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((1, 2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 3))
    check(lambda m, a, b, c: _sdpa(m, a, b, c), [q, k, v])


def test_fully_masked_query_gives_zeros_and_zero_gradients_as_torch():
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 4))
    mask = rng.random((3, 5)) < 0.6
    mask[0] = False  # query 0 may attend no key
    mask[1:, 0] = True
    check(lambda m, a, b, c: _sdpa(m, a, b, c, attn_mask=m.tensor(mask)), [q, k, v])
    out = F.scaled_dot_product_attention(gg.tensor(q), gg.tensor(k), gg.tensor(v), attn_mask=gg.tensor(mask))
    assert np.all(out.numpy()[:, 0] == 0) and np.isfinite(out.numpy()).all()
    # a float mask of -inf everywhere in a row: the same
    fmask = np.where(mask, 0.0, -np.inf)
    check(lambda m, a, b, c: _sdpa(m, a, b, c, attn_mask=m.tensor(fmask).to(a.dtype)), [q, k, v])


def test_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(2)
    q, k, v = (gg.tensor(rng.standard_normal(s), requires_grad=True) for s in [(2, 3, 4), (2, 5, 4), (2, 5, 2)])
    mask = gg.tensor(rng.random((3, 5)) < 0.7)
    for fn in (lambda a, b, c: F.scaled_dot_product_attention(a, b, c),
               lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True),
               lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=mask)):
        assert gg.autograd.gradcheck(fn, (q, k, v))
        assert gg.autograd.gradgradcheck(fn, (q, k, v))


def test_dropout_zeroes_weights_and_keeps_the_expectation():
    # with value = identity, the output rows are the (dropped, rescaled) attention weights
    rng = np.random.default_rng(3)
    n, L, S = 200, 4, 6
    q, k = gg.tensor(rng.standard_normal((n, L, 3))), gg.tensor(rng.standard_normal((n, S, 3)))
    eye = gg.tensor(np.broadcast_to(np.eye(S), (n, S, S)).copy())
    gg.manual_seed(0)
    dropped = F.scaled_dot_product_attention(q, k, eye, dropout_p=0.5).numpy()
    full = F.scaled_dot_product_attention(q, k, eye).numpy()
    zero = dropped == 0
    assert 0.45 < zero.mean() < 0.55  # about half the weights dropped
    np.testing.assert_allclose(dropped[~zero], 2 * full[~zero])  # the others scaled by 1 / (1 - p)
    assert abs(dropped.sum(-1).mean() - 1.0) < 0.05  # rows still sum to 1 on average
    # glassgrad's RNG: the same seed gives the same mask
    gg.manual_seed(0)
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, k, eye, dropout_p=0.5).numpy(), dropped)


def test_float32_stays_float32():
    q = gg.randn(2, 3, 4)
    assert F.scaled_dot_product_attention(q, q, q).dtype == gg.float32


def test_errors():
    q, k, v = gg.randn(2, 3, 4), gg.randn(2, 5, 4), gg.randn(2, 5, 4)
    with pytest.raises(RuntimeError, match="either attn_mask or is_causal"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=gg.ones(3, 5, dtype=gg.bool), is_causal=True)
    with pytest.raises(TypeError, match="attn_mask of dtype bool or glassgrad.float32.*got glassgrad.int64"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=gg.ones(3, 5, dtype=gg.int64))
    with pytest.raises(RuntimeError, match=r"attn_mask of shape \(3, 4\) does not broadcast .*\(2, 3, 5\)"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=gg.ones(3, 4, dtype=gg.bool))
    with pytest.raises(RuntimeError, match=r"query \(..., L, E\), key \(..., S, E\).*\(2, 5, 3\)"):
        F.scaled_dot_product_attention(q, gg.randn(2, 5, 3), v)
    with pytest.raises(RuntimeError, match="at least 2 dims"):
        F.scaled_dot_product_attention(gg.randn(4), k, v)
    with pytest.raises(TypeError, match="one floating point dtype"):
        F.scaled_dot_product_attention(q, k.double(), v)
    with pytest.raises(ValueError, match="dropout probability"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=1.5)
    # torch refuses the same inputs
    with pytest.raises(RuntimeError):
        torch.nn.functional.scaled_dot_product_attention(
            torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 4),
            attn_mask=torch.ones(3, 5, dtype=torch.bool), is_causal=True)
