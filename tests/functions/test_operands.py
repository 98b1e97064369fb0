"""Operands of every kind (Python and NumPy scalars, NumPy arrays, tensors) in binary operators
against PyTorch's result dtypes and values, and pow on bool and integer tensors.

Two deliberate rules, where PyTorch has no consistent one to copy:

- a NumPy array operand is a tensor of its own dtype. (``torch_tensor + ndarray`` only works
  through NumPy's reflected operator, computing with NumPy's promotion and dropping autograd;
  ``ndarray + torch_tensor`` raises.) The reference is torch with ``torch.from_numpy(array)``.
- a NumPy scalar acts like the Python number it holds. torch agrees for NumPy ints and floats but
  takes ``np.bool_`` for a float; the reference uses ``True`` for it.
"""

import itertools
import operator

import numpy as np
import pytest
import torch

import glassgrad as gg

OPS = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "pow": operator.pow,
}

TENSORS = {  # name -> (values, dtype name)
    "float32": ([1.0, 2.0], "float32"),
    "float64": ([1.0, 2.0], "float64"),
    "int64": ([1, 2], "int64"),
    "int32": ([1, 2], "int32"),
    "uint8": ([1, 2], "uint8"),
    "bool": ([True, False], "bool"),
    "float32_0d": (1.5, "float32"),
    "int64_0d": (3, "int64"),
}

OTHERS = {
    "int": 2,
    "float": 2.5,
    "True": True,
    "np.float64": np.float64(2.0),
    "np.float32": np.float32(2.0),
    "np.float16": np.float16(2.0),
    "np.int64": np.int64(2),
    "np.int32": np.int32(2),
    "np.int8": np.int8(2),
    "np.uint8": np.uint8(2),
    "np.bool_": np.bool_(True),
    "array_float64": np.array([2.0, 0.5]),
    "array_float32": np.array([2.0, 0.5], dtype=np.float32),
    "array_int64": np.array([2, 3]),
    "array_int32": np.array([2, 3], dtype=np.int32),
    "array_uint8": np.array([2, 3], dtype=np.uint8),
    "array_bool": np.array([True, False]),
    "array_0d_float64": np.array(2.0),
}


def _torch_operand(x):
    if isinstance(x, np.ndarray):
        return torch.from_numpy(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def _run(fn):
    try:
        return fn(), None
    except Exception as e:  # noqa: BLE001 - which errors match is checked by the caller
        return None, e


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("tname, oname", list(itertools.product(TENSORS, OTHERS)))
def test_operand_matrix_matches_torch(op, tname, oname):
    values, dt = TENSORS[tname]
    other = OTHERS[oname]
    f = OPS[op]
    g, t = gg.tensor(values, dtype=getattr(gg, dt)), torch.tensor(values, dtype=getattr(torch, dt))
    for reflected in (False, True):
        if reflected:
            ref, ref_err = _run(lambda: f(_torch_operand(other), t))
            got, got_err = _run(lambda: f(other, g))
        else:
            ref, ref_err = _run(lambda: f(t, _torch_operand(other)))
            got, got_err = _run(lambda: f(g, other))
        where = f"{'reflected ' if reflected else ''}{op} of a {tname} tensor and {oname}"
        if ref_err is not None:
            assert got_err is not None, f"{where}: torch raises {ref_err!r}, glassgrad gives {got!r}"
            assert isinstance(got_err, (RuntimeError, TypeError)), f"{where}: {got_err!r}"
            continue
        assert got_err is None, f"{where}: glassgrad raises {got_err!r}, torch gives {ref!r}"
        assert isinstance(got, gg.Tensor), where
        assert got.dtype.name == str(ref.dtype).split(".")[-1], f"{where}: {got.dtype} vs torch's {ref.dtype}"
        assert got.shape == tuple(ref.shape), where
        np.testing.assert_allclose(got.numpy().astype(float), ref.numpy().astype(float), rtol=1e-6, err_msg=where)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("scalar", [np.float64(3.0), np.float32(3.0), np.int64(3), np.int8(3)], ids=repr)
def test_numpy_scalar_keeps_float32_and_its_gradient(op, scalar):
    """The bug: ``x ** np.float64(3)`` made a float32 x and its .grad float64."""
    f = OPS[op]
    for reflected in (False, True):
        x = gg.tensor([1.5, 2.0], requires_grad=True)
        y = f(scalar, x) if reflected else f(x, scalar)
        assert y.dtype == gg.float32
        y.sum().backward()
        assert x.grad.dtype == gg.float32
        xt = torch.tensor([1.5, 2.0], requires_grad=True)
        yt = f(scalar, xt) if reflected else f(xt, scalar)
        yt.sum().backward()
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6)


