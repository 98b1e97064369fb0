"""Module mechanics: registration through attribute assignment, traversal, modes, dtype
conversion, hooks, containers, and the state dict (layout, round trips with torch, errors)."""

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn as tnn

import glassgrad as gg
from glassgrad import nn
from tests.nn._nn_testing import copy_torch_to_gg


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4, padding_idx=0)
        self.body = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Dropout(0.2))
        self.heads = nn.ModuleDict({"cls": nn.Linear(6, 3), "reg": nn.Linear(6, 1, bias=False)})
        self.norm = nn.LayerNorm(3)
        self.register_buffer("scale", gg.tensor(2.0))
        self.register_buffer("cache", gg.zeros(3), persistent=False)

    def forward(self, ids):
        h = self.body(self.emb(ids).mean(1))
        return self.norm(self.heads["cls"](h)) * self.scale, self.heads["reg"](h)


class TNet(tnn.Module):
    """The same model in torch, with the same attribute names."""

    def __init__(self):
        super().__init__()
        self.emb = tnn.Embedding(10, 4, padding_idx=0)
        self.body = tnn.Sequential(tnn.Linear(4, 6), tnn.BatchNorm1d(6), tnn.ReLU(), tnn.Dropout(0.2))
        self.heads = tnn.ModuleDict({"cls": tnn.Linear(6, 3), "reg": tnn.Linear(6, 1, bias=False)})
        self.norm = tnn.LayerNorm(3)
        self.register_buffer("scale", torch.tensor(2.0))
        self.register_buffer("cache", torch.zeros(3), persistent=False)

    def forward(self, ids):
        h = self.body(self.emb(ids).mean(1))
        return self.norm(self.heads["cls"](h)) * self.scale, self.heads["reg"](h)


IDS = np.array([[1, 2, 0], [3, 3, 9], [4, 0, 0], [5, 6, 7]])


def test_registration_and_traversal_match_torch():
    g, t = Net(), TNet()
    assert [n for n, _ in g.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in g.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in g.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in g.named_children()] == [n for n, _ in t.named_children()]
    assert list(g.state_dict()) == list(t.state_dict())
    for (name, gv), tv in zip(g.state_dict().items(), t.state_dict().values()):
        assert gv.shape == tuple(tv.shape), name
    assert sum(p.numel() for p in g.parameters()) == sum(p.numel() for p in t.parameters())
    assert nn.utils.parameter_count(g) == sum(p.numel() for p in t.parameters())
    assert len(list(g.modules())) == len(list(t.modules()))
    assert isinstance(g.body[0].weight, nn.Parameter) and g.body[0].weight.requires_grad
    assert "cache" not in g.state_dict() and g.get_buffer("cache").shape == (3,)
    assert g.get_submodule("heads.cls") is g.heads["cls"]
    assert g.get_parameter("body.1.bias") is g.body[1].bias


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_state_dict_round_trip_with_torch(mode):
    t = TNet()
    with torch.no_grad():  # non-trivial norm weights and running statistics
        for p in t.parameters():
            p.add_(torch.randn(p.shape))
        t.body[1].running_mean.normal_()
        t.body[1].running_var.uniform_(0.5, 2.0)
        t.body[1].num_batches_tracked.fill_(7)
    g = Net()
    copy_torch_to_gg(t, g)  # torch -> dict of NumPy arrays -> glassgrad
    getattr(g, mode)()
    getattr(t, mode)()
    gg.manual_seed(0)
    if mode == "train":  # dropout masks differ between the libraries: compare without it
        g.body[3].p = t.body[3].p = 0.0
    g_out, t_out = g(gg.tensor(IDS)), t(torch.tensor(IDS))
    for a, b in zip(g_out, t_out):
        np.testing.assert_allclose(a._data, b.detach().numpy(), rtol=2e-5, atol=1e-6)
    assert g.body[1].num_batches_tracked.item() == t.body[1].num_batches_tracked.item()
    # and back: glassgrad -> NumPy -> torch, into a fresh torch model
    t2 = TNet()
    t2.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in g.state_dict().items()})
    for k, v in g.state_dict().items():
        np.testing.assert_array_equal(t2.state_dict()[k].numpy(), v.numpy(), err_msg=k)
    g.eval()
    t2.eval()
    for a, b in zip(g(gg.tensor(IDS)), t2(torch.tensor(IDS))):
        np.testing.assert_allclose(a._data, b.detach().numpy(), rtol=2e-5, atol=1e-6)


