"""The Transformer layers against torch with the same weights (torch's state dict loaded):
outputs and gradients of the inputs and of every parameter, float64 and float32, random sizes
and options (norm_first, batch_first, activation, bias, every mask and key-padding mask),
training and evaluation (torch's fast path too); double backward through an encoder layer;
is_causal detection; errors. Also the positional encodings (not in torch)."""

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

# torch notes when its nested-tensor fast path is off; glassgrad has only the (same) math
pytestmark = [pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
              pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")]


def _swish(x):  # a callable activation that runs in both libraries
    return x * x.sigmoid()


def _pair(name, dtype, seed, *args, **kw):
    t = getattr(torch.nn, name)(*args, dtype=TORCH_DTYPE[dtype], **kw)
    g = getattr(gg.nn, name)(*args, dtype=GG_DTYPE[dtype], **kw)
    randomize_torch(t, seed)
    assert list(g.state_dict()) == list(t.state_dict())
    copy_torch_to_gg(t, g)
    return g, t


def _compare(g, t, arrays, masks, kwargs, dtype, train=True):
    """Forward both, backpropagate the same random weights of the output; compare the output,
    and (in training) the gradients of the inputs and of every parameter."""
    g.train(train)
    t.train(train)
    arrays = [a.astype(dtype) for a in arrays]
    gx = [gg.tensor(a, requires_grad=train) for a in arrays]
    tx = [torch.tensor(a, requires_grad=train) for a in arrays]
    gm = {k: None if v is None else gg.tensor(v.astype(dtype) if v.dtype.kind == "f" else v) for k, v in masks.items()}
    tm = {k: None if v is None else torch.tensor(v.astype(dtype) if v.dtype.kind == "f" else v)
          for k, v in masks.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's notes about nested tensors and mask types
        if train:
            to = t(*tx, **tm, **kwargs)
        else:
            with torch.no_grad():  # the fast path, where torch has one
                to = t(*tx, **tm, **kwargs)
    go = g(*gx, **gm, **kwargs)
    if not train:
        # torch's nested-tensor fast path leaves zeros at padded positions; elsewhere the same
        pad = masks.get("src_key_padding_mask")
        if isinstance(g, gg.nn.TransformerEncoder) and pad is not None and pad.ndim == 2:
            keep = ~pad.astype(bool) if pad.dtype == bool else pad == 0
            keep = keep if g_batch_first(g) else keep.T
            assert_close(go.detach().numpy()[keep], to.numpy()[keep], dtype, "output (eval, non-padded)")
            return
    assert_close(go, to, dtype, "output")
    if not train:
        return
    up = np.random.default_rng(7).standard_normal(tuple(to.shape)).astype(dtype)
    (go * gg.tensor(up)).sum().backward()
    (to * torch.tensor(up)).sum().backward()
    for i, (a, b) in enumerate(zip(gx, tx)):
        assert_close(a.grad, b.grad, dtype, f"gradient of input {i}")
    tp = dict(t.named_parameters())
    for name, p in g.named_parameters():
        assert_close(p.grad, tp[name].grad, dtype, f"gradient of {name}")


def g_batch_first(module) -> bool:
    return next(m for m in module.modules() if isinstance(m, gg.nn.MultiheadAttention)).batch_first


dims = st.integers(1, 4)
options = {
    "norm_first": st.booleans(), "batch_first": st.booleans(), "bias": st.booleans(),
    "activation": st.sampled_from(["relu", "gelu", _swish]), "dtype": st.sampled_from([np.float64, np.float32]),
    "seed": seeds,
}


def _seq(rng, batch_first, N, T, E, unbatched=False):  # noqa: N803
    if unbatched:
        return rng.standard_normal((T, E))
    return rng.standard_normal((N, T, E) if batch_first else (T, N, E))


def _padding(rng, N, T, kind, unbatched=False):  # noqa: N803
    if kind is None:
        return None
    pad = rng.random((T,) if unbatched else (N, T)) < 0.4
    pad[..., 0] = False  # no sequence is all padding
    return pad if kind == "bool" else np.where(pad, -np.inf, 0.0)


def _attn_mask(rng, L, S, kind):  # noqa: N803
    if kind is None:
        return None
    if kind == "causal":
        return torch.nn.Transformer.generate_square_subsequent_mask(L).numpy()[:, :S].copy()
    hidden = rng.random((L, S)) < 0.4
    hidden[:, 0] = False
    return hidden if kind == "bool" else np.where(hidden, -np.inf, rng.standard_normal((L, S)))


@ORACLE
@given(N=dims, L=dims, heads=st.sampled_from([1, 2]), ff=dims, layers=st.integers(1, 2),
       mask=st.sampled_from([None, "bool", "float", "causal"]), padding=st.sampled_from([None, "bool", "float"]),
       final_norm=st.booleans(), unbatched=st.booleans(), **options)
def test_encoder_matches_torch(N, L, heads, ff, layers, mask, padding, final_norm, unbatched, norm_first,  # noqa: N803
                               batch_first, bias, activation, dtype, seed):
    rng = np.random.default_rng(seed)
    # 4 features per head at least: a layer norm over 2 features maps every input to +-1, so its
    # input gradient is rounding noise, which float32 cannot compare
    E = 4 * heads  # noqa: N806
    kw = dict(dim_feedforward=ff, dropout=0.0, activation=activation, batch_first=batch_first,
              norm_first=norm_first, bias=bias, layer_norm_eps=1e-4)
    t_layer = torch.nn.TransformerEncoderLayer(E, heads, dtype=TORCH_DTYPE[dtype], **kw)
    g_layer = gg.nn.TransformerEncoderLayer(E, heads, dtype=GG_DTYPE[dtype], **kw)
    t = torch.nn.TransformerEncoder(t_layer, layers, torch.nn.LayerNorm(E, dtype=TORCH_DTYPE[dtype]) if final_norm
                                    else None)
    g = gg.nn.TransformerEncoder(g_layer, layers, gg.nn.LayerNorm(E, dtype=GG_DTYPE[dtype]) if final_norm else None)
    randomize_torch(t, seed)
    assert list(g.state_dict()) == list(t.state_dict())
    copy_torch_to_gg(t, g)
    x = _seq(rng, batch_first, N, L, E, unbatched)
    masks = {"mask": _attn_mask(rng, L, L, mask), "src_key_padding_mask": _padding(rng, N, L, padding, unbatched)}
    _compare(g, t, [x], masks, {}, dtype)
    if not unbatched:
        _compare(g, t, [x], masks, {}, dtype, train=False)


@ORACLE
@given(N=dims, L=dims, S=dims, heads=st.sampled_from([1, 2]), ff=dims,
       tgt_mask=st.sampled_from([None, "bool", "float", "causal"]),
       memory_mask=st.sampled_from([None, "bool", "float"]),
       tgt_padding=st.sampled_from([None, "bool", "float"]), memory_padding=st.sampled_from([None, "bool"]),
       unbatched=st.booleans(), **options)
def test_decoder_layer_matches_torch(N, L, S, heads, ff, tgt_mask, memory_mask, tgt_padding, memory_padding,  # noqa: N803
                                     unbatched, norm_first, batch_first, bias, activation, dtype, seed):
    rng = np.random.default_rng(seed)
    # 4 features per head at least: a layer norm over 2 features maps every input to +-1, so its
    # input gradient is rounding noise, which float32 cannot compare
    E = 4 * heads  # noqa: N806
    g, t = _pair("TransformerDecoderLayer", dtype, seed, E, heads, dim_feedforward=ff, dropout=0.0,
                 activation=activation, batch_first=batch_first, norm_first=norm_first, bias=bias)
    tgt, memory = _seq(rng, batch_first, N, L, E, unbatched), _seq(rng, batch_first, N, S, E, unbatched)
    masks = {"tgt_mask": _attn_mask(rng, L, L, tgt_mask), "memory_mask": _attn_mask(rng, L, S, memory_mask),
             "tgt_key_padding_mask": _padding(rng, N, L, tgt_padding, unbatched),
             "memory_key_padding_mask": _padding(rng, N, S, memory_padding, unbatched)}
    _compare(g, t, [tgt, memory], masks, {}, dtype)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_torch(norm_first, batch_first):
    rng = np.random.default_rng(int(norm_first) * 2 + int(batch_first))
    g, t = _pair("Transformer", np.float64, 3, 8, 2, 2, 2, 16, dropout=0.0, batch_first=batch_first,
                 norm_first=norm_first, activation="gelu")
    src, tgt = _seq(rng, batch_first, 3, 5, 8), _seq(rng, batch_first, 3, 4, 8)
    masks = {"tgt_mask": torch.nn.Transformer.generate_square_subsequent_mask(4).numpy(),
             "src_key_padding_mask": _padding(rng, 3, 5, "bool"), "tgt_key_padding_mask": _padding(rng, 3, 4, "bool"),
             "memory_key_padding_mask": _padding(rng, 3, 5, "bool")}
    _compare(g, t, [src, tgt], masks, {"tgt_is_causal": True}, np.float64)
    _compare(g, t, [src, tgt], masks, {}, np.float64, train=False)


def test_eval_fast_path_differs_only_at_padded_positions():
    """torch's encoder in eval mode without grad runs its nested-tensor fast path, which returns
    zeros at padded positions; glassgrad computes the slow path's math everywhere. The
    non-padded positions (the only meaningful ones) agree."""
    t = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 2)
    g = gg.nn.TransformerEncoder(gg.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 2)
    copy_torch_to_gg(t, g)
    t.eval(), g.eval()
    x = np.random.default_rng(0).standard_normal((3, 5, 8)).astype(np.float32)
    pad = np.zeros((3, 5), bool)
    pad[1, 3:] = True
    with torch.no_grad():
        ref = t(torch.tensor(x), src_key_padding_mask=torch.tensor(pad)).numpy()
    got = g(gg.tensor(x), src_key_padding_mask=gg.tensor(pad)).detach().numpy()
    assert (ref[pad] == 0).all() and (got[pad] != 0).all()
    np.testing.assert_allclose(got[~pad], ref[~pad], rtol=2e-4, atol=2e-5)
    with torch.no_grad():
        slow = t.train()(torch.tensor(x), src_key_padding_mask=torch.tensor(pad)).numpy()
    np.testing.assert_allclose(got, slow, rtol=2e-4, atol=2e-5)  # dropout 0: the slow path, everywhere


def test_transformer_initialization_and_layout():
    t, g = torch.nn.Transformer(16, 2, 1, 1, 32), gg.nn.Transformer(16, 2, 1, 1, 32)
    assert {k: tuple(v.shape) for k, v in g.state_dict().items()} == {
        k: tuple(v.shape) for k, v in t.state_dict().items()}
    w = g.encoder.layers[0].linear1.weight.detach().numpy()
    bound = np.sqrt(6 / (16 + 32))  # every matrix Xavier-uniform, as torch
    assert bound * 0.9 < np.abs(w).max() <= bound
    # each layer is its own copy
    e = gg.nn.TransformerEncoder(gg.nn.TransformerEncoderLayer(4, 2, 8), 2)
    assert e.layers[0].linear1.weight is not e.layers[1].linear1.weight
    w0, w1 = (e.layers[i].linear1.weight.detach().numpy() for i in (0, 1))
    np.testing.assert_array_equal(w0, w1)


def test_generate_square_subsequent_mask():
    got = gg.nn.Transformer.generate_square_subsequent_mask(4)
    ref = torch.nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(got.numpy(), ref.numpy())
    assert got.dtype == gg.float32
    assert gg.nn.Transformer.generate_square_subsequent_mask(3, dtype=gg.float64).dtype == gg.float64


def test_is_causal_detection_as_torch():
    from glassgrad.nn.modules.transformer import _is_causal

    causal = gg.nn.Transformer.generate_square_subsequent_mask(3)
    assert _is_causal(causal, None, 3)
    assert not _is_causal(gg.zeros(3, 3), None, 3)
    assert _is_causal(gg.tensor(np.triu(np.ones((3, 3), bool), 1)), None, 3)
    assert not _is_causal(causal, False, 3) and not _is_causal(None, None, 3)


def test_double_backward_through_an_encoder_layer():
    """A Hessian-vector product (input and weights) through a whole encoder layer, against torch
    (its math attention kernel: the flash kernel has no double backward)."""
    rng = np.random.default_rng(4)
    g, t = _pair("TransformerEncoderLayer", np.float64, 5, 4, 2, dim_feedforward=6, dropout=0.0,
                 activation="gelu", norm_first=True)
    x, v, u = (rng.standard_normal((3, 2, 4)) for _ in range(3))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64).numpy()
    results = []
    for lib, m in ((gg, g), (torch, t)):
        xt = lib.tensor(x, requires_grad=True)
        with sdpa_kernel(SDPBackend.MATH):
            out = m(xt, src_mask=lib.tensor(mask))
        params = [m.self_attn.in_proj_weight, m.linear1.weight, m.norm1.weight]
        gx, *gp = lib.autograd.grad((out * lib.tensor(v)).sum(), [xt, *params], create_graph=True)
        second = lib.autograd.grad((gx * lib.tensor(u)).sum() + sum((p * p).sum() for p in gp), [xt, *params])
        results.append([s.detach().numpy() for s in second])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_dropout_is_random_in_training_and_off_in_eval():
    layer = gg.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3)
    x = gg.randn(5, 3, 8)
    a, b = layer(x).detach().numpy(), layer(x).detach().numpy()
    assert not np.allclose(a, b)
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())


