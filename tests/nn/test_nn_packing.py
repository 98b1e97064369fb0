"""nn.utils.rnn (pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence) against
torch, and the recurrent layers on packed batches: the same outputs, final states and gradients
as torch's, and final states equal to those of running each sequence alone."""

import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as trnn
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.utils.rnn as grnn
from glassgrad import nn
from tests.nn._nn_testing import assert_close, copy_torch_to_gg, randomize_torch
from tests.oracle import ORACLE

lengths_lists = st.lists(st.integers(1, 5), min_size=1, max_size=4)


def _grads(lib, fn, arrays, up):
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(lib, xs)
    (out * lib.tensor(up)).sum().backward()
    return out, [x.grad for x in xs]


@ORACLE
@given(lengths_lists, st.booleans(), st.sampled_from(["left", "right"]), st.integers(0, 2**31))
def test_pad_sequence_matches_torch(lengths, batch_first, side, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((n, 2)) for n in lengths]
    out = trnn.pad_sequence([torch.tensor(a) for a in arrays], batch_first, -1.5, side)
    up = rng.standard_normal(tuple(out.shape))

    def fn(lib, xs):
        mod = grnn if lib is gg else trnn
        return mod.pad_sequence(xs, batch_first=batch_first, padding_value=-1.5, padding_side=side)

    got, ref = _grads(gg, fn, arrays, up), _grads(torch, fn, arrays, up)
    assert_close(got[0], ref[0], np.float64, "padded")
    for a, e in zip(got[1], ref[1]):
        assert_close(a, e, np.float64, "gradient of a sequence")


@ORACLE
@given(lengths_lists, st.booleans(), st.booleans(), st.integers(0, 2**31))
def test_pack_and_unpack_match_torch(lengths, batch_first, enforce_sorted, seed):
    if enforce_sorted:
        lengths = sorted(lengths, reverse=True)
    rng = np.random.default_rng(seed)
    steps = max(lengths) + int(rng.integers(0, 2))
    shape = (len(lengths), steps, 3) if batch_first else (steps, len(lengths), 3)
    x = rng.standard_normal(shape)
    total = steps + 1

    def fn(lib, xs):
        mod = grnn if lib is gg else trnn
        packed = mod.pack_padded_sequence(xs[0], lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
        fn.packed[lib.__name__] = packed
        padded, lens = mod.pad_packed_sequence(packed, batch_first, padding_value=0.25, total_length=total)
        fn.lens[lib.__name__] = lens
        return padded * 2

    fn.packed, fn.lens = {}, {}
    up = rng.standard_normal((len(lengths), total, 3) if batch_first else (total, len(lengths), 3))
    got, ref = _grads(gg, fn, [x], up), _grads(torch, fn, [x], up)
    assert_close(got[0], ref[0], np.float64, "padded again")
    assert_close(got[1][0], ref[1][0], np.float64, "gradient of the padded input")
    g, t = fn.packed["glassgrad"], fn.packed["torch"]
    assert_close(g.data, t.data, np.float64, "packed data")
    assert g.batch_sizes.tolist() == t.batch_sizes.tolist()
    for a, e in ((g.sorted_indices, t.sorted_indices), (g.unsorted_indices, t.unsorted_indices)):
        assert (a is None) == (e is None) and (a is None or a.tolist() == e.tolist())
    assert fn.lens["glassgrad"].tolist() == fn.lens["torch"].tolist()
    assert g.batch_sizes.dtype == gg.int64 and fn.lens["glassgrad"].dtype == gg.int64


def test_pack_sequence_matches_torch():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((n, 2)) for n in (2, 4, 1)]
    for enforce in (False,):
        g = grnn.pack_sequence([gg.tensor(a) for a in arrays], enforce_sorted=enforce)
        t = trnn.pack_sequence([torch.tensor(a) for a in arrays], enforce_sorted=enforce)
        assert_close(g.data, t.data)
        assert g.batch_sizes.tolist() == t.batch_sizes.tolist()
        assert g.sorted_indices.tolist() == t.sorted_indices.tolist()
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        grnn.pack_sequence([gg.tensor(a) for a in arrays])


def test_packing_errors():
    x = gg.zeros(4, 3, 2)
    with pytest.raises(RuntimeError, match=r"pack_padded_sequence: lengths must be sorted in decreasing.*\[2, 4, 1\]"):
        grnn.pack_padded_sequence(x, [2, 4, 1])
    with pytest.raises(RuntimeError, match=r"every length must be in 1\.\.4.*\(4, 3, 2\).*\[5, 4, 1\]"):
        grnn.pack_padded_sequence(x, [5, 4, 1])
    with pytest.raises(RuntimeError, match="every length"):
        grnn.pack_padded_sequence(x, [3, 2, 0])
    with pytest.raises(ValueError, match=r"expected 3 lengths.*\(4, 3, 2\).*got 2"):
        grnn.pack_padded_sequence(x, [3, 2])
    packed = grnn.pack_padded_sequence(x, [4, 2, 1])
    with pytest.raises(ValueError, match=r"total_length.*\(4\).*total_length=3"):
        grnn.pad_packed_sequence(packed, total_length=3)
    with pytest.raises(RuntimeError, match=r"same trailing dims.*\(2, 3\), \(2, 4\)"):
        grnn.pad_sequence([gg.zeros(2, 3), gg.zeros(2, 4)])
    with pytest.raises(ValueError, match="packed data"):
        nn.GRU(2, 3)(grnn.PackedSequence(gg.zeros(3, 2, 1), packed.batch_sizes))


