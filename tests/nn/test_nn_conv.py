"""Conv2d and ConvTranspose2d against torch.nn: same weights (through a NumPy state dict), random
shapes, strides, paddings, dilations and groups; forward, input and parameter gradients, and the
gradient of the gradient with respect to the input and the weight. Also the default
initialization, the repr and the errors for bad input."""

import math

import numpy as np
import pytest
import torch
import torch.nn as tnn
from hypothesis import assume, given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad import nn
from tests.nn._nn_testing import assert_close, check_forward_backward, copy_torch_to_gg, randomize_torch
from tests.oracle import ORACLE


def _pair(make, dtype=np.float64):
    """The same layer in both libraries, with torch's (randomized) weights copied across."""
    t = randomize_torch(make(tnn)).to(torch.float64 if dtype == np.float64 else torch.float32)
    g = make(nn).to(gg.float64 if dtype == np.float64 else gg.float32)
    copy_torch_to_gg(t, g)
    return g, t


def _second_order(lib, module, x_np, v, u_x, u_w):
    """Gradient of s = <dL/dx, u_x> + <dL/dW, u_w>, with L = <module(x), v>, w.r.t. x and W: the
    double backward of the layer (both cross terms, since the layer is bilinear in x and W)."""
    x = lib.tensor(x_np, requires_grad=True)
    y = module(x)
    gx, gw = lib.autograd.grad((y * lib.tensor(v)).sum(), [x, module.weight], create_graph=True)
    s = (gx * lib.tensor(u_x)).sum() + (gw * lib.tensor(u_w)).sum()
    return lib.autograd.grad(s, [x, module.weight])


def check_double_backward(g, t, x):
    rng = np.random.default_rng(7)
    out_shape = tuple(t(torch.tensor(x)).shape)
    v, u_x, u_w = (rng.standard_normal(s) for s in (out_shape, x.shape, tuple(t.weight.shape)))
    got = _second_order(gg, g, x, v, u_x, u_w)
    ref = _second_order(torch, t, x, v, u_x, u_w)
    assert_close(got[0], ref[0], np.float64, "second-order gradient w.r.t. the input")
    assert_close(got[1], ref[1], np.float64, "second-order gradient w.r.t. the weight")


def _pair_of(v):
    return (v, v) if isinstance(v, int) else v


@st.composite
def conv_configs(draw, transposed=False):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(st.sampled_from([1, 2, (1, 2), (3, 1)]))
    dilation = draw(st.sampled_from([1, 2, (2, 1)]))
    pad_choices = [0, 1, (0, 2)] + (["same", "valid"] if stride == 1 and not transposed else [])
    padding = draw(st.sampled_from(pad_choices))
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, bias=draw(st.booleans()))
    if transposed:
        # output_padding must be below the stride or the dilation in each dim
        pairs = zip(_pair_of(stride), _pair_of(dilation))
        kwargs["output_padding"] = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in pairs)
    # an input big enough for the dilated kernel (after the smallest padding)
    hw = tuple(d * (k - 1) + 1 + draw(st.integers(0, 4)) for d, k in zip(_pair_of(dilation), kernel))
    shape = (draw(st.integers(1, 3)), cin, *hw)
    return cin, cout, kernel, kwargs, shape


@ORACLE
@given(conv_configs(), st.integers(0, 2**31))
def test_conv2d_matches_torch_float64(config, seed):
    cin, cout, kernel, kwargs, shape = config
    g, t = _pair(lambda lib: lib.Conv2d(cin, cout, kernel, **kwargs))
    x = np.random.default_rng(seed).standard_normal(shape)
    check_forward_backward(g, t, x, np.float64)
    check_double_backward(g, t, x)


