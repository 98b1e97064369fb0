"""Creation functions: shapes, dtypes and (where deterministic) values like torch's, and
reproducible random draws under manual_seed."""

import numpy as np
import pytest
import torch

import glassgrad as gg


def _same(got, ref, rtol=0.0, atol=0.0):
    assert got.shape == tuple(ref.shape), f"shape {got.shape} vs {tuple(ref.shape)}"
    assert got.dtype.name == str(ref.dtype).split(".")[-1], f"dtype {got.dtype} vs {ref.dtype}"
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
@pytest.mark.parametrize("size", [((),), (3,), (2, 3), ((2, 3),), ([4, 1],)], ids=repr)
def test_filled(name, size):
    got, ref = getattr(gg, name)(*size), getattr(torch, name)(*size)
    assert got.shape == tuple(ref.shape) and got.dtype == gg.float32
    if name != "empty":
        _same(got, ref)
    assert getattr(gg, name)(*size, dtype=gg.float64).dtype == gg.float64
    assert getattr(gg, name)(*size, dtype=gg.int64).dtype == gg.int64


@pytest.mark.parametrize("value", [2.5, 3, True, -1e9])
def test_full(value):
    _same(gg.full((2, 3), value), torch.full((2, 3), value))
    _same(gg.full((2,), value, dtype=gg.float64), torch.full((2,), value, dtype=torch.float64))


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "full_like", "rand_like", "randn_like"])
@pytest.mark.parametrize("dtype", [None, "float64"])
def test_like(name, dtype):
    x = gg.ones(2, 3, dtype=gg.float64)
    args = (7.0,) if name == "full_like" else ()
    kw = {} if dtype is None else {"dtype": getattr(gg, dtype)}
    y = getattr(gg, name)(x, *args, **kw)
    assert y.shape == (2, 3) and y.dtype == gg.float64 and not y.requires_grad
    xt = gg.ones(4, dtype=gg.float32)
    assert getattr(gg, name)(xt, *args, **kw).dtype == (gg.float32 if dtype is None else gg.float64)
    if name in ("zeros_like", "ones_like", "full_like"):
        ref = getattr(torch, name)(torch.ones(2, 3, dtype=torch.float64), *args)
        _same(getattr(gg, name)(x, *args), ref)
        assert getattr(gg, name)(x, *args, requires_grad=True).requires_grad


@pytest.mark.parametrize("args", [(5,), (2, 9), (1, 10, 3), (0, 1, 0.1), (-1.0, 1.0, 0.25), (5, 0, -1),
                                  (0.5, 3), (10, 2, -2.5), (0, 0)], ids=repr)
def test_arange(args):
    _same(gg.arange(*args), torch.arange(*args), rtol=1e-6, atol=1e-7)
    _same(gg.arange(*args, dtype=gg.float64), torch.arange(*args, dtype=torch.float64), rtol=1e-12)


def test_arange_float_steps_length_like_torch():
    for start, end, step in [(0.0, 1.0, 0.1), (0.0, 0.3, 0.1), (1.0, 2.0, 1 / 3), (0.0, 1.0, 0.3)]:
        assert gg.arange(start, end, step).shape == tuple(torch.arange(start, end, step).shape)


def test_arange_bad_steps():
    with pytest.raises(ValueError, match="step"):
        gg.arange(0, 5, 0)
    for args in ((3, 1), (0, 5, -1), (1.0, -1.0, 0.5)):
        with pytest.raises(RuntimeError):
            torch.arange(*args)
        with pytest.raises(ValueError, match=r"step.*sign"):
            gg.arange(*args)


@pytest.mark.parametrize("args", [(0, 1, 5), (-2.0, 3.0, 7), (1, 1, 3), (0, 10, 1), (0, 1, 0), (5, -5, 11)])
def test_linspace(args):
    _same(gg.linspace(*args), torch.linspace(*args), rtol=1e-6, atol=1e-6)
    _same(gg.linspace(*args, dtype=gg.float64), torch.linspace(*args, dtype=torch.float64), rtol=1e-12,
          atol=1e-12)


@pytest.mark.parametrize("args", [(3,), (2, 4), (4, 2), (0,)])
def test_eye(args):
    _same(gg.eye(*args), torch.eye(*args))
    assert gg.eye(*args, dtype=gg.float64).dtype == gg.float64


def test_rand_randn_shapes_dtypes_ranges():
    for fn in (gg.rand, gg.randn):
        assert fn(2, 3).shape == (2, 3) and fn(2, 3).dtype == gg.float32
        assert fn((4,), dtype=gg.float64).dtype == gg.float64
    u = gg.rand(10000)
    assert 0.0 <= u.numpy().min() and u.numpy().max() < 1.0 and abs(u.mean().item() - 0.5) < 0.02
    n = gg.randn(10000, dtype=gg.float64).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1.0) < 0.05
    assert gg.randn(2, requires_grad=True).requires_grad


def test_randint_like_torch():
    assert tuple(torch.randint(10, (3,)).shape) == gg.randint(10, (3,)).shape == (3,)
    r = gg.randint(3, 10, (1000,))
    assert r.dtype == gg.int64 and r.numpy().min() == 3 and r.numpy().max() == 9
    r = gg.randint(5, (2, 50))
    assert r.shape == (2, 50) and r.numpy().min() == 0 and r.numpy().max() == 4
    assert gg.randint(0, 2, size=(4,)).shape == (4,)
    with pytest.raises(ValueError, match="low < high"):
        gg.randint(5, 5, (2,))


def test_randperm():
    p = gg.randperm(10)
    assert p.dtype == gg.int64 and sorted(p.tolist()) == list(range(10))
    assert gg.randperm(0).shape == (0,)


@pytest.mark.parametrize("draw", [
    lambda: gg.rand(5), lambda: gg.randn(2, 2), lambda: gg.randint(0, 100, (5,)), lambda: gg.randperm(8),
    lambda: gg.zeros(4).normal_(), lambda: gg.zeros(4).uniform_(-1, 1),
    lambda: gg.bernoulli(gg.full((6,), 0.5)), lambda: gg.rand_like(gg.ones(3)),
    lambda: gg.randn_like(gg.ones(3)),
])
def test_manual_seed_makes_draws_reproducible(draw):
    gg.manual_seed(123)
    a = draw().tolist()
    b = draw().tolist()
    gg.manual_seed(123)
    assert draw().tolist() == a
    assert a != b or len(a) <= 1


def test_generator_argument_and_rng_state():
    g1, g2 = gg.Generator().manual_seed(7), gg.Generator().manual_seed(7)
    assert gg.rand(4, generator=g1).tolist() == gg.rand(4, generator=g2).tolist()
    state = gg.get_rng_state()
    a = gg.randn(3).tolist()
    gg.set_rng_state(state)
    assert gg.randn(3).tolist() == a
    assert gg.manual_seed(5).initial_seed() == 5 == gg.initial_seed()


def test_bad_sizes():
    with pytest.raises(ValueError, match="non-negative"):
        gg.zeros(-1)
    with pytest.raises(ValueError, match="non-negative"):
        gg.ones(2.5)
    with pytest.raises(ValueError, match="non-negative"):
        gg.manual_seed(-3)