def test_load_accepts_glassgrad_tensors_and_casts_to_model_dtype():
    a, b = Net(), Net()
    b.load_state_dict(a.state_dict())
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        np.testing.assert_array_equal(va._data, vb._data, err_msg=k)
    weights = {
        k: v._data.astype(np.float64) if v.dtype == gg.float32 else v._data for k, v in a.state_dict().items()
    }
    b.load_state_dict(weights)
    assert b.body[0].weight.dtype == gg.float32
    assert b.body[1].num_batches_tracked.dtype == gg.int64


def test_load_accepts_a_torch_state_dict_directly():
    t, g = TNet(), Net()
    g.load_state_dict(t.state_dict())  # detached CPU torch tensors convert through np.asarray
    for k, v in t.state_dict().items():
        np.testing.assert_array_equal(g.state_dict()[k]._data, v.numpy(), err_msg=k)


def test_state_dict_shares_memory_and_is_detached():
    lin = nn.Linear(2, 2)
    sd = lin.state_dict()
    assert not sd["weight"].requires_grad
    with gg.no_grad():
        lin.weight.fill_(3.0)
    assert (sd["weight"]._data == 3.0).all()
    assert lin.state_dict(keep_vars=True)["weight"] is lin.weight


def test_strict_load_reports_every_problem_and_changes_nothing():
    g = Net()
    before = {k: v._data.copy() for k, v in g.state_dict().items()}
    bad = {k: v._data.copy() + 1 for k, v in g.state_dict().items()}
    del bad["norm.bias"], bad["body.1.running_var"]
    bad["extra.weight"] = np.zeros(3)
    bad["heads.cls.weight"] = np.zeros((6, 3))  # transposed
    bad["scale"] = "two"
    with pytest.raises(RuntimeError) as err:
        g.load_state_dict(bad)
    msg = str(err.value)
    for piece in (
        "missing key(s)",
        "'norm.bias'",
        "'body.1.running_var'",
        "unexpected key(s)",
        "'extra.weight'",
        "size mismatch for 'heads.cls.weight'",
        "(6, 3)",
        "(3, 6)",
        "'scale' is a str",
        "nothing was loaded",
    ):
        assert piece in msg, piece
    for k, v in g.state_dict().items():
        np.testing.assert_array_equal(v._data, before[k], err_msg=k)


def test_non_strict_load_returns_missing_and_unexpected():
    g = Net()
    sd = OrderedDict((k, v._data + 1) for k, v in g.state_dict().items() if not k.startswith("heads"))
    sd["other"] = np.ones(2)
    result = g.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["heads.cls.weight", "heads.cls.bias", "heads.reg.weight"]
    assert result.unexpected_keys == ["other"]
    np.testing.assert_array_equal(g.norm.weight._data, sd["norm.weight"])
    assert repr(g.load_state_dict(g.state_dict())) == "<All keys matched successfully>"
    with pytest.raises(RuntimeError, match="size mismatch"):  # shapes are checked even when not strict
        g.load_state_dict({"norm.weight": np.ones(4)}, strict=False)


