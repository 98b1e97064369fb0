"""default_collate and default_convert, checked against torch's."""

from collections import namedtuple

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate as torch_collate

import glassgrad as gg
from glassgrad.utils.data import default_collate, default_convert

Point = namedtuple("Point", ["x", "label"])


def assert_same_batch(ours, theirs):
    """Same structure (container types, keys), same values and dtypes."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, gg.Tensor)
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for k in theirs:
            assert_same_batch(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours).__name__ == type(theirs).__name__ and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same_batch(a, b)
    else:
        assert ours == theirs


def samples(kind, rng):
    arrays = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(4)]
    if kind == "tensors":
        return [gg.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]
    if kind == "arrays":
        return arrays, arrays
    if kind == "floats":
        return [1.5, 2.0, -3.25], [1.5, 2.0, -3.25]
    if kind == "ints":
        return [1, 5, 7], [1, 5, 7]
    if kind == "bools":
        return [True, False], [True, False]
    if kind == "numpy scalars":
        s = [np.float32(1.5), np.float32(2.5)]
        return s, s
    if kind == "strings":
        return ["a", "bc"], ["a", "bc"]
    if kind == "tuples":
        return ([(gg.tensor(a), i) for i, a in enumerate(arrays)],
                [(torch.tensor(a), i) for i, a in enumerate(arrays)])
    if kind == "dicts":
        return ([{"x": a, "y": float(i), "name": str(i)} for i, a in enumerate(arrays)],
                [{"x": a, "y": float(i), "name": str(i)} for i, a in enumerate(arrays)])
    if kind == "namedtuples":
        return ([Point(gg.tensor(a), i) for i, a in enumerate(arrays)],
                [Point(torch.tensor(a), i) for i, a in enumerate(arrays)])
    if kind == "nested":
        return ([{"pair": (a, [i, i + 1])} for i, a in enumerate(arrays)],
                [{"pair": (a, [i, i + 1])} for i, a in enumerate(arrays)])
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["tensors", "arrays", "floats", "ints", "bools", "numpy scalars", "strings",
                                  "tuples", "dicts", "namedtuples", "nested"])
def test_default_collate_matches_torch(kind):
    ours, theirs = samples(kind, np.random.default_rng(0))
    assert_same_batch(default_collate(ours), torch_collate(theirs))


def test_default_collate_keeps_grad():
    a = gg.ones(2, requires_grad=True)
    batch = default_collate([a, a * 2])
    batch.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.0])


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="differ in shape"):
        default_collate([gg.zeros(2), gg.zeros(3)])
    with pytest.raises(RuntimeError, match="differ in shape"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match="sequences of different lengths"):
        default_collate([(1, 2), (1, 2, 3)])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object()])
    with pytest.raises(TypeError, match="dtype <U1"):
        default_collate([np.array(["a"])])
    with pytest.raises(ValueError, match="empty"):
        default_collate([])


def test_default_convert():
    a = np.arange(3)
    out = default_convert({"a": a, "b": (a, "s"), "c": 1.5})
    assert isinstance(out["a"], gg.Tensor) and out["a"].tolist() == [0, 1, 2]
    assert isinstance(out["b"], list) and isinstance(out["b"][0], gg.Tensor) and out["b"][1] == "s"
    assert out["c"] == 1.5