def test_numpy_array_operand_is_a_tensor_of_its_dtype_with_gradient():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = x + np.ones(2)
    assert y.dtype == gg.float64
    (y * y).sum().backward()
    assert x.grad.dtype == gg.float32
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 6.0])
    assert (np.ones(2) * x).dtype == gg.float64  # NumPy defers to the tensor's reflected op
    assert gg.maximum(x, np.zeros(2, dtype=np.float64)).dtype == gg.float64
    assert gg.where(gg.tensor([True, False]), x, np.zeros(2)).dtype == gg.float64
    assert gg.clamp(x, min=np.float64(1.5)).dtype == gg.float32


def test_unsupported_operands_are_refused_clearly():
    with pytest.raises(TypeError, match="int8"):
        gg.tensor([1.0]) + np.array([1], dtype=np.int8)
    with pytest.raises(TypeError, match="complex"):
        gg.tensor([1.0]) * 1j


# -- pow on bool and integer tensors ------------------------------------------------------------

BASES = {
    "bool": ([True, False], "bool"),
    "int64": ([-1, 0, 1, 2, 3], "int64"),
    "int32": ([-1, 0, 1, 2, 3], "int32"),
    "uint8": ([0, 1, 2, 3], "uint8"),
    "float32": ([0.5, 1.0, 2.0], "float32"),
}
EXPONENTS = [True, False, 0, 1, 2, -1, -2, 0.5, 2.0, np.int64(2), np.int64(-1), np.float64(2.0)]


def _same(got, ref, what):
    assert got.dtype.name == str(ref.dtype).split(".")[-1], f"{what}: {got.dtype} vs torch's {ref.dtype}"
    np.testing.assert_allclose(got.numpy().astype(float), ref.numpy().astype(float), rtol=1e-6, err_msg=what)


@pytest.mark.parametrize("bname", BASES)
@pytest.mark.parametrize("exponent", EXPONENTS, ids=repr)
def test_pow_tensor_by_number(bname, exponent):
    values, dt = BASES[bname]
    g, t = gg.tensor(values, dtype=getattr(gg, dt)), torch.tensor(values, dtype=getattr(torch, dt))
    ref, ref_err = _run(lambda: t**exponent)
    if ref_err is not None:  # integers to negative integer powers
        with pytest.raises(RuntimeError, match="negative"):
            g**exponent
        return
    got = g**exponent
    _same(got, ref, f"{bname} ** {exponent!r}")
    repr(got)  # every result has a dtype glassgrad can name and print


@pytest.mark.parametrize("bname", BASES)
@pytest.mark.parametrize("ename", ["bool", "int64", "uint8", "int64_negative", "float32", "bool_0d",
                                   "int64_0d_negative"])
def test_pow_tensor_by_tensor(bname, ename):
    values, dt = BASES[bname]
    n = len(values)
    exps = {
        "bool": ([True, False] * n)[:n], "int64": ([2, 0, 3] * n)[:n], "uint8": ([2, 0, 3] * n)[:n],
        "int64_negative": ([-1, -2, -3] * n)[:n], "float32": ([0.5, 2.0] * n)[:n], "bool_0d": True,
        "int64_0d_negative": -1,
    }
    edt = {"bool": "bool", "int64": "int64", "uint8": "uint8", "int64_negative": "int64",
           "float32": "float32", "bool_0d": "bool", "int64_0d_negative": "int64"}[ename]
    g, t = gg.tensor(values, dtype=getattr(gg, dt)), torch.tensor(values, dtype=getattr(torch, dt))
    ge = gg.tensor(exps[ename], dtype=getattr(gg, edt))
    te = torch.tensor(exps[ename], dtype=getattr(torch, edt))
    for reflected in (False, True):
        ref, ref_err = _run(lambda r=reflected: te**t if r else t**te)
        what = f"{ename} ** {bname}" if reflected else f"{bname} ** {ename}"
        if ref_err is not None:
            with pytest.raises(RuntimeError, match="bool"):
                ge**g if reflected else g**ge
            continue
        _same(ge**g if reflected else g**ge, ref, what)


