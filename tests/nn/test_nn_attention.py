"""nn.MultiheadAttention against torch.nn.MultiheadAttention with the same weights (torch's state
dict loaded): outputs, attention weights, gradients of the inputs and of every parameter, in
float64 and float32, on random shapes and options (batch_first, cross-attention, kdim/vdim,
bias, add_bias_kv, add_zero_attn, every mask kind, unbatched input); double backward; fully
masked keys; dropout; initialization; errors."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.nn.attention import SDPBackend, sdpa_kernel

import glassgrad as gg
from tests.nn._nn_testing import GG_DTYPE, TORCH_DTYPE, assert_close, copy_torch_to_gg, randomize_torch
from tests.oracle import ORACLE, seeds


def _pair(dtype=np.float64, embed_dim=8, num_heads=2, seed=0, **kw):
    t = randomize_torch(torch.nn.MultiheadAttention(embed_dim, num_heads, dtype=TORCH_DTYPE[dtype], **kw), seed)
    g = gg.nn.MultiheadAttention(embed_dim, num_heads, dtype=GG_DTYPE[dtype], **kw)
    copy_torch_to_gg(t, g)
    return g, t


def _run_both(g, t, arrays, dtype, masks, kwargs, self_attention=False):
    """Forward both modules, backpropagate the same random weights of the output (and of the
    attention weights), compare outputs, weights and all gradients."""
    arrays = [a.astype(dtype) for a in arrays]
    gx = [gg.tensor(a, requires_grad=True) for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    if self_attention:
        gx, tx = gx * 3, tx * 3
    gm = {k: gg.tensor(v.astype(dtype) if v.dtype.kind == "f" else v) for k, v in masks.items()}
    tm = {k: torch.tensor(v.astype(dtype) if v.dtype.kind == "f" else v) for k, v in masks.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about mixed mask types
        to, tw = t(*tx, **tm, **kwargs)
    go, gw = g(*gx, **gm, **kwargs)
    assert_close(go, to, dtype, "output")
    assert (gw is None) == (tw is None)
    rng = np.random.default_rng(5)
    up = rng.standard_normal(tuple(to.shape)).astype(dtype)
    gl, tl = (go * gg.tensor(up)).sum(), (to * torch.tensor(up)).sum()
    if tw is not None:
        assert_close(gw, tw, dtype, "attention weights")
        upw = rng.standard_normal(tuple(tw.shape)).astype(dtype)
        gl, tl = gl + (gw * gg.tensor(upw)).sum(), tl + (tw * torch.tensor(upw)).sum()
    gl.backward()
    tl.backward()
    for i, (a, b) in enumerate(zip(gx[: len(arrays)], tx[: len(arrays)])):
        assert_close(a.grad, b.grad, dtype, f"gradient of input {i}")
    tp = dict(t.named_parameters())
    gp = dict(g.named_parameters())
    assert gp.keys() == tp.keys()
    for name, p in gp.items():
        assert_close(p.grad, tp[name].grad, dtype, f"gradient of {name}")


dims = st.integers(1, 4)


@ORACLE
@given(N=dims, L=dims, S=dims, heads=st.sampled_from([1, 2, 4]), head_dim=st.integers(1, 3),
       batch_first=st.booleans(), kind=st.sampled_from(["self", "shared_kv", "cross", "kdim_vdim"]),
       bias=st.booleans(), extra=st.sampled_from(["", "bias_kv", "zero_attn", "both"]),
       attn=st.sampled_from([None, "bool2d", "float2d", "bool3d", "float3d"]),
       padding=st.sampled_from([None, "bool", "float"]), need_weights=st.booleans(),
       average=st.booleans(), unbatched=st.booleans(),
       dtype=st.sampled_from([np.float64, np.float32]), seed=seeds)
def test_matches_torch(N, L, S, heads, head_dim, batch_first, kind, bias, extra, attn, padding,  # noqa: N803
                       need_weights, average, unbatched, dtype, seed):
    rng = np.random.default_rng(seed)
    E = heads * head_dim  # noqa: N806
    kw = {"batch_first": batch_first, "bias": bias, "add_bias_kv": extra in ("bias_kv", "both"),
          "add_zero_attn": extra in ("zero_attn", "both")}
    kdim, vdim = (E + 1, E + 2) if kind == "kdim_vdim" else (E, E)
    if kind == "kdim_vdim":
        kw.update(kdim=kdim, vdim=vdim)
    if kind == "self":
        S = L  # noqa: N806
    g, t = _pair(dtype, E, heads, seed, **kw)
    if unbatched:
        N = 1  # noqa: N806

    def shape(T, F):  # noqa: N803
        if unbatched:
            return (T, F)
        return (N, T, F) if batch_first else (T, N, F)

    q = rng.standard_normal(shape(L, E))
    k = rng.standard_normal(shape(S, kdim))
    v = rng.standard_normal(shape(S, vdim))
    masks = {}
    # keep key 0 visible to every query, so that no row is fully masked (a test of its own)
    if attn is not None:
        mshape = (L, S) if attn.endswith("2d") else (N * heads, L, S)
        hidden = rng.random(mshape) < 0.4
        hidden[..., 0] = False
        masks["attn_mask"] = hidden if attn.startswith("bool") else np.where(hidden, -1e9, rng.standard_normal(mshape))
    if padding is not None:
        pad = rng.random((S,) if unbatched else (N, S)) < 0.4
        pad[..., 0] = False
        masks["key_padding_mask"] = pad if padding == "bool" else np.where(pad, -np.inf, 0.0)
    kwargs = {"need_weights": need_weights, "average_attn_weights": average}
    if kind == "self":
        _run_both(g, t, [q], dtype, masks, kwargs, self_attention=True)
    elif kind == "shared_kv":
        kv = rng.standard_normal(shape(S, E)).astype(dtype)
        gkv, tkv = gg.tensor(kv, requires_grad=True), torch.tensor(kv, requires_grad=True)
        go, _ = g(gg.tensor(q.astype(dtype)), gkv, gkv, need_weights=False)
        to, _ = t(torch.tensor(q.astype(dtype)), tkv, tkv, need_weights=False)
        assert_close(go, to, dtype, "output with key is value")
        _run_both(g, t, [q, k, v], dtype, masks, kwargs)
    else:
        _run_both(g, t, [q, k, v], dtype, masks, kwargs)


def test_state_dict_layout_and_repr():
    for kw in ({}, {"kdim": 3, "vdim": 5}, {"bias": False}, {"add_bias_kv": True}):
        t = torch.nn.MultiheadAttention(4, 2, **kw)
        g = gg.nn.MultiheadAttention(4, 2, **kw)
        assert list(g.state_dict()) == list(t.state_dict())
        assert {k: tuple(v.shape) for k, v in g.state_dict().items()} == {
            k: tuple(v.shape) for k, v in t.state_dict().items()}
    assert "NonDynamicallyQuantizableLinear(in_features=4, out_features=4" in repr(gg.nn.MultiheadAttention(4, 2))


def test_initialization_as_torch():
    g = gg.nn.MultiheadAttention(64, 4, add_bias_kv=True)
    w = g.in_proj_weight.detach().numpy()
    bound = np.sqrt(6 / (64 + 64 * 3))  # xavier_uniform_ on the stacked (3E, E) weight, as torch
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not g.in_proj_bias.detach().numpy().any() and not g.out_proj.bias.detach().numpy().any()
    assert np.abs(g.out_proj.weight.detach().numpy()).max() <= 1 / 8  # Linear's own init
    assert g.bias_k.detach().numpy().std() > 0


def test_double_backward_matches_torch():
    """d/dx of (sum u * d(sum v * out)/dx): a Hessian-vector product through the whole layer."""
    g, t = _pair(np.float64, 6, 3, seed=1)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 2, 6))
    mask = rng.random((3, 3)) < 0.3
    mask[:, 0] = False
    v, u = rng.standard_normal((3, 2, 6)), rng.standard_normal((3, 2, 6))
    results = []
    for lib, m in ((gg, g), (torch, t)):
        xt = lib.tensor(x, requires_grad=True)
        # torch's flash kernel has no double backward; its math kernel (the same formula) has
        with sdpa_kernel(SDPBackend.MATH):
            out = m(xt, xt, xt, attn_mask=lib.tensor(mask), need_weights=False)[0]
        params = [m.in_proj_weight, m.out_proj.weight]
        gx, *gp = lib.autograd.grad((out * lib.tensor(v)).sum(), [xt, *params], create_graph=True)
        second = lib.autograd.grad((gx * lib.tensor(u)).sum() + sum((p * p).sum() for p in gp), [xt, *params])
        results.append([s.detach().numpy() for s in second])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def test_gradgradcheck():
    g = gg.nn.MultiheadAttention(4, 2, dtype=gg.float64)
    x = gg.tensor(np.random.default_rng(0).standard_normal((3, 1, 4)), requires_grad=True)
    assert gg.autograd.gradgradcheck(lambda a: g(a, a, a)[0], (x,))


def test_all_keys_padded_follows_torch():
    """A batch item whose keys are all padding: NaN with need_weights=True (softmax of all -inf),
    zeros before out_proj with need_weights=False (PyTorch's scaled_dot_product_attention)."""
    g, t = _pair(np.float64, 4, 2)
    x = np.random.default_rng(3).standard_normal((3, 2, 4))
    pad = np.array([[True] * 3, [False, True, False]])
    for need in (True, False):
        go, gw = g(gg.tensor(x), gg.tensor(x), gg.tensor(x), key_padding_mask=gg.tensor(pad), need_weights=need)
        to, tw = t(torch.tensor(x), torch.tensor(x), torch.tensor(x), key_padding_mask=torch.tensor(pad),
                   need_weights=need)
        np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=1e-9, equal_nan=True)
        assert np.isnan(go.detach().numpy()[:, 0]).all() == need
        if need:
            np.testing.assert_allclose(gw.detach().numpy(), tw.detach().numpy(), rtol=1e-9, equal_nan=True)
    out = g(gg.tensor(x), gg.tensor(x), gg.tensor(x), key_padding_mask=gg.tensor(pad), need_weights=False)[0]
    np.testing.assert_allclose(out.detach().numpy()[:, 0], np.broadcast_to(g.out_proj.bias.detach().numpy(), (3, 4)))


