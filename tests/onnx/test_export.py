"""gg.onnx.export: each model family of the course exported, checked by onnx's checker and run in
onnxruntime on inputs of other batch sizes (and sequence lengths) than the traced one; the
outputs must equal glassgrad's within 1e-5 (float32). Then the errors."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOL = 1e-5


def _flat(out) -> list:
    if isinstance(out, gg.Tensor):
        return [out]
    return [t for o in out if o is not None for t in _flat(o)]


def roundtrip(tmp_path, model, args, others, dynamic_axes=None, **kwargs):
    """Export ``model`` traced on ``args``; for each tuple of inputs in ``others``, onnxruntime's
    outputs must equal the model's (in eval mode). Returns the ModelProto."""
    path = tmp_path / "model.onnx"
    proto = gg.onnx.export(model, args, path, dynamic_axes=dynamic_axes, **kwargs)
    loaded = onnx.load(path)
    onnx.checker.check_model(loaded, full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model.eval()
    for inputs in others:
        feed = {i.name: x.numpy() for i, x in zip(session.get_inputs(), inputs)}
        got = session.run(None, feed)
        with gg.no_grad():
            want = _flat(model(*inputs))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.shape == tuple(w.shape)
            np.testing.assert_allclose(g, w.numpy(), rtol=TOL, atol=TOL)
    return proto


def ids(*shape, high=20):
    return gg.tensor(np.random.default_rng(sum(shape)).integers(0, high, shape))


# -- MLP --------------------------------------------------------------------------------------


def mlp():
    return nn.Sequential(
        nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 16), nn.Sigmoid(), nn.Linear(16, 16),
        nn.Tanh(), nn.Linear(16, 16), nn.GELU(), nn.Linear(16, 16), nn.GELU("tanh"), nn.LeakyReLU(0.2),
        nn.Linear(16, 5), nn.LogSoftmax(-1),
    )


def test_mlp_other_batch_sizes(tmp_path):
    model = mlp()
    proto = roundtrip(tmp_path, model, gg.randn(4, 6), [(gg.randn(1, 6),), (gg.randn(9, 6),)],
                      dynamic_axes={"x": {0: "batch"}}, input_names=["x"], output_names=["log_probs"])
    (inp,), (out,) = proto.graph.input, proto.graph.output
    assert inp.type.tensor_type.shape.dim[0].dim_param == "batch"
    assert [i.name for i in proto.graph.input] == ["x"] and out.name == "log_probs"
    assert {n.op_type for n in proto.graph.node} >= {"Gemm", "Relu", "Sigmoid", "Tanh", "Erf", "LogSoftmax"}
    assert "Dropout" not in {n.op_type for n in proto.graph.node}  # eval mode: the identity


def test_parameters_are_initializers_named_as_in_the_state_dict(tmp_path):
    model = mlp()
    proto = gg.onnx.export(model, gg.randn(2, 6), tmp_path / "m.onnx")
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(inits[name], value.numpy())


def test_linear_on_sequences_softmax_and_matmul(tmp_path):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(4, 8)
            self.w = nn.Parameter(gg.randn(8, 3))

        def forward(self, x):  # (N, L, 4): Linear on 3-D input, matmul, softmax, sum/mean
            h = gg.softmax(self.proj(x) @ self.w, -1)
            return h.sum(1) - h.mean(1, keepdim=True).squeeze(1) * 2.0

    model = Net()
    roundtrip(tmp_path, model, gg.randn(2, 5, 4), [(gg.randn(3, 7, 4),)], dynamic_axes={"input_0": {0: "n", 1: "l"}})


def test_indexing_and_adaptive_pooling(tmp_path):
    class Indexing(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 6)

        def forward(self, x):  # (N, L, 4): an int with None, a negative step, slices from 1
            h = self.lin(x)
            return h[:, None, -1].squeeze(1)[:, :3] + h[..., ::-2].mean(1) + h[:, 1:, 2:5].sum(1)

    roundtrip(tmp_path, Indexing(), gg.randn(2, 5, 4), [(gg.randn(3, 7, 4),)], dynamic_axes={"input_0": [0, 1]})
    pooled = nn.Sequential(nn.Conv2d(1, 2, 3), nn.AdaptiveAvgPool2d((3, 2)), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    roundtrip(tmp_path, pooled, gg.randn(2, 1, 9, 8), [(gg.randn(3, 1, 9, 8),)], dynamic_axes={"input_0": [0]})


def test_without_dynamic_axes_the_shapes_are_fixed(tmp_path):
    proto = roundtrip(tmp_path, mlp(), gg.randn(3, 6), [(gg.randn(3, 6),)])
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [3, 6]


# -- CNN --------------------------------------------------------------------------------------


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(4, 8, 3, stride=1, padding=1, groups=2), nn.BatchNorm2d(8), nn.ReLU(),
            nn.MaxPool2d(3, stride=2, ceil_mode=True), nn.AvgPool2d(2, padding=1, count_include_pad=False),
        )
        self.flatten = nn.Flatten()
        self.head = nn.Linear(8 * 2 * 2, 10)

    def forward(self, x):
        h = self.features(x)
        h = self.flatten(h) + h.view(h.shape[0], -1) * 0.5  # nn.Flatten and view
        return gg.softmax(self.head(h.reshape(-1, 32)), dim=1)


