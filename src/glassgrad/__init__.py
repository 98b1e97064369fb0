"""glassgrad: a deep-learning library written from scratch on NumPy, with PyTorch's names.

    import glassgrad as gg
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    (x ** 2).sum().backward()
    x.grad  # tensor([2., 4.])
"""

# first, on import: let malloc keep freed memory (fewer page faults; GLASSGRAD_MALLOC=system
# opts out), see _malloc.py
from glassgrad import _malloc  # noqa: F401

# isort: split
# _tensor first: it defines Tensor, which the op modules import (see functions/_operands.py)
from glassgrad._tensor import Tensor, as_tensor, from_numpy, tensor

# isort: split
from glassgrad import autograd, cuda, datasets, linalg, nn, optim
from glassgrad._creation import (
    arange,
    bernoulli,
    empty,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    zeros,
    zeros_like,
)
from glassgrad._device import device
from glassgrad._dtype import bool_ as bool  # noqa: A004 - PyTorch's name
from glassgrad._dtype import (
    dtype,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from glassgrad._random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from glassgrad._threads import get_num_threads, set_num_threads
from glassgrad.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from glassgrad.functions.activation import log_softmax, relu, sigmoid, softmax, tanh
from glassgrad.functions.array import (
    broadcast_to,
    cat,
    chunk,
    diag,
    expand,
    flatten,
    flip,
    masked_fill,
    permute,
    reshape,
    roll,
    split,
    squeeze,
    stack,
    transpose,
    tril,
    triu,
    unbind,
    unflatten,
    unsqueeze,
)
from glassgrad.functions.connection import einsum, matmul, outer
from glassgrad.functions.indexing import gather, index_select, scatter, scatter_add
from glassgrad.functions.math import (
    abs,  # noqa: A004
    add,
    clamp,
    cos,
    div,
    erf,
    exp,
    lerp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,  # noqa: A004
    sin,
    sqrt,
    sub,
    where,
)
from glassgrad.functions.reduction import (
    amax,
    amin,
    argmax,
    argmin,
    cumprod,
    cumsum,
    logsumexp,
    max,  # noqa: A004
    mean,
    min,  # noqa: A004
    norm,
    prod,
    std,
    sum,  # noqa: A004
    var,
)
from glassgrad.functions.sorting import argsort, sort, topk

clip = clamp
concat = concatenate = cat
float = float32  # noqa: A001 - torch.float
double = float64
long = int64

__version__ = "0.1.0"

# the toolkit built on the engine above
from glassgrad import train, utils  # noqa: E402
from glassgrad.serialization import load, save  # noqa: E402


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def numel(x: Tensor) -> int:
    return x.numel()


def allclose(a: Tensor, b: Tensor, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    return a.allclose(b, rtol, atol)


def __getattr__(name: str):
    # gg.onnx is imported on first use: it needs the optional onnx package, and most programs
    # never export
    if name == "onnx":
        import importlib

        return importlib.import_module("glassgrad.onnx")
    raise AttributeError(f"module 'glassgrad' has no attribute {name!r}")