def test_errors():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        gg.nn.TransformerEncoderLayer(6, 4)
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        gg.nn.TransformerEncoderLayer(4, 2, activation="tanh")
    layer = gg.nn.TransformerEncoderLayer(4, 2, 8)
    with pytest.raises(RuntimeError, match=r"TransformerEncoderLayer\(d_model=4, .*E = d_model = 4, got \(3, 2, 5\)"):
        layer(gg.randn(3, 2, 5))
    with pytest.raises(RuntimeError, match=r"got \(2, 3, 2, 4\)"):
        layer(gg.randn(2, 3, 2, 4))
    with pytest.raises(RuntimeError, match=r"MultiheadAttention.*attn_mask of shape \(3, 3\) .*got \(3, 4\)"):
        layer(gg.randn(3, 2, 4), src_mask=gg.zeros(3, 4))
    with pytest.raises(TypeError, match="key_padding_mask must be a bool or floating point"):
        layer(gg.randn(3, 2, 4), src_key_padding_mask=gg.zeros(2, 3, dtype=gg.int64))
    model = gg.nn.Transformer(4, 2, 1, 1, 8)
    with pytest.raises(RuntimeError, match="batch number of src and tgt must be equal"):
        model(gg.randn(3, 2, 4), gg.randn(3, 5, 4))
    with pytest.raises(RuntimeError, match=r"feature number of src and tgt must be equal to d_model \(4\)"):
        model(gg.randn(3, 2, 4), gg.randn(3, 2, 6))
    decoder = gg.nn.TransformerDecoderLayer(4, 2, 8)
    with pytest.raises(RuntimeError, match=r"memory .*got \(3, 2, 6\)"):
        decoder(gg.randn(3, 2, 4), gg.randn(3, 2, 6))


