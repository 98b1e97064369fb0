"""F.interpolate, F.pixel_shuffle / F.pixel_unshuffle and their modules (Upsample,
UpsamplingNearest2d, UpsamplingBilinear2d, PixelShuffle, PixelUnshuffle) against PyTorch: values,
first- and second-order gradients in float64 and float32, the index conventions of every size
pair, errors."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn as tnn
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad import nn
from glassgrad.autograd import gradcheck
from glassgrad.nn import functional as F
from tests.oracle import ORACLE, check, check_values

SPATIAL = {"linear": 1, "bilinear": 2, "trilinear": 3}


@st.composite
def resize_calls(draw, modes):
    """An interpolate call: mode, input shape, and size or scale_factor (a number or one per dim),
    align_corners and recompute_scale_factor where they apply."""
    mode = draw(st.sampled_from(modes))
    dims = SPATIAL.get(mode) or draw(st.integers(1, 3))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *(draw(st.integers(1, 5)) for _ in range(dims)))
    kw = {"mode": mode}
    if mode in SPATIAL:
        kw["align_corners"] = draw(st.sampled_from([None, False, True]))
    if draw(st.booleans()):
        sizes = [draw(st.integers(1, 9)) for _ in range(dims)]
        kw["size"] = sizes[0] if dims == 1 and draw(st.booleans()) else tuple(sizes)
    else:
        # factors that make ⌊n · s⌋ ≥ 1, some with n · s not a whole number (so recomputing the
        # scale factor changes the source places)
        factors = [draw(st.sampled_from([1 / n, 0.5, 0.7, 1.0, 1.1, 4 / 3, 1.5, 2.0, 2.5, 3.0]))
                   for n in shape[2:]]
        factors = [max(f, 1 / n) for f, n in zip(factors, shape[2:])]
        kw["scale_factor"] = factors[0] if len(set(factors)) == 1 and draw(st.booleans()) else tuple(factors)
        kw["recompute_scale_factor"] = draw(st.sampled_from([None, False, True]))
    return shape, kw


def _torch_nearest_grad_is_wrong(shape, kw) -> bool:
    """PyTorch's 'nearest' backward treats an output of n or 2n places as a copy or a 2x
    repeat (index k or k // 2), but for 3-D and 5-D inputs its forward uses the scale factor,
    ⌊k / scale_factor⌋. When those differ (e.g. n = 2 and scale_factor = 1.1), its gradient is
    not the forward's (torch.autograd.gradcheck fails); glassgrad's is, so there only the values
    are compared."""
    if kw["mode"] != "nearest" or "scale_factor" not in kw or kw.get("recompute_scale_factor"):
        return False
    if len(shape) == 4:  # the 2-D kernel uses the copy and the repeat forward too
        return False
    dims = len(shape) - 2
    factors = kw["scale_factor"] if isinstance(kw["scale_factor"], tuple) else (kw["scale_factor"],) * dims
    for n, f in zip(shape[2:], factors):
        m, k = int(n * f), np.arange(int(n * f))
        forward = np.minimum(np.floor(k.astype(np.float32) * np.float32(1.0 / f)), n - 1)
        if (m == n and (forward != k).any()) or (m == 2 * n and (forward != k // 2).any()):
            return True
    return False


def _squared_resize(kw):
    """interpolate(x) ** 2: the square makes the second-order check go through the backward of
    the backward (interpolation alone is linear, so its own second derivative is zero)."""
    return lambda m, x: m.nn.functional.interpolate(x, **kw) ** 2


@ORACLE
@given(resize_calls(["nearest", "nearest-exact"]), st.integers(0, 2**16))
def test_interpolate_nearest_matches_torch(call, seed):
    shape, kw = call
    x = np.random.default_rng(seed).standard_normal(shape)
    if _torch_nearest_grad_is_wrong(shape, kw):
        check_values(_squared_resize(kw), [x])
        assert gradcheck(lambda x: F.interpolate(x, **kw) ** 2, (gg.tensor(x, requires_grad=True),))
        return
    check(_squared_resize(kw), [x])


def test_nearest_gradient_is_the_forward_s_where_torch_s_is_not():
    # n = 3, scale_factor 2.1: 6 output places read ⌊k / 2.1⌋ = 0 0 0 1 1 2, not k // 2 = 0 0 1 1 2 2
    x = gg.tensor([[[1.0, 2.0, 3.0]]], requires_grad=True)
    y = F.interpolate(x, scale_factor=2.1)
    np.testing.assert_array_equal(y.detach().numpy(), [[[1, 1, 1, 2, 2, 3]]])
    np.testing.assert_array_equal(torch.nn.functional.interpolate(torch.tensor([[[1.0, 2.0, 3.0]]]), scale_factor=2.1),
                                  y.detach().numpy())
    y.backward(gg.tensor([[[1.0, 10.0, 100.0, 1e3, 1e4, 1e5]]]))
    np.testing.assert_array_equal(x.grad.numpy(), [[[111.0, 11000.0, 1e5]]])
    assert _torch_nearest_grad_is_wrong((1, 1, 3), dict(mode="nearest", scale_factor=2.1))


@ORACLE
@given(resize_calls(["linear", "bilinear", "trilinear"]), st.integers(0, 2**16))
def test_interpolate_linear_modes_match_torch(call, seed):
    shape, kw = call
    check(_squared_resize(kw), [np.random.default_rng(seed).standard_normal(shape)])


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear", "linear-aligned"])
def test_every_size_pair_reads_the_same_places_as_torch(mode):
    """All sizes n ≤ 12 to m ≤ 30, by size and by several scale factors: the same source places
    (value and gradient of a ramp), including float32's rounding at exact multiples."""
    align = {"linear": False, "linear-aligned": True}.get(mode)
    mode = mode.split("-aligned")[0]
    for dtype in (np.float64, np.float32):
        for n in range(1, 13):
            x = np.arange(n, dtype=dtype).reshape(1, 1, n) ** 1.5
            calls = [dict(size=m) for m in range(1, 31)]
            calls += [dict(scale_factor=s, recompute_scale_factor=r)
                      for s in (1 / 3, 0.5, 2 / 3, 0.7, 1.1, 4 / 3, 2.5, 2.9, 3.0) if int(n * s) >= 1
                      for r in (False, True)]
            for kw in calls:
                outs = []
                for lib in (gg, torch):
                    xt = lib.tensor(x, requires_grad=True)
                    y = lib.nn.functional.interpolate(xt, mode=mode, align_corners=align, **kw)
                    up = np.arange(1, y.shape[-1] + 1, dtype=dtype).reshape(y.shape) ** 0.5
                    y.backward(lib.tensor(up))
                    outs.append((y.detach().numpy(), xt.grad.numpy()))
                (y, g), (ty, tg) = outs
                what = f"{mode} align_corners={align} n={n} {kw} {dtype.__name__}"
                tol = 1e-12 if dtype is np.float64 else 1e-5
                np.testing.assert_allclose(y, ty, rtol=tol, atol=tol, err_msg=what)
                if not _torch_nearest_grad_is_wrong(x.shape, dict(mode=mode, **kw)):
                    np.testing.assert_allclose(g, tg, rtol=tol, atol=tol, err_msg=what)


def test_same_size_is_a_copy_with_identity_gradient_even_with_a_scale_factor():
    # n = 5, scale 1.1: the output has 5 places, and PyTorch copies instead of using 1 / 1.1
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 5))
    for mode, align in (("nearest", None), ("bilinear", False), ("bilinear", True)):
        check(_squared_resize(dict(scale_factor=1.1, mode=mode, align_corners=align)), [x])
    y = F.interpolate(gg.tensor(x[0]), scale_factor=1.1, mode="linear")
    np.testing.assert_array_equal(y.numpy(), x[0])
    xt = gg.tensor(x)
    y = F.interpolate(xt, size=(5, 5))
    assert y is not xt and np.array_equal(y.numpy(), x)
    y[0, 0, 0, 0] = 100.0
    assert xt[0, 0, 0, 0].item() == x[0, 0, 0, 0]  # the output is not a view of the input