def _transposed_out_size(shape, kernel, kw):
    geometry = zip(shape[2:], kernel, _pair_of(kw["stride"]), _pair_of(kw["padding"]),
                   _pair_of(kw["dilation"]), kw["output_padding"])
    return [(n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, k, s, p, d, op in geometry]


@ORACLE
@given(conv_configs(transposed=True), st.integers(0, 2**31))
def test_conv_transpose2d_matches_torch_float64(config, seed):
    cin, cout, kernel, kwargs, shape = config
    g, t = _pair(lambda lib: lib.ConvTranspose2d(cin, cout, kernel, **kwargs))
    # a padding that eats the whole output leaves nothing (both libraries refuse it): skip those
    assume(all(size > 0 for size in _transposed_out_size(shape, kernel, kwargs)))
    x = np.random.default_rng(seed).standard_normal(shape)
    check_forward_backward(g, t, x, np.float64)
    check_double_backward(g, t, x)


@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda lib: lib.Conv2d(3, 8, 3, padding=1), (4, 3, 12, 12)),
        (lambda lib: lib.Conv2d(4, 6, (3, 2), stride=2, dilation=(1, 2), groups=2), (2, 4, 11, 9)),
        (lambda lib: lib.Conv2d(2, 5, 5, padding="same", bias=False), (3, 2, 7, 8)),
        (lambda lib: lib.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1), (2, 6, 5, 6)),
        (lambda lib: lib.ConvTranspose2d(4, 6, 2, stride=2, groups=2), (3, 4, 4, 4)),
    ],
)
def test_conv_layers_match_torch_float32(make, shape):
    g, t = _pair(make, np.float32)
    check_forward_backward(g, t, np.random.default_rng(0).standard_normal(shape), np.float32)
    assert g.weight.dtype == gg.float32


def test_conv2d_unbatched_input_matches_torch():
    g, t = _pair(lambda lib: lib.Conv2d(3, 4, 3, padding=1))
    x = np.random.default_rng(0).standard_normal((3, 6, 5))
    check_forward_backward(g, t, x, np.float64)
    batched = g(gg.tensor(x[None]))
    np.testing.assert_array_equal(g(gg.tensor(x))._data, batched._data[0])


@pytest.mark.parametrize("size", [(9, 10), (10, 9)])
def test_conv_transpose2d_output_size_matches_torch(size):
    g, t = _pair(lambda lib: lib.ConvTranspose2d(3, 2, 3, stride=2, padding=1))
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 5))
    gy = g(gg.tensor(x), output_size=size)
    ty = t(torch.tensor(x), output_size=list(size))
    assert_close(gy, ty, np.float64, "output with output_size")
    assert tuple(gy.shape[2:]) == size


# -- default initialization ----------------------------------------------------------------


def _check_uniform(a, bound):
    """All draws in [-bound, bound], filling the range, with the spread of a uniform."""
    assert a.min() >= -bound and a.max() <= bound
    assert a.max() > 0.99 * bound and a.min() < -0.99 * bound
    np.testing.assert_allclose(a.std(), bound / math.sqrt(3), rtol=0.02)
    assert abs(a.mean()) < 0.02 * bound


@pytest.mark.parametrize(
    "args,fan_in",
    [
        ((nn.Conv2d, 64, 128, 3), 64 * 9),
        ((nn.Conv2d, 8, 2000, 5, 1, 0, 1, 4), 2 * 25),  # groups=4: in/groups channels per kernel
        ((nn.ConvTranspose2d, 300, 64, 3), 64 * 9),  # fan_in from weight dim 1: out_channels
        ((nn.ConvTranspose2d, 300, 64, 3, 1, 0, 0, 2), 32 * 9),  # ... out_channels / groups
    ],
)
def test_default_init_matches_torch_distribution(args, fan_in):
    """W ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform_ with a = sqrt(5)) and the bias
    from the same range, with fan_in as torch computes it; torch's own layer spans the same range."""
    cls, *rest = args
    bound = 1 / math.sqrt(fan_in)
    layer = cls(*rest)
    _check_uniform(layer.weight._data, bound)
    t_layer = getattr(tnn, cls.__name__)(*rest)
    t_w = t_layer.weight.detach().numpy()
    assert t_w.shape == tuple(layer.weight.shape)
    assert bound * 0.99 < np.abs(t_w).max() <= bound
    b = layer.bias._data
    assert np.abs(b).max() <= bound and np.abs(t_layer.bias.detach().numpy()).max() <= bound
    if b.size >= 1000:
        _check_uniform(b, bound)


def test_default_init_reproducible_under_manual_seed():
    gg.manual_seed(5)
    a = nn.Conv2d(3, 4, 3).state_dict()
    gg.manual_seed(5)
    b = nn.Conv2d(3, 4, 3).state_dict()
    for k in a:
        np.testing.assert_array_equal(a[k]._data, b[k]._data)


def test_parameter_shapes_and_no_bias():
    c = nn.Conv2d(6, 4, (3, 5), groups=2, bias=False)
    assert tuple(c.weight.shape) == (4, 3, 3, 5) and c.bias is None
    assert list(dict(c.named_parameters())) == ["weight"]
    ct = nn.ConvTranspose2d(6, 4, 3, groups=2)
    assert tuple(ct.weight.shape) == (6, 2, 3, 3) and tuple(ct.bias.shape) == (4,)


