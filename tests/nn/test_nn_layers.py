"""Every layer against its torch.nn twin: same weights (copied through a NumPy state dict), same
input; output, input gradient and parameter gradients must match (float64 tight, float32 loose)."""

import numpy as np
import pytest
import torch
import torch.nn as tnn

import glassgrad as gg
from glassgrad import nn
from tests.nn._nn_testing import GG_DTYPE, TORCH_DTYPE, check_forward_backward, copy_torch_to_gg, randomize_torch

DTYPES = [np.float64, np.float32]

# (id, glassgrad module factory, torch module factory, input shape)
CASES = [
    ("linear", lambda: nn.Linear(5, 3), lambda: tnn.Linear(5, 3), (4, 5)),
    ("linear-3d-input", lambda: nn.Linear(5, 3), lambda: tnn.Linear(5, 3), (2, 4, 5)),
    ("linear-no-bias", lambda: nn.Linear(5, 3, bias=False), lambda: tnn.Linear(5, 3, bias=False), (4, 5)),
    ("identity", lambda: nn.Identity(7, a=1), lambda: tnn.Identity(), (3, 4)),
    ("relu", nn.ReLU, tnn.ReLU, (4, 6)),
    ("sigmoid", nn.Sigmoid, tnn.Sigmoid, (4, 6)),
    ("logsigmoid", nn.LogSigmoid, tnn.LogSigmoid, (4, 6)),
    ("tanh", nn.Tanh, tnn.Tanh, (4, 6)),
    ("leaky_relu", lambda: nn.LeakyReLU(0.2), lambda: tnn.LeakyReLU(0.2), (4, 6)),
    ("gelu", nn.GELU, tnn.GELU, (4, 6)),
    ("gelu-tanh", lambda: nn.GELU("tanh"), lambda: tnn.GELU("tanh"), (4, 6)),
    ("softplus", lambda: nn.Softplus(2.0, 3.0), lambda: tnn.Softplus(2.0, 3.0), (4, 6)),
    ("hardsigmoid", nn.Hardsigmoid, tnn.Hardsigmoid, (4, 6)),
    ("softmax", lambda: nn.Softmax(dim=1), lambda: tnn.Softmax(dim=1), (4, 6)),
    ("log_softmax", lambda: nn.LogSoftmax(dim=-1), lambda: tnn.LogSoftmax(dim=-1), (2, 3, 6)),
    ("flatten", nn.Flatten, tnn.Flatten, (2, 3, 4)),
    ("flatten-0-1", lambda: nn.Flatten(0, 1), lambda: tnn.Flatten(0, 1), (2, 3, 4)),
    ("unflatten", lambda: nn.Unflatten(1, (2, 3)), lambda: tnn.Unflatten(1, (2, 3)), (4, 6)),
    ("layer_norm", lambda: nn.LayerNorm(6), lambda: tnn.LayerNorm(6), (4, 6)),
    ("layer_norm-2d-shape", lambda: nn.LayerNorm((3, 6)), lambda: tnn.LayerNorm((3, 6)), (2, 3, 6)),
    (
        "layer_norm-no-affine",
        lambda: nn.LayerNorm(6, elementwise_affine=False),
        lambda: tnn.LayerNorm(6, elementwise_affine=False),
        (4, 6),
    ),
    ("layer_norm-no-bias", lambda: nn.LayerNorm(6, bias=False), lambda: tnn.LayerNorm(6, bias=False), (4, 6)),
    ("batch_norm-2d", lambda: nn.BatchNorm1d(6), lambda: tnn.BatchNorm1d(6), (8, 6)),
    ("batch_norm-3d", lambda: nn.BatchNorm1d(6), lambda: tnn.BatchNorm1d(6), (4, 6, 5)),
    (
        "batch_norm-no-affine",
        lambda: nn.BatchNorm1d(6, affine=False),
        lambda: tnn.BatchNorm1d(6, affine=False),
        (8, 6),
    ),
    (
        "batch_norm-no-bias",
        lambda: nn.BatchNorm1d(6, bias=False),
        lambda: tnn.BatchNorm1d(6, bias=False),
        (8, 6),
    ),
    (
        "batch_norm-no-stats",
        lambda: nn.BatchNorm1d(6, track_running_stats=False),
        lambda: tnn.BatchNorm1d(6, track_running_stats=False),
        (8, 6),
    ),
    (
        "mlp",
        lambda: nn.Sequential(
            nn.Linear(5, 8), nn.BatchNorm1d(8), nn.GELU(), nn.Linear(8, 4), nn.LayerNorm(4)
        ),
        lambda: tnn.Sequential(
            tnn.Linear(5, 8), tnn.BatchNorm1d(8), tnn.GELU(), tnn.Linear(8, 4), tnn.LayerNorm(4)
        ),
        (6, 5),
    ),
]


