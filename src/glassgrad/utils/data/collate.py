"""``default_collate``: how a list of samples becomes one batch.

Tensors, NumPy arrays and numbers are stacked into one tensor with a new first dimension (Python
floats become float64 and ints int64, as in PyTorch); tuples, lists and dicts are collated field
by field, so a list of ``(x, y)`` samples becomes ``[xs, ys]``; strings are kept as a list.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from glassgrad._tensor import Tensor, from_numpy, tensor
from glassgrad.functions.array import stack


def _check_same_shape(batch) -> None:
    shapes = {x.shape for x in batch}
    if len(shapes) != 1:
        raise RuntimeError(f"default_collate: the samples' tensors differ in shape ({sorted(shapes)}); "
                           "stacking needs equal shapes (pad them, or pass your own collate_fn)")


def default_collate(batch: Sequence):
    """Stack a list of samples into a batch (see the module docstring for the rules)."""
    if len(batch) == 0:
        raise ValueError("default_collate: the batch is empty")
    elem = batch[0]
    if isinstance(elem, Tensor):
        _check_same_shape(batch)
        if any(t.requires_grad for t in batch):  # stack with the op, to keep the batch in the graph
            return stack(list(batch))
        return Tensor._wrap(np.stack([t._data for t in batch]), False)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUS":
            raise TypeError(f"default_collate: cannot stack NumPy arrays of dtype {elem.dtype}")
        _check_same_shape(batch)
        return from_numpy(np.stack(batch))
    if isinstance(elem, np.generic) and elem.dtype.kind in "biuf":
        return tensor(np.array(batch))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, float):
        return tensor(batch, dtype="float64")
    if isinstance(elem, numbers.Integral):  # ints, and bools (a bool tensor)
        return tensor(batch)
    if isinstance(elem, Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:  # a mapping type that cannot be built from a dict
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        lengths = {len(sample) for sample in batch}
        if len(lengths) != 1:
            raise RuntimeError(
                f"default_collate: samples are sequences of different lengths {sorted(lengths)}"
            )
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(
        "default_collate: samples should contain tensors, NumPy arrays, numbers, strings, dicts, "
        f"tuples or lists; found {type(elem).__name__}"
    )


def default_convert(data):
    """Turn NumPy arrays (also inside tuples, lists and dicts) into tensors, leaving the rest as
    it is: what a DataLoader with ``batch_size=None`` applies to each sample."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OUS":
        return from_numpy(data)
    if isinstance(data, Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return [default_convert(d) for d in data]
    return data
