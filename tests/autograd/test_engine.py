"""Autograd semantics, as in PyTorch: accumulation (in place into .grad), retained and freed
graphs, autograd.grad options, retain_grad, in-place changes and the version counter, gradient
aliasing, anomaly detection, and deep graphs."""

import sys

import numpy as np
import pytest
import torch

import glassgrad as gg


def _leaf(values, lib=gg):
    return lib.tensor(values, dtype=lib.float64, requires_grad=True)


# -- accumulation and backward's arguments ------------------------------------------------------


def test_grads_accumulate_until_zeroed():
    x = _leaf([1.0, 2.0])
    for k in range(1, 4):
        (x * x).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), k * 2 * np.array([1.0, 2.0]))
    x.grad.zero_()
    (x * 3.0).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    x.grad = None
    (x * 5.0).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_backward_on_non_scalar_needs_gradient():
    x = _leaf([1.0, 2.0])
    y = x * 2.0
    with pytest.raises(RuntimeError, match=r"single-element.*\(2,\).*gradient"):
        y.backward()
    y.backward(gg.tensor([1.0, 10.0], dtype=gg.float64))
    assert x.grad.tolist() == [2.0, 20.0]
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\).*\(2,\)"):
        (x * 2.0).backward(gg.ones(3, dtype=gg.float64))


def test_backward_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        gg.ones(2).sum().backward()


def test_second_backward_through_freed_graph_raises():
    x = _leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = _leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_shared_subgraph_freed_by_first_loss():
    x = _leaf([1.0, 2.0])
    h = x.exp()
    (h * 2.0).sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        (h * 3.0).sum().backward()


def test_leaf_and_intermediate_as_backward_roots():
    x = _leaf([1.0, 2.0])
    gg.autograd.backward([x.sum(), (x * x).sum()])
    assert x.grad.tolist() == [3.0, 5.0]


def test_autograd_backward_refuses_outputs_without_grad():
    x = _leaf([1.0])
    with pytest.raises(RuntimeError, match="tensor 1 does not require grad"):
        gg.autograd.backward([x.sum(), gg.ones(2).sum()])


# -- autograd.grad --------------------------------------------------------------------------------


def test_grad_does_not_touch_dot_grad():
    x = _leaf([1.0, 2.0])
    (g,) = gg.autograd.grad((x * x).sum(), x)
    assert g.tolist() == [2.0, 4.0] and x.grad is None


def test_grad_allow_unused():
    x, z = _leaf([1.0]), _leaf([2.0])
    y = (x * 3.0).sum()
    with pytest.raises(RuntimeError, match=r"input 1 .*not used.*allow_unused"):
        gg.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = gg.autograd.grad(y, [x, z], allow_unused=True)
    assert gx.tolist() == [3.0] and gz is None


def test_grad_of_input_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        gg.autograd.grad(_leaf([1.0]).sum(), gg.ones(1))


