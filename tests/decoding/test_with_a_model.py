"""Decoding a real recurrent decoder built from glassgrad modules, against the same decoder
with PyTorch's modules and the same weights, decoded through the same step protocol."""

import numpy as np
import pytest
import torch

import glassgrad as gg
from glassgrad.decoding import beam_search, greedy_search

VOCAB, EMBED, HIDDEN, BOS, EOS = 7, 5, 8, 0, 1


class Decoder:
    """An Elman RNN decoder, ``h' = tanh(W_x e(y) + W_h h)`` and ``scores = W_o h'``, written once
    for both libraries (``m`` is glassgrad or torch); the state is ``h`` (rows, hidden)."""

    def __init__(self, m, weights):
        self.m = m
        self.embed = m.nn.Embedding(VOCAB, EMBED, dtype=m.float64)
        self.w_x = m.nn.Linear(EMBED, HIDDEN, dtype=m.float64)
        self.w_h = m.nn.Linear(HIDDEN, HIDDEN, bias=False, dtype=m.float64)
        self.out = m.nn.Linear(HIDDEN, VOCAB, dtype=m.float64)
        for module, name in ((self.embed, "embed"), (self.w_x, "w_x"), (self.w_h, "w_h"), (self.out, "out")):
            own = {k.split(".", 1)[1]: m.tensor(v) for k, v in weights.items() if k.startswith(name + ".")}
            module.load_state_dict(own)

    def step(self, prefixes, h):
        last = prefixes[:, -1]
        if self.m is torch:  # the search passes glassgrad tensors and runs glassgrad's no_grad only
            with torch.no_grad():
                return self._step(torch.from_numpy(last.numpy()), h)
        return self._step(last, h)

    def _step(self, last, h):
        h = self.m.tanh(self.w_x(self.embed(last)) + self.w_h(h))
        return self.m.log_softmax(self.out(h), dim=-1), h


def _weights(seed):
    rng = np.random.default_rng(seed)
    shapes = {"embed.weight": (VOCAB, EMBED), "w_x.weight": (HIDDEN, EMBED), "w_x.bias": (HIDDEN,),
              "w_h.weight": (HIDDEN, HIDDEN), "out.weight": (VOCAB, HIDDEN), "out.bias": (VOCAB,)}  # fmt: skip
    return {k: rng.normal(size=s) * 1.5 for k, s in shapes.items()}


def _torch_reorder(h, index):
    return h[torch.from_numpy(index.numpy())]


@pytest.mark.parametrize("seed", range(4))
def test_glassgrad_and_torch_decoders_decode_alike(seed):
    w = _weights(seed)
    g, t = Decoder(gg, w), Decoder(torch, w)
    h0 = np.random.default_rng(100 + seed).normal(size=(3, HIDDEN))
    greedy_g = greedy_search(g.step, BOS, EOS, 12, batch_size=3, state=gg.tensor(h0))
    greedy_t = greedy_search(t.step, BOS, EOS, 12, batch_size=3, state=torch.tensor(h0), reorder_state=_torch_reorder)
    assert [h.tokens for h in greedy_g] == [h.tokens for h in greedy_t]
    np.testing.assert_allclose([h.log_prob for h in greedy_g], [h.log_prob for h in greedy_t], rtol=1e-10)

    beams_g = beam_search(g.step, BOS, EOS, 12, beam_size=4, n_best=4, alpha=0.7, state=gg.tensor(h0[:1]))
    beams_t = beam_search(t.step, BOS, EOS, 12, beam_size=4, n_best=4, alpha=0.7, state=torch.tensor(h0[:1]),
                          reorder_state=_torch_reorder)  # fmt: skip
    assert [h.tokens for h in beams_g] == [h.tokens for h in beams_t]
    np.testing.assert_allclose([h.score for h in beams_g], [h.score for h in beams_t], rtol=1e-10)
