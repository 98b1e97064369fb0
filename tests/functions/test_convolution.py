"""conv2d and conv_transpose2d against PyTorch: forward, gradients, double backward, errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.autograd import grad, gradcheck, gradgradcheck

# torch notes that it pads a copy for an even kernel with padding="same"; nothing to act on
pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")


def _pair(draw, lo, hi):
    return (draw(st.integers(lo, hi)), draw(st.integers(lo, hi)))


@st.composite
def conv_configs(draw):
    """A valid conv2d call: shapes, stride, padding (int, pair, 'same' or 'valid'), dilation, groups."""
    groups = draw(st.integers(1, 3))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    k = _pair(draw, 1, 3)
    d = _pair(draw, 1, 2)
    stride = _pair(draw, 1, 3)
    kind = draw(st.sampled_from(["int", "pair", "same", "valid"] if stride == (1, 1) else ["int", "pair"]))
    padding = {"int": draw(st.integers(0, 2)), "pair": _pair(draw, 0, 2), "same": "same", "valid": "valid"}[kind]
    pad = (0, 0) if kind in ("same", "valid") else (padding, padding) if kind == "int" else padding
    # the input must hold the dilated kernel after padding
    h, w = (d[i] * (k[i] - 1) + 1 - 2 * pad[i] + draw(st.integers(0, 5)) for i in range(2))
    h, w = max(h, 1), max(w, 1)
    n = draw(st.integers(1, 3))
    return dict(x=(n, cin, h, w), w=(cout, cin // groups, *k), bias=draw(st.booleans()),
                kw=dict(stride=stride, padding=padding, dilation=d, groups=groups))


@st.composite
def conv_transpose_configs(draw):
    groups = draw(st.integers(1, 3))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    k = _pair(draw, 1, 3)
    d = _pair(draw, 1, 2)
    stride = _pair(draw, 1, 3)
    pad = _pair(draw, 0, 2)
    out_pad = tuple(draw(st.integers(0, max(s, dd) - 1)) for s, dd in zip(stride, d))
    hw = []
    for i in range(2):  # the output size (h-1)s - 2p + d(k-1) + op + 1 must be positive
        lo = 1
        while (lo - 1) * stride[i] - 2 * pad[i] + d[i] * (k[i] - 1) + out_pad[i] + 1 < 1:
            lo += 1
        hw.append(lo + draw(st.integers(0, 3)))
    n = draw(st.integers(1, 2))
    return dict(x=(n, cin, *hw), w=(cin, cout // groups, *k), bias=draw(st.booleans()),
                kw=dict(stride=stride, padding=pad, output_padding=out_pad, groups=groups, dilation=d))


def _run_both(op, cfg, dtype, seed=0):
    """Forward and first/second-order gradients of ``op`` in glassgrad and torch, as arrays.

    Second order: s = <gx, vx> + <gw, vw> with (gx, gw) = d<y, gy>/d(x, w); returns ds/dx, ds/dw
    and ds/dgy, which run the double backward of every op in the chain."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(cfg["x"]).astype(dtype)
    w = rng.standard_normal(cfg["w"]).astype(dtype)
    b = rng.standard_normal(cfg["w"][1] * cfg["kw"].get("groups", 1) if op == "conv_transpose2d"
                            else cfg["w"][0]).astype(dtype) if cfg["bias"] else None
    results = []
    for lib, fn, mk in ((gg, getattr(F, op), gg.tensor), (torch, getattr(TF, op), torch.tensor)):
        xt, wt = mk(x, requires_grad=True), mk(w, requires_grad=True)
        bt = mk(b, requires_grad=True) if b is not None else None
        y = fn(xt, wt, bt, **cfg["kw"])
        out = {"y": y.detach().numpy()}
        g_rng = np.random.default_rng(seed + 1)
        gy = mk(g_rng.standard_normal(tuple(y.shape)).astype(dtype), requires_grad=True)
        vx = mk(g_rng.standard_normal(x.shape).astype(dtype))
        vw = mk(g_rng.standard_normal(w.shape).astype(dtype))
        ins = [xt, wt] + ([bt] if bt is not None else [])
        grads = (grad if lib is gg else torch.autograd.grad)(y, ins, gy, create_graph=True)
        out["gx"], out["gw"] = grads[0].detach().numpy(), grads[1].detach().numpy()
        if bt is not None:
            out["gb"] = grads[2].detach().numpy()
        s = (grads[0] * vx).sum() + (grads[1] * vw).sum()
        second = (grad if lib is gg else torch.autograd.grad)(s, [xt, wt, gy])
        out["ggx"], out["ggw"], out["ggy"] = (t.detach().numpy() for t in second)
        results.append(out)
    return results