@pytest.mark.parametrize("shape,kw", [
    ((2, 3, 7), dict(size=3)),
    ((2, 3, 6, 5), dict(size=(4, 2))),
    ((1, 2, 9, 7), dict(scale_factor=0.5)),
    ((1, 2, 4, 4), dict(scale_factor=(1.5, 0.75))),
])
def test_interpolate_area_matches_torch(shape, kw):
    check(_squared_resize(dict(mode="area", **kw)), [np.random.default_rng(1).standard_normal(shape)])


def test_interpolate_resamples_once_per_resized_axis():
    x = gg.randn(1, 2, 4, 4, requires_grad=True)
    y = F.interpolate(x, size=(4, 8), mode="bilinear")
    assert type(y.grad_fn).__name__ == "Resample" and y.grad_fn.inputs[0] is x  # H is left alone


def test_upsample_to_integer_factor_backward_sums_each_block():
    # nearest x2 copies each pixel into a 2 x 2 block, so the gradient sums each block
    x = gg.randn(2, 3, 4, 5, requires_grad=True)
    gy = np.random.default_rng(0).standard_normal((2, 3, 8, 10)).astype(np.float32)
    F.interpolate(x, scale_factor=2).backward(gg.tensor(gy))
    np.testing.assert_allclose(x.grad.numpy(), gy.reshape(2, 3, 4, 2, 5, 2).sum((3, 5)), rtol=1e-6)