def test_setattr_rules():
    m = nn.Module()
    m.w = nn.Parameter(gg.ones(2))
    m.sub = nn.Linear(1, 1)
    m.register_buffer("b", gg.zeros(1))
    m.plain = 3
    assert list(m._parameters) == ["w"] and list(m._modules) == ["sub"] and list(m._buffers) == ["b"]
    assert "plain" in m.__dict__ and "w" not in m.__dict__
    with pytest.raises(TypeError, match="Parameter or None expected"):
        m.w = gg.ones(2)
    m.w = None
    assert m.w is None and list(m.parameters()) == list(m.sub.parameters())
    with pytest.raises(TypeError, match="Tensor or None expected"):
        m.b = 5
    m.b = gg.ones(1)
    assert m.b.item() == 1.0
    m.sub = nn.Parameter(gg.ones(1))  # re-registered as a parameter, no longer a module
    assert "sub" not in m._modules and "sub" in m._parameters
    del m.sub
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'sub'"):
        m.sub  # noqa: B018

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(gg.ones(1))
            super().__init__()

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    with pytest.raises(KeyError, match="be empty or contain"):
        m.register_buffer("a.b", gg.ones(1))
    with pytest.raises(KeyError, match="already exists"):
        m.register_parameter("plain", None)


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(3, 3)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # as torch


def test_parameter_is_cheap_and_shares_memory():
    data = gg.zeros(3)
    p = nn.Parameter(data)
    assert p.requires_grad and p.is_leaf and isinstance(p, gg.Tensor)
    assert not hasattr(p, "__dict__")
    with gg.no_grad():
        p.fill_(1.0)
    assert data._data[0] == 1.0
    assert not nn.Parameter(gg.ones(1), requires_grad=False).requires_grad
    assert type(p * 2) is gg.Tensor and type(p.detach()) is gg.Tensor


def test_train_eval_and_apply():
    g = Net()
    assert g.training and g.body[3].training
    assert g.eval() is g
    assert not any(m.training for m in g.modules())
    g.train()
    assert all(m.training for m in g.modules())
    with pytest.raises(ValueError, match="expected to be a bool"):
        g.train("no")
    seen = []
    g.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen[0] == "Embedding"

    def init_linear(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    g.apply(init_linear)
    assert not g.heads["cls"].weight._data.any()


def test_zero_grad_and_requires_grad_():
    g = nn.Linear(3, 2)
    g(gg.randn(4, 3)).sum().backward()
    assert g.weight.grad is not None
    g.zero_grad(set_to_none=False)
    assert g.weight.grad is not None and not g.weight.grad._data.any()
    g.zero_grad()
    assert g.weight.grad is None and g.bias.grad is None
    g.requires_grad_(False)
    assert not any(p.requires_grad for p in g.parameters())


def test_to_dtype_converts_in_place():
    g = Net()
    w = g.body[0].weight
    g(gg.tensor(IDS))[0].sum().backward()
    assert g.double() is g
    assert g.body[0].weight is w and w.dtype == gg.float64 and w.grad.dtype == gg.float64
    assert g.body[1].running_mean.dtype == gg.float64 and g.body[1].num_batches_tracked.dtype == gg.int64
    assert g(gg.tensor(IDS))[0].dtype == gg.float64
    g.to(gg.float32)
    assert w.dtype == gg.float32
    assert g.to("cpu") is g and g.to(device="cpu", dtype=gg.float64) is g and w.dtype == gg.float64
    with pytest.raises(RuntimeError, match="expected 'cpu', 'cuda'"):  # moving to a GPU: tests/test_device.py
        g.to("gpu")
    with pytest.raises(TypeError, match="floating point"):
        g.to(gg.int64)


def test_forward_hooks():
    g = Net().eval()
    feats = {}
    h1 = g.body[2].register_forward_hook(lambda m, args, out: feats.update(relu=out))
    h2 = g.body.register_forward_pre_hook(lambda m, args: (args[0] * 0,))  # replace the input
    g(gg.tensor(IDS))
    assert feats["relu"].shape == (4, 6)
    # a zero input leaves the first Linear's bias, normalized by the fresh running stats (0, 1)
    expected = np.maximum(g.body[0].bias._data / np.sqrt(1 + 1e-5), 0) * np.ones((4, 1))
    np.testing.assert_allclose(feats["relu"]._data, expected, rtol=1e-5)
    h2.remove()
    h1.remove()
    feats.clear()
    g(gg.tensor(IDS))
    assert feats == {}
    with g.norm.register_forward_hook(lambda m, args, out: out * 0):  # replace the output
        assert not g(gg.tensor(IDS))[0]._data.any()
    assert g(gg.tensor(IDS))[0]._data.any()
    order = []
    g.norm.register_forward_hook(lambda *a: order.append("second"))
    g.norm.register_forward_hook(lambda *a: order.append("first"), prepend=True)
    g(gg.tensor(IDS))
    assert order == ["first", "second"]


def test_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and isinstance(seq[1:], nn.Sequential)
    assert list(seq[1:].state_dict()) == ["2.weight", "2.bias"]  # a slice keeps the names, as torch
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and seq(gg.randn(5, 2)).shape == (5, 1)
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"] and named.fc is named[0]
    with pytest.raises(IndexError, match="out of range"):
        seq[7]
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.Linear(1, 2))
    ml.extend([nn.ReLU()])
    ml.insert(0, nn.Tanh())
    assert [type(m).__name__ for m in ml] == ["Tanh", "Linear", "Linear", "ReLU"]
    assert list(ml.state_dict()) == ["1.weight", "1.bias", "2.weight", "2.bias"]
    del ml[0]
    assert list(ml.state_dict())[0] == "0.weight"
    md = nn.ModuleDict({"a": nn.Linear(1, 1)})
    md["b"] = nn.ReLU()
    assert list(md) == ["a", "b"] and "a" in md and len(md) == 2
    assert isinstance(md.pop("a"), nn.Linear) and list(md.keys()) == ["b"]


