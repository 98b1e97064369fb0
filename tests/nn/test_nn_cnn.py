"""The other CNN layers against torch.nn (pooling, BatchNorm2d, Dropout2d), and a small CNN as a
whole: its state-dict keys, its outputs with torch's weights, and feature maps read by hooks."""

import numpy as np
import pytest
import torch
import torch.nn as tnn

import glassgrad as gg
from glassgrad import nn
from tests.nn._nn_testing import GG_DTYPE, TORCH_DTYPE, assert_close, check_forward_backward, copy_torch_to_gg

DTYPES = [np.float64, np.float32]
DTYPE_IDS = ["float64", "float32"]

POOLS = [
    ("max2", lambda lib: lib.MaxPool2d(2), (2, 3, 8, 7)),
    ("max3-s2-p1", lambda lib: lib.MaxPool2d(3, stride=2, padding=1), (2, 3, 9, 8)),
    ("max-rect-dil-ceil", lambda lib: lib.MaxPool2d((2, 3), (1, 2), 1, dilation=2, ceil_mode=True), (1, 2, 7, 9)),
    ("avg2", lambda lib: lib.AvgPool2d(2), (2, 3, 8, 6)),
    ("avg3-s2-p1-nopad", lambda lib: lib.AvgPool2d(3, 2, 1, count_include_pad=False), (2, 2, 9, 8)),
    ("avg-ceil-divisor", lambda lib: lib.AvgPool2d(2, ceil_mode=True, divisor_override=3), (1, 2, 5, 7)),
    ("adaptive-avg-1", lambda lib: lib.AdaptiveAvgPool2d(1), (2, 4, 5, 6)),
    ("adaptive-avg-uneven", lambda lib: lib.AdaptiveAvgPool2d((3, None)), (2, 2, 7, 5)),
    ("adaptive-max-uneven", lambda lib: lib.AdaptiveMaxPool2d((3, 4)), (2, 2, 7, 9)),
    ("unbatched-max", lambda lib: lib.MaxPool2d(2), (3, 6, 6)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", POOLS, ids=[c[0] for c in POOLS])
def test_pooling_layers_match_torch(case, dtype):
    _, make, shape = case
    x = np.random.default_rng(0).standard_normal(shape)  # continuous values: no ties in a window
    check_forward_backward(make(nn), make(tnn), x, dtype)


@pytest.mark.parametrize(
    "make", [lambda lib: lib.MaxPool2d(3, 2, 1, return_indices=True),
             lambda lib: lib.AdaptiveMaxPool2d((3, 2), return_indices=True)]
)
def test_pooling_return_indices_match_torch(make):
    x = np.random.default_rng(1).standard_normal((2, 3, 7, 5))
    (gy, gi), (ty, ti) = make(nn)(gg.tensor(x)), make(tnn)(torch.tensor(x))
    assert_close(gy, ty, np.float64, "values")
    np.testing.assert_array_equal(gi._data, ti.numpy())
    assert gi.dtype == gg.int64


def test_pooling_reprs_match_torch():
    for make in [
        lambda lib: lib.MaxPool2d(2),
        lambda lib: lib.MaxPool2d((2, 3), stride=1, padding=1, dilation=2, ceil_mode=True),
        lambda lib: lib.AvgPool2d(3, 2, 1, count_include_pad=False),
        lambda lib: lib.AdaptiveAvgPool2d((2, None)),
        lambda lib: lib.AdaptiveMaxPool2d(3),
        lambda lib: lib.BatchNorm2d(4, momentum=None),
        lambda lib: lib.Dropout2d(0.25),
    ]:
        assert repr(make(nn)) == repr(make(tnn))


@pytest.mark.parametrize(
    "layer,shape,error,match",
    [
        (nn.MaxPool2d(3), (2, 1, 2, 2), RuntimeError, r"does not fit the padded input.*\(2, 1, 2, 2\)"),
        (nn.MaxPool2d(2), (4, 8), RuntimeError, r"expected a 4-D input.*got an input of shape \(4, 8\)"),
        (nn.AvgPool2d(2, padding=2), (1, 1, 8, 8), ValueError, "at most half the kernel size"),
        (nn.AdaptiveAvgPool2d(0), (1, 1, 8, 8), ValueError, "output_size must be a positive int"),
        (nn.BatchNorm2d(3), (4, 3), ValueError, r"expected a 4-dim input, got shape \(4, 3\)"),
        (nn.BatchNorm2d(3), (4, 2, 5, 5), ValueError, r"expected 3 features in dim 1.*\(4, 2, 5, 5\)"),
    ],
)
def test_bad_input_names_the_layer(layer, shape, error, match):
    with pytest.raises(error, match=match) as err:
        layer(gg.zeros(*shape))
    assert str(err.value).startswith(repr(layer).split("\n")[0] + ": ")


# -- BatchNorm2d ----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize(
    "kwargs", [{}, {"momentum": None}, {"affine": False}, {"track_running_stats": False}, {"momentum": 0.3}]
)
def test_batchnorm2d_train_eval_and_running_stats_match_torch(kwargs, dtype):
    t = tnn.BatchNorm2d(4, **kwargs).to(TORCH_DTYPE[dtype])
    g = nn.BatchNorm2d(4, **kwargs).to(GG_DTYPE[dtype])
    if t.affine:
        with torch.no_grad():
            t.weight.uniform_(0.5, 2)
            t.bias.uniform_(-1, 1)
    copy_torch_to_gg(t, g)
    rng = np.random.default_rng(3)
    for step in range(3):  # training steps: batch statistics, running statistics updated
        x = rng.standard_normal((5, 4, 3, 6)) * (step + 1) + np.arange(4)[:, None, None]
        check_forward_backward(g, t, x, dtype)
        for name, b in t.named_buffers():
            np.testing.assert_allclose(g.get_buffer(name)._data, b.numpy(), rtol=1e-6, err_msg=name)
    g.eval()
    t.eval()
    check_forward_backward(g, t, rng.standard_normal((2, 4, 5, 5)), dtype)  # running statistics


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("wanted", [(1, 1, 1), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 0, 1)])
def test_batch_norm_fused_backward_for_each_subset_of_inputs(wanted, training):
    """F.batch_norm's first-order backward (fused on arrays) for every choice of inputs that need
    a gradient, in training (batch statistics) and evaluation (running statistics), 4-D and 3-D."""
    rng = np.random.default_rng(2)
    for shape in ((4, 3, 5, 6), (6, 3, 7)):
        arrays = [rng.standard_normal(shape) * 3 + 1, rng.uniform(0.5, 2, 3), rng.standard_normal(3)]
        running = [rng.standard_normal(3), rng.uniform(0.5, 2, 3)]
        up = rng.standard_normal(shape)
        grads = []
        for lib, F in ((gg, nn.functional), (torch, torch.nn.functional)):
            xs = [lib.tensor(a, requires_grad=bool(w)) for a, w in zip(arrays, wanted)]
            stats = [lib.tensor(r.copy()) for r in running]
            y = F.batch_norm(xs[0], *stats, xs[1], xs[2], training=training)
            y.backward(lib.tensor(up))
            grads.append([t.grad for t in xs])
        for i, (a, e) in enumerate(zip(*grads)):
            assert (a is None) == (e is None), f"input {i}"
            if a is not None:
                assert_close(a, e, np.float64, f"gradient of input {i}")