def _pair(make_g, make_t, dtype):
    t = randomize_torch(make_t()).to(TORCH_DTYPE[dtype])
    g = make_g().to(GG_DTYPE[dtype])
    copy_torch_to_gg(t, g)
    return g, t


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_layer_matches_torch(case, dtype, mode):
    case_id, make_g, make_t, shape = case
    g, t = _pair(make_g, make_t, dtype)
    if mode == "eval":
        # give BatchNorm non-trivial running statistics first
        for _ in range(2):
            x = np.random.default_rng(5).standard_normal(shape) * 2 + 1
            g(gg.tensor(x.astype(dtype)))
            t(torch.tensor(x.astype(dtype)))
        g.eval()
        t.eval()
    x = np.random.default_rng(0).standard_normal(shape) * 2
    # torch's hardsigmoid backward multiplies by 1/6 rounded to float32, even in float64
    check_forward_backward(g, t, x, dtype, grad_tol_dtype=np.float32 if case_id == "hardsigmoid" else None)
    for name, b in t.named_buffers():
        np.testing.assert_allclose(g.get_buffer(name)._data, b.numpy(), rtol=1e-6, err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(dtype, padding_idx):
    g, t = _pair(
        lambda: nn.Embedding(10, 4, padding_idx=padding_idx),
        lambda: tnn.Embedding(10, 4, padding_idx=padding_idx),
        dtype,
    )
    idx = np.array([[1, 2, 2, 9], [0, 2, 1, 1], [9, 9, 3, 2]])
    gy, ty = g(gg.tensor(idx)), t(torch.tensor(idx))
    np.testing.assert_allclose(gy._data, ty.detach().numpy())
    up = np.random.default_rng(0).standard_normal(ty.shape).astype(dtype)
    gy.backward(gg.tensor(up))
    ty.backward(torch.tensor(up))
    np.testing.assert_allclose(g.weight.grad._data, t.weight.grad.numpy(), rtol=1e-5, atol=1e-6)
    if padding_idx is not None:
        assert not g.weight.grad._data[padding_idx].any()


def test_embedding_default_init_and_padding_row():
    e = nn.Embedding(1000, 20, padding_idx=3)
    w = e.weight._data
    assert not w[3].any()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02
    assert e.weight.dtype == gg.float32


def test_embedding_max_norm_matches_torch():
    t = tnn.Embedding(6, 3, max_norm=1.0).double()
    g = nn.Embedding(6, 3, max_norm=1.0).double()
    copy_torch_to_gg(t, g)
    idx = np.array([0, 2, 2, 5])
    np.testing.assert_allclose(g(gg.tensor(idx))._data, t(torch.tensor(idx)).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(g.weight._data, t.weight.detach().numpy(), rtol=1e-12)


def test_embedding_from_pretrained():
    table = gg.randn(5, 3)
    e = nn.Embedding.from_pretrained(table)
    assert not e.weight.requires_grad
    np.testing.assert_array_equal(e(gg.tensor([4, 0]))._data, table._data[[4, 0]])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


def test_embedding_double_backward():
    w = gg.randn(6, 3, dtype=gg.float64, requires_grad=True)
    idx = gg.tensor([[0, 1, 1], [5, 2, 0]])
    assert gg.autograd.gradgradcheck(lambda w: gg.nn.functional.embedding(idx, w, padding_idx=1) ** 2, (w,))


def test_dropout_train_and_eval():
    d = nn.Dropout(0.3)
    x = gg.ones(200, 500, requires_grad=True)
    y = d(x)
    kept = y._data != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y._data[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad._data, y._data)  # the gradient is the scaled mask
    d.eval()
    assert d(x) is x


def test_dropout_reproducible_and_edge_probabilities():
    x = gg.randn(50, 40)
    gg.manual_seed(3)
    a = nn.functional.dropout(x, 0.5)
    gg.manual_seed(3)
    b = nn.functional.dropout(x, 0.5)
    np.testing.assert_array_equal(a._data, b._data)
    assert not nn.functional.dropout(x, 1.0)._data.any()
    assert nn.functional.dropout(x, 0.0) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.functional.dropout(x, -0.1)


def test_softmax_without_dim_uses_legacy_choice():
    x = gg.randn(3, 4)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = nn.Softmax()(x)
    np.testing.assert_allclose(y._data.sum(1), 1, rtol=1e-6)


def test_reprs_match_torch():
    pairs = [
        (nn.Linear(2, 3, bias=False), tnn.Linear(2, 3, bias=False)),
        (nn.BatchNorm1d(3, momentum=None, affine=False), tnn.BatchNorm1d(3, momentum=None, affine=False)),
        (nn.LayerNorm((2, 3), bias=False), tnn.LayerNorm((2, 3), bias=False)),
        (nn.Embedding(10, 3, padding_idx=0, max_norm=2.0), tnn.Embedding(10, 3, padding_idx=0, max_norm=2.0)),
        (nn.Dropout(0.2), tnn.Dropout(0.2)),
        (nn.Unflatten(1, (2, 3)), tnn.Unflatten(1, (2, 3))),
        (nn.Softmax(dim=1), tnn.Softmax(dim=1)),
        (nn.ReLU(inplace=True), tnn.ReLU(inplace=True)),
        (nn.LeakyReLU(0.1), tnn.LeakyReLU(0.1)),
        (nn.GELU("tanh"), tnn.GELU("tanh")),
        (nn.Softplus(), tnn.Softplus()),
        (nn.CrossEntropyLoss(), tnn.CrossEntropyLoss()),
        (
            nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Tanh(), nn.Flatten())),
            tnn.Sequential(tnn.Linear(2, 3), tnn.Sequential(tnn.Tanh(), tnn.Flatten())),
        ),
        (
            nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()]),
            tnn.ModuleList([tnn.Linear(2, 2) for _ in range(3)] + [tnn.ReLU()]),
        ),
        (
            nn.ModuleDict({"a": nn.Identity(), "b": nn.Sigmoid()}),
            tnn.ModuleDict({"a": tnn.Identity(), "b": tnn.Sigmoid()}),
        ),
    ]
    for g, t in pairs:
        assert repr(g) == repr(t)
    assert repr(nn.Parameter(gg.ones(2))) == repr(tnn.Parameter(torch.ones(2)))


def test_default_dtype_and_dtype_argument():
    assert nn.Linear(2, 3).weight.dtype == gg.float32
    lin = nn.Linear(2, 3, dtype=gg.float64)
    assert lin.weight.dtype == gg.float64 and lin.bias.dtype == gg.float64
    assert nn.BatchNorm1d(3, dtype=gg.float64).running_var.dtype == gg.float64
    assert nn.BatchNorm1d(3).num_batches_tracked.dtype == gg.int64