def test_deepcopy_and_pickle():
    g = Net()
    g(gg.tensor(IDS))[0].sum().backward()
    for clone in (copy.deepcopy(g), pickle.loads(pickle.dumps(g))):
        assert isinstance(clone.body[0].weight, nn.Parameter)
        assert clone.body[0].weight is not g.body[0].weight
        for (k, a), b in zip(g.state_dict().items(), clone.state_dict().values()):
            np.testing.assert_array_equal(a._data, b._data, err_msg=k)
        with gg.no_grad():
            clone.body[0].weight.fill_(0.0)
        assert g.body[0].weight._data.any()


def test_layer_input_errors_name_the_layer():
    with pytest.raises(
        RuntimeError,
        match=r"Linear\(in_features=4, out_features=3, bias=True\): expected an input "
        r"of shape \(\*, 4\), got \(8, 5\)",
    ):
        nn.Linear(4, 3)(gg.randn(8, 5))
    emb = nn.Embedding(10, 3)
    with pytest.raises(
        IndexError, match=r"Embedding\(10, 3\): index 10 is out of range; expected ids in \[0, 10\)"
    ):
        emb(gg.tensor([1, 10]))
    with pytest.raises(IndexError, match="index -1"):
        emb(gg.tensor([-1]))
    with pytest.raises(
        TypeError, match=r"Embedding\(10, 3\): expected integer \(int64\) indices, got glassgrad.float32"
    ):
        emb(gg.tensor([1.0]))
    with pytest.raises(ValueError, match="padding_idx must be within"):
        nn.Embedding(4, 2, padding_idx=4)


def test_missing_forward_and_summary():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()()
    text = nn.utils.summary(Net(), gg.tensor(IDS))
    assert (
        "body.0" in text and "(4, 6)" in text and f"Total params: {nn.utils.parameter_count(Net()):,}" in text
    )
    frozen = nn.Linear(3, 3).requires_grad_(False)
    assert nn.utils.parameter_count(frozen, trainable_only=True) == 0
