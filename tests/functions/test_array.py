"""Shape, joining, selection and indexing ops against PyTorch (values, gradients, second-order
gradients), one_hot and dtype casts, and the errors of bad shapes."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from tests.oracle import ORACLE, check, check_values, seeds, shapes, uniform


def _dim(data, ndim, label="dim"):
    return data.draw(st.integers(-ndim, ndim - 1), label=label)


def _weighted(t):
    """Make the second-order check meaningful for linear ops: multiply by the input itself."""
    return t * t


@ORACLE
@given(shape=shapes(min_dims=0, max_dims=4), data=st.data(), seed=seeds)
def test_reshape_view_flatten(shape, data, seed):
    x = uniform(np.random.default_rng(seed), shape)
    n = int(np.prod(shape))
    target = data.draw(st.sampled_from([(n,), (-1,), (1, n), (n, 1, 1), (-1, 1)]), label="target")
    check(lambda m, t: _weighted(t).reshape(target), [x], exact=True, seed=seed)
    check(lambda m, t: _weighted(t).view(*target), [x], exact=True, seed=seed)
    if shape:
        start = _dim(data, len(shape), "start")
        end = data.draw(st.integers(start % len(shape), len(shape) - 1), label="end")
        check(lambda m, t: m.flatten(_weighted(t), start, end), [x], exact=True, seed=seed)
    check(lambda m, t: _weighted(t).flatten(), [x], exact=True, seed=seed)


@ORACLE
@given(shape=shapes(min_dims=1, max_dims=4), data=st.data(), seed=seeds)
def test_permute_transpose(shape, data, seed):
    x = uniform(np.random.default_rng(seed), shape)
    perm = data.draw(st.permutations(range(len(shape))), label="perm")
    d0, d1 = _dim(data, len(shape), "d0"), _dim(data, len(shape), "d1")
    check(lambda m, t: _weighted(t).permute(*perm), [x], exact=True, seed=seed)
    check(lambda m, t: m.permute(_weighted(t), perm), [x], exact=True, seed=seed)
    check(lambda m, t: m.transpose(_weighted(t), d0, d1), [x], exact=True, seed=seed)
    if len(shape) >= 2:
        check(lambda m, t: _weighted(t).mT + 0.0, [x], exact=True, seed=seed)
    if len(shape) == 2:
        check(lambda m, t: _weighted(t).T, [x], exact=True, seed=seed)
        check(lambda m, t: _weighted(t).t(), [x], exact=True, seed=seed)


@ORACLE
@given(shape=shapes(min_dims=0, max_dims=4, max_side=2), data=st.data(), seed=seeds)
def test_squeeze_unsqueeze(shape, data, seed):
    x = uniform(np.random.default_rng(seed), shape)
    check(lambda m, t: _weighted(t).squeeze(), [x], exact=True, seed=seed)
    if shape:
        d = _dim(data, len(shape))
        check(lambda m, t: m.squeeze(_weighted(t), d), [x], exact=True, seed=seed)
    u = data.draw(st.integers(-len(shape) - 1, len(shape)), label="unsqueeze")
    check(lambda m, t: m.unsqueeze(_weighted(t), u), [x], exact=True, seed=seed)


@ORACLE
@given(shape=shapes(min_dims=0, max_dims=3), data=st.data(), seed=seeds)
def test_expand_broadcast_to(shape, data, seed):
    x = uniform(np.random.default_rng(seed), tuple(1 if data.draw(st.booleans()) else s for s in shape))
    lead = data.draw(st.lists(st.integers(1, 3), max_size=2), label="lead")
    target = tuple(lead) + tuple(s if xs == 1 else xs for s, xs in zip(shape, x.shape))
    keep = tuple(lead) + tuple(-1 if data.draw(st.booleans()) else t for t in target[len(lead):])
    if keep:  # torch's expand needs at least one size
        check(lambda m, t: _weighted(t).expand(*keep), [x], exact=True, seed=seed)
    check(lambda m, t: m.broadcast_to(_weighted(t), target), [x], exact=True, seed=seed)
    check(lambda m, t: _weighted(t).expand_as(m.zeros(target, dtype=t.dtype)), [x], exact=True, seed=seed)


@ORACLE
@given(shape=shapes(min_dims=1, max_dims=3), data=st.data(), seed=seeds)
def test_cat_stack(shape, data, seed):
    rng = np.random.default_rng(seed)
    dim = _dim(data, len(shape))
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3), label="sizes")
    parts = []
    for s in sizes:
        sh = list(shape)
        sh[dim] = s
        parts.append(uniform(rng, tuple(sh)))
    check(lambda m, *ts: m.cat([_weighted(t) for t in ts], dim), parts, exact=True, seed=seed)
    same = [uniform(rng, shape) for _ in sizes]
    sdim = data.draw(st.integers(-len(shape) - 1, len(shape)), label="stack dim")
    check(lambda m, *ts: m.stack([_weighted(t) for t in ts], sdim), same, exact=True, seed=seed)


@ORACLE
@given(shape=shapes(min_dims=1, max_dims=3, max_side=6), data=st.data(), seed=seeds)
def test_split_chunk_unbind(shape, data, seed):
    x = uniform(np.random.default_rng(seed), shape)
    dim = _dim(data, len(shape))
    n = shape[dim]
    size = data.draw(st.integers(1, n + 1), label="split_size")
    check(lambda m, t: m.split(_weighted(t), size, dim), [x], exact=True, seed=seed)
    sizes = data.draw(st.lists(st.integers(0, n), min_size=1, max_size=4).filter(lambda s: sum(s) <= n), label="sizes")
    sizes = sizes + [n - sum(sizes)]  # may contain 0s
    check(lambda m, t: _weighted(t).split(sizes, dim), [x], exact=True, seed=seed)
    chunks = data.draw(st.integers(1, n + 1), label="chunks")
    check(lambda m, t: m.chunk(_weighted(t), chunks, dim), [x], exact=True, seed=seed)
    check(lambda m, t: m.unbind(_weighted(t), dim), [x], exact=True, seed=seed)
    check(lambda m, t: _weighted(t).unbind(dim), [x], exact=True, seed=seed)
    # pieces left unused get a zero gradient (backward receives None for them)
    check(lambda m, t: m.chunk(_weighted(t), chunks, dim)[::2], [x], exact=True, seed=seed)
    check(lambda m, t: _weighted(t).unbind(dim)[-1], [x], exact=True, seed=seed)
    # and a piece used twice gets the sum
    check(lambda m, t: (lambda p: (p[0] * p[0], p[0], p[-1]))(_weighted(t).split(size, dim)), [x],
          exact=True, seed=seed)


def test_split_chunk_unbind_are_one_op_whose_backward_is_one_cat():
    x = gg.randn(6, 4, dtype=gg.float64, requires_grad=True)
    for pieces in (x.split(2), x.split([1, 2, 3]), x.chunk(4, 1), x.unbind(1)):
        assert len({p.grad_fn for p in pieces}) == 1
        assert [p.output_nr for p in pieces] == list(range(len(pieces)))
    a, b, c = x.split(2)
    (g,) = gg.autograd.grad((b * b).sum(), x, create_graph=True)
    assert g.grad_fn.name() == "CatBackward"  # b's gradient joined with zeros for a and c


@pytest.mark.parametrize("shape, make", [
    ((0,), lambda m, t: m.chunk(t, 3)),
    ((0,), lambda m, t: t.chunk(1)),
    ((2, 0, 3), lambda m, t: m.chunk(t, 2, 1)),
    ((0,), lambda m, t: t.split(2)),
    ((0,), lambda m, t: t.split(0)),
    ((2, 0, 3), lambda m, t: m.split(t, [0, 0], 1)),
    ((2, 0, 3), lambda m, t: t.split(1, -1)),
    ((0, 2), lambda m, t: m.unbind(t, 0)),
    ((2, 0, 3), lambda m, t: m.unbind(t, -1)),
    ((5,), lambda m, t: t.chunk(4)),  # 3 pieces of 2, 2, 1, as in torch
    ((6,), lambda m, t: t.chunk(4)),  # 3 pieces of 2
])
def test_split_chunk_unbind_edge_cases(shape, make):
    x = np.random.default_rng(0).uniform(-2, 2, shape)
    got, ref = make(gg, gg.tensor(x)), make(torch, torch.tensor(x))
    assert [tuple(p.shape) for p in got] == [tuple(p.shape) for p in ref]
    if ref:  # an empty tuple has nothing to differentiate
        check(lambda m, t: make(m, _weighted(t)), [x], exact=True)


@pytest.mark.parametrize("make, words", [
    (lambda m: m.ones(3).split(0), "split_size can only be 0"),
    (lambda m: m.ones(3).split(-1), "non-negative"),
    (lambda m: m.ones(3).split([1, -1, 3]), "non-negative"),
    (lambda m: m.ones(3).split([1, 1]), "sum"),
    (lambda m: m.ones(3).chunk(0), "greater than 0"),
    (lambda m: m.ones(()).split(1), "at least a 1-dimensional"),
    (lambda m: m.ones(()).chunk(1), "at least a 1-dimensional"),
    (lambda m: m.ones(()).unbind(), "1-dimensional"),
])
def test_split_chunk_unbind_errors_like_torch(make, words):
    with pytest.raises((RuntimeError, IndexError)):
        make(torch)
    with pytest.raises(RuntimeError, match=words):
        make(gg)


@ORACLE
@given(shape=shapes(min_dims=1, max_dims=3), data=st.data(), seed=seeds)
def test_gather(shape, data, seed):
    rng = np.random.default_rng(seed)
    x = uniform(rng, shape)
    dim = _dim(data, len(shape))
    # index may be smaller than the input in every dim, and repeats positions along dim
    ishape = tuple(data.draw(st.integers(1, s)) if d != dim % len(shape) else data.draw(st.integers(1, 5))
                   for d, s in enumerate(shape))
    index = rng.integers(0, shape[dim], ishape)
    check(lambda m, t: m.gather(_weighted(t), dim, m.tensor(index)), [x], exact=True, seed=seed)
    check(lambda m, t: _weighted(t).gather(dim, m.tensor(index)), [x], exact=True, seed=seed)


@ORACLE
@given(shape=shapes(min_dims=1, max_dims=3), data=st.data(), seed=seeds)
def test_masked_fill(shape, data, seed):
    rng = np.random.default_rng(seed)
    x = uniform(rng, shape)
    mshape = tuple(1 if data.draw(st.booleans()) else s for s in shape)
    mshape = mshape[data.draw(st.integers(0, len(shape)), label="dropped leading dims"):]
    mask = rng.random(mshape) < 0.5
    value = data.draw(st.sampled_from([0.0, -1e9, 2.5, float("-inf")]), label="value")
    check(lambda m, t: m.masked_fill(_weighted(t), m.tensor(mask), value) * 1.0, [x], exact=True,
          seed=seed, torch_fn=lambda m, t: _weighted(t).masked_fill(m.tensor(mask), value) * 1.0)
    check(lambda m, t: _weighted(t).masked_fill(m.tensor(mask), value), [x], exact=True, seed=seed)


@ORACLE
@given(shape=shapes(min_dims=1, max_dims=3), data=st.data(), seed=seeds)
def test_pad(shape, data, seed):
    x = uniform(np.random.default_rng(seed), shape)
    n = data.draw(st.integers(1, len(shape)), label="padded dims")
    widths = data.draw(st.lists(st.integers(0, 2), min_size=2 * n, max_size=2 * n), label="widths")
    value = data.draw(st.sampled_from([0.0, 1.5]), label="value")
    check(lambda m, t: m.nn.functional.pad(_weighted(t), tuple(widths), value=value), [x], exact=True,
          seed=seed)


# -- indexing ------------------------------------------------------------------------------------


def _index_cases(rng, shape):
    """Keys of each kind for a tensor of ``shape`` (first dim >= 2)."""
    n0 = shape[0]
    cases = [
        0,
        -1,
        slice(None),
        slice(1, None),
        slice(None, None, 2),
        (Ellipsis, 0),
        (None, 0),
        rng.integers(-n0, n0, 5),  # repeated indices, negative ones
        [1, 1, 0],
        rng.random(shape) < 0.5,  # a full boolean mask
        rng.random(n0) < 0.5,  # a mask of the first dim
    ]
    if len(shape) >= 2:
        n1 = shape[1]
        cases += [
            (slice(None), rng.integers(0, n1, 4)),
            (rng.integers(0, n0, 3), rng.integers(0, n1, 3)),
            (rng.integers(0, n0, (2, 2)), slice(None)),
            (slice(1, None), 0),
            (0, slice(None), None),
        ]
    return cases


@ORACLE
@given(shape=shapes(min_dims=1, max_dims=3, min_side=2), seed=seeds)
def test_indexing(shape, seed):
    rng = np.random.default_rng(seed)
    x = uniform(rng, shape)
    for key in _index_cases(rng, shape):

        def fn(m, t, key=key):
            k = tuple(m.tensor(k) if isinstance(k, np.ndarray) else k for k in key) \
                if isinstance(key, tuple) else (m.tensor(key) if isinstance(key, np.ndarray) else key)
            return _weighted(t)[k]

        check(fn, [x], exact=True, seed=seed, float32=False)


def test_indexing_repeated_indices_accumulate():
    x = gg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[gg.tensor([0, 0, 2, 0])].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


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


def test_float_index_refused():
    with pytest.raises(IndexError, match="long or bool"):
        gg.ones(3)[gg.tensor([0.0, 1.0])]


# -- no gradient: one_hot, casts ----------------------------------------------------------------


@ORACLE
@given(shape=shapes(min_dims=0, max_dims=3), classes=st.integers(1, 5), seed=seeds)
def test_one_hot(shape, classes, seed):
    idx = np.random.default_rng(seed).integers(0, classes, shape)
    for n in (classes, classes + 2, -1):
        got = gg.nn.functional.one_hot(gg.tensor(idx), n)
        ref = torch.nn.functional.one_hot(torch.tensor(idx), n)
        assert got.dtype == gg.int64 and not got.requires_grad
        np.testing.assert_array_equal(got.numpy(), ref.numpy())


def test_one_hot_out_of_range():
    with pytest.raises(RuntimeError, match=r"\[0, 3\)"):
        gg.nn.functional.one_hot(gg.tensor([0, 3]), 3)


@ORACLE
@given(shape=shapes(), seed=seeds)
def test_float_casts_are_differentiable(shape, seed):
    x = uniform(np.random.default_rng(seed), shape)
    check(lambda m, t: (_weighted(t).float() * 3.0).double() * t, [x], seed=seed, float32=False)
    check(lambda m, t: _weighted(t).to(m.float32).to(dtype=m.float64) + t.type(m.float64), [x],
          seed=seed, float32=False)
    check(lambda m, t: t * t.double(), [x], exact=True, seed=seed)


@ORACLE
@given(shape=shapes(), seed=seeds)
def test_casts_to_integer_and_bool(shape, seed):
    x = uniform(np.random.default_rng(seed), shape, -5, 5)
    check_values(lambda m, t: (t.long(), t.int(), t.bool(), (t > 0).float(), t.long().double()), [x])


def test_cast_to_integer_cuts_the_graph():
    x = gg.randn(3, requires_grad=True)
    for y in (x.long(), x.int(), x.bool(), x.to(gg.int64)):
        assert not y.requires_grad and y.grad_fn is None


# -- errors --------------------------------------------------------------------------------------


def test_reshape_invalid():
    with pytest.raises(RuntimeError, match=r"reshape.*\(4, 2\).*\(2, 3\)"):
        gg.ones(2, 3).reshape(4, 2)


def test_cat_mismatch():
    with pytest.raises(RuntimeError, match=r"cat.*\(2, 3\), \(3, 4\)"):
        gg.cat([gg.ones(2, 3), gg.ones(3, 4)])
    with pytest.raises(RuntimeError, match="number of dimensions"):
        gg.cat([gg.ones(2, 3), gg.ones(3)])


def test_stack_mismatch():
    with pytest.raises(RuntimeError, match=r"stack.*\(2,\), \(3,\)"):
        gg.stack([gg.ones(2), gg.ones(3)])


def test_expand_invalid():
    with pytest.raises(RuntimeError, match=r"\(2, 3\).*\(4, 3\)"):
        gg.ones(2, 3).expand(4, 3)


def test_permute_invalid():
    with pytest.raises(RuntimeError, match="permutation"):
        gg.ones(2, 3).permute(0, 0)


def test_split_sizes_must_sum():
    with pytest.raises(RuntimeError, match="sum"):
        gg.ones(5).split([2, 2])
