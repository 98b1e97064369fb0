"""The Tensor itself: construction from Python data (and its errors), requires_grad rules,
conversions, comparisons, and operators with NumPy arrays."""

import numpy as np
import pytest
import torch

import glassgrad as gg


@pytest.mark.parametrize(
    "data",
    [1.5, 3, True, [1, 2, 3], [1.0, 2], [[1, 2], [3, 4]], [True, False], [], [[]], np.float64(1.5),
     np.float32(2.5), np.int32(3), np.arange(6).reshape(2, 3), np.ones(3, dtype=np.float64),
     np.array(2.0), np.array([True])],
    ids=repr,
)
def test_tensor_from_data_like_torch(data):
    got, ref = gg.tensor(data), torch.tensor(data)
    assert got.shape == tuple(ref.shape)
    assert got.dtype.name == str(ref.dtype).split(".")[-1], f"{got.dtype} vs {ref.dtype}"
    np.testing.assert_array_equal(got.numpy(), ref.numpy())


def test_tensor_copies_its_data():
    a = np.ones(3)
    t = gg.tensor(a)
    a[0] = 5.0
    assert t.tolist() == [1.0, 1.0, 1.0]
    shared = gg.from_numpy(a)
    a[1] = 7.0
    assert shared.tolist() == [5.0, 7.0, 1.0]


def test_tensor_with_dtype():
    assert gg.tensor([1, 2], dtype=gg.float64).dtype == gg.float64
    assert gg.tensor([1.7, -1.7], dtype=gg.int64).tolist() == [1, -1]
    assert gg.tensor([1, 0], dtype=gg.bool).tolist() == [True, False]


@pytest.mark.parametrize("bad, exc, words", [
    ("abc", TypeError, "str"),
    ({"a": 1}, TypeError, "dict"),
    (None, TypeError, "NoneType"),
    ([1, "a"], TypeError, "str"),
    ([1, None], TypeError, "NoneType"),
    ([[1, 2], [3]], ValueError, "ragged"),
    ([[1, 2], 3], ValueError, "ragged"),
    ([1 + 2j], TypeError, "complex"),
])
def test_tensor_of_bad_data_says_what_was_given(bad, exc, words):
    with pytest.raises(exc, match=words):
        gg.tensor(bad)


def test_requires_grad_on_integer_tensor_refused():
    with pytest.raises(RuntimeError, match="floating point.*int64"):
        gg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point.*bool"):
        gg.tensor([True]).requires_grad_()
    t = gg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="floating point"):
        t.requires_grad = True
    assert not t.requires_grad


def test_requires_grad_off_only_on_leaves():
    x = gg.ones(2, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf.*detach"):
        y.requires_grad = False
    x.requires_grad_(False)
    assert not x.requires_grad


def test_item_and_conversions():
    t = gg.tensor([[2.5]])
    assert t.item() == 2.5 and float(t) == 2.5 and int(gg.tensor(3)) == 3 and bool(gg.tensor(1.0))
    with pytest.raises(RuntimeError, match="3 elements"):
        gg.ones(3).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(gg.ones(2))
    with pytest.raises(RuntimeError, match="detach"):
        gg.ones(2, requires_grad=True).numpy()
    assert gg.ones(2, requires_grad=True).detach().numpy().tolist() == [1.0, 1.0]
    assert len(gg.ones(4, 2)) == 4
    assert [r.tolist() for r in gg.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]


def test_size_dim_numel():
    t = gg.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.dim() == 3 == t.ndim and t.numel() == 24 == gg.numel(t)


def test_inplace_arithmetic_keeps_dtype_and_refuses_truncation_like_torch():
    for op, value in (("__iadd__", 1.5), ("add_", 0.5), ("mul_", 2.5), ("div_", 2), ("__itruediv__", 2),
                      ("sub_", gg.ones(3))):
        t, tt = gg.zeros(3, dtype=gg.int64), torch.zeros(3, dtype=torch.int64)
        with pytest.raises(RuntimeError):
            getattr(tt, op)(torch.ones(3) if isinstance(value, gg.Tensor) else value)
        with pytest.raises(RuntimeError, match="float32.*in place.*int64"):
            getattr(t, op)(value)
    t = gg.zeros(3, dtype=gg.int64)
    t += 2
    t.add_(gg.ones(3, dtype=gg.int64), alpha=3)
    assert t.tolist() == [5, 5, 5] and t.dtype == gg.int64
    f = gg.ones(2)  # float32, updated with float64 values: stays float32, as in torch
    f.sub_(gg.ones(2, dtype=gg.float64), alpha=0.25)
    f *= gg.tensor(2.0, dtype=gg.float64)
    assert f.tolist() == [1.5, 1.5] and f.dtype == gg.float32


def test_comparisons_and_logic_like_torch():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])
    ga, gb, ta, tb = gg.tensor(a), gg.tensor(b), torch.tensor(a), torch.tensor(b)
    for op in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
        got, ref = getattr(ga, op)(gb), getattr(ta, op)(tb)
        assert got.dtype == gg.bool and got.tolist() == ref.tolist()
        assert getattr(ga, op)(2.0).tolist() == getattr(ta, op)(2.0).tolist()
    m1, m2 = ga > 1.5, ga < 2.5
    assert (m1 & m2).tolist() == [False, True, False]
    assert (m1 | m2).tolist() == [True, True, True]
    assert (~m1).tolist() == [True, False, False]
    assert (ga > 0).all().item() and not (ga > 2).all().item() and (ga > 2).any().item()


def test_operators_with_numpy_arrays_give_tensors():
    t = gg.tensor([1.0, 2.0])
    for r in (np.ones(2) + t, t + np.ones(2), np.ones(2) * t, 2.0 - t, np.ones(2) @ t):
        assert isinstance(r, gg.Tensor)


def test_repr():
    assert repr(gg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "dtype=glassgrad.float64" in repr(gg.tensor([1.0], dtype=gg.float64))
    assert "requires_grad=True" in repr(gg.ones(1, requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(gg.ones(1, requires_grad=True) * 2)


def test_clone_is_differentiable_and_separate():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = x.clone()
    with gg.no_grad():
        y.mul_(0.0)
    assert x.tolist() == [1.0, 2.0]
    z = x.clone()
    (z * z).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_detach_shares_memory():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    d[0] = 7.0
    assert x.tolist() == [7.0, 2.0] and not d.requires_grad


def test_norm_like_torch():
    a = np.array([[3.0, -4.0], [1.0, 2.0]])
    for p, dim in ((2, None), (1, None), (2, 1), (3, 0)):
        np.testing.assert_allclose(gg.tensor(a).norm(p, dim).numpy(), torch.tensor(a).norm(p, dim).numpy())