# -- positional encodings -------------------------------------------------------------------


def test_sinusoidal_table_is_vaswanis_formula():
    pe = gg.nn.SinusoidalPositionalEncoding(6, dropout=0.0, max_len=10).pe.numpy()
    for pos in range(10):
        for i in range(3):
            angle = pos / 10000 ** (2 * i / 6)
            assert pe[pos, 2 * i] == pytest.approx(np.sin(angle))
            assert pe[pos, 2 * i + 1] == pytest.approx(np.cos(angle))
    odd = gg.nn.SinusoidalPositionalEncoding(5, dropout=0.0, max_len=4).pe.numpy()
    assert odd.shape == (4, 5) and odd[1, 4] == pytest.approx(np.sin(1 / 10000 ** (4 / 5)))


@pytest.mark.parametrize("batch_first", [False, True])
def test_positional_encodings_add_per_position(batch_first):
    x = gg.randn(2, 3, 4) if batch_first else gg.randn(3, 2, 4)
    sin = gg.nn.SinusoidalPositionalEncoding(4, dropout=0.0, max_len=8, batch_first=batch_first)
    learned = gg.nn.LearnedPositionalEncoding(8, 4, dropout=0.0, batch_first=batch_first)
    for module, table in ((sin, sin.pe.numpy()), (learned, learned.embedding.weight.detach().numpy())):
        out = module(x).detach().numpy()
        expected = x.numpy() + (table[None, :3] if batch_first else table[:3, None])
        np.testing.assert_allclose(out, expected, rtol=1e-6)
        np.testing.assert_allclose(module(x[0] if batch_first else x[:, 0]).detach().numpy(),
                                   expected[0] if batch_first else expected[:, 0], rtol=1e-6)  # unbatched (L, E)
    assert "pe" not in sin.state_dict() and list(learned.state_dict()) == ["embedding.weight"]


