"""Batch norm, layer norm and group norm: running statistics over several steps, the functional
forms, the modules, and double backward of the fused ops against torch and finite differences."""

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad import nn
from glassgrad.nn import functional as F
from tests.nn._nn_testing import assert_close, check_forward_backward, copy_torch_to_gg, randomize_torch
from tests.oracle import ORACLE, check


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("shape", [(8, 4), (5, 4, 3)])
def test_batch_norm_running_stats_over_steps(momentum, shape):
    t = randomize_torch(tnn.BatchNorm1d(4, momentum=momentum)).double()
    g = nn.BatchNorm1d(4, momentum=momentum).double()
    copy_torch_to_gg(t, g)
    rng = np.random.default_rng(0)
    for step in range(5):
        x = rng.standard_normal(shape) * (step + 1) + step
        assert_close(g(gg.tensor(x)), t(torch.tensor(x)), what=f"train output, step {step}")
    for name in ("running_mean", "running_var"):
        assert_close(getattr(g, name), getattr(t, name), what=name)
    assert int(g.num_batches_tracked.item()) == int(t.num_batches_tracked) == 5
    g.eval()
    t.eval()
    x = rng.standard_normal(shape)
    assert_close(g(gg.tensor(x)), t(torch.tensor(x)), what="eval output")
    assert int(g.num_batches_tracked.item()) == 5  # eval does not count batches


def test_batch_norm_momentum_none_is_cumulative_average():
    bn = nn.BatchNorm1d(3, momentum=None).double()
    batches = [np.random.default_rng(i).standard_normal((6, 3)) + i for i in range(4)]
    for b in batches:
        bn(gg.tensor(b))
    np.testing.assert_allclose(bn.running_mean._data, np.mean([b.mean(0) for b in batches], 0), rtol=1e-12)
    np.testing.assert_allclose(
        bn.running_var._data, np.mean([b.var(0, ddof=1) for b in batches], 0), rtol=1e-12
    )


def test_batch_norm_eval_without_running_stats_uses_batch():
    bn = nn.BatchNorm1d(3, track_running_stats=False).eval()
    x = gg.randn(10, 3) * 3 + 2
    y = bn(x)._data
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    assert "running_mean" not in bn.state_dict()


def test_functional_batch_norm_matches_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3, 4))
    rm, rv = rng.standard_normal(3), rng.random(3) + 0.5
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    g_rm, g_rv = gg.tensor(rm), gg.tensor(rv)
    t_rm, t_rv = torch.tensor(rm), torch.tensor(rv)
    for training in (True, False):
        gy = F.batch_norm(gg.tensor(x), g_rm, g_rv, gg.tensor(w), gg.tensor(b), training, 0.3, 1e-3)
        ty = TF.batch_norm(torch.tensor(x), t_rm, t_rv, torch.tensor(w), torch.tensor(b), training, 0.3, 1e-3)
        assert_close(gy, ty)
        assert_close(g_rm, t_rm)
        assert_close(g_rv, t_rv)


def test_functional_layer_norm_matches_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    w = np.random.default_rng(1).standard_normal((3, 4))
    gy = F.layer_norm(gg.tensor(x), (3, 4), gg.tensor(w), None, 1e-2)
    ty = TF.layer_norm(torch.tensor(x), (3, 4), torch.tensor(w), None, 1e-2)
    assert_close(gy, ty)


def _second_order(fn, inputs, upstream, v):
    """d/d(inputs) of sum(v * d(sum(upstream * fn(inputs)))/d(inputs[0])): the double backward."""
    out = fn(*inputs)
    first = torch.autograd.grad((out * upstream).sum(), inputs, create_graph=True)
    total = sum((f * vi).sum() for f, vi in zip(first, v))
    return first, torch.autograd.grad(total, inputs, allow_unused=True)


def _gg_second_order(fn, inputs, upstream, v):
    out = fn(*inputs)
    first = gg.autograd.grad((out * upstream).sum(), inputs, create_graph=True)
    total = sum((f * vi).sum() for f, vi in zip(first, v))
    return first, gg.autograd.grad(total, inputs, allow_unused=True)


