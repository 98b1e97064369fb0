"""Max, average and adaptive pooling against PyTorch: forward, indices, gradients, double
backward, ties and NaN, errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.autograd import grad, gradcheck, gradgradcheck


def _pair(draw, lo, hi):
    return (draw(st.integers(lo, hi)), draw(st.integers(lo, hi)))


@st.composite
def pool_configs(draw, with_dilation):
    k = _pair(draw, 1, 4)
    stride = draw(st.one_of(st.none(), st.just(_pair(draw, 1, 3))))
    pad = tuple(draw(st.integers(0, ki // 2)) for ki in k)
    d = _pair(draw, 1, 2) if with_dilation else (1, 1)
    hw = tuple(d[i] * (k[i] - 1) + 1 - 2 * pad[i] + draw(st.integers(0, 5)) for i in range(2))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), max(hw[0], 1), max(hw[1], 1))
    kw = dict(kernel_size=k, stride=stride, padding=pad, ceil_mode=draw(st.booleans()))
    # with dilation a window can fall wholly in the padding; torch's backward then writes out of
    # bounds (and may crash the process), so such cases are left out of the comparison
    for size, ki, si, pi, di in zip(shape[2:], k, stride or k, pad, d):
        span = size + 2 * pi - di * (ki - 1) - 1
        out = (-(-span // si) if kw["ceil_mode"] else span // si) + 1
        if kw["ceil_mode"] and (out - 1) * si >= size + pi:
            out -= 1
        starts = [i * si - pi for i in range(out)]
        assume(all(any(0 <= s + j * di < size for j in range(ki)) for s in starts))
    if with_dilation:
        kw["dilation"] = d
    return shape, kw


def _both(fn_name, x, kw, seed=1, second_order=True):
    """Output, input gradient and the double backward (d<gx, v>/d gy) in both libraries."""
    results = []
    for lib, f, autograd_grad in ((gg, F, grad), (torch, TF, torch.autograd.grad)):
        xt = lib.tensor(x, requires_grad=True)
        out = getattr(f, fn_name)(xt, **kw)
        res = {}
        if isinstance(out, tuple):
            out, idx = out
            res["indices"] = idx.numpy()
        res["y"] = out.detach().numpy()
        rng = np.random.default_rng(seed)
        gy = lib.tensor(rng.standard_normal(tuple(out.shape)), requires_grad=True)
        (gx,) = autograd_grad(out, [xt], gy, create_graph=second_order)
        res["gx"] = gx.detach().numpy()
        if second_order:
            v = lib.tensor(rng.standard_normal(x.shape))
            (res["ggy"],) = autograd_grad((gx * v).sum(), [gy])
            res["ggy"] = res["ggy"].numpy()
        results.append(res)
    return results


def _assert_match(got, want, rtol=1e-12, atol=1e-12):
    assert got.keys() == want.keys()
    for key in want:
        assert got[key].shape == want[key].shape, key
        np.testing.assert_allclose(got[key], want[key], rtol=rtol, atol=atol, err_msg=key)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(pool_configs(with_dilation=True), st.booleans())
def test_max_pool2d_matches_torch(cfg, return_indices):
    shape, kw = cfg
    x = np.random.default_rng(0).standard_normal(shape)
    _assert_match(*_both("max_pool2d", x, dict(kw, return_indices=return_indices)))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(pool_configs(with_dilation=False), st.booleans(), st.sampled_from([None, 3]))
def test_avg_pool2d_matches_torch(cfg, count_include_pad, divisor_override):
    shape, kw = cfg
    x = np.random.default_rng(0).standard_normal(shape)
    kw = dict(kw, count_include_pad=count_include_pad, divisor_override=divisor_override)
    _assert_match(*_both("avg_pool2d", x, kw))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 5), st.one_of(st.none(), st.integers(1, 5)),
       st.sampled_from(["adaptive_avg_pool2d", "adaptive_max_pool2d"]), st.booleans())
def test_adaptive_pooling_matches_torch(h, w, oh, ow, fn_name, return_indices):
    x = np.random.default_rng(0).standard_normal((2, 3, h, w))
    kw = dict(output_size=(oh, ow))
    if fn_name == "adaptive_max_pool2d":
        kw["return_indices"] = return_indices
    _assert_match(*_both(fn_name, x, kw))


def test_max_pool2d_ties_give_the_gradient_to_the_first_place():
    """After a ReLU whole windows are 0: like PyTorch, the first place of the window wins."""
    x = np.maximum(np.random.default_rng(2).standard_normal((2, 3, 8, 8)), 0)
    x[0, 0, :4, :4] = 0.0
    got, want = _both("max_pool2d", x, dict(kernel_size=3, stride=2, padding=1, return_indices=True))
    _assert_match(got, want)


def test_max_pool2d_nan_wins_as_in_torch():
    x = np.random.default_rng(3).standard_normal((1, 2, 6, 6))
    x[0, 0, 1, 1] = x[0, 1, 4, 5] = x[0, 1, 5, 5] = np.nan
    got, want = _both("max_pool2d", x, dict(kernel_size=2, return_indices=True), second_order=False)
    np.testing.assert_array_equal(got["indices"], want["indices"])
    np.testing.assert_array_equal(np.isnan(got["y"]), np.isnan(want["y"]))
    np.testing.assert_allclose(got["gx"], want["gx"])


def test_float32_and_unbatched_input():
    x = np.random.default_rng(4).standard_normal((3, 9, 7)).astype(np.float32)
    for fn_name, kw in [("max_pool2d", dict(kernel_size=3, stride=2, padding=1)),
                        ("avg_pool2d", dict(kernel_size=2, ceil_mode=True)),
                        ("adaptive_avg_pool2d", dict(output_size=(4, 3))),
                        ("adaptive_max_pool2d", dict(output_size=2, return_indices=True))]:
        got, want = _both(fn_name, x, kw)
        _assert_match(got, want, rtol=1e-6, atol=1e-6)
        assert got["y"].dtype == np.float32 and got["y"].ndim == 3


def test_gradcheck_and_gradgradcheck_small_cases():
    # distinct, well separated values so finite differences never swap a window's max
    x = gg.tensor(np.random.default_rng(5).permutation(50).reshape(1, 2, 5, 5) * 0.1, requires_grad=True)
    cases = [
        lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
        lambda x: F.max_pool2d(x, 2, 1, dilation=2),
        lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
        lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
        lambda x: F.adaptive_max_pool2d(x, (3, 2)),
    ]
    for f in cases:
        assert gradcheck(f, (x,))
        assert gradgradcheck(f, (x,))


def test_pool_then_conv_second_order_wrt_input_matches_torch():
    """d/dx of a gradient norm through conv -> tanh -> max pool -> avg pool (Hessian-vector)."""
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((2, 2, 9, 9)), rng.standard_normal((3, 2, 3, 3))
    out = []
    for lib, f, autograd_grad in ((gg, F, grad), (torch, TF, torch.autograd.grad)):
        xt = lib.tensor(x, requires_grad=True)
        h = f.max_pool2d(lib.tanh(f.conv2d(xt, lib.tensor(w), padding=1)), 3, 2, ceil_mode=True)
        y = (f.avg_pool2d(h, 2, 1) ** 2).sum()
        (gx,) = autograd_grad(y, [xt], create_graph=True)
        (hx,) = autograd_grad((gx * gx).sum(), [xt])
        out.append(hx.numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-9, atol=1e-12)


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("fn_name, shape, kw, match", [
    ("max_pool2d", (2, 3, 4, 4, 4), dict(kernel_size=2), r"max_pool2d: expected a 3-D .*\(2, 3, 4, 4, 4\)"),
    ("max_pool2d", (4, 4), dict(kernel_size=2), r"max_pool2d: expected a 3-D .*\(4, 4\)"),
    ("max_pool2d", (1, 1, 3, 3), dict(kernel_size=4), r"max_pool2d: kernel \(4, 4\).*does not fit"),
    ("max_pool2d", (1, 1, 8, 8), dict(kernel_size=3, padding=2), r"max_pool2d: padding \(2, 2\).*half"),
    ("max_pool2d", (1, 1, 8, 8), dict(kernel_size=0), r"max_pool2d: kernel_size must be an int >= 1"),
    ("avg_pool2d", (1, 1, 2, 9), dict(kernel_size=3), r"avg_pool2d: kernel \(3, 3\).*\(1, 1, 2, 9\)"),
    ("avg_pool2d", (1, 1, 8, 8), dict(kernel_size=2, divisor_override=0), r"avg_pool2d: divisor_override"),
    ("adaptive_avg_pool2d", (1, 2, 3), dict(output_size=(0, 2)), r"adaptive_avg_pool2d: output_size"),
    ("adaptive_max_pool2d", (1, 1, 1, 2, 3), dict(output_size=2), r"adaptive_max_pool2d: expected a 3-D"),
])
def test_bad_input(fn_name, shape, kw, match):
    with pytest.raises((RuntimeError, ValueError), match=match):
        getattr(F, fn_name)(gg.zeros(*shape), **kw)


def test_integer_input_is_refused():
    with pytest.raises(RuntimeError, match="max_pool2d: expected a floating point input, got glassgrad.int64"):
        F.max_pool2d(gg.zeros(1, 1, 4, 4, dtype=gg.int64), 2)


def test_window_wholly_in_the_padding_gives_minus_inf_and_no_gradient():
    # (torch gives -inf too, but its backward then writes out of bounds)
    x = gg.ones(1, 1, 1, 3, requires_grad=True)
    y = F.max_pool2d(x, (2, 1), padding=(1, 0), dilation=(2, 2))
    assert y.shape == (1, 1, 1, 3) and np.isneginf(y.detach().numpy()).all()
    y.sum().backward()
    assert not x.grad.numpy().any()


@st.composite
def small_inputs(draw):
    """Pooling configs whose input may be smaller than the kernel: with ceil_mode the last
    window hangs over the end of the input (the reported bug: avg_pool2d(ones(1, 1, 1, 1), 2,
    ceil_mode=True) raised)."""
    k = _pair(draw, 1, 4)
    stride = draw(st.one_of(st.none(), st.just(_pair(draw, 1, 3))))
    pad = tuple(draw(st.integers(0, ki // 2)) for ki in k)
    hw = tuple(draw(st.integers(1, ki + 3)) for ki in k)
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *hw)
    return shape, dict(kernel_size=k, stride=stride, padding=pad, ceil_mode=draw(st.booleans()))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(small_inputs(), st.sampled_from(["max_pool2d", "avg_pool2d"]), st.booleans())
def test_overhanging_windows_match_torch(cfg, fn_name, count_include_pad):
    shape, kw = cfg
    if fn_name == "avg_pool2d":
        kw = dict(kw, count_include_pad=count_include_pad)
    x = np.random.default_rng(5).standard_normal(shape)
    try:
        getattr(TF, fn_name)(torch.tensor(x), **kw)
    except RuntimeError:  # no window fits (floor mode): both refuse
        with pytest.raises(RuntimeError, match="output size"):
            getattr(F, fn_name)(gg.tensor(x), **kw)
        return
    _assert_match(*_both(fn_name, x, kw))


@pytest.mark.parametrize("fn_name", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_pooling_a_one_pixel_input_with_ceil_mode(fn_name, count_include_pad):
    kw = dict(kernel_size=2, ceil_mode=True)
    if fn_name == "avg_pool2d":
        kw["count_include_pad"] = count_include_pad
    got, want = _both(fn_name, np.full((1, 1, 1, 1), 3.0), kw)
    _assert_match(got, want)
    assert got["y"].shape == (1, 1, 1, 1) and got["y"].item() == 3.0
    _assert_match(*_both(fn_name, np.arange(5.0).reshape(1, 1, 1, 5), dict(kw, kernel_size=(2, 3), stride=2)))