def test_integer_input_with_nearest():
    x = np.arange(12).reshape(1, 1, 3, 4)
    got = F.interpolate(gg.tensor(x), scale_factor=2).numpy()
    np.testing.assert_array_equal(got, x.repeat(2, 2).repeat(2, 3))
    with pytest.raises(TypeError, match="'bilinear' needs a floating point input"):
        F.interpolate(gg.tensor(x), scale_factor=2, mode="bilinear")


@pytest.mark.parametrize("shape,kw,error,match", [
    ((1, 2, 3), dict(size=(4, 4)), ValueError, r"one entry per spatial dimension \(1 .*got size=\(4, 4\)"),
    ((1, 2, 3, 3), dict(scale_factor=(2.0, 2.0, 2.0)), ValueError, "one entry per spatial dimension"),
    ((1, 2, 3), dict(size=2.0), TypeError, "size to be an int or a tuple of ints, got 2.0"),
    ((1, 2, 3), dict(size=0), RuntimeError, r"greater than 0.*input \(3,\) and output \(0,\)"),
    ((1, 2, 3), dict(scale_factor=0.2), RuntimeError, "greater than 0"),
    ((1, 2, 3), dict(), ValueError, "either size or scale_factor should be defined"),
    ((1, 2, 3), dict(size=2, scale_factor=2.0), ValueError, "only one of size or scale_factor"),
    ((1, 2, 3), dict(size=2, recompute_scale_factor=True), ValueError, "not meaningful with an explicit size"),
    ((1, 2), dict(size=2), NotImplementedError, r"3-D, 4-D or 5-D input .*\(1, 2\)"),
    ((1, 2, 3, 3), dict(size=2, mode="linear"), NotImplementedError, r"'linear' needs a 3-D input.*\(1, 2, 3, 3\)"),
    ((1, 2, 3), dict(size=2, mode="bilinear"), NotImplementedError, "'bilinear' needs a 4-D input"),
    ((1, 2, 3, 3), dict(size=2, mode="trilinear"), NotImplementedError, "'trilinear' needs a 5-D input"),
    ((1, 2, 3, 3), dict(size=2, mode="nearest", align_corners=True), ValueError, "align_corners option can only"),
    ((1, 2, 3, 3), dict(size=2, mode="bicubic"), NotImplementedError, "mode 'bicubic' is not implemented"),
    ((1, 2, 3, 3), dict(size=2, mode="bilinear", antialias=True), NotImplementedError, "antialias"),
])
def test_interpolate_errors(shape, kw, error, match):
    with pytest.raises(error, match=match):
        F.interpolate(gg.zeros(*shape), **kw)
    if kw.get("mode") not in ("bicubic",) and not kw.get("antialias"):  # torch has those
        with pytest.raises(error):
            torch.nn.functional.interpolate(torch.zeros(*shape), **kw)


