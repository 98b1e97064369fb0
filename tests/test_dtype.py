"""Dtypes and PyTorch's type promotion for tensor/tensor, tensor/0-dim tensor and tensor/Python
scalar operands of bool, int64, float32 and float64."""

import itertools

import numpy as np
import pytest
import torch

import glassgrad as gg

DTYPES = ["bool", "int64", "float32", "float64"]
SCALARS = [True, 3, 2.5]
OPS = ["add", "mul", "sub", "div", "maximum", "where"]


def _values(name, zero_dim):
    data = [1, 0] if name == "bool" else [3, 2]
    return data[0] if zero_dim else data


def _pair(name, zero_dim=False):
    v = _values(name, zero_dim)
    return gg.tensor(v, dtype=getattr(gg, name)), torch.tensor(v, dtype=getattr(torch, name))


def _apply(op, a, b, lib):
    if op == "where":
        return lib.where(lib.tensor(True), a, b)
    return getattr(lib, op)(a, b)


def _compare(op, ga, gb, ta, tb):
    try:
        ref = _apply(op, ta, tb, torch)
    except RuntimeError:  # torch refuses (bool - bool): so must glassgrad
        with pytest.raises((RuntimeError, TypeError)):
            _apply(op, ga, gb, gg)
        return
    got = _apply(op, ga, gb, gg)
    assert got.dtype.name == str(ref.dtype).split(".")[-1], f"{op}: {got.dtype} vs torch's {ref.dtype}"
    np.testing.assert_allclose(np.asarray(got.numpy(), float), np.asarray(ref.numpy(), float), rtol=1e-6)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("da, db", list(itertools.product(DTYPES, DTYPES)))
@pytest.mark.parametrize("zero_dim_b", [False, True])
def test_tensor_tensor_promotion(op, da, db, zero_dim_b):
    ga, ta = _pair(da)
    gb, tb = _pair(db, zero_dim=zero_dim_b)
    _compare(op, ga, gb, ta, tb)
    _compare(op, gb, ga, tb, ta)


@pytest.mark.parametrize("op", [op for op in OPS if op != "maximum"])  # torch.maximum takes tensors
@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
@pytest.mark.parametrize("zero_dim", [False, True])
def test_tensor_scalar_promotion(op, da, scalar, zero_dim):
    ga, ta = _pair(da, zero_dim)
    _compare(op, ga, scalar, ta, scalar)
    _compare(op, scalar, ga, scalar, ta)


def test_subtraction_with_bool_refused_like_torch():
    for a, b in ((gg.tensor([True]), gg.tensor([1])), (gg.tensor([1.0]), True), (True, gg.tensor([2]))):
        with pytest.raises(RuntimeError):
            torch.sub(*(torch.tensor(x.numpy()) if isinstance(x, gg.Tensor) else x for x in (a, b)))
        with pytest.raises(RuntimeError, match="bool"):
            gg.sub(a, b)
    with pytest.raises(RuntimeError, match="bool"):
        gg.tensor([1, 2]) - gg.tensor([True, False])


def test_int64_tensor_times_float_is_float32():
    assert (gg.tensor([1, 2]) * 2.5).dtype == gg.float32
    assert (gg.tensor([1, 2]) / gg.tensor([2, 2])).dtype == gg.float32
    assert (gg.tensor([1.0]) + gg.tensor(1.0, dtype=gg.float64)).dtype == gg.float32
    assert (gg.tensor([1]) + gg.tensor(1.0, dtype=gg.float64)).dtype == gg.float64


@pytest.mark.parametrize("op", ["__add__", "__radd__", "__mul__", "__rmul__", "__sub__", "__rsub__",
                                "__truediv__", "__rtruediv__", "__pow__", "__rpow__"])
@pytest.mark.parametrize("da", ["int64", "float32", "float64"])
@pytest.mark.parametrize("scalar", [2, 2.5], ids=repr)
def test_operators_with_scalars(op, da, scalar):
    ga, ta = _pair(da)
    ref = getattr(ta, op)(scalar)
    got = getattr(ga, op)(scalar)
    assert got.dtype.name == str(ref.dtype).split(".")[-1], f"{got.dtype} vs torch's {ref.dtype}"
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-6)


def test_default_dtype():
    assert gg.get_default_dtype() == gg.float32
    gg.set_default_dtype(gg.float64)
    try:
        assert gg.tensor([1.5]).dtype == gg.float64 and gg.zeros(2).dtype == gg.float64
        assert (gg.tensor([1]) * 2.5).dtype == gg.float64
    finally:
        gg.set_default_dtype(gg.float32)
    with pytest.raises(TypeError, match="float32 or float64"):
        gg.set_default_dtype(gg.int64)


def test_dtype_names_and_conversions():
    assert repr(gg.float32) == "glassgrad.float32" and gg.float is gg.float32 and gg.double is gg.float64
    assert gg.long is gg.int64
    t = gg.tensor([1.7])
    assert t.double().dtype == gg.float64 and t.long().dtype == gg.int64 and t.int().dtype == gg.int32
    assert t.bool().dtype == gg.bool and t.to(gg.float32) is t and t.to("cpu") is t
    assert t.to(dtype=gg.float64).dtype == gg.float64 and t.type(gg.int64).tolist() == [1]
    assert gg.tensor([1.0]).is_floating_point() and not gg.tensor([1]).is_floating_point()
    with pytest.raises(TypeError, match="float16"):
        gg.tensor(np.ones(2, dtype=np.float16))