def test_cnn_with_trained_batch_norm(tmp_path):
    model = LeNet()
    model.train()
    for _ in range(3):  # running statistics away from (0, 1)
        model(gg.randn(8, 1, 12, 12) * 3 + 1)
    proto = roundtrip(tmp_path, model, gg.randn(2, 1, 12, 12), [(gg.randn(1, 1, 12, 12),), (gg.randn(5, 1, 12, 12),)],
                      dynamic_axes={"input_0": {0: "batch"}})
    ops = {n.op_type for n in proto.graph.node}
    assert {"Conv", "BatchNormalization", "MaxPool", "AveragePool"} <= ops
    assert "features.1.running_mean" in {t.name for t in proto.graph.initializer}


# -- Transformer encoder ----------------------------------------------------------------------


class Encoder(nn.Module):
    def __init__(self, batch_first: bool, norm_first: bool = False):
        super().__init__()
        self.batch_first = batch_first
        self.embed = nn.Embedding(20, 16)
        self.pos = nn.SinusoidalPositionalEncoding(16, dropout=0.1, max_len=64, batch_first=batch_first)
        layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, activation="gelu", batch_first=batch_first,
                                           norm_first=norm_first)
        self.encoder = nn.TransformerEncoder(layer, 2)
        self.norm = nn.LayerNorm(16)
        self.head = nn.Linear(16, 3)

    def forward(self, tokens):
        h = self.norm(self.encoder(self.pos(self.embed(tokens))))
        return self.head(h.mean(1 if self.batch_first else 0))


@pytest.mark.parametrize("batch_first,norm_first", [(True, False), (False, True)])
def test_transformer_encoder_other_batch_and_length(tmp_path, batch_first, norm_first):
    model = Encoder(batch_first, norm_first)
    batch, seq = (0, 1) if batch_first else (1, 0)

    def shaped(n, length):
        return (ids(n, length),) if batch_first else (ids(length, n),)

    proto = roundtrip(tmp_path, model, shaped(2, 5)[0], [shaped(1, 3), shaped(4, 11)],
                      dynamic_axes={"tokens": {batch: "batch", seq: "seq"}}, input_names=["tokens"])
    ops = {n.op_type for n in proto.graph.node}
    assert {"Gather", "LayerNormalization", "Softmax", "MatMul", "Erf"} <= ops


def test_transformer_with_a_padding_mask_input(tmp_path):
    class Masked(Encoder):
        def forward(self, tokens, padding):  # padding: (N, L) bool, True = a pad token to ignore
            h = self.encoder(self.pos(self.embed(tokens)), src_key_padding_mask=padding)
            return self.head(self.norm(h)[:, 0])

    def masked(n, length, pads):
        mask = np.zeros((n, length), dtype=bool)
        mask[:, length - pads:] = True
        return ids(n, length), gg.tensor(mask)

    model = Masked(batch_first=True)
    proto = roundtrip(tmp_path, model, masked(2, 5, 1), [masked(3, 8, 3), masked(1, 4, 0)],
                      dynamic_axes={"tokens": {0: "batch", 1: "seq"}, "padding": {0: "batch", 1: "seq"}},
                      input_names=["tokens", "padding"])
    assert "Where" in {n.op_type for n in proto.graph.node}  # the mask is read, not baked in


def test_multihead_attention_returns_output_and_weights(tmp_path):
    attn = nn.MultiheadAttention(8, 2, batch_first=True)

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = attn

        def forward(self, x):
            return self.attn(x, x, x)

    roundtrip(tmp_path, SelfAttention(), gg.randn(2, 3, 8), [(gg.randn(5, 4, 8),)],
              dynamic_axes={"input_0": {0: "b", 1: "l"}, "output_1": {0: "b", 1: "l", 2: "l"}})


# -- GAN generator ----------------------------------------------------------------------------