# -- recurrent layers on packed batches -----------------------------------------------------------

MODES = [("RNN", {}), ("GRU", {}), ("LSTM", {}), ("LSTM", {"proj_size": 2})]


def _run_packed(lib, layer, x, lengths, states, up, enforce_sorted):
    mod = grnn if lib is gg else trnn
    xt = lib.tensor(x, requires_grad=True)
    st_ = [lib.tensor(s, requires_grad=True) for s in states]
    packed = mod.pack_padded_sequence(xt, lengths, enforce_sorted=enforce_sorted)
    out, h = layer(packed, tuple(st_) if len(st_) == 2 else (st_[0] if st_ else None))
    outs = [out.data, *(h if isinstance(h, tuple) else (h,))]
    sum((o * lib.tensor(u)).sum() for o, u in zip(outs, up)).backward()
    return outs, [xt.grad, *(s.grad for s in st_)], {n: p.grad for n, p in layer.named_parameters()}, out


@pytest.mark.parametrize("mode,extra", MODES)
@ORACLE
@given(lengths_lists, st.booleans(), st.booleans(), st.booleans(), st.integers(0, 2**31))
def test_layers_on_packed_batches_match_torch(mode, extra, lengths, bidirectional, with_states,
                                              enforce_sorted, seed):
    if enforce_sorted:
        lengths = sorted(lengths, reverse=True)
    rng = np.random.default_rng(seed)
    kwargs = dict(extra, num_layers=2, bidirectional=bidirectional)
    t = randomize_torch(getattr(torch.nn, mode)(3, 3, **kwargs)).double()
    g = getattr(nn, mode)(3, 3, **kwargs).to(gg.float64)
    copy_torch_to_gg(t, g)
    batch, layers = len(lengths), 2 * (2 if bidirectional else 1)
    x = rng.standard_normal((max(lengths), batch, 3))
    states = []
    if with_states:
        states = [rng.standard_normal((layers, batch, extra.get("proj_size", 3)))]
        if mode == "LSTM":
            states.append(rng.standard_normal((layers, batch, 3)))
    probe = _run_packed(torch, t, x, lengths, states, [np.zeros(1)] * 3, enforce_sorted)[0]
    up = [rng.standard_normal(tuple(o.shape)) for o in probe]
    t.zero_grad()
    got = _run_packed(gg, g, x, lengths, states, up, enforce_sorted)
    ref = _run_packed(torch, t, x, lengths, states, up, enforce_sorted)
    for k, (a, e) in enumerate(zip(got[0], ref[0])):
        assert_close(a, e, np.float64, f"output {k} (packed data, h_n, c_n)")
    for k, (a, e) in enumerate(zip(got[1], ref[1])):
        assert_close(a, e, np.float64, f"gradient of input {k} (x, h0, c0)")
    for name in ref[2]:
        assert_close(got[2][name], ref[2][name], np.float64, f"gradient of {name}")
    assert got[3].batch_sizes.tolist() == ref[3].batch_sizes.tolist()


@pytest.mark.parametrize("mode", ["GRU", "LSTM", "RNN"])
def test_final_states_equal_each_sequence_alone(mode):
    rng = np.random.default_rng(1)
    layer = getattr(nn, mode)(2, 3, num_layers=2, bidirectional=True).to(gg.float64)
    lengths = [2, 5, 1, 4]
    x = rng.standard_normal((5, 4, 2))
    x[np.arange(5)[:, None] >= np.array(lengths)[None, :]] = 7.0  # loud padding must not matter
    packed = grnn.pack_padded_sequence(gg.tensor(x), lengths, enforce_sorted=False)
    out, h = layer(packed)
    padded, _ = grnn.pad_packed_sequence(out)
    finals = h if isinstance(h, tuple) else (h,)
    for b, n in enumerate(lengths):
        alone_out, alone_h = layer(gg.tensor(x[:n, b]))  # unbatched [L, H_in]
        alone = alone_h if isinstance(alone_h, tuple) else (alone_h,)
        for f, a in zip(finals, alone):
            assert_close(f[:, b], a.detach().numpy(), np.float64, f"final state of sequence {b}")
        assert_close(padded[:n, b], alone_out.detach().numpy(), np.float64, f"outputs of sequence {b}")
        assert np.all(padded[n:, b].detach().numpy() == 0)