def test_batchnorm2d_double_backward_matches_torch():
    x = np.random.default_rng(0).standard_normal((3, 2, 4, 4))
    hs = []
    for lib, mod in ((gg, nn), (torch, tnn)):
        bn = mod.BatchNorm2d(2).double()
        xt = lib.tensor(x, requires_grad=True)
        (gx,) = lib.autograd.grad((bn(xt) ** 3).sum(), [xt], create_graph=True)
        hs.append(lib.autograd.grad((gx * gx).sum(), [xt])[0])
    assert_close(hs[0], hs[1], np.float64, "second-order gradient")


# -- Dropout2d ------------------------------------------------------------------------------


def test_dropout2d_zeroes_whole_channels_with_probability_p():
    p, x = 0.3, gg.ones(200, 50, 3, 4, requires_grad=True)
    y = nn.Dropout2d(p)(x)
    a = y._data
    per_channel = a.reshape(200, 50, -1)
    assert (per_channel == per_channel[:, :, :1]).all()  # one decision per (image, channel)
    dropped = per_channel[:, :, 0] == 0
    assert abs(dropped.mean() - p) < 0.02  # 10,000 channels: std of the fraction is 0.0046
    np.testing.assert_allclose(per_channel[~dropped], 1 / (1 - p), rtol=1e-6)
    assert abs(dropped.mean(0) - p).max() < 0.25 and abs(dropped.mean(1) - p).max() < 0.3  # no pattern
    y.sum().backward()
    np.testing.assert_array_equal(x.grad._data, a)  # gradient: the same scaled mask