def test_generator_with_transposed_convolutions(tmp_path):
    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(
                nn.Linear(8, 4 * 3 * 3), nn.Unflatten(1, (4, 3, 3)),
                nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1), nn.BatchNorm2d(3), nn.LeakyReLU(0.2),
                nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), nn.Tanh(),
            )

        def forward(self, z):  # and the remaining activations, reductions and padding
            F = nn.functional
            y = F.pad(self.net(z), (1, 2, 0, 1))
            return (y.amax(1) + F.softplus(y, beta=2.0).amin(1) + F.logsigmoid(y).sum(1)
                    + F.hardsigmoid(y).mean(1) + F.softplus(y).sum(1))

    proto = roundtrip(tmp_path, Generator(), gg.randn(2, 8), [(gg.randn(1, 8),), (gg.randn(6, 8),)],
                      dynamic_axes={"input_0": [0]})
    assert "ConvTranspose" in {n.op_type for n in proto.graph.node}


# -- recurrent --------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [nn.GRU, nn.LSTM])
@pytest.mark.parametrize("batch_first", [True, False])
def test_gru_lstm_two_layers_bidirectional(tmp_path, cls, batch_first):
    rnn = cls(3, 5, num_layers=2, bidirectional=True, batch_first=batch_first)
    batch, seq = (0, 1) if batch_first else (1, 0)

    def x(n, length):
        return (gg.randn(n, length, 3),) if batch_first else (gg.randn(length, n, 3),)

    proto = roundtrip(tmp_path, rnn, x(2, 4)[0], [x(1, 2), x(3, 9)],
                      dynamic_axes={"input_0": {batch: "batch", seq: "seq"}})
    assert cls.__name__ in {n.op_type for n in proto.graph.node}  # one ONNX op per layer, not unrolled


@pytest.mark.parametrize("cls", [nn.GRU, nn.LSTM])
def test_gru_lstm_with_given_initial_state(tmp_path, cls):
    rnn = cls(4, 6, bias=False)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = rnn
            self.out = nn.Linear(6, 2)

        def forward(self, x, h0):
            state = (h0, h0 * 0.5) if isinstance(self.rnn, nn.LSTM) else h0
            y, _ = self.rnn(x, state)
            return self.out(y[-1])  # the last step, as a sequence classifier

    roundtrip(tmp_path, Net(), (gg.randn(3, 2, 4), gg.randn(1, 2, 6)), [(gg.randn(7, 5, 4), gg.randn(1, 5, 6))],
              dynamic_axes={"x": {0: "seq", 1: "batch"}, "h0": {1: "batch"}}, input_names=["x", "h0"])


# -- errors -----------------------------------------------------------------------------------