@pytest.mark.parametrize(
    "kind", ["batch_norm-train", "batch_norm-train-3d", "batch_norm-eval", "layer_norm", "layer_norm-2d"]
)
def test_double_backward_matches_torch(kind):
    rng = np.random.default_rng(0)
    shape = {"batch_norm-train-3d": (5, 3, 4), "layer_norm-2d": (4, 3, 5)}.get(kind, (6, 3))
    x = rng.standard_normal(shape) * 2 + 1
    if kind.startswith("batch_norm"):
        pshape = (3,)
        rm, rv = rng.standard_normal(3), rng.random(3) + 0.5
        training = kind != "batch_norm-eval"

        def g_fn(x, w, b):
            return F.batch_norm(x, gg.tensor(rm), gg.tensor(rv), w, b, training, 0.1, 1e-5)

        def t_fn(x, w, b):
            return TF.batch_norm(x, torch.tensor(rm), torch.tensor(rv), w, b, training, 0.1, 1e-5)
    else:
        pshape = shape[2:] if kind == "layer_norm-2d" else shape[-1:]

        def g_fn(x, w, b):
            return F.layer_norm(x, pshape, w, b, 1e-5)

        def t_fn(x, w, b):
            return TF.layer_norm(x, pshape, w, b, 1e-5)

    w, b = rng.standard_normal(pshape), rng.standard_normal(pshape)
    up = rng.standard_normal(shape)
    v = [rng.standard_normal(shape), rng.standard_normal(pshape), rng.standard_normal(pshape)]
    g_in = [gg.tensor(a, requires_grad=True) for a in (x, w, b)]
    t_in = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    g_first, g_second = _gg_second_order(g_fn, g_in, gg.tensor(up), [gg.tensor(a) for a in v])
    t_first, t_second = _second_order(t_fn, t_in, torch.tensor(up), [torch.tensor(a) for a in v])
    for name, a, e in zip(("x", "weight", "bias"), g_first, t_first):
        assert_close(a, e, what=f"first derivative wrt {name}")
    for name, a, e in zip(("x", "weight", "bias"), g_second, t_second):
        if e is None:
            assert a is None, f"second derivative wrt {name}: torch has none"
            continue
        assert_close(a, e, what=f"second derivative wrt {name}")


def test_norms_gradgradcheck():
    x = gg.randn(5, 3, dtype=gg.float64, requires_grad=True)
    w = gg.randn(3, dtype=gg.float64, requires_grad=True)
    b = gg.randn(3, dtype=gg.float64, requires_grad=True)
    assert gg.autograd.gradgradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, True), (x, w, b))
    assert gg.autograd.gradgradcheck(lambda x, w, b: F.layer_norm(x, (3,), w, b), (x, w, b))
    assert gg.autograd.gradgradcheck(lambda x: F.layer_norm(x, (5, 3)), (x,))


def test_float32_input_with_float64_stats_is_float32():
    bn = nn.BatchNorm1d(3)
    y = bn(gg.randn(4, 3))
    assert y.dtype == gg.float32 and bn.running_mean.dtype == gg.float32


