"""Autograd semantics, as in PyTorch: accumulation, retained and freed graphs, autograd.grad
options, retain_grad, in-place changes and the version counter, gradient aliasing, anomaly
detection, and deep graphs."""

import numpy as np
import pytest
import torch

import glassgrad as gg


def _leaf(values, lib=gg):
    return lib.tensor(values, dtype=lib.float64, requires_grad=True)


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


def test_autograd_backward_refuses_outputs_without_grad():
    x = _leaf([1.0])
    with pytest.raises(RuntimeError, match="tensor 1 does not require grad"):
        gg.autograd.backward([x.sum(), gg.ones(2).sum()])