class Cumulative(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        return gg.cumsum(self.lin(x), 1)


def test_an_op_without_converter_names_itself(tmp_path):
    with pytest.raises(gg.onnx.ExportError, match=r"no ONNX converter for the op CumSum.*glassgrad/onnx/converters"):
        gg.onnx.export(Cumulative(), gg.randn(2, 3), tmp_path / "m.onnx")


def test_a_registered_converter_is_used(tmp_path):
    from glassgrad.functions.reduction import CumSum

    @gg.onnx.register(CumSum)
    def cumsum(graph, node):
        return graph.add("CumSum", [node.input(0), graph.scalar(node.fn.dim, "int64")])

    try:
        roundtrip(tmp_path, Cumulative(), gg.randn(2, 3), [(gg.randn(4, 3),)], dynamic_axes={"input_0": [0]})
    finally:
        del gg.onnx.CONVERTERS[CumSum]
    with pytest.raises(TypeError, match="expected Function subclasses, got <class 'int'>"):
        gg.onnx.register(int)


class AddsConstant(nn.Module):
    def __init__(self, make):
        super().__init__()
        self.lin, self.make = nn.Linear(3, 4), make

    def forward(self, x):
        return self.lin(x) + self.make(x.shape[0])


def test_a_uniform_constant_that_follows_the_batch_is_built_at_run_time(tmp_path):
    model = AddsConstant(lambda n: gg.full((n, 4), 0.5))  # as an RNN's default zero state
    proto = roundtrip(tmp_path, model, gg.randn(2, 3), [(gg.randn(5, 3),)], dynamic_axes={"input_0": [0]})
    assert "ConstantOfShape" in {n.op_type for n in proto.graph.node}


def test_a_constant_that_depends_on_the_batch_is_refused(tmp_path):
    model = AddsConstant(lambda n: gg.arange(n).float().unsqueeze(1))  # values that differ: no rule
    with pytest.raises(gg.onnx.ExportError, match=r"Add input 1 is a constant .*shape \(2, 1\) changes .*\(4, 1\)"):
        gg.onnx.export(model, gg.randn(2, 3), tmp_path / "m.onnx", dynamic_axes={"input_0": [0]})
    roundtrip(tmp_path, model, gg.randn(2, 3), [(gg.randn(2, 3),)])  # fine with a fixed batch


def test_a_constant_computed_from_the_input_values_is_refused(tmp_path):
    class PadAware(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(10, 4)

        def forward(self, tokens):
            keep = (tokens != 0).unsqueeze(-1)  # a comparison is not a recorded op: a constant
            return (self.embed(tokens) * keep).sum(1)

    tokens = gg.tensor([[1, 2, 0, 0], [3, 0, 5, 6]])
    with pytest.raises(gg.onnx.ExportError, match=r"Mul input 1 is a constant whose values changed with the input"):
        gg.onnx.export(PadAware(), tokens, tmp_path / "m.onnx")  # even without dynamic axes


def test_rnn_unrolled_with_dynamic_batch_but_not_length(tmp_path):
    rnn = nn.RNN(3, 4, num_layers=2, batch_first=True)  # composed of one op per step
    roundtrip(tmp_path, rnn, gg.randn(2, 5, 3), [(gg.randn(4, 5, 3),)], dynamic_axes={"input_0": {0: "batch"}})
    with pytest.raises(gg.onnx.ExportError, match=r"different ops .*nn.RNN"):
        gg.onnx.export(rnn, gg.randn(2, 5, 3), tmp_path / "m.onnx", dynamic_axes={"input_0": {0: "batch", 1: "seq"}})


def test_a_graph_that_changes_with_the_size_is_refused(tmp_path):
    class Branches(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)

        def forward(self, x):
            h = self.lin(x)
            return gg.relu(h) if x.shape[0] < 3 else gg.tanh(h)

    with pytest.raises(gg.onnx.ExportError, match="different ops"):
        gg.onnx.export(Branches(), gg.randn(2, 3), tmp_path / "m.onnx", dynamic_axes={"input_0": {0: "batch"}})


def test_an_input_used_outside_glassgrad_ops_is_warned_about(tmp_path):
    class Numpyish(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def forward(self, x, scale):
            return self.lin(x) * scale.item()  # a Python number: the graph cannot see it

    with pytest.warns(UserWarning, match="input 'scale' does not reach the outputs"):
        gg.onnx.export(Numpyish(), (gg.randn(2, 3), gg.tensor(2.0)), tmp_path / "m.onnx", input_names=["x", "scale"])


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(model=lambda x: x), TypeError, "expected model to be an nn.Module, got function"),
    (dict(args=[1, 2]), TypeError, "expected args to be a Tensor or a tuple of Tensors .*got a sequence of int"),
    (dict(args=()), TypeError, "got an empty sequence"),
    (dict(path=3), TypeError, "expected path to be a str or os.PathLike, got int"),
    (dict(input_names=["a", "b"]), ValueError, r"input_names must give 1 distinct name\(s\).*\['a', 'b'\]"),
    (dict(output_names="y"), TypeError, "expected output_names to be a list of non-empty str, got 'y'"),
    (dict(dynamic_axes={"x": {0: "b"}}), ValueError, r"names 'x', which is not an input or output name.*input_0"),
    (dict(dynamic_axes={"input_0": {2: "b"}}), ValueError, r"has axis 2, but input_0 has 2 dimensions"),
    (dict(dynamic_axes={"input_0": 0}), TypeError, r"must be a dict \{axis: name\} or a list of axes, got int"),
    (dict(opset_version=13), ValueError, "opset_version must be an int from 17 to .*got 13"),
])
def test_bad_arguments(tmp_path, kwargs, error, message):
    call = dict(model=nn.Linear(3, 2), args=gg.randn(2, 3), path=tmp_path / "m.onnx")
    call.update(kwargs)
    with pytest.raises(error, match=message):
        gg.onnx.export(call.pop("model"), call.pop("args"), call.pop("path"), **call)


def test_export_restores_requires_grad_and_leaves_no_grad():
    model = nn.Linear(3, 2)
    model.bias.requires_grad_(False)
    model.train()
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        gg.onnx.export(model, gg.randn(2, 3), d + "/m.onnx")
    assert model.weight.requires_grad and not model.bias.requires_grad
    assert model.weight.grad is None and model.training


def test_import_glassgrad_does_not_import_onnx():
    code = ("import sys, glassgrad; assert 'onnx' not in sys.modules; "
            "glassgrad.onnx.export; assert 'onnx' in sys.modules")
    src = str(Path(gg.__file__).parents[1])  # this checkout's glassgrad, not an installed one
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": src})


def test_without_onnx_installed_the_error_says_what_to_install():
    code = ("import sys; sys.modules['onnx'] = None; import glassgrad\n"  # None: import onnx fails
            "try:\n    glassgrad.onnx.export\nexcept ImportError as e:\n    assert 'pip install onnx' in str(e), e\n"
            "else:\n    raise SystemExit('no ImportError')")
    src = str(Path(gg.__file__).parents[1])
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": src})