def test_functional_upsample_is_deprecated_interpolate():
    x = gg.randn(1, 1, 2, 3)
    with pytest.warns(UserWarning, match="upsample is deprecated"):
        y = F.upsample(x, scale_factor=2, mode="bilinear", align_corners=True)
    np.testing.assert_array_equal(y.numpy(), F.interpolate(x, scale_factor=2, mode="bilinear",
                                                           align_corners=True).numpy())


UPSAMPLE_LAYERS = [
    ("Upsample", dict(scale_factor=2)),
    ("Upsample", dict(size=(5, 7), mode="bilinear")),
    ("Upsample", dict(scale_factor=(1.5, 2.5), mode="bilinear", align_corners=True)),
    ("Upsample", dict(scale_factor=1.7, mode="nearest", recompute_scale_factor=True)),
    ("UpsamplingNearest2d", dict(scale_factor=3)),
    ("UpsamplingNearest2d", dict(size=5)),
    ("UpsamplingBilinear2d", dict(scale_factor=2)),
    ("UpsamplingBilinear2d", dict(size=(3, 8))),
]


@pytest.mark.parametrize("name,kw", UPSAMPLE_LAYERS)
def test_upsample_layers_match_torch(name, kw):
    g_layer, t_layer = getattr(nn, name)(**kw), getattr(tnn, name)(**kw)
    assert repr(g_layer) == repr(t_layer)
    assert list(g_layer.parameters()) == [] and g_layer.state_dict() == {}
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    check(lambda m, x: (g_layer if m is gg else t_layer)(x) ** 2, [x])


def test_upsample_layer_on_3d_and_5d_inputs():
    x3 = np.random.default_rng(0).standard_normal((2, 3, 4))
    x5 = np.random.default_rng(0).standard_normal((1, 2, 3, 2, 4))
    for kw, x in ((dict(scale_factor=2.5, mode="linear"), x3), (dict(size=(4, 3, 5), mode="trilinear"), x5),
                  (dict(scale_factor=2), x5)):
        g_layer, t_layer = nn.Upsample(**kw), tnn.Upsample(**kw)
        check(lambda m, x, g=g_layer, t=t_layer: (g if m is gg else t)(x) ** 2, [x], float32=False)


def test_upsample_layer_error_names_the_layer():
    with pytest.raises(NotImplementedError, match=r"Upsample\(scale_factor=2.0, mode='bilinear'\): .*4-D input"):
        nn.Upsample(scale_factor=2, mode="bilinear")(gg.zeros(1, 2, 3))


# -- pixel shuffle ---------------------------------------------------------------------------------


