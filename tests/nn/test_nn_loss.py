"""Losses against torch.nn.functional: values and gradients for every reduction and option,
numerical stability for large logits, and clear errors for bad targets."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import glassgrad as gg
from glassgrad import nn
from glassgrad.nn import functional as F
from tests.nn._nn_testing import assert_close

REDUCTIONS = ["mean", "sum", "none"]
rng = np.random.default_rng(0)


def _compare(g_fn, t_fn, arrays, dtype=np.float64, grad_of=(0,), ints=(), grad_tol_dtype=None):
    """Call both functions on the same arrays (indices in ``ints`` stay integer), compare the
    value, then backpropagate a random upstream gradient and compare the gradients of the
    arguments listed in ``grad_of``."""
    g_args, t_args = [], []
    for i, a in enumerate(arrays):
        if a is None:
            g_args.append(None)
            t_args.append(None)
            continue
        a = a if i in ints else a.astype(dtype)
        g_args.append(gg.tensor(a, requires_grad=i in grad_of))
        t_args.append(torch.tensor(a, requires_grad=i in grad_of))
    gy, ty = g_fn(*g_args), t_fn(*t_args)
    assert_close(gy, ty, dtype, "loss")
    up = np.random.default_rng(1).standard_normal(ty.shape).astype(dtype)
    gy.backward(gg.tensor(up))
    ty.backward(torch.tensor(up))
    for i in grad_of:
        assert_close(g_args[i].grad, t_args[i].grad, grad_tol_dtype or dtype, f"gradient of argument {i}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(reduction, dtype):
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    for g, t in ((F.mse_loss, TF.mse_loss), (F.l1_loss, TF.l1_loss)):
        _compare(
            lambda a, b, g=g: g(a, b, reduction=reduction),
            lambda a, b, t=t: t(a, b, reduction=reduction),
            [x, y],
            dtype,
            grad_of=(0, 1),
        )


def test_regression_loss_warns_on_broadcasting_shapes():
    with pytest.warns(UserWarning, match=r"\(4,\) differs from the input's shape \(4, 1\)"):
        F.mse_loss(gg.randn(4, 1), gg.randn(4))


# every combination of the cross-entropy options with class-index targets
CE_OPTIONS = list(itertools.product(REDUCTIONS, [False, True], [None, 1], [0.0, 0.2]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2, 3)], ids=["NC", "NCdd"])
@pytest.mark.parametrize("reduction,weighted,ignore,smoothing", CE_OPTIONS)
def test_cross_entropy_class_indices(shape, reduction, weighted, ignore, smoothing, dtype):
    x = rng.standard_normal(shape) * 3
    target = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    target.flat[0] = 1  # at least one ignored target when ignore_index=1
    w = rng.random(shape[1]) + 0.5 if weighted else None
    kw = dict(reduction=reduction, label_smoothing=smoothing, ignore_index=-100 if ignore is None else ignore)
    _compare(
        lambda a, t, w: F.cross_entropy(a, t, w, **kw),
        lambda a, t, w: TF.cross_entropy(a, t, w, **kw),
        [x, target, w],
        dtype,
        ints=(1,),
    )
    _compare(
        lambda a, t, w: F.nll_loss(
            F.log_softmax(a, 1), t, w, reduction=reduction, ignore_index=kw["ignore_index"]
        ),
        lambda a, t, w: TF.nll_loss(
            TF.log_softmax(a, 1), t, w, reduction=reduction, ignore_index=kw["ignore_index"]
        ),
        [x, target, w],
        dtype,
        ints=(1,),
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2)], ids=["NC", "NCd"])
@pytest.mark.parametrize(
    "reduction,weighted,smoothing", list(itertools.product(REDUCTIONS, [False, True], [0.0, 0.3]))
)
def test_cross_entropy_probability_targets(shape, reduction, weighted, smoothing, dtype):
    x = rng.standard_normal(shape) * 3
    p = rng.random(shape)
    p /= p.sum(1, keepdims=True)
    w = rng.random(shape[1]) + 0.5 if weighted else None
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    _compare(
        lambda a, t, w: F.cross_entropy(a, t, w, **kw),
        lambda a, t, w: TF.cross_entropy(a, t, w, **kw),
        [x, p, w],
        dtype,
        grad_of=(0, 1),
    )


def test_cross_entropy_unbatched():
    x, t = rng.standard_normal(5), np.array(3)
    for reduction in REDUCTIONS:
        _compare(
            lambda a, t, reduction=reduction: F.cross_entropy(a, t, reduction=reduction),
            lambda a, t, reduction=reduction: TF.cross_entropy(a, t, reduction=reduction),
            [x, t],
            ints=(1,),
        )
    p = rng.random(5)
    _compare(F.cross_entropy, TF.cross_entropy, [x, p / p.sum()])


def test_cross_entropy_all_targets_ignored_is_nan():
    loss = F.cross_entropy(gg.randn(3, 4), gg.tensor([-100, -100, -100]))
    assert np.isnan(loss.item())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_losses_stable_for_huge_logits(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3], [3.0, 1e4, 1e4]])
    t = np.array([0, 0, 2])
    _compare(
        lambda a, t: F.cross_entropy(a, t, label_smoothing=0.1),
        lambda a, t: TF.cross_entropy(a, t, label_smoothing=0.1),
        [x, t],
        dtype,
        ints=(1,),
    )
    y = (rng.random(x.shape) > 0.5).astype(float)
    pw = np.array([0.5, 2.0, 3.0])
    _compare(
        lambda a, b, pw: F.binary_cross_entropy_with_logits(a, b, pos_weight=pw),
        lambda a, b, pw: TF.binary_cross_entropy_with_logits(a, b, pos_weight=pw),
        [x, y, pw],
        dtype,
    )
    loss = F.cross_entropy(gg.tensor(x.astype(dtype), requires_grad=True), gg.tensor(t))
    assert np.isfinite(loss.item())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction, dtype):
    p = rng.random((4, 3)) * 0.98 + 0.01
    y = rng.random((4, 3))  # soft targets: gradients flow to the target too
    w = rng.random((4, 3))
    _compare(
        lambda a, b, w: F.binary_cross_entropy(a, b, w, reduction=reduction),
        lambda a, b, w: TF.binary_cross_entropy(a, b, w, reduction=reduction),
        [p, y, w],
        dtype,
        grad_of=(0, 1),
    )


def test_binary_cross_entropy_at_0_and_1_is_clamped():
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    # torch divides by its epsilon 1e-12 rounded to float32, hence the looser gradient check
    _compare(
        lambda a, b: F.binary_cross_entropy(a, b, reduction="none"),
        lambda a, b: TF.binary_cross_entropy(a, b, reduction="none"),
        [p, y],
        grad_tol_dtype=np.float32,
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "with_pos_weight,with_weight", [(False, False), (True, False), (False, True), (True, True)]
)
def test_bce_with_logits(reduction, with_pos_weight, with_weight, dtype):
    x, y = rng.standard_normal((5, 3)) * 4, rng.random((5, 3))
    pw = rng.random(3) * 3 if with_pos_weight else None
    w = rng.random((5, 3)) if with_weight else None
    _compare(
        lambda a, b, w, pw: F.binary_cross_entropy_with_logits(a, b, w, reduction=reduction, pos_weight=pw),
        lambda a, b, w, pw: TF.binary_cross_entropy_with_logits(a, b, w, reduction=reduction, pos_weight=pw),
        [x, y, w, pw],
        dtype,
        grad_of=(0, 1),
    )


def test_loss_modules_match_torch_and_register_weights():
    x = rng.standard_normal((6, 4))
    t = rng.integers(0, 4, 6)
    w = rng.random(4)
    pairs = [
        (
            nn.CrossEntropyLoss(gg.tensor(w), ignore_index=2, label_smoothing=0.1),
            tnn.CrossEntropyLoss(torch.tensor(w), ignore_index=2, label_smoothing=0.1),
            t,
        ),
        (nn.NLLLoss(gg.tensor(w), reduction="sum"), tnn.NLLLoss(torch.tensor(w), reduction="sum"), t),
        (nn.MSELoss(), tnn.MSELoss(), rng.standard_normal((6, 4))),
        (nn.L1Loss(reduction="none"), tnn.L1Loss(reduction="none"), rng.standard_normal((6, 4))),
        (
            nn.BCEWithLogitsLoss(pos_weight=gg.tensor(w)),
            tnn.BCEWithLogitsLoss(pos_weight=torch.tensor(w)),
            rng.random((6, 4)),
        ),
    ]
    for g, tm, target in pairs:
        _compare(g, tm, [x, target], ints=(1,) if target.dtype.kind == "i" else ())
        assert list(g.state_dict()) == list(tm.state_dict())
    p = 1 / (1 + np.exp(-x))
    _compare(nn.BCELoss(), tnn.BCELoss(), [p, rng.random((6, 4))])


def test_legacy_reduction_flags():
    x, y = gg.randn(3, 2), gg.randn(3, 2)
    with pytest.warns(UserWarning, match="deprecated"):
        s = F.mse_loss(x, y, size_average=False)
    np.testing.assert_allclose(s.item(), F.mse_loss(x, y, reduction="sum").item(), rtol=1e-6)
    with pytest.warns(UserWarning, match="deprecated"):
        assert nn.MSELoss(reduce=False)(x, y).shape == (3, 2)


def test_cross_entropy_target_errors():
    x = gg.randn(4, 3)
    with pytest.raises(
        TypeError,
        match=r"int64 tensor of shape \(4,\).*class probabilities.*got a float32 tensor of shape \(4,\)",
    ):
        F.cross_entropy(x, gg.tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(TypeError, match="got a int32 tensor"):
        F.cross_entropy(x, gg.tensor([0, 1, 2, 1], dtype=gg.int32))
    with pytest.raises(ValueError, match=r"target of class indices of shape \(4,\), got \(3,\)"):
        F.cross_entropy(x, gg.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"target of class indices of shape \(4,\), got \(4, 1\)"):
        F.cross_entropy(x, gg.tensor([[0], [1], [2], [1]]))
    with pytest.raises(IndexError, match=r"in \[0, 3\).*got 3"):
        F.cross_entropy(x, gg.tensor([0, 1, 3, 1]))
    with pytest.raises(IndexError, match=r"got -1"):
        F.cross_entropy(x, gg.tensor([0, -1, 2, 1]))
    with pytest.raises(ValueError, match="ignore_index is not supported"):
        F.cross_entropy(x, gg.softmax(gg.randn(4, 3), 1), ignore_index=0)
    with pytest.raises(ValueError, match=r"weight must have one entry per class, shape \(3,\)"):
        F.cross_entropy(x, gg.tensor([0, 1, 2, 1]), weight=gg.ones(4))
    with pytest.raises(ValueError, match="reduction must be"):
        F.cross_entropy(x, gg.tensor([0, 1, 2, 1]), reduction="avg")
    with pytest.raises(TypeError, match="floating point logits"):
        F.cross_entropy(gg.tensor([[1, 2]]), gg.tensor([0]))


def test_binary_loss_errors():
    with pytest.raises(ValueError, match=r"target shape \(3,\) must be the same as the input shape \(3, 1\)"):
        F.binary_cross_entropy_with_logits(gg.randn(3, 1), gg.rand(3))
    with pytest.raises(ValueError, match="between|probabilities in"):
        F.binary_cross_entropy(gg.tensor([0.5, 1.5]), gg.tensor([0.0, 1.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss_second_order(reduction):
    # mse_loss is one op (MSELoss) for inputs of one shape: its backward is made of tensor ops,
    # checked here to second order against PyTorch; broadcasting shapes take the composed ops
    from tests.oracle import check, uniform

    r = np.random.default_rng(4)
    with_both = [uniform(r, (5, 3)), uniform(r, (5, 3))]
    check(lambda m, x, t: m.nn.functional.mse_loss(x * x, t, reduction=reduction), with_both)
    check(lambda m, x, t: m.nn.functional.mse_loss(x, t * x, reduction=reduction), with_both)
    with pytest.warns(UserWarning):
        check(lambda m, x, t: m.nn.functional.mse_loss(x * x, t, reduction=reduction),
              [uniform(r, (4, 1)), uniform(r, (4,))])