def test_dropout_in_training_only():
    g = gg.nn.MultiheadAttention(8, 2, dropout=0.5)
    x = gg.randn(5, 40, 8)
    _, w = g(x, x, x, average_attn_weights=False)
    w = w.detach().numpy()
    assert 0.4 < (w == 0).mean() < 0.6  # about half the weights dropped
    kept = w[w != 0]
    assert kept.max() > 1 / 5 and abs(w.sum(-1).mean() - 1) < 0.05  # rescaled by 2; rows sum to 1 on average
    g.eval()
    a, b = g(x, x, x)[0].detach().numpy(), g(x, x, x)[0].detach().numpy()
    np.testing.assert_array_equal(a, b)  # deterministic in evaluation
    g.dropout = 0.0
    g.train()
    np.testing.assert_array_equal(g(x, x, x)[0].detach().numpy(), a)


def test_is_causal_is_a_hint_and_needs_the_mask():
    g, t = _pair(np.float64, 4, 2)
    x = np.random.default_rng(4).standard_normal((2, 3, 4))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(2, dtype=torch.float64)
    to = t(*[torch.tensor(x)] * 3, attn_mask=mask, is_causal=True, need_weights=False)[0]
    go = g(*[gg.tensor(x)] * 3, attn_mask=gg.tensor(mask.numpy()), is_causal=True, need_weights=False)[0]
    assert_close(go, to)
    with pytest.raises(RuntimeError, match="is_causal=True .* needs the attn_mask"):
        g(*[gg.tensor(x)] * 3, is_causal=True)