def test_batch_norm_input_errors():
    bn = nn.BatchNorm1d(4)
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4.*expected 4 features in dim 1.*\(8, 5\)"):
        bn(gg.randn(8, 5))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4.*2-dim or 3-dim.*\(2, 4, 3, 3\)"):
        bn(gg.randn(2, 4, 3, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(gg.randn(1, 4))
    bn.eval()
    assert bn(gg.randn(1, 4)).shape == (1, 4)  # fine in eval mode
    with pytest.raises(ValueError, match="running_mean and running_var are needed"):
        F.batch_norm(gg.randn(3, 4), None, None, training=False)


def test_layer_norm_input_errors():
    ln = nn.LayerNorm((3, 4))
    with pytest.raises(
        ValueError, match=r"LayerNorm\(\(3, 4\).*expected an input of shape \(\*, 3, 4\), got \(2, 4, 3\)"
    ):
        ln(gg.randn(2, 4, 3))
    with pytest.raises(ValueError, match="weight has shape"):
        F.layer_norm(gg.randn(2, 3), (3,), gg.ones(4))


def test_fused_norm_uses_one_graph_node():
    x = gg.randn(4, 3, requires_grad=True)
    y = F.layer_norm(x, (3,), gg.ones(3, requires_grad=True), gg.zeros(3, requires_grad=True))
    assert type(y.grad_fn).__name__ == "LayerNorm"
    assert all(p.grad_fn is None for p in y.grad_fn.inputs)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 5),
    c=st.integers(1, 4),
    extra=st.lists(st.integers(1, 3), max_size=2),
    seed=st.integers(0, 2**16),
)
def test_norms_match_torch_for_any_shape(n, c, extra, seed):
    rng = np.random.default_rng(seed)
    shape = (n, c, *extra)
    x = rng.standard_normal(shape) * 3 + 1
    up = rng.standard_normal(shape)
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    g_x, t_x = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    g_w, t_w = gg.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    g_y = F.batch_norm(g_x, None, None, g_w, gg.tensor(b), True)
    t_y = TF.batch_norm(t_x, None, None, t_w, torch.tensor(b), True)
    # layer norm over every dim but the first
    ln_shape = shape[1:]
    g_y2 = F.layer_norm(g_x, ln_shape)
    t_y2 = TF.layer_norm(t_x, ln_shape)
    (g_y * gg.tensor(up) + g_y2 * gg.tensor(up * up)).sum().backward()
    (t_y * torch.tensor(up) + t_y2 * torch.tensor(up * up)).sum().backward()
    assert_close(g_y, t_y, what="batch_norm")
    assert_close(g_y2, t_y2, what="layer_norm")
    assert_close(g_x.grad, t_x.grad, what="input gradient")
    assert_close(g_w.grad, t_w.grad, what="weight gradient")


# -- group norm ------------------------------------------------------------------------------------


@ORACLE
@given(
    n=st.integers(1, 3),
    groups=st.integers(1, 3),
    per_group=st.integers(1, 3),
    extra=st.lists(st.integers(1, 3), max_size=2),
    affine=st.sampled_from(["both", "weight", "none"]),
    eps=st.sampled_from([1e-5, 0.1]),
    seed=st.integers(0, 2**16),
)
def test_group_norm_matches_torch(n, groups, per_group, extra, affine, eps, seed):
    # torch refuses groups of one value when there is only one (its batch-norm check)
    assume(n * per_group * int(np.prod(extra)) > 1)
    rng = np.random.default_rng(seed)
    c = groups * per_group
    arrays = [rng.standard_normal((n, c, *extra)) * 2 + 1]
    if affine != "none":
        arrays.append(rng.standard_normal(c))
    if affine == "both":
        arrays.append(rng.standard_normal(c))
    check(lambda m, x, *params: m.nn.functional.group_norm(x, groups, *params, eps=eps), arrays)


def test_group_norm_special_cases_are_layer_and_instance_norm():
    x = gg.randn(2, 6, 3, 2, dtype=gg.float64)
    one_group = F.group_norm(x, 1)
    assert_close(one_group, F.layer_norm(x, (6, 3, 2)), what="one group is layer norm over (C, H, W)")
    per_channel = F.group_norm(x, 6)._data
    xs = x._data
    expected = (xs - xs.mean((2, 3), keepdims=True)) / np.sqrt(xs.var((2, 3), keepdims=True) + 1e-5)
    assert_close(per_channel, expected, what="C groups is instance norm")


