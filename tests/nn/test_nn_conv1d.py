"""Conv1d, MaxPool1d, AvgPool1d and AdaptiveAvgPool1d (and their F forms) against torch: same
weights, random shapes, strides, paddings ('same'/'valid' too), dilations and groups; outputs,
input and parameter gradients in float64 and float32, second-order gradients through the
oracle; the initialization, the reprs and the errors for bad input."""

import math

import numpy as np
import pytest
import torch
import torch.nn as tnn
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad import nn
from tests.nn._nn_testing import GG_DTYPE, TORCH_DTYPE, check_forward_backward, copy_torch_to_gg, randomize_torch
from tests.oracle import ORACLE, check


@st.composite
def conv1d_configs(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel, stride, dilation = draw(st.integers(1, 4)), draw(st.sampled_from([1, 2, 3])), draw(st.sampled_from([1, 2]))
    padding = draw(st.sampled_from([0, 1, 2] + (["same", "valid"] if stride == 1 else [])))
    length = dilation * (kernel - 1) + 1 + draw(st.integers(0, 5))
    lead = draw(st.sampled_from([(), (1,), (3,)]))  # () is an unbatched [C, L] input
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, bias=draw(st.booleans()))
    return cin, cout, kernel, kwargs, (*lead, cin, length)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@ORACLE
@given(conv1d_configs(), st.integers(0, 2**31))
def test_conv1d_layer_matches_torch(dtype, config, seed):
    cin, cout, kernel, kwargs, shape = config
    t = randomize_torch(tnn.Conv1d(cin, cout, kernel, **kwargs)).to(TORCH_DTYPE[dtype])
    g = nn.Conv1d(cin, cout, kernel, **kwargs).to(GG_DTYPE[dtype])
    copy_torch_to_gg(t, g)
    check_forward_backward(g, t, np.random.default_rng(seed).standard_normal(shape), dtype)


@ORACLE
@given(conv1d_configs(), st.integers(0, 2**31))
def test_conv1d_function_second_order(config, seed):
    cin, cout, kernel, kwargs, shape = config
    rng = np.random.default_rng(seed)
    bias = kwargs.pop("bias")
    arrays = [rng.standard_normal(shape), rng.standard_normal((cout, cin // kwargs["groups"], kernel))]
    if bias:
        arrays.append(rng.standard_normal(cout))
    check(lambda m, *xs: m.nn.functional.conv1d(*xs, **kwargs), arrays)


@st.composite
def pool_configs(draw):
    kernel = draw(st.integers(1, 4))
    stride = draw(st.sampled_from([None, 1, 2, 3]))
    padding = draw(st.integers(0, kernel // 2))
    length = kernel + draw(st.integers(0, 6))
    lead = draw(st.sampled_from([(2,), (2, 3)]))
    return kernel, stride, padding, draw(st.booleans()), (*lead, length)


@ORACLE
@given(pool_configs(), st.integers(1, 2), st.integers(0, 2**31))
def test_max_pool1d_matches_torch(config, dilation, seed):
    kernel, stride, padding, ceil_mode, shape = config
    x = np.random.default_rng(seed).permutation(np.prod(shape)).reshape(shape) / 7.0  # no ties
    if dilation * (kernel - 1) + 1 > shape[-1] + 2 * padding:
        dilation = 1
    check(lambda m, x: m.nn.functional.max_pool1d(x, kernel, stride, padding, dilation, ceil_mode), [x])
    got = nn.MaxPool1d(kernel, stride, padding, dilation, True, ceil_mode)(gg.tensor(x))[1]
    ref = tnn.MaxPool1d(kernel, stride, padding, dilation, True, ceil_mode)(torch.tensor(x))[1]
    assert got.dtype == gg.int64 and got.tolist() == ref.tolist()


@ORACLE
@given(pool_configs(), st.booleans(), st.integers(0, 2**31))
def test_avg_pool1d_matches_torch(config, count_include_pad, seed):
    kernel, stride, padding, ceil_mode, shape = config
    x = np.random.default_rng(seed).standard_normal(shape)
    check(lambda m, x: m.nn.AvgPool1d(kernel, stride, padding, ceil_mode, count_include_pad)(x), [x])


@ORACLE
@given(st.integers(1, 7), st.integers(1, 9), st.sampled_from([(2,), (2, 3)]), st.integers(0, 2**31))
def test_adaptive_avg_pool1d_matches_torch(out, length, lead, seed):
    x = np.random.default_rng(seed).standard_normal((*lead, length))
    check(lambda m, x: m.nn.AdaptiveAvgPool1d(out)(x), [x])
    check(lambda m, x: m.nn.functional.adaptive_avg_pool1d(x, (out,)), [x], float32=False)


def test_conv1d_init_and_repr():
    g = nn.Conv1d(4, 6, 3, groups=2)
    assert tuple(g.weight.shape) == (6, 2, 3) and list(g.state_dict()) == ["weight", "bias"]
    bound = 1 / math.sqrt(2 * 3)
    assert np.abs(g.weight.detach().numpy()).max() <= bound and np.abs(g.bias.detach().numpy()).max() <= bound
    for make in (lambda m: m.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2, bias=False),
                 lambda m: m.Conv1d(4, 6, (3,), padding="same"), lambda m: m.Conv1d(1, 1, 2),
                 lambda m: m.MaxPool1d(3, 2, 1), lambda m: m.AvgPool1d(3), lambda m: m.AdaptiveAvgPool1d(5)):
        assert repr(make(nn)) == repr(make(tnn))
        assert make(nn).__dict__.get("kernel_size") == make(tnn).__dict__.get("kernel_size")


def test_conv1d_and_pool1d_errors():
    conv = nn.Conv1d(4, 6, 3)
    with pytest.raises(RuntimeError, match=r"Conv1d\(4, 6, kernel_size=\(3,\).*\[N, C, L\].*\(2, 4, 5, 5\)"):
        conv(gg.zeros(2, 4, 5, 5))
    with pytest.raises(RuntimeError, match=r"Conv1d\(4, 6.*4 input channel.*\(2, 3, 5\)"):
        conv(gg.zeros(2, 3, 5))
    with pytest.raises(RuntimeError, match=r"Conv1d\(4, 6.*kernel.*larger than the padded input"):
        conv(gg.zeros(2, 4, 2))
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv1d(4, 6, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv1d(4, 6, 3, groups=4)
    with pytest.raises(RuntimeError, match=r"conv1d: expected a 3-D weight.*\(6, 4, 3, 1\)"):
        F.conv1d(gg.zeros(2, 4, 5), gg.zeros(6, 4, 3, 1))
    with pytest.raises(RuntimeError, match=r"MaxPool1d\(kernel_size=2.*\[N, C, L\].*\(5,\)"):
        nn.MaxPool1d(2)(gg.zeros(5))
    with pytest.raises(ValueError, match=r"avg_pool1d: kernel_size must be an int >= 1"):
        F.avg_pool1d(gg.zeros(1, 2, 5), (2, 2))
    with pytest.raises(RuntimeError, match=r"max_pool1d.*\(1, 2, 3\)"):
        F.max_pool1d(gg.zeros(1, 2, 3), 5)