def test_grad_create_graph_matches_torch():
    def f(lib):
        x = _leaf([0.5, -1.0, 2.0], lib)
        y = (lib.sin(x) * x * x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        assert g.requires_grad
        (h,) = lib.autograd.grad((g * g).sum(), x, create_graph=True)
        (t,) = lib.autograd.grad(h.sum(), x)
        return [a.detach().numpy() for a in (g, h, t)]

    for a, b in zip(f(gg), f(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_grad_without_create_graph_is_constant():
    x = _leaf([1.0, 2.0])
    (g,) = gg.autograd.grad((x**3).sum(), x)
    assert not g.requires_grad and g.grad_fn is None


def test_grad_with_respect_to_non_leaf():
    def f(lib):
        x = _leaf([1.0, 2.0, 3.0], lib)
        h = x * x
        y = (h.exp() * h).sum() + h.sum()
        gh, gx = lib.autograd.grad(y, [h, x])
        return gh.numpy(), gx.numpy()

    for a, b in zip(f(gg), f(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_grad_of_several_outputs_with_grad_outputs():
    def f(lib):
        x, w = _leaf([1.0, 2.0], lib), _leaf([[1.0, -1.0], [0.5, 2.0]], lib)
        y1 = w @ x
        y2 = (x * x).sum()
        v1 = lib.tensor([1.0, -2.0], dtype=lib.float64)
        v2 = lib.tensor(3.0, dtype=lib.float64)
        return [g.numpy() for g in lib.autograd.grad([y1, y2], [x, w], [v1, v2])]

    for a, b in zip(f(gg), f(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_grad_output_is_input():
    x = _leaf([1.0, 2.0])
    (g,) = gg.autograd.grad(x, x, gg.tensor([3.0, 4.0], dtype=gg.float64))
    assert g.tolist() == [3.0, 4.0]


def test_grad_with_an_input_given_twice():
    x = _leaf([1.0, 2.0])
    h = x * 3.0
    gs = gg.autograd.grad((x * h).sum(), [x, h, x])
    assert [g.tolist() for g in gs] == [[6.0, 12.0], [1.0, 2.0], [6.0, 12.0]]


def test_retain_grad_keeps_intermediate_grad():
    def f(lib):
        x = _leaf([1.0, 2.0], lib)
        h = x * 3.0
        h.retain_grad()
        u = x * 2.0
        (h * h + u).sum().backward()
        assert h.retains_grad and not u.retains_grad
        return h.grad.numpy(), x.grad.numpy()

    for a, b in zip(f(gg), f(torch)):
        np.testing.assert_allclose(a, b)


def test_is_leaf_and_grad_fn():
    x = _leaf([1.0])
    y = x * 2.0
    assert x.is_leaf and not y.is_leaf and y.grad_fn.name() == "MulBackward"
    assert gg.ones(1).is_leaf and (gg.ones(1) * 2).is_leaf
    d = y.detach()
    assert d.is_leaf and not d.requires_grad


# -- aliasing of gradients ------------------------------------------------------------------------


@pytest.mark.parametrize("create_graph", [False, True])
def test_grads_of_sum_inputs_are_not_aliased(create_graph):
    a, b = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    (a + b).sum().backward(create_graph=create_graph)
    with gg.no_grad():
        a.grad.zero_()
    assert b.grad.tolist() == [1.0, 1.0]
    a, b = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    ((a + b) * 2.0).sum().backward(create_graph=create_graph)
    with gg.no_grad():
        b.grad.mul_(0.0)
    assert a.grad.tolist() == [2.0, 2.0]


def test_grad_is_not_the_callers_gradient_tensor():
    x = _leaf([1.0, 2.0])
    g = gg.tensor([1.0, 1.0], dtype=gg.float64)
    x.clone().backward(g)
    x.grad.zero_()
    assert g.tolist() == [1.0, 1.0]


def test_grad_of_broadcast_is_writable():
    x = _leaf([1.0, 2.0])
    x.sum().backward()
    x.grad.mul_(3.0)
    assert x.grad.tolist() == [3.0, 3.0]


def test_grad_with_create_graph_stays_differentiable():
    x = _leaf([1.0, 2.0])
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (h,) = gg.autograd.grad(x.grad.sum(), x)
    assert h.tolist() == [6.0, 12.0]


# -- in-place changes --------------------------------------------------------------------------


def test_inplace_on_leaf_requiring_grad_outside_no_grad_raises():
    w = _leaf([1.0, 2.0])
    for op in (lambda: w.add_(1.0), lambda: w.zero_(), lambda: w.mul_(2.0), lambda: w.fill_(0.0),
               lambda: w.copy_(gg.zeros(2)), lambda: w.__setitem__(0, 5.0), lambda: w.normal_(),
               lambda: w.uniform_()):
        with pytest.raises(RuntimeError, match="leaf.*no_grad"):
            op()
    with pytest.raises(RuntimeError, match="leaf"):
        w -= 1.0
    assert w.tolist() == [1.0, 2.0]


def test_inplace_on_graph_tensor_raises():
    w = _leaf([1.0, 2.0])
    y = w * 2.0
    with pytest.raises(RuntimeError, match="in-place"):
        y.add_(1.0)


def test_inplace_write_of_a_tensor_requiring_grad_is_refused():
    # writing a tensor that requires grad into one that does not would silently drop its gradient
    w = _leaf([1.0, 2.0])
    buf = gg.zeros(2, dtype=gg.float64)
    for op in (lambda: buf.__setitem__(0, w[0] * 2.0), lambda: buf.copy_(w), lambda: buf.add_(w),
               lambda: buf.mul_(w)):
        with pytest.raises(RuntimeError, match="requires grad"):
            op()
    with pytest.raises(RuntimeError, match="requires grad"):
        buf += w
    with gg.no_grad():
        buf.copy_(w)  # fine: nothing is recorded
    assert buf.tolist() == [1.0, 2.0]


def test_inplace_under_no_grad_works():
    p = _leaf([1.0, 2.0, 3.0])
    (p * p).sum().backward()
    lr = 0.1
    with gg.no_grad():
        p -= lr * p.grad
    np.testing.assert_allclose(p.detach().numpy(), [0.8, 1.6, 2.4])
    assert p.requires_grad and p.is_leaf
    with gg.no_grad():
        p.add_(p.grad, alpha=-0.5)
        np.testing.assert_allclose(p.detach().numpy(), [-0.2, -0.4, -0.6])
        p.zero_()
        assert p.tolist() == [0.0, 0.0, 0.0]
        p.fill_(2.0)
        p.copy_(gg.tensor([4.0, 5.0, 6.0]))
        assert p.tolist() == [4.0, 5.0, 6.0]
        p[1] = -1.0
        p[gg.tensor([True, False, True])] = 0.5
        assert p.tolist() == [0.5, -1.0, 0.5]
        p.mul_(2.0).div_(4.0).sub_(1.0)
        assert p.tolist() == [-0.75, -1.5, -0.75]
        p.clamp_(-1.0, 0.0)
        assert p.tolist() == [-0.75, -1.0, -0.75]
        gg.manual_seed(3)
        p.normal_(0.0, 2.0)
        gg.manual_seed(3)
        q = gg.zeros(3, dtype=gg.float64).normal_(0.0, 2.0)
        assert p.tolist() == q.tolist()
        p.uniform_(-1.0, 1.0)
        assert (p.abs() <= 1.0).all()
        p.masked_fill_(gg.tensor([True, False, False]), 9.0)
        assert p[0].item() == 9.0
    assert p.requires_grad and p.grad_fn is None
    (p * 2).sum().backward()  # still a working leaf


def test_optimizer_step_on_a_view_of_a_parameter():
    w = _leaf([[1.0, 2.0], [3.0, 4.0]])
    with gg.no_grad():
        w[0].mul_(10.0)
        w.T[1, 1] = 0.0
    assert w.tolist() == [[10.0, 20.0], [3.0, 0.0]]


@pytest.mark.parametrize("view", ["T", "reshape", "index", "detach", "view"])
def test_inplace_change_of_saved_tensor_raises_version_error(view):
    def through(t):
        return {"T": lambda: t.T, "reshape": lambda: t.reshape(-1), "index": lambda: t[0],
                "detach": lambda: t.detach(), "view": lambda: t.view(2, 2)}[view]()

    w = _leaf([[1.0, 2.0], [3.0, 4.0]])
    x = gg.tensor([[1.0, -1.0], [2.0, 0.5]], dtype=gg.float64)
    y = (w * x).sum()  # mul saves both w and x
    with gg.no_grad():
        through(w).mul_(2.0)
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation.*version 1.*version 0"):
        y.backward()

    w = _leaf([[1.0, 2.0], [3.0, 4.0]])
    y = (w * x).sum()
    through(x).add_(1.0)  # x needs no grad: allowed, but the saved value changed
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_inplace_change_of_saved_output_raises():
    w = _leaf([1.0, 2.0])
    y = w.exp()
    with gg.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match="ExpBackward"):
        y.sum().backward()


def test_inplace_change_of_unsaved_tensor_is_fine():
    a, b = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    y = (a + b).sum()  # add saves neither input
    with gg.no_grad():
        a.add_(1.0)
    y.backward()
    assert a.grad.tolist() == [1.0, 1.0]


def test_inplace_change_of_an_index_or_target_raises():
    # torch saves class targets and gather indices; changing them would change the gradient
    def cross_entropy(x, i):
        return gg.nn.functional.cross_entropy(x, i)

    def gather(x, i):
        return gg.gather(x, 1, i.unsqueeze(1)).sum()

    for loss_of in (cross_entropy, gather):
        x, i = _leaf([[1.0, 2.0, 3.0], [1.0, 0.0, 2.0]]), gg.tensor([0, 1])
        loss = loss_of(x, i)
        i[0] = 2
        with pytest.raises(RuntimeError, match="modified by an in-place operation"):
            loss.backward()


def test_inplace_change_of_an_input_backward_does_not_read_is_fine():
    # as in torch: where/masked_fill read only the mask, linear does not read its bias
    def f(lib):
        x, w, b = _leaf([[1.0, 2.0]], lib), _leaf([[1.0, -1.0], [0.5, 2.0]], lib), _leaf([0.0, 1.0], lib)
        y = lib.nn.functional.linear(x.masked_fill(lib.tensor([[True, False]]), 0.0), w, b)
        with lib.no_grad():
            x.add_(1.0)
            b.mul_(2.0)
        (y * y).sum().backward()
        return [t.grad.numpy() for t in (x, w, b)]

    for a, b in zip(f(gg), f(torch)):
        np.testing.assert_allclose(a, b)


def test_inplace_on_broadcast_gradient_says_why():
    # torch refuses too: the gradient of a sum is an expanded view of one number
    x = _leaf([1.0, 2.0])
    (g,) = gg.autograd.grad(x.sum(), x)
    for op in (lambda: g.mul_(2.0), lambda: g.zero_(), lambda: g.__setitem__(0, 1.0),
               lambda: g.masked_fill_(gg.tensor([True, False]), 0.0)):
        with pytest.raises(RuntimeError, match="read-only broadcast view.*clone"):
            op()
    g = g.clone()
    g.mul_(2.0)
    assert g.tolist() == [2.0, 2.0]


# -- anomaly detection ------------------------------------------------------------------------


def test_detect_anomaly_names_forward_op_and_shapes():
    x = gg.tensor([[1.0, -1.0, 2.0]], requires_grad=True)
    with gg.autograd.detect_anomaly():
        with pytest.raises(FloatingPointError, match=r"Log.*forward.*\(1, 3\)"):
            gg.log(x)
    gg.log(x)  # off again: no error


def test_detect_anomaly_names_backward_op_and_shapes():
    x = gg.tensor([0.0, 1.0], requires_grad=True)
    y = gg.sqrt(x).sum()
    with gg.autograd.detect_anomaly():
        with pytest.raises(FloatingPointError, match=r"SqrtBackward.*gradient.*\(2,\)"):
            y.backward()
    assert not gg.autograd.is_anomaly_enabled()


# -- deep graphs -------------------------------------------------------------------------------


def test_deep_graph_does_not_hit_recursion_limit():
    n = max(5000, 2 * sys.getrecursionlimit())
    x = _leaf([0.5])
    y = x
    for _ in range(n):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001**n], rtol=1e-9)
    del y  # freeing a long chain must not overflow the stack either


def test_deep_graph_double_backward():
    x = _leaf([0.3])
    y = x
    for _ in range(5000):
        y = gg.sin(y) * 0.5 + y * 0.5
    (g,) = gg.autograd.grad(y.sum(), x, create_graph=True)
    (h,) = gg.autograd.grad(g.sum(), x)
    xt = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
    yt = xt
    for _ in range(5000):
        yt = torch.sin(yt) * 0.5 + yt * 0.5
    (gt,) = torch.autograd.grad(yt.sum(), xt, create_graph=True)
    (ht,) = torch.autograd.grad(gt.sum(), xt)
    np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(), rtol=1e-9)
    np.testing.assert_allclose(h.numpy(), ht.numpy(), rtol=1e-9)


def test_wide_graph_reuses_a_tensor_many_times():
    x = _leaf([1.0, 2.0])
    y = sum(x * float(i) for i in range(200))
    y.sum().backward()
    assert x.grad.tolist() == [sum(range(200))] * 2


# -- gradients keep the input's dtype ----------------------------------------------------------


def test_grad_dtype_follows_leaf_through_promotion():
    a = gg.ones(2, requires_grad=True)  # float32
    b = gg.ones(2, dtype=gg.float64, requires_grad=True)
    y = (a * b).sum()
    assert y.dtype == gg.float64
    y.backward()
    assert a.grad.dtype == gg.float32 and b.grad.dtype == gg.float64


# -- a second backward adds into .grad in place, as in PyTorch ---------------------------------


def test_second_backward_adds_into_the_same_grad_tensor():
    def f(lib):
        x = _leaf([1.0, 2.0], lib)
        (x * x).sum().backward()
        kept = x.grad
        (x * x * x).sum().backward()
        return kept is x.grad, kept.detach().numpy().copy()

    (same_gg, kept_gg), (same_t, kept_t) = f(gg), f(torch)
    assert same_gg and same_t
    np.testing.assert_allclose(kept_gg, kept_t)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
def test_second_backward_with_create_graph_replaces_grad():
    def f(lib):
        x = _leaf([1.0, 2.0], lib)
        (x * x).sum().backward()
        kept = x.grad
        (x * x * x).sum().backward(create_graph=True)
        assert x.grad.requires_grad
        (h,) = lib.autograd.grad(x.grad.sum(), x)  # d/dx (2x + 3x^2) = 2 + 6x
        return kept is x.grad, kept.detach().numpy().copy(), x.grad.detach().numpy(), h.numpy()

    got, ref = f(gg), f(torch)
    assert got[0] is ref[0] is False
    for a, b in zip(got[1:], ref[1:]):
        np.testing.assert_allclose(a, b)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
@pytest.mark.parametrize("create_graph", [False, True])
def test_in_place_accumulation_does_not_leak_into_a_shared_first_gradient(create_graph):
    # add's backward gives the same gradient tensor to both inputs, and a retained grad may
    # be the very tensor that flows on to a leaf: each .grad must own its memory
    def f(lib):
        a, b = _leaf([1.0, 2.0], lib), _leaf([3.0, 4.0], lib)
        h = a * 1.0
        h.retain_grad()
        for _ in range(2):
            (h + b).sum().backward(create_graph=create_graph, retain_graph=True)
        return [t.grad.detach().numpy() for t in (a, b, h)]

    for x, y in zip(f(gg), f(torch)):
        np.testing.assert_allclose(x, y)


def test_in_place_accumulation_leaves_the_callers_gradient_alone():
    x = _leaf([1.0, 2.0])
    g = gg.tensor([1.0, 1.0], dtype=gg.float64)
    y = x.clone()
    y.backward(g, retain_graph=True)
    y.backward(g)
    assert g.tolist() == [1.0, 1.0] and x.grad.tolist() == [2.0, 2.0]


def test_in_place_accumulation_bumps_the_grad_version():
    x = _leaf([1.0, 2.0])
    (x * x).sum().backward()
    v = x.grad._version
    (x * x).sum().backward()
    assert x.grad._version == v + 1


def test_grad_asks_each_backward_only_for_the_gradients_that_lead_to_its_inputs():
    """autograd.grad(y, x) and backward(inputs=...) skip the gradients of other inputs (e.g. a
    critic's weights in a gradient penalty), as PyTorch does; the node keeps its own flags, so
    a later full backward through the retained graph gets every gradient."""
    from glassgrad.autograd import Function

    asked = []

    class Product(Function):
        def forward(self, a, b):
            return a * b

        def backward(self, gy):
            asked.append(tuple(self.needs_input_grad))
            a, b = self.inputs
            need_a, need_b = self.needs_input_grad
            return (gy * b if need_a else None), (gy * a if need_b else None)

    x, w = _leaf([1.0, 2.0]), _leaf([3.0, 4.0])
    y = Product()(x, w).sum()
    (gx,) = gg.autograd.grad(y, x, retain_graph=True)
    assert asked == [(True, False)]
    np.testing.assert_array_equal(gx.numpy(), [3.0, 4.0])
    y.backward(inputs=[w], retain_graph=True)
    assert asked[-1] == (False, True) and x.grad is None
    y.backward()
    assert asked[-1] == (True, True)
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])  # 1, 2 from each of two backwards
