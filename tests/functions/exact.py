"""Compare an op's outputs with PyTorch's on inputs of any dtype (integers and bools, which
``tests.oracle.check_values`` cannot make since it asks for gradients): equal values, shapes and
dtypes."""

import numpy as np
import torch

import glassgrad as gg


def same_outputs(fn, *arrays, torch_fn=None) -> None:
    """``fn(glassgrad, *tensors)`` equals ``(torch_fn or fn)(torch, *tensors)`` exactly."""
    got = fn(gg, *[gg.tensor(np.asarray(a)) for a in arrays])
    ref = (torch_fn or fn)(torch, *[torch.tensor(np.asarray(a)) for a in arrays])
    got = (got,) if isinstance(got, gg.Tensor) else tuple(got)
    ref = (ref,) if isinstance(ref, torch.Tensor) else tuple(ref)
    assert len(got) == len(ref)
    for k, (a, e) in enumerate(zip(got, ref)):
        assert str(a.dtype).split(".")[-1] == str(e.dtype).split(".")[-1], f"output {k}: {a.dtype} != {e.dtype}"
        np.testing.assert_array_equal(a.numpy(), e.numpy(), err_msg=f"output {k}")