@ORACLE
@given(
    r=st.integers(1, 3),
    batch=st.lists(st.integers(1, 2), max_size=2),
    c=st.integers(1, 2),
    hw=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    seed=st.integers(0, 2**16),
)
def test_pixel_shuffle_and_unshuffle_match_torch(r, batch, c, hw, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((*batch, c * r * r, *hw))
    check(lambda m, x: m.nn.functional.pixel_shuffle(x, r) ** 2, [x])
    z = rng.standard_normal((*batch, c, hw[0] * r, hw[1] * r))
    check(lambda m, z: m.nn.functional.pixel_unshuffle(z, r) ** 2, [z])


def test_pixel_shuffle_layout_and_round_trip():
    x = gg.arange(2 * 8 * 3 * 2).reshape(2, 8, 3, 2).float()
    y = F.pixel_shuffle(x, 2)
    assert y.shape == (2, 2, 6, 4)
    # out[c, h·r + i, w·r + j] = in[c·r² + i·r + j, h, w]
    assert y[1, 1, 2 * 2 + 1, 1 * 2 + 0].item() == x[1, 1 * 4 + 1 * 2 + 0, 2, 1].item()
    assert np.array_equal(F.pixel_unshuffle(y, 2).numpy(), x.numpy())


@pytest.mark.parametrize("fn,shape,factor,error,match", [
    ("pixel_shuffle", (2, 5, 3, 3), 2, RuntimeError, r"divisible by upscale_factor² = 4, got 5 channels"),
    ("pixel_shuffle", (5, 3), 2, RuntimeError, r"at least 3 dimensions .*\(5, 3\)"),
    ("pixel_shuffle", (4, 3, 3), 0, RuntimeError, "positive upscale_factor, got 0"),
    ("pixel_shuffle", (4, 3, 3), 2.0, TypeError, "upscale_factor to be an int, got float"),
    ("pixel_unshuffle", (4, 3, 4), 2, RuntimeError, r"divisible by downscale_factor = 2.*\(4, 3, 4\)"),
    ("pixel_unshuffle", (4, 4, 3), 2, RuntimeError, "divisible by downscale_factor"),
    ("pixel_unshuffle", (4, 4, 4), -1, RuntimeError, "positive downscale_factor, got -1"),
])
def test_pixel_shuffle_errors(fn, shape, factor, error, match):
    with pytest.raises(error, match=match):
        getattr(F, fn)(gg.zeros(*shape), factor)
    with pytest.raises(error):
        getattr(torch.nn.functional, fn)(torch.zeros(*shape), factor)


def test_pixel_shuffle_layers():
    for name, r, shape in (("PixelShuffle", 3, (2, 18, 2, 3)), ("PixelUnshuffle", 2, (1, 3, 4, 6))):
        g_layer, t_layer = getattr(nn, name)(r), getattr(tnn, name)(r)
        assert repr(g_layer) == repr(t_layer)
        x = np.random.default_rng(0).standard_normal(shape)
        check(lambda m, x, g=g_layer, t=t_layer: (g if m is gg else t)(x), [x], order=1, float32=False)
    with pytest.raises(RuntimeError, match=r"PixelShuffle\(upscale_factor=2\): pixel_shuffle: .*divisible"):
        nn.PixelShuffle(2)(gg.zeros(1, 3, 2, 2))


def test_sub_pixel_convolution_trains_like_torch():
    """Conv2d -> PixelShuffle, the super-resolution block, one SGD step in both libraries."""
    tconv = tnn.Conv2d(2, 2 * 4, 3, padding=1).double()
    gconv = nn.Conv2d(2, 2 * 4, 3, padding=1).double()
    gconv.load_state_dict({k: v.detach().numpy() for k, v in tconv.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 2, 4, 4))
    target = np.random.default_rng(1).standard_normal((2, 2, 8, 8))
    results = []
    for lib, conv, shuffle in ((gg, gconv, nn.PixelShuffle(2)), (torch, tconv, tnn.PixelShuffle(2))):
        opt = lib.optim.SGD(conv.parameters(), lr=0.1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            loss = lib.nn.functional.mse_loss(shuffle(conv(lib.tensor(x))), lib.tensor(target))
        loss.backward()
        opt.step()
        results.append([p.detach().numpy().copy() for p in conv.parameters()])
    for a, e in zip(*results):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)