@pytest.mark.parametrize("base", [True, 2, -1, 2.5, np.int64(2), np.float32(2.0), np.bool_(True)], ids=repr)
@pytest.mark.parametrize("bname", ["bool", "int64", "uint8", "float32"])
def test_number_to_tensor_power(base, bname):
    values, dt = BASES[bname]
    g, t = gg.tensor(values, dtype=getattr(gg, dt)), torch.tensor(values, dtype=getattr(torch, dt))
    ref, ref_err = _run(lambda: _torch_operand(base) ** t)
    if ref_err is not None:
        with pytest.raises(RuntimeError, match="bool"):
            base**g
        return
    _same(base**g, ref, f"{base!r} ** {bname}")


def test_bool_tensor_to_bool_power_is_bool():
    """The bug: ``tensor([True, False]) ** True`` gave an int8 array whose dtype and repr raised."""
    got = gg.tensor([True, False]) ** True
    assert got.dtype == gg.bool and got.tolist() == [True, False]
    assert repr(got) == "tensor([ True, False])"
    assert (gg.tensor([True, False]) ** False).tolist() == [True, True]


# -- every result has a dtype glassgrad can name --------------------------------------------------

DTYPE_NAMES = ["bool", "uint8", "int32", "int64", "float32", "float64"]
ODD_SCALARS = [True, 2, 2.5, np.int8(3), np.int16(3), np.uint8(200), np.float16(2.0), np.bool_(True)]


def _sample(name):
    values = [[0, 1, 1], [1, 0, 1]] if name == "bool" else [[0, 1, 2], [3, 4, 5]]
    return gg.tensor(values, dtype=getattr(gg, name))


def _results(name):
    """(description, thunk) for the ops whose result dtype comes from NumPy's arithmetic."""
    x = _sample(name)
    yield "logsumexp", lambda: gg.logsumexp(x, 0)
    yield "sum", lambda: gg.sum(x)
    for s in ODD_SCALARS:
        for f in (operator.add, operator.mul, operator.truediv, operator.pow, operator.and_,
                  operator.or_, operator.xor):
            yield f"{f.__name__}(x, {s!r})", lambda f=f, s=s: f(x, s)
            yield f"{f.__name__}({s!r}, x)", lambda f=f, s=s: f(s, x)
        yield f"clamp(x, {s!r})", lambda s=s: gg.clamp(x, s)
        yield f"masked_fill(x, {s!r})", lambda s=s: gg.masked_fill(x, x != x, s)
    for other in DTYPE_NAMES:
        for f in (operator.add, operator.mul, operator.pow, operator.and_):
            yield f"{f.__name__}(x, {other} tensor)", lambda f=f, o=other: f(x, _sample(o))


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_no_op_makes_a_dtype_glassgrad_cannot_name(name):
    for what, thunk in _results(name):
        try:
            y = thunk()
        except (RuntimeError, TypeError) as e:  # refused, with a message (e.g. pow of two bools)
            assert str(e), what
            continue
        assert y.dtype.name in DTYPE_NAMES, f"{what} on {name}"
        repr(y)


def test_integer_logsumexp_computes_in_default_float_like_torch():
    for dt in ("uint8", "int64", "bool"):
        got = gg.logsumexp(_sample(dt), 0)
        ref = torch.logsumexp(torch.tensor(_sample(dt).numpy()), 0)
        _same(got, ref, f"logsumexp of {dt}")


def test_numbers_an_integer_dtype_cannot_hold():
    u = gg.tensor([0, 1, 2], dtype=gg.uint8)
    for f in (lambda m, t: t**300, lambda m, t: m.clamp(t, max=300)):
        with pytest.raises(RuntimeError):
            f(torch, torch.tensor([0, 1, 2], dtype=torch.uint8))
        with pytest.raises(RuntimeError, match="300 cannot be converted to uint8"):
            f(gg, u)
    # where torch wraps around, so does glassgrad
    assert (u + -1).tolist() == [255, 0, 1] and (u + 300).tolist() == [44, 45, 46]
    assert gg.masked_fill(u, gg.tensor([True, False, True]), -1).tolist() == [255, 1, 255]