def test_errors():
    with pytest.raises(ValueError, match=r"embed_dim \(5\) must be divisible by num_heads \(2\)"):
        gg.nn.MultiheadAttention(5, 2)
    g = gg.nn.MultiheadAttention(4, 2)
    x = gg.randn(3, 2, 4)
    name = r"MultiheadAttention\(.*\): "
    cases = [
        (dict(attn_mask=gg.zeros(3, 4)), RuntimeError,
         name + r"expected attn_mask of shape \(3, 3\) or \(4, 3, 3\), got \(3, 4\)"),
        (dict(attn_mask=gg.zeros(3, 3, 3)), RuntimeError, r"\(4, 3, 3\), got \(3, 3, 3\)"),
        (dict(attn_mask=gg.zeros(3, 3, dtype=gg.int32)), TypeError, "attn_mask must be a bool or floating point"),
        (dict(key_padding_mask=gg.zeros(3, 2, dtype=gg.bool)), RuntimeError,
         r"expected key_padding_mask of shape \(2, 3\), got \(3, 2\)"),
        (dict(key_padding_mask=gg.zeros(2, 3, dtype=gg.int64)), TypeError, "key_padding_mask must be a bool"),
    ]
    for kw, err, msg in cases:
        with pytest.raises(err, match=msg):
            g(x, x, x, **kw)
    with pytest.raises(RuntimeError, match=name + r"expected a 3-D batched query \(L, N, E\) .* shape \(4,\)"):
        g(gg.randn(4), gg.randn(4), gg.randn(4))
    with pytest.raises(RuntimeError, match=r"expected query with 4 features in its last dim, got shape \(3, 2, 5\)"):
        g(gg.randn(3, 2, 5), x, x)
    with pytest.raises(RuntimeError, match=r"key of shape \(4, 2, 4\) does not match value of shape \(3, 2, 4\)"):
        g(x, gg.randn(4, 2, 4), x)
    with pytest.raises(RuntimeError, match="different batch sizes"):
        g(x, gg.randn(3, 5, 4), gg.randn(3, 5, 4))
    with pytest.raises(RuntimeError, match="key and value of the query's rank"):
        g(x, x[0], x[0])