def _assert_match(got, want, rtol, atol):
    assert got.keys() == want.keys()
    for key in want:
        assert got[key].shape == want[key].shape, key
        np.testing.assert_allclose(got[key], want[key], rtol=rtol, atol=atol, err_msg=key)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(conv_configs())
def test_conv2d_matches_torch_float64(cfg):
    got, want = _run_both("conv2d", cfg, np.float64)
    _assert_match(got, want, rtol=1e-10, atol=1e-10)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(conv_transpose_configs())
def test_conv_transpose2d_matches_torch_float64(cfg):
    got, want = _run_both("conv_transpose2d", cfg, np.float64)
    _assert_match(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("op, cfg", [
    ("conv2d", dict(x=(4, 6, 15, 13), w=(8, 3, 3, 3), bias=True,
                    kw=dict(stride=2, padding=1, groups=2))),
    ("conv2d", dict(x=(2, 16, 12, 12), w=(16, 16, 1, 1), bias=False, kw=dict())),
    ("conv2d", dict(x=(3, 4, 11, 9), w=(6, 4, 4, 2), bias=True, kw=dict(padding="same", dilation=2))),
    ("conv_transpose2d", dict(x=(4, 8, 7, 6), w=(8, 3, 4, 4), bias=True,
                              kw=dict(stride=2, padding=1, output_padding=1))),
])
def test_float32_matches_torch_loosely(op, cfg):
    got, want = _run_both(op, cfg, np.float32)
    _assert_match(got, want, rtol=1e-4, atol=1e-4)
    assert got["y"].dtype == np.float32


@pytest.mark.parametrize("op, cfg", [  # stride 1 with width-keeping padding: the row-flat path
    ("conv2d", dict(x=(2, 3, 6, 7), w=(4, 3, 3, 3), bias=True, kw=dict(padding=1))),
    ("conv2d", dict(x=(2, 4, 6, 7), w=(4, 2, 5, 3), bias=False, kw=dict(padding=(2, 1), groups=2))),
    ("conv2d", dict(x=(2, 2, 9, 8), w=(3, 2, 3, 3), bias=False, kw=dict(padding="same", dilation=(1, 3)))),
    ("conv2d", dict(x=(1, 2, 5, 6), w=(3, 2, 2, 4), bias=True, kw=dict(padding="same"))),
    ("conv2d", dict(x=(2, 3, 4, 5), w=(2, 3, 1, 1), bias=False, kw=dict())),
    ("conv_transpose2d", dict(x=(2, 3, 5, 6), w=(3, 2, 3, 3), bias=True, kw=dict(padding=1))),
    ("conv_transpose2d", dict(x=(2, 4, 5, 6), w=(4, 1, 3, 5), bias=False,
                              kw=dict(padding=(1, 4), dilation=2, groups=2))),
])
def test_stride_one_same_width_matches_torch(op, cfg):
    got, want = _run_both(op, cfg, np.float64)
    _assert_match(got, want, rtol=1e-10, atol=1e-10)


def test_layers_chain_on_channel_major_outputs():
    """Outputs are NCHW views of channel-major memory: a second conv, a transposed conv and
    .numpy() must read them right (and the reused im2col buffer must not leak between calls)."""
    rng = np.random.default_rng(3)
    x, w1, w2 = (rng.standard_normal(s) for s in [(2, 3, 10, 10), (5, 3, 3, 3), (5, 4, 2, 2)])
    y_gg = F.conv_transpose2d(F.relu(F.conv2d(gg.tensor(x), gg.tensor(w1), padding=1)), gg.tensor(w2),
                              stride=2)
    y_t = TF.conv_transpose2d(TF.relu(TF.conv2d(torch.tensor(x), torch.tensor(w1), padding=1)),
                              torch.tensor(w2), stride=2)
    np.testing.assert_allclose(y_gg.numpy(), y_t.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(y_gg.reshape(2, -1).numpy(), y_t.reshape(2, -1).numpy(), rtol=1e-10)


def test_unbatched_input():
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((3, 7, 7)), rng.standard_normal((4, 3, 3, 3))
    y = F.conv2d(gg.tensor(x), gg.tensor(w), stride=2)
    assert y.shape == (4, 3, 3)
    np.testing.assert_allclose(y.numpy(), TF.conv2d(torch.tensor(x), torch.tensor(w), stride=2).numpy(),
                               rtol=1e-10)
    z = F.conv_transpose2d(gg.tensor(x), gg.tensor(rng.standard_normal((3, 2, 2, 2))))
    assert z.shape == (2, 8, 8)


def test_gradcheck_and_gradgradcheck_small_cases():
    rng = np.random.default_rng(5)
    x = gg.tensor(rng.standard_normal((1, 2, 5, 6)), requires_grad=True)
    w = gg.tensor(rng.standard_normal((2, 1, 2, 3)), requires_grad=True)
    b = gg.tensor(rng.standard_normal(2), requires_grad=True)

    def conv(x, w, b):
        return F.conv2d(x, w, b, stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)

    assert gradcheck(conv, (x, w, b))
    assert gradgradcheck(conv, (x, w, b))
    wt = gg.tensor(rng.standard_normal((2, 2, 2, 2)), requires_grad=True)

    def conv_t(x, w):
        return F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)

    assert gradcheck(conv_t, (x, wt))
    assert gradgradcheck(conv_t, (x, wt))


def test_gradient_penalty_through_a_conv_discriminator():
    """WGAN-GP: the penalty (||d D(x)/dx|| - 1)^2 needs the gradient of an input gradient."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 3, 12, 12))
    w1, b1 = rng.standard_normal((8, 3, 4, 4)) * 0.3, rng.standard_normal(8)
    w2, b2 = rng.standard_normal((1, 8, 3, 3)) * 0.3, rng.standard_normal(1)
    grads = []
    for lib, f, autograd_grad in ((gg, F, grad), (torch, TF, torch.autograd.grad)):
        xt = lib.tensor(x, requires_grad=True)
        params = [lib.tensor(a, requires_grad=True) for a in (w1, b1, w2, b2)]
        h = f.leaky_relu(f.conv2d(xt, params[0], params[1], stride=2, padding=1), 0.2)
        score = f.conv2d(f.avg_pool2d(h, 2), params[2], params[3], padding=1).sum()
        (gx,) = autograd_grad(score, [xt], create_graph=True)
        penalty = ((gx.reshape(4, -1).norm(dim=1) - 1) ** 2).mean()
        penalty.backward()
        # the biases have no path (glassgrad: None) or a zero one (torch) to the input gradient
        grads.append([np.zeros(p.shape) if p.grad is None else p.grad.numpy() for p in params])
    assert np.abs(grads[0][0]).max() > 1e-3 and np.abs(grads[0][2]).max() > 1e-3
    for got, want in zip(*grads):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)


def test_no_grad_for_frozen_input_and_weight():
    x = gg.randn(2, 3, 6, 6)
    w = gg.randn(4, 3, 3, 3, requires_grad=True)
    F.conv2d(x, w).sum().backward()
    assert x.grad is None and w.grad.shape == (4, 3, 3, 3)
    with gg.no_grad():
        assert not F.conv2d(x, w).requires_grad


# a batch of images through one group takes the batch-last col2im (strides, dilation, padding,
# output padding); the hypothesis configs above reach it only with small batches
BATCH_LAST_CASES = [
    ("conv2d", dict(x=(8, 3, 9, 8), w=(4, 3, 3, 2), bias=True,
                    kw=dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2)))),
    ("conv2d", dict(x=(5, 2, 7, 7), w=(3, 2, 5, 5), bias=False, kw={})),
    ("conv_transpose2d", dict(x=(6, 3, 4, 5), w=(3, 2, 3, 3), bias=True,
                              kw=dict(stride=2, padding=1, output_padding=1, dilation=1, groups=1))),
]


# a batch into few input and many output channels (a DCGAN discriminator's first layer, its
# generator's last) keeps the channel-major layout: the batch-last one would move more
CHANNEL_MAJOR_CASES = [
    ("conv2d", dict(x=(4, 1, 12, 12), w=(16, 1, 4, 4), bias=True, kw=dict(stride=2, padding=1))),
    ("conv_transpose2d", dict(x=(4, 16, 6, 6), w=(16, 1, 4, 4), bias=True,
                              kw=dict(stride=2, padding=1, output_padding=0, dilation=1, groups=1))),
]


def _takes_batch_last(op, cfg) -> bool:
    """The layout the convolution picks, seen as the Conv2d whose adjoint a transposed one is."""
    from glassgrad.functions.convolution import Geometry, _batch_last

    x = gg.zeros(*cfg["x"])
    y = getattr(F, op)(x, gg.zeros(*cfg["w"]), **cfg["kw"])
    kw = cfg["kw"]
    geom = Geometry(_as_pair(kw.get("stride", 1)), tuple((p, p) for p in _as_pair(kw.get("padding", 0))),
                    _as_pair(kw.get("dilation", 1)), kw.get("groups", 1))
    if op == "conv2d":
        return _batch_last(cfg["x"], cfg["w"][0], cfg["w"][2:], tuple(y.shape[2:]), geom)
    return _batch_last(tuple(y.shape), cfg["w"][0], cfg["w"][2:], cfg["x"][2:], geom)


def _as_pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


@pytest.mark.parametrize("op, cfg, batch_last", [(*case, True) for case in BATCH_LAST_CASES]
                         + [(*case, False) for case in CHANNEL_MAJOR_CASES])
def test_batch_last_and_channel_major_layouts_match_torch(op, cfg, batch_last):
    assert _takes_batch_last(op, cfg) is batch_last
    got, want = _run_both(op, cfg, np.float64)
    _assert_match(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("op, cfg", BATCH_LAST_CASES)
def test_transposed_product_made_in_bands_of_rows_matches_torch(monkeypatch, op, cfg):
    """A large batch-last transposed product is made and added back one band of rows at a time;
    with a tiny band size every case above takes that way, one row per band."""
    from glassgrad.functions import convolution

    monkeypatch.setattr(convolution, "_BAND_BYTES", 1)
    assert convolution._row_band(4, 5, 6, 8) == 1
    got, want = _run_both(op, cfg, np.float64)
    _assert_match(got, want, rtol=1e-10, atol=1e-10)


# -- the im2col matrix a Conv2d keeps for its weight gradient --------------------------------


def _weight_grads(cases, retain=False):
    """Weight gradients of several convs run forward first, then backward (twice if ``retain``):
    a kept im2col matrix must survive the later layers' forwards."""
    rng = np.random.default_rng(3)
    ws, loss = [], 0
    for x_shape, w_shape, kw in cases:
        x = gg.tensor(rng.standard_normal(x_shape))
        w = gg.tensor(rng.standard_normal(w_shape), requires_grad=True)
        ws.append(w)
        y = F.conv2d(x, w, **kw)
        loss = loss + (y * gg.tensor(rng.standard_normal(tuple(y.shape)))).sum()
    loss.backward(retain_graph=retain)
    if retain:
        loss.backward()  # accumulates: twice the gradient
    return [w.grad.numpy() for w in ws]


# 1x1 (row-flat view of a scratch buffer), 3x3 padded, strided valid, grouped, batch-last
KEEP_CASES = [((2, 3, 5, 6), (4, 3, 1, 1), {}), ((2, 4, 6, 5), (3, 4, 3, 3), dict(padding=1)),
              ((1, 3, 7, 7), (2, 3, 2, 2), dict(stride=2)), ((2, 4, 5, 5), (4, 2, 3, 3), dict(groups=2)),
              ((3, 2, 6, 7), (3, 2, 3, 2), dict(stride=(1, 2), padding=(0, 1)))]


@pytest.mark.parametrize("retain", [False, True])
def test_kept_columns_give_the_gradient_made_again(monkeypatch, retain):
    from glassgrad.functions import convolution

    kept = _weight_grads(KEEP_CASES, retain)
    monkeypatch.setattr(convolution, "_KEEP_COLS_BYTES", 0)  # nothing kept: im2col again in backward
    again = _weight_grads(KEEP_CASES, retain)
    for a, b in zip(kept, again):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_columns_kept_only_in_grad_mode_and_dropped_after_backward(monkeypatch):
    from glassgrad.functions.convolution import Conv2d, Geometry

    x = gg.randn(2, 3, 6, 6)
    w = gg.randn(4, 3, 3, 3, requires_grad=True)
    y = F.conv2d(x, w)
    assert y.grad_fn._cols is not None
    fn = y.grad_fn
    y.sum().backward()
    assert fn._cols is None
    with gg.no_grad():
        fn = Conv2d(Geometry((1, 1), ((0, 0), (0, 0)), (1, 1), 1), (4, 4))
        fn(x, w)
    assert fn._cols is None


def test_changing_the_input_in_place_after_forward_is_caught():
    x = gg.randn(2, 3, 6, 6)
    w = gg.randn(4, 3, 3, 3, requires_grad=True)
    y = F.conv2d(x, w)
    x.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("x_shape, w_shape, kw, match", [
    ((2, 3, 8), (4, 3, 3, 3), {}, r"conv2d: weight .* 3 channels.* 3-D input of shape \(2, 3, 8\) is .*unbatched"),
    ((3, 8), (4, 3, 3, 3), {}, r"conv2d: expected a 3-D \(unbatched\) or 4-D .*got input of shape \(3, 8\)"),
    ((1, 2, 3, 8, 8), (4, 3, 3, 3), {}, r"conv2d: expected a 3-D .* or 4-D .*\(1, 2, 3, 8, 8\)"),
    ((2, 3, 8, 8), (4, 3, 3), {}, r"conv2d: expected a 4-D weight.*\(4, 3, 3\)"),
    ((2, 5, 8, 8), (4, 3, 3, 3), {}, r"conv2d: weight of shape \(4, 3, 3, 3\).*3 channels.*\(2, 5, 8, 8\)"),
    ((2, 6, 8, 8), (4, 3, 3, 3), dict(groups=4), r"conv2d: groups=4 must .* dividing"),
    ((2, 6, 8, 8), (5, 3, 3, 3), dict(groups=2), r"conv2d: groups=2 .*\(5\)"),
    ((2, 3, 4, 4), (4, 3, 5, 5), {}, r"conv2d: kernel of size 5x5 .* larger than the padded input 4x4"),
    ((2, 3, 4, 4), (4, 3, 3, 3), dict(dilation=2),
     r"conv2d: kernel of size 3x3 \(spanning 5x5 with dilation \(2, 2\)\).* 4x4"),
    ((2, 3, 8, 8), (4, 3, 3, 3), dict(padding="same", stride=2), r"conv2d: padding='same'.*strided"),
    ((2, 3, 8, 8), (4, 3, 3, 3), dict(padding="full"), r"conv2d: padding must be"),
    ((2, 3, 8, 8), (4, 3, 3, 3), dict(stride=0), r"conv2d: stride must be an int >= 1"),
])
def test_conv2d_bad_input(x_shape, w_shape, kw, match):
    with pytest.raises((RuntimeError, ValueError), match=match):
        F.conv2d(gg.zeros(*x_shape), gg.zeros(*w_shape), **kw)


def test_conv2d_bad_bias_and_dtype():
    with pytest.raises(RuntimeError, match=r"conv2d: expected a bias of shape \(4,\).*got bias of shape \(3,\)"):
        F.conv2d(gg.zeros(1, 3, 5, 5), gg.zeros(4, 3, 3, 3), gg.zeros(3))
    with pytest.raises(RuntimeError, match="conv2d: expected floating point"):
        F.conv2d(gg.zeros(1, 3, 5, 5, dtype=gg.int64), gg.zeros(4, 3, 3, 3, dtype=gg.int64))


@pytest.mark.parametrize("x_shape, w_shape, kw, match", [
    ((1, 2, 3, 4, 4), (3, 2, 3, 3), {}, r"conv_transpose2d: expected a 3-D .*\(1, 2, 3, 4, 4\)"),
    ((2, 4, 5, 5), (3, 2, 3, 3), {}, r"conv_transpose2d: weight of shape \(3, 2, 3, 3\) expects .*3 channels"),
    ((2, 4, 5, 5), (4, 2, 3, 3), dict(groups=3), r"conv_transpose2d: groups=3"),
    ((2, 4, 5, 5), (4, 2, 3, 3), dict(stride=2, output_padding=2), r"conv_transpose2d: output_padding"),
    ((2, 4, 1, 1), (4, 2, 1, 1), dict(padding=1), r"conv_transpose2d: output size .* too small"),
])
def test_conv_transpose2d_bad_input(x_shape, w_shape, kw, match):
    with pytest.raises((RuntimeError, ValueError), match=match):
        F.conv_transpose2d(gg.zeros(*x_shape), gg.zeros(*w_shape), **kw)