def test_learned_positional_encoding_learns():
    module = gg.nn.LearnedPositionalEncoding(8, 4, dropout=0.0, batch_first=True)
    module(gg.randn(2, 3, 4)).sum().backward()
    grad = module.embedding.weight.grad.numpy()
    np.testing.assert_array_equal(grad[:3], 2.0)  # used positions, once per batch item
    np.testing.assert_array_equal(grad[3:], 0.0)


def test_positional_encoding_dropout_and_errors():
    module = gg.nn.SinusoidalPositionalEncoding(4, dropout=0.5)
    out = module(gg.zeros(50, 20, 4)).numpy()
    assert 0.4 < (out == 0).mean() < 0.65
    module.eval()
    np.testing.assert_allclose(module(gg.zeros(50, 1, 4)).numpy()[:, 0], module.pe.numpy()[:50])
    with pytest.raises(RuntimeError, match=r"SinusoidalPositionalEncoding\(d_model=4.*E = 4, got \(3, 2, 5\)"):
        module(gg.randn(3, 2, 5))
    with pytest.raises(RuntimeError, match="6 positions, more than max_len=5"):
        gg.nn.LearnedPositionalEncoding(5, 4)(gg.randn(6, 1, 4))
    assert gg.nn.SinusoidalPositionalEncoding(4, dtype=gg.float64).pe.dtype == gg.float64
