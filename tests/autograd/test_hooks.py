"""Tensor.register_hook and backward(inputs=...), against PyTorch."""

import numpy as np
import pytest
import torch

import glassgrad as gg


def _leaf(values, lib):
    return lib.tensor(values, dtype=lib.float64, requires_grad=True)


def _same(f):
    """Run the scenario ``f(lib)`` in both libraries; it returns tensors (or None) to compare."""
    got, ref = f(gg), f(torch)
    assert len(got) == len(ref)
    for i, (a, b) in enumerate(zip(got, ref)):
        if b is None:
            assert a is None, f"result {i}: torch gives None, glassgrad {a}"
        else:
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, err_msg=f"result {i}")


# -- register_hook --------------------------------------------------------------------------------


def test_leaf_hook_sees_the_summed_gradient_once_and_may_replace_it():
    def f(lib):
        x = _leaf([1.0, 2.0], lib)
        seen = []
        x.register_hook(lambda g: seen.append(g.clone()))
        x.register_hook(lambda g: g * 10.0)  # hooks run in order, each on the last one's result
        x.register_hook(lambda g: seen.append(g.clone()))
        (x * 2.0 + x * x).sum().backward()
        assert len(seen) == 2
        return [*seen, x.grad]

    _same(f)


def test_non_leaf_hook_changes_what_flows_on():
    def f(lib):
        x = _leaf([1.0, -2.0], lib)
        h = x * x
        seen = []
        h.register_hook(lambda g: seen.append(g.clone()))
        h.register_hook(lambda g: g * 3.0)
        y = (h * x).sum() + h.sum()
        y.backward()
        return [seen[0], x.grad, h.grad if lib is gg else None]

    _same(f)


def test_hook_on_the_root_and_on_a_leaf_root():
    def f(lib):
        x = _leaf([1.0, 2.0], lib)
        h = x * 3.0
        h.register_hook(lambda g: g * 7.0)
        h.backward(lib.ones(2, dtype=lib.float64))
        z = _leaf([1.0, 2.0], lib)
        z.register_hook(lambda g: g * 5.0)
        z.backward(lib.ones(2, dtype=lib.float64))
        return [x.grad, z.grad]

    _same(f)


def test_removed_hook_is_not_called():
    def f(lib):
        x = _leaf([1.0, 2.0], lib)
        h = x * 1.0
        handles = [x.register_hook(lambda g: g * 2.0), h.register_hook(lambda g: g * 3.0)]
        (h * h).sum().backward()
        first = x.grad.clone()
        for handle in handles:
            handle.remove()
        x.grad = None
        h = x * 1.0
        (h * h).sum().backward()
        return [first, x.grad]

    _same(f)


def test_retained_grad_holds_the_gradient_after_the_hooks():
    def f(lib):
        x = _leaf([1.0, 2.0], lib)
        h = x * 3.0
        h.retain_grad()  # registered first, still applied after the other hooks (as in torch)
        h.register_hook(lambda g: g * 100.0)
        h.sum().backward()
        return [h.grad, x.grad]

    _same(f)


def test_hooks_run_for_autograd_grad():
    def f(lib):
        x = _leaf([1.0, 2.0], lib)
        h = x * 3.0
        h.retain_grad()
        x.register_hook(lambda g: g * 10.0)
        h.register_hook(lambda g: g + 1.0)
        y = (h * h).sum()
        (gx,) = lib.autograd.grad(y, x, retain_graph=True)
        (gh,) = lib.autograd.grad(y, h)  # (torch skips h's hooks for grad(y, [x, h]): not copied)
        return [gx, gh, h.grad, x.grad]

    _same(f)


def test_hook_keeps_second_order_gradients():
    def f(lib):
        x = _leaf([0.5, -1.5], lib)
        h = x * x
        h.register_hook(lambda g: g * x)  # a hook written in tensor ops is differentiated too
        (g,) = lib.autograd.grad((h * x).sum(), x, create_graph=True)
        (gg_,) = lib.autograd.grad((g * g).sum(), x)
        return [g, gg_]

    _same(f)


def test_hook_result_kept_by_the_hook_is_not_changed_by_later_accumulation():
    def f(lib):
        x = _leaf([1.0, 2.0], lib)
        kept = lib.tensor([5.0, 5.0], dtype=lib.float64)
        handle = x.register_hook(lambda g: kept)
        (x * 2.0).sum().backward()
        handle.remove()
        (x * 2.0).sum().backward()
        return [kept, x.grad]

    _same(f)


def test_hook_on_one_piece_of_a_split():
    def f(lib):
        x = _leaf([1.0, 2.0, 3.0, 4.0], lib)
        a, b = x.split(2)
        b.register_hook(lambda g: g * -1.0)
        (a * a + b * b).sum().backward()
        return [x.grad]

    _same(f)


def test_register_hook_errors():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        gg.ones(2).register_hook(lambda g: g)
    with pytest.raises(TypeError, match="callable"):
        gg.ones(2, requires_grad=True).register_hook(3)
    x = gg.ones(2, requires_grad=True)
    handle = x.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match=r"shape \(\).*shape \(2,\)"):
        (x * 2).sum().backward()
    handle.remove()
    x.register_hook(lambda g: g.numpy())
    with pytest.raises(TypeError, match="returned a ndarray"):
        (x * 2).sum().backward()


# -- backward(inputs=...) -------------------------------------------------------------------------


def test_backward_inputs_fills_only_the_given_leaves():
    def f(lib):
        x, w, b = _leaf([1.0, 2.0], lib), _leaf([3.0, -1.0], lib), _leaf([0.5], lib)
        y = (x * w).sum() + b.sum()
        y.backward(inputs=[w], retain_graph=True)
        first = [x.grad, w.grad.clone(), b.grad]
        y.backward(inputs=w)  # a single tensor works too; the gradient accumulates
        return [*first, w.grad, x.grad]

    _same(f)


def test_backward_inputs_with_a_non_leaf():
    def f(lib):
        x = _leaf([1.0, 2.0], lib)
        h = x * 3.0
        y = (h * h).sum()
        y.backward(inputs=[h, x], retain_graph=True)
        both = [h.grad.clone(), x.grad.clone()]
        x.grad = None
        h.grad = None
        y.backward(inputs=[h])
        return [*both, h.grad, x.grad]

    _same(f)


def test_autograd_backward_with_inputs():
    def f(lib):
        x, w = _leaf([1.0, 2.0], lib), _leaf([3.0, -1.0], lib)
        lib.autograd.backward([(x * w).sum(), (x * x).sum()], inputs=[x])
        return [x.grad, w.grad]

    _same(f)


def test_backward_input_that_was_not_used_gets_no_gradient():
    def f(lib):
        x, z = _leaf([1.0, 2.0], lib), _leaf([1.0], lib)
        (x * 2.0).sum().backward(inputs=[x, z])
        return [x.grad, z.grad]

    _same(f)


def test_backward_inputs_errors():
    x = gg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (x * 2).sum().backward(inputs=[])
    with pytest.raises(RuntimeError, match=r"input 1 .*does not require grad"):
        (x * 2).sum().backward(inputs=[x, gg.ones(2)])