def test_dropout2d_eval_reproducibility_and_edges():
    x = gg.randn(4, 6, 5, 5)
    d = nn.Dropout2d(0.5)
    gg.manual_seed(1)
    a = d(x)
    gg.manual_seed(1)
    np.testing.assert_array_equal(a._data, d(x)._data)
    g1, g2 = gg.Generator(3), gg.Generator(3)
    np.testing.assert_array_equal(
        nn.functional.dropout2d(x, 0.5, generator=g1)._data, nn.functional.dropout2d(x, 0.5, generator=g2)._data
    )
    d.eval()
    assert d(x) is x
    assert not nn.functional.dropout2d(x, 1.0)._data.any()
    assert nn.functional.dropout2d(x, 0.0) is x
    y = nn.functional.dropout2d(gg.ones(30, 40, 7), 0.5)._data  # 3-D: [N, C, L], one draw per (n, c)
    assert (y == y[:, :, :1]).all() and 0.3 < (y[:, :, 0] == 0).mean() < 0.7
    with pytest.raises(ValueError, match=r"expected a 4-D input.*\(4, 6\)"):
        nn.functional.dropout2d(gg.ones(4, 6))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.2)


# -- a small CNN as a whole ------------------------------------------------------------------


def small_cnn(lib):
    """Conv-BN-ReLU-MaxPool x 2, then a classifier on the flattened 32 x 7 x 7 maps."""
    return lib.Sequential(
        lib.Conv2d(1, 16, 3, padding=1), lib.BatchNorm2d(16), lib.ReLU(), lib.MaxPool2d(2),
        lib.Conv2d(16, 32, 3, padding=1), lib.BatchNorm2d(32), lib.ReLU(), lib.MaxPool2d(2),
        lib.Flatten(), lib.Linear(32 * 7 * 7, 10),
    )


def test_small_cnn_state_dict_matches_torch():
    g, t = small_cnn(nn), small_cnn(tnn)
    g_state, t_state = g.state_dict(), t.state_dict()
    assert list(g_state) == list(t_state)
    for k, v in t_state.items():
        assert tuple(g_state[k].shape) == tuple(v.shape), k
        assert g_state[k].dtype.name == str(v.dtype).split(".")[-1], k
    copy_torch_to_gg(t.double(), g.double())
    x = np.random.default_rng(0).standard_normal((4, 1, 28, 28))
    check_forward_backward(g, t, x, np.float64)  # training mode: batch statistics
    g.eval()
    t.eval()
    check_forward_backward(g, t, x, np.float64)  # eval mode: the running statistics just updated
    # and back: torch loads glassgrad's state dict
    t2 = small_cnn(tnn).double()
    t2.load_state_dict({k: torch.tensor(v.numpy()) for k, v in g.state_dict().items()})
    t2.eval()
    assert_close(g(gg.tensor(x)), t2(torch.tensor(x)), np.float64, "torch with glassgrad's weights")


def test_forward_hooks_capture_conv_feature_maps():
    model = small_cnn(nn)
    maps = {}
    convs = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    assert [name for name, _ in convs] == ["0", "4"]
    handles = [m.register_forward_hook(lambda mod, args, out, name=name: maps.__setitem__(name, out))
               for name, m in convs]
    x = gg.randn(3, 1, 28, 28)
    model(x)
    assert tuple(maps["0"].shape) == (3, 16, 28, 28) and tuple(maps["4"].shape) == (3, 32, 14, 14)
    np.testing.assert_allclose(maps["0"]._data, model[0](x)._data, rtol=1e-6)  # what conv1 computes
    h = model[3](model[2](model[1](maps["0"])))
    np.testing.assert_allclose(maps["4"]._data, model[4](h)._data, rtol=1e-5, atol=1e-6)
    for handle in handles:
        handle.remove()
    maps.clear()
    model(x)
    assert maps == {}