@pytest.mark.parametrize("kwargs", [dict(), dict(affine=False), dict(bias=False), dict(eps=1e-3)])
def test_group_norm_module_matches_torch(kwargs):
    t = tnn.GroupNorm(3, 6, **kwargs).double()
    g = nn.GroupNorm(3, 6, **kwargs).double()
    assert repr(g) == repr(t)
    assert {k: tuple(v.shape) for k, v in g.state_dict().items()} == {
        k: tuple(v.shape) for k, v in t.state_dict().items()
    }
    for k, v in g.state_dict().items():  # the same initial values: weight ones, bias zeros
        assert_close(v, t.state_dict()[k], what=k)
    randomize_torch(t)
    copy_torch_to_gg(t, g)
    x = np.random.default_rng(0).standard_normal((4, 6, 3, 5)) * 3 + 1
    check_forward_backward(g, t, x)
    check_forward_backward(g, t, x[:1, :, :, 0])  # a batch of one, and (N, C, L) input
    g.eval()
    t.eval()
    check_forward_backward(g, t, x)  # the same in evaluation


def test_group_norm_module_dtype_and_float32():
    g = nn.GroupNorm(2, 4, dtype=gg.float64)
    assert g.weight.dtype == gg.float64 and g.bias.dtype == gg.float64
    g32 = nn.GroupNorm(2, 4)
    assert g32.weight.dtype == gg.float32
    assert g32(gg.randn(3, 4, 5)).dtype == gg.float32
    t = tnn.GroupNorm(2, 4)
    copy_torch_to_gg(randomize_torch(t), g32)
    check_forward_backward(g32, t, np.random.default_rng(1).standard_normal((3, 4, 5)), dtype=np.float32)


def test_group_norm_gradgradcheck():
    x = gg.randn(2, 4, 3, dtype=gg.float64, requires_grad=True)
    w = gg.randn(4, dtype=gg.float64, requires_grad=True)
    b = gg.randn(4, dtype=gg.float64, requires_grad=True)
    assert gg.autograd.gradgradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, w, b))


def test_group_norm_errors():
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups \(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="num_groups must be a positive int, got 0"):
        nn.GroupNorm(0, 6)
    gn = nn.GroupNorm(2, 6)
    with pytest.raises(RuntimeError, match=r"GroupNorm\(2, 6, .*input of shape \(N, 6, \*\), got \(3, 4, 5\)"):
        gn(gg.randn(3, 4, 5))
    with pytest.raises(RuntimeError, match=r"divisible by num_groups, got an input of shape \(2, 6, 5\).*num_groups=4"):
        F.group_norm(gg.randn(2, 6, 5), 4)
    with pytest.raises(RuntimeError, match=r"weight of shape \(4,\).*got \(3,\)"):
        F.group_norm(gg.randn(2, 4, 5), 2, gg.ones(3))
    with pytest.raises(RuntimeError, match=r"bias of shape \(4,\).*got \(3,\)"):
        F.group_norm(gg.randn(2, 4, 5), 2, gg.ones(4), gg.ones(3))
    with pytest.raises(RuntimeError, match=r"shape \(N, C, \*\), got \(4,\)"):
        F.group_norm(gg.randn(4), 2)
    with pytest.raises(TypeError, match="floating point input"):
        F.group_norm(gg.tensor([[1, 2]]), 1)
    for shape, groups, w in (((2, 6, 5), 4, None), ((2, 4, 5), 2, 3), ((4,), 2, None)):
        with pytest.raises(RuntimeError):  # torch refuses the same inputs
            TF.group_norm(torch.randn(*shape), groups, None if w is None else torch.ones(w))


def test_group_norm_of_single_values_gives_the_bias():
    # every group holds one value: xhat = 0, so y = bias. PyTorch refuses this input with its
    # batch norm message ("more than 1 value per channel when training"); glassgrad computes it.
    b = gg.tensor([0.5, -1.0])
    np.testing.assert_array_equal(F.group_norm(gg.tensor([[3.0, 4.0]]), 2, gg.ones(2), b).numpy(), [[0.5, -1.0]])
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        TF.group_norm(torch.tensor([[3.0, 4.0]]), 2)