def test_reprs_match_torch():
    for make in [
        lambda lib: lib.Conv2d(1, 32, 3),
        lambda lib: lib.Conv2d(4, 8, (3, 5), stride=2, padding=(1, 2), dilation=2, groups=2, bias=False),
        lambda lib: lib.Conv2d(4, 8, 3, padding="same"),
        lambda lib: lib.Conv2d(4, 8, 3, padding="valid"),
        lambda lib: lib.ConvTranspose2d(4, 8, 3, stride=2, padding=1, output_padding=1),
        lambda lib: lib.ConvTranspose2d(4, 8, 3, dilation=2, groups=4),
    ]:
        assert repr(make(nn)) == repr(make(tnn))


# -- bad input ------------------------------------------------------------------------------

CONV = "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))"


@pytest.mark.parametrize(
    "shape,match",
    [
        ((64, 784), r"expected a 4-D input \[N, C, H, W\].*shape \(64, 784\).*flattened images"),
        ((2, 1, 1, 8, 8), r"expected a 4-D input.*shape \(2, 1, 1, 8, 8\)"),
        ((2, 3, 8, 8), r"expected 1 input channel\(s\) in dim 1.*shape \(2, 3, 8, 8\)"),
        ((64, 28, 28), r"3-D input is one unbatched image.*shape \(64, 28, 28\).*x.unsqueeze\(1\)"),
        ((2, 1, 2, 2), r"kernel of size 3x3.*larger than the padded input 2x2.*shape \(2, 1, 2, 2\)"),
    ],
)
def test_conv2d_bad_input_names_the_layer_and_shape(shape, match):
    with pytest.raises(RuntimeError, match=match) as err:
        nn.Conv2d(1, 32, 3)(gg.zeros(*shape))
    assert str(err.value).startswith(CONV + ": ")


def test_conv2d_bad_input_type_and_dtype():
    with pytest.raises(TypeError, match=r"Conv2d\(1, 32.*expected a Tensor, got ndarray"):
        nn.Conv2d(1, 32, 3)(np.zeros((1, 1, 5, 5)))
    with pytest.raises(RuntimeError, match=r"^Conv2d\(1, 32.*floating point"):
        nn.Conv2d(1, 32, 3)(gg.zeros(1, 1, 5, 5, dtype=gg.int64))


def test_conv_transpose2d_bad_input():
    ct = nn.ConvTranspose2d(4, 2, 3, stride=2)
    with pytest.raises(RuntimeError, match=r"^ConvTranspose2d\(4, 2, .*expected 4 input channel.*\(1, 3, 5, 5\)"):
        ct(gg.zeros(1, 3, 5, 5))
    with pytest.raises(ValueError, match=r"^ConvTranspose2d\(4, 2.*size of \(14, 11\).*dim 0 can only be 11 to 12"):
        ct(gg.zeros(1, 4, 5, 5), output_size=(14, 11))
    with pytest.raises(RuntimeError, match=r"^ConvTranspose2d\(4, 2, .*too small"):
        nn.ConvTranspose2d(4, 2, 1, padding=3)(gg.zeros(1, 4, 2, 2))


@pytest.mark.parametrize(
    "make,error,match",
    [
        (lambda: nn.Conv2d(4, 6, 3, groups=3), ValueError, r"in_channels \(4\) must be divisible by groups \(3\)"),
        (lambda: nn.Conv2d(6, 4, 3, groups=3), ValueError, r"out_channels \(4\) must be divisible"),
        (lambda: nn.Conv2d(0, 4, 3), ValueError, "in_channels must be a positive int"),
        (lambda: nn.Conv2d(2, 4, 0), ValueError, "kernel_size must be an int >= 1"),
        (lambda: nn.Conv2d(2, 4, 3, stride=2, padding="same"), ValueError, "not supported for strided"),
        (lambda: nn.Conv2d(2, 4, 3, padding="full"), ValueError, "'valid' or 'same'"),
        (lambda: nn.Conv2d(2, 4, 3, padding_mode="reflect"), NotImplementedError, "only 'zeros'"),
        (lambda: nn.Conv2d(2, 4, 3, padding_mode="mirror"), ValueError, "padding_mode must be one of"),
        (lambda: nn.ConvTranspose2d(2, 4, 3, padding="same"), ValueError, "an int or a pair"),
        (lambda: nn.ConvTranspose2d(2, 4, 3, padding_mode="circular"), NotImplementedError, "only 'zeros'"),
    ],
)
def test_constructor_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()
